import type { ColumnDef } from '../exports/cells';
import type { ExportLocale } from '../exports/labels';
import type { CsvFileOptions } from '../exports/writers/csv';

/**
 * What a file looks like beyond its kind and format (docs/profiles.md): the chosen
 * columns and headers, the CSV layout and the file name. A profile holds
 * one; a request may give one inline; `invoice_exports.options` keeps the
 * one in force when the export was requested, so that a later edit of the
 * profile does not change a queued export. A leaf module: the writers read it.
 */
export interface ColumnChoice {
  key: string;
  /** A custom header; null: the column's header in the export's locale. */
  header: string | null;
}

export interface FileLayout {
  /** The profile it came from, for the record (null: an inline choice). */
  profileId: string | null;
  profileName: string | null;
  /** Ordered; null: every column of the kind in its order. */
  columns: ColumnChoice[] | null;
  /** CSV only; null: the locale's dialect in UTF-8 with a BOM. */
  csv: CsvFileOptions | null;
  /** Placeholders {kind} {date} {time} {tenant}; null: the default name. */
  fileNamePattern: string | null;
}

/**
 * The kind's columns as chosen: in the choice's order, with its headers.
 * Keys were checked when the choice was made; one the kind no longer has
 * (a release dropped it) fails the export rather than writing a wrong file.
 */
export function chooseColumns<Row>(columns: readonly ColumnDef<Row>[], choice: readonly ColumnChoice[] | null | undefined): readonly ColumnDef<Row>[] {
  if (!choice) return columns;
  const byKey = new Map(columns.map((c) => [c.key, c]));
  return choice.map(({ key, header }) => {
    const column = byKey.get(key);
    if (!column) throw new Error(`The export's column choice names "${key}", which this kind does not have`);
    if (header === null || header === undefined) return column;
    const same = Object.fromEntries(Object.keys(column.header).map((l) => [l, header])) as Record<ExportLocale, string>;
    return { ...column, header: same };
  });
}
