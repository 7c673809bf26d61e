import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../entities/enums';

/** Locales an export can be written in (docs/api.md: `locale` is fr-FR or en-GB). */
export const SUPPORTED_LOCALES = ['fr-FR', 'en-GB'] as const;
export type ExportLocale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_EXPORT_LOCALE: ExportLocale = 'fr-FR';

export function isExportLocale(value: unknown): value is ExportLocale {
  return typeof value === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(value);
}

/** One text per supported locale: a missing translation is a compile error. */
export type Localized = Readonly<Record<ExportLocale, string>>;

type EnumLabels<E extends string> = Readonly<Record<ExportLocale, Readonly<Record<E, string>>>>;

/** The words of the product's list (docs/data-model.md), as printed in files. */
export const INVOICE_TYPE_LABELS: EnumLabels<InvoiceType> = {
  'fr-FR': { [InvoiceType.INVOICE]: 'facture', [InvoiceType.CREDIT_NOTE]: 'avoir' },
  'en-GB': { [InvoiceType.INVOICE]: 'invoice', [InvoiceType.CREDIT_NOTE]: 'credit note' },
};

export const INVOICE_STATUS_LABELS: EnumLabels<InvoiceStatus> = {
  'fr-FR': {
    [InvoiceStatus.TO_COLLECT]: 'À encaisser',
    [InvoiceStatus.PARTIALLY_PAID]: 'Partiellement encaissée',
    [InvoiceStatus.PAID]: 'Encaissée',
    [InvoiceStatus.SETTLED]: 'Cotisé',
    [InvoiceStatus.CANCELLED]: 'Annulée',
  },
  'en-GB': {
    [InvoiceStatus.TO_COLLECT]: 'To collect',
    [InvoiceStatus.PARTIALLY_PAID]: 'Partially paid',
    [InvoiceStatus.PAID]: 'Paid',
    [InvoiceStatus.SETTLED]: 'Settled',
    [InvoiceStatus.CANCELLED]: 'Cancelled',
  },
};

export const BILLING_PERIOD_LABELS: EnumLabels<BillingPeriod> = {
  'fr-FR': {
    [BillingPeriod.ANNUAL]: 'Annuel',
    [BillingPeriod.SEMESTER_1]: '1er semestre',
    [BillingPeriod.SEMESTER_2]: '2e semestre',
    [BillingPeriod.QUARTER_1]: '1er trimestre',
    [BillingPeriod.QUARTER_2]: '2e trimestre',
    [BillingPeriod.QUARTER_3]: '3e trimestre',
    [BillingPeriod.QUARTER_4]: '4e trimestre',
    [BillingPeriod.MONTHLY]: 'Mensuel',
  },
  'en-GB': {
    [BillingPeriod.ANNUAL]: 'Annual',
    [BillingPeriod.SEMESTER_1]: '1st half-year',
    [BillingPeriod.SEMESTER_2]: '2nd half-year',
    [BillingPeriod.QUARTER_1]: '1st quarter',
    [BillingPeriod.QUARTER_2]: '2nd quarter',
    [BillingPeriod.QUARTER_3]: '3rd quarter',
    [BillingPeriod.QUARTER_4]: '4th quarter',
    [BillingPeriod.MONTHLY]: 'Monthly',
  },
};

export const PAYMENT_METHOD_LABELS: EnumLabels<PaymentMethod> = {
  'fr-FR': {
    [PaymentMethod.CHEQUE]: 'Chèque',
    [PaymentMethod.CASH]: 'Espèces',
    [PaymentMethod.BANK_TRANSFER]: 'Virement',
    [PaymentMethod.DIRECT_DEBIT]: 'Prélèvement',
    [PaymentMethod.CARD]: 'Carte bancaire',
    [PaymentMethod.HOLIDAY_VOUCHER]: 'Chèques vacances',
    [PaymentMethod.OTHER]: 'Autre',
  },
  'en-GB': {
    [PaymentMethod.CHEQUE]: 'Cheque',
    [PaymentMethod.CASH]: 'Cash',
    [PaymentMethod.BANK_TRANSFER]: 'Bank transfer',
    [PaymentMethod.DIRECT_DEBIT]: 'Direct debit',
    [PaymentMethod.CARD]: 'Bank card',
    [PaymentMethod.HOLIDAY_VOUCHER]: 'Holiday vouchers',
    [PaymentMethod.OTHER]: 'Other',
  },
};

/**
 * The label of an enum value; a value this build does not know (written by a
 * newer tool) is printed as stored rather than lost.
 */
function labelOf<E extends string>(labels: EnumLabels<E>, value: E, locale: ExportLocale): string {
  return labels[locale][value] ?? value;
}

export const invoiceTypeLabel = (v: InvoiceType, locale: ExportLocale): string =>
  labelOf(INVOICE_TYPE_LABELS, v, locale);
export const invoiceStatusLabel = (v: InvoiceStatus, locale: ExportLocale): string =>
  labelOf(INVOICE_STATUS_LABELS, v, locale);
export const billingPeriodLabel = (v: BillingPeriod, locale: ExportLocale): string =>
  labelOf(BILLING_PERIOD_LABELS, v, locale);
export const paymentMethodLabel = (v: PaymentMethod | null, locale: ExportLocale): string | null =>
  v === null ? null : labelOf(PAYMENT_METHOD_LABELS, v, locale);

/** Labels of the XLSX `Résumé` sheet (ExportSummary facts), in the order printed. */
export const SUMMARY_LABELS = {
  sheetName: { 'fr-FR': 'Résumé', 'en-GB': 'Summary' },
  exportKind: { 'fr-FR': 'Export', 'en-GB': 'Export' },
  tenant: { 'fr-FR': 'Structure', 'en-GB': 'Organisation' },
  requestedBy: { 'fr-FR': 'Demandé par', 'en-GB': 'Requested by' },
  requestedAt: { 'fr-FR': 'Demandé le', 'en-GB': 'Requested at' },
  generatedAt: { 'fr-FR': 'Généré le', 'en-GB': 'Generated at' },
  timeZone: { 'fr-FR': 'Fuseau horaire', 'en-GB': 'Time zone' },
  selection: { 'fr-FR': 'Sélection', 'en-GB': 'Selection' },
  invoiceCount: { 'fr-FR': 'Nombre de factures', 'en-GB': 'Number of invoices' },
  creditNoteCount: { 'fr-FR': "Nombre d'avoirs", 'en-GB': 'Number of credit notes' },
  rowCount: { 'fr-FR': 'Nombre de lignes exportées', 'en-GB': 'Number of rows exported' },
  totalDue: { 'fr-FR': 'Total dû', 'en-GB': 'Total due' },
  totalPaid: { 'fr-FR': 'Total payé', 'en-GB': 'Total paid' },
  totalRemaining: { 'fr-FR': 'Total restant dû', 'en-GB': 'Total remaining due' },
} as const satisfies Record<string, Localized>;
