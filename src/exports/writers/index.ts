import type { Writable } from 'node:stream';
import type { ExportFormat, ExportKind } from '../../entities/enums';
import type { ExportRow, ExportRowByKind } from '../columns';
import { extensionFor } from '../file-name';
import { exportKind } from '../kinds';
import type { ExportLocale } from '../labels';
import { createWriterFor, type ExportWriter } from './create';

export { contentTypeFor, createWriterFor, DEFAULT_TIME_ZONE, EXCEL_MAX_DATA_ROWS, type ExportWriter } from './create';

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

/** The writer of a kind's file rows (its columns, its sheet name) in a format. */
export function createExportWriter<K extends ExportKind>(
  opts: ExportWriterOptions<K>,
): ExportWriter<ExportRowByKind[K]>;
export function createExportWriter(opts: ExportWriterOptions): ExportWriter<ExportRow>;
export function createExportWriter(opts: ExportWriterOptions): ExportWriter<ExportRow> {
  const def = exportKind(opts.kind);
  return createWriterFor<ExportRow>({
    columns: def.columns,
    sheetName: def.sheetName[opts.locale],
    format: opts.format,
    locale: opts.locale,
    output: opts.output,
    maxRowsPerSheet: opts.maxRowsPerSheet,
    timeZone: opts.timeZone,
  });
}

export { extensionFor };
