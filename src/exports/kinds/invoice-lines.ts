import { ExportFormat, ExportKind } from '../../entities/enums';
import type { BillingPeriod, InvoiceType } from '../../entities/enums';
import type { ColumnDef } from '../cells';
import { stampedFileName } from '../file-name';
import { SqlParams, selectionConditions } from '../selection';
import { createWriterFor } from '../writers/create';
import { BASE_TOTALS_SQL } from './invoices';
import type { BaseTotals, ExportKindDefinition } from './kind';
import { billingDate, billingPeriod, billingYear, customerIdentifier, documentNumber, documentType, payer } from './shared-columns';

/**
 * "Exporter les lignes de facturation": one row per billing line, the
 * identity of its invoice repeated.
 */

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


const SELECT_LIST = `
  i.type AS "type", i.number AS "number", i.billing_date AS "billingDate",
  p.last_name AS "payerLastName", p.first_name AS "payerFirstName", p.customer_identifier AS "customerIdentifier",
  i.billing_year AS "billingYear", i.billing_period AS "billingPeriod",
  l.position AS "position", l.label AS "label", l.beneficiary AS "beneficiary", l.activity AS "activity",
  l.quantity AS "quantity", l.unit_price AS "unitPrice", l.discount_amount AS "discountAmount", l.amount AS "amount",
  l.vat_rate AS "vatRate", l.accounting_account AS "accountingAccount", l.analytic_code AS "analyticCode"`;

export interface InvoiceLineTotals extends BaseTotals {
  lineCount: number;
}

export const INVOICE_LINES_KIND: ExportKindDefinition<InvoiceLineRow, InvoiceLineRow, InvoiceLineTotals> = {
  kind: ExportKind.INVOICE_LINES,
  formats: [ExportFormat.XLSX, ExportFormat.CSV],
  columns: INVOICE_LINE_COLUMNS,
  sheetName: { 'fr-FR': 'Lignes de facturation', 'en-GB': 'Billing lines' },
  fileStem: { 'fr-FR': 'lignes-de-facturation', 'en-GB': 'invoice-lines' },
  rowsQuery(tenantId, selection) {
    const params = new SqlParams();
    const where = selectionConditions(params, tenantId, selection).join(' AND ');
    // LATERAL pins the plan that streams: invoices in export order from
    // their index, each one's lines from (invoice_id, position). Without
    // it, fresh statistics can make the planner scan every line of the table.
    const text = `SELECT ${SELECT_LIST}
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
    // Per invoice, through the (invoice_id, position) index: cheap whatever the statistics say.
    const text = `SELECT ${BASE_TOTALS_SQL},
           coalesce(sum((SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.tenant_id = i.tenant_id)), 0) AS "lineCount"
         FROM invoices i WHERE ${where}`;
    return { text, values: params.values };
  },
  totalRows: (t) => Number(t.lineCount),
  async openAttempt({ exp, tenant, locale, output, maxRowsPerSheet }) {
    return {
      fileName: stampedFileName(this.fileStem[locale], exp.format, exp.createdAt, tenant.timezone),
      writer: createWriterFor({ columns: this.columns, sheetName: this.sheetName[locale], format: exp.format, locale, output, maxRowsPerSheet, timeZone: tenant.timezone, layout: exp.options }),
      warnings: () => null,
    };
  },
};
