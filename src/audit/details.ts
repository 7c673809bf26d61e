import type { InvoiceFilterSpec, StoredSelection } from '../exports/selection';

/**
 * Filter fields whose values say nothing about a person (document types,
 * statuses, dates, periods, payment methods): kept in the audit row. The
 * others (`search` text, `payerId`) are named, never copied.
 */
const PLAIN_FILTER_FIELDS: readonly (keyof InvoiceFilterSpec)[] = [
  'types', 'statuses', 'billingDateFrom', 'billingDateTo', 'billingYear', 'billingPeriods', 'roleNumber', 'paymentMethods', 'accountingTransferred',
];

/** "Which invoices", without any payer's data: the mode, how many, and the plain filter values. */
export function selectionSummary(selection: StoredSelection, documents: number): Record<string, unknown> {
  if (selection.mode === 'ids') return { mode: 'ids', documents };
  const filter: Record<string, unknown> = {};
  const withheld: string[] = [];
  for (const [field, value] of Object.entries(selection.filter)) {
    if (value === null || value === undefined) continue;
    if ((PLAIN_FILTER_FIELDS as string[]).includes(field)) filter[field] = value;
    else withheld.push(field);
  }
  return { mode: 'filter', documents, excluded: selection.excludedInvoiceIds.length, filter, ...(withheld.length ? { withheldFields: withheld.sort() } : {}) };
}
