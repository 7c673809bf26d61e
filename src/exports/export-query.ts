import { ExportKind } from '../entities/enums';
import { SqlParams, StoredSelection, selectionConditions } from './selection';

/**
 * The export's own SELECT, one per kind: aliases are the property names of
 * exports/rows.ts, order is billing date then number (lines by position).
 * Used by the worker and by the benchmark's COPY baseline.
 */
const INVOICE_COLUMNS = `
  i.type AS "type", i.number AS "number", i.billing_date AS "billingDate", i.role_number AS "roleNumber",
  p.last_name AS "payerLastName", p.first_name AS "payerFirstName",
  i.billing_period AS "billingPeriod", i.billing_year AS "billingYear", i.notes AS "notes",
  i.amount_due AS "amountDue", i.amount_paid AS "amountPaid", i.remaining_due AS "remainingDue",
  i.pending_collection AS "pendingCollection", i.status AS "status", i.unique_identifier AS "uniqueIdentifier",
  p.customer_identifier AS "customerIdentifier", p.family_quotient AS "familyQuotient", i.payment_method AS "paymentMethod"`;

const LINE_COLUMNS = `
  i.type AS "type", i.number AS "number", i.billing_date AS "billingDate",
  p.last_name AS "payerLastName", p.first_name AS "payerFirstName", p.customer_identifier AS "customerIdentifier",
  i.billing_year AS "billingYear", i.billing_period AS "billingPeriod",
  l.position AS "position", l.label AS "label", l.beneficiary AS "beneficiary", l.activity AS "activity",
  l.quantity AS "quantity", l.unit_price AS "unitPrice", l.discount_amount AS "discountAmount", l.amount AS "amount",
  l.vat_rate AS "vatRate", l.accounting_account AS "accountingAccount", l.analytic_code AS "analyticCode"`;

export interface BuiltQuery {
  text: string;
  values: unknown[];
}

export function exportRowsQuery(kind: ExportKind, tenantId: string, selection: StoredSelection): BuiltQuery {
  const params = new SqlParams();
  const where = selectionConditions(params, tenantId, selection).join(' AND ');
  const text =
    kind === ExportKind.INVOICES
      ? `SELECT ${INVOICE_COLUMNS}
         FROM invoices i JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         WHERE ${where}
         ORDER BY i.billing_date, i.number`
      : // LATERAL pins the plan that streams: invoices in export order from
        // their index, each one's lines from (invoice_id, position). Without
        // it, fresh statistics can make the planner scan every line of the table.
        `SELECT ${LINE_COLUMNS}
         FROM invoices i
         JOIN payers p ON p.tenant_id = i.tenant_id AND p.id = i.payer_id
         CROSS JOIN LATERAL (
           SELECT * FROM invoice_lines l0 WHERE l0.invoice_id = i.id AND l0.tenant_id = i.tenant_id ORDER BY l0.position
         ) l
         WHERE ${where}
         ORDER BY i.billing_date, i.number, l.position`;
  return { text, values: params.values };
}

/**
 * Counts and totals of the same selection, read in the same snapshot as the
 * rows: the progress bar's total and the `Résumé` sheet's figures. Sums are
 * done by PostgreSQL on numeric and come back as exact decimal strings.
 */
export function exportTotalsQuery(kind: ExportKind, tenantId: string, selection: StoredSelection): BuiltQuery {
  const params = new SqlParams();
  const where = selectionConditions(params, tenantId, selection).join(' AND ');
  // Per invoice, through the (invoice_id, position) index: cheap whatever the statistics say.
  const lineCount =
    kind === ExportKind.INVOICE_LINES
      ? `coalesce(sum((SELECT count(*) FROM invoice_lines l WHERE l.invoice_id = i.id AND l.tenant_id = i.tenant_id)), 0)`
      : 'NULL';
  const text = `
    SELECT count(*) FILTER (WHERE i.type = 'INVOICE') AS "invoiceCount",
           count(*) FILTER (WHERE i.type = 'CREDIT_NOTE') AS "creditNoteCount",
           coalesce(sum(i.amount_due), 0)::text AS "totalDue",
           coalesce(sum(i.amount_paid), 0)::text AS "totalPaid",
           coalesce(sum(i.remaining_due), 0)::text AS "totalRemaining",
           ${lineCount} AS "lineCount"
    FROM invoices i WHERE ${where}`;
  return { text, values: params.values };
}
