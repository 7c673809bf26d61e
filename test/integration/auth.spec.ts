/**
 * Authentication (docs/api.md): HS256 JWT in `Authorization: Bearer …` over
 * HTTP and in the `connection_init` payload over WebSocket. Every bad token
 * is UNAUTHENTICATED (HTTP 401 / close code 4401) with a reason.
 */
import { randomUUID } from 'node:crypto';
import { Client, CloseCode, createClient } from 'graphql-ws';
import jwt from 'jsonwebtoken';
import WebSocket from 'ws';
import { Role } from '../../src/entities/enums';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';

const QUERY = '{ invoices(first: 1) { totalCount } }';

let app: TestApp;
let tenantId: string;

beforeAll(async () => {
  app = await startTestApp({ role: 'api' });
  const ds = app.running.services.dataSource;
  tenantId = await createTenant(ds, 'Conservatoire auth');
  const payerId = await createPayer(ds, tenantId, { lastName: 'BUSSON', firstName: 'Marie' });
  await createInvoice(ds, tenantId, { number: 'F000001', billingDate: '2019-01-10', payerId, lines: [{ unitPrice: '120.00' }] });
});

afterAll(async () => {
  await app?.stop();
});

/** POST /graphql with a raw Authorization header (or none). */
async function post(authorization?: string): Promise<{ status: number; body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } }> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
    body: JSON.stringify({ query: QUERY }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const sign = (claims: object, opts: jwt.SignOptions = {}, secret = app.config.jwtSecret) =>
  jwt.sign(claims, secret, { algorithm: 'HS256', expiresIn: 600, ...opts });

const validClaims = () => ({ sub: 'user-1', tenantId, roles: [Role.ACCOUNTANT] });

describe('HTTP', () => {
  it('a valid token is accepted', async () => {
    const res = await post(`Bearer ${app.token(tenantId)}`);
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ invoices: { totalCount: 1 } });
  });

  it('a token signed here by hand with the documented claims is accepted (sub, tenantId, roles)', async () => {
    const res = await post(`Bearer ${sign(validClaims())}`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.invoices.totalCount).toBe(1);
  });

  it('the scheme is case-insensitive ("bearer")', async () => {
    const res = await post(`bearer ${app.token(tenantId)}`);
    expect(res.body.data?.invoices.totalCount).toBe(1);
  });

  const cases: [string, () => string | undefined, RegExp][] = [
    ['no token', () => undefined, /Authorization: Bearer/],
    ['an empty Authorization header', () => '', /Authorization: Bearer/],
    ['a malformed Authorization header (no scheme)', () => app.token(tenantId), /Bearer <token>/],
    ['a malformed Authorization header (Basic)', () => 'Basic dXNlcjpwYXNz', /Bearer <token>/],
    ['a malformed Authorization header (Bearer alone)', () => 'Bearer', /Bearer <token>/],
    ['a malformed Authorization header (two tokens)', () => 'Bearer a b', /Bearer <token>/],
    ['a token that is not a JWT', () => 'Bearer not-a-jwt', /invalid/i],
    ['a bad signature (another secret)', () => `Bearer ${sign(validClaims(), {}, 'another-secret-of-sufficient-length')}`, /invalid/i],
    ['a tampered payload', () => {
      const [h, , s] = sign(validClaims()).split('.');
      const payload = Buffer.from(JSON.stringify({ ...validClaims(), roles: [Role.ADMIN] })).toString('base64url');
      return `Bearer ${h}.${payload}.${s}`;
    }, /invalid/i],
    ['an unsigned token (alg none)', () => `Bearer ${jwt.sign(validClaims(), '', { algorithm: 'none' })}`, /invalid/i],
    ['another algorithm than HS256 (HS512)', () => `Bearer ${sign(validClaims(), { algorithm: 'HS512' })}`, /invalid/i],
    ['an expired token (expiresIn: -10)', () => `Bearer ${sign(validClaims(), { expiresIn: -10 })}`, /expired/i],
    ['an expired token (exp in the past)', () => `Bearer ${jwt.sign({ ...validClaims(), exp: Math.floor(Date.now() / 1000) - 3600 }, app.config.jwtSecret)}`, /expired/i],
    ['a token without tenantId', () => `Bearer ${sign({ sub: 'user-1', roles: [Role.ACCOUNTANT] })}`, /tenantId/],
    ['a token whose tenantId is not a uuid', () => `Bearer ${sign({ ...validClaims(), tenantId: 'tenant-1' })}`, /tenantId/],
    ['a token without sub', () => `Bearer ${sign({ tenantId, roles: [Role.ACCOUNTANT] })}`, /sub/],
    ['a token with an unknown role', () => `Bearer ${sign({ ...validClaims(), roles: ['SUPERUSER'] })}`, /roles/],
    ['a token without roles', () => `Bearer ${sign({ sub: 'user-1', tenantId })}`, /roles/],
    ['a token whose roles is not a list', () => `Bearer ${sign({ ...validClaims(), roles: 'ADMIN' })}`, /roles/],
    ['a token with no role at all (roles: [])', () => `Bearer ${sign({ ...validClaims(), roles: [] })}`, /roles must be a non-empty list/],
    ['a token without exp (it would never expire)', () => `Bearer ${jwt.sign(validClaims(), app.config.jwtSecret, { algorithm: 'HS256' })}`, /exp/],
    ['a token for a tenant that does not exist', () => `Bearer ${sign({ ...validClaims(), tenantId: randomUUID() })}`, /tenant does not exist/],
  ];

  it.each(cases)('%s → 401 UNAUTHENTICATED with a helpful message', async (_name, header, reason) => {
    const res = await post(header());
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors!;
    expect(error.extensions?.code).toBe('UNAUTHENTICATED');
    expect(error.message).toMatch(reason);
    // Nothing internal leaks.
    expect(JSON.stringify(error)).not.toMatch(/stacktrace|JsonWebTokenError|at .*\.ts/);
  });
});

