/**
 * The platform operator's credential (SECURITY.md): one secret, OPS_TOKEN,
 * for every surface that belongs to the platform rather than to a tenant —
 * the queue dashboard (/admin/queues), the operator's view of /readyz, and
 * /metrics when it is mounted:
 *
 *   app.use('/metrics', requireOperator(config), metricsHandler);
 *   app.use('/admin/queues', requireOperator(config, { write: config.opsDashboardWrite }), router);
 *
 * A tenant's JWT, whatever its roles, is never an operator credential: a
 * tenant ADMIN's power stops at its own tenant. When OPS_TOKEN is unset the
 * surfaces are off (404, as if they did not exist).
 *
 * Accepted forms: `Authorization: Bearer <OPS_TOKEN>`, or HTTP basic auth
 * with OPS_TOKEN as the password (any user name), so that a browser can open
 * the dashboard. The comparison takes constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Config } from '../config';

export interface OperatorOptions {
  /**
   * false (the default): only GET, HEAD and OPTIONS pass; anything that
   * could change state is refused with 403, even to the operator.
   */
  write?: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credential of a request: a Bearer token, or the password of basic auth. */
export function presentedSecret(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** True when the request carries OPS_TOKEN (false when OPS_TOKEN is unset). */
export function isOperator(config: Pick<Config, 'opsToken'>, req: Pick<Request, 'headers'>): boolean {
  if (!config.opsToken) return false;
  const given = presentedSecret(req.headers.authorization);
  return given !== undefined && sameSecret(given, config.opsToken);
}

export function requireOperator(config: Pick<Config, 'opsToken'>, options: OperatorOptions = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!config.opsToken) {
      res.status(404).json({ error: 'NOT_FOUND', message: 'Not found (operator surfaces are off: OPS_TOKEN is not set)' });
      return;
    }
    if (!isOperator(config, req)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="invoice-export operators: OPS_TOKEN as the password", charset="UTF-8"');
      res.status(401).json({ error: 'UNAUTHENTICATED', message: 'Operators only: send "Authorization: Bearer <OPS_TOKEN>" (or OPS_TOKEN as the basic-auth password)' });
      return;
    }
    if (!options.write && !SAFE_METHODS.has(req.method)) {
      res.status(403).json({ error: 'FORBIDDEN', message: 'Read-only: set OPS_DASHBOARD_WRITE=true to allow changes from the dashboard' });
      return;
    }
    next();
  };
}
