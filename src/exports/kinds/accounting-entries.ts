import type { DataSource } from 'typeorm';
import type { AccountingEntryLine, AccountingSourceRow } from '../../accounting/entries';
import { fecNaming } from '../../accounting/fec-name';
import { describeProblems, importLayout, type LayoutProblem } from '../../accounting/layouts';
import { loadAccountingSettings } from '../../accounting/settings';
import { rateLabel } from '../../accounting/vat';
import { SqlParams } from '../../db/sql';
import { ExportFormat, ExportKind } from '../../entities/enums';
import type { InvoiceExport } from '../../entities/invoice-export.entity';
import { Tenant } from '../../entities/tenant.entity';
import { badInput } from '../../errors';
import { selectList, type ColumnDef, type SelectMap } from '../cells';
import type { ExportLocale } from '../labels';
import { selectionConditions, type StoredSelection } from '../selection';
import { LayoutFileWriter } from '../writers/layout';
import { zonedDateTimeParts } from '../zoned-time';
import { checkAccountingEntries, type AccountingCheckResult } from './accounting-check';
import { identifierProblemsInSql } from './accounting-identifiers';
import { mayBeRefused, screenSelection } from './accounting-screen';
import { AccountingEntriesWriter } from './accounting-entries-writer';
import { BASE_TOTALS_SQL } from './invoices';
import { attemptFileArgs, openKindFile, type BaseTotals, type ExportKindDefinition, type ExportWarningData, type Queryable } from './kind';

/**
 * "Exporter les écritures comptables" (docs/accounting.md): a sales journal in the
 * FEC layout. The SELECT streams billing lines with their document (one row
 * per line, ordered by document then position; a document without lines
 * still comes once), and the kind's writer (kinds/accounting-entries-writer.ts)
 * turns each run of rows of one document into its entry's lines. Doing the
 * entries in TypeScript rather than SQL keeps the balance check, the VAT
 * rounding and the refusals in one place, in integer cents, and keeps the
 * SELECT as cheap to stream as the billing lines' one.
 */

const text = (key: keyof AccountingEntryLine, width: number, type: 'text' | 'code' = 'text'): ColumnDef<AccountingEntryLine> => ({
  key,
  header: { 'fr-FR': key, 'en-GB': key },
  type,
  width,
  value: (r) => r[key] as string | null,
});
const date = (key: 'EcritureDate' | 'PieceDate' | 'DateLet' | 'ValidDate'): ColumnDef<AccountingEntryLine> => ({
  key,
  header: { 'fr-FR': key, 'en-GB': key },
  type: 'date',
  width: 12,
  value: (r) => r[key],
});
const money = (key: 'Debit' | 'Credit' | 'Montantdevise'): ColumnDef<AccountingEntryLine> => ({
  key,
  header: { 'fr-FR': key, 'en-GB': key },
  type: 'money',
  scale: 2,
  width: 14,
  value: (r) => r[key],
});

/** The 18 fields of the FEC in their order, with the same names in every locale and format, then `CodeAnalytique` (CSV, XLSX). */
export const ACCOUNTING_ENTRY_COLUMNS: readonly ColumnDef<AccountingEntryLine>[] = [
  text('JournalCode', 8, 'code'),
  text('JournalLib', 14),
  { key: 'EcritureNum', header: { 'fr-FR': 'EcritureNum', 'en-GB': 'EcritureNum' }, type: 'integer', width: 10, value: (r) => r.EcritureNum },
  date('EcritureDate'),
  text('CompteNum', 12, 'code'),
  text('CompteLib', 24),
  text('CompAuxNum', 14, 'code'),
  text('CompAuxLib', 24),
  text('PieceRef', 12, 'code'),
  date('PieceDate'),
  text('EcritureLib', 36),
  money('Debit'),
  money('Credit'),
  text('EcritureLet', 8, 'code'),
  date('DateLet'),
  date('ValidDate'),
  money('Montantdevise'),
  text('Idevise', 6, 'code'),
  { ...text('CodeAnalytique', 14, 'code'), notInFec: true },
];

