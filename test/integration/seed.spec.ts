import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Pool } from 'pg';
import { BillingPeriod, InvoiceStatus, PaymentMethod } from '../../src/entities/enums';
import { findTenantsByName, seedTenant, SeedResult } from '../../dev/seed/seed';

const ROOT = path.resolve(__dirname, '../..');
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// Test files share one database: tenant names of this run are unique.
const run = randomUUID().slice(0, 8);
const name = (label: string) => `seed-spec ${label} ${run}`;

let pool: Pool;
beforeAll(() => {
  pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 3 });
});
afterAll(async () => {
  await pool.end();
});

/** Everything a user sees of a tenant's data, without ids or tenant ids, in a stable order. */
async function content(tenantId: string) {
  const invoices = await pool.query(
    `SELECT i.type, i.number, i.billing_date::text, i.role_number, p.last_name, p.first_name, p.customer_identifier,
            p.family_quotient::text, p.email, i.billing_period, i.billing_year, i.notes, i.amount_due::text,
            i.amount_paid::text, i.remaining_due::text, i.pending_collection::text, i.status, i.unique_identifier,
            i.payment_method, c.number AS credited_number, i.created_at,
            (SELECT json_agg(json_build_object(
                       'position', l.position, 'label', l.label, 'beneficiary', l.beneficiary, 'activity', l.activity,
                       'quantity', l.quantity::text, 'unit_price', l.unit_price::text, 'discount', l.discount_amount::text,
                       'amount', l.amount::text, 'vat', l.vat_rate::text, 'account', l.accounting_account,
                       'analytic', l.analytic_code) ORDER BY l.position)
               FROM invoice_lines l WHERE l.invoice_id = i.id) AS lines
       FROM invoices i
       JOIN payers p ON p.id = i.payer_id
       LEFT JOIN invoices c ON c.id = i.credited_invoice_id
      WHERE i.tenant_id = $1
      ORDER BY i.number`,
    [tenantId],
  );
  const payers = await pool.query(
    `SELECT last_name, first_name, customer_identifier, family_quotient::text, email
       FROM payers WHERE tenant_id = $1
      ORDER BY customer_identifier NULLS FIRST, last_name, first_name, family_quotient NULLS FIRST, email NULLS FIRST`,
    [tenantId],
  );
  const tenant = await pool.query('SELECT product, siren, timezone, currency FROM tenants WHERE id = $1', [tenantId]);
  return { tenant: tenant.rows, payers: payers.rows, invoices: invoices.rows };
}

async function one<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T> {
  return (await pool.query(sql, params)).rows[0] as T;
}

