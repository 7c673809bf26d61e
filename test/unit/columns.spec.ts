import { BillingPeriod, ExportKind, InvoiceStatus, InvoiceType, PaymentMethod } from '../../src/entities/enums';
import {
  columnsFor,
  DATA_SHEET_NAMES,
  formatDecimal,
  headersFor,
  MONEY_COLUMN_KEYS,
  parseCalendarDate,
  percentToFraction,
} from '../../src/exports/columns';
import {
  BILLING_PERIOD_LABELS,
  INVOICE_STATUS_LABELS,
  INVOICE_TYPE_LABELS,
  isExportLocale,
  PAYMENT_METHOD_LABELS,
  SUPPORTED_LOCALES,
} from '../../src/exports/labels';
import type { InvoiceLineRow, InvoiceRow } from '../../src/exports/columns';

const FR_INVOICES = [
  'Type de pièce',
  'N° de pièce',
  'Date de facturation',
  'Numéro de rôle',
  'Payeur',
  'Période de facturation',
  'Année de facturation',
  'Notes',
  'Montant dû',
  'Montant payé',
  'Restant dû',
  "Total en attente d'encaissement",
  'État',
  'Identifiant unique',
  'Identifiant client',
  'Quotient familial',
  'Mode de règlement',
];
const FR_LINES = [
  'Type de pièce',
  'N° de pièce',
  'Date de facturation',
  'Payeur',
  'Identifiant client',
  'Année de facturation',
  'Période de facturation',
  'N° de ligne',
  'Désignation',
  'Élève',
  'Activité',
  'Quantité',
  'Prix unitaire',
  'Remise',
  'Montant',
  'Taux de TVA',
  'Compte comptable',
  'Code analytique',
];

const invoice: InvoiceRow = {
  type: InvoiceType.CREDIT_NOTE,
  number: 'A000417',
  billingDate: '2019-01-31',
  roleNumber: 3,
  payerLastName: 'Busson',
  payerFirstName: 'Marie',
  billingPeriod: BillingPeriod.SEMESTER_1,
  billingYear: '2018/2019',
  notes: null,
  amountDue: '-500.50',
  amountPaid: '-500.50',
  remainingDue: '0.00',
  pendingCollection: '0.00',
  status: InvoiceStatus.SETTLED,
  uniqueIdentifier: '000417',
  customerIdentifier: '0041100',
  familyQuotient: '812.5',
  paymentMethod: PaymentMethod.HOLIDAY_VOUCHER,
};

