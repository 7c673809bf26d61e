import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { EXPORT_FIELDS } from '../helpers/ws';

const OPS_TOKEN = 'ops-token-for-the-metrics-test-0123456789abcdef';
const READ = `query($id: ID!) { invoiceExport(id: $id) { ${EXPORT_FIELDS} } }`;
let app: TestApp;

const origin = (a: TestApp) => a.url.replace(/\/graphql$/, '');

beforeAll(async () => {
  app = await startTestApp({ role: 'all', env: { OPS_TOKEN } });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

it('is refused to a tenant ADMIN and to anonymous callers', async () => {
  expect((await fetch(`${origin(app)}/metrics`)).status).toBe(401);
  const admin = app.token((await createTenant(app.running.services.dataSource, uniqueName('m'))), ['ADMIN' as never]);
  expect((await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(401);
});

it('gives the operator exports by kind/format/status, durations, queue depth and events, in the Prometheus format', async () => {
  const ds = app.running.services.dataSource;
  const t = await createTenant(ds, uniqueName('metrics'));
  const p = await createPayer(ds, t);
  const inv = await createInvoice(ds, t, { number: 'F1', billingDate: '2022-01-01', payerId: p, lines: [{ unitPrice: '5.00' }] });
  const res = await app.gql(`mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }`, {
    input: { kind: 'INVOICES', format: 'CSV', selection: { invoiceIds: [inv] } },
  }, app.token(t));
  const id = res.data.requestInvoiceExport.id;
  for (let i = 0; i < 100; i++) {
    if ((await app.gql(READ, { id }, app.token(t))).data.invoiceExport.status === 'COMPLETED') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const scrape = await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
  expect(scrape.status).toBe(200);
  expect(scrape.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await scrape.text();
  expect(text).toMatch(/^invoice_exports\{kind="INVOICES",format="CSV",status="COMPLETED"\} [1-9]\d*$/m);
  expect(text).toMatch(/^invoice_export_duration_seconds_bucket\{kind="INVOICES",format="CSV",le="\+Inf"\} [1-9]\d*$/m);
  expect(text).toMatch(/^invoice_export_rows_per_second_count\{kind="INVOICES",format="CSV"\} [1-9]\d*$/m);
  expect(text).toMatch(/^invoice_export_queue_jobs\{queue="invoice-exports",state="waiting"\} \d+$/m);
  expect(text).toMatch(/^invoice_export_queue_up 1$/m);
  expect(text).toMatch(/^# TYPE invoice_export_events counter$/m);
  expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
});
