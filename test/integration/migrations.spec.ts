/**
 * Migrations on a fresh, empty database of this file's own: idempotent, safe
 * when run concurrently (advisory lock), the five tables of docs/data-model.md with
 * exactly their named columns, and the constraints that keep the data sane.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS, createDataSource } from '../../src/db/data-source';
import { runMigrations } from '../../src/db/migrate';
import { TEST_DATABASE_URL } from '../test-env';

const ROOT = path.resolve(__dirname, '../..');

function urlFor(database: string): string {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: urlFor('postgres') });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const dropDatabase = (name: string) => admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));

/** docs/data-model.md, column names exactly. */
const CONTRACT_COLUMNS: Record<string, string[]> = {
  tenants: ['id', 'name', 'product', 'timezone', 'currency', 'siren', 'created_at'],
  payers: ['id', 'tenant_id', 'last_name', 'first_name', 'customer_identifier', 'family_quotient', 'email', 'created_at'],
  invoices: [
    'id', 'tenant_id', 'type', 'number', 'billing_date', 'role_number', 'payer_id', 'billing_period', 'billing_year', 'notes',
    'amount_due', 'amount_paid', 'remaining_due', 'pending_collection', 'status', 'unique_identifier', 'payment_method',
    'credited_invoice_id', 'created_at',
  ],
  invoice_lines: [
    'id', 'tenant_id', 'invoice_id', 'position', 'label', 'beneficiary', 'activity', 'quantity', 'unit_price', 'discount_amount',
    'amount', 'vat_rate', 'accounting_account', 'analytic_code',
  ],
  invoice_exports: [
    'id', 'tenant_id', 'requested_by', 'kind', 'format', 'locale', 'selection', 'idempotency_key', 'status', 'processed_rows',
    'total_rows', 'row_count', 'file_key', 'file_name', 'file_size', 'error_code', 'error_message', 'attempts', 'created_at',
    'started_at', 'completed_at', 'expires_at',
    // Beyond §3 (nullable, so rows written with §3's columns only stay valid): §9's warnings of a completed file.
    'warnings',
  ],
  // docs/accounting.md
  tenant_accounting_settings: [
    'tenant_id', 'journal_code', 'journal_label', 'receivable_account', 'default_revenue_account', 'vat_accounts',
    'account_labels', 'fallback_auxiliary_account', 'fiscal_year_end', 'updated_at',
    // docs/accounting.md
    'accounting_software', 'ximport_decimal_comma', 'quadra_update_existing_accounts',
  ],
  accounting_transfers: ['tenant_id', 'invoice_id', 'export_id', 'transferred_at'],
  // SECURITY.md
  audit_events: ['id', 'tenant_id', 'actor', 'roles', 'action', 'target_type', 'target_id', 'at', 'request_id', 'ip', 'details'],
};

/** Tables of the service's own bookkeeping, beyond docs/data-model.md. */
const SERVICE_TABLES = [
  'service_counters',
  // docs/profiles.md
  'export_profiles', 'export_schedules', 'export_schedule_runs', 'export_deliveries', 'export_links', 'export_link_uses',
];

const dbName = `invoice_export_mig_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const cliDbName = `invoice_export_mig_cli_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
let ds: DataSource;
let invoiceSeq = 900000;

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
  ds = createDataSource(urlFor(dbName), { poolSize: 4 });
  await ds.initialize();
});

afterAll(async () => {
  await ds?.destroy();
  await dropDatabase(dbName);
  await dropDatabase(cliDbName);
});

