import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { runSweep } from '../../src/worker/sweep';
import { RunningWorker, startWorker } from '../../src/worker/worker';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { EXPORT_FIELDS, ExportState, followExport, wsClient } from '../helpers/ws';

const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const READ = `query($id: ID!) { invoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;
const CANCEL = `mutation($id: ID!) { cancelInvoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;

let app: TestApp;
let worker: RunningWorker;
let ds: DataSource;
let tenantA: string;
let tenantB: string;
let idsA: string[];
let big: string;

const exportRows = async (tenantId: string) =>
  (await ds.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1`, [tenantId]))[0].n as number;
const jobCount = async () => {
  const c = await app.running.services.queues.counts();
  return c.waiting + c.prioritized + c.active + c.delayed;
};

async function request(tenantId: string, input: Record<string, unknown>, roles?: Role[]) {
  return app.gql(REQUEST, { input }, app.token(tenantId, roles));
}

async function waitFor(id: string, tenantId: string, statuses: string[], timeoutMs = 20_000): Promise<ExportState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await app.gql(READ, { id }, app.token(tenantId));
    const e = res.data?.invoiceExport as ExportState;
    if (e && statuses.includes(e.status)) return e;
    if (Date.now() > until) throw new Error(`export ${id} still ${e?.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  app = await startTestApp({ role: 'api', env: { EXPORT_MAX_IDS: '100000' } });
  ds = app.running.services.dataSource;
  worker = await startWorker(app.running.services);
  tenantA = await createTenant(ds, uniqueName('A'));
  tenantB = await createTenant(ds, uniqueName('B'));
  const pA = await createPayer(ds, tenantA, { lastName: 'ACHARD', firstName: 'Basile' });
  idsA = [];
  for (let i = 0; i < 5; i++) {
    idsA.push(await createInvoice(ds, tenantA, { number: `F20000${i}`, billingDate: `2020-0${i + 1}-15`, payerId: pA, lines: [{ unitPrice: '100.00' }] }));
  }
  const pB = await createPayer(ds, tenantB);
  await createInvoice(ds, tenantB, { number: 'F900001', billingDate: '2021-01-01', payerId: pB, lines: [{ unitPrice: '1.00' }] });
  big = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('big'), invoices: 6000, ifExists: 'duplicate' })).tenantId;
}, 120_000);

afterAll(async () => {
  await worker?.close(1000);
  await app?.stop();
});

