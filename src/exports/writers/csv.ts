import type { Writable } from 'node:stream';
import { formatDecimal, parseCalendarDate, type ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import { DelimitedTextWriter, type FieldFormatter } from './delimited';
import { windows1252Bytes } from './windows-1252';

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
    formatDate: (iso) => formatCalendarDate(iso, 'dd/mm/yyyy'),
  },
  'en-GB': {
    separator: ',',
    decimalSeparator: '.',
    formatDate: (iso) => formatCalendarDate(iso, 'yyyy-mm-dd'),
  },
};

/** Date layouts an importer may ask for (DESIGN §17). */
export const CSV_DATE_FORMATS = ['dd/mm/yyyy', 'yyyy-mm-dd', 'ddmmyyyy', 'yyyymmdd'] as const;
export type CsvDateFormat = (typeof CSV_DATE_FORMATS)[number];
export const CSV_SEPARATORS = [';', ',', '\t'] as const;
export const CSV_DECIMAL_SEPARATORS = [',', '.'] as const;
export type CsvEncodingName = 'UTF8_BOM' | 'WINDOWS_1252';

/** A CSV's layout chosen by a profile or a request (DESIGN §17); without it, the locale's dialect in UTF-8 with a BOM. */
export interface CsvFileOptions {
  encoding: CsvEncodingName;
  separator: string;
  decimalSeparator: string;
  dateFormat: CsvDateFormat;
  /** Whether the first line names the columns. */
  header: boolean;
}

export function formatCalendarDate(iso: string, format: CsvDateFormat): string {
  parseCalendarDate(iso);
  const [y, m, d] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  switch (format) {
    case 'dd/mm/yyyy':
      return `${d}/${m}/${y}`;
    case 'yyyy-mm-dd':
      return iso;
    case 'ddmmyyyy':
      return d + m + y;
    case 'yyyymmdd':
      return y + m + d;
    default:
      throw new Error(`Unknown date format: ${String(format)}`);
  }
}

function dialectOf(options: CsvFileOptions): CsvDialect {
  return {
    separator: options.separator,
    decimalSeparator: options.decimalSeparator,
    formatDate: (iso) => formatCalendarDate(iso, options.dateFormat),
  };
}

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

function fieldFormatter<Row>(column: ColumnDef<Row>, locale: ExportLocale, dialect: CsvDialect): FieldFormatter<Row> {
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
  /** A chosen layout; omitted: the locale's dialect, UTF-8 with a BOM, a header line. */
  options?: CsvFileOptions | null;
}

/** The first chunk starts with the BOM (so that Excel reads the accents), header line or not. */
function utf8WithBom(): (text: string) => string {
  let first = true;
  return (text) => {
    if (!first) return text;
    first = false;
    return BOM + text;
  };
}

/**
 * RFC 4180 CSV with CRLF, by default in UTF-8 with a BOM in the locale's
 * dialect; a chosen layout sets the encoding (Windows-1252, transliterated),
 * separators, date format and whether there is a header line.
 * Rows are joined into ~64 KiB chunks; a chunk that the output does not
 * accept right away (write() → false) makes the next writeRow wait for 'drain'.
 */
export class CsvExportWriter<Row> extends DelimitedTextWriter<Row> {
  constructor(opts: CsvWriterOptions<Row>) {
    const dialect = opts.options ? dialectOf(opts.options) : CSV_DIALECTS[opts.locale];
    const { separator } = dialect;
    const header = opts.options?.header === false ? null : opts.columns.map((c) => csvTextField(c.header[opts.locale], separator)).join(separator);
    super(
      opts.output,
      opts.columns.map((c) => fieldFormatter(c, opts.locale, dialect)),
      separator,
      header,
      opts.options?.encoding === 'WINDOWS_1252' ? windows1252Bytes : utf8WithBom(),
    );
  }
}
