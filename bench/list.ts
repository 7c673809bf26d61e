/**
 * `npm run bench -- --list` (issue 16, docs/search.md): the list "Factures et
 * avoirs" at platform scale.
 *
 * Two databases of the bench's own, seeded once and reused: one with
 * `--list-tenants` schools (default 12) and one with `--list-small-tenants`
 * (default 3), every school of `--invoices` invoices (default 100,000), school
 * k seeded with seed k in both, so that school 1 holds the same data in the
 * two. An API starts on each database (both in this process), and school 1's
 * user sends the page's own `Invoices` query (web/src/graphql.ts: totalCount,
 * pageInfo, 50 invoices with their payer) over HTTP: first page, next page,
 * search by a payer's name (both name orders), search by a number prefix,
 * status + billing year, 8 front ends loading the first page at once; then
 * `requestInvoiceExport` with a search filter (its selection count).
 * p50/p95 per case, and the ratio of the big database to the small one: what
 * the other schools cost this one. The two databases are measured
 * interleaved, round by round in alternating order, so that the machine's
 * load and the page cache weigh on both halves of the ratio alike. Targets are printed, never asserted; the
 * exit code is non-zero only when something did not work (an error, or a
 * totalCount that differs between the two databases).
 */
import { randomUUID } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import pino from 'pino';
import { redactUrl } from '../src/app';
import { signToken } from '../src/auth/jwt';
import { boot, Running } from '../src/boot';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { Role } from '../src/entities/enums';
import { gql } from '../dev/client/export-client';
import { seedTenant } from '../dev/seed/seed';
import { ROOT } from '../tools/lib/children';
import type { BenchOptions } from './lib/options';
import { removeQueueKeys } from '../tools/lib/redis-keys';
import { fmt, markdownTable, percentile } from '../tools/lib/util';

const log = (msg: string) => process.stderr.write(`[list] ${msg}\n`);
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);

/** Targets of issue 16, reported (never asserted). */
const TARGET_P95_MS = 100;
const TARGET_RATIO = 1.3;
const PAGE_SIZE = 50;
const FRONT_ENDS = 8;
const WARM_UP = 3;

/** The page's own query, read from the page's source so that the bench times exactly what the page sends. */
export function pageInvoicesQuery(): string {
  const source = readFileSync(path.join(ROOT, 'web', 'src', 'graphql.ts'), 'utf8');
  const m = /graphql\(`\s*(query Invoices\b[\s\S]*?)`/.exec(source);
  if (!m) throw new Error('web/src/graphql.ts has no `query Invoices`');
  return m[1];
}

const EXPORT_MUTATION = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }`;

interface InvoicesAnswer {
  invoices: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { number: string } }[] };
}

interface CaseDef {
  name: string;
  /** Single-client cases are held to the targets; the concurrent one is reported. */
  concurrent: boolean;
  /** One round of the case on one database: its timings (one, or one per front end) and the count it saw. */
  sample: (db: DbUnderTest) => Promise<{ ms: number[]; count: number }>;
}

/** One of the two databases while it is measured: its API's sender, what its school 1 looks for, a connection. */
interface DbUnderTest {
  send: Sender;
  probe: Probe;
  pg: Client;
}

type Sender = <T>(query: string, variables: Record<string, unknown>) => Promise<T>;

export interface ListCaseResult {
  name: string;
  count: number;
  samples: number;
  p50: number;
  p95: number;
}

export interface ListDbResult {
  tenants: number;
  database: string;
  invoices: number;
  payers: number;
  /** School 1's id and what its searches looked for. */
  tenantId: string;
  probe: Probe;
  cases: ListCaseResult[];
}

/** What school 1's searches look for: taken from its data, the same in both databases. */
interface Probe {
  lastFirst: string;
  firstLast: string;
  numberPrefix: string;
  billingYear: string;
}

function listDbUrl(opts: BenchOptions, tenants: number): string {
  const url = new URL(opts.databaseUrl);
  url.pathname = `/${opts.listDbPrefix}${tenants}`;
  return url.toString();
}

const tenantName = (invoices: number, k: number) => `list-${invoices}-${String(k).padStart(2, '0')}`;

async function prepareDatabase(url: string, tenants: number, invoices: number): Promise<{ tenantId: string; invoices: number; payers: number }> {
  await ensureDatabase(url);
  const ds = createDataSource(url, { poolSize: 2, applicationName: 'invoice-export-bench-list' });
  await ds.initialize();
  try {
    const t0 = Date.now();
    const done = await runMigrations(ds);
    if (done.length) log(`${redactUrl(url)}: migrations ${done.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await ds.query('DELETE FROM invoice_exports');
  } finally {
    await ds.destroy();
  }
  let first = '';
  for (let k = 1; k <= tenants; k++) {
    const t0 = Date.now();
    const seeded = await seedTenant(url, { tenantName: tenantName(invoices, k), invoices, seed: k, ifExists: 'reuse', analyze: true });
    if (seeded.created) log(`${redactUrl(url)}: seeded ${tenantName(invoices, k)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (k === 1) first = seeded.tenantId;
  }
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    // The steady state autovacuum keeps (a server may run without it, as this project's test server does):
    // nothing left to vacuum after the seed or an earlier run's writes. Quick when there is nothing to do.
    const t0 = Date.now();
    await c.query('VACUUM (ANALYZE) payers, invoices, invoice_lines');
    log(`${redactUrl(url)}: VACUUM (ANALYZE) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const { rows } = await c.query(`SELECT (SELECT count(*) FROM invoices)::int AS invoices, (SELECT count(*) FROM payers)::int AS payers`);
    return { tenantId: first, ...rows[0] };
  } finally {
    await c.end();
  }
}

