import IORedis from 'ioredis';
import { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';
import { ExportFormat, ExportKind } from '../../src/entities/enums';
import { InvoiceExport } from '../../src/entities/invoice-export.entity';
import { ExportErrorCode } from '../../src/errors';
import { ExportEvents, createExportEvents } from '../../src/exports/events';
import { Attempt, ClaimPolicy, ExportLifecycle } from '../../src/exports/lifecycle';
import { createTenant } from '../factories';
import { uniqueName } from '../helpers/app';
import { TEST_REDIS_URL, testDatabaseUrl } from '../test-env';

/**
 * The transitions of an export's row (docs/architecture.md), one by one,
 * against the real PostgreSQL and the real Redis events: what each writes,
 * which stale writer it refuses, and what subscribers are told.
 */
let ds: DataSource;
let redis: IORedis[];
let events: ExportEvents;
let lifecycle: ExportLifecycle;
let tenant: string;

const POLICY: ClaimPolicy = { leaseMs: 30_000, tenantConcurrency: 5, maxAttempts: 10 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  ds = createDataSource(testDatabaseUrl(), { poolSize: 4 });
  await ds.initialize();
  redis = [new IORedis(TEST_REDIS_URL), new IORedis(TEST_REDIS_URL)];
  await Promise.all(redis.map((r) => r.ping()));
  events = createExportEvents(redis[0], redis[1], process.env.QUEUE_PREFIX!);
  lifecycle = new ExportLifecycle(ds, events);
  tenant = await createTenant(ds, uniqueName('lifecycle'));
});

afterAll(async () => {
  for (const r of redis ?? []) r.disconnect();
  await ds?.destroy();
});

async function recorded(): Promise<string> {
  const id = await lifecycle.record(ds.manager, {
    tenantId: tenant,
    requestedBy: 'user-1',
    kind: ExportKind.INVOICES,
    format: ExportFormat.CSV,
    locale: 'fr-FR',
    selection: { mode: 'ids', invoiceIds: [] },
    idempotencyKey: null,
    expectedRows: 1,
    queuePrefix: process.env.QUEUE_PREFIX!,
  });
  return id!;
}

async function row(id: string) {
  const [r] = await ds.query(
    `SELECT status, attempts, processed_rows, total_rows, lease_token, enqueued_at, waiting_reason, error_code, error_message, not_before, file_key
     FROM invoice_exports WHERE id = $1`,
    [id],
  );
  return r;
}

async function started(id: string, policy: Partial<ClaimPolicy> = {}): Promise<Attempt> {
  const claimed = await lifecycle.claim(id, { ...POLICY, ...policy });
  if (claimed.outcome !== 'started') throw new Error(`claim: ${claimed.outcome}`);
  return claimed.attempt;
}

/** Every event published for the export from now on, in order. */
function follow(id: string) {
  const seen: InvoiceExport[] = [];
  const iterator = events.subscribe(id);
  void (async () => {
    for await (const e of { [Symbol.asyncIterator]: () => iterator }) seen.push(e);
  })();
  return {
    seen,
    /** Resolves once the subscription receives (the current row, published until one arrives); starts the record afresh. */
    async ready(): Promise<void> {
      for (let i = 0; i < 400 && !seen.length; i++) {
        await lifecycle.publishCurrent(id);
        await sleep(50);
      }
      expect(seen.length).toBeGreaterThan(0);
      seen.length = 0;
    },
    async next(n: number): Promise<InvoiceExport[]> {
      for (let i = 0; i < 200 && seen.length < n; i++) await sleep(25);
      expect(seen.length).toBeGreaterThanOrEqual(n);
      return seen;
    },
    stop: () => iterator.return?.(),
  };
}

const FILE = { rows: 3, fileRows: 3, key: 'exports/t/e/1/f.csv', name: 'f.csv', size: 42, retentionDays: 7, warnings: null };