describe('runMigrations', () => {
  it('starts from an empty database', async () => {
    const rows = await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`);
    expect(rows).toEqual([]);
  });

  it('two concurrent runs both succeed (advisory lock), and the schema is applied once', async () => {
    const other = createDataSource(urlFor(dbName), { poolSize: 2 });
    await other.initialize();
    try {
      const [a, b] = await Promise.all([runMigrations(ds), runMigrations(other)]);
      // Exactly one of them applied the migrations; the other found nothing left to do.
      expect([...a, ...b]).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await other.destroy();
    }
    const applied = await ds.query(`SELECT name FROM schema_migrations`);
    expect(applied.map((r: { name: string }) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  });

  it('is idempotent: running again applies nothing and keeps the data', async () => {
    await ds.query(`INSERT INTO tenants (name, product) VALUES ('idempotence', 'MANAGER')`);
    expect(await runMigrations(ds)).toEqual([]);
    expect(await runMigrations(ds)).toEqual([]);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM tenants WHERE name = 'idempotence'`);
    expect(n).toBe(1);
    const applied = await ds.query(`SELECT count(*)::int AS n FROM schema_migrations`);
    expect(applied[0].n).toBe(MIGRATIONS.length);
  });

  it.each(Object.keys(CONTRACT_COLUMNS))('table %s has the columns of docs/data-model.md, and any other one has a default or is nullable', async (table) => {
    const rows: { column_name: string; is_nullable: string; column_default: string | null }[] = await ds.query(
      `SELECT column_name, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1`,
      [table],
    );
    expect(rows.map((r) => r.column_name)).toEqual(expect.arrayContaining(CONTRACT_COLUMNS[table]));
    // Rows written by other tools with only the contract's columns stay valid.
    const extra = rows.filter((r) => !CONTRACT_COLUMNS[table].includes(r.column_name));
    expect(extra.filter((r) => r.is_nullable === 'NO' && r.column_default === null).map((r) => r.column_name)).toEqual([]);
  });

  it('has the five tables of docs/data-model.md, the migrations table and the service\'s own', async () => {
    const rows: { table_name: string }[] = await ds.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(rows.map((r) => r.table_name).sort()).toEqual([...Object.keys(CONTRACT_COLUMNS), ...SERVICE_TABLES, 'schema_migrations'].sort());
  });

  it('money is numeric(12,2), family_quotient numeric(10,2), quantity numeric(10,3), vat_rate numeric(5,2)', async () => {
    const rows: { table_name: string; column_name: string; numeric_precision: number; numeric_scale: number }[] = await ds.query(
      `SELECT table_name, column_name, numeric_precision, numeric_scale FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type = 'numeric'`,
    );
    const types = Object.fromEntries(rows.map((r) => [`${r.table_name}.${r.column_name}`, `${r.numeric_precision},${r.numeric_scale}`]));
    expect(types).toEqual({
      'payers.family_quotient': '10,2',
      'invoices.amount_due': '12,2',
      'invoices.amount_paid': '12,2',
      'invoices.remaining_due': '12,2',
      'invoices.pending_collection': '12,2',
      'invoice_lines.quantity': '10,3',
      'invoice_lines.unit_price': '12,2',
      'invoice_lines.discount_amount': '12,2',
      'invoice_lines.amount': '12,2',
      'invoice_lines.vat_rate': '5,2',
    });
  });
});

