import { ExportKind } from '../entities/enums';
import { payerDisplayName } from '../entities/payer.entity';
import {
  billingPeriodLabel,
  invoiceStatusLabel,
  invoiceTypeLabel,
  paymentMethodLabel,
  type ExportLocale,
  type Localized,
} from './labels';
import type { InvoiceLineRow, InvoiceRow } from './rows';

/**
 * The columns of each export kind, defined once and used by every writer
 * (XLSX and CSV). Adding a column to a file = adding one entry below.
 *
 * What a column's `value` returns depends on its `type`; writers format it:
 * - `text`   free text (names, labels, notes): a string cell / a guarded CSV field
 * - `code`   an identifier that looks numeric but is not (`000417`): always text
 * - `date`   a calendar date `yyyy-mm-dd` (no time zone)
 * - `money`  a decimal string as PostgreSQL prints it (`-500.50`), 2 decimals
 * - `decimal` a decimal string printed with `scale` decimals (quantity: 3)
 * - `percent` a decimal string in percent (`20.00` = 20 %), 2 decimals
 * - `integer` a JS number (safe integer)
 * Decimals stay strings end to end: nothing here does arithmetic on floats.
 */
export type ColumnType = 'text' | 'code' | 'date' | 'money' | 'decimal' | 'integer' | 'percent';