it('record → enqueue → claim → progress → counted → complete, each telling subscribers what they can see', async () => {
  const id = await recorded();
  const followed = follow(id);
  await followed.ready();
  expect(await row(id)).toMatchObject({ status: 'QUEUED', attempts: 0, enqueued_at: null, waiting_reason: null });
  expect(await lifecycle.enqueue(id, async () => undefined)).toEqual({ outcome: 'enqueued' });
  expect((await row(id)).enqueued_at).not.toBeNull();
  // Claimed once: a second dispatcher finds it taken.
  expect(await lifecycle.enqueue(id, async () => undefined)).toEqual({ outcome: 'taken' });
  const a = await started(id);
  expect(a.number).toBe(1);
  expect(await lifecycle.progress(a, 2)).toBe('held');
  expect(await lifecycle.progress(a, 2)).toBe('held'); // nothing moved: no event
  expect(await lifecycle.counted(a, 3)).toBe(true);
  expect(await lifecycle.complete(a, FILE)).toBe(true);
  const seen = await followed.next(4);
  // Nothing published for the claim of a row that waited for nothing, nor for a heartbeat that moved no row.
  expect(seen.map((e) => [e.status, e.processedRows, e.totalRows])).toEqual([
    ['RUNNING', 0, null],
    ['RUNNING', 2, null],
    ['RUNNING', 2, 3],
    ['COMPLETED', 3, 3],
  ]);
  expect(seen[3]).toMatchObject({ fileName: 'f.csv', fileSize: 42, rowCount: 3, leaseToken: undefined });
  expect(seen[3].completedAt).toBeInstanceOf(Date);
  expect(await row(id)).toMatchObject({ status: 'COMPLETED', lease_token: null, file_key: FILE.key });
  await followed.stop();
});

it('an attempt that lost its lease changes nothing: the one that took over wins', async () => {
  const id = await recorded();
  const stale = await started(id, { leaseMs: 3000 });
  // Still held: another claim must wait for it.
  const early = await lifecycle.claim(id, POLICY);
  expect(early.outcome).toBe('held');
  await sleep(3200);
  const winner = await started(id);
  expect(winner.number).toBe(2);
  expect(await lifecycle.progress(stale, 99)).toBe('lost');
  expect(await lifecycle.counted(stale, 99)).toBe(false);
  expect(await lifecycle.retryLater(stale, ExportErrorCode.STORAGE_UNAVAILABLE, 'x', new Date())).toBe(false);
  expect(await lifecycle.handBack(stale)).toBe(false);
  expect(await lifecycle.fail(stale, ExportErrorCode.INTERNAL_ERROR, 'x')).toBe(false);
  expect(await lifecycle.complete(stale, FILE)).toBe(false);
  expect(await row(id)).toMatchObject({ status: 'RUNNING', attempts: 2, processed_rows: 0, total_rows: null, lease_token: winner.token });
  expect(await lifecycle.complete(winner, { ...FILE, key: 'exports/t/e/2/f.csv' })).toBe(true);
  expect((await row(id)).file_key).toBe('exports/t/e/2/f.csv');
});

it('cancel: a running attempt learns it at its next heartbeat; a finished export cannot be cancelled', async () => {
  const id = await recorded();
  const a = await started(id);
  expect((await lifecycle.cancel(tenant, id))?.status).toBe('CANCELLED');
  expect(await lifecycle.progress(a, 1)).toBe('cancelled');
  expect(await lifecycle.complete(a, FILE)).toBe(false);
  expect(await lifecycle.cancel(tenant, id)).toBeUndefined();
  // Another tenant's id is not found.
  const other = await recorded();
  expect(await lifecycle.cancel(await createTenant(ds, uniqueName('other')), other)).toBeUndefined();
  expect((await row(other)).status).toBe('QUEUED');
});

it('claim parks an export whose tenant runs as many as it may, back in the outbox', async () => {
  const t = tenant;
  tenant = await createTenant(ds, uniqueName('slots'));
  try {
    const first = await recorded();
    const second = await recorded();
    await started(first, { tenantConcurrency: 1 });
    expect((await lifecycle.claim(second, { ...POLICY, tenantConcurrency: 1 })).outcome).toBe('parked');
    expect(await row(second)).toMatchObject({ status: 'QUEUED', attempts: 0, enqueued_at: null, waiting_reason: 'TENANT_CONCURRENCY' });
  } finally {
    tenant = t;
  }
});

