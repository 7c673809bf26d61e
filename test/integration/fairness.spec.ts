import { DataSource } from 'typeorm';
import { seedTenant } from '../../dev/seed/seed';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { Child, runTs } from '../helpers/processes';
import { TestS3, startTestS3 } from '../helpers/s3';
import { EXPORT_FIELDS } from '../helpers/ws';

/**
 * Sharing the service fairly (issue 10, docs/fairness.md) with real PostgreSQL,
 * Redis and s3rver: the API of this process (no worker in it), workers and
 * other APIs in processes of their own. Defaults: EXPORT_TENANT_CONCURRENCY 2,
 * EXPORT_TENANT_MAX_ACTIVE 20.
 */
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const CANCEL = `mutation($id: ID!) { cancelInvoiceExport(id: $id) { id status } }`;
/** A short lease: a SIGKILLed worker's export is taken over within ~2 s. */
const WORKER_ENV = { LOG_LEVEL: 'info', WORKER_LOCK_DURATION_MS: '2000' };

let s3: TestS3;
let app: TestApp;
let ds: DataSource;
/** Seeded tenants whose INVOICE_LINES exports are large (main lane) and take a few seconds. */
let big1: string;
let big2: string;
const children: Child[] = [];

function startWorker(env: Record<string, string> = {}): Child {
  const child = runTs('src/worker/main.ts', { ...s3.env, ...WORKER_ENV, ...env });
  children.push(child);
  return child;
}

async function startWorkers(n: number, env: Record<string, string> = {}): Promise<Child[]> {
  const ws = Array.from({ length: n }, () => startWorker(env));
  await Promise.all(ws.map((w) => w.waitFor(/Worker ready/, 60_000)));
  return ws;
}

const LINES = { kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } };
const SMALL = { kind: 'INVOICES', format: 'XLSX', selection: { filter: {} } };

async function request(tenantId: string, input: Record<string, unknown>, userId?: string, url = app.url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${app.token(tenantId, undefined, userId)}` },
    body: JSON.stringify({ query: REQUEST, variables: { input } }),
  });
  const body = (await res.json()) as { data?: { requestInvoiceExport: { id: string; status: string; waitingReason: string | null } }; errors?: { message: string; extensions?: Record<string, any> }[] };
  return { export: body.data?.requestInvoiceExport, errors: body.errors };
}

async function requestOk(tenantId: string, input: Record<string, unknown>, userId?: string): Promise<string> {
  const res = await request(tenantId, input, userId);
  expect(res.errors).toBeUndefined();
  return res.export!.id;
}

async function rows(ids: string[]): Promise<{ id: string; status: string; started_at: Date | null; attempts: number }[]> {
  return ds.query(`SELECT id, status, started_at, attempts FROM invoice_exports WHERE id = ANY($1::uuid[])`, [ids]);
}

async function waitUntil<T>(what: string, probe: () => Promise<T | false | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const allFinal = (ids: string[]) => async () => (await rows(ids)).every((r) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.status)) && (await rows(ids));

/** How many of a tenant's exports are RUNNING, every 50 ms, until stopped: the maximum seen. */
function sampleRunning(tenantId: string): { stop(): Promise<{ max: number; samples: number }> } {
  let max = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1 AND status = 'RUNNING'`, [tenantId]);
      max = Math.max(max, n);
      samples++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { max, samples };
    },
  };
}

async function smallTenant(invoices = 1): Promise<string> {
  const t = await createTenant(ds, uniqueName('fair'));
  const p = await createPayer(ds, t);
  for (let i = 0; i < invoices; i++) await createInvoice(ds, t, { number: `F${i + 1}`, billingDate: '2024-01-15', payerId: p, lines: [{ unitPrice: '10.00' }] });
  return t;
}

