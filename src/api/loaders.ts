import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { latestTransfers } from '../accounting/transfers';
import { InvoiceLine, Payer } from '../entities';

/**
 * Per-request batch loaders: a page of invoices asks for its payers and lines
 * in one query each, whatever the page size. Tenant-scoped like every query.
 */
export interface Loaders {
  payer: DataLoader<string, Payer | null>;
  lines: DataLoader<string, InvoiceLine[]>;
  /** Invoice id → latest transfer to accounting. */
  accountingTransferredAt: DataLoader<string, Date | null>;
}

export function createLoaders(dataSource: DataSource, tenantId: string): Loaders {
  return {
    payer: new DataLoader(async (ids) => {
      const rows = await dataSource.getRepository(Payer).findBy({ tenantId, id: In([...ids]) });
      const byId = new Map(rows.map((p) => [p.id, p]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    lines: new DataLoader(async (invoiceIds) => {
      const rows = await dataSource.getRepository(InvoiceLine).find({
        where: { tenantId, invoiceId: In([...invoiceIds]) },
        order: { invoiceId: 'ASC', position: 'ASC' },
      });
      const byInvoice = new Map<string, InvoiceLine[]>();
      for (const line of rows) {
        const list = byInvoice.get(line.invoiceId);
        if (list) list.push(line);
        else byInvoice.set(line.invoiceId, [line]);
      }
      return invoiceIds.map((id) => byInvoice.get(id) ?? []);
    }),
    accountingTransferredAt: new DataLoader((invoiceIds) => latestTransfers(dataSource, tenantId, invoiceIds)),
  };
}