async function probe(url: string, tenantId: string): Promise<Probe> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    // A payer with several invoices, the same one in both databases (same seed): the 100th by customer identifier.
    const payer = (await c.query(
      `SELECT p.last_name, p.first_name FROM payers p WHERE p.tenant_id = $1
         AND EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = $1 AND i.payer_id = p.id)
       ORDER BY p.customer_identifier NULLS LAST, p.last_name, p.first_name OFFSET 99 LIMIT 1`,
      [tenantId],
    )).rows[0] ?? (await c.query('SELECT last_name, first_name FROM payers WHERE tenant_id = $1 ORDER BY last_name, first_name LIMIT 1', [tenantId])).rows[0];
    const number = (await c.query('SELECT number FROM invoices WHERE tenant_id = $1 ORDER BY number OFFSET (SELECT count(*) / 2 FROM invoices WHERE tenant_id = $1) LIMIT 1', [tenantId])).rows[0].number as string;
    const year = (await c.query('SELECT max(billing_year) AS y FROM invoices WHERE tenant_id = $1', [tenantId])).rows[0].y as string;
    const unaccent = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '');
    return {
      // As a secretary types them: "DUPONT Marie", and "marie dupont" without accents.
      lastFirst: `${payer.last_name} ${payer.first_name}`,
      firstLast: unaccent(`${payer.first_name} ${payer.last_name}`).toLowerCase(),
      // The number without its last two digits: ~100 invoices.
      numberPrefix: number.slice(0, Math.max(1, number.length - 2)),
      billingYear: year,
    };
  } finally {
    await c.end();
  }
}

