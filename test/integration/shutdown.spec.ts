import { randomUUID } from 'node:crypto';
import { AddressInfo, Server, Socket, createServer, connect } from 'node:net';
import { DataSource } from 'typeorm';
import { seedTenant } from '../../dev/seed/seed';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { Child, runTs } from '../helpers/processes';
import { ThrowawayRedis, startRedis } from '../helpers/redis';
import { TestS3, startTestS3 } from '../helpers/s3';
import { followExport, wsClient } from '../helpers/ws';

/**
 * A process stops when told, whatever is down (issue 17): sent SIGTERM while
 * its Redis is gone, or while PostgreSQL keeps cutting its connections, a
 * worker or an API process exits within SHUTDOWN_GRACE_MS + 5 s — here a
 * grace of 2 s — instead of waiting forever for BullMQ to close. Redis
 * outages are played on a redis-server of this file, never the shared one;
 * connections are cut only for the child's own application_name.
 */
const GRACE_MS = 2000;
const EXIT_WITHIN_MS = GRACE_MS + 5000;
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }`;

let s3: TestS3;
let redis: ThrowawayRedis;
let app: TestApp;
let ds: DataSource;
let big: string;
const children: Child[] = [];

/**
 * A TCP relay in front of the test's S3 that can freeze: the bytes stop
 * flowing both ways, as with a storage that hangs. A worker's export then
 * cannot complete within the grace, however fast the machine and the writer.
 */
interface FreezableRelay { endpoint: string; freeze(): void; close(): Promise<void> }
async function freezableRelay(target: URL): Promise<FreezableRelay> {
  const sockets: Socket[] = [];
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.push(client, upstream);
    for (const s of [client, upstream]) s.on('error', () => undefined);
    if (frozen) { client.pause(); return; }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze() {
      frozen = true;
      for (const s of sockets) { s.unpipe(); s.pause(); }
    },
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

function start(entry: 'src/worker/main.ts' | 'src/api/main.ts' | 'src/main.ts', env: Record<string, string>): Child {
  const child = runTs(entry, {
    ...process.env,
    ...s3.env,
    LOG_LEVEL: 'info',
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    WORKER_CONCURRENCY: '1',
    WORKER_LOCK_DURATION_MS: '4000',
    PORT: '0',
    ...env,
  } as Record<string, string>);
  children.push(child);
  return child;
}

/** The exit code, or a failure naming what the process was still doing after `ms`. */
async function exitWithin(child: Child, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after SIGTERM:\n${child.output().slice(-2000)}`)), ms);
  });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function requestLargeExport(): Promise<string> {
  const res = await app.gql(REQUEST, { input: { kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } } }, app.token(big));
  expect(res.errors).toBeUndefined();
  return res.data.requestInvoiceExport.id;
}

async function row(id: string): Promise<{ status: string; processed_rows: number; lease_token: string | null; attempts: number }> {
  const [r] = await ds.query('SELECT status, processed_rows, lease_token, attempts FROM invoice_exports WHERE id = $1', [id]);
  return r;
}