/** A document's field, on its first row only (the lateral's `first`; a document without lines has one row, `first` null). */
const onFirstRow = (expr: string) => `CASE WHEN l.first IS NOT FALSE THEN ${expr} END`;

/** The fields of a source row and their SQL: the file's columns are computed (entries), not selected. */
const SOURCE_FIELDS: SelectMap<AccountingSourceRow> = {
  invoiceId: 'i.id',
  type: onFirstRow('i.type'),
  number: onFirstRow('i.number'),
  billingDate: onFirstRow('i.billing_date'),
  amountDue: onFirstRow('i.amount_due'),
  payerLastName: onFirstRow('p.last_name'),
  payerFirstName: onFirstRow('p.first_name'),
  customerIdentifier: onFirstRow('p.customer_identifier'),
  position: 'l.position',
  label: 'l.label',
  amount: 'l.amount',
  vatRate: 'l.vat_rate',
  accountingAccount: 'l.accounting_account',
  analyticCode: 'l.analytic_code',
};

export interface AccountingTotals extends BaseTotals {
  /** Rows the SELECT streams: each document's lines, at least one per document. */
  sourceRowCount: number;
  /** `yyyy-mm-dd`, null for an empty selection. */
  latestBillingDate: string | null;
  earliestBillingDate: string | null;
  payersWithoutIdentifier: number;
  alreadyTransferred: number;
}

/** A selection as resolved at request time (a filter has no createdBefore yet: every invoice that exists now). */
function requestSelection(selection: StoredSelection): StoredSelection {
  return selection.mode === 'filter' && !selection.createdBefore ? { ...selection, createdBefore: 'infinity' } : selection;
}

/** `yyyy-mm-dd` on the tenant's clock. */
function tenantToday(timeZone: string): string {
  const now = zonedDateTimeParts(new Date(), timeZone);
  return `${now.year}-${String(now.month).padStart(2, '0')}-${String(now.day).padStart(2, '0')}`;
}

/**
 * The pre-flight check (`accountingExportCheck`): the kind's SELECT through
 * the export's own entries and layout writers, writing nothing.
 */
export async function accountingExportCheck(ds: DataSource, tenantId: string, selection: StoredSelection, format: ExportFormat): Promise<AccountingCheckResult> {
  const settings = await loadAccountingSettings(ds, tenantId);
  const tenant = await ds.getRepository(Tenant).findOneByOrFail({ id: tenantId });
  return checkAccountingEntries(ds, {
    format,
    settings,
    rowsQuery: ACCOUNTING_ENTRIES_KIND.rowsQuery(tenantId, requestSelection(selection)),
    siren: tenant.siren,
    today: tenantToday(tenant.timezone),
  });
}

/** A warning of the accounting checks as the export stores it. */
function layoutWarning(w: LayoutProblem, locale: ExportLocale): ExportWarningData {
  const message = locale === 'fr-FR'
    ? `${w.field} raccourci à ${w.width} caractères dans ${w.count} document(s) : ${w.documents.join(', ')}${w.count > w.documents.length ? ', …' : ''}`
    : `${w.field} shortened to ${w.width} characters in ${w.count} document(s): ${w.documents.join(', ')}${w.count > w.documents.length ? ', …' : ''}`;
  return { code: w.rule, rule: w.rule, field: w.field, width: w.width, count: w.count, documents: w.documents, message };
}

