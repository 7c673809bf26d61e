import type { Writable } from 'node:stream';
import type { ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import { DelimitedTextWriter } from './delimited';
import { textCellFormatter, type DateLayout } from './text-cells';
import { windows1252Bytes } from './windows-1252';

/**
 * How each locale writes a CSV that its spreadsheet opens as columns: a
 * French Excel expects `;` and decimal commas, an English one `,` and points.
 */
export interface CsvDialect {
  separator: string;
  decimalSeparator: string;
  dateLayout: DateLayout;
}

export const CSV_DIALECTS: Readonly<Record<ExportLocale, CsvDialect>> = {
  'fr-FR': {
    separator: ';',
    decimalSeparator: ',',
    dateLayout: 'dd/mm/yyyy',
  },
  'en-GB': {
    separator: ',',
    decimalSeparator: '.',
    dateLayout: 'yyyy-mm-dd',
  },
};

/** Date layouts an importer may ask for (docs/profiles.md). */
export const CSV_DATE_FORMATS = ['dd/mm/yyyy', 'yyyy-mm-dd', 'ddmmyyyy', 'yyyymmdd'] as const;
export type CsvDateFormat = (typeof CSV_DATE_FORMATS)[number] & DateLayout;
export const CSV_SEPARATORS = [';', ',', '\t'] as const;
export const CSV_DECIMAL_SEPARATORS = [',', '.'] as const;
export type CsvEncodingName = 'UTF8_BOM' | 'WINDOWS_1252';

/** A CSV's layout chosen by a profile or a request (docs/profiles.md); without it, the locale's dialect in UTF-8 with a BOM. */
export interface CsvFileOptions {
  encoding: CsvEncodingName;
  separator: string;
  decimalSeparator: string;
  dateFormat: CsvDateFormat;
  /** Whether the first line names the columns. */
  header: boolean;
}

function dialectOf(options: CsvFileOptions): CsvDialect {
  return {
    separator: options.separator,
    decimalSeparator: options.decimalSeparator,
    dateLayout: options.dateFormat,
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
    const { separator, decimalSeparator, dateLayout } = dialect;
    const style = { locale: opts.locale, decimalSeparator, dateLayout, text: (v: string) => csvTextField(v, separator) };
    const header = opts.options?.header === false ? null : opts.columns.map((c) => csvTextField(c.header[opts.locale], separator)).join(separator);
    super(
      opts.output,
      opts.columns.map((c) => textCellFormatter(c, style)),
      separator,
      header,
      opts.options?.encoding === 'WINDOWS_1252' ? windows1252Bytes : utf8WithBom(),
    );
  }
}