describe('export columns', () => {
  it('has the fr-FR headers of docs/files.md, in order, for both kinds', () => {
    expect(headersFor(ExportKind.INVOICES, 'fr-FR')).toEqual(FR_INVOICES);
    expect(headersFor(ExportKind.INVOICE_LINES, 'fr-FR')).toEqual(FR_LINES);
  });

  it('has an English header for every column, distinct within a kind', () => {
    for (const kind of Object.values(ExportKind)) {
      const en = headersFor(kind, 'en-GB');
      expect(en.every((h) => h.length > 0)).toBe(true);
      expect(new Set(en).size).toBe(en.length);
    }
    expect(headersFor(ExportKind.INVOICES, 'en-GB').slice(0, 5)).toEqual([
      'Document type',
      'Document number',
      'Billing date',
      'Role number',
      'Payer',
    ]);
  });

  it('has unique keys and the amount columns listed per kind', () => {
    for (const kind of Object.values(ExportKind)) {
      const keys = columnsFor(kind).map((c) => c.key);
      expect(new Set(keys).size).toBe(keys.length);
    }
    expect(MONEY_COLUMN_KEYS[ExportKind.INVOICES]).toEqual(['amountDue', 'amountPaid', 'remainingDue', 'pendingCollection']);
    expect(MONEY_COLUMN_KEYS[ExportKind.INVOICE_LINES]).toEqual(['unitPrice', 'discountAmount', 'amount']);
    // A money key is the row field holding the amount, so callers can total a file.
    for (const col of columnsFor(ExportKind.INVOICES).filter((c) => c.type === 'money')) {
      expect(col.value(invoice, 'fr-FR')).toBe(invoice[col.key as keyof InvoiceRow]);
    }
  });

  it('keeps identifiers as text codes', () => {
    const codeHeaders = (kind: ExportKind) =>
      columnsFor(kind)
        .filter((c) => c.type === 'code')
        .map((c) => c.header['fr-FR']);
    expect(codeHeaders(ExportKind.INVOICES)).toEqual(
      expect.arrayContaining(['N° de pièce', 'Identifiant unique', 'Identifiant client']),
    );
    expect(codeHeaders(ExportKind.INVOICE_LINES)).toEqual(
      expect.arrayContaining(['N° de pièce', 'Identifiant client', 'Compte comptable', 'Code analytique']),
    );
  });

  it('renders an invoice row with the product words of each locale', () => {
    const values = (locale: 'fr-FR' | 'en-GB') =>
      Object.fromEntries(columnsFor(ExportKind.INVOICES).map((c) => [c.header[locale], c.value(invoice, locale)]));
    expect(values('fr-FR')).toMatchObject({
      'Type de pièce': 'avoir',
      'N° de pièce': 'A000417',
      'Date de facturation': '2019-01-31',
      'Numéro de rôle': 3,
      Payeur: 'BUSSON Marie',
      'Période de facturation': '1er semestre',
      'Montant dû': '-500.50',
      État: 'Cotisé',
      'Identifiant unique': '000417',
      'Mode de règlement': 'Chèques vacances',
      Notes: null,
    });
    expect(values('en-GB')).toMatchObject({
      'Document type': 'credit note',
      'Billing period': '1st half-year',
      Status: 'Settled',
      'Payment method': 'Holiday vouchers',
    });
  });

  it('renders a billing line with its invoice identity', () => {
    const line: InvoiceLineRow = {
      type: InvoiceType.INVOICE,
      number: 'F163881',
      billingDate: '2024-09-15',
      payerLastName: 'Lefèvre',
      payerFirstName: 'Zoé',
      customerIdentifier: null,
      billingYear: '2024/2025',
      billingPeriod: BillingPeriod.QUARTER_4,
      position: 2,
      label: 'Piano 30 min',
      beneficiary: 'Zoé Lefèvre',
      activity: 'Piano',
      quantity: '1.500',
      unitPrice: '120.00',
      discountAmount: '0.00',
      amount: '180.00',
      vatRate: '20.00',
      accountingAccount: '706100',
      analyticCode: null,
    };
    const fr = Object.fromEntries(columnsFor(ExportKind.INVOICE_LINES).map((c) => [c.header['fr-FR'], c.value(line, 'fr-FR')]));
    expect(fr).toMatchObject({
      'Type de pièce': 'facture',
      Payeur: 'LEFÈVRE Zoé',
      'Période de facturation': '4e trimestre',
      'N° de ligne': 2,
      Quantité: '1.500',
      'Taux de TVA': '20.00',
      'Compte comptable': '706100',
      'Code analytique': null,
    });
  });

  it('labels every enum value in every locale with the words of docs/data-model.md', () => {
    // Every value of every enum has its own label in every locale (a record typed by the enum can still hold '' or a copy).
    for (const locale of SUPPORTED_LOCALES) {
      for (const [labels, values] of [
        [INVOICE_TYPE_LABELS[locale], Object.values(InvoiceType)],
        [INVOICE_STATUS_LABELS[locale], Object.values(InvoiceStatus)],
        [BILLING_PERIOD_LABELS[locale], Object.values(BillingPeriod)],
        [PAYMENT_METHOD_LABELS[locale], Object.values(PaymentMethod)],
      ] as [Record<string, string>, string[]][]) {
        expect(Object.keys(labels).sort()).toEqual([...values].sort());
        expect(new Set(Object.values(labels).map((l) => l.trim())).size).toBe(values.length);
        expect(Object.values(labels).every((l) => l.trim().length > 0)).toBe(true);
      }
    }
    expect(INVOICE_TYPE_LABELS).toEqual({
      'fr-FR': { INVOICE: 'facture', CREDIT_NOTE: 'avoir' },
      'en-GB': { INVOICE: 'invoice', CREDIT_NOTE: 'credit note' },
    });
    expect(Object.values(INVOICE_STATUS_LABELS['en-GB'])).toEqual(['To collect', 'Partially paid', 'Paid', 'Settled', 'Cancelled']);
    expect(Object.values(INVOICE_STATUS_LABELS['fr-FR'])).toEqual([
      'À encaisser',
      'Partiellement encaissée',
      'Encaissée',
      'Cotisé',
      'Annulée',
    ]);
    expect(Object.values(BILLING_PERIOD_LABELS['fr-FR'])).toEqual([
      'Annuel',
      '1er semestre',
      '2e semestre',
      '1er trimestre',
      '2e trimestre',
      '3e trimestre',
      '4e trimestre',
      'Mensuel',
    ]);
    expect(Object.values(PAYMENT_METHOD_LABELS['fr-FR'])).toEqual([
      'Chèque',
      'Espèces',
      'Virement',
      'Prélèvement',
      'Carte bancaire',
      'Chèques vacances',
      'Autre',
    ]);
  });

  it('prints an enum value it does not know as stored', () => {
    const status = columnsFor(ExportKind.INVOICES).find((c) => c.key === 'status')!;
    expect(status.value({ ...invoice, status: 'DISPUTED' as InvoiceStatus }, 'fr-FR')).toBe('DISPUTED');
  });

  it('names the data sheets', () => {
    expect(DATA_SHEET_NAMES[ExportKind.INVOICES]['fr-FR']).toBe('Factures et avoirs');
    expect(DATA_SHEET_NAMES[ExportKind.INVOICE_LINES]['fr-FR']).toBe('Lignes de facturation');
  });

  it('accepts only the supported locales', () => {
    expect(isExportLocale('fr-FR')).toBe(true);
    expect(isExportLocale('en-GB')).toBe(true);
    expect(isExportLocale('en-US')).toBe(false);
    expect(isExportLocale(undefined)).toBe(false);
  });
});