describe('bad input: a clear error, no export row, no job', () => {
  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['both invoiceIds and filter', () => ({ kind: 'INVOICES', selection: { invoiceIds: idsA, filter: {} } }), 'BAD_USER_INPUT', /exactly one of invoiceIds/],
    ['neither invoiceIds nor filter', () => ({ kind: 'INVOICES', selection: {} }), 'BAD_USER_INPUT', /exactly one of invoiceIds/],
    ['an empty list of ids', () => ({ kind: 'INVOICES', selection: { invoiceIds: [] } }), 'BAD_USER_INPUT', /empty/],
    ['malformed ids', () => ({ kind: 'INVOICES', selection: { invoiceIds: [idsA[0], 'not-a-uuid', '42'] } }), 'BAD_USER_INPUT', /2 malformed id/],
    ['unknown ids, counted', () => ({ kind: 'INVOICES', selection: { invoiceIds: [idsA[0], randomUUID(), randomUUID()] } }), 'BAD_USER_INPUT', /^2 of the 3 selected invoices do not exist$/],
    ['a filter that matches nothing', () => ({ kind: 'INVOICES', selection: { filter: { billingYear: '1999' } } }), 'BAD_USER_INPUT', /matches no invoice/],
    ['a filter whose exclusions remove everything', () => ({ kind: 'INVOICES', selection: { filter: {}, excludedInvoiceIds: idsA } }), 'BAD_USER_INPUT', /matches no invoice/],
    ['excluded ids with invoiceIds', () => ({ kind: 'INVOICES', selection: { invoiceIds: idsA, excludedInvoiceIds: [idsA[0]] } }), 'BAD_USER_INPUT', /excludedInvoiceIds goes with a filter/],
    ['an unknown locale', () => ({ kind: 'INVOICES', locale: 'de-DE', selection: { invoiceIds: idsA } }), 'BAD_USER_INPUT', /locale must be one of fr-FR, en-GB/],
    ['dates the wrong way round', () => ({ kind: 'INVOICES', selection: { filter: { billingDateFrom: '2020-05-01', billingDateTo: '2020-01-01' } } }), 'BAD_USER_INPUT', /after billingDateTo/],
    ['an unknown kind', () => ({ kind: 'EVERYTHING', selection: { invoiceIds: idsA } }), 'BAD_USER_INPUT', /EVERYTHING/],
  ];
  it.each(cases)('%s', async (_name, input, code, message) => {
    const [rowsBefore, jobsBefore] = [await exportRows(tenantA), await jobCount()];
    const res = await request(tenantA, input());
    expect(res.errors?.[0].extensions?.code).toBe(code);
    expect(res.errors?.[0].message).toMatch(message);
    expect(await exportRows(tenantA)).toBe(rowsBefore);
    expect(await jobCount()).toBe(jobsBefore);
  });

  it("another tenant's ids look exactly like missing ones", async () => {
    const theirs = await request(tenantB, { kind: 'INVOICES', selection: { invoiceIds: idsA.slice(0, 2) } });
    const missing = await request(tenantB, { kind: 'INVOICES', selection: { invoiceIds: [randomUUID(), randomUUID()] } });
    expect(theirs.errors?.[0]).toEqual(missing.errors?.[0]);
    expect(theirs.errors?.[0].message).toBe('2 of the 2 selected invoices do not exist');
  });

  it('VIEWER is FORBIDDEN to export or cancel', async () => {
    const res = await request(tenantA, { kind: 'INVOICES', selection: { invoiceIds: idsA } }, [Role.VIEWER]);
    expect(res.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const cancel = await app.gql(CANCEL, { id: randomUUID() }, app.token(tenantA, [Role.VIEWER]));
    expect(cancel.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('admits EXPORT_MAX_IDS ids in one request and refuses one more, without loading them', async () => {
    const ids = Array.from({ length: 100_000 }, () => randomUUID());
    const atMax = await request(tenantA, { kind: 'INVOICES', selection: { invoiceIds: ids } });
    expect(atMax.status).toBe(200);
    expect(atMax.errors?.[0].message).toBe('100000 of the 100000 selected invoices do not exist');
    const over = await request(tenantA, { kind: 'INVOICES', selection: { invoiceIds: [...ids, randomUUID()] } });
    expect(over.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(over.errors?.[0].message).toBe('selection.invoiceIds may hold at most 100000 ids (got 100001)');
  }, 30_000);
});

describe('cancel', () => {
  it('a QUEUED export leaves the queue and ends CANCELLED', async () => {
    await worker.pause();
    try {
      const res = await request(tenantA, { kind: 'INVOICES', selection: { invoiceIds: idsA } });
      const id = res.data.requestInvoiceExport.id;
      expect((await app.running.services.queues.getJob(id))?.id).toBe(id);
      const cancelled = await app.gql(CANCEL, { id }, app.token(tenantA));
      expect(cancelled.data.cancelInvoiceExport.status).toBe('CANCELLED');
      expect(await app.running.services.queues.getJob(id)).toBeFalsy();
      expect(await app.s3.server && (await app.running.services.storage.listKeys(`exports/${tenantA}/${id}/`))).toEqual([]);
    } finally {
      worker.resume();
    }
  });

  it('a RUNNING export stops within a second, leaves no object, and the subscription ends CANCELLED', async () => {
    const token = app.token(big);
    const res = await request(big, { kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } });
    const id = res.data.requestInvoiceExport.id;
    const client = wsClient(app.wsUrl, token);
    try {
      const followed = followExport(client, id);
      await followed.until((e) => e.status === 'RUNNING' && e.processedRows > 0);
      const cancelled = await app.gql(CANCEL, { id }, token);
      const asked = Date.now();
      expect(cancelled.data.cancelInvoiceExport.status).toBe('CANCELLED');
      const events = await followed.done;
      expect(events.at(-1)!.status).toBe('CANCELLED');
      // The worker lets go of the job (aborting its upload) within a second.
      for (;;) {
        const job = await app.running.services.queues.getJob(id);
        if (!(await job?.isActive())) break;
        if (Date.now() - asked > 1000) throw new Error(`worker still on the job ${Date.now() - asked} ms after the cancel`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const prefix = `exports/${big}/${id}/`;
      expect(await app.running.services.storage.listKeys(prefix)).toEqual([]);
      expect(await app.running.services.storage.listMultipartUploads(prefix)).toEqual([]);
      const after = await waitFor(id, big, ['CANCELLED']);
      expect(after.downloadUrl).toBeNull();
    } finally {
      await client.dispose();
    }
  }, 60_000);

  it('a finished export cannot be cancelled', async () => {
    const res = await request(tenantA, { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: idsA } });
    const id = res.data.requestInvoiceExport.id;
    await waitFor(id, tenantA, ['COMPLETED']);
    const again = await app.gql(CANCEL, { id }, app.token(tenantA));
    expect(again.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0].message).toMatch(/already COMPLETED/);
  });
});

describe('tenant isolation', () => {
  let idA: string;
  beforeAll(async () => {
    const res = await request(tenantA, { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: idsA } });
    idA = res.data.requestInvoiceExport.id;
    await waitFor(idA, tenantA, ['COMPLETED']);
  });

  it('invoiceExport, invoiceExports and cancelInvoiceExport do not see another tenant', async () => {
    const tokenB = app.token(tenantB);
    expect((await app.gql(READ, { id: idA }, tokenB)).data.invoiceExport).toBeNull();
    const list = await app.gql(`{ invoiceExports(first: 100) { totalCount edges { node { id } } } }`, {}, tokenB);
    expect(list.data.invoiceExports.edges.map((e: { node: { id: string } }) => e.node.id)).not.toContain(idA);
    const cancel = await app.gql(CANCEL, { id: idA }, tokenB);
    expect(cancel.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const missing = await app.gql(CANCEL, { id: randomUUID() }, tokenB);
    expect(missing.errors?.[0].message.replace(/"[^"]+"/, 'ID')).toBe(cancel.errors?.[0].message.replace(/"[^"]+"/, 'ID'));
  });

  it('the subscription refuses another tenant with NOT_FOUND', async () => {
    const client = wsClient(app.wsUrl, app.token(tenantB));
    try {
      const followed = followExport(client, idA);
      await expect(followed.done).rejects.toMatchObject({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })] });
    } finally {
      await client.dispose();
    }
  });

  it('the subscription of a finished export sends its state once and completes', async () => {
    const client = wsClient(app.wsUrl, app.token(tenantA));
    try {
      const events = await followExport(client, idA).done;
      expect(events.map((e) => e.status)).toEqual(['COMPLETED']);
      expect(events[0].downloadUrl).toMatch(/^http/);
    } finally {
      await client.dispose();
    }
  });
});