describe('constraints', () => {
  let tenantA: string;
  let tenantB: string;
  let payerA: string;
  let payerB: string;

  /** The SQLSTATE of a failing statement (23505 unique, 23514 check, 23503 foreign key). */
  async function sqlState(sql: string, params: unknown[]): Promise<string | undefined> {
    try {
      await ds.query(sql, params);
    } catch (err) {
      return (err as { code?: string; driverError?: { code?: string } }).driverError?.code ?? (err as { code?: string }).code;
    }
    return undefined;
  }

  const insertInvoice = (tenantId: string, payerId: string, overrides: Record<string, unknown> = {}) => {
    const row: Record<string, unknown> = {
      tenant_id: tenantId,
      type: 'INVOICE',
      number: `F${++invoiceSeq}`,
      billing_date: '2019-01-15',
      payer_id: payerId,
      billing_period: 'ANNUAL',
      billing_year: '2018/2019',
      amount_due: '100.00',
      status: 'TO_COLLECT',
      ...overrides,
    };
    const cols = Object.keys(row);
    return sqlState(`INSERT INTO invoices (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
  };

  beforeAll(async () => {
    [{ id: tenantA }] = await ds.query(`INSERT INTO tenants (name, product) VALUES ('A', 'SCHOOL_STANDARD') RETURNING id`);
    [{ id: tenantB }] = await ds.query(`INSERT INTO tenants (name, product) VALUES ('B', 'SCHOOL_STANDARD') RETURNING id`);
    [{ id: payerA }] = await ds.query(`INSERT INTO payers (tenant_id, last_name, first_name) VALUES ($1, 'BUSSON', 'Marie') RETURNING id`, [tenantA]);
    [{ id: payerB }] = await ds.query(`INSERT INTO payers (tenant_id, last_name, first_name) VALUES ($1, 'ACHARD', 'Basile') RETURNING id`, [tenantB]);
  });

  it('tenants get the defaults of docs/data-model.md (Europe/Paris, EUR) and a generated uuid', async () => {
    const [t] = await ds.query(`SELECT id, timezone, currency, created_at FROM tenants WHERE id = $1`, [tenantA]);
    expect(t.timezone).toBe('Europe/Paris');
    expect(t.currency.trim()).toBe('EUR');
    expect(t.id).toMatch(/^[0-9a-f-]{36}$/);
    const [{ now }] = await ds.query('SELECT now() AS now');
    expect(t.created_at).toBeInstanceOf(Date);
    expect(t.created_at.getTime()).toBeLessThanOrEqual(now.getTime());
  });

  it('an invoice number is unique per tenant, but may repeat in another tenant', async () => {
    expect(await insertInvoice(tenantA, payerA, { number: 'F163881' })).toBeUndefined();
    expect(await insertInvoice(tenantA, payerA, { number: 'F163881' })).toBe('23505');
    expect(await insertInvoice(tenantB, payerB, { number: 'F163881' })).toBeUndefined();
  });

  it('a customer identifier is unique per tenant when set; NULL many times; same value in another tenant', async () => {
    const insertPayer = (tenantId: string, customerIdentifier: string | null) =>
      sqlState(`INSERT INTO payers (tenant_id, last_name, first_name, customer_identifier) VALUES ($1, 'X', 'Y', $2)`, [
        tenantId,
        customerIdentifier,
      ]);
    expect(await insertPayer(tenantA, '411BUSSON')).toBeUndefined();
    expect(await insertPayer(tenantA, '411BUSSON')).toBe('23505');
    expect(await insertPayer(tenantB, '411BUSSON')).toBeUndefined();
    expect(await insertPayer(tenantA, null)).toBeUndefined();
    expect(await insertPayer(tenantA, null)).toBeUndefined();
    expect(await insertPayer(tenantA, null)).toBeUndefined();
  });

  it('an invoice cannot point to a payer of another tenant', async () => {
    expect(await insertInvoice(tenantA, payerB)).toBe('23503');
  });

  it.each([
    ['status', 'OPEN'],
    ['type', 'RECEIPT'],
    ['billing_period', 'WEEKLY'],
    ['payment_method', 'BITCOIN'],
  ])('invoices: CHECK refuses %s = %s', async (column, value) => {
    expect(await insertInvoice(tenantA, payerA, { [column]: value })).toBe('23514');
  });

  it('invoices: every enum value of docs/data-model.md is accepted', async () => {
    for (const status of ['TO_COLLECT', 'PARTIALLY_PAID', 'PAID', 'SETTLED', 'CANCELLED']) {
      expect(await insertInvoice(tenantA, payerA, { status })).toBeUndefined();
    }
    for (const billing_period of ['ANNUAL', 'SEMESTER_1', 'SEMESTER_2', 'QUARTER_1', 'QUARTER_2', 'QUARTER_3', 'QUARTER_4', 'MONTHLY']) {
      expect(await insertInvoice(tenantA, payerA, { billing_period })).toBeUndefined();
    }
    for (const payment_method of ['CHEQUE', 'CASH', 'BANK_TRANSFER', 'DIRECT_DEBIT', 'CARD', 'HOLIDAY_VOUCHER', 'OTHER', null]) {
      expect(await insertInvoice(tenantA, payerA, { payment_method })).toBeUndefined();
    }
    expect(await insertInvoice(tenantA, payerA, { type: 'CREDIT_NOTE', amount_due: '-500.50' })).toBeUndefined();
    expect(await insertInvoice(tenantA, payerA, { billing_year: '2015' })).toBeUndefined();
  });

  it('tenants: CHECK refuses an unknown product', async () => {
    expect(await sqlState(`INSERT INTO tenants (name, product) VALUES ('x', 'FREE')`, [])).toBe('23514');
  });

  describe('invoice_exports', () => {
    const insertExport = (overrides: Record<string, unknown> = {}) => {
      const row: Record<string, unknown> = {
        tenant_id: tenantA,
        requested_by: 'user-1',
        kind: 'INVOICES',
        format: 'XLSX',
        selection: JSON.stringify({ mode: 'ids', invoiceIds: [] }),
        ...overrides,
      };
      const cols = Object.keys(row);
      return sqlState(
        `INSERT INTO invoice_exports (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    };

    it('accepts every export status of the contract', async () => {
      for (const status of ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED']) {
        expect(await insertExport({ status })).toBeUndefined();
      }
    });

    it.each([
      ['status', 'DONE'],
      ['kind', 'PAYERS'],
      ['format', 'PDF'],
    ])('CHECK refuses %s = %s', async (column, value) => {
      expect(await insertExport({ [column]: value })).toBe('23514');
    });

    it('a row with only the named columns gets sensible defaults', async () => {
      const [row] = await ds.query(
        `INSERT INTO invoice_exports (tenant_id, requested_by, kind, format, locale, selection, status, processed_rows, attempts)
         VALUES ($1, 'u', 'INVOICE_LINES', 'CSV', 'en-GB', '{}', 'QUEUED', 0, 0) RETURNING id, created_at`,
        [tenantA],
      );
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      const [{ now }] = await ds.query('SELECT now() AS now');
      expect(row.created_at).toBeInstanceOf(Date);
      expect(row.created_at.getTime()).toBeLessThanOrEqual(now.getTime());
    });
  });
});

describe('npm run migrate (CLI)', () => {
  it('creates a missing database, applies the migrations and exits 0; a second run is a no-op', async () => {
    const run = () =>
      spawnSync(process.execPath, ['-r', './scripts/register.js', 'src/db/migrate.cli.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: urlFor(cliDbName), LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const first = run();
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toMatch(/InitialSchema1764201600000/);

    const c = new Client({ connectionString: urlFor(cliDbName) });
    await c.connect();
    try {
      const { rows } = await c.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1::text[])`,
        [Object.keys(CONTRACT_COLUMNS)],
      );
      expect(rows.map((r) => r.table_name).sort()).toEqual(Object.keys(CONTRACT_COLUMNS).sort());
    } finally {
      await c.end();
    }

    const second = run();
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/up to date/i);
  });
});