describe('decimal helpers', () => {
  it.each([
    ['-500.50', 2, ',', '-500,50'],
    ['-500.5', 2, ',', '-500,50'],
    ['1234567890.12', 2, '.', '1234567890.12'],
    ['0', 2, ',', '0,00'],
    ['-0.00', 2, ',', '0,00'],
    ['007.1', 2, '.', '7.10'],
    ['1.5', 3, ',', '1,500'],
    ['2.0005', 3, '.', '2.001'],
    ['-2.0004', 3, '.', '-2.000'],
    ['9.995', 2, '.', '10.00'],
    ['-9.995', 2, '.', '-10.00'],
    ['.5', 2, '.', '0.50'],
    ['12', 0, '.', '12'],
    ['99999999999999999999.99', 2, ',', '99999999999999999999,99'],
  ])('formatDecimal(%s, %i, %s) = %s', (value, scale, sep, expected) => {
    expect(formatDecimal(value, scale, sep)).toBe(expected);
  });

  it('refuses what is not a decimal string', () => {
    expect(() => formatDecimal('abc', 2, ',')).toThrow(TypeError);
    expect(() => formatDecimal('', 2, ',')).toThrow(TypeError);
    expect(() => formatDecimal('1,5', 2, ',')).toThrow(TypeError);
    expect(() => formatDecimal(12.5 as unknown as string, 2, ',')).toThrow(TypeError);
  });

  it.each([
    ['20.00', '0.2000'],
    ['5.5', '0.055'],
    ['0', '0.00'],
    ['100', '1.00'],
    ['-2.10', '-0.0210'],
  ])('percentToFraction(%s) = %s', (value, expected) => {
    expect(percentToFraction(value)).toBe(expected);
    expect(Number(percentToFraction(value))).toBeCloseTo(Number(value) / 100, 12);
  });

  it('parses calendar dates and refuses instants', () => {
    expect(parseCalendarDate('2019-01-31')).toEqual({ year: 2019, month: 1, day: 31 });
    expect(() => parseCalendarDate(new Date() as unknown as string)).toThrow(/yyyy-mm-dd.*Date/);
    expect(() => parseCalendarDate('2019-01-31T00:00:00Z')).toThrow(TypeError);
  });
});
