import type { Writable } from 'node:stream';
import { ExportFormat, ExportKind } from '../../entities/enums';
import { columnsFor, DATA_SHEET_NAMES, type ColumnDef, type ExportRow, type ExportRowByKind } from '../columns';
import { extensionFor } from '../file-name';
import type { ExportLocale } from '../labels';
import type { ExportSummary } from '../rows';
import { CsvExportWriter } from './csv';
import { XlsxExportWriter } from './xlsx';

/**
 * Turns a stream of rows into the bytes of a file, written into `output`.
 * Used as: `for await (const row of rows) await writer.writeRow(row);
 * await writer.finish(summary)`, with `output` piped to the upload.
 * Memory stays flat: `writeRow` waits while the output (and, for XLSX, the
 * zip compressor) holds more than a bounded amount of unread data.
 */
export interface ExportWriter<Row> {
  /** Resolves when the row is accepted; waits (backpressure) while the output is full. Rejects once the output failed or closed. */
  writeRow(row: Row): Promise<void>;
  /**
   * Writes the trailer (XLSX: the `Résumé` sheet from the summary; CSV: none)
   * and ends `output`; resolves when everything has been written into it
   * (its 'finish'), so the consumer must keep reading until then.
   */
  finish(summary: ExportSummary): Promise<void>;
  /** Stops writing and destroys `output` with `reason` (cancellation, failed source). Idempotent. */
  abort(reason?: Error): void;
  /** Data rows accepted so far (header and summary excluded). */
  readonly rowCount: number;
}

export interface ExportWriterOptions<K extends ExportKind = ExportKind> {
  kind: K;
  format: ExportFormat;
  locale: ExportLocale;
  output: Writable;
  /** XLSX: data rows per sheet before continuing on `<name> (2)`; default Excel's 1,048,576 rows minus the header. */
  maxRowsPerSheet?: number;
  /** IANA zone of the tenant, for the instants of the `Résumé` sheet; default `Europe/Paris`. */
  timeZone?: string;
}

export const EXCEL_MAX_DATA_ROWS = 1_048_575;
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

export function createExportWriter<K extends ExportKind>(
  opts: ExportWriterOptions<K>,
): ExportWriter<ExportRowByKind[K]>;
export function createExportWriter(opts: ExportWriterOptions): ExportWriter<ExportRow>;
export function createExportWriter(opts: ExportWriterOptions): ExportWriter<ExportRow> {
  // The overloads tie the row type to the kind; inside, rows are the union.
  const columns = columnsFor(opts.kind) as readonly ColumnDef<ExportRow>[];
  switch (opts.format) {
    case ExportFormat.XLSX: {
      const maxRowsPerSheet = opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
      if (!Number.isInteger(maxRowsPerSheet) || maxRowsPerSheet < 1 || maxRowsPerSheet > EXCEL_MAX_DATA_ROWS) {
        throw new RangeError(`maxRowsPerSheet must be an integer from 1 to ${EXCEL_MAX_DATA_ROWS}`);
      }
      return new XlsxExportWriter<ExportRow>({
        columns,
        sheetName: DATA_SHEET_NAMES[opts.kind][opts.locale],
        locale: opts.locale,
        output: opts.output,
        maxRowsPerSheet,
        timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE,
      });
    }
    case ExportFormat.CSV:
      return new CsvExportWriter<ExportRow>({ columns, locale: opts.locale, output: opts.output });
    default:
      throw new Error(`Unknown export format: ${String(opts.format)}`);
  }
}

const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  [ExportFormat.XLSX]: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  [ExportFormat.CSV]: 'text/csv; charset=utf-8',
};

export function contentTypeFor(format: ExportFormat): string {
  const type = CONTENT_TYPES[format];
  if (!type) throw new Error(`Unknown export format: ${String(format)}`);
  return type;
}

export { extensionFor };