describe('invoiceExports', () => {
  it('lists newest first, pages without overlap and filters by status', async () => {
    const t = await createTenant(ds, uniqueName('list'));
    const p = await createPayer(ds, t);
    const inv = await createInvoice(ds, t, { number: 'F1', billingDate: '2022-01-01', payerId: p, lines: [{ unitPrice: '5.00' }] });
    await worker.pause();
    const ids: string[] = [];
    try {
      for (let i = 0; i < 5; i++) ids.push((await request(t, { kind: 'INVOICES', selection: { invoiceIds: [inv] } })).data.requestInvoiceExport.id);
      await app.gql(CANCEL, { id: ids[1] }, app.token(t));
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res: any = await app.gql(`query($after: String) { invoiceExports(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }`, { after }, app.token(t));
        expect(res.data.invoiceExports.totalCount).toBe(5);
        seen.push(...res.data.invoiceExports.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!res.data.invoiceExports.pageInfo.hasNextPage) break;
        after = res.data.invoiceExports.pageInfo.endCursor;
      }
      expect(seen).toEqual([...ids].reverse());
      const cancelled = await app.gql(`{ invoiceExports(statuses: [CANCELLED]) { totalCount edges { node { id } } } }`, {}, app.token(t));
      expect(cancelled.data.invoiceExports.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[1]]);
      const bad = await app.gql(`{ invoiceExports(after: "nope") { totalCount } }`, {}, app.token(t));
      expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      worker.resume();
    }
  });
});

