import type { Writable } from 'node:stream';
import { IMPORT_LAYOUTS } from '../accounting/layouts';
import type { LayoutOptions } from '../accounting/layouts/common';
import { ExportFormat, ExportKind } from '../entities/enums';
import { chooseColumns, type FileLayout } from '../profiles/file-layout';
import type { ColumnDef } from './cells';
import type { ExportLocale } from './labels';
import { CsvExportWriter } from './writers/csv';
import { FecExportWriter } from './writers/fec';
import { LayoutFileWriter } from './writers/layout';
import type { ExportWriter } from './writers/writer';
import { XlsxExportWriter } from './writers/xlsx';
import { zonedDateTimeParts } from './zoned-time';

/**
 * The registry of file formats: format → its extension, content type,
 * writer, the kinds that accept it and its file-name rule. The worker, the
 * kinds, the request's validation and the tests ask it; nothing else
 * branches on the format. A new format is one writer module (writers/,
 * its cells from writers/text-cells.ts when it is text) and one entry here
 * (plus its `ExportFormat` value and the migration of the column's check).
 */

export const EXCEL_MAX_DATA_ROWS = 1_048_575;
export const DEFAULT_TIME_ZONE = 'Europe/Paris';

/** What a kind hands a format's writer: its file's columns and names, and where to write. */
export interface FileWriterOptions<Row> {
  columns: readonly ColumnDef<Row>[];
  /** XLSX data sheet name, in the export's locale. */
  sheetName: string;
  locale: ExportLocale;
  output: Writable;
  /** XLSX: data rows per sheet before continuing on `<name> (2)`; default Excel's 1,048,576 rows minus the header. */
  maxRowsPerSheet?: number;
  /** IANA zone of the tenant, for instants printed in the file; default `Europe/Paris`. */
  timeZone?: string;
  /** The export's chosen columns, headers and CSV layout (invoice_exports.options), for the formats that take a choice. */
  layout?: FileLayout | null;
  /** An importer layout's accounting settings (ACCOUNTING_ENTRIES only). */
  accounting?: LayoutOptions;
}

/** What a file-name rule may use. */
export interface FileNameFacts {
  /** The kind's stem in the export's locale (`factures`). */
  stem: string;
  /** When the export was requested, printed on the tenant's wall clock. */
  at: Date;
  timeZone: string;
  /**
   * A name the law fixes, when the kind establishes it (the FEC's
   * `<SIREN>FEC<AAAAMMJJ>.txt`: a valid SIREN, one fiscal year). Absent or
   * null: the stamped name. Only a format whose rule uses it reads it.
   */
  statutoryName?: string | null;
}

export interface FormatDefinition {
  readonly format: ExportFormat;
  /** Without the dot. */
  readonly extension: string;
  readonly contentType: string;
  /** Kinds that can be written in this format (`EVERY_KIND` for a tabular format: any kind has columns). */
  readonly kinds: readonly ExportKind[];
  /** Whether an export's column choice (profiles) applies: the tabular formats; a fixed layout keeps its fields. */
  readonly columnChoice: boolean;
  createWriter<Row>(opts: FileWriterOptions<Row>): ExportWriter<Row>;
  fileName(facts: FileNameFacts): string;
  /** The content type when the export's layout changes it (a CSV in Windows-1252). */
  contentTypeWith?(layout: FileLayout): string | null;
}

/** `<stem>_<yyyymmdd-HHMM>.<ext>` on the wall clock of the tenant (`factures_20261127-2345.xlsx`). */
export function stampedFileName(stem: string, extension: string, at: Date, timeZone: string): string {
  const p = zonedDateTimeParts(at, timeZone);
  const stamp = `${p.year}${pad2(p.month)}${pad2(p.day)}-${pad2(p.hour)}${pad2(p.minute)}`;
  return `${stem}_${stamp}.${extension}`;
}
const pad2 = (n: number) => String(n).padStart(2, '0');

/** Tabular formats write any kind's columns: a new kind needs no entry here. */
const EVERY_KIND: readonly ExportKind[] = Object.values(ExportKind);

const stamped = (extension: string) => (f: FileNameFacts) => stampedFileName(f.stem, extension, f.at, f.timeZone);

