import { ExportFormat, type ExportKind } from '../entities/enums';
import { badInput } from '../errors';
import { DEFAULT_EXPORT_LOCALE } from '../exports/labels';
import { CSV_DATE_FORMATS, CSV_DECIMAL_SEPARATORS, CSV_SEPARATORS, type CsvDateFormat, type CsvEncodingName, type CsvFileOptions } from '../exports/writers/csv';
import { exportColumns } from '../exports/kinds';
import type { ColumnChoice, FileLayout } from './file-layout';
import { validateFileNamePattern } from './file-name-pattern';

/** A choice as a profile or a request gives it (GraphQL ExportColumnChoice / CsvOptionsInput). */
export interface ColumnChoiceInput {
  key: string;
  header?: string | null;
}
export interface CsvOptionsSpec {
  encoding?: CsvEncodingName | null;
  separator?: string | null;
  decimalSeparator?: string | null;
  dateFormat?: string | null;
  header?: boolean | null;
}
export interface LayoutInput {
  columns?: ColumnChoiceInput[] | null;
  csv?: CsvOptionsSpec | null;
  fileNamePattern?: string | null;
}

const MAX_HEADER = 100;
const CSV_ENCODINGS: readonly CsvEncodingName[] = ['UTF8_BOM', 'WINDOWS_1252'];
const shown = (s: string) => (s === '\t' ? 'tab' : JSON.stringify(s));

/**
 * An ordered choice of the kind's columns: every key known, none twice, at
 * least one; each refusal names the key at fault. null: every column.
 */
export function validateColumnChoice(kind: ExportKind, format: ExportFormat, choice: ColumnChoiceInput[] | null | undefined, field = 'columns'): ColumnChoice[] | null {
  if (choice === null || choice === undefined) return null;
  if (format === ExportFormat.FEC) {
    throw badInput(`${field}: a FEC file has its 18 fields in their legal order; choose columns with CSV or XLSX`, { field });
  }
  if (!choice.length) throw badInput(`${field} is empty: choose at least one column`, { field });
  const known = new Set(exportColumns(kind, DEFAULT_EXPORT_LOCALE).map((c) => c.key));
  const seen = new Set<string>();
  return choice.map(({ key, header }) => {
    if (!known.has(key)) {
      throw badInput(`${field}: the ${kind} export has no column "${key}" (see exportColumns(kind: ${kind}))`, { field, key });
    }
    if (seen.has(key)) throw badInput(`${field} names the column "${key}" twice`, { field, key });
    seen.add(key);
    const h = header?.trim() || null;
    if (h && h.length > MAX_HEADER) throw badInput(`${field}: the header of "${key}" is too long (at most ${MAX_HEADER} characters)`, { field, key });
    if (h && /[\r\n]/.test(h)) throw badInput(`${field}: the header of "${key}" may not hold a line break`, { field, key });
    return { key, header: h };
  });
}

/** The CSV layout with its defaults filled in; refused for another format, or a separator clash. */
export function validateCsvOptions(format: ExportFormat, csv: CsvOptionsSpec | null | undefined, field = 'csv'): CsvFileOptions | null {
  if (csv === null || csv === undefined) return null;
  if (format !== ExportFormat.CSV) throw badInput(`${field}: CSV options apply to the CSV format, not ${format}`, { field });
  const options: CsvFileOptions = {
    encoding: csv.encoding ?? 'UTF8_BOM',
    separator: csv.separator ?? ';',
    decimalSeparator: csv.decimalSeparator ?? ',',
    dateFormat: (csv.dateFormat ?? 'dd/mm/yyyy') as CsvDateFormat,
    header: csv.header ?? true,
  };
  if (!CSV_ENCODINGS.includes(options.encoding)) throw badInput(`${field}.encoding must be UTF8_BOM or WINDOWS_1252`, { field: `${field}.encoding` });
  if (!(CSV_SEPARATORS as readonly string[]).includes(options.separator)) {
    throw badInput(`${field}.separator must be ";", "," or a tab (got ${shown(options.separator)})`, { field: `${field}.separator` });
  }
  if (!(CSV_DECIMAL_SEPARATORS as readonly string[]).includes(options.decimalSeparator)) {
    throw badInput(`${field}.decimalSeparator must be "," or "." (got ${shown(options.decimalSeparator)})`, { field: `${field}.decimalSeparator` });
  }
  if (options.decimalSeparator === options.separator) {
    throw badInput(`${field}: the decimal separator ${shown(options.decimalSeparator)} cannot also separate the fields`, { field: `${field}.decimalSeparator` });
  }
  if (!(CSV_DATE_FORMATS as readonly string[]).includes(options.dateFormat)) {
    throw badInput(`${field}.dateFormat must be one of ${CSV_DATE_FORMATS.join(', ')} (got ${JSON.stringify(options.dateFormat)})`, { field: `${field}.dateFormat` });
  }
  return options;
}

/** A checked layout, or null when it changes nothing (the default file). */
export function buildLayout(
  kind: ExportKind,
  format: ExportFormat,
  input: LayoutInput,
  from: { profileId: string; profileName: string } | null = null,
  prefix = '',
): FileLayout | null {
  const columns = validateColumnChoice(kind, format, input.columns, `${prefix}columns`);
  const csv = validateCsvOptions(format, input.csv, `${prefix}csv`);
  const fileNamePattern = validateFileNamePattern(input.fileNamePattern, `${prefix}fileNamePattern`);
  if (!from && !columns && !csv && !fileNamePattern) return null;
  return { profileId: from?.profileId ?? null, profileName: from?.profileName ?? null, columns, csv, fileNamePattern };
}