describe('download URL and retention', () => {
  it('an expired URL is refused by storage and a new read gives a working one', async () => {
    const shortApp = await startTestApp({ role: 'all', env: { EXPORT_URL_TTL_SECONDS: '1', QUEUE_PREFIX: `${process.env.QUEUE_PREFIX}-ttl` } });
    try {
      const res = await shortApp.gql(REQUEST, { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: idsA } } }, shortApp.token(tenantA));
      const id = res.data.requestInvoiceExport.id;
      let e: ExportState;
      for (;;) {
        e = (await shortApp.gql(READ, { id }, shortApp.token(tenantA))).data.invoiceExport;
        if (e.status === 'COMPLETED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(new Date(e.downloadUrlExpiresAt!).getTime() - Date.now()).toBeLessThanOrEqual(1000);
      await new Promise((r) => setTimeout(r, 2100));
      expect((await fetch(e.downloadUrl!)).status).toBe(403);
      const fresh = (await shortApp.gql(READ, { id }, shortApp.token(tenantA))).data.invoiceExport as ExportState;
      expect(fresh.downloadUrl).not.toBe(e.downloadUrl);
      const ok = await fetch(fresh.downloadUrl!);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-disposition')).toContain(e.fileName!);
    } finally {
      await shortApp.stop();
    }
  });

  it('the cleanup sweep deletes files past retention and marks their exports EXPIRED', async () => {
    const res = await request(tenantA, { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: idsA } });
    const id = res.data.requestInvoiceExport.id;
    await waitFor(id, tenantA, ['COMPLETED']);
    const storage = app.running.services.storage;
    const prefix = `exports/${tenantA}/${id}/`;
    expect(await storage.listKeys(prefix)).toHaveLength(1);
    await ds.query(`UPDATE invoice_exports SET expires_at = now() - interval '1 minute' WHERE id = $1`, [id]);
    const report = await runSweep({ ...app.running.services });
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await storage.listKeys(prefix)).toEqual([]);
    const e = (await app.gql(READ, { id }, app.token(tenantA))).data.invoiceExport as ExportState;
    expect(e.status).toBe('EXPIRED');
    expect(e.downloadUrl).toBeNull();
  });

  it('the reconciler re-enqueues an export whose job went missing (Redis lost it), and it completes', async () => {
    const [{ id }] = await ds.query(
      `INSERT INTO invoice_exports (tenant_id, requested_by, kind, format, locale, selection, created_at, enqueued_at, expected_rows, queue_prefix)
       VALUES ($1, 'u', 'INVOICES', 'CSV', 'fr-FR', $2, now() - interval '5 minutes', now() - interval '5 minutes', 5, $3) RETURNING id`,
      [tenantA, JSON.stringify({ mode: 'ids', invoiceIds: idsA }), app.config.queuePrefix],
    );
    // Only the reconciler can mend it (the row says "on the queue"); its timer may beat this call to it.
    await worker.reconciler.reconcile();
    const done = await waitFor(id, tenantA, ['COMPLETED']);
    expect(done.rowCount).toBe(5);
  });

  it('an export recorded without a job (Redis was down at request time) is dispatched by the outbox relay', async () => {
    const [{ id }] = await ds.query(
      `INSERT INTO invoice_exports (tenant_id, requested_by, kind, format, locale, selection, expected_rows, queue_prefix)
       VALUES ($1, 'u', 'INVOICES', 'CSV', 'fr-FR', $2, 5, $3) RETURNING id`,
      [tenantA, JSON.stringify({ mode: 'ids', invoiceIds: idsA }), app.config.queuePrefix],
    );
    const done = await waitFor(id, tenantA, ['COMPLETED'], 10_000);
    expect(done.rowCount).toBe(5);
  });
});

