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
  { kind: 'ACCOUNTING_ENTRIES', label: 'Exporter les écritures comptables', formats: ['FEC', 'QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100', 'CSV', 'XLSX'] },
];

/** Kinds whose format dialog runs the pre-flight check before "Lancer l'export". */
export const CHECKED_KINDS: readonly ExportKind[] = ['ACCOUNTING_ENTRIES'];

/** The formats of a kind, `preferred` (the accountant's software) first when the kind writes it. */
export function formatsOf(entry: KindEntry, preferred: ExportFormat | null): readonly ExportFormat[] {
  if (!preferred || !entry.formats.includes(preferred)) return entry.formats;
  return [preferred, ...entry.formats.filter((f) => f !== preferred)];
}

export const FORMAT_LABELS: Record<string, string> = {
  XLSX: 'XLSX (Excel)',
  CSV: 'CSV (point-virgule)',
  FEC: 'FEC (fichier des écritures comptables)',
  QUADRA: 'Quadra (QuadraCOMPTA, import ASCII)',
  XIMPORT: 'Sage 50 / Ciel Compta (XIMPORT.TXT)',
  EBP: 'EBP (import des écritures)',
  CEGID: 'Cegid Expert (import paramétrable)',
  SAGE100: 'Sage 100 (import texte)',
};

export function kindLabel(kind: string): string {
  return EXPORT_KINDS.find((k) => k.kind === kind)?.label ?? kind;
}
