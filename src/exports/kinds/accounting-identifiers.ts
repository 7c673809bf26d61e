import type { DataSource } from 'typeorm';
import { lineAccount } from '../../accounting/entries';
import { RULE, TOO_LONG, writtenIdentifier, type IdentifierField, type ImportLayout } from '../../accounting/layouts/common';
import { MAX_LISTED_DOCUMENTS, type LayoutProblem } from '../../accounting/layouts/problems';
import { forbiddenAscii, NOT_PRINTABLE_ASCII_SQL } from '../../accounting/layouts/text';
import { ACCOUNT_RE, type AccountingSettingsData } from '../../accounting/settings';
import { includedVatCentsSql } from '../../accounting/vat';
import { ExportErrorCode } from '../../errors';
import { selectionConditions, SqlParams, type StoredSelection } from '../selection';

/**
 * The request-time check of an importer layout (docs/accounting.md): the
 * problems the pre-flight check (accounting-check.ts) would report — the
 * identifiers that do not fit the layout, and the entries it refuses
 * (INVALID_ACCOUNT, UNBALANCED_ENTRIES), with the same items in the same
 * order — found by PostgreSQL in one aggregate query over the selection, so
 * that no row of it reaches the API process.
 *
 * What an identifier becomes is decided by the layout's own function
 * (`writtenIdentifier`). The settings' identifiers are known here. A value
 * of the data that holds a character outside printable ASCII, or one the
 * layout forbids, is a *suspect*: the query takes it for fine and returns
 * the few distinct ones; JavaScript judges them, and when one is not fine
 * the query runs once more with the verdicts (in the same snapshot). Every
 * other value is written as it is, trimmed of spaces, so its length in SQL
 * is its width in the file. The widths and the order in which a line checks
 * its identifiers come from the layout's `identifiers`.
 */

/** Not encodable, too long, or fine. */
type Verdict = 'N' | 'L' | null;

interface Item {
  rule: string;
  field: string | null;
  width: number | null;
  /** Refusals of the entries come before the layout's problems, as the pre-flight check lists them. */
  refusal: boolean;
  /** SQL conditions on a document `g`, each with where its check happens in the document (`at`). */
  hits: { cond: string; at: string }[];
}

/** Where a check happens in a document: the receivable line's checks first (0–15), then each line's by position, then the VAT lines'. */
const LINE = 16n;
const VAT_LINES = 2n ** 31n; // above every position (integer)
/** A document's rank before its `at`: rank × 2^37 + at orders by document, then place in it. */
const RANK = 2n ** 37n;

export interface IdentifierCheckInput {
  tenantId: string;
  /** The selection as the request resolves it (a filter bounded by createdBefore). */
  selection: StoredSelection;
  layout: ImportLayout;
  settings: AccountingSettingsData;
}

/** Suspect values JavaScript has judged: those not encodable (`N`), too long (`L`), or not an account (`I`, billing lines). */
interface Judged {
  PieceRef: { N: string[]; L: string[] };
  CompAuxNum: { N: string[]; L: string[] };
  CompteNum: { I: string[]; N: string[]; L: string[] };
}

interface Row {
  suspect_numbers: string[] | null;
  suspect_customers: string[] | null;
  suspect_accounts: string[][] | null;
  [column: string]: unknown;
}

