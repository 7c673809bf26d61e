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
 * order — found by PostgreSQL in two aggregate queries over the selection,
 * so that no row of it reaches the API process.
 *
 * What an identifier becomes is decided by the layout's own function
 * (`writtenIdentifier`): the settings' identifiers are known here, and a
 * value of the data goes through it when it holds a character outside
 * printable ASCII or one the layout forbids (the first query fetches these
 * few distinct values). Every other value is written as it is, trimmed of
 * spaces, so its length in SQL is its width in the file. The widths and the
 * order in which a line checks its identifiers come from the layout's
 * `identifiers`.
 */

/** Not encodable, too long, or fine; `I`: a billing line's account that is not an account (INVALID_ACCOUNT). */
type Verdict = 'N' | 'L' | null;

interface Item {
  rule: string;
  field: string | null;
  width: number | null;
  /** Refusals of the entries come before the layout's problems, as the pre-flight check lists them. */
  refusal: boolean;
  /** SQL conditions on a document `g`, with where the check happens in it (its order: line, then check). */
  hits: { cond: string; at: string }[];
}

/** Positions of a check in a document: the receivable line's checks first (0–15), then each line's by position, then the VAT lines'. */
const LINE = 16;
const VAT_LINES = 1_000_000_000;

export interface IdentifierCheckInput {
  tenantId: string;
  /** The selection as the request resolves it (a filter bounded by createdBefore). */
  selection: StoredSelection;
  layout: ImportLayout;
  settings: AccountingSettingsData;
}