describe('worker shutdown', () => {
  it('hands a running export back to the queue without spending an attempt; another worker completes it', async () => {
    const token = app.token(big);
    const res = await request(big, { kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } });
    const id = res.data.requestInvoiceExport.id;
    const client = wsClient(app.wsUrl, token);
    try {
      const followed = followExport(client, id);
      await followed.until((e) => e.status === 'RUNNING' && e.processedRows > 0);
      // Shutdown with no grace: the active export is handed back at once.
      await worker.close(0);
      const handedBack = await waitFor(id, big, ['QUEUED'], 5000);
      expect(handedBack.processedRows).toBe(0);
      const prefix = `exports/${big}/${id}/`;
      expect(await app.running.services.storage.listKeys(prefix)).toEqual([]);
      worker = await startWorker(app.running.services);
      const done = await waitFor(id, big, ['COMPLETED', 'FAILED'], 60_000);
      expect(done.status).toBe('COMPLETED');
      const [{ attempts, n }] = await ds.query(
        `SELECT e.attempts, (SELECT count(*)::int FROM invoice_lines l WHERE l.tenant_id = e.tenant_id) AS n FROM invoice_exports e WHERE e.id = $1`,
        [id],
      );
      expect(attempts).toBe(1);
      expect(done.rowCount).toBe(n);
      expect((await followed.done).at(-1)!.status).toBe('COMPLETED');
    } finally {
      await client.dispose();
    }
  }, 90_000);
});

describe('permanent failures', () => {
  it('are not retried: FAILED after one attempt with the error code, no object left', async () => {
    // A selection no query can run (written by hand, past the API's checks).
    const [{ id }] = await ds.query(
      `INSERT INTO invoice_exports (tenant_id, requested_by, kind, format, locale, selection, queue_prefix)
       VALUES ($1, 'u', 'INVOICES', 'CSV', 'fr-FR', $2, $3) RETURNING id`,
      [tenantA, JSON.stringify({ mode: 'filter', filter: { billingDateFrom: '2020-13-45' }, excludedInvoiceIds: [], createdBefore: new Date().toISOString() }), app.config.queuePrefix],
    );
    const failed = await waitFor(id, tenantA, ['FAILED', 'COMPLETED']);
    expect(failed.status).toBe('FAILED');
    expect(failed.error?.code).toBe('DATABASE_ERROR');
    expect(failed.error?.message).toMatch(/refused the export query/);
    const [{ attempts }] = await ds.query('SELECT attempts FROM invoice_exports WHERE id = $1', [id]);
    expect(attempts).toBe(1);
    // The row holds the outcome; Redis keeps no job of it.
    expect(await app.running.services.queues.getJob(id)).toBeUndefined();
    expect(await app.running.services.storage.listKeys(`exports/${tenantA}/${id}/`)).toEqual([]);
  });
});

describe('the storage sweep', () => {
  it('is not a job scheduler in Redis (a Redis wipe would lose it): none is registered', async () => {
    const schedulers = await app.running.services.queues.main.getJobSchedulers();
    expect(schedulers.filter((s) => s.key === 'cleanup')).toEqual([]);
  });
});

describe('a state change that pub/sub did not deliver', () => {
  it('still reaches the subscription, which then completes', async () => {
    await worker.pause();
    const token = app.token(tenantA);
    const client = wsClient(app.wsUrl, token);
    try {
      const res = await request(tenantA, { kind: 'INVOICES', selection: { invoiceIds: idsA } });
      const id = res.data.requestInvoiceExport.id;
      const followed = followExport(client, id);
      await followed.until((e) => e.status === 'QUEUED');
      // Changed behind pub/sub's back (as if its event had been lost).
      await ds.query(`UPDATE invoice_exports SET status = 'CANCELLED', completed_at = now() WHERE id = $1`, [id]);
      const events = await followed.done;
      expect(events.map((e) => e.status)).toEqual(['QUEUED', 'CANCELLED']);
    } finally {
      await client.dispose();
      worker.resume();
    }
  });
});
