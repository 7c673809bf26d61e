import { DataSource } from 'typeorm';
import { Invoice } from '../entities';
import { InvoiceFilterSpec, SqlParams, invoiceConditions } from '../exports/selection';

export type InvoiceCursor = [billingDate: string, number: string];

/** `i.amount_due AS "amountDue", …`: every mapped column, so rows become entities as they are. */
function selectList(ds: DataSource): string {
  return ds
    .getMetadata(Invoice)
    .columns.map((c) => `i.${c.databaseName} AS "${c.propertyName}"`)
    .join(', ');
}

function toInvoice(row: Record<string, unknown>): Invoice {
  return Object.assign(new Invoice(), row);
}

export interface SqlQuery {
  sql: string;
  params: unknown[];
}

/**
 * The list "Factures et avoirs": newest billing date first, then number
 * (unique per tenant, so the order is total and keyset pagination is stable).
 * One row more than the page, to know whether there is a next one.
 */
export function invoicePageQuery(
  ds: DataSource,
  tenantId: string,
  filter: InvoiceFilterSpec | null | undefined,
  first: number,
  after: InvoiceCursor | null,
): SqlQuery {
  const params = new SqlParams();
  const where = invoiceConditions(params, tenantId, filter);
  if (after) where.push(`(i.billing_date, i.number) < (${params.add(after[0])}::date, ${params.add(after[1])})`);
  const limit = params.add(first + 1);
  return {
    sql: `SELECT ${selectList(ds)} FROM invoices i WHERE ${where.join(' AND ')}
     ORDER BY i.billing_date DESC, i.number DESC LIMIT ${limit}`,
    params: params.values,
  };
}

/** The list's totalCount: exact, with the page's own conditions. */
export function invoiceCountQuery(tenantId: string, filter: InvoiceFilterSpec | null | undefined): SqlQuery {
  const params = new SqlParams();
  const where = invoiceConditions(params, tenantId, filter);
  return { sql: `SELECT count(*) AS n FROM invoices i WHERE ${where.join(' AND ')}`, params: params.values };
}

export async function findInvoicePage(
  ds: DataSource,
  tenantId: string,
  filter: InvoiceFilterSpec | null | undefined,
  first: number,
  after: InvoiceCursor | null,
): Promise<{ invoices: Invoice[]; hasNextPage: boolean }> {
  const { sql, params } = invoicePageQuery(ds, tenantId, filter, first, after);
  const rows: Record<string, unknown>[] = await ds.query(sql, params);
  return { invoices: rows.slice(0, first).map(toInvoice), hasNextPage: rows.length > first };
}

export async function countInvoices(ds: DataSource, tenantId: string, filter: InvoiceFilterSpec | null | undefined): Promise<number> {
  const { sql, params } = invoiceCountQuery(tenantId, filter);
  const [row] = await ds.query(sql, params);
  return Number(row.n);
}

export async function findInvoice(ds: DataSource, tenantId: string, id: string): Promise<Invoice | null> {
  return ds.getRepository(Invoice).findOneBy({ tenantId, id });
}
