import ExcelJS from 'exceljs';
import { DataSource } from 'typeorm';
import { seedTenant } from '../../dev/seed/seed';
import { startEmbeddedS3 } from '../../dev/s3-local';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { FR_HEADERS, MONEY_SQL, csvCents, readCsv, readXlsx } from '../helpers/files';
import { Child, runTs } from '../helpers/processes';
import { TestS3, startTestS3 } from '../helpers/s3';
import { EXPORT_FIELDS, ExportState } from '../helpers/ws';

/**
 * The worker as it runs in production: its own process, here in a time zone
 * far west of UTC, against the API of this process through Redis.
 */
const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const READ = `query($id: ID!) { invoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;
const WORKER_ENV = { LOG_LEVEL: 'info', TZ: 'America/Los_Angeles', WORKER_LOCK_DURATION_MS: '4000', WORKER_CONCURRENCY: '1' };

let s3: TestS3;
let app: TestApp;
let ds: DataSource;
let big: string;
const workers: Child[] = [];

function startWorkerProcess(env: Record<string, string> = {}): Child {
  const child = runTs('src/worker/main.ts', { ...process.env, ...s3.env, ...WORKER_ENV, ...env } as Record<string, string>);
  workers.push(child);
  return child;
}

async function request(tenantId: string, input: Record<string, unknown>): Promise<string> {
  const res = await app.gql(REQUEST, { input }, app.token(tenantId));
  expect(res.errors).toBeUndefined();
  return res.data.requestInvoiceExport.id;
}

async function poll(id: string, tenantId: string, done: (e: ExportState) => boolean, timeoutMs = 60_000): Promise<ExportState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const e = (await app.gql(READ, { id }, app.token(tenantId))).data?.invoiceExport as ExportState;
    if (e && done(e)) return e;
    if (Date.now() > until) throw new Error(`export ${id}: still ${JSON.stringify(e)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lineTotals(tenantId: string) {
  const sums = Object.entries(MONEY_SQL.INVOICE_LINES).map(([h, e]) => `sum(${e})::text AS "${h}"`).join(', ');
  const [row] = await ds.query(`SELECT count(*)::int AS n, ${sums} FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id WHERE i.tenant_id = $1`, [tenantId]);
  return row as Record<string, string> & { n: number };
}

beforeAll(async () => {
  s3 = await startTestS3();
  app = await startTestApp({ role: 'api', s3 });
  ds = app.running.services.dataSource;
  // ~100,000 billing lines.
  big = (await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('big'), invoices: 28_500, ifExists: 'duplicate', analyze: true })).tenantId;
}, 120_000);

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
});

afterAll(async () => {
  await app?.stop();
  await s3?.stop();
});

it('writes each invoice’s own calendar date when the worker runs in America/Los_Angeles', async () => {
  const t = await createTenant(ds, uniqueName('tz'));
  const p = await createPayer(ds, t);
  const ids = [
    await createInvoice(ds, t, { number: 'F1', billingDate: '2019-01-01', payerId: p, lines: [{ unitPrice: '1.00' }] }),
    await createInvoice(ds, t, { number: 'F2', billingDate: '2019-12-31', payerId: p, lines: [{ unitPrice: '2.00' }] }),
    await createInvoice(ds, t, { number: 'F3', billingDate: '2020-03-08', payerId: p, lines: [{ unitPrice: '3.00' }] }),
  ];
  const worker = startWorkerProcess();
  await worker.waitFor(/Worker ready/);
  const xlsxId = await request(t, { kind: 'INVOICES', format: 'XLSX', selection: { invoiceIds: ids } });
  const csvId = await request(t, { kind: 'INVOICE_LINES', format: 'CSV', locale: 'en-GB', selection: { invoiceIds: ids } });
  const xlsx = await poll(xlsxId, t, (e) => e.status === 'COMPLETED');
  const csv = await poll(csvId, t, (e) => e.status === 'COMPLETED');
  const { sheets } = await readXlsx(Buffer.from(await (await fetch(xlsx.downloadUrl!)).arrayBuffer()));
  const dates = sheets[0].rows.map((r) => r.getCell(3));
  expect(dates.map((c) => c.type)).toEqual([ExcelJS.ValueType.Date, ExcelJS.ValueType.Date, ExcelJS.ValueType.Date]);
  expect(dates.map((c) => (c.value as Date).toISOString().slice(0, 10))).toEqual(['2019-01-01', '2019-12-31', '2020-03-08']);
  const { rows } = readCsv(Buffer.from(await (await fetch(csv.downloadUrl!)).arrayBuffer()), 'en-GB');
  expect(rows.map((r) => r[2])).toEqual(['2019-01-01', '2019-12-31', '2020-03-08']);
});

