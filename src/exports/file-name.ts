import { ExportFormat, ExportKind } from '../entities/enums';
import type { ExportLocale } from './labels';

/** File name stems per kind and locale (DESIGN §6). */
const FILE_STEMS: { readonly [K in ExportKind]: Readonly<Record<ExportLocale, string>> } = {
  [ExportKind.INVOICES]: { 'fr-FR': 'factures', 'en-GB': 'invoices' },
  [ExportKind.INVOICE_LINES]: { 'fr-FR': 'lignes-de-facturation', 'en-GB': 'invoice-lines' },
};

const EXTENSIONS: Readonly<Record<ExportFormat, string>> = {
  [ExportFormat.XLSX]: 'xlsx',
  [ExportFormat.CSV]: 'csv',
};

/** `xlsx` / `csv` (no dot). */
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
  const stem = FILE_STEMS[kind]?.[locale];
  if (!stem) throw new Error(`No file name for export kind ${String(kind)} in locale ${String(locale)}`);
  const p = zonedDateTimeParts(at, timeZone);
  const stamp = `${p.year}${pad2(p.month)}${pad2(p.day)}-${pad2(p.hour)}${pad2(p.minute)}`;
  return `${stem}_${stamp}.${extensionFor(format)}`;
}

export interface ZonedDateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The wall-clock date and time of an instant in an IANA time zone.
 * Throws a RangeError naming the zone when it is not a valid one.
 */
export function zonedDateTimeParts(at: Date, timeZone: string): ZonedDateTimeParts {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new RangeError(`Invalid date: ${String(at)}`);
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    try {
      fmt = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      throw new RangeError(`Invalid time zone: ${JSON.stringify(timeZone)}`);
    }
    formatters.set(timeZone, fmt);
  }
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of fmt.formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

const pad2 = (n: number) => String(n).padStart(2, '0');