/** The cases; their names show what school 1 looks for (`p`: the same in both databases, by the seed). */
function cases(query: string, p: Probe): CaseDef[] {
  const timed = async (db: DbUnderTest, variables: Record<string, unknown>) => {
    const t0 = performance.now();
    const data = await db.send<InvoicesAnswer>(query, variables);
    return { ms: [performance.now() - t0], count: data.invoices.totalCount };
  };
  const page = (filter: (p: Probe) => Record<string, unknown> | null): CaseDef['sample'] => (db) => timed(db, { filter: filter(db.probe), first: PAGE_SIZE, after: null });
  return [
    { name: 'first page', concurrent: false, sample: page(() => null) },
    {
      name: 'next page',
      concurrent: false,
      sample: async (db) => {
        const first = await db.send<InvoicesAnswer>(query, { filter: null, first: PAGE_SIZE, after: null });
        return timed(db, { filter: null, first: PAGE_SIZE, after: first.invoices.pageInfo.endCursor });
      },
    },
    { name: `search payer "${p.lastFirst}"`, concurrent: false, sample: page((p) => ({ search: p.lastFirst })) },
    { name: `search payer "${p.firstLast}"`, concurrent: false, sample: page((p) => ({ search: p.firstLast })) },
    { name: `search number "${p.numberPrefix}"`, concurrent: false, sample: page((p) => ({ search: p.numberPrefix })) },
    { name: `status TO_COLLECT+PARTIALLY_PAID, year ${p.billingYear}`, concurrent: false, sample: page((p) => ({ statuses: ['TO_COLLECT', 'PARTIALLY_PAID'], billingYear: p.billingYear })) },
    {
      name: `${FRONT_ENDS} front ends, first page at once`,
      concurrent: true,
      sample: async (db) => {
        let count = -1;
        const ms = await Promise.all(Array.from({ length: FRONT_ENDS }, async () => {
          const t0 = performance.now();
          const data = await db.send<InvoicesAnswer>(query, { filter: null, first: PAGE_SIZE, after: null });
          count = data.invoices.totalCount;
          return performance.now() - t0;
        }));
        return { ms, count };
      },
    },
    {
      name: `requestInvoiceExport, search "${p.lastFirst}"`,
      concurrent: false,
      sample: async (db) => {
        const t0 = performance.now();
        const data = await db.send<{ requestInvoiceExport: { id: string } }>(EXPORT_MUTATION, {
          input: { kind: 'INVOICES', format: 'CSV', locale: 'fr-FR', selection: { filter: { search: db.probe.lastFirst } } },
        });
        const ms = [performance.now() - t0];
        // No worker here: the export is only recorded (with the selection's count); remove it so that
        // the tenant's active exports stay at 0.
        const { rows } = await db.pg.query('DELETE FROM invoice_exports WHERE id = $1 RETURNING expected_rows', [data.requestInvoiceExport.id]);
        return { ms, count: rows[0]?.expected_rows ?? -1 };
      },
    },
  ];
}

interface Started {
  tenants: number;
  url: string;
  db: { tenantId: string; invoices: number; payers: number };
  api: Running;
  under: DbUnderTest;
}

/** Seeds (once) and migrates one database, then starts an API on it, in this process. */
async function start(opts: BenchOptions, tenants: number, prefix: string): Promise<Started> {
  const url = listDbUrl(opts, tenants);
  log(`database ${redactUrl(url)}: ${tenants} schools × ${opts.invoices.toLocaleString('en-US')} invoices (seeded once, then reused)`);
  const db = await prepareDatabase(url, tenants, opts.invoices);
  const p = await probe(url, db.tenantId);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: url,
    QUEUE_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: 'warn',
    // Never contacted: the list and the export's request use PostgreSQL (and Redis for the queue) only.
    S3_ENDPOINT: process.env.S3_ENDPOINT || 'http://127.0.0.1:9',
    EXPORT_RATE_LIMIT_PER_MINUTE: '0',
  }, { allowDevJwtSecret: true });
  const api: Running = await boot('api', { config, logger: pino({ level: 'error' }, pino.destination(2)) });
  const endpoint = `http://127.0.0.1:${api.port}/graphql`;
  const token = signToken(config.jwtSecret, { tenantId: db.tenantId, roles: [Role.ACCOUNTANT], userId: 'bench-list' });
  const pg = new Client({ connectionString: url });
  await pg.connect();
  return { tenants, url, db, api, under: { send: (q, v) => gql(endpoint, token, q, v), probe: p, pg } };
}

/**
 * Both databases with an API each, measured interleaved: every round of a
 * case runs once on each, in alternating order (ABBA…), so that a change of
 * the machine's load or of what the page cache holds weighs on both halves of
 * the ratio alike.
 */
