/**
 * Tokens of the suite's identity provider (issue 20, SECURITY.md), against a
 * real JWKS HTTP server started here: the service runs on JWT_JWKS_URL alone
 * (no JWT_SECRET), over HTTP and WebSocket.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { Client, createClient } from 'graphql-ws';
import { SignJWT, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import { createInvoice, createPayer, createTenant } from '../factories';
import { TestApp, startTestApp } from '../helpers/app';
import { JwksServer, TestKey, makeKey, startJwksServer } from '../helpers/jwks-server';

const QUERY = '{ invoices(first: 1) { totalCount } }';
const AUDIENCE = 'invoice-export';

let app: TestApp;
let idp: JwksServer;
let rsa: TestKey;
let ec: TestKey;
let ed: TestKey;
let tenantId: string;

beforeAll(async () => {
  [rsa, ec, ed] = await Promise.all([makeKey('RS256'), makeKey('ES256'), makeKey('EdDSA')]);
  idp = await startJwksServer([rsa, ec, ed], AUDIENCE);
  app = await startTestApp({
    role: 'api',
    env: { JWT_SECRET: '', JWT_JWKS_URL: idp.url, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: AUDIENCE },
  });
  const ds = app.running.services.dataSource;
  tenantId = await createTenant(ds, 'Conservatoire JWKS');
  const payerId = await createPayer(ds, tenantId, { lastName: 'BUSSON', firstName: 'Marie' });
  await createInvoice(ds, tenantId, { number: 'F000001', billingDate: '2019-01-10', payerId, lines: [{ unitPrice: '120.00' }] });
});

afterAll(async () => {
  await app?.stop();
  await idp?.stop().catch(() => undefined);
});

const claims = (over: Record<string, unknown> = {}) => ({ sub: 'user-kc-1', tenantId, roles: ['ACCOUNTANT'], ...over });

async function post(token: string | undefined) {
  const res = await fetch(app.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: QUERY }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const secs = () => Math.floor(Date.now() / 1000);

/** Each way a token can be forged or wrong, with what the refusal must say. */
const refused: [string, () => Promise<string>, RegExp][] = [
  ['alg none (unsigned)', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims(), iss: idp.issuer, aud: AUDIENCE, exp: secs() + 600 })}.`, /algorithm "none"/],
  ['HS256 whose secret is the provider\'s RSA public key (PEM)', async () => {
    const pem = createPublicKey({ key: rsa.publicJwk as any, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    return new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).setIssuer(idp.issuer).setAudience(AUDIENCE).setExpirationTime('10m').sign(Buffer.from(pem));
  }, /algorithm "HS256" is not accepted/],
  ['HS256 whose secret is the provider\'s public JWK', async () =>
    new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: rsa.kid }).setIssuer(idp.issuer).setAudience(AUDIENCE).setExpirationTime('10m').sign(Buffer.from(JSON.stringify(rsa.publicJwk))),
  /HS256/],
  ['RS512 (not an accepted algorithm)', async () => {
    const { privateKey } = await generateKeyPair('RS512');
    return new SignJWT(claims()).setProtectedHeader({ alg: 'RS512', kid: rsa.kid }).setIssuer(idp.issuer).setAudience(AUDIENCE).setExpirationTime('10m').sign(privateKey);
  }, /RS512/],
  ['a wrong issuer', () => idp.sign(rsa, claims(), { issuer: 'http://127.0.0.1:1/realms/other' }), /issu/],
  ['a wrong audience', () => idp.sign(ec, claims(), { audience: 'another-service' }), /not meant for this service/],
  ['an unknown key (kid the provider never published)', async () => idp.sign(await makeKey('RS256', 'not-published'), claims()), /key/],
  ['a published kid but another key (forged signature)', async () => {
    const forger = await makeKey('ES256', ec.kid);
    return idp.sign(forger, claims());
  }, /signature/],
  ['an expired token (beyond the 30 s tolerance)', () => idp.sign(rsa, claims({ exp: secs() - 120 })), /expired/],
  ['a token without exp', () => new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: ec.kid }).setIssuer(idp.issuer).setAudience(AUDIENCE).sign(ec.privateKey), /exp/],
  ['a token without roles of this service', () => idp.sign(rsa, claims({ roles: ['offline_access'] })), /roles/],
  ['a token for a tenant that does not exist', () => idp.sign(rsa, claims({ tenantId: randomUUID() })), /tenant does not exist/],
];

describe('HTTP', () => {
  it.each([
    ['RS256', () => rsa],
    ['ES256', () => ec],
    ['EdDSA', () => ed],
  ])('a %s token of the provider is accepted, with its claims', async (_n, key) => {
    const res = await post(await idp.sign(key(), claims()));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({ invoices: { totalCount: 1 } });
  });

  it('a token expired 5 s ago is still accepted (clock tolerance), one expired 2 min ago is not', async () => {
    expect((await post(await idp.sign(rsa, claims({ exp: secs() - 5 })))).body.data).toEqual({ invoices: { totalCount: 1 } });
    expect((await post(await idp.sign(rsa, claims({ exp: secs() - 120 })))).status).toBe(401);
  });

  it('an HS256 token signed with the test secret is refused: the service runs on the provider\'s keys alone', async () => {
    const forged = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(Buffer.from(process.env.JWT_SECRET!));
    const res = await post(forged);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it.each(refused)('%s → 401 UNAUTHENTICATED with the reason', async (_name, token, reason) => {
    const res = await post(await token());
    expect(res.status).toBe(401);
    expect(res.body.data ?? null).toBeNull();
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0].message).toMatch(reason);
    expect(JSON.stringify(res.body)).not.toMatch(/JWS|JOSE|stack/);
  });
});

describe('WebSocket', () => {
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
  });

  function run(token: string): Promise<unknown[]> {
    const client = createClient({ url: app.wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, lazy: true, retryAttempts: 0 });
    clients.push(client);
    return new Promise((resolve, reject) => {
      const results: unknown[] = [];
      client.subscribe({ query: QUERY }, { next: (r) => results.push(r), error: reject, complete: () => resolve(results) });
    });
  }

  it('an ES256 token of the provider runs a query over the socket', async () => {
    expect(await run(await idp.sign(ec, claims({ roles: ['VIEWER'] })))).toEqual([{ data: { invoices: { totalCount: 1 } } }]);
  });

  it.each(refused)('%s → the socket closes with 4401', async (_name, token, reason) => {
    const err = (await run(await token()).then(
      (r) => {
        throw new Error(`the operation ran: ${JSON.stringify(r)}`);
      },
      (e: unknown) => e,
    )) as { code: number; reason: string };
    expect(err.code).toBe(4401);
    expect(err.reason).toMatch(/^UNAUTHENTICATED/);
    expect(err.reason).toMatch(reason);
  });
});

describe('while the identity provider is unreachable', () => {
  afterAll(async () => {
    await idp.start().catch(() => undefined);
  });

  it('tokens whose key is cached keep working; one with an unknown key is refused; the service keeps answering', async () => {
    // The keys are in the cache (the tests above fetched them).
    expect((await post(await idp.sign(rsa, claims()))).body.data).toBeDefined();
    await idp.stop();
    const before = idp.hits();
    for (const key of [rsa, ec, ed]) {
      const res = await post(await idp.sign(key, claims()));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({ invoices: { totalCount: 1 } });
    }
    const stranger = await makeKey('ES256', 'rotated-while-down');
    const res = await post(await idp.sign(stranger, claims()));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors?.[0].message).toMatch(/key/);
    // Still serving known keys afterwards, and nothing reached the stopped server.
    expect((await post(await idp.sign(ec, claims()))).body.data).toEqual({ invoices: { totalCount: 1 } });
    expect(idp.hits()).toBe(before);
  });
});
