import type { ExportFormat, ExportKind } from './graphql';

/**
 * The menu "Action pour X sélectionnés": one entry per export kind, in menu
 * order; the first format is the default. Adding a kind is one entry here
 * (its `kind` and formats are checked against schema.graphql by the type check).
 */
export interface KindEntry {
  kind: ExportKind;
  label: string;
  formats: readonly ExportFormat[];
}

export const EXPORT_KINDS: readonly KindEntry[] = [
  { kind: 'INVOICES', label: 'Exporter', formats: ['XLSX', 'CSV'] },
  { kind: 'INVOICE_LINES', label: 'Exporter les lignes de facturation', formats: ['XLSX', 'CSV'] },
  { kind: 'ACCOUNTING_ENTRIES', label: 'Exporter les écritures comptables', formats: ['FEC', 'CSV', 'XLSX'] },
];

export const FORMAT_LABELS: Record<string, string> = {
  XLSX: 'XLSX (Excel)',
  CSV: 'CSV (point-virgule)',
  FEC: 'FEC (fichier des écritures comptables)',
};

export function kindLabel(kind: string): string {
  return EXPORT_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}
