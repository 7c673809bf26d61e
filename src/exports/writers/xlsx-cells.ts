import { parseCalendarDate, percentToFraction, type ColumnDef, type ColumnType } from '../cells';
import type { ExportLocale } from '../labels';

/*
 * SpreadsheetML cells as text: values, escaping, and one renderer per column
 * that turns a row's value into its `<c>` element (no object per cell).
 */

/** Excel's limit on the characters of one cell; longer text makes Excel "repair" the file. */
export const EXCEL_MAX_CELL_CHARS = 32_767;

export const NUM_FMT = {
  date: 'dd/mm/yyyy',
  dateTime: 'dd/mm/yyyy hh:mm',
  money: '#,##0.00',
  integer: '0',
  text: '@',
} as const;

/** How a column's cells look; number formats are locale-free (Excel shows the reader's separators). */
export function numFmtFor(type: ColumnType, scale = 2): string {
  switch (type) {
    case 'date':
      return NUM_FMT.date;
    case 'money':
      return NUM_FMT.money;
    case 'decimal':
      return scale > 0 ? `#,##0.${'0'.repeat(scale)}` : '#,##0';
    case 'percent':
      return scale > 0 ? `0.${'0'.repeat(scale)}%` : '0%';
    case 'integer':
      return NUM_FMT.integer;
    case 'text':
    case 'code':
      return NUM_FMT.text;
  }
}

/** Days from Excel's epoch (1899-12-30) to 1970-01-01. */
const EXCEL_EPOCH_OFFSET_DAYS = 25569;
const MS_PER_DAY = 86_400_000;

/** `yyyy-mm-dd` → Excel's day number for that calendar date: pure arithmetic, no time zone involved. */
export function calendarDateToSerial(value: string): number {
  const { year, month, day } = parseCalendarDate(value);
  return Date.UTC(year, month - 1, day) / MS_PER_DAY + EXCEL_EPOCH_OFFSET_DAYS;
}

/** A wall-clock date and time (its fields, no zone) → Excel's serial number. */
export function wallClockToSerial(p: { year: number; month: number; day: number; hour: number; minute: number; second: number }): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / MS_PER_DAY + EXCEL_EPOCH_OFFSET_DAYS;
}

const XML_DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** A decimal string as an XML number, written as PostgreSQL printed it: no float on the way. */
export function xmlNumber(key: string, value: string): string {
  if (!XML_DECIMAL.test(value)) {
    throw new TypeError(`Column ${key}: expected a decimal string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Text cut to Excel's cell limit without splitting a surrogate pair. */
export function textToCell(value: string): string {
  if (value.length <= EXCEL_MAX_CELL_CHARS) return value;
  let end = EXCEL_MAX_CELL_CHARS - 1;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${value.slice(0, end)}…`;
}

// Characters XML 1.0 cannot carry are dropped; `&<>` are escaped (and `"`,
// for attribute values); CR becomes a character reference, or XML parsers
// would turn CRLF into LF; a literal `_xHHHH_` is escaped as `_x005F_xHHHH_`,
// or Excel would decode it as a character (ECMA-376 ST_Xstring).
// eslint-disable-next-line no-control-regex
const XML_SPECIAL = /[&<>"\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|_x[0-9A-Fa-f]{4}_/;
// eslint-disable-next-line no-control-regex
const XML_SPECIAL_ALL = /[&<>"\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|_(?=x[0-9A-Fa-f]{4}_)/g;
function xmlEscapeChar(c: string): string {
  switch (c) {
    case '&':
      return '&amp;';
    case '<':
      return '&lt;';
    case '>':
      return '&gt;';
    case '"':
      return '&quot;';
    case '\r':
      return '&#13;';
    case '_':
      return '_x005F_';
    default:
      return '';
  }
}

/** Text escaped for XML content or a double-quoted attribute. */
export function xmlEscape(text: string): string {
  return XML_SPECIAL.test(text) ? text.replace(XML_SPECIAL_ALL, xmlEscapeChar) : text;
}

/** `<t>` content for an inline string. */
export function xmlText(value: string): string {
  const text = textToCell(value);
  const escaped = xmlEscape(text);
  // Leading or trailing blanks are kept only with xml:space="preserve".
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  return first <= 32 || last <= 32 ? `<t xml:space="preserve">${escaped}</t>` : `<t>${escaped}</t>`;
}

/** 1 → A, 27 → AA. */
export function columnLetters(n: number): string {
  let s = '';
  for (let x = n; x > 0; x = Math.floor((x - 1) / 26)) s = String.fromCharCode(65 + ((x - 1) % 26)) + s;
  return s;
}

/** An inline-string cell: never a formula, so `=HYPERLINK(…)` stays text. */
export function inlineStringCell(ref: string, styleId: number, value: string): string {
  return `<c r="${ref}" s="${styleId}" t="inlineStr"><is>${xmlText(value)}</is></c>`;
}

/** A numeric cell; `value` is already a valid XML number. */
export function numberCell(ref: string, styleId: number, value: string): string {
  return `<c r="${ref}" s="${styleId}"><v>${value}</v></c>`;
}

/**
 * Renders one column's cell for a row: the `<c>` element without its
 * reference (cells follow each other; writeRow adds `r` to a cell after an
 * empty one), or '' for an empty cell.
 */
export type CellRenderer<Row> = (row: Row) => string;

export function cellRenderer<Row>(column: ColumnDef<Row>, styleId: number, locale: ExportLocale): CellRenderer<Row> {
  // Constant pieces around the value, built once per column.
  const numberOpen = `<c s="${styleId}"><v>`;
  const numberEnd = '</v></c>';
  const textOpen = `<c s="${styleId}" t="inlineStr"><is>`;
  const textEnd = '</is></c>';
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : textOpen + xmlText(typeof v === 'string' ? v : String(v)) + textEnd;
      };
    case 'date': {
      // Rows of an export share few dates: the last conversion is kept.
      let lastDate = '';
      let lastCell = '';
      return (row) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        if (v !== lastDate) {
          lastCell = numberOpen + calendarDateToSerial(v) + numberEnd;
          lastDate = v;
        }
        return lastCell;
      };
    }
    case 'money':
    case 'decimal':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : numberOpen + xmlNumber(column.key, v) + numberEnd;
      };
    case 'percent':
      // Stored as a fraction (20.00 → 0.2000) shown `20.00%`, so that Excel computes with it.
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : numberOpen + xmlNumber(column.key, percentToFraction(v)) + numberEnd;
      };
    case 'integer':
      return (row) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
        return numberOpen + v + numberEnd;
      };
    default: {
      const never: never = column;
      throw new Error(`Unknown column type: ${JSON.stringify(never)}`);
    }
  }
}
