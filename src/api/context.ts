import type { Logger } from 'pino';
import type { AppServices } from '../app';
import { Principal, bearerToken } from '../auth/jwt';
import { TokenVerifier, createTokenVerifier } from '../auth/verifier';
import type { AuditActor } from '../audit/audit';
import { Role } from '../entities/enums';
import { forbidden, unauthenticated } from '../errors';
import { Loaders, createLoaders } from './loaders';

export interface ApiContext {
  principal: Principal;
  services: AppServices;
  loaders: Loaders;
  logger: Logger;
  /** The caller as the audit trail records it: token, request id, address. */
  audit: AuditActor;
}

/**
 * Tenants known to exist (or not), for a short while: a token for a tenant
 * that does not exist (deleted, or made up by whoever holds the secret) is
 * refused, without one query per operation.
 */
const TENANT_TTL_MS = 30_000;
const MISSING_TTL_MS = 5_000; // a tenant created a moment ago is soon accepted
const TENANT_CACHE_MAX = 10_000;
const tenantCache = new Map<string, { exists: boolean; until: number }>();

async function tenantExists(services: AppServices, tenantId: string): Promise<boolean> {
  const now = Date.now();
  const cached = tenantCache.get(tenantId);
  if (cached && cached.until > now) return cached.exists;
  const rows: unknown[] = await services.dataSource.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId]);
  const exists = rows.length > 0;
  if (tenantCache.size >= TENANT_CACHE_MAX) tenantCache.clear();
  tenantCache.set(tenantId, { exists, until: now + (exists ? TENANT_TTL_MS : MISSING_TTL_MS) });
  return exists;
}

/** One verifier per process (its JWKS cache is shared by every request). */
const verifiers = new WeakMap<object, TokenVerifier>();
function verifierOf(services: AppServices): TokenVerifier {
  let v = verifiers.get(services.config);
  if (!v) verifiers.set(services.config, (v = createTokenVerifier(services.config, services.logger)));
  return v;
}

/**
 * The verified caller of an `Authorization` value (HTTP header or
 * connection_init): a valid token (HS256 or the identity provider's) with exp, known roles, and a tenant
 * that exists. Anything else is UNAUTHENTICATED: the credential names nobody.
 */
export async function authenticate(services: AppServices, authorization: unknown): Promise<Principal> {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>"');
  const principal = await verifierOf(services)(token);
  if (!(await tenantExists(services, principal.tenantId))) throw unauthenticated("The token's tenant does not exist");
  return principal;
}

export function contextFor(services: AppServices, principal: Principal, requestId: string, ip?: string): ApiContext {
  return {
    principal,
    audit: { principal, requestId, ip },
    services,
    loaders: createLoaders(services.dataSource, principal.tenantId),
    logger: services.logger.child({ requestId, tenantId: principal.tenantId, userId: principal.userId }),
  };
}

/** Builds the context of one operation from an `Authorization` value (HTTP header or connection_init). */
export async function contextFromAuthorization(services: AppServices, authorization: unknown, requestId: string, ip?: string): Promise<ApiContext> {
  return contextFor(services, await authenticate(services, authorization), requestId, ip);
}

/** Exporting is for ADMIN and ACCOUNTANT; VIEWER may only read invoices. */
export function canExport(principal: Principal): boolean {
  return principal.roles.some((r) => r === Role.ADMIN || r === Role.ACCOUNTANT);
}

export function assertCanExport(principal: Principal): void {
  if (!canExport(principal)) throw forbidden('Exporting invoices needs the ACCOUNTANT or ADMIN role');
}
