import { ExportFormat, ExportKind } from '../../entities/enums';
import type { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../../entities/enums';
import type { ColumnDef } from '../cells';
import { stampedFileName } from '../file-name';
import { invoiceStatusLabel, paymentMethodLabel } from '../labels';
import { SqlParams, selectionConditions } from '../selection';
import { createWriterFor } from '../writers/create';
import type { BaseTotals, ExportKindDefinition } from './kind';
import { billingDate, billingPeriod, billingYear, customerIdentifier, documentNumber, documentType, payer } from './shared-columns';

/**
 * "Exporter": one row per invoice or credit note, the global amounts per
 * payer. Its SELECT, its row, its columns and its totals.
 */

/** A row as the SELECT streams it: aliases are these property names; money stays a decimal string. */
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


/** Counts and sums every kind's `Résumé` shows; sums by PostgreSQL on numeric, exact decimal strings. */
export const BASE_TOTALS_SQL = `count(*) FILTER (WHERE i.type = 'INVOICE') AS "invoiceCount",
           count(*) FILTER (WHERE i.type = 'CREDIT_NOTE') AS "creditNoteCount",
           coalesce(sum(i.amount_due), 0)::text AS "totalDue",
           coalesce(sum(i.amount_paid), 0)::text AS "totalPaid",
           coalesce(sum(i.remaining_due), 0)::text AS "totalRemaining"`;

const SELECT_LIST = `
  i.type AS "type", i.number AS "number", i.billing_date AS "billingDate", i.role_number AS "roleNumber",
  p.last_name AS "payerLastName", p.first_name AS "payerFirstName",
  i.billing_period AS "billingPeriod", i.billing_year AS "billingYear", i.notes AS "notes",
  i.amount_due AS "amountDue", i.amount_paid AS "amountPaid", i.remaining_due AS "remainingDue",
  i.pending_collection AS "pendingCollection", i.status AS "status", i.unique_identifier AS "uniqueIdentifier",
  p.customer_identifier AS "customerIdentifier", p.family_quotient AS "familyQuotient", i.payment_method AS "paymentMethod"`;

export const INVOICES_KIND: ExportKindDefinition<InvoiceRow, InvoiceRow, BaseTotals> = {
  kind: ExportKind.INVOICES,
  formats: [ExportFormat.XLSX, ExportFormat.CSV],
  columns: INVOICE_COLUMNS,
  sheetName: { 'fr-FR': 'Factures et avoirs', 'en-GB': 'Invoices and credit notes' },
  fileStem: { 'fr-FR': 'factures', 'en-GB': 'invoices' },
  rowsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT ${SELECT_LIST}
         FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         WHERE ${where}
         ORDER BY i.billing_date, i.number`;
    return { text, values: params.values };
  },
  totalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    return { text: `SELECT ${BASE_TOTALS_SQL} FROM invoices i WHERE ${where}`, values: params.values };
  },
  totalRows: (t) => Number(t.invoiceCount) + Number(t.creditNoteCount),
  async openAttempt({ exp, tenant, locale, output, maxRowsPerSheet }) {
    return {
      fileName: stampedFileName(this.fileStem[locale], exp.format, exp.createdAt, tenant.timezone),
      writer: createWriterFor({ columns: this.columns, sheetName: this.sheetName[locale], format: exp.format, locale, output, maxRowsPerSheet, timeZone: tenant.timezone, layout: exp.options }),
      warnings: () => null,
    };
  },
};