export async function identifierProblemsInSql(ds: DataSource, input: IdentifierCheckInput): Promise<LayoutProblem[]> {
  const { layout, settings } = input;
  const ids = layout.identifiers;
  const verdict = (value: string | null, field: IdentifierField): Verdict => {
    const written = writtenIdentifier(value, field, ids[field], layout.measureChars ?? false);
    return typeof written === 'string' ? null : written.rule === RULE.IDENTIFIER_NOT_ENCODABLE ? 'N' : 'L';
  };
  /** A billing line's account → not an account (`I`), or the verdict on what CompteNum writes (the default account when absent). */
  const accountVerdict = (raw: string | null): Verdict | 'I' => {
    const account = lineAccount(raw);
    if (!account) return verdict(settings.defaultRevenueAccount, 'CompteNum');
    return ACCOUNT_RE.test(account) ? verdict(account, 'CompteNum') : 'I';
  };

  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    // One snapshot: the suspects judged in JavaScript are those the second run sees.
    await qr.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await qr.query('SET LOCAL jit = off');
    const judged: Judged = { PieceRef: { N: [], L: [] }, CompAuxNum: { N: [], L: [] }, CompteNum: { I: [], N: [], L: [] } };
    let query = identifierQuery(input, judged, verdict);
    let [row]: Row[] = await qr.query(query.text, query.values);
    const suspects = {
      PieceRef: row.suspect_numbers ?? [],
      CompAuxNum: row.suspect_customers ?? [],
      CompteNum: [...new Set((row.suspect_accounts ?? []).flat())],
    };
    let refused = false;
    for (const field of ['PieceRef', 'CompAuxNum'] as const) {
      for (const value of suspects[field]) {
        const v = verdict(value, field);
        if (v) judged[field][v].push(value);
        refused ||= v !== null;
      }
    }
    for (const value of suspects.CompteNum) {
      const v = accountVerdict(value);
      if (v) judged.CompteNum[v].push(value);
      refused ||= v !== null;
    }
    // The first run took every suspect for fine: right unless one is not.
    if (refused) {
      query = identifierQuery(input, judged, verdict);
      [row] = await qr.query(query.text, query.values);
    }
    await qr.query('COMMIT');

    // In the order the pre-flight check meets them: its entries' refusals, then the layout's problems, each by its first offence.
    const found = query.items.flatMap((item, n) => {
      const count = Number(row[`count_${n}`]);
      return count ? [{ item, count, documents: row[`documents_${n}`] as string[], first: BigInt(row[`first_${n}`] as string) }] : [];
    });
    found.sort((a, b) => Number(b.item.refusal) - Number(a.item.refusal) || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    return found.map(({ item, count, documents }) => ({ rule: item.rule, field: item.field, width: item.width, count, documents }));
  } catch (err) {
    await qr.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
}

/** A value that `writtenIdentifier` may change or refuse: a character outside printable ASCII, or one the layout forbids in that field. */
export function suspectSql(column: string, field: IdentifierField, layout: ImportLayout, p: (value: unknown, cast?: string) => string): string {
  const forbidden = forbiddenAscii(layout.identifiers[field].rules);
  const outside = `${column} ~ '${NOT_PRINTABLE_ASCII_SQL}'`;
  return forbidden ? `(${outside} OR translate(${column}, ${p(forbidden, '::text')}, '') <> ${column})` : `(${outside})`;
}

/** The query: one row with each item's count, first documents and first offence, and the suspects met. */
function identifierQuery(input: IdentifierCheckInput, judged: Judged, verdict: (value: string | null, field: IdentifierField) => Verdict) {
  const { layout, settings } = input;
  const ids = layout.identifiers;
  const params = new SqlParams();
  const p = (value: unknown, cast = '') => params.add(value) + cast;
  const where = selectionConditions(params, input.tenantId, input.selection).join(' AND ');
  const suspect = (column: string, field: IdentifierField) => suspectSql(column, field, layout, p);

  /** A value of the data: the verdict JavaScript gave a suspect; else, written as it is, its trimmed length against the width. */
  const dataVerdict = (column: string, field: 'PieceRef' | 'CompAuxNum') => {
    const width = ids[field].width;
    const tooLong = width === null ? 'false' : `NOT ${suspect(column, field)} AND char_length(btrim(${column}, ' ')) > ${p(width, '::int')}`;
    return `CASE WHEN ${column} = ANY(${p(judged[field].N, '::text[]')}) THEN 'N'
                 WHEN ${column} = ANY(${p(judged[field].L, '::text[]')}) OR (${tooLong}) THEN 'L' END`;
  };
  const accountWidth = ids.CompteNum.width;
  const accountLength = (a: string) => (accountWidth === null ? '' : `WHEN char_length(${a}) > ${p(accountWidth, '::int')} THEN 'L'`);
  // An account ACCOUNT_RE accepts as it stands is what lineAccount writes (no blank, upper case): only its length can refuse it.
  const asItStands = ![...forbiddenAscii(ids.CompteNum.rules)].some((c) => ACCOUNT_RE.test(c));
  /** A billing line's account: the verdict on what CompteNum writes, or `I` (INVALID_ACCOUNT). Printable ASCII: blanks are spaces, upper-casing is A–Z. */
  const account = (a: string) => `CASE
           ${asItStands ? `WHEN ${a} ~ ${p(ACCOUNT_RE.source)} THEN CASE ${accountLength(a) || 'WHEN false THEN NULL'} END` : ''}
           WHEN ${a} = ANY(${p(judged.CompteNum.I, '::text[]')}) THEN 'I'
           WHEN ${a} = ANY(${p(judged.CompteNum.N, '::text[]')}) THEN 'N'
           WHEN ${a} = ANY(${p(judged.CompteNum.L, '::text[]')}) THEN 'L'
           WHEN ${suspect(a, 'CompteNum')} THEN NULL
           WHEN ${a} IS NULL OR replace(${a}, ' ', '') = '' THEN ${p(verdict(settings.defaultRevenueAccount, 'CompteNum'), '::text')}
           WHEN translate(replace(${a}, ' ', ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') !~ ${p(ACCOUNT_RE.source)} THEN 'I'
           ${accountLength(`replace(${a}, ' ', '')`)}
         END`;
  const vat = (line: string) => includedVatCentsSql(`${line}.amount`, `${line}.vat_rate`);

  // VAT lines whose account (a setting) cannot be written, or whose amount may not fit the layout's amount field: which documents have one (its VAT not zero), and where.
  const amountField = layout.amountField;
  const vatRates = Object.entries(settings.vatAccounts)
    .map(([rate, acct]) => ({ rate, v: verdict(acct, 'CompteNum') }))
    .filter((r) => r.v !== null || amountField);
  const vatColumns = vatRates.map((r, j) => `,
             sum(${vat('x')}) FILTER (WHERE x.vat_rate::text = ${p(r.rate)}) AS vat_${j},
             min(x.position) FILTER (WHERE x.vat_rate::text = ${p(r.rate)} AND x.amount <> 0) AS vat_at_${j}`).join('');
  /** The first VAT line (VAT_LINES + the position where its rate first appears) whose VAT meets `cond`. */
  const firstVatLine = (cond: (j: number) => string | null) => {
    const of = vatRates.flatMap((_, j) => {
      const c = cond(j);
      return c ? [`CASE WHEN ${c} THEN ${VAT_LINES}::bigint + ld.vat_at_${j} END`] : [];
    });
    return of.length ? `least(${of.join(', ')})` : 'NULL::bigint';
  };
  const vatLine = (v: 'N' | 'L') => firstVatLine((j) => (vatRates[j].v === v ? `ld.vat_${j} <> 0` : null));
  // A VAT line's value is −(its VAT): the credit side when the VAT is positive.
  const vatTooLarge = (side: 'Credit' | 'Debit') => (amountField
    ? firstVatLine((j) => (side === 'Credit' ? `ld.vat_${j} > ${p(amountField.maxCents.toString(), '::bigint')}` : `ld.vat_${j} < -${p(amountField.maxCents.toString(), '::bigint')}`))
    : 'NULL::bigint');

  const items: Item[] = [];
  const hit = (rule: string, field: string | null, width: number | null, cond: string, at: string, refusal = false) => {
    let item = items.find((i) => i.rule === rule && i.field === field && i.width === width);
    if (!item) items.push((item = { rule, field, width, refusal, hits: [] }));
    item.hits.push({ cond, at });
  };
  const identifierHit = (v: Verdict, field: IdentifierField, cond: string, at: string) => {
    if (v === 'N') hit(RULE.IDENTIFIER_NOT_ENCODABLE, field, null, cond, at);
    if (v === 'L') hit(TOO_LONG[field], field, ids[field].width, cond, at);
  };
  const columnHits = (column: string, field: IdentifierField, at: string) => {
    hit(RULE.IDENTIFIER_NOT_ENCODABLE, field, null, `${column} = 'N'`, at);
    if (ids[field].width !== null) hit(TOO_LONG[field], field, ids[field].width, `${column} = 'L'`, at);
  };

  hit(ExportErrorCode.INVALID_ACCOUNT, 'CompteNum', null, 'g.invalid', '0', true);
  hit(ExportErrorCode.UNBALANCED_ENTRIES, null, null, 'g.unbalanced', '0', true);
  const fallback = settings.fallbackAuxiliaryAccount;
  const receivable = verdict(settings.receivableAccount, 'CompteNum');
  const noIdentifier = `(g.cust IS NULL OR g.cust = '')`;
  ids.receivableLine.forEach((check, index) => {
    const at = String(index);
    switch (check) {
      case 'JournalCode':
        identifierHit(verdict(settings.journalCode, 'JournalCode'), 'JournalCode', 'true', at);
        break;
      case 'PieceRef':
        columnHits('g.piece', 'PieceRef', at);
        break;
      case 'EcritureNum': {
        const digits = ids.entryNumberDigits;
        if (digits !== null) hit(RULE.ENTRY_NUMBER_TOO_LONG, 'EcritureNum', digits, `g.rank >= ${p(10 ** digits, '::bigint')}`, at);
        break;
      }
      case 'Account':
      case 'CompAuxNum':
        // CompAuxNum: the customer identifier, else the fallback account (folded into g.aux).
        columnHits('g.aux', 'CompAuxNum', at);
        // Without either, the account written is the receivable line's CompteNum.
        if (check === 'Account' && !fallback) identifierHit(receivable, 'CompteNum', noIdentifier, at);
        break;
      case 'CompteNum':
        identifierHit(receivable, 'CompteNum', 'true', at);
        break;
      case 'CustomerRecord':
        if (receivable) identifierHit(receivable, 'CompteNum', `NOT ${noIdentifier} AND g.cust <> ${p(fallback, '::text')} AND g.rank = g.first_of_customer`, at);
        break;
    }
  });
  // The other lines: revenue (by position), then VAT.
  hit(RULE.IDENTIFIER_NOT_ENCODABLE, 'CompteNum', null, 'g.revenue_n IS NOT NULL', `g.revenue_n::bigint * ${LINE}`);
  hit(RULE.IDENTIFIER_NOT_ENCODABLE, 'CompteNum', null, 'g.vat_n IS NOT NULL', `g.vat_n * ${LINE}`);
  if (accountWidth !== null) {
    hit(RULE.ACCOUNT_TOO_LONG, 'CompteNum', accountWidth, 'g.revenue_l IS NOT NULL', `g.revenue_l::bigint * ${LINE}`);
    hit(RULE.ACCOUNT_TOO_LONG, 'CompteNum', accountWidth, 'g.vat_l IS NOT NULL', `g.vat_l * ${LINE}`);
  }
  if (amountField) {
    // A line checks its amount before its identifiers; only a VAT line's can be too large (layouts/common.ts).
    hit(RULE.AMOUNT_TOO_LARGE, 'Credit', amountField.width, 'g.vat_big_c IS NOT NULL', `g.vat_big_c * ${LINE} - 1`);
    hit(RULE.AMOUNT_TOO_LARGE, 'Debit', amountField.width, 'g.vat_big_d IS NOT NULL', `g.vat_big_d * ${LINE} - 1`);
  }
  const customerRecord = ids.receivableLine.includes('CustomerRecord');

  const aggregates = items.map((item, n) => {
    const cond = item.hits.map((h) => `(${h.cond})`).join(' OR ');
    const filter = `FILTER (WHERE ${item.refusal ? cond : `g.written AND (${cond})`})`;
    const at = item.hits.length === 1 ? `(${item.hits[0].at})::bigint` : `least(${item.hits.map((h) => `CASE WHEN ${h.cond} THEN (${h.at})::bigint END`).join(', ')})`;
    return `count(*) ${filter} AS count_${n},
           (array_agg(g.number ORDER BY g.rank) ${filter})[1:${MAX_LISTED_DOCUMENTS}] AS documents_${n},
           min(g.rank * ${RANK} + ${at}) ${filter}::text AS first_${n}`;
  });

  // OFFSET 0 keeps each subquery whole, so that a verdict is computed once per row rather than once per use.
  const text = `
    WITH d AS (
      SELECT i.id, i.tenant_id, i.number, i.amount_due, i.payer_id,
             row_number() OVER (ORDER BY i.billing_date, i.number) AS rank
      FROM invoices i
      WHERE ${where}
    ),
    f AS (
      SELECT d.number, d.rank, p.customer_identifier AS cust,
             ${suspect('d.number', 'PieceRef')} AS number_suspect,
             ${suspect('p.customer_identifier', 'CompAuxNum')} AS cust_suspect,
             coalesce(ld.invalid, false) AS invalid,
             NOT coalesce(ld.invalid, false) AND d.amount_due <> coalesce(ld.total, 0) AS unbalanced,
             ${dataVerdict('d.number', 'PieceRef')} AS piece,
             CASE WHEN p.customer_identifier IS NULL OR p.customer_identifier = '' THEN ${p(fallback ? verdict(fallback, 'CompAuxNum') : null, '::text')}
                  ELSE ${dataVerdict('p.customer_identifier', 'CompAuxNum')} END AS aux,
             ld.revenue_n, ld.revenue_l, ld.account_suspects, ${vatLine('N')} AS vat_n, ${vatLine('L')} AS vat_l,
             ${vatTooLarge('Credit')} AS vat_big_c, ${vatTooLarge('Debit')} AS vat_big_d
      FROM d
      JOIN payers p ON p.tenant_id = d.tenant_id AND p.id = d.payer_id
      CROSS JOIN LATERAL (
        -- One document's billing lines, as buildEntry turns them into revenue lines (amount and its net not zero) and VAT lines.
        SELECT sum(x.amount) AS total,
               bool_or(x.acc = 'I') AS invalid,
               min(x.position) FILTER (WHERE x.acc = 'N') AS revenue_n,
               min(x.position) FILTER (WHERE x.acc = 'L') AS revenue_l,
               jsonb_agg(DISTINCT x.accounting_account) FILTER (WHERE x.suspect) AS account_suspects${vatColumns}
        FROM (
          SELECT y.*, CASE WHEN y.v IS NOT NULL AND y.amount <> 0 AND (y.amount * 100)::bigint <> ${vat('y')} THEN y.v END AS acc
          FROM (
            SELECT l.position, l.amount, l.vat_rate, l.accounting_account,
                   ${suspect('l.accounting_account', 'CompteNum')} AS suspect, ${account('l.accounting_account')} AS v
            FROM invoice_lines l WHERE l.tenant_id = d.tenant_id AND l.invoice_id = d.id
            OFFSET 0
          ) y
        ) x
      ) ld
      OFFSET 0
    ),
    g AS (
      SELECT f.*, NOT (f.invalid OR f.unbalanced) AS written${customerRecord ? `,
             min(f.rank) FILTER (WHERE NOT (f.invalid OR f.unbalanced)) OVER (PARTITION BY f.cust) AS first_of_customer` : ''}
      FROM f
      OFFSET 0
    )
    SELECT array_agg(DISTINCT g.number) FILTER (WHERE g.number_suspect) AS suspect_numbers,
           array_agg(DISTINCT g.cust) FILTER (WHERE g.cust_suspect) AS suspect_customers,
           jsonb_agg(g.account_suspects) FILTER (WHERE g.account_suspects IS NOT NULL) AS suspect_accounts,
           ${aggregates.join(',\n           ')}
    FROM g`;
  return { text, values: params.values, items };
}