describe('seedTenant', () => {
  let big: SeedResult;

  beforeAll(async () => {
    big = await seedTenant(pool, { tenantName: name('invariants'), invoices: 2000, seed: 11 });
  });

  it('reports what it wrote', async () => {
    expect(big.created).toBe(true);
    expect(big.invoices).toBe(2000);
    const counts = await one(
      `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1)::int AS invoices,
              (SELECT count(*) FROM invoices WHERE tenant_id = $1 AND type = 'CREDIT_NOTE')::int AS "creditNotes",
              (SELECT count(*) FROM invoice_lines WHERE tenant_id = $1)::int AS lines,
              (SELECT count(*) FROM payers WHERE tenant_id = $1)::int AS payers`,
      [big.tenantId],
    );
    expect(counts).toEqual({ invoices: 2000, creditNotes: big.creditNotes, lines: big.lines, payers: big.payers });
    expect(big.payers).toBe(667);
    // About 3 % credit notes; 1 to 6 lines per invoice.
    expect(big.creditNotes).toBeGreaterThanOrEqual(30);
    expect(big.creditNotes).toBeLessThanOrEqual(100);
    expect(big.lines / big.invoices).toBeGreaterThan(2);
    expect(big.lines / big.invoices).toBeLessThan(5);
    const tenant = await one<{ product: string; siren: string }>('SELECT product, siren FROM tenants WHERE id = $1', [big.tenantId]);
    expect(tenant.product).toBe('SCHOOL_PREMIUM');
    expect(tenant.siren).toMatch(/^\d{9}$/);
  });

  it('makes every invoice the exact sum of its lines, with positions 1..n', async () => {
    const r = await one<{ bad_sum: number; bad_positions: number; too_many: number; no_lines: number }>(
      `SELECT count(*) FILTER (WHERE i.amount_due IS DISTINCT FROM x.total)::int AS bad_sum,
              count(*) FILTER (WHERE x.max_pos <> x.n OR x.min_pos <> 1)::int AS bad_positions,
              count(*) FILTER (WHERE x.n > 6)::int AS too_many,
              count(*) FILTER (WHERE x.n IS NULL)::int AS no_lines
         FROM invoices i
         LEFT JOIN (SELECT invoice_id, sum(amount) AS total, count(*) AS n, min(position) AS min_pos, max(position) AS max_pos
                      FROM invoice_lines WHERE tenant_id = $1 GROUP BY invoice_id) x ON x.invoice_id = i.id
        WHERE i.tenant_id = $1`,
      [big.tenantId],
    );
    expect(r).toEqual({ bad_sum: 0, bad_positions: 0, too_many: 0, no_lines: 0 });
    // Each line: quantity × unit price (to the cent) − discount.
    const bad = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM invoice_lines
        WHERE tenant_id = $1 AND amount <> round(quantity * unit_price, 2) - discount_amount`,
      [big.tenantId],
    );
    expect(bad.n).toBe(0);
    const quantities = (await pool.query(`SELECT DISTINCT quantity::text AS q FROM invoice_lines WHERE tenant_id = $1`, [big.tenantId])).rows.map((r) => r.q);
    expect(quantities).toEqual(expect.arrayContaining(['1.000', '0.500', '10.000']));
    const vat = (await pool.query(`SELECT DISTINCT vat_rate::text AS v FROM invoice_lines WHERE tenant_id = $1`, [big.tenantId])).rows.map((r) => r.v);
    expect(vat).toEqual(expect.arrayContaining(['0.00', '20.00']));
    const discounts = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        WHERE l.tenant_id = $1 AND i.type = 'INVOICE' AND l.amount < 0 AND l.label LIKE 'Remise famille%'`,
      [big.tenantId],
    );
    expect(discounts.n).toBeGreaterThan(0);
  });

  it('makes credit notes negative and points them to an earlier invoice of the same payer and tenant', async () => {
    const r = await one<Record<string, number>>(
      `SELECT count(*)::int AS credit_notes,
              count(*) FILTER (WHERE c.amount_due >= 0)::int AS not_negative,
              count(*) FILTER (WHERE o.id IS NULL)::int AS dangling,
              count(*) FILTER (WHERE o.tenant_id <> c.tenant_id OR o.payer_id <> c.payer_id OR o.type <> 'INVOICE')::int AS wrong_target,
              count(*) FILTER (WHERE o.billing_date > c.billing_date)::int AS credits_the_future,
              count(*) FILTER (WHERE c.number !~ '^A[0-9]{6}$')::int AS bad_number
         FROM invoices c LEFT JOIN invoices o ON o.id = c.credited_invoice_id
        WHERE c.tenant_id = $1 AND c.type = 'CREDIT_NOTE'`,
      [big.tenantId],
    );
    expect(r).toEqual({ credit_notes: big.creditNotes, not_negative: 0, dangling: 0, wrong_target: 0, credits_the_future: 0, bad_number: 0 });
    const invoices = await one<Record<string, number>>(
      `SELECT count(*) FILTER (WHERE amount_due <= 0)::int AS not_positive,
              count(*) FILTER (WHERE credited_invoice_id IS NOT NULL)::int AS linked,
              count(*) FILTER (WHERE number !~ '^F[0-9]{6}$')::int AS bad_number
         FROM invoices WHERE tenant_id = $1 AND type = 'INVOICE'`,
      [big.tenantId],
    );
    expect(invoices).toEqual({ not_positive: 0, linked: 0, bad_number: 0 });
    const first = await one<{ f: string; a: string }>(
      `SELECT min(number) FILTER (WHERE type = 'INVOICE') AS f, min(number) FILTER (WHERE type = 'CREDIT_NOTE') AS a FROM invoices WHERE tenant_id = $1`,
      [big.tenantId],
    );
    expect(first).toEqual({ f: 'F100001', a: 'A000001' });
  });

  it('numbers documents in billing-date order', async () => {
    const r = await one<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT billing_date, lag(billing_date) OVER (PARTITION BY type ORDER BY number) AS previous
           FROM invoices WHERE tenant_id = $1) x
        WHERE previous > billing_date`,
      [big.tenantId],
    );
    expect(r.n).toBe(0);
  });

  it('uses every status, period and payment method, with coherent amounts', async () => {
    const distinct = async (column: string) =>
      (await pool.query(`SELECT DISTINCT ${column} AS v FROM invoices WHERE tenant_id = $1 AND ${column} IS NOT NULL`, [big.tenantId])).rows.map((r) => r.v).sort();
    expect(await distinct('status')).toEqual(Object.values(InvoiceStatus).sort());
    expect(await distinct('billing_period')).toEqual(Object.values(BillingPeriod).sort());
    expect(await distinct('payment_method')).toEqual(Object.values(PaymentMethod).sort());
    const years = await distinct('billing_year');
    expect(years).toEqual(expect.arrayContaining(['2015', '2018/2019', '2024/2025']));

    const r = await one<Record<string, number>>(
      `SELECT
         count(*) FILTER (WHERE status = 'PAID' AND (amount_paid <> amount_due OR remaining_due <> 0))::int AS paid,
         count(*) FILTER (WHERE status = 'TO_COLLECT' AND (amount_paid <> 0 OR remaining_due <> amount_due))::int AS to_collect,
         count(*) FILTER (WHERE status = 'PARTIALLY_PAID' AND NOT (amount_paid > 0 AND amount_paid < amount_due AND remaining_due = amount_due - amount_paid))::int AS partial,
         count(*) FILTER (WHERE status = 'CANCELLED' AND (amount_paid <> 0 OR remaining_due <> 0))::int AS cancelled,
         count(*) FILTER (WHERE status = 'SETTLED' AND (remaining_due <> 0 OR (type = 'INVOICE' AND NOT amount_paid BETWEEN 0 AND amount_due)))::int AS settled,
         count(*) FILTER (WHERE pending_collection < 0 OR pending_collection > greatest(remaining_due, 0))::int AS pending_range,
         count(*) FILTER (WHERE pending_collection > 0 AND payment_method IS DISTINCT FROM 'DIRECT_DEBIT')::int AS pending_not_debit,
         count(*) FILTER (WHERE status IN ('PAID', 'PARTIALLY_PAID') AND payment_method IS NULL)::int AS paid_without_method,
         count(*) FILTER (WHERE pending_collection > 0)::int AS pending,
         count(*) FILTER (WHERE role_number IS NOT NULL)::int AS with_role,
         count(*) FILTER (WHERE unique_identifier IS NOT NULL)::int AS with_unique_id,
         count(*) FILTER (WHERE unique_identifier !~ '^[0-9]+$')::int AS bad_unique_id,
         count(*) FILTER (WHERE payment_method IS NULL AND status = 'TO_COLLECT')::int AS unpaid_without_method
       FROM invoices WHERE tenant_id = $1`,
      [big.tenantId],
    );
    expect(r).toMatchObject({ paid: 0, to_collect: 0, partial: 0, cancelled: 0, settled: 0, pending_range: 0, pending_not_debit: 0, paid_without_method: 0, bad_unique_id: 0 });
    expect(r.pending).toBeGreaterThan(0);
    expect(r.unpaid_without_method).toBeGreaterThan(0);
    expect(r.with_role / 2000).toBeGreaterThan(0.3);
    expect(r.with_role / 2000).toBeLessThan(0.7);
    expect(r.with_unique_id / 2000).toBeGreaterThan(0.5);
  });

  it('creates French payers with accents, unique customer identifiers and family notes', async () => {
    const r = await one<Record<string, number>>(
      `SELECT count(*)::int AS payers,
              count(customer_identifier)::int AS with_identifier,
              count(DISTINCT customer_identifier)::int AS distinct_identifiers,
              count(*) FILTER (WHERE customer_identifier LIKE '0%')::int AS leading_zeros,
              count(family_quotient)::int AS with_quotient,
              count(email)::int AS with_email,
              count(*) FILTER (WHERE last_name <> upper(last_name))::int AS not_upper,
              count(*) FILTER (WHERE last_name ~ '[ÀÂÇÉÈÊËÎÏÔÙÛÜ]')::int AS accented_last,
              count(*) FILTER (WHERE first_name ~ '[àâçéèêëîïôöùûü]')::int AS accented_first,
              count(*) FILTER (WHERE first_name LIKE '%-%' OR last_name LIKE '%-%')::int AS hyphenated
         FROM payers WHERE tenant_id = $1`,
      [big.tenantId],
    );
    expect(r.distinct_identifiers).toBe(r.with_identifier);
    expect(r.with_identifier / r.payers).toBeGreaterThan(0.75);
    expect(r.with_identifier / r.payers).toBeLessThan(0.95);
    expect(r.leading_zeros).toBeGreaterThan(0);
    expect(r.with_quotient / r.payers).toBeGreaterThan(0.3);
    expect(r.with_quotient / r.payers).toBeLessThan(0.5);
    expect(r.with_email).toBeGreaterThan(0);
    expect(r.not_upper).toBe(0);
    expect(r.accented_last).toBeGreaterThan(0);
    expect(r.accented_first).toBeGreaterThan(0);
    expect(r.hyphenated).toBeGreaterThan(0);

    // Families with several pupils: "Élèves ACHARD Basile, ACHARD Cindy", and each line names its pupil.
    const notes = await one<{ families: number; pupils_on_lines: number }>(
      `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1 AND notes ~ '^Élèves [^,]+ [^,]+, ')::int AS families,
              (SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
                WHERE l.tenant_id = $1 AND l.beneficiary IS NOT NULL AND i.notes LIKE '%' || l.beneficiary || '%')::int AS pupils_on_lines`,
      [big.tenantId],
    );
    expect(notes.families).toBeGreaterThan(100);
    expect(notes.pupils_on_lines).toBeGreaterThan(1000);
  });

  it('gives the same content for the same arguments, and other content for another seed', async () => {
    const a = await seedTenant(pool, { tenantName: name('determinism a'), invoices: 600, seed: 5 });
    const b = await seedTenant(pool, { tenantName: name('determinism b'), invoices: 600, seed: 5, batchSize: 250 });
    const c = await seedTenant(pool, { tenantName: name('determinism c'), invoices: 600, seed: 6 });
    expect(b.tenantId).not.toBe(a.tenantId);
    const [ca, cb, cc] = await Promise.all([content(a.tenantId), content(b.tenantId), content(c.tenantId)]);
    expect(ca.invoices).toHaveLength(600);
    expect(cb).toEqual(ca);
    expect(cc.invoices).toHaveLength(600);
    expect(cc.payers).not.toEqual(ca.payers);
    expect(cc.invoices.map((i) => i.amount_due)).not.toEqual(ca.invoices.map((i) => i.amount_due));
  });

  it('reuses a tenant of the same name, or replaces it when asked', async () => {
    const tenantName = name('reuse');
    const first = await seedTenant(pool, { tenantName, invoices: 30 });
    const again = await seedTenant(pool, { tenantName, invoices: 500 });
    expect(again).toEqual({ ...first, created: false });
    expect(await findTenantsByName(pool, tenantName)).toEqual([first.tenantId]);

    const replaced = await seedTenant(pool, { tenantName, invoices: 40, ifExists: 'replace' });
    expect(replaced.created).toBe(true);
    expect(replaced.tenantId).not.toBe(first.tenantId);
    expect(await findTenantsByName(pool, tenantName)).toEqual([replaced.tenantId]);
    const left = await one<{ n: number }>('SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1', [first.tenantId]);
    expect(left.n).toBe(0);
  });

  it('refuses bad arguments before writing anything', async () => {
    await expect(seedTenant(pool, { tenantName: name('bad'), invoices: -1 })).rejects.toThrow(/invoices/);
    await expect(seedTenant(pool, { tenantName: '  ', invoices: 1 })).rejects.toThrow(/tenantName/);
    expect(await findTenantsByName(pool, name('bad'))).toEqual([]);
  });
});

describe('npm run seed (the CLI)', () => {
  function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-r', './scripts/register.js', 'dev/seed/seed.cli.ts', ...args], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
  const lastLine = (s: string) => s.trimEnd().split('\n').pop();

  it('prints the id of the tenant it creates, and the same id without duplicating on a second run', async () => {
    const tenantName = name("cli école d'Anaïs");
    const first = await cli(['--tenant', tenantName, '--invoices', '50']);
    expect(first.stderr).toMatch(/Seeded tenant/);
    expect(first.code).toBe(0);
    const id = lastLine(first.stdout)!;
    expect(id).toMatch(UUID_RE);
    const row = await one<{ name: string; invoices: number }>(
      'SELECT name, (SELECT count(*) FROM invoices WHERE tenant_id = t.id)::int AS invoices FROM tenants t WHERE id = $1',
      [id],
    );
    expect(row).toEqual({ name: tenantName, invoices: 50 });

    const second = await cli(['--tenant', tenantName, '--invoices', '50']);
    expect(second.code).toBe(0);
    expect(lastLine(second.stdout)).toBe(id);
    expect(second.stderr).toMatch(/already exists/);
    expect(await findTenantsByName(pool, tenantName)).toEqual([id]);
  });

  it('exits 64 with the usage on bad arguments, printing nothing on stdout', async () => {
    const r = await cli(['--tenant', name('cli bad'), '--invoices', 'many']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--invoices must be an integer/);
    expect(r.stderr).toMatch(/Usage: npm run seed/);
  });
});