interface ColumnBase {
  /** Stable identifier; for money columns it is also the row field holding the amount. */
  readonly key: string;
  readonly header: Localized;
  /** Width in characters in XLSX (writers widen it to fit the header). */
  readonly width: number;
}
export interface TextColumn<Row> extends ColumnBase {
  readonly type: 'text' | 'code';
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface DateColumn<Row> extends ColumnBase {
  readonly type: 'date';
  /** `yyyy-mm-dd` */
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface DecimalColumn<Row> extends ColumnBase {
  readonly type: 'money' | 'decimal' | 'percent';
  /** Decimals printed; money and percent: 2. */
  readonly scale: number;
  readonly value: (row: Row, locale: ExportLocale) => string | null;
}
export interface IntegerColumn<Row> extends ColumnBase {
  readonly type: 'integer';
  readonly value: (row: Row, locale: ExportLocale) => number | null;
}
export type ColumnDef<Row> = TextColumn<Row> | DateColumn<Row> | DecimalColumn<Row> | IntegerColumn<Row>;

/** The row shape each kind streams. */
export interface ExportRowByKind {
  [ExportKind.INVOICES]: InvoiceRow;
  [ExportKind.INVOICE_LINES]: InvoiceLineRow;
}
export type ExportRow = InvoiceRow | InvoiceLineRow;

// Columns both kinds share are written once, generic over the rows that carry the field.
type Identity = Pick<
  InvoiceRow,
  'type' | 'number' | 'billingDate' | 'payerLastName' | 'payerFirstName' | 'customerIdentifier' | 'billingYear' | 'billingPeriod'
>;
const documentType: TextColumn<Identity> = {
  key: 'type',
  header: { 'fr-FR': 'Type de pièce', 'en-GB': 'Document type' },
  type: 'text',
  width: 12,
  value: (r, locale) => invoiceTypeLabel(r.type, locale),
};
const documentNumber: TextColumn<Identity> = {
  key: 'number',
  header: { 'fr-FR': 'N° de pièce', 'en-GB': 'Document number' },
  type: 'code',
  width: 14,
  value: (r) => r.number,
};
const billingDate: DateColumn<Identity> = {
  key: 'billingDate',
  header: { 'fr-FR': 'Date de facturation', 'en-GB': 'Billing date' },
  type: 'date',
  width: 12,
  value: (r) => r.billingDate,
};
const payer: TextColumn<Identity> = {
  key: 'payer',
  header: { 'fr-FR': 'Payeur', 'en-GB': 'Payer' },
  type: 'text',
  width: 28,
  value: (r) => payerDisplayName(r.payerLastName, r.payerFirstName),
};
const customerIdentifier: TextColumn<Identity> = {
  key: 'customerIdentifier',
  header: { 'fr-FR': 'Identifiant client', 'en-GB': 'Customer identifier' },
  type: 'code',
  width: 16,
  value: (r) => r.customerIdentifier,
};
const billingYear: TextColumn<Identity> = {
  key: 'billingYear',
  header: { 'fr-FR': 'Année de facturation', 'en-GB': 'Billing year' },
  // `2018/2019` or `2015`: a label, not a number to add up.
  type: 'code',
  width: 12,
  value: (r) => r.billingYear,
};
const billingPeriod: TextColumn<Identity> = {
  key: 'billingPeriod',
  header: { 'fr-FR': 'Période de facturation', 'en-GB': 'Billing period' },
  type: 'text',
  width: 16,
  value: (r, locale) => billingPeriodLabel(r.billingPeriod, locale),
};

/** `Exporter`: one row per invoice or credit note (DESIGN §6, in this order). */
export const INVOICE_COLUMNS: readonly ColumnDef<InvoiceRow>[] = [
  documentType,
  documentNumber,
  billingDate,
  {
    key: 'roleNumber',
    header: { 'fr-FR': 'Numéro de rôle', 'en-GB': 'Role number' },
    type: 'integer',
    width: 10,
    value: (r) => r.roleNumber,
  },
  payer,
  billingPeriod,
  billingYear,
  {
    key: 'notes',
    header: { 'fr-FR': 'Notes', 'en-GB': 'Notes' },
    type: 'text',
    width: 40,
    value: (r) => r.notes,
  },
  {
    key: 'amountDue',
    header: { 'fr-FR': 'Montant dû', 'en-GB': 'Amount due' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amountDue,
  },
  {
    key: 'amountPaid',
    header: { 'fr-FR': 'Montant payé', 'en-GB': 'Amount paid' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amountPaid,
  },
  {
    key: 'remainingDue',
    header: { 'fr-FR': 'Restant dû', 'en-GB': 'Remaining due' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.remainingDue,
  },
  {
    key: 'pendingCollection',
    header: { 'fr-FR': "Total en attente d'encaissement", 'en-GB': 'Pending collection' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.pendingCollection,
  },
  {
    key: 'status',
    header: { 'fr-FR': 'État', 'en-GB': 'Status' },
    type: 'text',
    width: 22,
    value: (r, locale) => invoiceStatusLabel(r.status, locale),
  },
  {
    key: 'uniqueIdentifier',
    header: { 'fr-FR': 'Identifiant unique', 'en-GB': 'Unique identifier' },
    type: 'code',
    width: 18,
    value: (r) => r.uniqueIdentifier,
  },
  customerIdentifier,
  {
    key: 'familyQuotient',
    header: { 'fr-FR': 'Quotient familial', 'en-GB': 'Family quotient' },
    type: 'decimal',
    scale: 2,
    width: 12,
    value: (r) => r.familyQuotient,
  },
  {
    key: 'paymentMethod',
    header: { 'fr-FR': 'Mode de règlement', 'en-GB': 'Payment method' },
    type: 'text',
    width: 18,
    value: (r, locale) => paymentMethodLabel(r.paymentMethod, locale),
  },
];

/** `Exporter les lignes de facturation`: one row per billing line, its invoice's identity repeated. */
export const INVOICE_LINE_COLUMNS: readonly ColumnDef<InvoiceLineRow>[] = [
  documentType,
  documentNumber,
  billingDate,
  payer,
  customerIdentifier,
  billingYear,
  billingPeriod,
  {
    key: 'position',
    header: { 'fr-FR': 'N° de ligne', 'en-GB': 'Line no.' },
    type: 'integer',
    width: 8,
    value: (r) => r.position,
  },
  {
    key: 'label',
    header: { 'fr-FR': 'Désignation', 'en-GB': 'Description' },
    type: 'text',
    width: 36,
    value: (r) => r.label,
  },
  {
    key: 'beneficiary',
    header: { 'fr-FR': 'Élève', 'en-GB': 'Pupil' },
    type: 'text',
    width: 24,
    value: (r) => r.beneficiary,
  },
  {
    key: 'activity',
    header: { 'fr-FR': 'Activité', 'en-GB': 'Activity' },
    type: 'text',
    width: 24,
    value: (r) => r.activity,
  },
  {
    key: 'quantity',
    header: { 'fr-FR': 'Quantité', 'en-GB': 'Quantity' },
    type: 'decimal',
    scale: 3,
    width: 10,
    value: (r) => r.quantity,
  },
  {
    key: 'unitPrice',
    header: { 'fr-FR': 'Prix unitaire', 'en-GB': 'Unit price' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.unitPrice,
  },
  {
    key: 'discountAmount',
    header: { 'fr-FR': 'Remise', 'en-GB': 'Discount' },
    type: 'money',
    scale: 2,
    width: 12,
    value: (r) => r.discountAmount,
  },
  {
    key: 'amount',
    header: { 'fr-FR': 'Montant', 'en-GB': 'Amount' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amount,
  },
  {
    key: 'vatRate',
    header: { 'fr-FR': 'Taux de TVA', 'en-GB': 'VAT rate' },
    type: 'percent',
    scale: 2,
    width: 10,
    value: (r) => r.vatRate,
  },
  {
    key: 'accountingAccount',
    header: { 'fr-FR': 'Compte comptable', 'en-GB': 'Accounting account' },
    type: 'code',
    width: 16,
    value: (r) => r.accountingAccount,
  },
  {
    key: 'analyticCode',
    header: { 'fr-FR': 'Code analytique', 'en-GB': 'Analytic code' },
    type: 'code',
    width: 16,
    value: (r) => r.analyticCode,
  },
];

const COLUMNS: { readonly [K in ExportKind]: readonly ColumnDef<ExportRowByKind[K]>[] } = {
  [ExportKind.INVOICES]: INVOICE_COLUMNS,
  [ExportKind.INVOICE_LINES]: INVOICE_LINE_COLUMNS,
};

export function columnsFor<K extends ExportKind>(kind: K): readonly ColumnDef<ExportRowByKind[K]>[] {
  const columns = COLUMNS[kind];
  if (!columns) throw new Error(`Unknown export kind: ${String(kind)}`);
  return columns;
}

export function headersFor(kind: ExportKind, locale: ExportLocale): string[] {
  return columnsFor(kind).map((c) => c.header[locale]);
}

/**
 * Amount columns of each kind. Their key is the row field holding the decimal
 * string, so a caller can total a file: `sumMoney(rows.map((r) => r[key]))`.
 */
export const MONEY_COLUMN_KEYS: { readonly [K in ExportKind]: readonly StringField<ExportRowByKind[K]>[] } = {
  [ExportKind.INVOICES]: moneyKeys(INVOICE_COLUMNS),
  [ExportKind.INVOICE_LINES]: moneyKeys(INVOICE_LINE_COLUMNS),
};

/** Fields of a row that always hold a string (money fields are among them). */
export type StringField<Row> = { [P in keyof Row]-?: Row[P] extends string ? P : never }[keyof Row] & string;

function moneyKeys<Row>(columns: readonly ColumnDef<Row>[]): StringField<Row>[] {
  return columns.filter((c) => c.type === 'money').map((c) => c.key as StringField<Row>);
}

/** Name of the data sheet (XLSX) for a kind; continuation sheets add ` (2)`, ` (3)`… */
export const DATA_SHEET_NAMES: { readonly [K in ExportKind]: Localized } = {
  [ExportKind.INVOICES]: { 'fr-FR': 'Factures et avoirs', 'en-GB': 'Invoices and credit notes' },
  [ExportKind.INVOICE_LINES]: { 'fr-FR': 'Lignes de facturation', 'en-GB': 'Billing lines' },
};

// ---------------------------------------------------------------------------
// Cell value helpers shared by the writers (strings in, strings out).

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `yyyy-mm-dd` → its parts; anything else (a JS Date, a timestamp) is a contract breach. */
export function parseCalendarDate(value: string): { year: number; month: number; day: number } {
  const m = typeof value === 'string' ? DATE_RE.exec(value) : null;
  if (!m) {
    throw new TypeError(`Expected a calendar date "yyyy-mm-dd", got ${describe(value)}`);
  }
  return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
}

const DECIMAL_RE = /^([+-])?(\d*)(?:\.(\d*))?$/;

/**
 * A decimal string printed with exactly `scale` decimals and the given
 * decimal separator, by string manipulation only (no float): `-500.5` →
 * `-500,50`. Extra decimals are rounded half away from zero, as PostgreSQL
 * rounds numerics.
 */
export function formatDecimal(value: string, scale: number, decimalSeparator: string): string {
  const m = typeof value === 'string' ? DECIMAL_RE.exec(value.trim()) : null;
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new TypeError(`Expected a decimal string, got ${describe(value)}`);
  }
  const negative = m[1] === '-';
  let int = m[2].replace(/^0+(?=\d)/, '') || '0';
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    const roundUp = frac.charCodeAt(scale) >= 53; /* '5' */
    frac = frac.slice(0, scale);
    if (roundUp) {
      const digits = (BigInt(int + frac) + 1n).toString().padStart(int.length + scale, '0');
      int = digits.slice(0, digits.length - scale) || '0';
      frac = digits.slice(digits.length - scale);
    }
  } else {
    frac = frac.padEnd(scale, '0');
  }
  const isZero = /^0*$/.test(int) && /^0*$/.test(frac);
  const sign = negative && !isZero ? '-' : '';
  return scale > 0 ? `${sign}${int}${decimalSeparator}${frac}` : `${sign}${int}`;
}

/** `20.00` (percent) → `0.2000` (fraction), moving the point two places: still no float. */
export function percentToFraction(value: string): string {
  const m = typeof value === 'string' ? DECIMAL_RE.exec(value.trim()) : null;
  if (!m) throw new TypeError(`Expected a decimal string, got ${describe(value)}`);
  const int = (m[2] || '0').padStart(3, '0');
  return `${m[1] === '-' ? '-' : ''}${int.slice(0, -2)}.${int.slice(-2)}${m[3] ?? ''}`;
}

function describe(value: unknown): string {
  return value instanceof Date ? `a Date (${value.toISOString()})` : JSON.stringify(value) ?? String(value);
}