async function measureInterleaved(opts: BenchOptions, query: string, prefix: string): Promise<[ListDbResult, ListDbResult]> {
  const both: Started[] = [];
  try {
    both.push(await start(opts, opts.listTenants, prefix));
    both.push(await start(opts, opts.listSmallTenants, prefix));
    const results: ListCaseResult[][] = [[], []];
    for (const c of cases(query, both[0].under.probe)) {
      const ms: number[][] = [[], []];
      const counts = [-1, -1];
      for (let r = 0; r < WARM_UP + opts.listRuns; r++) {
        for (const i of r % 2 === 0 ? [0, 1] : [1, 0]) {
          const s = await c.sample(both[i].under);
          counts[i] = s.count;
          if (r >= WARM_UP) ms[i].push(...s.ms);
        }
      }
      for (const i of [0, 1]) {
        results[i].push({ name: c.name, count: counts[i], samples: ms[i].length, p50: percentile(ms[i], 50), p95: percentile(ms[i], 95) });
        log(`${both[i].tenants} schools: ${c.name}: p50 ${fmt.ms(percentile(ms[i], 50))}, p95 ${fmt.ms(percentile(ms[i], 95))} (count ${counts[i]})`);
      }
    }
    const result = (i: number): ListDbResult => ({
      tenants: both[i].tenants,
      database: redactUrl(both[i].url),
      ...both[i].db,
      probe: both[i].under.probe,
      cases: results[i],
    });
    return [result(0), result(1)];
  } finally {
    for (const s of both) {
      await s.under.pg.end().catch(() => undefined);
      await s.api.shutdown();
    }
  }
}

export function listReport(big: ListDbResult, small: ListDbResult, load: number[]): { text: string; ok: boolean } {
  const rows: string[][] = [];
  let ok = true;
  const notes: string[] = [];
  for (const b of big.cases) {
    const s = small.cases.find((x) => x.name === b.name)!;
    if (s.count !== b.count) {
      ok = false;
      notes.push(`count differs for "${b.name}": ${b.count} with ${big.tenants} schools, ${s.count} with ${small.tenants}`);
    }
    const single = !b.name.includes('front ends');
    const ratio = b.p50 / s.p50;
    const met = !single ? '—' : b.p95 <= TARGET_P95_MS && ratio <= TARGET_RATIO ? 'yes' : 'no';
    rows.push([b.name, fmt.int(b.count), fmt.ms(b.p50), fmt.ms(b.p95), fmt.ms(s.p50), fmt.ms(s.p95), fmt.ratio(ratio), met]);
  }
  const table = markdownTable(
    ['case (school 1)', 'count', `${big.tenants} schools p50`, 'p95', `${small.tenants} schools p50`, 'p95', `p50 ${big.tenants}/${small.tenants}`, 'targets met'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
  const avg = load.reduce((a, b) => a + b, 0) / load.length;
  const text = [
    `List at platform scale: the page's Invoices query (${PAGE_SIZE} per page, totalCount, payers) over HTTP, ` +
      `${big.cases[0].samples} timed requests per case after ${WARM_UP} warm-up ones (${FRONT_ENDS}×${big.cases[0].samples} for the concurrent case).`,
    `${big.tenants} schools: ${big.invoices.toLocaleString('en-US')} invoices, ${big.payers.toLocaleString('en-US')} payers; ` +
      `${small.tenants} schools: ${small.invoices.toLocaleString('en-US')} invoices, ${small.payers.toLocaleString('en-US')} payers. ` +
      `Targets (single client): p95 ≤ ${TARGET_P95_MS} ms, ${big.tenants}/${small.tenants} ≤ ${TARGET_RATIO}×.`,
    '',
    table,
    '',
    `Load average (1 min) during the run: mean ${avg.toFixed(2)}, max ${Math.max(...load).toFixed(2)} on ${os.cpus().length} CPUs.`,
    ...notes,
  ].join('\n');
  return { text, ok };
}

export async function runListBench(opts: BenchOptions): Promise<number> {
  const started = Date.now();
  const load = [os.loadavg()[0]];
  const loadTimer = setInterval(() => load.push(os.loadavg()[0]), 5000).unref();
  const prefix = `bench-list-${randomUUID().slice(0, 8)}`;
  const query = pageInvoicesQuery();
  let big: ListDbResult, small: ListDbResult;
  try {
    [big, small] = await measureInterleaved(opts, query, prefix);
  } catch (err) {
    process.stderr.write(`\nList benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    return 1;
  } finally {
    clearInterval(loadTimer);
    await removeQueueKeys(process.env.REDIS_URL || 'redis://127.0.0.1:6379', [prefix], log);
  }
  const { text, ok } = listReport(big, small, load);
  process.stdout.write(`\n${text}\n`);
  const file = opts.out ?? path.join(ROOT, 'bench', 'results', `list-${stamp()}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify({ kind: 'list', big, small, load, durationSeconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${path.relative(process.cwd(), file) || file}\n`);
  return ok ? 0 : 1;
}
