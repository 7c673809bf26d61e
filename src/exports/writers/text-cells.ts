import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';

/**
 * How a text output (CSV, FEC, and the delimited or fixed-width importer
 * layouts) writes one cell, by the column's type: the one place where dates,
 * amounts, integers and codes become characters. A text format only says
 * what differs: its decimal separator, its date layout and what it does to
 * free text (quoting, transliteration, padding).
 */

/** Calendar date layouts found in the files accounting programs import. */
export const DATE_LAYOUTS = ['dd/mm/yyyy', 'yyyy-mm-dd', 'yyyymmdd', 'ddmmyyyy', 'ddmmyy'] as const;
export type DateLayout = (typeof DATE_LAYOUTS)[number];

/** `yyyy-mm-dd` → the layout; anything but a calendar date string is refused (a contract breach upstream). */
export function formatCalendarDate(iso: string, layout: DateLayout): string {
  parseCalendarDate(iso);
  const y = iso.slice(0, 4);
  const m = iso.slice(5, 7);
  const d = iso.slice(8, 10);
  switch (layout) {
    case 'dd/mm/yyyy':
      return `${d}/${m}/${y}`;
    case 'yyyy-mm-dd':
      return iso;
    case 'yyyymmdd':
      return y + m + d;
    case 'ddmmyyyy':
      return d + m + y;
    case 'ddmmyy':
      return d + m + y.slice(2);
    default: {
      const never: never = layout;
      throw new Error(`Unknown date layout: ${String(never)}`);
    }
  }
}

export interface TextCellStyle {
  /** The locale the columns are asked their values in (labels of statuses, periods…). */
  locale: ExportLocale;
  /** Between the integer and the decimals of money, decimal and percent cells. */
  decimalSeparator: string;
  dateLayout: DateLayout;
  /** Text and code cells as the format writes them (CSV: formula guard and quotes; FEC: ISO-8859-15 and no separators). */
  text(value: string): string;
}

export type CellFormatter<Row> = (row: Row) => string;

/** An amount as formatCents prints it (`1234.50`, `-0.50`, not `-0.00`). */
const PLAIN_CENTS = /^(?:-(?!0\.00$))?(?:0|[1-9]\d*)\.\d\d$/;

/** The formatter of one column's cells; an empty cell (null) is an empty string in every text format. */
export function textCellFormatter<Row>(column: ColumnDef<Row>, style: TextCellStyle): CellFormatter<Row> {
  const { locale, decimalSeparator, dateLayout } = style;
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : style.text(String(v));
      };
    case 'date':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : formatCalendarDate(v, dateLayout);
      };
    case 'money':
    case 'decimal':
    case 'percent':
      // Percent columns print the rate as stored (`20,00`); the header names it.
      // An amount as formatCents prints it (`1234.50`) only needs its point replaced.
      return (row) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        return column.scale === 2 && PLAIN_CENTS.test(v) ? `${v.slice(0, -3)}${decimalSeparator}${v.slice(-2)}` : formatDecimal(v, column.scale, decimalSeparator);
      };
    case 'integer':
      return (row) => {
        const v = column.value(row, locale);
        if (v === null || v === undefined) return '';
        if (!Number.isSafeInteger(v)) throw new TypeError(`Column ${column.key}: expected an integer, got ${v}`);
        return String(v);
      };
    default: {
      const never: never = column;
      throw new Error(`Unknown column type: ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The same cells, each column remembering its last value and text: where rows
 * repeat a value (the lines of one accounting entry), most cells cost one comparison.
 */
export function rememberingCellFormatter<Row>(column: ColumnDef<Row>, style: TextCellStyle): CellFormatter<Row> {
  const format = textCellFormatter(column, style);
  let last: unknown = undefined;
  let text = '';
  return (row) => {
    const v: unknown = column.value(row, style.locale);
    if (v === last && last !== undefined) return text;
    text = format(row);
    last = v;
    return text;
  };
}

/**
 * A field of a fixed-width layout: `text` as it is (it must already
 * fit: a layout refuses what does not, never cuts silently) and padded to
 * `width` on the side `align` leaves free.
 */
export function fixedWidthField(text: string, width: number, align: 'left' | 'right' = 'left', fill = ' '): string {
  if (text.length > width) throw new RangeError(`${JSON.stringify(text)} does not fit in ${width} characters`);
  return align === 'left' ? text.padEnd(width, fill) : text.padStart(width, fill);
}