export const EXPORT_FORMATS: { readonly [F in ExportFormat]: FormatDefinition } = {
  [ExportFormat.XLSX]: {
    format: ExportFormat.XLSX,
    extension: 'xlsx',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    kinds: EVERY_KIND,
    columnChoice: true,
    createWriter(opts) {
      const maxRowsPerSheet = opts.maxRowsPerSheet ?? EXCEL_MAX_DATA_ROWS;
      if (!Number.isInteger(maxRowsPerSheet) || maxRowsPerSheet < 1 || maxRowsPerSheet > EXCEL_MAX_DATA_ROWS) {
        throw new RangeError(`maxRowsPerSheet must be an integer from 1 to ${EXCEL_MAX_DATA_ROWS}`);
      }
      return new XlsxExportWriter({
        columns: opts.columns,
        sheetName: opts.sheetName,
        locale: opts.locale,
        output: opts.output,
        maxRowsPerSheet,
        timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE,
      });
    },
    fileName: stamped('xlsx'),
  },
  [ExportFormat.CSV]: {
    format: ExportFormat.CSV,
    extension: 'csv',
    contentType: 'text/csv; charset=utf-8',
    kinds: EVERY_KIND,
    columnChoice: true,
    createWriter: (opts) => new CsvExportWriter({ columns: opts.columns, locale: opts.locale, output: opts.output, options: opts.layout?.csv }),
    fileName: stamped('csv'),
    contentTypeWith: (layout) => (layout.csv?.encoding === 'WINDOWS_1252' ? 'text/csv; charset=windows-1252' : null),
  },
  [ExportFormat.FEC]: {
    format: ExportFormat.FEC,
    extension: 'txt',
    contentType: 'text/plain; charset=ISO-8859-15',
    kinds: [ExportKind.ACCOUNTING_ENTRIES],
    columnChoice: false,
    createWriter: (opts) => new FecExportWriter({ columns: opts.columns, output: opts.output }),
    // `<SIREN>FEC<AAAAMMJJ>.txt` (LPF art. A47 A-1) when the kind vouches for it.
    fileName: (f) => f.statutoryName ?? stamped('txt')(f),
  },
  [ExportFormat.QUADRA]: importerFormat(ExportFormat.QUADRA, 'txt', 'us-ascii'),
  [ExportFormat.XIMPORT]: importerFormat(ExportFormat.XIMPORT, 'TXT', 'windows-1252'),
  [ExportFormat.EBP]: importerFormat(ExportFormat.EBP, 'txt', 'windows-1252'),
  [ExportFormat.CEGID]: importerFormat(ExportFormat.CEGID, 'txt', 'windows-1252'),
  [ExportFormat.SAGE100]: importerFormat(ExportFormat.SAGE100, 'txt', 'utf-8'),
};

/**
 * An accounting program's importer layout (accounting/layouts, docs/accounting.md):
 * accounting entries only, its own fixed fields, its fixed name if the
 * program requires one, written by the layout's writer, which checks every
 * identifier and label as it goes.
 */
function importerFormat(format: ExportFormat, extension: string, charset: string): FormatDefinition {
  const layout = IMPORT_LAYOUTS[format];
  if (!layout) throw new Error(`No importer layout for ${format} (accounting/layouts)`);
  return {
    format,
    extension,
    contentType: `text/plain; charset=${charset}`,
    kinds: [ExportKind.ACCOUNTING_ENTRIES],
    columnChoice: false,
    createWriter<Row>(opts: FileWriterOptions<Row>): ExportWriter<Row> {
      if (!opts.accounting) throw new Error(`The ${format} layout needs the accounting settings`);
      return new LayoutFileWriter(layout, opts.accounting, opts.output) as unknown as ExportWriter<Row>;
    },
    fileName: (f) => layout.fixedFileName ?? stampedFileName(f.stem, extension, f.at, f.timeZone),
  };
}

/** A format's writer over a kind's columns, with the export's column choice where the format takes one. */
export function createFormatWriter<Row>(format: ExportFormat, opts: FileWriterOptions<Row>): ExportWriter<Row> {
  const def = exportFormat(format);
  const columns = opts.layout?.columns && def.columnChoice ? chooseColumns(opts.columns, opts.layout.columns) : opts.columns;
  return def.createWriter<Row>({ ...opts, columns });
}

export function exportFormat(format: ExportFormat): FormatDefinition {
  const def = EXPORT_FORMATS[format];
  if (!def) throw new Error(`Unknown export format: ${String(format)}`);
  return def;
}

/** `xlsx` / `csv` / `txt` (no dot). */
export const extensionFor = (format: ExportFormat): string => exportFormat(format).extension;
export function contentTypeFor(format: ExportFormat, layout?: FileLayout | null): string {
  const def = exportFormat(format);
  return (layout && def.contentTypeWith?.(layout)) || def.contentType;
}

/** Formats a kind accepts, in the registry's order. */
export function formatsAccepting(kind: ExportKind): ExportFormat[] {
  return Object.values(EXPORT_FORMATS)
    .filter((f) => f.kinds.includes(kind))
    .map((f) => f.format);
}

/** Start-up check: every format has one consistent entry. */
export function checkExportFormats(): void {
  for (const format of Object.values(ExportFormat)) {
    const def = EXPORT_FORMATS[format];
    if (!def) throw new Error(`Export format ${format} has no entry in exports/formats.ts`);
    if (def.format !== format) throw new Error(`Export format ${format} is registered with the entry of ${def.format}`);
    if (!/^[A-Za-z0-9]+$/.test(def.extension)) throw new Error(`Export format ${format}: bad extension ${JSON.stringify(def.extension)}`);
    if (!def.kinds.length) throw new Error(`Export format ${format} is accepted by no kind`);
  }
}
checkExportFormats();
