import type { BillingPeriod, InvoiceType } from '../../entities/enums';
import { payerDisplayName } from '../../entities/payer.entity';
import { column } from '../cells';
import { billingPeriodLabel, invoiceTypeLabel } from '../labels';

// Columns of the invoice's identity, which both INVOICES and INVOICE_LINES print (`i` invoices, `p` payers).

export const documentType = column<{ type: InvoiceType }>({
  key: 'type',
  select: { type: 'i.type' },
  header: { 'fr-FR': 'Type de pièce', 'en-GB': 'Document type' },
  type: 'text',
  width: 12,
  value: (r, locale) => invoiceTypeLabel(r.type, locale),
});
export const documentNumber = column<{ number: string }>({
  key: 'number',
  select: { number: 'i.number' },
  header: { 'fr-FR': 'N° de pièce', 'en-GB': 'Document number' },
  type: 'code',
  width: 14,
  value: (r) => r.number,
});
export const billingDate = column<{ billingDate: string }>({
  key: 'billingDate',
  select: { billingDate: 'i.billing_date' },
  header: { 'fr-FR': 'Date de facturation', 'en-GB': 'Billing date' },
  type: 'date',
  width: 12,
  value: (r) => r.billingDate,
});
export const payer = column<{ payerLastName: string; payerFirstName: string }>({
  key: 'payer',
  select: { payerLastName: 'p.last_name', payerFirstName: 'p.first_name' },
  header: { 'fr-FR': 'Payeur', 'en-GB': 'Payer' },
  type: 'text',
  width: 28,
  value: (r) => payerDisplayName(r.payerLastName, r.payerFirstName),
});
export const customerIdentifier = column<{ customerIdentifier: string | null }>({
  key: 'customerIdentifier',
  select: { customerIdentifier: 'p.customer_identifier' },
  header: { 'fr-FR': 'Identifiant client', 'en-GB': 'Customer identifier' },
  type: 'code',
  width: 16,
  value: (r) => r.customerIdentifier,
});
export const billingYear = column<{ billingYear: string }>({
  key: 'billingYear',
  select: { billingYear: 'i.billing_year' },
  header: { 'fr-FR': 'Année de facturation', 'en-GB': 'Billing year' },
  // `2018/2019` or `2015`: a label, not a number to add up.
  type: 'code',
  width: 12,
  value: (r) => r.billingYear,
});
export const billingPeriod = column<{ billingPeriod: BillingPeriod }>({
  key: 'billingPeriod',
  select: { billingPeriod: 'i.billing_period' },
  header: { 'fr-FR': 'Période de facturation', 'en-GB': 'Billing period' },
  type: 'text',
  width: 16,
  value: (r, locale) => billingPeriodLabel(r.billingPeriod, locale),
});
