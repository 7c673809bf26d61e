import type { Writable } from 'node:stream';
import { ExportFormat } from '../../entities/enums';
import type { ColumnDef } from '../cells';
import type { ExportLocale } from '../labels';
import type { ExportSummary } from '../rows';
import { CsvExportWriter } from './csv';
import { FecExportWriter } from './fec';
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

export const EXCEL_MAX_DATA_ROWS = 1_048_575;
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

export interface WriterForOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  /** XLSX data sheet name, in the export's locale. */
  sheetName: string;
  format: ExportFormat;
  locale: ExportLocale;
  output: Writable;
  maxRowsPerSheet?: number;
  timeZone?: string;
}

/** The writer of a format for a list of columns (the kind's registry entry gives them). */
export function createWriterFor<Row>(opts: WriterForOptions<Row>): ExportWriter<Row> {
  switch (opts.format) {
    case ExportFormat.XLSX: {
      const maxRowsPerSheet = opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
      if (!Number.isInteger(maxRowsPerSheet) || maxRowsPerSheet < 1 || maxRowsPerSheet > EXCEL_MAX_DATA_ROWS) {
        throw new RangeError(`maxRowsPerSheet must be an integer from 1 to ${EXCEL_MAX_DATA_ROWS}`);
      }
      return new XlsxExportWriter<Row>({
        columns: opts.columns,
        sheetName: opts.sheetName,
        locale: opts.locale,
        output: opts.output,
        maxRowsPerSheet,
        timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE,
      });
    }
    case ExportFormat.CSV:
      return new CsvExportWriter<Row>({ columns: opts.columns, locale: opts.locale, output: opts.output });
    case ExportFormat.FEC:
      return new FecExportWriter<Row>({ columns: opts.columns, output: opts.output });
    default:
      throw new Error(`Unknown export format: ${String(opts.format)}`);
  }
}

const CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = {
  [ExportFormat.XLSX]: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  [ExportFormat.CSV]: 'text/csv; charset=utf-8',
  [ExportFormat.FEC]: 'text/plain; charset=ISO-8859-15',
  [ExportFormat.QUADRA]: 'text/plain; charset=us-ascii',
  [ExportFormat.XIMPORT]: 'text/plain; charset=windows-1252',
  [ExportFormat.EBP]: 'text/plain; charset=windows-1252',
  [ExportFormat.CEGID]: 'text/plain; charset=windows-1252',
  [ExportFormat.SAGE100]: 'text/plain; charset=utf-8',
};

export function contentTypeFor(format: ExportFormat): string {
  const type = CONTENT_TYPES[format];
  if (!type) throw new Error(`Unknown export format: ${String(format)}`);
  return type;
}