export const ACCOUNTING_ENTRIES_KIND: ExportKindDefinition<AccountingSourceRow, AccountingEntryLine, AccountingTotals> = {
  kind: ExportKind.ACCOUNTING_ENTRIES,
  defaultFormat: ExportFormat.FEC,
  // The transfer marks go in while the entries are written, and commit with COMPLETED.
  writeWithCompletion: true,
  columns: ACCOUNTING_ENTRY_COLUMNS,
  sheetName: { 'fr-FR': 'Écritures comptables', 'en-GB': 'Accounting entries' },
  fileStem: { 'fr-FR': 'ecritures-comptables', 'en-GB': 'accounting-entries' },
  rowsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    // As INVOICE_LINES (LATERAL pins the streaming plan), but LEFT: a document without lines still has its entry.
    const text = `SELECT ${selectList([], SOURCE_FIELDS)}
         FROM invoices i
         JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         LEFT JOIN LATERAL (
           SELECT l0.*, row_number() OVER (ORDER BY l0.position) = 1 AS first
           FROM invoice_lines l0 WHERE l0.invoice_id = i.id AND l0.tenant_id = i.tenant_id ORDER BY l0.position
         ) l ON true
         WHERE ${where}
         ORDER BY i.billing_date, i.number, l.position`;
    return { text, values: params.values };
  },
  totalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT ${BASE_TOTALS_SQL},
           max(i.billing_date)::text AS "latestBillingDate",
           min(i.billing_date)::text AS "earliestBillingDate",
           count(DISTINCT i.payer_id) FILTER (WHERE p.customer_identifier IS NULL OR p.customer_identifier = '') AS "payersWithoutIdentifier",
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM accounting_transfers t WHERE t.tenant_id = i.tenant_id AND t.invoice_id = i.id)) AS "alreadyTransferred"
         FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         WHERE ${where}`;
    return { text, values: params.values };
  },
  // Not the documents already transferred: read while this attempt's own marks go in (uncommitted, in the
  // same index), their probe can meet a plan that scans the primary key for each document (docs/accounting.md).
  probeTotalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT coalesce(sum(greatest(1, (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.tenant_id = i.tenant_id))), 0) AS "sourceRowCount"
         FROM invoices i WHERE ${where}`;
    return { text, values: params.values };
  },
  totalRows: (t) => Number(t.sourceRowCount),

  /** The accountant's software of the settings (FEC unless set). */
  async tenantDefaultFormat(ds: DataSource, tenantId: string): Promise<ExportFormat> {
    return (await loadAccountingSettings(ds, tenantId)).accountingSoftware;
  },

  /**
   * A VAT rate of the selection without an account in the settings is
   * refused now, naming the rate. An importer layout also refuses what the
   * pre-flight check would report (an identifier that does not fit, an entry
   * it refuses), with every problem in `extensions.problems`: the same
   * problems, found by aggregate queries (accounting-identifiers.ts) once a
   * lean screen (accounting-screen.ts) has found something to report. The
   * worker checks again while it writes.
   */
  async validateRequest(ds: DataSource, tenantId: string, selection: StoredSelection, format: ExportFormat): Promise<void> {
    const resolved = requestSelection(selection);
    const layout = importLayout(format);
    const [settings, screen] = await Promise.all([loadAccountingSettings(ds, tenantId), screenSelection(ds, tenantId, resolved, layout)]);
    const missing = screen.lines.vatRates.filter((rate) => !settings.vatAccounts[rate]);
    if (missing.length) {
      const list = missing.map((r) => `${rateLabel(r)} %`).join(', ');
      throw badInput(
        `No VAT account for the rate${missing.length > 1 ? 's' : ''} ${list} of the selection: set ${missing.map((r) => `vatAccounts["${r}"]`).join(', ')} in the accounting settings (updateAccountingSettings)`,
        { missingVatRates: missing },
      );
    }
    // The pre-flight check's problems, found by PostgreSQL: no row of the selection reaches the API.
    if (!layout || !mayBeRefused(layout, settings, screen)) return;
    const problems = await identifierProblemsInSql(ds, { tenantId, selection: resolved, layout, settings });
    if (problems.length) throw badInput(`The ${format} file cannot be written: ${describeProblems(problems)}`, { problems });
  },

  async openAttempt(args) {
    const { db, exp, tenant, totals, locale } = args;
    const settings = await loadAccountingSettings(db, exp.tenantId);
    const validDate = tenantToday(tenant.timezone);
    const extraWarnings: ExportWarningData[] = [];
    let statutoryName: string | null = null;
    if (exp.format === ExportFormat.FEC) {
      const naming = fecNaming(tenant.siren, totals.earliestBillingDate, totals.latestBillingDate, settings.fiscalYearEnd, validDate);
      statutoryName = naming.statutoryName;
      extraWarnings.push(...(await fecNameWarnings(db, exp, naming.warnings, naming.previousYearEnd, locale)));
    }
    // FEC, CSV, XLSX: the generic writers; an importer layout: its own, which checks as it writes (exports/formats.ts).
    const { fileName, writer: inner } = openKindFile(this, { ...attemptFileArgs(args), statutoryName, accounting: { settings } });
    const layoutWriter = inner instanceof LayoutFileWriter ? inner : null;
    const payersWithoutIdentifier = Number(totals.payersWithoutIdentifier);
    const writer = new AccountingEntriesWriter(inner, { settings, validDate }, {
      payersWithoutIdentifier,
      alreadyTransferred: Number(totals.alreadyTransferred),
    });
    if (args.completion) writer.markTransfersAlong(args.completion, exp.tenantId, exp.id);
    const warnings = (): ExportWarningData[] | null => {
      const list = [...extraWarnings, ...(layoutWriter?.warnings() ?? []).map((w) => layoutWarning(w, locale))];
      if (payersWithoutIdentifier) {
        const account = settings.fallbackAuxiliaryAccount;
        list.unshift({
          code: 'FALLBACK_AUXILIARY_ACCOUNT',
          count: payersWithoutIdentifier,
          message: locale === 'fr-FR'
            ? `${payersWithoutIdentifier} payeur(s) sans identifiant client : leurs écritures portent le compte auxiliaire ${account}`
            : `${payersWithoutIdentifier} payer(s) without a customer identifier: their entries carry the auxiliary account ${account}`,
        });
      }
      return list.length ? list : null;
    };
    return {
      fileName,
      writer,
      warnings,
      onCompleted: (tx) => writer.recordTransfers(tx, exp.tenantId, exp.id),
    };
  },
};

