import type { ExportKind } from '../entities/enums';
import { exportKind, type BuiltQuery } from './kinds';
import type { StoredSelection } from './selection';

export type { BuiltQuery } from './kinds';

/**
 * A kind's streamed SELECT (aliases are its row's property names), from the
 * registry: used by the worker and by the benchmark's COPY baseline.
 */
export function exportRowsQuery(kind: ExportKind, tenantId: string, selection: StoredSelection): BuiltQuery {
  return exportKind(kind).rowsQuery(tenantId, selection);
}

/** Counts and totals of the same selection, read in the same snapshot as the rows. */
export function exportTotalsQuery(kind: ExportKind, tenantId: string, selection: StoredSelection): BuiltQuery {
  return exportKind(kind).totalsQuery(tenantId, selection);
}
