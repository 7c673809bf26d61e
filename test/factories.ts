import { DataSource } from 'typeorm';
import { BillingPeriod, InvoiceStatus, InvoiceType, PaymentMethod, Product } from '../src/entities/enums';
import { formatCents, toCents } from '../src/money';

/** Small, explicit rows for tests that need exact data (nasty strings, known totals). */
export async function createTenant(ds: DataSource, name = 'École de musique de test', timezone = 'Europe/Paris'): Promise<string> {
  const [row] = await ds.query(`INSERT INTO tenants (name, product, timezone) VALUES ($1, $2, $3) RETURNING id`, [name, Product.SCHOOL_PREMIUM, timezone]);
  return row.id;
}

export interface PayerInput {
  lastName?: string;
  firstName?: string;
  customerIdentifier?: string | null;
  familyQuotient?: string | null;
}

export async function createPayer(ds: DataSource, tenantId: string, p: PayerInput = {}): Promise<string> {
  const [row] = await ds.query(
    `INSERT INTO payers (tenant_id, last_name, first_name, customer_identifier, family_quotient) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [tenantId, p.lastName ?? 'BUSSON', p.firstName ?? 'Marie', p.customerIdentifier ?? null, p.familyQuotient ?? null],
  );
  return row.id;
}

export interface LineInput {
  label?: string;
  beneficiary?: string | null;
  activity?: string | null;
  quantity?: string;
  unitPrice: string;
  discountAmount?: string;
  vatRate?: string;
  accountingAccount?: string | null;
  analyticCode?: string | null;
}

export interface InvoiceInput {
  number: string;
  billingDate: string;
  type?: InvoiceType;
  payerId: string;
  roleNumber?: number | null;
  billingPeriod?: BillingPeriod;
  billingYear?: string;
  notes?: string | null;
  amountPaid?: string;
  status?: InvoiceStatus;
  paymentMethod?: PaymentMethod | null;
  uniqueIdentifier?: string | null;
  creditedInvoiceId?: string | null;
  lines: LineInput[];
}

/** An invoice whose amount_due is the exact sum of its lines (computed in cents). */
export async function createInvoice(ds: DataSource, tenantId: string, inv: InvoiceInput): Promise<string> {
  const amounts = inv.lines.map((l) => {
    const qtyMilli = toMilli(l.quantity ?? '1');
    const gross = (toCents(l.unitPrice) * qtyMilli) / 1000n;
    return gross - toCents(l.discountAmount ?? '0');
  });
  const due = amounts.reduce((a, b) => a + b, 0n);
  const paid = toCents(inv.amountPaid ?? '0');
  const [row] = await ds.query(
    `INSERT INTO invoices (tenant_id, type, number, billing_date, role_number, payer_id, billing_period, billing_year, notes,
       amount_due, amount_paid, remaining_due, pending_collection, status, unique_identifier, payment_method, credited_invoice_id)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,0,$13,$14,$15,$16) RETURNING id`,
    [
      tenantId,
      inv.type ?? InvoiceType.INVOICE,
      inv.number,
      inv.billingDate,
      inv.roleNumber ?? null,
      inv.payerId,
      inv.billingPeriod ?? BillingPeriod.ANNUAL,
      inv.billingYear ?? '2018/2019',
      inv.notes ?? null,
      formatCents(due),
      formatCents(paid),
      formatCents(inv.type === InvoiceType.CREDIT_NOTE ? 0n : due - paid),
      inv.status ?? InvoiceStatus.TO_COLLECT,
      inv.uniqueIdentifier ?? null,
      inv.paymentMethod ?? null,
      inv.creditedInvoiceId ?? null,
    ],
  );
  let position = 1;
  for (const [i, l] of inv.lines.entries()) {
    await ds.query(
      `INSERT INTO invoice_lines (tenant_id, invoice_id, position, label, beneficiary, activity, quantity, unit_price, discount_amount, amount, vat_rate, accounting_account, analytic_code)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
      [tenantId, row.id, position++, l.label ?? 'Cours individuel de piano 30 min', l.beneficiary ?? null, l.activity ?? null, l.quantity ?? '1',
        l.unitPrice, l.discountAmount ?? '0', formatCents(amounts[i]), l.vatRate ?? '0', l.accountingAccount ?? null, l.analyticCode ?? null],
    );
  }
  return row.id;
}

function toMilli(q: string): bigint {
  const [int, frac = ''] = q.split('.');
  const neg = int.startsWith('-');
  const v = BigInt(int.replace('-', '')) * 1000n + BigInt((frac + '000').slice(0, 3));
  return neg ? -v : v;
}
