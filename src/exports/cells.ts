import type { ExportLocale, Localized } from './labels';

/**
 * The columns of each export kind, defined once and used by every writer
 * (XLSX, CSV, FEC…). Each kind (exports/kinds/*) lists its columns; adding a
 * column = one entry there (`column(…)`: its SQL, headers, cell type and
 * width together), from which the kind's SELECT list and row type derive.
 *
 * What a column's `value` returns depends on its `type`; writers format it:
 * - `text`   free text (names, labels, notes): a string cell / a guarded CSV field
 * - `code`   an identifier that looks numeric but is not (`000417`): always text
 * - `date`   a calendar date `yyyy-mm-dd` (no time zone)
 * - `money`  a decimal string as PostgreSQL prints it (`-500.50`), 2 decimals
 * - `decimal` a decimal string printed with `scale` decimals (quantity: 3)
 * - `percent` a decimal string in percent (`20.00` = 20 %), 2 decimals
 * - `integer` a JS number (safe integer)
 * Decimals stay strings end to end: nothing here does arithmetic on floats.
 */
export type ColumnType = 'text' | 'code' | 'date' | 'money' | 'decimal' | 'integer' | 'percent';

interface ColumnBase {
  /** Stable identifier; for money columns it is also the row field holding the amount. */
  readonly key: string;
  readonly header: Localized;
  /** Width in characters in XLSX (writers widen it to fit the header). */
  readonly width: number;
  /** Left out of a FEC file (which has exactly its 18 fields), kept in CSV and XLSX. */
  readonly notInFec?: true;
}
export interface TextColumn<Row> extends ColumnBase {
  readonly type: 'text' | 'code';
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface DateColumn<Row> extends ColumnBase {
  readonly type: 'date';
  /** `yyyy-mm-dd` */
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface DecimalColumn<Row> extends ColumnBase {
  readonly type: 'money' | 'decimal' | 'percent';
  /** Decimals printed; money and percent: 2. */
  readonly scale: number;
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface IntegerColumn<Row> extends ColumnBase {
  readonly type: 'integer';
  readonly value: (row: Row, locale: ExportLocale) => number | null;
}
export type ColumnDef<Row> = TextColumn<Row> | DateColumn<Row> | DecimalColumn<Row> | IntegerColumn<Row>;

/** Alias → SQL expression over the kind's tables (`i` invoices, `p` payers, `l` invoice lines). */
export type SelectMap<Fields> = { readonly [F in keyof Fields]-?: string };

/**
 * A column read straight from the kind's SELECT: `Fields` are the row fields
 * its value reads, each with its SQL expression. The key is the column's
 * stable camelCase name (what a profile lists).
 */
export type SqlColumn<Fields> = ColumnDef<Fields> & { readonly select: SelectMap<Fields> };

/** One column entry: `column<{ amountDue: string }>({ key: 'amountDue', select: { amountDue: 'i.amount_due' }, … })`. */
export function column<Fields>(def: SqlColumn<Fields>): SqlColumn<Fields> {
  return def;
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type FieldsOf<C> = C extends { readonly select: SelectMap<infer F> } ? F : never;

/** The row a kind's SELECT streams, derived from its columns (plus any fields of its own). */
export type RowOf<Columns extends readonly { readonly select: object }[]> = {
  [K in keyof UnionToIntersection<FieldsOf<Columns[number]>>]: UnionToIntersection<FieldsOf<Columns[number]>>[K];
};

/**
 * `expr AS "alias", …` for every field the columns (and `extra`) read, each
 * once, in order. Two columns reading one alias must agree on its SQL.
 */
export function selectList(columns: readonly { readonly select: object }[], extra: Readonly<Record<string, string>> = {}): string {
  const fields = new Map<string, string>();
  const add = (alias: string, expr: string) => {
    const known = fields.get(alias);
    if (known !== undefined && known !== expr) throw new Error(`The field "${alias}" is selected as ${known} and as ${expr}`);
    fields.set(alias, expr);
  };
  for (const c of columns) for (const [alias, expr] of Object.entries(c.select)) add(alias, expr as string);
  for (const [alias, expr] of Object.entries(extra)) add(alias, expr);
  return [...fields].map(([alias, expr]) => `${expr} AS "${alias}"`).join(', ');
}

// ---------------------------------------------------------------------------
// Cell value helpers shared by the writers (strings in, strings out).

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `yyyy-mm-dd` → its parts; anything else (a JS Date, a timestamp) is a contract breach. */
export function parseCalendarDate(value: string): { year: number; month: number; day: number } {
  const m = typeof value === 'string' ? DATE_RE.exec(value) : null;
  if (!m) {
    throw new TypeError(`Expected a calendar date "yyyy-mm-dd", got ${describe(value)}`);
  }
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * A decimal string printed with exactly `scale` decimals and the given
 * decimal separator, by string manipulation only (no float): `-500.5` →
 * `-500,50`. Extra decimals are rounded half away from zero, as PostgreSQL
 * rounds numerics.
 */
export function formatDecimal(value: string, scale: number, decimalSeparator: string): string {
  const m = typeof value === 'string' ? DECIMAL_RE.exec(value.trim()) : null;
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new TypeError(`Expected a decimal string, got ${describe(value)}`);
  }
  const negative = m[1] === '-';
  let int = m[2].replace(/^0+(?=\d)/, '') || '0';
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    const roundUp = frac.charCodeAt(scale) >= 53; /* '5' */
    frac = frac.slice(0, scale);
    if (roundUp) {
      const digits = (BigInt(int + frac) + 1n).toString().padStart(int.length + scale, '0');
      int = digits.slice(0, digits.length - scale) || '0';
      frac = digits.slice(digits.length - scale);
    }
  } else {
    frac = frac.padEnd(scale, '0');
  }
  const isZero = /^0*$/.test(int) && /^0*$/.test(frac);
  const sign = negative && !isZero ? '-' : '';
  return scale > 0 ? `${sign}${int}${decimalSeparator}${frac}` : `${sign}${int}`;
}

/** `20.00` (percent) → `0.2000` (fraction), moving the point two places: still no float. */
export function percentToFraction(value: string): string {
  const m = typeof value === 'string' ? DECIMAL_RE.exec(value.trim()) : null;
  if (!m) throw new TypeError(`Expected a decimal string, got ${describe(value)}`);
  const int = (m[2] || '0').padStart(3, '0');
  return `${m[1] === '-' ? '-' : ''}${int.slice(0, -2)}.${int.slice(-2)}${m[3] ?? ''}`;
}

function describe(value: unknown): string {
  return value instanceof Date ? `a Date (${value.toISOString()})` : JSON.stringify(value) ?? String(value);
}
