/**
 * Row types live with their kind (exports/kinds/*); re-exported here for the
 * callers that only need the shapes.
 */
export type { InvoiceRow } from './kinds/invoices';
export type { InvoiceLineRow } from './kinds/invoice-lines';
export type { AccountingEntryLine, AccountingSourceRow } from '../accounting/entries';
import type { Localized } from './labels';

/** Facts printed on the `Résumé` sheet. Totals are decimal strings from SQL. */
export interface ExportSummary {
  tenantName: string;
  requestedBy: string;
  requestedAt: Date;
  generatedAt: Date;
  /** Human description of the selection, e.g. "12 factures sélectionnées" or the filter. */
  selection: string;
  invoiceCount: number;
  creditNoteCount: number;
  rowCount: number;
  totalDue: string;
  totalPaid: string;
  totalRemaining: string;
  /** Facts of a kind's own, printed after the totals (e.g. the entries' debit and credit). */
  extraFacts?: readonly SummaryFact[];
}

/** A fact of the `Résumé` sheet beyond the common ones; money is a decimal string. */
export interface SummaryFact {
  label: Localized;
  type: 'text' | 'integer' | 'money';
  value: string | number;
}
