import type { Writable } from 'node:stream';
import type { ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import { DelimitedTextWriter } from './delimited';
import { textCellFormatter, type DateLayout } from './text-cells';

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
}

/**
 * RFC 4180 CSV in UTF-8 with a BOM (so that Excel reads the accents) and CRLF.
 * Rows are joined into ~64 KiB chunks; a chunk that the output does not
 * accept right away (write() → false) makes the next writeRow wait for 'drain'.
 */
export class CsvExportWriter<Row> extends DelimitedTextWriter<Row> {
  constructor(opts: CsvWriterOptions<Row>) {
    const { separator, decimalSeparator, dateLayout } = CSV_DIALECTS[opts.locale];
    const style = { locale: opts.locale, decimalSeparator, dateLayout, text: (v: string) => csvTextField(v, separator) };
    super(
      opts.output,
      opts.columns.map((c) => textCellFormatter(c, style)),
      separator,
      BOM + opts.columns.map((c) => csvTextField(c.header[opts.locale], separator)).join(separator),
      (text) => text,
    );
  }
}
