import { ExportFormat, IMPORT_LAYOUT_FORMATS } from '../../entities/enums';
import { CEGID_LAYOUT } from './cegid';
import type { ImportLayout } from './common';
import { EBP_LAYOUT } from './ebp';
import { QUADRA_LAYOUT } from './quadra';
import { SAGE100_LAYOUT } from './sage100';
import { XIMPORT_LAYOUT } from './ximport';

export type { ImportLayout } from './common';
export type { LayoutProblem } from './problems';
export { describeProblems } from './problems';

/** The importer layouts of ACCOUNTING_ENTRIES, by format (docs/accounting.md). */
export const IMPORT_LAYOUTS: Readonly<Partial<Record<ExportFormat, ImportLayout>>> = {
  [ExportFormat.QUADRA]: QUADRA_LAYOUT,
  [ExportFormat.XIMPORT]: XIMPORT_LAYOUT,
  [ExportFormat.EBP]: EBP_LAYOUT,
  [ExportFormat.CEGID]: CEGID_LAYOUT,
  [ExportFormat.SAGE100]: SAGE100_LAYOUT,
};

/** The layout of a format, or null for FEC, CSV and XLSX. */
export function importLayout(format: ExportFormat): ImportLayout | null {
  if (!IMPORT_LAYOUT_FORMATS.includes(format)) return null;
  const layout = IMPORT_LAYOUTS[format];
  if (!layout) throw new Error(`No importer layout for ${format}`);
  return layout;
}
