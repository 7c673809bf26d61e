import type { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../entities/enums';

/**
 * The rows the export query streams, one shape per kind. Column aliases of the
 * SQL in exports/export-query.ts are exactly these property names. Money and
 * other decimals stay strings as PostgreSQL prints them ("-500.50"); dates are
 * calendar dates "yyyy-mm-dd".
 */
export interface InvoiceRow {
  type: InvoiceType;
  number: string;
  billingDate: string;
  roleNumber: number | null;
  payerLastName: string;
  payerFirstName: string;
  billingPeriod: BillingPeriod;
  billingYear: string;
  notes: string | null;
  amountDue: string;
  amountPaid: string;
  remainingDue: string;
  pendingCollection: string;
  status: InvoiceStatus;
  uniqueIdentifier: string | null;
  customerIdentifier: string | null;
  familyQuotient: string | null;
  paymentMethod: PaymentMethod | null;
}

export interface InvoiceLineRow {
  type: InvoiceType;
  number: string;
  billingDate: string;
  payerLastName: string;
  payerFirstName: string;
  customerIdentifier: string | null;
  billingYear: string;
  billingPeriod: BillingPeriod;
  position: number;
  label: string;
  beneficiary: string | null;
  activity: string | null;
  quantity: string;
  unitPrice: string;
  discountAmount: string;
  amount: string;
  vatRate: string;
  accountingAccount: string | null;
  analyticCode: string | null;
}

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
}
