import type { DataSource } from 'typeorm';
import type { AccountingEntryLine, AccountingSourceRow } from '../../accounting/entries';
import { fiscalYearEndOf, loadAccountingSettings } from '../../accounting/settings';
import { rateLabel } from '../../accounting/vat';
import { SqlParams } from '../../db/sql';
import { ExportFormat, ExportKind } from '../../entities/enums';
import { badInput } from '../../errors';
import { selectList, type ColumnDef, type SelectMap } from '../cells';
import { invoiceConditions, selectionConditions, type StoredSelection } from '../selection';
import { zonedDateTimeParts } from '../zoned-time';
import { AccountingEntriesWriter } from './accounting-entries-writer';
import { BASE_TOTALS_SQL } from './invoices';
import { attemptFileArgs, openKindFile, type BaseTotals, type ExportKindDefinition, type ExportWarningData } from './kind';

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

/** The fields of a source row and their SQL: the file's columns are computed (entries), not selected. */
const SOURCE_FIELDS: SelectMap<AccountingSourceRow> = {
  invoiceId: 'i.id',
  type: 'i.type',
  number: 'i.number',
  billingDate: 'i.billing_date',
  amountDue: 'i.amount_due',
  payerLastName: 'p.last_name',
  payerFirstName: 'p.first_name',
  customerIdentifier: 'p.customer_identifier',
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
  payersWithoutIdentifier: number;
  alreadyTransferred: number;
}

/** The tenant's SIREN when it is one (9 digits, spaces allowed), else null. */
export function sirenOf(raw: string | null | undefined): string | null {
  const digits = raw?.replace(/\s+/g, '') ?? '';
  return /^\d{9}$/.test(digits) ? digits : null;
}

/** Conditions on `i` for a selection as resolved at request time (a filter has no createdBefore yet). */
function requestConditions(params: SqlParams, tenantId: string, selection: StoredSelection): string[] {
  if (selection.mode === 'ids' || selection.createdBefore) return selectionConditions(params, tenantId, selection);
  const where = invoiceConditions(params, tenantId, selection.filter);
  if (selection.excludedInvoiceIds.length) where.push(`NOT (i.id = ANY(${params.add(selection.excludedInvoiceIds)}::uuid[]))`);
  return where;
}

export const ACCOUNTING_ENTRIES_KIND: ExportKindDefinition<AccountingSourceRow, AccountingEntryLine, AccountingTotals> = {
  kind: ExportKind.ACCOUNTING_ENTRIES,
  defaultFormat: ExportFormat.FEC,
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
           SELECT * FROM invoice_lines l0 WHERE l0.invoice_id = i.id AND l0.tenant_id = i.tenant_id ORDER BY l0.position
         ) l ON true
         WHERE ${where}
         ORDER BY i.billing_date, i.number, l.position`;
    return { text, values: params.values };
  },
  totalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT ${BASE_TOTALS_SQL},
           coalesce(sum(greatest(1, (SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.tenant_id = i.tenant_id))), 0) AS "sourceRowCount",
           max(i.billing_date)::text AS "latestBillingDate",
           count(DISTINCT i.payer_id) FILTER (WHERE p.customer_identifier IS NULL OR p.customer_identifier = '') AS "payersWithoutIdentifier",
           count(*) FILTER (WHERE EXISTS (SELECT 1 FROM accounting_transfers t WHERE t.tenant_id = i.tenant_id AND t.invoice_id = i.id)) AS "alreadyTransferred"
         FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         WHERE ${where}`;
    return { text, values: params.values };
  },
  totalRows: (t) => Number(t.sourceRowCount),

  /** A VAT rate of the selection without an account in the settings is refused now, naming the rate. */
  async validateRequest(ds: DataSource, tenantId: string, selection: StoredSelection): Promise<void> {
    const params = new SqlParams();
    const where = requestConditions(params, tenantId, selection).join(' AND ');
    const rates: { rate: string }[] = await ds.query(
      `SELECT r.vat_rate::text AS rate FROM (
         SELECT DISTINCT l.vat_rate FROM invoices i
         JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
         WHERE ${where} AND l.vat_rate > 0 AND l.amount <> 0) r ORDER BY r.vat_rate`,
      params.values,
    );
    const settings = await loadAccountingSettings(ds, tenantId);
    const missing = rates.map((r) => r.rate).filter((rate) => !settings.vatAccounts[rate]);
    if (missing.length) {
      const list = missing.map((r) => `${rateLabel(r)} %`).join(', ');
      throw badInput(
        `No VAT account for the rate${missing.length > 1 ? 's' : ''} ${list} of the selection: set ${missing.map((r) => `vatAccounts["${r}"]`).join(', ')} in the accounting settings (updateAccountingSettings)`,
        { missingVatRates: missing },
      );
    }
  },

  async openAttempt(args) {
    const { db, exp, tenant, totals, locale } = args;
    const settings = await loadAccountingSettings(db, exp.tenantId);
    const now = zonedDateTimeParts(new Date(), tenant.timezone);
    const validDate = `${now.year}-${String(now.month).padStart(2, '0')}-${String(now.day).padStart(2, '0')}`;
    const siren = sirenOf(tenant.siren);
    const fiscalYearClosing = fiscalYearEndOf(totals.latestBillingDate ?? validDate, settings.fiscalYearEnd);
    const { fileName, writer: inner } = openKindFile(this, { ...attemptFileArgs(args), statutory: siren ? { siren, fiscalYearClosing } : null });
    const payersWithoutIdentifier = Number(totals.payersWithoutIdentifier);
    const writer = new AccountingEntriesWriter(inner, { settings, validDate }, {
      payersWithoutIdentifier,
      alreadyTransferred: Number(totals.alreadyTransferred),
    });
    const warnings = (): ExportWarningData[] | null => {
      if (!payersWithoutIdentifier) return null;
      const account = settings.fallbackAuxiliaryAccount;
      return [{
        code: 'FALLBACK_AUXILIARY_ACCOUNT',
        count: payersWithoutIdentifier,
        message: locale === 'fr-FR'
          ? `${payersWithoutIdentifier} payeur(s) sans identifiant client : leurs écritures portent le compte auxiliaire ${account}`
          : `${payersWithoutIdentifier} payer(s) without a customer identifier: their entries carry the auxiliary account ${account}`,
      }];
    };
    return {
      fileName,
      writer,
      warnings,
      onCompleted: (tx) => writer.recordTransfers(tx, exp.tenantId, exp.id),
    };
  },
};
