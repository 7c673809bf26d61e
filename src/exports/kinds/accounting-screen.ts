import { writtenIdentifier, type IdentifierField, type ImportLayout } from '../../accounting/layouts/common';
import { lineAccount } from '../../accounting/entries';
import { ACCOUNT_RE, type AccountingSettingsData } from '../../accounting/settings';
import { selectionConditions, SqlParams, type StoredSelection } from '../selection';
import type { Queryable } from './kind';
import { suspectSql } from './accounting-identifiers';

/**
 * The request-time screen of an accounting export (docs/accounting.md,
 * "Refused at the request"): two lean aggregate queries that tell whether
 * anything in the selection *could* be refused, so that the full query of
 * accounting-identifiers.ts — which says what, where and in which documents,
 * and costs three times as much — runs only when something is to be
 * reported. The screen errs one way only: whatever the full query would
 * report, it flags (a value it cannot clear in SQL is judged by the
 * layout's own `writtenIdentifier`, or flagged).
 */

/** What the selection's billing lines hold: the distinct accounts, and the VAT rates of lines that carry VAT. */
export interface SelectionLineValues {
  /** Distinct `accounting_account` values of lines with an amount (a zero line writes nothing), null included. */
  accounts: (string | null)[];
  /** Distinct rates (`"20.00"`, ascending) of lines with a rate above 0 and an amount not zero. */
  vatRates: string[];
}

/** One pass over the selection's billing lines (an index probe per document). */
async function selectionLineValues(db: Queryable, tenantId: string, selection: StoredSelection): Promise<SelectionLineValues> {
  const params = new SqlParams();
  const where = selectionConditions(params, tenantId, selection).join(' AND ');
  const [row]: { accounts: (string | null)[] | null; rates: string[] | null }[] = await db.query(
    `SELECT array_agg(DISTINCT v.account) FILTER (WHERE v.written) AS accounts,
            array_agg(DISTINCT v.rate ORDER BY v.rate) FILTER (WHERE v.rate IS NOT NULL)::text[] AS rates
     FROM (
       SELECT DISTINCT l.accounting_account AS account, l.amount <> 0 AS written,
              CASE WHEN l.vat_rate > 0 AND l.amount <> 0 THEN l.vat_rate END AS rate
       FROM invoices i JOIN invoice_lines l ON l.tenant_id = i.tenant_id AND l.invoice_id = i.id
       WHERE ${where}
     ) v`,
    params.values,
  );
  return { accounts: row.accounts ?? [], vatRates: row.rates ?? [] };
}

/** Per document: the count of documents, and of those whose balance, number or customer identifier may be refused. */
interface DocumentFlags {
  documents: number;
  flagged: number;
}

/**
 * The documents' side: an entry that may not balance (its lines do not add
 * up to amount_due), a number or a customer identifier that the layout may
 * refuse (a character outside printable ASCII or one it forbids, or longer
 * than its field once trimmed), an entry whose VAT at one rate may not fit
 * an amount field (its lines' amounts add up past the layout's largest).
 */
async function documentFlags(db: Queryable, tenantId: string, selection: StoredSelection, layout: ImportLayout): Promise<DocumentFlags> {
  const ids = layout.identifiers;
  const params = new SqlParams();
  const p = (value: unknown, cast = '') => params.add(value) + cast;
  const where = selectionConditions(params, tenantId, selection).join(' AND ');
  const mayRefuse = (column: string, field: 'PieceRef' | 'CompAuxNum') => {
    const width = ids[field].width;
    const long = width === null ? '' : ` OR char_length(btrim(${column}, ' ')) > ${p(width, '::int')}`;
    return `${suspectSql(column, field, layout, p)}${long}`;
  };
  const amounts = layout.amountField === undefined ? '' : ` OR ld.spread * 100 > ${p(layout.amountField.maxCents.toString(), '::numeric')}`;
  const [row]: { documents: string; flagged: string }[] = await db.query(
    `SELECT count(*) AS documents,
            count(*) FILTER (WHERE i.amount_due <> coalesce(ld.total, 0)
                               OR ${mayRefuse('i.number', 'PieceRef')}
                               OR (p.customer_identifier <> '' AND (${mayRefuse('p.customer_identifier', 'CompAuxNum')}))${amounts}) AS flagged
     FROM invoices i
     JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
     LEFT JOIN LATERAL (
       SELECT sum(l.amount) AS total, sum(abs(l.amount)) AS spread
       FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id
     ) ld ON true
     WHERE ${where}`,
    params.values,
  );
  return { documents: Number(row.documents), flagged: Number(row.flagged) };
}

/** What the screen read: the lines' values, and with an importer layout the documents' flags. */
export interface SelectionScreen {
  lines: SelectionLineValues;
  documents: DocumentFlags | null;
}

/**
 * Both passes at once, on two connections (`db` a pool): each one sees the
 * selection at its own instant, as the request does; the worker checks
 * again in its snapshot.
 */
export async function screenSelection(db: Queryable, tenantId: string, selection: StoredSelection, layout: ImportLayout | null): Promise<SelectionScreen> {
  const [lines, documents] = await Promise.all([
    selectionLineValues(db, tenantId, selection),
    layout ? documentFlags(db, tenantId, selection, layout) : null,
  ]);
  return { lines, documents };
}

/**
 * Whether the full query must run: a setting the layout cannot write (the
 * journal code, the receivable, fallback, default revenue or a VAT account),
 * a billing-line account that is not an account or cannot be written, a
 * flagged document, or more entries than the entry numbers' digits.
 */
export function mayBeRefused(layout: ImportLayout, settings: AccountingSettingsData, screen: SelectionScreen): boolean {
  const ids = layout.identifiers;
  const measureChars = layout.measureChars ?? false;
  const cannotWrite = (value: string | null, field: IdentifierField) => typeof writtenIdentifier(value, field, ids[field], measureChars) !== 'string';
  const settingsRefused = cannotWrite(settings.journalCode, 'JournalCode')
    || cannotWrite(settings.receivableAccount, 'CompteNum')
    || (Boolean(settings.fallbackAuxiliaryAccount) && cannotWrite(settings.fallbackAuxiliaryAccount, 'CompAuxNum'))
    || Object.values(settings.vatAccounts).some((account) => cannotWrite(account, 'CompteNum'));
  const accountRefused = screen.lines.accounts.some((raw) => {
    const account = lineAccount(raw);
    if (!account) return cannotWrite(settings.defaultRevenueAccount, 'CompteNum');
    return !ACCOUNT_RE.test(account) || cannotWrite(account, 'CompteNum');
  });
  const docs = screen.documents;
  if (!docs) throw new Error('The screen of an importer layout reads the documents');
  const digits = ids.entryNumberDigits;
  return settingsRefused || accountRefused || docs.flagged > 0 || (digits !== null && docs.documents >= 10 ** digits);
}
