import { Tenant } from './tenant.entity';
import { Payer } from './payer.entity';
import { Invoice } from './invoice.entity';
import { InvoiceLine } from './invoice-line.entity';
import { InvoiceExport } from './invoice-export.entity';

export { Tenant, Payer, Invoice, InvoiceLine, InvoiceExport };
export * from './enums';
export const ENTITIES = [Tenant, Payer, Invoice, InvoiceLine, InvoiceExport];
