import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Client, Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Product } from '../../src/entities/enums';
import { checkPlanOptions, GeneratedInvoice, GeneratedLine, GeneratedPayer, TenantPlan } from './generate';
import { ACCOUNT_LABELS } from './catalogue';

/**
 * Seeds one tenant: a French music school with payers, invoices, credit notes
 * and billing lines (see generate.ts for what the data looks like). Rows go in
 * with COPY, in one transaction: a tenant is there complete or not at all.
 */

export interface SeedOptions {
  tenantName: string;
  invoices: number;
  /** Same seed and size, same content (ids aside). Used as a 32-bit unsigned integer. Default 1. */
  seed?: number;
  /** Default SCHOOL_PREMIUM. */
  product?: Product;
  /**
   * When a tenant with this name exists: `reuse` it (default; nothing is
   * written), `replace` it (delete it with all its rows, then seed), or
   * `duplicate` (seed another tenant with the same name).
   */
  ifExists?: 'reuse' | 'replace' | 'duplicate';
  /** Invoices per COPY batch (bounds memory and PostgreSQL's queue of foreign-key checks). Default 5000. */
  batchSize?: number;
  /** ANALYZE the tables afterwards so that queries right after a big seed get good plans. Default: from 10,000 invoices. */
  analyze?: boolean;
  /** Called after each batch with the number of invoices written so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface SeedResult {
  tenantId: string;
  /** False when an existing tenant was reused; the counts are then those in the database. */
  created: boolean;
  /** Invoices and credit notes. */
  invoices: number;
  creditNotes: number;
  lines: number;
  payers: number;
}

export const DEFAULT_SEED = 1;

/** Tenant ids with this name, oldest first. */
export async function findTenantsByName(db: string | Pool, name: string): Promise<string[]> {
  return withClient(db, async (c) => (await c.query<{ id: string }>('SELECT id FROM tenants WHERE name = $1 ORDER BY created_at, id', [name])).rows.map((r) => r.id));
}

/** Deletes a tenant and everything it owns (the foreign keys cascade). Storage objects of its exports are not touched. */
export async function deleteTenant(db: string | Pool, tenantId: string): Promise<boolean> {
  return withClient(db, async (c) => ((await c.query('DELETE FROM tenants WHERE id = $1', [tenantId])).rowCount ?? 0) > 0);
}

export async function seedTenant(db: string | Pool, opts: SeedOptions): Promise<SeedResult> {
  const name = opts.tenantName.trim();
  if (!name) throw new RangeError('tenantName must not be empty');
  const ifExists = opts.ifExists ?? 'reuse';
  const product = opts.product ?? Product.SCHOOL_PREMIUM;
  if (!Object.values(Product).includes(product)) throw new RangeError(`product must be one of ${Object.values(Product).join(', ')} (got ${product})`);
  const batchSize = opts.batchSize ?? 5000;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer (got ${batchSize})`);
  const planOptions = { invoices: opts.invoices, seed: opts.seed ?? DEFAULT_SEED };
  checkPlanOptions(planOptions);

  const result = await withClient(db, async (c) => {
    await c.query('BEGIN');
    try {
      // Two seeds of the same name at once: the second waits, then finds the first.
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('invoice-export:seed'), hashtext($1))`, [name]);
      const existing = (await c.query<{ id: string }>('SELECT id FROM tenants WHERE name = $1 ORDER BY created_at, id', [name])).rows;
      if (existing.length && ifExists === 'reuse') {
        const counts = await countTenant(c, existing[0].id);
        await c.query('COMMIT');
        return { tenantId: existing[0].id, created: false, ...counts };
      }
      if (existing.length && ifExists === 'replace') {
        await c.query('DELETE FROM tenants WHERE name = $1', [name]);
      }

      const plan = new TenantPlan(planOptions);
      const tenantId = randomUUID();
      await c.query('INSERT INTO tenants (id, name, product, siren) VALUES ($1, $2, $3, $4)', [tenantId, name, product, plan.siren]);
      // The accounting export's settings: defaults, with the labels of the catalogue's accounts.
      await c.query('INSERT INTO tenant_accounting_settings (tenant_id, account_labels) VALUES ($1, $2::jsonb)', [tenantId, JSON.stringify(ACCOUNT_LABELS)]);
      await copy(c, 'payers', PAYER_COLUMNS, encodePayers(tenantId, plan.payers));

      // Generation and ingestion overlap: while PostgreSQL takes one batch's
      // lines, the next batch is generated in slices that leave the event
      // loop free to keep feeding the socket.
      const slices = plan.chunks(GENERATION_SLICE)[Symbol.iterator]();
      const nextBatch = async (): Promise<Batch | null> => {
        const batch: Batch = { invoicesText: '', linesText: '', invoices: 0, creditNotes: 0, lines: 0 };
        while (batch.invoices < batchSize) {
          const step = slices.next();
          if (step.done) break;
          batch.invoicesText += encodeInvoices(tenantId, step.value.invoices);
          batch.linesText += encodeLines(tenantId, step.value.lines);
          batch.invoices += step.value.invoices.length;
          batch.lines += step.value.lines.length;
          for (const i of step.value.invoices) if (i.creditedInvoiceId) batch.creditNotes++;
          await yieldToEventLoop();
        }
        return batch.invoices ? batch : null;
      };

      let invoices = 0, creditNotes = 0, lines = 0;
      opts.onProgress?.(0, plan.invoiceCount);
      let batch = await nextBatch();
      while (batch) {
        // Invoices before their lines; a credit note always follows what it credits.
        await copy(c, 'invoices', INVOICE_COLUMNS, batch.invoicesText);
        const [, next] = await Promise.all([copy(c, 'invoice_lines', LINE_COLUMNS, batch.linesText), nextBatch()]);
        invoices += batch.invoices;
        creditNotes += batch.creditNotes;
        lines += batch.lines;
        opts.onProgress?.(invoices, plan.invoiceCount);
        batch = next;
      }
      await c.query('COMMIT');
      return { tenantId, created: true, invoices, creditNotes, lines, payers: plan.payers.length };
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });

  if (result.created && (opts.analyze ?? opts.invoices >= 10_000)) {
    // What autovacuum does after a bulk load, done now (and whether the server runs autovacuum or not):
    // statistics for the planner, the visibility map for index-only scans (the list's counts).
    await withClient(db, (c) => c.query('VACUUM (ANALYZE) payers, invoices, invoice_lines'));
  }
  return result;
}

