/**
 * The key cache of the identity provider's JWKS (issue 20): rotation by
 * adding a key, refetching at most once per cooldown, the provider down or
 * hanging. The verifier runs against a real JWKS HTTP server.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { JWKS_COOLDOWN_MS } from '../../src/auth/jwks';
import { createTokenVerifier } from '../../src/auth/verifier';
import { JwksServer, TestKey, makeKey, startJwksServer } from '../helpers/jwks-server';

const AUDIENCE = 'invoice-export';
const tenantId = randomUUID();
let idp: JwksServer;
let first: TestKey;

beforeEach(async () => {
  first = await makeKey('RS256');
  idp = await startJwksServer([first], AUDIENCE);
});
afterEach(async () => {
  await idp.stop().catch(() => undefined);
});

const config = (over: Partial<Parameters<typeof createTokenVerifier>[0]> = {}) => ({
  jwtSecret: undefined,
  jwt: { jwksUrl: idp.url, issuer: idp.issuer, audience: AUDIENCE },
  jwtTenantClaim: 'tenantId',
  jwtRolesClaim: 'roles',
  ...over,
});
const claims = { sub: 'u1', tenantId, roles: ['ADMIN'] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('the real cooldown is 30 s, and within it unknown kids cost no fetch at all', async () => {
  expect(JWKS_COOLDOWN_MS).toBe(30_000);
  const verify = createTokenVerifier(config());
  await verify(await idp.sign(first, claims));
  expect(idp.hits()).toBe(1);
  for (let i = 0; i < 5; i++) {
    const stranger = await makeKey('ES256', `unknown-${i}`);
    await expect(verify(await idp.sign(stranger, claims))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  }
  expect(idp.hits()).toBe(1);
});

it('rotation: a key added to the set is fetched on its first token once the cooldown has passed', async () => {
  const verify = createTokenVerifier(config(), undefined, { cooldownMs: 300 });
  expect((await verify(await idp.sign(first, claims))).userId).toBe('u1');
  const next = await makeKey('ES256');
  idp.add(next);
  // Right after a fetch: cooling down, the new kid is not looked for yet.
  await expect(verify(await idp.sign(next, claims))).rejects.toThrow(/key/);
  await sleep(350);
  const p = await verify(await idp.sign(next, { ...claims, sub: 'u2' }));
  expect(p).toMatchObject({ userId: 'u2', tenantId, roles: ['ADMIN'] });
  expect(idp.hits()).toBe(2);
  // The old key still works (both are in the set).
  expect((await verify(await idp.sign(first, claims))).userId).toBe('u1');
});

it('provider down: cached keys verify, an unknown kid is refused with a clear message, and it recovers', async () => {
  const verify = createTokenVerifier(config(), undefined, { cooldownMs: 200 });
  await verify(await idp.sign(first, claims));
  await idp.stop();
  await sleep(250);
  const rotated = await makeKey('ES256', 'rotated');
  await expect(verify(await idp.sign(rotated, claims))).rejects.toThrow(/identity provider's keys cannot be fetched .*"rotated"/);
  // A failed fetch does not lose the keys it had.
  expect((await verify(await idp.sign(first, claims))).userId).toBe('u1');
  await idp.start();
  idp.add(rotated);
  await sleep(250);
  expect((await verify(await idp.sign(rotated, claims))).userId).toBe('u1');
});

it('provider hanging: the fetch gives up after its timeout and the token is refused, saying why', async () => {
  const sockets = new Set<import('node:net').Socket>();
  const hanging = http.createServer(() => undefined); // never answers
  hanging.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/certs`;
    const verify = createTokenVerifier(config({ jwt: { jwksUrl: url, issuer: idp.issuer, audience: AUDIENCE } }), undefined, { fetchTimeoutMs: 300 });
    await expect(verify(await idp.sign(first, claims))).rejects.toThrow(/cannot be fetched \(no answer within 300 ms\)/);
    // Within the cooldown, the next token does not wait for another fetch.
    await expect(verify(await idp.sign(first, claims))).rejects.toThrow(/did not answer a moment ago/);
  } finally {
    for (const s of sockets) s.destroy();
    hanging.close();
  }
});

it('claim names are configurable: Keycloak-style realm_access.roles and a tenant claim of its own', async () => {
  const verify = createTokenVerifier(config({ jwtTenantClaim: 'school.tenant_id', jwtRolesClaim: 'realm_access.roles' }));
  const token = await idp.sign(first, {
    sub: 'kc-user',
    school: { tenant_id: tenantId.toUpperCase() },
    realm_access: { roles: ['offline_access', 'ACCOUNTANT', 'default-roles-school'] },
  });
  expect(await verify(token)).toMatchObject({ userId: 'kc-user', tenantId, roles: ['ACCOUNTANT'] });
  // The default claims are not looked at any more.
  await expect(verify(await idp.sign(first, claims))).rejects.toThrow(/school\.tenant_id/);
});

it('with JWT_SECRET beside the JWKS, an HS256 token signed with the provider\'s public key is still refused', async () => {
  const secret = 'k2m9Qw8Zr1Xv5Tn3Lp7Hs4Jd6Fg0Yb8Uc2Ve5Ia1Oq';
  const verify = createTokenVerifier(config({ jwtSecret: secret }));
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: first.kid }).setIssuer(idp.issuer).setAudience(AUDIENCE)
    .setExpirationTime('10m').sign(Buffer.from(JSON.stringify(first.publicJwk)));
  await expect(verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: 'The token is invalid' });
  // …while both kinds of genuine token pass.
  const hs = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(Buffer.from(secret));
  expect((await verify(hs)).userId).toBe('u1');
  expect((await verify(await idp.sign(first, claims))).userId).toBe('u1');
});
