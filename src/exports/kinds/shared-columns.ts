import { payerDisplayName } from '../../entities/payer.entity';
import type { DateColumn, TextColumn } from '../cells';
import { billingPeriodLabel, invoiceTypeLabel } from '../labels';
import type { InvoiceRow } from './invoices';

// Columns both kinds share are written once, generic over the rows that carry the field.
export type Identity = Pick<
  InvoiceRow,
  'type' | 'number' | 'billingDate' | 'payerLastName' | 'payerFirstName' | 'customerIdentifier' | 'billingYear' | 'billingPeriod'
>;
export const documentType: TextColumn<Identity> = {
  key: 'type',
  header: { 'fr-FR': 'Type de pièce', 'en-GB': 'Document type' },
  type: 'text',
  width: 12,
  value: (r, locale) => invoiceTypeLabel(r.type, locale),
};
export const documentNumber: TextColumn<Identity> = {
  key: 'number',
  header: { 'fr-FR': 'N° de pièce', 'en-GB': 'Document number' },
  type: 'code',
  width: 14,
  value: (r) => r.number,
};
export const billingDate: DateColumn<Identity> = {
  key: 'billingDate',
  header: { 'fr-FR': 'Date de facturation', 'en-GB': 'Billing date' },
  type: 'date',
  width: 12,
  value: (r) => r.billingDate,
};
export const payer: TextColumn<Identity> = {
  key: 'payer',
  header: { 'fr-FR': 'Payeur', 'en-GB': 'Payer' },
  type: 'text',
  width: 28,
  value: (r) => payerDisplayName(r.payerLastName, r.payerFirstName),
};
export const customerIdentifier: TextColumn<Identity> = {
  key: 'customerIdentifier',
  header: { 'fr-FR': 'Identifiant client', 'en-GB': 'Customer identifier' },
  type: 'code',
  width: 16,
  value: (r) => r.customerIdentifier,
};
export const billingYear: TextColumn<Identity> = {
  key: 'billingYear',
  header: { 'fr-FR': 'Année de facturation', 'en-GB': 'Billing year' },
  // `2018/2019` or `2015`: a label, not a number to add up.
  type: 'code',
  width: 12,
  value: (r) => r.billingYear,
};
export const billingPeriod: TextColumn<Identity> = {
  key: 'billingPeriod',
  header: { 'fr-FR': 'Période de facturation', 'en-GB': 'Billing period' },
  type: 'text',
  width: 16,
  value: (r, locale) => billingPeriodLabel(r.billingPeriod, locale),
};

