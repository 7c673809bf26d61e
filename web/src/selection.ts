/**
 * What "Action pour X sélectionnés" acts on: either rows ticked one by one,
 * or "Tous les résultats" — every row the filter matches, on every page —
 * minus the rows unticked since. Pure (no DOM, no GraphQL client), so that
 * jest tests it directly (test/unit/web-selection.spec.ts).
 *
 * The request never lists every id of a filter: "Tous les résultats" is sent
 * as the filter plus `excludedInvoiceIds`, and the API evaluates the filter
 * when the export runs.
 */
export type Selection =
  | { readonly mode: 'ids'; readonly ids: ReadonlySet<string> }
  | { readonly mode: 'all'; readonly excluded: ReadonlySet<string> };

export const EMPTY_SELECTION: Selection = Object.freeze({ mode: 'ids', ids: new Set<string>() }) as Selection;

export function isSelected(s: Selection, id: string): boolean {
  return s.mode === 'ids' ? s.ids.has(id) : !s.excluded.has(id);
}

/** Ticks or unticks one row; under "Tous les résultats", unticking excludes it. */
export function toggleRow(s: Selection, id: string, ticked: boolean): Selection {
  if (s.mode === 'ids') {
    const ids = new Set(s.ids);
    if (ticked) ids.add(id);
    else ids.delete(id);
    return { mode: 'ids', ids };
  }
  const excluded = new Set(s.excluded);
  if (ticked) excluded.delete(id);
  else excluded.add(id);
  return { mode: 'all', excluded };
}

/** The header checkbox "Tous les résultats": ticking it selects every row of the filter, unticking clears everything. */
export function selectAll(ticked: boolean): Selection {
  return ticked ? { mode: 'all', excluded: new Set() } : EMPTY_SELECTION;
}

/** X of "Action pour X sélectionnés": ticked rows, or the filter's total minus exclusions. */
export function selectedCount(s: Selection, totalCount: number): number {
  return s.mode === 'ids' ? s.ids.size : Math.max(0, totalCount - s.excluded.size);
}

/** The header checkbox: ticked under "Tous les résultats", mixed when only part of the results is selected. */
export function headerState(s: Selection, totalCount: number): { checked: boolean; mixed: boolean } {
  const count = selectedCount(s, totalCount);
  if (s.mode === 'all') return { checked: true, mixed: count < totalCount };
  return { checked: false, mixed: count > 0 };
}

export type SelectionInput<F> = { invoiceIds: string[] } | { filter: F; excludedInvoiceIds?: string[] };

/** The `selection` of requestInvoiceExport, or null when nothing is selected. */
export function toSelectionInput<F>(s: Selection, filter: F, totalCount: number): SelectionInput<F> | null {
  if (selectedCount(s, totalCount) === 0) return null;
  if (s.mode === 'ids') return { invoiceIds: [...s.ids] };
  return s.excluded.size > 0 ? { filter, excludedInvoiceIds: [...s.excluded] } : { filter };
}

/** A sentence for the status line, e.g. "Tous les résultats du filtre (478), sauf 2". */
export function describeSelection(s: Selection, totalCount: number): string {
  const count = selectedCount(s, totalCount);
  if (s.mode === 'all') {
    const n = s.excluded.size;
    return `Tous les résultats du filtre (${totalCount})${n ? `, sauf ${n} décoché${n > 1 ? 's' : ''}` : ''}`;
  }
  return count === 0 ? 'Aucune pièce sélectionnée' : `${count} pièce${count > 1 ? 's' : ''} cochée${count > 1 ? 's' : ''}`;
}
