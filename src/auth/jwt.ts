import jwt from 'jsonwebtoken';
import { Role } from '../entities/enums';
import { unauthenticated } from '../errors';
import { isUuid } from '../exports/selection';

/** Who is calling: always taken from a verified token, never from arguments. */
export interface Principal {
  userId: string;
  tenantId: string;
  roles: Role[];
  /** The token's `exp` (seconds since the epoch); a WebSocket closes then. Absent only for a Principal built in code. */
  expiresAt?: number;
}

/** Where the tenant and the roles are in a token's claims: a name, or a dotted path (`realm_access.roles`). */
export interface ClaimNames {
  tenant: string;
  roles: string;
}

export const DEFAULT_CLAIMS: Readonly<ClaimNames> = Object.freeze({ tenant: 'tenantId', roles: 'roles' });

const ROLES = new Set<string>(Object.values(Role));

/** A development HS256 token (`npm run token`, the demo, tests); the claims are the defaults. */
export function signToken(secret: string | undefined, principal: Principal, expiresInSeconds = 12 * 3600): string {
  if (!secret) throw new Error('JWT_SECRET is not set: HS256 tokens can be signed only where a secret is configured (tokens of the identity provider come from it)');
  return jwt.sign({ tenantId: principal.tenantId, roles: principal.roles }, secret, {
    algorithm: 'HS256',
    subject: principal.userId,
    expiresIn: expiresInSeconds,
  });
}

/** Verifies an HS256 token and its claims; throws UNAUTHENTICATED with the reason. */
export function verifyToken(secret: string, token: string, names: ClaimNames = DEFAULT_CLAIMS): Principal {
  let claims: jwt.JwtPayload;
  try {
    const decoded = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof decoded === 'string') throw new Error('payload is not an object');
    claims = decoded;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw unauthenticated('The token has expired');
    throw unauthenticated('The token is invalid');
  }
  return principalFromClaims(claims, names);
}

/** A claim by name, else by dotted path into nested objects (Keycloak's `realm_access.roles`). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let at: unknown = claims;
  for (const part of path.split('.')) {
    if (at === null || typeof at !== 'object' || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The caller a verified token names. Roles this service does not know
 * (an identity provider's `offline_access`, `default-roles-…`) are ignored;
 * at least one of ADMIN, ACCOUNTANT, VIEWER must remain.
 */
export function principalFromClaims(claims: Record<string, unknown>, names: ClaimNames = DEFAULT_CLAIMS): Principal {
  const { sub, exp } = claims;
  const tenantId = claimAt(claims, names.tenant);
  const roles = claimAt(claims, names.roles);
  // A token without exp would never expire: a leaked one would work forever.
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthenticated('The token has no expiry (exp)');
  if (typeof sub !== 'string' || !sub) throw unauthenticated('The token has no subject (sub)');
  if (typeof tenantId !== 'string' || !isUuid(tenantId)) throw unauthenticated(`The token has no valid ${names.tenant}`);
  const known = Array.isArray(roles) ? roles.filter((r): r is Role => typeof r === 'string' && ROLES.has(r)) : [];
  if (known.length === 0) {
    throw unauthenticated(`The token's roles must be a non-empty list holding one of ${[...ROLES].join(', ')} (claim ${names.roles})`);
  }
  return { userId: sub, tenantId: tenantId.toLowerCase(), roles: [...new Set(known)], expiresAt: exp };
}

/** "Bearer <jwt>" → the token, or undefined when the header is absent. */
export function bearerToken(header: unknown): string | undefined {
  if (header === undefined || header === null || header === '') return undefined;
  if (typeof header !== 'string') throw unauthenticated('Authorization must be "Bearer <token>"');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('Authorization must be "Bearer <token>"');
  return m[1];
}