it('keeps the worker’s memory bounded on an export of 100,000 lines', async () => {
  const worker = startWorkerProcess();
  await worker.waitFor(/Worker ready/);
  const before = worker.memory().current;
  const id = await request(big, { kind: 'INVOICE_LINES', format: 'XLSX', selection: { filter: {} } });
  const done = await poll(id, big, (e) => e.status === 'COMPLETED' || e.status === 'FAILED', 120_000);
  expect(done.status).toBe('COMPLETED');
  const { peak } = worker.memory();
  const totals = await lineTotals(big);
  expect(done.rowCount).toBe(totals.n);
  expect(totals.n).toBeGreaterThanOrEqual(100_000);
  // The streaming writer needs ~100-200 MB whatever the size; a materialised export needs gigabytes.
  expect(Math.round((peak - before) / 2 ** 20)).toBeLessThan(350);
}, 180_000);

it('a worker killed mid-export: another one takes the job over and the file is complete', async () => {
  const first = startWorkerProcess();
  await first.waitFor(/Worker ready/);
  const id = await request(big, { kind: 'INVOICE_LINES', format: 'CSV', locale: 'fr-FR', selection: { filter: {} } });
  const mid = await poll(id, big, (e) => e.status === 'RUNNING' && e.processedRows > 0);
  expect(mid.processedRows).toBeLessThan(mid.totalRows!);
  await first.kill('SIGKILL');
  const second = startWorkerProcess();
  await second.waitFor(/Worker ready/);
  const states: string[] = [];
  const done = await poll(id, big, (e) => {
    states.push(e.status);
    return e.status === 'COMPLETED' || e.status === 'FAILED';
  }, 90_000);
  expect(done.status).toBe('COMPLETED');
  const totals = await lineTotals(big);
  expect(done.rowCount).toBe(totals.n);
  const { header, rows } = readCsv(Buffer.from(await (await fetch(done.downloadUrl!)).arrayBuffer()), 'fr-FR');
  expect(header).toEqual([...FR_HEADERS.INVOICE_LINES]);
  expect(rows).toHaveLength(totals.n);
  const amountIdx = header.indexOf('Montant');
  expect(rows.reduce((sum, r) => sum + csvCents(r[amountIdx]), 0n)).toBe(csvCents(totals.Montant));
  // The dead worker's upload left nothing next to the file: no object, no parts.
  const storage = app.running.services.storage;
  // Each attempt writes its own object: the second one's is the file.
  expect(await storage.listKeys(`exports/${big}/${id}/`)).toEqual([`exports/${big}/${id}/2/${done.fileName}`]);
  expect(await storage.listMultipartUploads(`exports/${big}/${id}/`)).toEqual([]);
  const [{ attempts }] = await ds.query('SELECT attempts FROM invoice_exports WHERE id = $1', [id]);
  expect(attempts).toBe(2);
}, 120_000);

