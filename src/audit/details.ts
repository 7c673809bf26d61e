import type { InvoiceFilterSpec, StoredSelection } from '../exports/selection';

/**
 * Filter fields whose values say nothing about a person (document types,
 * statuses, dates, periods, payment methods): kept in the audit row. The
 * others (`search` text, `payerId`) are named, never copied.
 */
const PLAIN_FILTER_FIELDS: readonly (keyof InvoiceFilterSpec)[] = [
  'types', 'statuses', 'billingDateFrom', 'billingDateTo', 'billingYear', 'billingPeriods', 'roleNumber', 'paymentMethods', 'accountingTransferred',
];

/** A filter without any payer's data: the plain values, and the names of the fields withheld. */
export function filterSummary(spec: InvoiceFilterSpec | null | undefined): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  const withheld: string[] = [];
  for (const [field, value] of Object.entries(spec ?? {})) {
    if (value === null || value === undefined) continue;
    if ((PLAIN_FILTER_FIELDS as string[]).includes(field)) filter[field] = value;
    else withheld.push(field);
  }
  return { filter, ...(withheld.length ? { withheldFields: withheld.sort() } : {}) };
}

/** "Which invoices", without any payer's data: the mode, how many, and the plain filter values. */
export function selectionSummary(selection: StoredSelection, documents: number): Record<string, unknown> {
  if (selection.mode === 'ids') return { mode: 'ids', documents };
  return { mode: 'filter', documents, excluded: selection.excludedInvoiceIds.length, ...filterSummary(selection.filter) };
}

/** The fields that changed, before and after (the details of a "…_CHANGED" row). */
export function changedFields<T extends object>(before: T, after: T): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const diff = { before: {} as Record<string, unknown>, after: {} as Record<string, unknown> };
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    diff.before[key] = before[key];
    diff.after[key] = after[key];
  }
  return diff;
}