export async function identifierProblemsInSql(ds: DataSource, input: IdentifierCheckInput): Promise<LayoutProblem[]> {
  const { layout, settings } = input;
  const ids = layout.identifiers;
  const verdict = (value: string | null, field: IdentifierField): Verdict => {
    const written = writtenIdentifier(value, field, ids[field], layout.measureChars ?? false);
    return typeof written === 'string' ? null : written.rule === RULE.IDENTIFIER_NOT_ENCODABLE ? 'N' : 'L';
  };
  /** A billing line's account → INVALID_ACCOUNT (`I`), or the verdict on what CompteNum writes (the default account when absent). */
  const accountVerdict = (raw: string | null): Verdict | 'I' => {
    const account = lineAccount(raw);
    if (!account) return verdict(settings.defaultRevenueAccount, 'CompteNum');
    return ACCOUNT_RE.test(account) ? verdict(account, 'CompteNum') : 'I';
  };

  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    // One snapshot: the values judged in JavaScript are those the aggregates see.
    await qr.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await qr.query('SET LOCAL jit = off');
    const suspects = suspectsQuery(input);
    const found: { source: 'PieceRef' | 'CompAuxNum' | 'CompteNum'; value: string }[] = await qr.query(suspects.text, suspects.values);
    const judged = () => ({ I: [] as string[], N: [] as string[], L: [] as string[] });
    const lists = { PieceRef: judged(), CompAuxNum: judged(), CompteNum: judged() };
    for (const { source, value } of found) {
      const v = source === 'CompteNum' ? accountVerdict(value) : verdict(value, source as 'PieceRef' | 'CompAuxNum');
      if (v) lists[source as keyof typeof lists][v].push(value);
    }

    const params = new SqlParams();
    const p = (value: unknown, cast = '') => params.add(value) + cast;
    const where = selectionConditions(params, input.tenantId, input.selection).join(' AND ');
    const suspect = (column: string, field: IdentifierField) => suspectSql(column, field, layout, p);
    /** A value of the data: the verdict JavaScript gave, else (written as it is) its trimmed length against the width. */
    const dataVerdict = (column: string, field: 'PieceRef' | 'CompAuxNum') => {
      const width = ids[field].width;
      const tooLong = width === null ? 'false' : `NOT ${suspect(column, field)} AND char_length(btrim(${column}, ' ')) > ${p(width, '::int')}`;
      return `CASE WHEN ${column} = ANY(${p(lists[field].N, '::text[]')}) THEN 'N'
                   WHEN ${column} = ANY(${p(lists[field].L, '::text[]')}) OR (${tooLong}) THEN 'L' END`;
    };
    const acc = lists.CompteNum;
    const accountWidth = ids.CompteNum.width;
    // Printable ASCII: blanks are spaces, upper-casing is A–Z (lineAccount), the account is written as it is.
    const account = (a: string) => `CASE WHEN ${a} = ANY(${p(acc.I, '::text[]')}) THEN 'I'
           WHEN ${a} = ANY(${p(acc.N, '::text[]')}) THEN 'N'
           WHEN ${a} = ANY(${p(acc.L, '::text[]')}) THEN 'L'
           WHEN ${suspect(a, 'CompteNum')} THEN NULL
           WHEN ${a} IS NULL OR replace(${a}, ' ', '') = '' THEN ${p(verdict(settings.defaultRevenueAccount, 'CompteNum'), '::text')}
           WHEN translate(replace(${a}, ' ', ''), 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ') !~ ${p(ACCOUNT_RE.source)} THEN 'I'
           ${accountWidth === null ? '' : `WHEN char_length(replace(${a}, ' ', '')) > ${p(accountWidth, '::int')} THEN 'L'`}
         END`;

    // VAT lines whose account (a setting) cannot be written: which documents have one (its VAT not zero), and where.
    const badRates = Object.entries(settings.vatAccounts)
      .map(([rate, acct]) => ({ rate, v: verdict(acct, 'CompteNum') }))
      .filter((r): r is { rate: string; v: 'N' | 'L' } => r.v !== null);
    const vatColumns = badRates.map((r, j) => `,
             sum(y.vat) FILTER (WHERE y.rate = ${p(r.rate)}) AS vat_${j},
             min(y.position) FILTER (WHERE y.rate = ${p(r.rate)} AND y.amount <> 0) AS vat_at_${j}`).join('');
    const vatLine = (v: 'N' | 'L') => {
      const of = badRates.flatMap((r, j) => (r.v === v ? [`CASE WHEN ld.vat_${j} <> 0 THEN ${VAT_LINES}::bigint + ld.vat_at_${j} END`] : []));
      return of.length ? `least(${of.join(', ')})` : 'NULL::bigint';
    };

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
    const customerRecord = ids.receivableLine.includes('CustomerRecord');

    const values = items.map((item, n) => {
      const cond = item.hits.map((h) => `(${h.cond})`).join(' OR ');
      const at = `least(${item.hits.map((h) => `CASE WHEN ${h.cond} THEN (${h.at})::bigint END`).join(', ')})`;
      return `(${n}, ${item.refusal ? cond : `g.written AND (${cond})`}, ${at})`;
    });

    const text = `
      WITH d AS (
        SELECT i.id, i.tenant_id, i.number, i.amount_due, p.customer_identifier AS cust,
               row_number() OVER (ORDER BY i.billing_date, i.number) AS rank
        FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
        WHERE ${where}
      ),
      f AS (
        SELECT d.number, d.rank, d.cust,
               coalesce(ld.invalid, false) AS invalid,
               NOT coalesce(ld.invalid, false) AND d.amount_due <> coalesce(ld.total, 0) AS unbalanced,
               ${dataVerdict('d.number', 'PieceRef')} AS piece,
               CASE WHEN d.cust IS NULL OR d.cust = '' THEN ${p(fallback ? verdict(fallback, 'CompAuxNum') : null, '::text')}
                    ELSE ${dataVerdict('d.cust', 'CompAuxNum')} END AS aux,
               ld.revenue_n, ld.revenue_l, ${vatLine('N')} AS vat_n, ${vatLine('L')} AS vat_l
        FROM d CROSS JOIN LATERAL (
          -- One document's billing lines, as buildEntry turns them into revenue and VAT lines.
          SELECT sum(y.amount) AS total,
                 bool_or(y.acc = 'I') AS invalid,
                 min(y.position) FILTER (WHERE y.acc = 'N') AS revenue_n,
                 min(y.position) FILTER (WHERE y.acc = 'L') AS revenue_l${vatColumns}
          FROM (
            SELECT x.position, x.amount, x.rate, x.vat,
                   CASE WHEN x.amount <> 0 AND (x.amount * 100)::bigint <> x.vat THEN ${account('x.accounting_account')} END AS acc
            FROM (
              SELECT l.position, l.amount, l.vat_rate::text AS rate, l.accounting_account, ${includedVatCentsSql('l.amount', 'l.vat_rate')} AS vat
              FROM invoice_lines l WHERE l.tenant_id = d.tenant_id AND l.invoice_id = d.id
            ) x
          ) y
        ) ld
      ),
      g AS (
        SELECT f.*, NOT (f.invalid OR f.unbalanced) AS written${customerRecord ? `,
               min(f.rank) FILTER (WHERE NOT (f.invalid OR f.unbalanced)) OVER (PARTITION BY f.cust) AS first_of_customer` : ''}
        FROM f
      )
      SELECT k.n, count(*)::int AS count,
             (array_agg(g.number ORDER BY g.rank))[1:${MAX_LISTED_DOCUMENTS}] AS documents,
             min(g.rank)::text AS first, (array_agg(k.at ORDER BY g.rank))[1]::text AS at
      FROM g CROSS JOIN LATERAL (VALUES ${values.join(',\n        ')}) AS k(n, hit, at)
      WHERE k.hit
      GROUP BY k.n`;
    const rows: { n: number; count: number; documents: string[]; first: string; at: string }[] = await qr.query(text, params.values);
    await qr.query('COMMIT');

    // In the order the pre-flight check meets them: its entries' refusals, then the layout's problems, each by its first offence.
    const problems = rows.map((r) => ({ item: items[r.n], first: Number(r.first), at: Number(r.at), count: r.count, documents: r.documents }));
    problems.sort((a, b) => Number(b.item.refusal) - Number(a.item.refusal) || a.first - b.first || a.at - b.at);
    return problems.map(({ item, count, documents }) => ({ rule: item.rule, field: item.field, width: item.width, count, documents }));
  } catch (err) {
    await qr.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
}