it('a worker frozen past its lease is taken over; resumed, it cannot touch the winner’s file and removes only its own upload', async () => {
  const frozen = startWorkerProcess();
  await frozen.waitFor(/Worker ready/);
  const id = await request(big, { kind: 'INVOICE_LINES', format: 'CSV', selection: { filter: {} } });
  await poll(id, big, (e) => e.status === 'RUNNING' && e.processedRows > 0);
  // As a long GC pause or a starved CPU would: its upload is in flight, its lease runs out.
  frozen.proc.kill('SIGSTOP');
  const second = startWorkerProcess();
  await second.waitFor(/Worker ready/);
  const done = await poll(id, big, (e) => e.status === 'COMPLETED' || e.status === 'FAILED', 90_000);
  expect(done.status).toBe('COMPLETED');
  const [{ attempts, file_key: winner }] = await ds.query('SELECT attempts, file_key FROM invoice_exports WHERE id = $1', [id]);
  expect(attempts).toBe(2);
  expect(winner).toBe(`exports/${big}/${id}/2/${done.fileName}`);

  frozen.proc.kill('SIGCONT');
  await frozen.waitFor(/Lease lost/, 10_000);
  const storage = app.running.services.storage;
  // Only the winner's object is left: the stale attempt aborted its own upload and nothing else.
  for (let i = 0; i < 50 && (await storage.listMultipartUploads(`exports/${big}/${id}/`)).length; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await storage.listKeys(`exports/${big}/${id}/`)).toEqual([winner]);
  expect(await storage.listMultipartUploads(`exports/${big}/${id}/`)).toEqual([]);
  const after = await poll(id, big, (e) => e.status === 'COMPLETED');
  const res = await fetch(after.downloadUrl!);
  expect(res.status).toBe(200);
  const { rows } = readCsv(Buffer.from(await res.arrayBuffer()), 'fr-FR');
  expect(rows).toHaveLength((await lineTotals(big)).n);
}, 150_000);


it('storage stopped during an export: retries, then FAILED with a code; storage back: a new request succeeds', async () => {
  // Three attempts, 1 s then 2 s apart (the defaults ride out two minutes: ten attempts up to 30 s apart).
  const worker = startWorkerProcess({ EXPORT_MAX_ATTEMPTS: '3', EXPORT_RETRY_DELAY_MS: '1000', EXPORT_RETRY_MAX_DELAY_MS: '2000' });
  await worker.waitFor(/Worker ready/);
  const id = await request(big, { kind: 'INVOICE_LINES', format: 'CSV', selection: { filter: {} } });
  await poll(id, big, (e) => e.status === 'RUNNING' && e.processedRows > 0);
  const { port, directory, bucket } = s3.server;
  await s3.server.close(0);
  // While it waits to retry, the export says so and what it waits for.
  const waiting = await poll(id, big, (e) => e.status === 'QUEUED' || e.status === 'FAILED' || e.status === 'COMPLETED', 60_000);
  expect(waiting).toMatchObject({ status: 'QUEUED', waitingReason: 'RETRY', error: { code: 'STORAGE_UNAVAILABLE' } });
  expect(new Date(waiting.notBefore!).getTime()).toBeGreaterThan(new Date(waiting.startedAt!).getTime());
  const failed = await poll(id, big, (e) => e.status === 'FAILED' || e.status === 'COMPLETED', 90_000);
  expect(failed.status).toBe('FAILED');
  expect(failed.error?.code).toBe('STORAGE_UNAVAILABLE');
  expect(failed.error?.message).toMatch(/storage/i);
  expect(failed.downloadUrl).toBeNull();
  const [{ attempts }] = await ds.query('SELECT attempts FROM invoice_exports WHERE id = $1', [id]);
  expect(attempts).toBe(3);
  expect(worker.output()).toMatch(/Export attempt failed/);

  const restarted = await startEmbeddedS3({ directory, port, bucket });
  try {
    const t = await createTenant(ds, uniqueName('after'));
    const p = await createPayer(ds, t);
    const inv = await createInvoice(ds, t, { number: 'F1', billingDate: '2021-06-01', payerId: p, lines: [{ unitPrice: '12.34' }] });
    const again = await request(t, { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [inv] } });
    const ok = await poll(again, t, (e) => e.status === 'COMPLETED' || e.status === 'FAILED', 30_000);
    expect(ok.status).toBe('COMPLETED');
    const { rows } = readCsv(Buffer.from(await (await fetch(ok.downloadUrl!)).arrayBuffer()), 'fr-FR');
    expect(rows[0][FR_HEADERS.INVOICES.indexOf('Montant dû')]).toBe('12,34');
    // Nothing of the failed export stayed in the bucket.
    expect(await app.running.services.storage.listKeys(`exports/${big}/${id}/`)).toEqual([]);
  } finally {
    await restarted.close(0);
  }
}, 150_000);