/** Why a FEC does not carry its statutory name (docs/accounting.md): an invalid SIREN, entries of several fiscal years. */
async function fecNameWarnings(
  db: Queryable, exp: InvoiceExport, codes: readonly ('SIREN_INVALID' | 'SPANS_FISCAL_YEARS')[], previousYearEnd: string | null, locale: ExportLocale,
): Promise<ExportWarningData[]> {
  const fr = locale === 'fr-FR';
  const out: ExportWarningData[] = [];
  if (codes.includes('SIREN_INVALID')) {
    out.push({
      code: 'SIREN_INVALID', rule: 'SIREN_INVALID', field: 'siren', width: null, count: 0, documents: [],
      message: fr ? "Le SIREN de l'organisation ne passe pas le contrôle de Luhn : le fichier porte un nom daté" : "The organisation's SIREN fails its Luhn check: the file has a dated name",
    });
  }
  if (codes.includes('SPANS_FISCAL_YEARS') && previousYearEnd) {
    const params = new SqlParams();
    const where = selectionConditions(params, exp.tenantId, exp.selection);
    const result = await db.query(
      `SELECT count(*)::int AS n, (array_agg(i.number ORDER BY i.billing_date, i.number))[1:20] AS documents
       FROM invoices i WHERE ${where.join(' AND ')} AND i.billing_date <= ${params.add(previousYearEnd)}::date`,
      params.values,
    );
    const row = (Array.isArray(result) ? result : result.rows)[0] as { n: number; documents: string[] | null };
    out.push({
      code: 'SPANS_FISCAL_YEARS', rule: 'SPANS_FISCAL_YEARS', field: 'EcritureDate', width: null, count: row.n, documents: row.documents ?? [],
      message: fr
        ? `${row.n} écriture(s) datée(s) avant l'exercice de la dernière : le fichier couvre plusieurs exercices et porte un nom daté`
        : `${row.n} entr(y/ies) dated before the fiscal year of the latest one: the file spans fiscal years and has a dated name`,
    });
  }
  return out;
}
