import { DataSource } from 'typeorm';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { readCsv } from '../helpers/files';
import { runTs } from '../helpers/processes';
import { ThrowawayRedis, startRedis } from '../helpers/redis';
import { TestS3, startTestS3 } from '../helpers/s3';
import { EXPORT_FIELDS, ExportState } from '../helpers/ws';

/**
 * PostgreSQL holds the truth: while Redis is down the API still answers
 * reads and records exports, which run once Redis is back (issue 8).
 */
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const READ = `query($id: ID!) { invoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;

let redis: ThrowawayRedis;
let s3: TestS3;
let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let tenant: string;
let invoice: string;

async function poll(url: TestApp['gql'], id: string, done: (e: ExportState) => boolean, timeoutMs = 30_000): Promise<ExportState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = (await url(READ, { id }, app.token(tenant))).data?.invoiceExport as ExportState;
    if (e && done(e)) return e;
    if (Date.now() > until) throw new Error(`export ${id}: still ${JSON.stringify(e)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  redis = await startRedis();
  s3 = await startTestS3();
  app = await startTestApp({ role: 'api', s3, env: { REDIS_URL: redis.url } });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);
  tenant = await createTenant(ds, uniqueName('outage'));
  const payer = await createPayer(ds, tenant, { lastName: 'BUSSON', firstName: 'Marie' });
  invoice = await createInvoice(ds, tenant, { number: 'F163881', billingDate: '2019-01-25', payerId: payer, lines: [{ unitPrice: '500.00' }] });
}, 60_000);

afterAll(async () => {
  await worker?.close(0);
  await app?.stop();
  await s3?.stop();
  await redis?.stop();
});

it('Redis down: reads answer, an export is recorded QUEUED (QUEUE_UNAVAILABLE) and completes once Redis is back', async () => {
  await redis.stop();
  const list = await app.gql(`{ invoices(first: 5) { totalCount } }`, {}, app.token(tenant));
  expect(list.errors).toBeUndefined();
  expect(list.data.invoices.totalCount).toBe(1);

  const asked = await app.gql(REQUEST, { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [invoice] } } }, app.token(tenant));
  expect(asked.errors).toBeUndefined();
  const recorded = asked.data.requestInvoiceExport as ExportState;
  expect(recorded).toMatchObject({ status: 'QUEUED', waitingReason: 'QUEUE_UNAVAILABLE' });

  redis = await startRedis(redis.port);
  const done = await poll(app.gql, recorded.id, (e) => e.status === 'COMPLETED' || e.status === 'FAILED');
  expect(done.status).toBe('COMPLETED');
  expect(done.waitingReason).toBeNull();
  const { rows } = readCsv(Buffer.from(await (await fetch(done.downloadUrl!)).arrayBuffer()), 'fr-FR');
  expect(rows.map((r) => r[1])).toEqual(['F163881']);
}, 60_000);

it('start:api starts while Redis and the storage are down, and accepts an export', async () => {
  const child = runTs('src/api/main.ts', { ...s3.env, S3_ENDPOINT: 'http://127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', LOG_LEVEL: 'info' });
  try {
    const ready = await child.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"/, 30_000);
    const url = /http:\/\/localhost:\d+\/graphql/.exec(ready)![0];
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.token(tenant)}` },
      body: JSON.stringify({ query: REQUEST, variables: { input: { kind: 'INVOICES', selection: { invoiceIds: [invoice] } } } }),
    });
    const body = (await res.json()) as { data?: { requestInvoiceExport: ExportState }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(body.data!.requestInvoiceExport).toMatchObject({ status: 'QUEUED', waitingReason: 'QUEUE_UNAVAILABLE' });
    expect(child.output()).toMatch(/Starting anyway/);
  } finally {
    await child.kill('SIGKILL');
  }
}, 60_000);
