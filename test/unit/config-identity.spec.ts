/** Identity configuration (issue 20): JWKS, HS256, or both; never neither outside the local modes. */
import { ConfigError, DEV_JWT_SECRET, loadConfig } from '../../src/config';

const JWKS = { JWT_JWKS_URL: 'https://sso.example.org/realms/school/protocol/openid-connect/certs', JWT_ISSUER: 'https://sso.example.org/realms/school', JWT_AUDIENCE: 'invoice-export' };
const STRONG = 'Zq3v9R-hX2mK8pL4sW7yB1nC6tF0dG5j';

function refusal(env: Record<string, string>, options = {}): string {
  try {
    loadConfig(env, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

it('production with the JWKS alone starts: no JWT_SECRET, no HS256', () => {
  const c = loadConfig({ NODE_ENV: 'production', ...JWKS });
  expect(c.jwtSecret).toBeUndefined();
  expect(c.jwt).toEqual({ jwksUrl: JWKS.JWT_JWKS_URL, issuer: JWKS.JWT_ISSUER, audience: JWKS.JWT_AUDIENCE });
  expect(c).toMatchObject({ jwtTenantClaim: 'tenantId', jwtRolesClaim: 'roles', auditRetentionDays: 400 });
});

it('production with neither JWKS nor JWT_SECRET is refused, naming both ways', () => {
  const msg = refusal({ NODE_ENV: 'production' });
  expect(msg).toMatch(/JWT_SECRET must be set/);
  expect(msg).toMatch(/JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE/);
  // Even a local mode: the development secret is for NODE_ENV development or test only.
  expect(refusal({ NODE_ENV: 'production' }, { allowDevJwtSecret: true })).toMatch(/JWT_JWKS_URL/);
});

it.each([
  ['without JWT_ISSUER', { JWT_JWKS_URL: JWKS.JWT_JWKS_URL, JWT_AUDIENCE: 'a' }, /JWT_ISSUER must be set/],
  ['without JWT_AUDIENCE', { JWT_JWKS_URL: JWKS.JWT_JWKS_URL, JWT_ISSUER: 'i' }, /JWT_AUDIENCE must be set/],
  ['an issuer without a JWKS', { JWT_ISSUER: 'i', JWT_SECRET: STRONG }, /go with JWT_JWKS_URL/],
  ['a JWKS URL that is not http(s)', { ...JWKS, JWT_JWKS_URL: 'ftp://sso/certs' }, /JWT_JWKS_URL must be a http:\/\/ or https:\/\/ URL/],
  ['the development secret beside a JWKS', { ...JWKS, JWT_SECRET: DEV_JWT_SECRET }, /development default/],
  ['an empty claim path segment', { ...JWKS, JWT_ROLES_CLAIM: 'realm_access..roles' }, /JWT_ROLES_CLAIM/],
  ['a retention of 0 days', { ...JWKS, AUDIT_RETENTION_DAYS: '0' }, /AUDIT_RETENTION_DAYS/],
])('production %s is refused', (_n, env, reason) => {
  expect(refusal({ NODE_ENV: 'production', ...env })).toMatch(reason);
});

it('both HS256 and JWKS may be configured (a migration period), and the claims renamed', () => {
  const c = loadConfig({ NODE_ENV: 'production', ...JWKS, JWT_SECRET: STRONG, JWT_ROLES_CLAIM: 'realm_access.roles', JWT_TENANT_CLAIM: 'tenant_id' });
  expect(c.jwtSecret).toBe(STRONG);
  expect(c).toMatchObject({ jwtRolesClaim: 'realm_access.roles', jwtTenantClaim: 'tenant_id' });
});

it('the local modes keep their development secret beside a JWKS (npm run token still works)', () => {
  expect(loadConfig({ NODE_ENV: 'development', ...JWKS }, { allowDevJwtSecret: true }).jwtSecret).toBe(DEV_JWT_SECRET);
});