async function untilRunning(id: string): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const r = await row(id);
    if (r.status === 'RUNNING' && r.processed_rows > 0) return;
    if (Date.now() > until) throw new Error(`export ${id} never ran: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  s3 = await startTestS3();
  redis = await startRedis();
  // The API that records the exports, in this process, on the same throwaway Redis.
  app = await startTestApp({ role: 'api', s3, env: { REDIS_URL: redis.url } });
  ds = app.running.services.dataSource;
  // ~70,000 billing lines: an XLSX export that runs well past the grace.
  big = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('shutdown'), invoices: 20_000, ifExists: 'duplicate', analyze: true })).tenantId;
}, 120_000);

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  // The worker's exports of one test must not run in the next one's worker.
  await ds.query(`UPDATE invoice_exports SET status = 'CANCELLED', lease_token = NULL WHERE tenant_id = $1 AND status IN ('QUEUED', 'RUNNING')`, [big]);
});

afterAll(async () => {
  await app?.stop();
  await redis?.stop();
  await s3?.stop();
});

it.each([
  ['a worker (start:worker)', 'src/worker/main.ts'],
  ['the all-in-one process (npm start)', 'src/main.ts'],
] as const)('%s sent SIGTERM while its Redis is down exits, and hands its running export back', async (_what, entry) => {
  let id: string;
  const relay = await freezableRelay(new URL(s3.endpoint));
  const worker = start(entry, { REDIS_URL: redis.url, S3_ENDPOINT: relay.endpoint });
  let code: number | null;
  try {
    await worker.waitFor(/Worker ready/, 90_000);
    const id0 = await requestLargeExport();
    await untilRunning(id0);
    // The storage hangs: the export is still running when the grace ends.
    relay.freeze();
    await redis.stop();
    worker.proc.kill('SIGTERM');
    code = await exitWithin(worker, EXIT_WITHIN_MS);
    id = id0;
  } finally {
    redis = await startRedis(redis.port);
    await relay.close();
  }
  // BullMQ never closes without Redis: the process had to force, and says so with its exit code.
  expect(worker.output()).toMatch(/closing what is left by force/);
  expect(code).toBe(1);
  // The attempt was handed back (PostgreSQL was up): another worker takes it, its attempt not spent.
  expect(await row(id)).toMatchObject({ status: 'QUEUED', lease_token: null, attempts: 0 });
  expect(worker.output()).toMatch(/handed back to the queue/);
}, 180_000);

it('an API process sent SIGTERM while its Redis is down exits', async () => {
  const api = start('src/api/main.ts', { REDIS_URL: redis.url });
  const ready = await api.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"/, 90_000);
  const url = /http:\/\/localhost:\d+\/graphql/.exec(ready)![0];
  // A page following an export over the WebSocket, as the process goes down.
  const id = await requestLargeExport();
  const client = wsClient(url.replace(/^http/, 'ws'), app.token(big));
  try {
    const followed = followExport(client, id);
    expect(await followed.until(() => true)).toMatchObject({ id, status: 'QUEUED' });
    await redis.stop();
    api.proc.kill('SIGTERM');
    // Nothing of the API's close needs Redis: a clean exit.
    expect(await exitWithin(api, EXIT_WITHIN_MS)).toBe(0);
  } finally {
    await client.dispose();
    redis = await startRedis(redis.port);
  }
}, 150_000);

it('a worker sent SIGTERM while PostgreSQL keeps cutting its connections exits; its export is handed back or left to its lease', async () => {
  const appName = `shutdown-test-${randomUUID().slice(0, 8)}`;
  const databaseUrl = new URL(app.config.databaseUrl);
  // Every connection of the child (TypeORM's and its snapshot pool) carries this name: the URL wins over the code's own.
  databaseUrl.searchParams.set('application_name', appName);
  const worker = start('src/worker/main.ts', { REDIS_URL: redis.url, DATABASE_URL: databaseUrl.toString() });
  await worker.waitFor(/Worker ready/, 90_000);
  const id = await requestLargeExport();
  await untilRunning(id);
  let cut = 0;
  let cutting = true;
  const cutter = (async () => {
    while (cutting) {
      const killed = await ds.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()`,
        [appName],
      );
      cut += killed.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    worker.proc.kill('SIGTERM');
    const code = await exitWithin(worker, EXIT_WITHIN_MS);
    expect(code).not.toBeNull();
  } finally {
    cutting = false;
    await cutter;
  }
  // The cuts hit the worker's own connections (the test would prove nothing otherwise).
  expect(cut).toBeGreaterThan(0);
  // Never finished nor failed by the cut: back on the queue, or RUNNING until its lease runs out.
  expect(['QUEUED', 'RUNNING']).toContain((await row(id)).status);
}, 180_000);