beforeAll(async () => {
  s3 = await startTestS3();
  app = await startTestApp({ role: 'api', s3 });
  ds = app.running.services.dataSource;
  // Large exports (main lane) that take a while, so that they overlap: ~11,000 lines;
  // big2's ~29,000 lines take seconds, so that a worker can be killed mid-export.
  const seed = async (invoices: number) => (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('fair-big'), invoices, ifExists: 'duplicate', analyze: true })).tenantId;
  big1 = await seed(3000);
  big2 = await seed(8000);
}, 120_000);

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
});

afterAll(async () => {
  await app?.stop();
  await s3?.stop();
});

it('refuses the 21st active export with RATE_LIMITED and retryAfterSeconds, lets re-sends through, and accepts again once one has finished', async () => {
  const t = await smallTenant();
  // No worker yet: everything stays QUEUED (two on the queue, eighteen waiting their turn).
  const first = await requestOk(t, { ...SMALL, idempotencyKey: 'fair-1' });
  for (let i = 1; i < 20; i++) await requestOk(t, SMALL);
  const refused = await request(t, SMALL);
  expect(refused.export).toBeUndefined();
  expect(refused.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  expect(refused.errors?.[0].extensions?.retryAfterSeconds).toEqual(expect.any(Number));
  expect(refused.errors?.[0].message).toMatch(/20 exports/);
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1`, [t]);
  expect(n).toBe(20); // nothing recorded for the refused one
  // The idempotent re-send of an existing export is never refused.
  const resent = await request(t, { ...SMALL, idempotencyKey: 'fair-1' });
  expect(resent.errors).toBeUndefined();
  expect(resent.export!.id).toBe(first);

  await startWorkers(1);
  await waitUntil('one export completed', async () => {
    const [{ done }] = await ds.query(`SELECT count(*)::int AS done FROM invoice_exports WHERE tenant_id = $1 AND status = 'COMPLETED'`, [t]);
    return done > 0;
  });
  const again = await request(t, SMALL);
  expect(again.errors).toBeUndefined();
  expect(again.export!.status).toBe('QUEUED');
  await ds.query(`UPDATE invoice_exports SET status = 'CANCELLED', completed_at = now() WHERE tenant_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [t]);
});

it('runs at most EXPORT_TENANT_CONCURRENCY (2) of a tenant’s exports at once over two worker processes, and completes all 6', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await requestOk(big1, LINES));
  const sampler = sampleRunning(big1);
  await startWorkers(2);
  const final = await waitUntil('the 6 exports to finish', allFinal(ids), 90_000);
  const { max, samples } = await sampler.stop();
  expect(final.map((r) => r.status)).toEqual(Array(6).fill('COMPLETED'));
  expect(samples).toBeGreaterThan(10);
  expect(max).toBeLessThanOrEqual(2);
  expect(max).toBe(2); // and it did use both slots
}, 120_000);

it('frees the slot of a SIGKILLed worker when its export is taken over; the tenant’s other exports still run', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await requestOk(big2, LINES));
  const [victim] = await startWorkers(1);
  // Both slots taken by the victim, the third export waiting for one.
  const running = await waitUntil('two exports running', async () => {
    const r = await rows(ids);
    const run = r.filter((x) => x.status === 'RUNNING');
    return run.length === 2 && run;
  });
  await victim.kill('SIGKILL');
  const sampler = sampleRunning(big2);
  await startWorkers(1);
  const final = await waitUntil('the 3 exports to finish', allFinal(ids), 90_000);
  const { max } = await sampler.stop();
  expect(final.map((r) => r.status)).toEqual(Array(3).fill('COMPLETED'));
  expect(max).toBeLessThanOrEqual(2);
  // The two killed exports were taken over (a second attempt), and the third ran too: no slot leaked.
  const byId = new Map(final.map((r) => [r.id, r]));
  for (const r of running) expect(byId.get(r.id)!.attempts).toBe(2);
  const third = final.find((r) => !running.some((x) => x.id === r.id))!;
  expect(third.attempts).toBe(1);
}, 120_000);

