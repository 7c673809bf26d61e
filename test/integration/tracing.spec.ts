/**
 * Traces (docs/operations.md) through separate API and worker processes, exported to
 * a real OTLP/HTTP receiver: the request's spans join the caller's
 * traceparent, and the worker's job, SQL and S3 spans are in the same trace.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { signToken } from '../../src/auth/jwt';
import { createDataSource } from '../../src/db/data-source';
import { Role } from '../../src/entities/enums';
import { createInvoice, createPayer, createTenant } from '../factories';
import { uniqueName } from '../helpers/app';
import { OtlpReceiver, ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver';
import { Child, ROOT, runTs } from '../helpers/processes';
import { TestS3, startTestS3 } from '../helpers/s3';
import { EXPORT_FIELDS } from '../helpers/ws';

const REQUEST = `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { ${EXPORT_FIELDS} } }`;
const READ = `query($id: ID!) { invoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;
const SPAN_KIND = { SERVER: 2, PRODUCER: 4, CONSUMER: 5 };

let receiver: OtlpReceiver;
let s3: TestS3;
let ds: DataSource | undefined;
const children: Child[] = [];

function otelEnv(service: string, extra: Record<string, string> = {}): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '200', ...extra };
}

async function startApi(env: Record<string, string>): Promise<string> {
  const api = runTs('src/api/main.ts', { ...s3.env, PORT: '0', LOG_LEVEL: 'info', ...env });
  children.push(api);
  const port = /localhost:(\d+)\/graphql/.exec(await api.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"/, 120_000))![1];
  return `http://127.0.0.1:${port}/graphql`;
}

async function gql(url: string, query: string, variables: Record<string, unknown>, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  s3 = await startTestS3();
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await ds?.destroy();
  await s3?.stop();
  await receiver?.close();
});

it('follows one export from the caller’s traceparent through the API, the queue and a worker process (http/json)', async () => {
  const api = await startApi(otelEnv('invoice-export-api', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }));
  const worker = runTs('src/worker/main.ts', { ...s3.env, LOG_LEVEL: 'info', ...otelEnv('invoice-export-worker', { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }) });
  children.push(worker);
  await worker.waitFor(/Worker ready/, 120_000);

  ds = createDataSource(process.env.DATABASE_URL!, { poolSize: 2 });
  await ds.initialize();
  const t = await createTenant(ds, uniqueName('trace'));
  const p = await createPayer(ds, t);
  const inv = await createInvoice(ds, t, { number: 'T1', billingDate: '2024-03-01', payerId: p, lines: [{ unitPrice: '12.34' }] });
  const token = signToken(process.env.JWT_SECRET!, { tenantId: t, roles: [Role.ACCOUNTANT], userId: 'tracer' });

  const traceId = randomBytes(16).toString('hex');
  const callerSpan = randomBytes(8).toString('hex');
  const res = await gql(api, REQUEST, { input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [inv] } } }, token, {
    traceparent: `00-${traceId}-${callerSpan}-01`,
  });
  expect(res.errors).toBeUndefined();
  const id: string = res.data.requestInvoiceExport.id;
  await until('the export to complete', async () => (await gql(api, READ, { id }, token)).data?.invoiceExport?.status === 'COMPLETED', 60_000);

  // The worker's spans reach the receiver once the job's span has ended.
  const inTrace = (s: ReceivedSpan) => s.traceId === traceId;
  const consumer = await until('the worker’s job span', () =>
    receiver.spans().find((s) => inTrace(s) && s.service === 'invoice-export-worker' && s.kind === SPAN_KIND.CONSUMER),
  );
  // Each process exports on its own batch timer: wait for the API's request span as well as the worker's S3 spans.
  const spans = await until('the worker’s S3 spans and the API’s request span', () => {
    const all = receiver.spans().filter(inTrace);
    const s3Span = all.some((s) => s.service === 'invoice-export-worker' && s.attributes['rpc.service'] === 'S3');
    const apiSpan = all.some((s) => s.service === 'invoice-export-api' && s.kind === SPAN_KIND.SERVER);
    return s3Span && apiSpan ? all : undefined;
  });
  const api_ = spans.filter((s) => s.service === 'invoice-export-api');
  const worker_ = spans.filter((s) => s.service === 'invoice-export-worker');

  // The API's request span is a child of the caller's span; the mutation's spans are under it.
  const server = api_.find((s) => s.kind === SPAN_KIND.SERVER);
  expect(server?.parentSpanId).toBe(callerSpan);
  expect(api_.some((s) => /requestInvoiceExport|mutation/.test(s.name))).toBe(true);
  // The enqueue, in the request's trace; the worker's job span is its child.
  const send = spans.find((s) => s.kind === SPAN_KIND.PRODUCER && s.attributes['messaging.message.id'] === id);
  expect(send).toBeDefined();
  expect(consumer.parentSpanId).toBe(send!.spanId);
  expect(consumer.attributes['messaging.message.id']).toBe(id);
  // Its SQL and S3 calls, in the same trace, under the job's span.
  const under = (s: ReceivedSpan): boolean => {
    for (let cur: ReceivedSpan | undefined = s; cur; cur = spans.find((x) => x.spanId === cur!.parentSpanId)) {
      if (cur.spanId === consumer.spanId) return true;
    }
    return false;
  };
  const sql = worker_.filter((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql');
  const s3Calls = worker_.filter((s) => s.attributes['rpc.service'] === 'S3');
  expect(sql.length).toBeGreaterThan(0);
  expect(sql.every(under)).toBe(true);
  expect(s3Calls.map((s) => s.attributes['rpc.method'])).toEqual(expect.arrayContaining(['PutObject']));
  expect(s3Calls.every(under)).toBe(true);
  // Redis calls of the enqueue are in the trace too.
  expect(spans.some((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis')).toBe(true);

  // The worker's log lines about the export carry the trace.
  const completed = worker
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .find((l) => l.msg === 'Export completed' && l.exportId === id);
  expect(completed).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
}, 360_000);

it('exports http/protobuf by default', async () => {
  const before = receiver.requests.length;
  const api = await startApi(otelEnv('invoice-export-api-proto'));
  const traceId = randomBytes(16).toString('hex');
  await fetch(api, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const got = await until('a protobuf export', () =>
    receiver.requests.slice(before).find((r) => r.contentType === 'application/x-protobuf' && r.body.includes(Buffer.from(traceId, 'hex'))),
  );
  expect(got.body.includes(Buffer.from('invoice-export-api-proto'))).toBe(true);
}, 240_000);

it('loads nothing of the OpenTelemetry SDK without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  const script = `require('./src/telemetry/preload'); require('./src/boot'); require('./src/api/server');
    // @opentelemetry/api alone (a no-op facade) is prom-client's own optional import.
    const otel = Object.keys(require.cache).filter((k) => k.includes('/@opentelemetry/') && !k.includes('/@opentelemetry/api/'));
    process.stdout.write(JSON.stringify({ otel, tracing: require('./src/telemetry/tracing').tracingEnabled() }));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['-r', './scripts/register.js', '-e', script], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout) as { otel: string[]; tracing: boolean };
  };
  expect(run({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual({ otel: [], tracing: false });
  // The same script with an endpoint: the SDK is loaded (the check above can fail).
  const on = run({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
  expect(on.tracing).toBe(true);
  expect(on.otel.length).toBeGreaterThan(0);
}, 240_000);