describe('WebSocket (graphql-ws)', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  function connect(authorization?: string): Client {
    const client = createClient({
      url: app.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: authorization === undefined ? {} : { authorization },
      lazy: true,
      retryAttempts: 0,
    });
    clients.push(client);
    return client;
  }

  /** Runs one operation; resolves with its results, or rejects with what the client reported (a CloseEvent or errors). */
  function run(client: Client, query: string): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const results: unknown[] = [];
      client.subscribe({ query }, { next: (r) => results.push(r), error: reject, complete: () => resolve(results) });
    });
  }

  async function closeEvent(authorization?: string): Promise<{ code: number; reason: string }> {
    const err = await run(connect(authorization), QUERY).then(
      (r) => {
        throw new Error(`the operation ran: ${JSON.stringify(r)}`);
      },
      (e: unknown) => e as { code: number; reason: string },
    );
    return { code: err.code, reason: String(err.reason) };
  }

  it('a good token runs a query over the socket', async () => {
    const results = await run(connect(`Bearer ${app.token(tenantId, [Role.VIEWER])}`), QUERY);
    expect(results).toEqual([{ data: { invoices: { totalCount: 1 } } }]);
  });

  it.each([
    ['no token', () => undefined, /Authorization/],
    ['a malformed value', () => 'Token abc', /Bearer <token>/],
    ['a bad signature', () => `Bearer ${sign(validClaims(), {}, 'another-secret-of-sufficient-length')}`, /invalid/i],
    ['an expired token', () => `Bearer ${sign(validClaims(), { expiresIn: -10 })}`, /expired/i],
    ['a token without tenantId', () => `Bearer ${sign({ sub: 'u', roles: [Role.ADMIN] })}`, /tenantId/],
    ['a token with an unknown role', () => `Bearer ${sign({ ...validClaims(), roles: ['ROOT'] })}`, /roles/],
    ['a token without exp', () => `Bearer ${jwt.sign(validClaims(), app.config.jwtSecret, { algorithm: 'HS256' })}`, /exp/],
    ['a token for a tenant that does not exist', () => `Bearer ${sign({ ...validClaims(), tenantId: randomUUID() })}`, /tenant does not exist/],
  ])('%s → the socket closes with 4401 and the reason', async (_name, authorization, reason) => {
    const event = await closeEvent(authorization());
    expect(event.code).toBe(CloseCode.Unauthorized);
    expect(event.code).toBe(4401);
    expect(event.reason).toMatch(/^UNAUTHENTICATED/);
    expect(event.reason).toMatch(reason);
  });

  it('the tenant of a socket comes from its token only', async () => {
    const other = await createTenant(app.running.services.dataSource, 'Autre école');
    const results = await run(connect(`Bearer ${app.token(other)}`), QUERY);
    expect(results).toEqual([{ data: { invoices: { totalCount: 0 } } }]);
  });
});

it('a random uuid tenant that does not exist is refused (UNAUTHENTICATED: the token names nobody)', async () => {
  const res = await post(`Bearer ${app.token(randomUUID(), [Role.ADMIN])}`);
  expect(res.status).toBe(401);
  expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  expect(res.body.data ?? null).toBeNull();
});

it('a tenant created a moment after a refused token is accepted within seconds (the negative cache is short)', async () => {
  const id = randomUUID();
  expect((await post(`Bearer ${app.token(id)}`)).status).toBe(401);
  await app.running.services.dataSource.query(`INSERT INTO tenants (id, name, product) VALUES ($1, 'Nouvelle école', 'SCHOOL_STANDARD')`, [id]);
  const started = Date.now();
  let status = 401;
  while (status === 401 && Date.now() - started < 10_000) {
    await new Promise((r) => setTimeout(r, 250));
    status = (await post(`Bearer ${app.token(id)}`)).status;
  }
  expect(status).toBe(200);
});
