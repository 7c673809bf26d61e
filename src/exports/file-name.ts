import { ExportFormat, type ExportKind } from '../entities/enums';
import { exportKind } from './kinds';
import type { ExportLocale } from './labels';
import { zonedDateTimeParts } from './zoned-time';

export { zonedDateTimeParts, type ZonedDateTimeParts } from './zoned-time';

const EXTENSIONS: Readonly<Record<ExportFormat, string>> = {
  [ExportFormat.XLSX]: 'xlsx',
  [ExportFormat.CSV]: 'csv',
  [ExportFormat.FEC]: 'txt',
  [ExportFormat.QUADRA]: 'txt',
  [ExportFormat.XIMPORT]: 'TXT',
  [ExportFormat.EBP]: 'txt',
  [ExportFormat.CEGID]: 'txt',
  [ExportFormat.SAGE100]: 'txt',
};

/** `xlsx` / `csv` / `txt` (no dot). */
export function extensionFor(format: ExportFormat): string {
  const ext = EXTENSIONS[format];
  if (!ext) throw new Error(`Unknown export format: ${String(format)}`);
  return ext;
}

/**
 * `factures_20261127-2345.xlsx`: the stem of the kind in the export's locale
 * and the time `at` on the tenant's wall clock (`timeZone`, IANA name).
 */
export function exportFileName(
  kind: ExportKind,
  format: ExportFormat,
  locale: ExportLocale,
  at: Date,
  timeZone: string,
): string {
  const stem = exportKind(kind).fileStem[locale];
  if (!stem) throw new Error(`No file name for export kind ${String(kind)} in locale ${String(locale)}`);
  return stampedFileName(stem, format, at, timeZone);
}

/** `<stem>_<yyyymmdd-HHMM>.<ext>` on the wall clock of `timeZone`. */
export function stampedFileName(stem: string, format: ExportFormat, at: Date, timeZone: string): string {
  const p = zonedDateTimeParts(at, timeZone);
  const stamp = `${p.year}${pad2(p.month)}${pad2(p.day)}-${pad2(p.hour)}${pad2(p.minute)}`;
  return `${stem}_${stamp}.${extensionFor(format)}`;
}


const pad2 = (n: number) => String(n).padStart(2, '0');