/** A value that `writtenIdentifier` may change or refuse: a character outside printable ASCII, or one the layout forbids in that field. */
function suspectSql(column: string, field: IdentifierField, layout: ImportLayout, p: (value: unknown, cast?: string) => string): string {
  const forbidden = forbiddenAscii(layout.identifiers[field].rules);
  const outside = `${column} ~ '${NOT_PRINTABLE_ASCII_SQL}'`;
  return forbidden ? `(${outside} OR translate(${column}, ${p(forbidden, '::text')}, '') <> ${column})` : `(${outside})`;
}

/** The few distinct values of the selection that JavaScript must judge: document numbers, customer identifiers, billing lines' accounts. */
function suspectsQuery(input: IdentifierCheckInput): { text: string; values: unknown[] } {
  const params = new SqlParams();
  const p = (value: unknown, cast = '') => params.add(value) + cast;
  const where = selectionConditions(params, input.tenantId, input.selection).join(' AND ');
  const suspect = (column: string, field: IdentifierField) => suspectSql(column, field, input.layout, p);
  const text = `
    WITH d AS MATERIALIZED (
      SELECT i.id, i.tenant_id, i.number, p.customer_identifier
      FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
      WHERE ${where}
    )
    SELECT 'PieceRef' AS source, d.number AS value FROM d WHERE ${suspect('d.number', 'PieceRef')}
    UNION
    SELECT 'CompAuxNum', d.customer_identifier FROM d WHERE ${suspect('d.customer_identifier', 'CompAuxNum')}
    UNION
    SELECT 'CompteNum', unnest(l.accounts) FROM d CROSS JOIN LATERAL (
      SELECT array_agg(l.accounting_account) AS accounts FROM invoice_lines l
      WHERE l.tenant_id = d.tenant_id AND l.invoice_id = d.id AND ${suspect('l.accounting_account', 'CompteNum')}
    ) l
    WHERE l.accounts IS NOT NULL`;
  return { text, values: params.values };
}
