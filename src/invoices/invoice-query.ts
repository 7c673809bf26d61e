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

/**
 * The list "Factures et avoirs": newest billing date first, then number
 * (unique per tenant, so the order is total and keyset pagination is stable).
 */
export async function findInvoicePage(
  ds: DataSource,
  tenantId: string,
  filter: InvoiceFilterSpec | null | undefined,
  first: number,
  after: InvoiceCursor | null,
): Promise<{ invoices: Invoice[]; hasNextPage: boolean }> {
  const params = new SqlParams();
  const where = invoiceConditions(params, tenantId, filter);
  if (after) where.push(`(i.billing_date, i.number) < (${params.add(after[0])}::date, ${params.add(after[1])})`);
  const limit = params.add(first + 1);
  const rows: Record<string, unknown>[] = await ds.query(
    `SELECT ${selectList(ds)} FROM invoices i WHERE ${where.join(' AND ')}
     ORDER BY i.billing_date DESC, i.number DESC LIMIT ${limit}`,
    params.values,
  );
  return { invoices: rows.slice(0, first).map(toInvoice), hasNextPage: rows.length > first };
}

export async function countInvoices(ds: DataSource, tenantId: string, filter: InvoiceFilterSpec | null | undefined): Promise<number> {
  const params = new SqlParams();
  const where = invoiceConditions(params, tenantId, filter);
  const [row] = await ds.query(`SELECT count(*) AS n FROM invoices i WHERE ${where.join(' AND ')}`, params.values);
  return Number(row.n);
}

export async function findInvoice(ds: DataSource, tenantId: string, id: string): Promise<Invoice | null> {
  return ds.getRepository(Invoice).findOneBy({ tenantId, id });
}
