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

const ROLES = new Set<string>(Object.values(Role));

export function signToken(secret: string, principal: Principal, expiresInSeconds = 12 * 3600): string {
  return jwt.sign({ tenantId: principal.tenantId, roles: principal.roles }, secret, {
    algorithm: 'HS256',
    subject: principal.userId,
    expiresIn: expiresInSeconds,
  });
}

/** Verifies an HS256 token and its claims; throws UNAUTHENTICATED with the reason. */
export function verifyToken(secret: string, token: string): Principal {
  let claims: jwt.JwtPayload;
  try {
    const decoded = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof decoded === 'string') throw new Error('payload is not an object');
    claims = decoded;
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) throw unauthenticated('The token has expired');
    throw unauthenticated('The token is invalid');
  }
  const { sub, tenantId, roles, exp } = claims as { sub?: unknown; tenantId?: unknown; roles?: unknown; exp?: unknown };
  // A token without exp would never expire: a leaked one would work forever.
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw unauthenticated('The token has no expiry (exp)');
  if (typeof sub !== 'string' || !sub) throw unauthenticated('The token has no subject (sub)');
  if (typeof tenantId !== 'string' || !isUuid(tenantId)) throw unauthenticated('The token has no valid tenantId');
  if (!Array.isArray(roles) || roles.length === 0 || roles.some((r) => typeof r !== 'string' || !ROLES.has(r))) {
    throw unauthenticated(`The token's roles must be a non-empty list of ${[...ROLES].join(', ')}`);
  }
  return { userId: sub, tenantId: tenantId.toLowerCase(), roles: [...new Set(roles)] as Role[], expiresAt: exp };
}

/** "Bearer <jwt>" → the token, or undefined when the header is absent. */
export function bearerToken(header: unknown): string | undefined {
  if (header === undefined || header === null || header === '') return undefined;
  if (typeof header !== 'string') throw unauthenticated('Authorization must be "Bearer <token>"');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw unauthenticated('Authorization must be "Bearer <token>"');
  return m[1];
}
