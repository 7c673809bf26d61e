import { ExportFormat, ExportKind } from '../../entities/enums';
import { badInput } from '../../errors';
import type { ColumnType } from '../cells';
import { exportFormat, formatsAccepting } from '../formats';
import type { ExportLocale } from '../labels';
import { ACCOUNTING_ENTRIES_KIND } from './accounting-entries';
import { INVOICE_LINES_KIND } from './invoice-lines';
import { INVOICES_KIND } from './invoices';
import { openKindFile, type ExportKindDefinition, type KindFileArgs } from './kind';
import type { ExportWriter } from '../writers/writer';

export type { BaseTotals, BuiltQuery, ExportKindDefinition, ExportWarningData, KindAttempt, KindFileArgs, Queryable } from './kind';

/**
 * The registry of export kinds: kind → its module. The worker, the writers,
 * the benchmark's COPY baseline and the tests take a kind's SELECT, columns,
 * totals and writer from here; nothing else branches on the kind.
 */
export const EXPORT_KINDS = {
  [ExportKind.INVOICES]: INVOICES_KIND,
  [ExportKind.INVOICE_LINES]: INVOICE_LINES_KIND,
  [ExportKind.ACCOUNTING_ENTRIES]: ACCOUNTING_ENTRIES_KIND,
} as const satisfies { readonly [K in ExportKind]: ExportKindDefinition };

/** The row a kind's file holds (what its writer takes), derived from the registry. */
export type FileRowOf<K extends ExportKind> = (typeof EXPORT_KINDS)[K] extends ExportKindDefinition<any, infer FileRow, any> ? FileRow : never;

export function exportKind(kind: ExportKind): ExportKindDefinition {
  const def: ExportKindDefinition | undefined = EXPORT_KINDS[kind];
  if (!def) throw new Error(`Unknown export kind: ${String(kind)}`);
  return def;
}

/**
 * A kind's file (its name and the writer of its file rows) in a format, as
 * its `openAttempt` opens it: the benchmark's writer baseline and the writer
 * tests go through here, the path production takes.
 */
export function openExportFile<Row = any>(kind: ExportKind, args: KindFileArgs): { fileName: string; writer: ExportWriter<Row> } {
  return openKindFile<Row>(exportKind(kind), args);
}

/** `factures_20261127-2345.xlsx`: the name of a kind's file by its format's rule (stamped on the tenant's wall clock). */
export function exportFileName(kind: ExportKind, format: ExportFormat, locale: ExportLocale, at: Date, timeZone: string): string {
  return exportFormat(format).fileName({ stem: exportKind(kind).fileStem[locale], at, timeZone });
}

/** The formats a kind is written in, its default first (the rest in the format registry's order). */
export function formatsOf(kind: ExportKind): ExportFormat[] {
  const def = exportKind(kind);
  return [def.defaultFormat, ...formatsAccepting(kind).filter((f) => f !== def.defaultFormat)];
}

/**
 * The format a request gets: the one it names if its kind writes it, else the
 * kind's default (XLSX for INVOICES and INVOICE_LINES, FEC for ACCOUNTING_ENTRIES).
 */
export function resolveExportFormat(kind: ExportKind, format: ExportFormat | null | undefined): ExportFormat {
  const formats = formatsOf(kind);
  if (format === null || format === undefined) return formats[0];
  if (!formats.includes(format)) {
    throw badInput(`The ${kind} export is written as ${formats.join(', ')}, not ${format}`);
  }
  return format;
}

/** A column of a kind's file as a client lists it (the profiles' column picker): stable key, header, cell type. */
export interface ExportColumnInfo {
  key: string;
  header: string;
  type: ColumnType;
}

/** Every column of a kind's file, in the file's order, with its header in `locale`. */
export function exportColumns(kind: ExportKind, locale: ExportLocale): ExportColumnInfo[] {
  return exportKind(kind).columns.map((c) => ({ key: c.key, header: c.header[locale], type: c.type }));
}

/** Start-up check (Immich's lesson): every kind has exactly one module, consistent with itself. */
export function checkExportKinds(): void {
  for (const kind of Object.values(ExportKind)) {
    const def = EXPORT_KINDS[kind];
    if (!def) throw new Error(`Export kind ${kind} has no definition in exports/kinds`);
    if (def.kind !== kind) throw new Error(`Export kind ${kind} is registered with the definition of ${def.kind}`);
    if (!formatsAccepting(kind).includes(def.defaultFormat)) throw new Error(`Export kind ${kind}: its default format ${def.defaultFormat} does not accept it (exports/formats.ts)`);
    const keys = def.columns.map((c) => c.key);
    if (new Set(keys).size !== keys.length) throw new Error(`Export kind ${kind} has two columns with the same key`);
  }
  for (const kind of Object.keys(EXPORT_KINDS)) {
    if (!Object.values(ExportKind).includes(kind as ExportKind)) throw new Error(`exports/kinds registers ${kind}, which is not an ExportKind`);
  }
}
checkExportKinds();