it('starts a small export before a tenant’s queued large ones while that tenant’s slots are busy', async () => {
  const b = await smallTenant(3);
  const large: string[] = [];
  for (let i = 0; i < 5; i++) large.push(await requestOk(big2, LINES));
  await startWorkers(1);
  const busy = await waitUntil('A’s two slots busy', async () => {
    const run = (await rows(large)).filter((x) => x.status === 'RUNNING');
    return run.length === 2 && run.map((x) => x.id);
  });
  // Another tenant's small export (its own lane), and one of A's own (first in A's order).
  const bSmall = await requestOk(b, SMALL);
  const [some] = await ds.query(`SELECT array_agg(id) AS ids FROM (SELECT id FROM invoices WHERE tenant_id = $1 LIMIT 10) x`, [big2]);
  const aSmall = await requestOk(big2, { kind: 'INVOICES', format: 'XLSX', selection: { invoiceIds: some.ids } });
  await waitUntil('B’s small export to complete', async () => (await rows([bSmall]))[0].status === 'COMPLETED', 30_000);
  await waitUntil('A’s small export to complete', async () => (await rows([aSmall]))[0].status === 'COMPLETED', 90_000);
  // Then A's waiting large ones go on (at least one is on the queue once A's small one is done).
  await waitUntil('one of A’s waiting large exports dispatched', async () => {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE id = ANY($1::uuid[]) AND enqueued_at IS NOT NULL`, [large.filter((id) => !busy.includes(id))]);
    return n > 0;
  });
  const dispatched: { id: string; started_at: Date | null; enqueued_at: Date | null }[] = await ds.query(
    `SELECT id, started_at, enqueued_at FROM invoice_exports WHERE id = ANY($1::uuid[])`,
    [[bSmall, aSmall, ...large]],
  );
  const of = (id: string) => dispatched.find((x) => x.id === id)!;
  const waitingLarge = large.filter((id) => !busy.includes(id)).map(of);
  expect(waitingLarge).toHaveLength(3);
  // A's small export was put on the queue before any of A's waiting large ones
  // (two may go in the same dispatch pass when two slots free at once; the small one first).
  expect(waitingLarge.some((l) => l.enqueued_at)).toBe(true);
  for (const l of waitingLarge) if (l.enqueued_at) expect(+l.enqueued_at).toBeGreaterThan(+of(aSmall).enqueued_at!);
  // B waited for none of A's exports: it started before the first of them finished.
  const [{ firstDone }] = await ds.query(`SELECT min(completed_at) AS "firstDone" FROM invoice_exports WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'`, [large]);
  expect(firstDone).not.toBeNull();
  expect(+of(bSmall).started_at!).toBeLessThan(+new Date(firstDone));
  // Save the rest of the file's time: A's large exports are cancelled.
  for (const id of large) await app.gql(CANCEL, { id }, app.token(big2));
}, 120_000);

it('holds the per-user rate limit across two API processes', async () => {
  const t = await smallTenant();
  const env = { ...s3.env, PORT: '0', LOG_LEVEL: 'info', EXPORT_RATE_LIMIT_PER_MINUTE: '3' };
  const apis = [runTs('src/api/main.ts', env), runTs('src/api/main.ts', env)];
  children.push(...apis);
  const urls = await Promise.all(
    apis.map(async (a) => `http://127.0.0.1:${/localhost:(\d+)\/graphql/.exec(await a.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"/, 60_000))![1]}/graphql`),
  );
  // A fixed one-minute window: not across its boundary.
  if (new Date().getSeconds() > 50) await new Promise((r) => setTimeout(r, (61 - new Date().getSeconds()) * 1000));
  const user = uniqueName('rate');
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await request(t, SMALL, user, urls[i % 2]));
  expect(results.slice(0, 3).map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
  expect(results[3].errors?.[0].extensions?.code).toBe('RATE_LIMITED');
  expect(results[3].errors?.[0].extensions?.retryAfterSeconds).toBeGreaterThan(0);
  // Another user of the same tenant has a window of their own.
  expect((await request(t, SMALL, uniqueName('other'), urls[1])).errors).toBeUndefined();
}, 120_000);
