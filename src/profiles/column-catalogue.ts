import type { ExportKind } from '../entities/enums';
import type { ColumnType } from '../exports/cells';
import { columnsFor } from '../exports/columns';
import type { ExportLocale } from '../exports/labels';

/** A column a profile may choose, as `exportColumns` shows it. */
export interface CatalogueColumn {
  key: string;
  header: string;
  type: ColumnType;
}

/**
 * The one adapter between the kinds' column definitions and profiles: every
 * key a choice may name comes from here (today exports/columns.ts; re-point
 * this function when the column registry moves).
 */
export function columnCatalogue(kind: ExportKind, locale: ExportLocale): CatalogueColumn[] {
  return columnsFor(kind).map((c) => ({ key: c.key, header: c.header[locale], type: c.type }));
}
