/**
 * The list's search reads the school's own index entries (docs/search.md):
 * the plans PostgreSQL makes for the page, its totalCount and an export's
 * selection use the tenant-led trigram indexes, never a sequential scan of
 * invoices or payers, and never JIT. The database here is small, so the
 * planner is told to avoid sequential scans where it has any other way
 * (enable_seqscan = off): a plan that still scans a table is one where the
 * index cannot answer the query. And where a school has 100,000 invoices,
 * testing the predicate on each of its rows is what costs (that is what the
 * indexes avoid); on a few hundred rows it is cheap and the planner rightly
 * filters them: the test makes the per-row evaluation as costly as it is at
 * scale (cpu_operator_cost), and checks that the plan then answers each
 * candidate set from its tenant-led trigram index. Plan node types are
 * asserted, never times.
 */
import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { runMigrations } from '../../src/db/migrate';
import { InvoiceStatus } from '../../src/entities/enums';
import { InvoiceFilterSpec, SqlParams, selectionConditions } from '../../src/exports/selection';
import { SqlQuery, invoiceCountQuery, invoicePageQuery } from '../../src/invoices/invoice-query';
import { seedTenant } from '../../dev/seed/seed';
import { createInvoice, createPayer, createTenant } from '../factories';
import { uniqueName } from '../helpers/app';
import { admin } from '../global-setup';
import { TEST_DATABASE_URL } from '../test-env';

/**
 * A database of this file's own: the plans depend on the statistics of the
 * whole tables, which the other test files (running beside this one) grow
 * with tenants of thousands of invoices.
 */
const PLAN_DATABASE_URL = (() => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `${u.pathname}_plan`;
  return u.toString();
})();
const PLAN_DATABASE = new URL(PLAN_DATABASE_URL).pathname.slice(1);

let ds: DataSource;
let tenant: string;
let other: string;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/** The plan of a query as the service's own connections make it (same pool options), sequential scans discouraged. */
async function explain(q: SqlQuery, settings: string[] = []): Promise<{ nodes: PlanNode[]; jit: boolean }> {
  return ds.transaction(async (m) => {
    await m.query('SET LOCAL enable_seqscan = off');
    await m.query('SET LOCAL cpu_operator_cost = 1');
    for (const s of settings) await m.query(`SET LOCAL ${s}`);
    const [row] = await m.query(`EXPLAIN (FORMAT JSON) ${q.sql}`, q.params);
    const [top] = row['QUERY PLAN'] as { Plan: PlanNode; JIT?: unknown }[];
    return { nodes: nodes(top.Plan), jit: top.JIT !== undefined };
  });
}

const seqScans = (ns: PlanNode[]) => ns.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
/** Nodes that test the folded text row by row instead of reading it from an index. */
const foldedFilters = (ns: PlanNode[]) => ns.filter((n) => /_folded/.test(String(n.Filter ?? ''))).map((n) => n['Node Type']);
const indexes = (ns: PlanNode[]) => new Set(ns.map((n) => n['Index Name']).filter(Boolean));

beforeAll(async () => {
  await admin(PLAN_DATABASE_URL, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${PLAN_DATABASE}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${PLAN_DATABASE}"`);
  });
  ds = createDataSource(PLAN_DATABASE_URL, { poolSize: 2 });
  await ds.initialize();
  await runMigrations(ds);
  // Two schools with data of the seed's shape, and names of both orders to find.
  tenant = (await seedTenant(PLAN_DATABASE_URL, { tenantName: uniqueName('plan'), invoices: 400, seed: 7, analyze: true })).tenantId;
  other = (await seedTenant(PLAN_DATABASE_URL, { tenantName: uniqueName('plan-other'), invoices: 400, seed: 8, analyze: true })).tenantId;
  const payer = await createPayer(ds, tenant, { lastName: 'LEFÈVRE', firstName: 'Héloïse' });
  await createInvoice(ds, tenant, { number: 'Z000001', billingDate: '2020-01-01', payerId: payer, lines: [{ unitPrice: '1.00' }] });
});

