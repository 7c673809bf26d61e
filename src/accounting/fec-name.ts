import { fiscalYearEndOf, sirenPassesLuhn } from './settings';

/**
 * The FEC's statutory name `<SIREN>FEC<AAAAMMJJ>.txt` (docs/accounting.md) is kept
 * only for a file whose every entry falls within one fiscal year and whose
 * SIREN passes its Luhn check; otherwise the file takes the dated name and a
 * warning says why. A tenant without any SIREN just gets the dated name.
 */

export interface FecNaming {
  /** `<SIREN>FEC<AAAAMMJJ>.txt`, or null: use the dated name. */
  statutoryName: string | null;
  /** Warning codes: `SIREN_INVALID`, `SPANS_FISCAL_YEARS`. */
  warnings: ('SIREN_INVALID' | 'SPANS_FISCAL_YEARS')[];
  /** `yyyy-mm-dd`: the last day of the fiscal year before the one holding the latest entry (entries on or before it are outside). */
  previousYearEnd: string | null;
}

/** The day before the fiscal year that ends `yyyymmdd` starts, as `yyyy-mm-dd` (that end one year earlier). */
function previousEnd(yyyymmdd: string): string {
  const y = Number(yyyymmdd.slice(0, 4)) - 1;
  return `${y}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}

export function fecNaming(sirenRaw: string | null | undefined, earliest: string | null, latest: string | null, fiscalYearEnd: string, today: string): FecNaming {
  const warnings: FecNaming['warnings'] = [];
  const raw = sirenRaw?.replace(/\s+/g, '') ?? '';
  const siren = raw && sirenPassesLuhn(raw) ? raw : null;
  if (raw && !siren) warnings.push('SIREN_INVALID');
  const end = fiscalYearEndOf(latest ?? today, fiscalYearEnd);
  const spans = earliest !== null && fiscalYearEndOf(earliest, fiscalYearEnd) !== end;
  if (spans) warnings.push('SPANS_FISCAL_YEARS');
  return {
    statutoryName: siren && !spans ? `${siren}FEC${end}.txt` : null,
    warnings,
    previousYearEnd: spans ? previousEnd(end) : null,
  };
}