it('retryLater keeps the error and waits until notBefore; handBack gives the attempt back', async () => {
  const id = await recorded();
  const a = await started(id);
  const notBefore = new Date(Date.now() + 60_000);
  expect(await lifecycle.retryLater(a, ExportErrorCode.STORAGE_UNAVAILABLE, 'The file storage could not be reached: down', notBefore)).toBe(true);
  const waiting = await row(id);
  expect(waiting).toMatchObject({ status: 'QUEUED', attempts: 1, waiting_reason: 'RETRY', error_code: 'STORAGE_UNAVAILABLE', lease_token: null });
  expect(new Date(waiting.not_before).getTime()).toBe(notBefore.getTime());
  const b = await started(id);
  expect(b.number).toBe(2);
  expect(await row(id)).toMatchObject({ error_code: null, not_before: null, waiting_reason: null });
  expect(await lifecycle.handBack(b)).toBe(true);
  expect(await row(id)).toMatchObject({ status: 'QUEUED', attempts: 1, lease_token: null });
});

it('requeueLost puts an expired attempt back (WORKER_LOST), or fails it once the attempts are spent; claim refuses a spent one too', async () => {
  const id = await recorded();
  await started(id, { leaseMs: 50 });
  // A live lease is left alone.
  expect(await lifecycle.requeueLost(id, 10, 60)).toBeUndefined();
  await sleep(150);
  expect(await lifecycle.requeueLost(id, 10, 0)).toBe('requeued');
  expect(await row(id)).toMatchObject({ status: 'QUEUED', attempts: 1, waiting_reason: 'WORKER_LOST', enqueued_at: null, lease_token: null });
  await started(id, { leaseMs: 50 });
  await sleep(150);
  expect(await lifecycle.requeueLost(id, 2, 0)).toBe('failed');
  expect(await row(id)).toMatchObject({ status: 'FAILED', attempts: 2, error_code: 'WORKER_LOST', waiting_reason: null, lease_token: null });
  expect((await row(id)).error_message).toBe('The worker running this export stopped on every attempt');

  const spent = await recorded();
  await started(spent, { leaseMs: 50 });
  await sleep(150);
  expect((await lifecycle.claim(spent, { ...POLICY, maxAttempts: 1 })).outcome).toBe('lost');
  expect(await row(spent)).toMatchObject({ status: 'FAILED', error_code: 'WORKER_LOST' });
});

it('enqueue: a refused job undoes the claim and says QUEUE_UNAVAILABLE; the next success clears it for subscribers', async () => {
  const id = await recorded();
  const followed = follow(id);
  await followed.ready();
  const refused = await lifecycle.enqueue(id, async () => {
    throw new Error('The job queue (Redis) is not connected');
  });
  expect(refused).toMatchObject({ outcome: 'unavailable', queueError: { message: 'The job queue (Redis) is not connected' } });
  expect(await row(id)).toMatchObject({ status: 'QUEUED', enqueued_at: null, waiting_reason: 'QUEUE_UNAVAILABLE' });
  // Refused again: nothing new to tell.
  expect((await lifecycle.enqueue(id, () => Promise.reject(new Error('still down')))).outcome).toBe('unavailable');
  expect(await lifecycle.enqueue(id, async () => undefined)).toEqual({ outcome: 'enqueued' });
  const seen = await followed.next(2);
  expect(seen.map((e) => e.waitingReason)).toEqual(['QUEUE_UNAVAILABLE', null]);
  await followed.stop();
});

it('expire: only a COMPLETED export becomes EXPIRED', async () => {
  const id = await recorded();
  expect(await lifecycle.expire(id)).toBe(false);
  const a = await started(id);
  await lifecycle.complete(a, FILE);
  expect(await lifecycle.expire(id)).toBe(true);
  expect(await lifecycle.expire(id)).toBe(false);
  expect((await row(id)).status).toBe('EXPIRED');
});
