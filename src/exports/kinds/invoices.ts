import { SqlParams } from '../../db/sql';
import { ExportFormat, ExportKind } from '../../entities/enums';
import type { InvoiceStatus, PaymentMethod } from '../../entities/enums';
import { column, selectList, type RowOf } from '../cells';
import { invoiceStatusLabel, paymentMethodLabel } from '../labels';
import { selectionConditions } from '../selection';
import { attemptFileArgs, openKindFile, type BaseTotals, type ExportKindDefinition } from './kind';
import { billingDate, billingPeriod, billingYear, customerIdentifier, documentNumber, documentType, payer } from './shared-columns';

/**
 * "Exporter": one row per invoice or credit note, the global amounts per
 * payer. Its SELECT, its row, its columns and its totals.
 */

/** `Exporter`: one row per invoice or credit note (docs/files.md, in this order). */
export const INVOICE_COLUMNS = [
  documentType,
  documentNumber,
  billingDate,
  column<{ roleNumber: number | null }>({
    key: 'roleNumber',
    select: { roleNumber: 'i.role_number' },
    header: { 'fr-FR': 'Numéro de rôle', 'en-GB': 'Role number' },
    type: 'integer',
    width: 10,
    value: (r) => r.roleNumber,
  }),
  payer,
  billingPeriod,
  billingYear,
  column<{ notes: string | null }>({
    key: 'notes',
    select: { notes: 'i.notes' },
    header: { 'fr-FR': 'Notes', 'en-GB': 'Notes' },
    type: 'text',
    width: 40,
    value: (r) => r.notes,
  }),
  column<{ amountDue: string }>({
    key: 'amountDue',
    select: { amountDue: 'i.amount_due' },
    header: { 'fr-FR': 'Montant dû', 'en-GB': 'Amount due' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amountDue,
  }),
  column<{ amountPaid: string }>({
    key: 'amountPaid',
    select: { amountPaid: 'i.amount_paid' },
    header: { 'fr-FR': 'Montant payé', 'en-GB': 'Amount paid' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amountPaid,
  }),
  column<{ remainingDue: string }>({
    key: 'remainingDue',
    select: { remainingDue: 'i.remaining_due' },
    header: { 'fr-FR': 'Restant dû', 'en-GB': 'Remaining due' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.remainingDue,
  }),
  column<{ pendingCollection: string }>({
    key: 'pendingCollection',
    select: { pendingCollection: 'i.pending_collection' },
    header: { 'fr-FR': "Total en attente d'encaissement", 'en-GB': 'Pending collection' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.pendingCollection,
  }),
  column<{ status: InvoiceStatus }>({
    key: 'status',
    select: { status: 'i.status' },
    header: { 'fr-FR': 'État', 'en-GB': 'Status' },
    type: 'text',
    width: 22,
    value: (r, locale) => invoiceStatusLabel(r.status, locale),
  }),
  column<{ uniqueIdentifier: string | null }>({
    key: 'uniqueIdentifier',
    select: { uniqueIdentifier: 'i.unique_identifier' },
    header: { 'fr-FR': 'Identifiant unique', 'en-GB': 'Unique identifier' },
    type: 'code',
    width: 18,
    value: (r) => r.uniqueIdentifier,
  }),
  customerIdentifier,
  column<{ familyQuotient: string | null }>({
    key: 'familyQuotient',
    select: { familyQuotient: 'p.family_quotient' },
    header: { 'fr-FR': 'Quotient familial', 'en-GB': 'Family quotient' },
    type: 'decimal',
    scale: 2,
    width: 12,
    value: (r) => r.familyQuotient,
  }),
  column<{ paymentMethod: PaymentMethod | null }>({
    key: 'paymentMethod',
    select: { paymentMethod: 'i.payment_method' },
    header: { 'fr-FR': 'Mode de règlement', 'en-GB': 'Payment method' },
    type: 'text',
    width: 18,
    value: (r, locale) => paymentMethodLabel(r.paymentMethod, locale),
  }),
] as const;

/** A row as the SELECT streams it (aliases are its field names; money stays a decimal string), derived from the columns. */
export type InvoiceRow = RowOf<typeof INVOICE_COLUMNS>;


/** Counts and sums every kind's `Résumé` shows; sums by PostgreSQL on numeric, exact decimal strings. */
export const BASE_TOTALS_SQL = `count(*) FILTER (WHERE i.type = 'INVOICE') AS "invoiceCount",
           count(*) FILTER (WHERE i.type = 'CREDIT_NOTE') AS "creditNoteCount",
           coalesce(sum(i.amount_due), 0)::text AS "totalDue",
           coalesce(sum(i.amount_paid), 0)::text AS "totalPaid",
           coalesce(sum(i.remaining_due), 0)::text AS "totalRemaining"`;

export const INVOICES_KIND: ExportKindDefinition<InvoiceRow, InvoiceRow, BaseTotals> = {
  kind: ExportKind.INVOICES,
  defaultFormat: ExportFormat.XLSX,
  columns: INVOICE_COLUMNS,
  sheetName: { 'fr-FR': 'Factures et avoirs', 'en-GB': 'Invoices and credit notes' },
  fileStem: { 'fr-FR': 'factures', 'en-GB': 'invoices' },
  rowsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT ${selectList(INVOICE_COLUMNS)}
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
  async openAttempt(args) {
    return { ...openKindFile(this, attemptFileArgs(args)), warnings: () => null };
  },
};
