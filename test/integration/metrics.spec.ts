import { readFileSync } from 'node:fs';
import path from 'node:path';
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
  const d = 'scope="deployment"';
  expect(text).toMatch(new RegExp(`^invoice_export_exports\\{kind="INVOICES",format="CSV",status="COMPLETED",${d}\\} [1-9]\\d*$`, 'm'));
  expect(text).toMatch(new RegExp(`^invoice_export_duration_seconds_bucket\\{kind="INVOICES",format="CSV",${d},le="\\+Inf"\\} [1-9]\\d*$`, 'm'));
  expect(text).toMatch(new RegExp(`^invoice_export_rows_total\\{kind="INVOICES",format="CSV",${d}\\} [1-9]\\d*$`, 'm'));
  expect(text).toMatch(new RegExp(`^invoice_export_file_bytes_total\\{kind="INVOICES",format="CSV",${d}\\} [1-9]\\d*$`, 'm'));
  expect(text).toMatch(new RegExp(`^invoice_export_queue_jobs\\{queue="invoice-exports",state="waiting",${d}\\} \\d+$`, 'm'));
  expect(text).toMatch(new RegExp(`^invoice_export_takeovers_total\\{${d}\\} \\d+$`, 'm'));
  expect(text).toMatch(/^invoice_export_queue_up 1$/m);
  expect(text).toMatch(new RegExp(`^invoice_export_build_info\\{version="${require('../../package.json').version}",commit="(?:[0-9a-f]{12}|unknown)",node="${process.version}"\\} 1$`, 'm'));
  expect(text).toMatch(/^invoice_export_process_resident_memory_bytes \d+/m);
});

/** The names docs/operations.md lists in its metrics table (first column), with the aggregation it says. */
function documentedMetrics(): Map<string, string> {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Metrics'), doc.indexOf('\n## ', doc.indexOf('### Metrics')));
  const names = new Map<string, string>();
  for (const row of section.matchAll(/^\| ([^|]+) \| ([^|]+) \| ([^|]+) \|/gm)) {
    for (const [, name] of row[1].matchAll(/`(\w+)`/g)) names.set(name, row[3].trim());
  }
  return names;
}

it('serves exactly the names docs/operations.md lists, all under one prefix, counters ending in _total', async () => {
  const text = await (await fetch(`${origin(app)}/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).text();
  const served = new Map([...text.matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((m) => [m[1], m[2]]));
  const documented = documentedMetrics();
  expect(served.size).toBeGreaterThan(20);
  expect([...served.keys()].filter((n) => !documented.has(n))).toEqual([]);
  expect([...documented.keys()].filter((n) => !served.has(n))).toEqual([]);
  for (const [name, type] of served) {
    expect(name).toMatch(/^invoice_export_/);
    if (type === 'counter') expect(name).toMatch(/_total$/);
    expect(name).not.toMatch(/_per_/);
  }
  // Deployment-wide figures carry scope="deployment" and the docs say to take their max; the others, to sum.
  for (const m of text.matchAll(/^(\w+)\{[^}]*scope="deployment"/gm)) {
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    expect([family, documented.get(family) ?? documented.get(m[1])]).toEqual([family, expect.stringMatching(/max/)]);
  }
  const scoped = new Set([...text.matchAll(/^(\w+?)(?:_bucket|_sum|_count)?\{[^}]*scope="deployment"/gm)].map((m) => m[1]));
  const sampled = new Set([...text.matchAll(/^(\w+?)(?:_bucket|_sum|_count)?(?:\{[^}]*\})? \S+$/gm)].map((m) => m[1]));
  const own = [...documented].filter(([name]) => sampled.has(name) && !scoped.has(name));
  expect(own.length).toBeGreaterThan(10);
  // The Grafana dashboard of docs/ queries these names only.
  const dashboard = readFileSync(path.join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8');
  const exprs = [...dashboard.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  expect(exprs.length).toBeGreaterThan(5);
  const queried = new Set(exprs.flatMap((e) => [...e.matchAll(/\b[a-z]+_\w+(?=[{[)\s]|$)/g)].map((m) => m[0])));
  const families = [...queried].map((n) => (served.has(n) ? n : n.replace(/_(bucket|sum|count)$/, '')));
  expect(families.filter((n) => !served.has(n) && n !== 'histogram_quantile')).toEqual([]);
  for (const [name, aggregate] of own) expect([name, aggregate]).toEqual([name, expect.not.stringMatching(/max/)]);
});