afterAll(async () => {
  await ds?.destroy();
  await admin(PLAN_DATABASE_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${PLAN_DATABASE}" WITH (FORCE)`));
});

const SEARCHES: [string, InvoiceFilterSpec][] = [
  ['a payer, LASTNAME Firstname', { search: 'LEFÈVRE Héloïse' }],
  ['a payer, Firstname LASTNAME, unaccented', { search: 'heloise lefevre' }],
  ['a number prefix', { search: 'F1002' }],
  ['a search with other filters', { search: 'lefevre', statuses: [InvoiceStatus.TO_COLLECT, InvoiceStatus.PAID], billingYear: '2018/2019' }],
];

describe.each(SEARCHES)('search by %s', (_, filter) => {
  it('the page is planned on the tenant-led trigram indexes, without a sequential scan', async () => {
    const plan = await explain(invoicePageQuery(ds, tenant, filter, 50, null));
    expect(seqScans(plan.nodes)).toEqual([]);
    expect(foldedFilters(plan.nodes)).toEqual([]);
    expect([...indexes(plan.nodes)]).toEqual(expect.arrayContaining(['invoices_tenant_number_folded_trgm_idx', 'payers_tenant_name_folded_trgm_idx']));
  });

  it('so is its totalCount, and so is an export of "Tous les résultats" minus an exclusion', async () => {
    const count = await explain(invoiceCountQuery(tenant, filter));
    expect(seqScans(count.nodes)).toEqual([]);
    expect(foldedFilters(count.nodes)).toEqual([]);
    expect([...indexes(count.nodes)]).toEqual(expect.arrayContaining(['invoices_tenant_number_folded_trgm_idx', 'payers_tenant_name_folded_trgm_idx']));

    const params = new SqlParams();
    const where = selectionConditions(params, tenant, {
      mode: 'filter',
      filter,
      excludedInvoiceIds: ['00000000-0000-4000-8000-000000000000'],
      createdBefore: new Date().toISOString(),
    });
    const selection = await explain({ sql: `SELECT i.id FROM invoices i WHERE ${where.join(' AND ')}`, params: params.values });
    expect(seqScans(selection.nodes)).toEqual([]);
    expect(foldedFilters(selection.nodes)).toEqual([]);
    expect([...indexes(selection.nodes)]).toEqual(expect.arrayContaining(['invoices_tenant_number_folded_trgm_idx', 'payers_tenant_name_folded_trgm_idx']));
  });

  it('no JIT, even where PostgreSQL would otherwise compile every query', async () => {
    const plan = await explain(invoicePageQuery(ds, tenant, filter, 50, null), ['jit_above_cost = 0', 'jit_inline_above_cost = 0', 'jit_optimize_above_cost = 0']);
    expect(plan.jit).toBe(false);
  });
});

it("the service's connections run without JIT", async () => {
  expect(await ds.query('SHOW jit')).toEqual([{ jit: 'off' }]);
});

it("a search reads no pending list of other schools' entries: the trigram indexes update in place (fastupdate off)", async () => {
  const opts = await ds.query(
    `SELECT c.relname, c.reloptions FROM pg_class c WHERE c.relname IN ('invoices_tenant_number_folded_trgm_idx', 'payers_tenant_name_folded_trgm_idx') ORDER BY 1`,
  );
  expect(opts).toEqual([
    { relname: 'invoices_tenant_number_folded_trgm_idx', reloptions: ['fastupdate=off'] },
    { relname: 'payers_tenant_name_folded_trgm_idx', reloptions: ['fastupdate=off'] },
  ]);
});

it('the folded columns follow the writes: a renamed payer is found under the new name only, and an invoice renumbered likewise', async () => {
  const t = await createTenant(ds, uniqueName('refold'));
  const payer = await createPayer(ds, t, { lastName: 'BUSSON', firstName: 'Marie' });
  const invoice = await createInvoice(ds, t, { number: 'F900001', billingDate: '2020-01-01', payerId: payer, lines: [{ unitPrice: '1.00' }] });
  const count = async (search: string) => Number((await ds.query(invoiceCountQuery(t, { search }).sql, invoiceCountQuery(t, { search }).params))[0].n);
  expect([await count('marie busson'), await count('BUSSON Marie'), await count('f9000')]).toEqual([1, 1, 1]);

  await ds.query(`UPDATE payers SET last_name = 'ŒUVRARD', first_name = 'Zoé' WHERE id = $1`, [payer]);
  await ds.query(`UPDATE invoices SET number = 'A000777' WHERE id = $1`, [invoice]);
  expect([await count('busson'), await count('zoe oeuvrard'), await count('OEUVRARD zoe'), await count('f9000'), await count('a000777')]).toEqual([0, 1, 1, 0, 1]);

  // A write that sets the folded text itself is refolded from the names.
  await ds.query(`UPDATE payers SET name_folded = 'x' WHERE id = $1`, [payer]);
  expect(await count('zoe')).toBe(1);
  // The other school's rows stay out of it.
  expect(Number((await ds.query(invoiceCountQuery(other, { search: 'zoe oeuvrard' }).sql, invoiceCountQuery(other, { search: 'zoe oeuvrard' }).params))[0].n)).toBe(0);
});
