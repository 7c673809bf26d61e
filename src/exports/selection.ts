import type { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod } from '../entities/enums';
import { isUuid, SqlParams } from '../db/sql';
import { badInput } from '../errors';

// Callers of the selection write its SQL with these (they live in db/, below every domain).
export { isUuid, SqlParams };

/** The list's filter as plain data (GraphQL input, stored selection and SQL all share it). */
export interface InvoiceFilterSpec {
  types?: InvoiceType[] | null;
  statuses?: InvoiceStatus[] | null;
  billingDateFrom?: string | null;
  billingDateTo?: string | null;
  billingYear?: string | null;
  billingPeriods?: BillingPeriod[] | null;
  roleNumber?: number | null;
  payerId?: string | null;
  paymentMethods?: PaymentMethod[] | null;
  search?: string | null;
  /** Transferred to accounting by a completed ACCOUNTING_ENTRIES export (accounting_transfers). */
  accountingTransferred?: boolean | null;
}

/** What `invoice_exports.selection` holds. */
export type StoredSelection =
  | { mode: 'ids'; invoiceIds: string[] }
  | {
      mode: 'filter';
      filter: InvoiceFilterSpec;
      excludedInvoiceIds: string[];
      /** "Tous les résultats" means the invoices that existed when the user asked. */
      createdBefore: string;
    };


const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * WHERE conditions on invoices `i` for a tenant and a filter. The tenant
 * condition comes first and is always there: this is the one place where the
 * list, the exports and the counts get their tenant scope.
 */
export function invoiceConditions(params: SqlParams, tenantId: string, filter: InvoiceFilterSpec | null | undefined): string[] {
  const t = params.add(tenantId);
  const where = [`i.tenant_id = ${t}`];
  if (!filter) return where;
  if (filter.types?.length) where.push(`i.type = ANY(${params.add(filter.types)}::text[])`);
  if (filter.statuses?.length) where.push(`i.status = ANY(${params.add(filter.statuses)}::text[])`);
  if (filter.billingDateFrom) where.push(`i.billing_date >= ${params.add(filter.billingDateFrom)}::date`);
  if (filter.billingDateTo) where.push(`i.billing_date <= ${params.add(filter.billingDateTo)}::date`);
  if (filter.billingYear) where.push(`i.billing_year = ${params.add(filter.billingYear)}`);
  if (filter.billingPeriods?.length) where.push(`i.billing_period = ANY(${params.add(filter.billingPeriods)}::text[])`);
  if (filter.roleNumber !== undefined && filter.roleNumber !== null) where.push(`i.role_number = ${params.add(filter.roleNumber)}`);
  if (filter.payerId) where.push(`i.payer_id = ${params.add(filter.payerId)}::uuid`);
  if (filter.paymentMethods?.length) where.push(`i.payment_method = ANY(${params.add(filter.paymentMethods)}::text[])`);
  if (filter.accountingTransferred === true || filter.accountingTransferred === false) {
    const transferred = `EXISTS (SELECT 1 FROM accounting_transfers act WHERE act.tenant_id = ${t} AND act.invoice_id = i.id)`;
    where.push(filter.accountingTransferred ? transferred : `NOT ${transferred}`);
  }
  const search = normalizeSearch(filter.search);
  if (search) where.push(searchCondition(params, t, search));
  return where;
}

/**
 * The search as typed, ready to match: NFC first (ie_fold maps precomposed
 * letters such as "é", so a decomposed "e\u0301", pasted from macOS or some
 * keyboards, would otherwise find nothing), blanks collapsed to one space.
 * Empty: no search.
 */
function normalizeSearch(search: string | null | undefined): string {
  return search?.normalize('NFC').trim().replace(/\s+/g, ' ') ?? '';
}

/**
 * Number or payer name ("LASTNAME Firstname" or "Firstname LASTNAME"), a
 * substring, folded the same way on both sides so that "heloise" finds
 * "Héloïse". The folded text is stored once (invoices.number_folded,
 * payers.name_folded, kept by triggers) and each side is a candidate set
 * that a tenant-led trigram index answers on its own; their union is what
 * the invoice's id must be in (an OR across the two tables would defeat both
 * indexes). docs/search.md.
 */
function searchCondition(params: SqlParams, t: string, search: string): string {
  const pattern = `ie_fold(${params.add(`%${escapeLike(search)}%`)})`;
  return `i.id IN (
      SELECT sn.id FROM invoices sn WHERE sn.tenant_id = ${t} AND sn.number_folded LIKE ${pattern}
      UNION ALL
      SELECT sp_i.id FROM invoices sp_i WHERE sp_i.tenant_id = ${t} AND sp_i.payer_id IN (
        SELECT sp.id FROM payers sp WHERE sp.tenant_id = ${t} AND sp.name_folded LIKE ${pattern}))`;
}

/** WHERE conditions on invoices `i` for an export's stored selection. */
export function selectionConditions(params: SqlParams, tenantId: string, selection: StoredSelection): string[] {
  if (selection.mode === 'ids') {
    return [`i.tenant_id = ${params.add(tenantId)}`, `i.id = ANY(${params.add(selection.invoiceIds)}::uuid[])`];
  }
  const where = invoiceConditions(params, tenantId, selection.filter);
  where.push(`i.created_at <= ${params.add(selection.createdBefore)}::timestamptz`);
  if (selection.excludedInvoiceIds.length) {
    where.push(`NOT (i.id = ANY(${params.add(selection.excludedInvoiceIds)}::uuid[]))`);
  }
  return where;
}


/** Refuses a filter that cannot mean anything, with the reason. */
export function validateFilter(filter: InvoiceFilterSpec | null | undefined, field = 'filter'): void {
  if (!filter) return;
  if (filter.payerId && !isUuid(filter.payerId)) {
    throw badInput(`${field}.payerId is not a valid id (got "${filter.payerId}")`);
  }
  if (filter.billingDateFrom && filter.billingDateTo && filter.billingDateFrom > filter.billingDateTo) {
    throw badInput(`${field}.billingDateFrom (${filter.billingDateFrom}) is after billingDateTo (${filter.billingDateTo})`);
  }
  if (filter.billingYear && !/^\d{4}(\/\d{4})?$/.test(filter.billingYear)) {
    throw badInput(`${field}.billingYear must look like "2018/2019" or "2015" (got "${filter.billingYear}")`);
  }
  if (filter.search && filter.search.length > 200) {
    throw badInput(`${field}.search is too long (at most 200 characters)`);
  }
}
