import { SqlParams } from '../../db/sql';
import { ExportFormat, ExportKind } from '../../entities/enums';
import { column, selectList, type RowOf } from '../cells';
import { selectionConditions } from '../selection';
import { BASE_TOTALS_SQL } from './invoices';
import { attemptFileArgs, openKindFile, type BaseTotals, type ExportKindDefinition } from './kind';
import { billingDate, billingPeriod, billingYear, customerIdentifier, documentNumber, documentType, payer } from './shared-columns';

/**
 * "Exporter les lignes de facturation": one row per billing line, the
 * identity of its invoice repeated.
 */

/** `Exporter les lignes de facturation`: one row per billing line, its invoice's identity repeated. */
export const INVOICE_LINE_COLUMNS = [
  documentType,
  documentNumber,
  billingDate,
  payer,
  customerIdentifier,
  billingYear,
  billingPeriod,
  column<{ position: number }>({
    key: 'position',
    select: { position: 'l.position' },
    header: { 'fr-FR': 'N° de ligne', 'en-GB': 'Line no.' },
    type: 'integer',
    width: 8,
    value: (r) => r.position,
  }),
  column<{ label: string }>({
    key: 'label',
    select: { label: 'l.label' },
    header: { 'fr-FR': 'Désignation', 'en-GB': 'Description' },
    type: 'text',
    width: 36,
    value: (r) => r.label,
  }),
  column<{ beneficiary: string | null }>({
    key: 'beneficiary',
    select: { beneficiary: 'l.beneficiary' },
    header: { 'fr-FR': 'Élève', 'en-GB': 'Pupil' },
    type: 'text',
    width: 24,
    value: (r) => r.beneficiary,
  }),
  column<{ activity: string | null }>({
    key: 'activity',
    select: { activity: 'l.activity' },
    header: { 'fr-FR': 'Activité', 'en-GB': 'Activity' },
    type: 'text',
    width: 24,
    value: (r) => r.activity,
  }),
  column<{ quantity: string }>({
    key: 'quantity',
    select: { quantity: 'l.quantity' },
    header: { 'fr-FR': 'Quantité', 'en-GB': 'Quantity' },
    type: 'decimal',
    scale: 3,
    width: 10,
    value: (r) => r.quantity,
  }),
  column<{ unitPrice: string }>({
    key: 'unitPrice',
    select: { unitPrice: 'l.unit_price' },
    header: { 'fr-FR': 'Prix unitaire', 'en-GB': 'Unit price' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.unitPrice,
  }),
  column<{ discountAmount: string }>({
    key: 'discountAmount',
    select: { discountAmount: 'l.discount_amount' },
    header: { 'fr-FR': 'Remise', 'en-GB': 'Discount' },
    type: 'money',
    scale: 2,
    width: 12,
    value: (r) => r.discountAmount,
  }),
  column<{ amount: string }>({
    key: 'amount',
    select: { amount: 'l.amount' },
    header: { 'fr-FR': 'Montant', 'en-GB': 'Amount' },
    type: 'money',
    scale: 2,
    width: 14,
    value: (r) => r.amount,
  }),
  column<{ vatRate: string }>({
    key: 'vatRate',
    select: { vatRate: 'l.vat_rate' },
    header: { 'fr-FR': 'Taux de TVA', 'en-GB': 'VAT rate' },
    type: 'percent',
    scale: 2,
    width: 10,
    value: (r) => r.vatRate,
  }),
  column<{ accountingAccount: string | null }>({
    key: 'accountingAccount',
    select: { accountingAccount: 'l.accounting_account' },
    header: { 'fr-FR': 'Compte comptable', 'en-GB': 'Accounting account' },
    type: 'code',
    width: 16,
    value: (r) => r.accountingAccount,
  }),
  column<{ analyticCode: string | null }>({
    key: 'analyticCode',
    select: { analyticCode: 'l.analytic_code' },
    header: { 'fr-FR': 'Code analytique', 'en-GB': 'Analytic code' },
    type: 'code',
    width: 16,
    value: (r) => r.analyticCode,
  }),
] as const;

/** A row as the SELECT streams it, derived from the columns. */
export type InvoiceLineRow = RowOf<typeof INVOICE_LINE_COLUMNS>;


export interface InvoiceLineTotals extends BaseTotals {
  lineCount: number;
}

export const INVOICE_LINES_KIND: ExportKindDefinition<InvoiceLineRow, InvoiceLineRow, InvoiceLineTotals> = {
  kind: ExportKind.INVOICE_LINES,
  defaultFormat: ExportFormat.XLSX,
  columns: INVOICE_LINE_COLUMNS,
  sheetName: { 'fr-FR': 'Lignes de facturation', 'en-GB': 'Billing lines' },
  fileStem: { 'fr-FR': 'lignes-de-facturation', 'en-GB': 'invoice-lines' },
  rowsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    // LATERAL pins the plan that streams: invoices in export order from
    // their index, each one's lines from (invoice_id, position). Without
    // it, fresh statistics can make the planner scan every line of the table.
    const text = `SELECT ${selectList(INVOICE_LINE_COLUMNS)}
         FROM invoices i
         JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         CROSS JOIN LATERAL (
           SELECT * FROM invoice_lines l0 WHERE l0.invoice_id = i.id AND l0.tenant_id = i.tenant_id ORDER BY l0.position
         ) l
         WHERE ${where}
         ORDER BY i.billing_date, i.number, l.position`;
    return { text, values: params.values };
  },
  totalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    const text = `SELECT ${BASE_TOTALS_SQL} FROM invoices i WHERE ${where}`;
    return { text, values: params.values };
  },
  probeTotalsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    // Per invoice, through the (invoice_id, position) index: cheap whatever the statistics say.
    const text = `SELECT coalesce(sum((SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.tenant_id = i.tenant_id)), 0) AS "lineCount"
         FROM invoices i WHERE ${where}`;
    return { text, values: params.values };
  },
  totalRows: (t) => Number(t.lineCount),
  async openAttempt(args) {
    return { ...openKindFile(this, attemptFileArgs(args)), warnings: () => null };
  },
};