async function countTenant(c: Client | PoolClient, tenantId: string): Promise<Omit<SeedResult, 'tenantId' | 'created'>> {
  const { rows } = await c.query(
    `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1)::int AS invoices,
            (SELECT count(*) FROM invoices WHERE tenant_id = $1 AND type = 'CREDIT_NOTE')::int AS "creditNotes",
            (SELECT count(*) FROM invoice_lines WHERE tenant_id = $1)::int AS lines,
            (SELECT count(*) FROM payers WHERE tenant_id = $1)::int AS payers`,
    [tenantId],
  );
  return rows[0];
}

async function withClient<T>(db: string | Pool, fn: (c: Client | PoolClient) => Promise<T>): Promise<T> {
  if (typeof db === 'string') {
    const client = new Client({ connectionString: db, application_name: 'invoice-export-seed', connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const client = await db.connect();
  try {
    return await fn(client);
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------- COPY

/** Invoices generated between two turns of the event loop. */
const GENERATION_SLICE = 500;

interface Batch {
  invoicesText: string;
  linesText: string;
  invoices: number;
  creditNotes: number;
  lines: number;
}

const PAYER_COLUMNS = ['id', 'tenant_id', 'last_name', 'first_name', 'customer_identifier', 'family_quotient', 'email'];
const INVOICE_COLUMNS = [
  'id', 'tenant_id', 'type', 'number', 'billing_date', 'role_number', 'payer_id', 'billing_period', 'billing_year', 'notes',
  'amount_due', 'amount_paid', 'remaining_due', 'pending_collection', 'status', 'unique_identifier', 'payment_method',
  'credited_invoice_id', 'created_at',
];
const LINE_COLUMNS = [
  'id', 'tenant_id', 'invoice_id', 'position', 'label', 'beneficiary', 'activity', 'quantity', 'unit_price', 'discount_amount',
  'amount', 'vat_rate', 'accounting_account', 'analytic_code',
];

async function copy(c: Client | PoolClient, table: string, columns: string[], text: string): Promise<void> {
  if (!text) return;
  const stream = c.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  await pipeline(Readable.from([Buffer.from(text, 'utf8')]), stream);
}

const NEEDS_ESCAPE = /[\\\t\n\r]/;
/** A field of COPY's text format: \N for NULL; backslash, tab and line breaks escaped. */
function f(v: string | number | null): string {
  if (v === null) return '\\N';
  const s = String(v);
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

function encodePayers(tenantId: string, payers: readonly GeneratedPayer[]): string {
  let out = '';
  for (const p of payers) {
    out += `${p.id}\t${tenantId}\t${f(p.lastName)}\t${f(p.firstName)}\t${f(p.customerIdentifier)}\t${f(p.familyQuotient)}\t${f(p.email)}\n`;
  }
  return out;
}

function encodeInvoices(tenantId: string, invoices: readonly GeneratedInvoice[]): string {
  let out = '';
  for (const i of invoices) {
    out +=
      `${i.id}\t${tenantId}\t${i.type}\t${f(i.number)}\t${i.billingDate}\t${f(i.roleNumber)}\t${i.payerId}\t${i.billingPeriod}\t` +
      `${f(i.billingYear)}\t${f(i.notes)}\t${i.amountDue}\t${i.amountPaid}\t${i.remainingDue}\t${i.pendingCollection}\t${i.status}\t` +
      `${f(i.uniqueIdentifier)}\t${f(i.paymentMethod)}\t${f(i.creditedInvoiceId)}\t${i.createdAt}\n`;
  }
  return out;
}

function encodeLines(tenantId: string, lines: readonly GeneratedLine[]): string {
  let out = '';
  for (const l of lines) {
    out +=
      `${l.id}\t${tenantId}\t${l.invoiceId}\t${l.position}\t${f(l.label)}\t${f(l.beneficiary)}\t${f(l.activity)}\t${l.quantity}\t` +
      `${l.unitPrice}\t${l.discountAmount}\t${l.amount}\t${l.vatRate}\t${f(l.accountingAccount)}\t${f(l.analyticCode)}\n`;
  }
  return out;
}
