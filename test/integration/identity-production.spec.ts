/**
 * Done-when of issue 20: with NODE_ENV=production, JWT_JWKS_URL, JWT_ISSUER
 * and JWT_AUDIENCE set and no JWT_SECRET, `start:api` and `start:worker`
 * start, and an export requested with the provider's token is made.
 */
import { createInvoice, createPayer, createTenant } from '../factories';
import { signToken } from '../../src/auth/jwt';
import { Role } from '../../src/entities/enums';
import { startTestApp } from '../helpers/app';
import { JwksServer, TestKey, makeKey, startJwksServer } from '../helpers/jwks-server';
import { Child, runTs } from '../helpers/processes';
import { TestS3, startTestS3 } from '../helpers/s3';

const AUDIENCE = 'invoice-export';
let s3: TestS3;
let idp: JwksServer;
let key: TestKey;
const children: Child[] = [];

beforeAll(async () => {
  s3 = await startTestS3();
  key = await makeKey('ES256');
  idp = await startJwksServer([key], AUDIENCE);
});

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill('SIGKILL')));
  await idp?.stop();
  await s3?.stop();
});

const productionEnv = () => ({
  ...s3.env,
  NODE_ENV: 'production',
  JWT_SECRET: '',
  JWT_JWKS_URL: idp.url,
  JWT_ISSUER: idp.issuer,
  JWT_AUDIENCE: AUDIENCE,
  PORT: '0',
  LOG_LEVEL: 'info',
});

it('start:api and start:worker start on the JWKS alone, and serve an export to a provider token', async () => {
  // The schema and a tenant: through a short-lived in-process app on the same database.
  const seeder = await startTestApp({ role: 'api', s3 });
  const ds = seeder.running.services.dataSource;
  const tenantId = await createTenant(ds, 'École en production');
  const payerId = await createPayer(ds, tenantId);
  await createInvoice(ds, tenantId, { number: 'F000001', billingDate: '2026-01-10', payerId, lines: [{ unitPrice: '120.00' }] });
  await seeder.stop();

  const api = runTs('src/api/main.ts', productionEnv());
  const worker = runTs('src/worker/main.ts', productionEnv());
  children.push(api, worker);
  const ready = await api.waitFor(/"url":"http:\/\/localhost:\d+\/graphql"[^\n]*"msg":"API ready"/, 45_000);
  await worker.waitFor(/"msg":"Worker ready"/, 45_000);
  const url = /http:\/\/localhost:\d+\/graphql/.exec(ready)![0].replace('localhost', '127.0.0.1');

  const call = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const token = await idp.sign(key, { sub: 'prod-accountant', tenantId, roles: ['ACCOUNTANT'] });
  const requested = await call(token, 'mutation { requestInvoiceExport(input: { kind: INVOICES, format: CSV, selection: { filter: {} } }) { id } }');
  expect(requested.body.errors).toBeUndefined();
  const id = requested.body.data.requestInvoiceExport.id;
  let status = '';
  for (let i = 0; i < 300 && status !== 'COMPLETED'; i++) {
    status = (await call(token, 'query($id: ID!) { invoiceExport(id: $id) { status } }', { id })).body.data.invoiceExport.status;
    if (status === 'FAILED') throw new Error(worker.output().slice(-2000));
    if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe('COMPLETED');
  const file = await call(token, 'query($id: ID!) { invoiceExport(id: $id) { downloadUrl } }', { id });
  const csv = await (await fetch(file.body.data.invoiceExport.downloadUrl)).text();
  expect(csv).toContain('F000001');

  // No HS256 path at all: a token signed with the test suite's secret is refused.
  const hs = await call(signToken(process.env.JWT_SECRET!, { tenantId, userId: 'x', roles: [Role.ADMIN] }), '{ invoices(first: 1) { totalCount } }');
  expect(hs.status).toBe(401);
  expect(hs.body.errors[0].message).toMatch(/HS256/);
}, 120_000);

it('start:api with NODE_ENV=production and neither JWKS nor JWT_SECRET refuses to start, saying what to set', async () => {
  const api = runTs('src/api/main.ts', { ...productionEnv(), JWT_JWKS_URL: '', JWT_ISSUER: '', JWT_AUDIENCE: '' });
  children.push(api);
  const code = await api.exited;
  expect(code).toBe(78);
  expect(api.output()).toMatch(/Configuration error: JWT_SECRET must be set .*or JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE/);
}, 60_000);
