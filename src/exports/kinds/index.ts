import { ExportFormat, ExportKind } from '../../entities/enums';
import { badInput } from '../../errors';
import { ACCOUNTING_ENTRIES_KIND } from './accounting-entries';
import { INVOICE_LINES_KIND } from './invoice-lines';
import { INVOICES_KIND } from './invoices';
import type { ExportKindDefinition } from './kind';

export type { BaseTotals, BuiltQuery, ExportKindDefinition, ExportWarningData, KindAttempt, Queryable } from './kind';

/**
 * The registry of export kinds: kind → its module. The worker, the writers,
 * the benchmark's COPY baseline and the tests take a kind's SELECT, columns,
 * totals and writer from here; nothing else branches on the kind.
 */
export const EXPORT_KINDS: { readonly [K in ExportKind]: ExportKindDefinition } = {
  [ExportKind.INVOICES]: INVOICES_KIND,
  [ExportKind.INVOICE_LINES]: INVOICE_LINES_KIND,
  [ExportKind.ACCOUNTING_ENTRIES]: ACCOUNTING_ENTRIES_KIND,
};

export function exportKind(kind: ExportKind): ExportKindDefinition {
  const def = EXPORT_KINDS[kind];
  if (!def) throw new Error(`Unknown export kind: ${String(kind)}`);
  return def;
}

/**
 * The format a request gets: the one it names if its kind writes it, else the
 * kind's default (XLSX for INVOICES and INVOICE_LINES, FEC for ACCOUNTING_ENTRIES).
 */
export function resolveExportFormat(kind: ExportKind, format: ExportFormat | null | undefined): ExportFormat {
  const def = exportKind(kind);
  if (format === null || format === undefined) return def.formats[0];
  if (!def.formats.includes(format)) {
    throw badInput(`The ${kind} export is written as ${def.formats.join(', ')}, not ${format}`);
  }
  return format;
}

/** Start-up check (Immich's lesson): every kind has exactly one module, consistent with itself. */
export function checkExportKinds(): void {
  for (const kind of Object.values(ExportKind)) {
    const def = EXPORT_KINDS[kind];
    if (!def) throw new Error(`Export kind ${kind} has no definition in exports/kinds`);
    if (def.kind !== kind) throw new Error(`Export kind ${kind} is registered with the definition of ${def.kind}`);
    if (!def.formats.length) throw new Error(`Export kind ${kind} has no format`);
    for (const f of def.formats) if (!Object.values(ExportFormat).includes(f)) throw new Error(`Export kind ${kind}: unknown format ${f}`);
    const keys = def.columns.map((c) => c.key);
    if (new Set(keys).size !== keys.length) throw new Error(`Export kind ${kind} has two columns with the same key`);
  }
  for (const kind of Object.keys(EXPORT_KINDS)) {
    if (!Object.values(ExportKind).includes(kind as ExportKind)) throw new Error(`exports/kinds registers ${kind}, which is not an ExportKind`);
  }
}
checkExportKinds();
