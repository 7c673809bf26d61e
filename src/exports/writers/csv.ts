import type { Writable } from 'node:stream';
import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import { DelimitedTextWriter, type FieldFormatter } from './delimited';

/**
 * How each locale writes a CSV that its spreadsheet opens as columns: a
 * French Excel expects `;` and decimal commas, an English one `,` and points.
 */
export interface CsvDialect {
  separator: string;
  decimalSeparator: string;
  /** `yyyy-mm-dd` → the locale's date. */
  formatDate(isoDate: string): string;
}

export const CSV_DIALECTS: Readonly<Record<ExportLocale, CsvDialect>> = {
  'fr-FR': {
    separator: ';',
    decimalSeparator: ',',
    formatDate: (iso) => {
      parseCalendarDate(iso);
      return `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;
    },
  },
  'en-GB': {
    separator: ',',
    decimalSeparator: '.',
    formatDate: (iso) => {
      parseCalendarDate(iso);
      return iso;
    },
  },
};

const BOM = '\uFEFF';
/** A spreadsheet runs a cell starting with one of these as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text field as a spreadsheet should show it: guarded against formulas, quoted per RFC 4180. */
export function csvTextField(value: string, separator: string): string {
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  if (text.includes('"')) return `"${text.replace(/"/g, '""')}"`;
  if (text.includes(separator) || text.includes('\n') || text.includes('\r')) return `"${text}"`;
  return text;
}

function fieldFormatter<Row>(column: ColumnDef<Row>, locale: ExportLocale): FieldFormatter<Row> {
  const dialect = CSV_DIALECTS[locale];
  const { separator, decimalSeparator } = dialect;
  switch (column.type) {
    case 'text':
    case 'code':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : csvTextField(String(v), separator);
      };
    case 'date':
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : dialect.formatDate(v);
      };
    case 'money':
    case 'decimal':
    case 'percent':
      // Percent columns print the rate as stored (`20,00`); the header names it.
      return (row) => {
        const v = column.value(row, locale);
        return v === null || v === undefined ? '' : formatDecimal(v, column.scale, decimalSeparator);
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

export interface CsvWriterOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  locale: ExportLocale;
  output: Writable;
}

/**
 * RFC 4180 CSV in UTF-8 with a BOM (so that Excel reads the accents) and CRLF.
 * Rows are joined into ~64 KiB chunks; a chunk that the output does not
 * accept right away (write() → false) makes the next writeRow wait for 'drain'.
 */
export class CsvExportWriter<Row> extends DelimitedTextWriter<Row> {
  constructor(opts: CsvWriterOptions<Row>) {
    const separator = CSV_DIALECTS[opts.locale].separator;
    super(
      opts.output,
      opts.columns.map((c) => fieldFormatter(c, opts.locale)),
      separator,
      BOM + opts.columns.map((c) => csvTextField(c.header[opts.locale], separator)).join(separator),
      (text) => text,
    );
  }
}
