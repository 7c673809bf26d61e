import type { Logger } from 'pino';
import type { AppServices } from '../app';
import { Principal, bearerToken, verifyToken } from '../auth/jwt';
import { Role } from '../entities/enums';
import { forbidden, unauthenticated } from '../errors';
import { Loaders, createLoaders } from './loaders';

export interface ApiContext {
  principal: Principal;
  services: AppServices;
  loaders: Loaders;
  logger: Logger;
}

/** Builds the context of one operation from an `Authorization` value (HTTP header or connection_init). */
export function contextFromAuthorization(services: AppServices, authorization: unknown, requestId: string): ApiContext {
  const token = bearerToken(authorization);
  if (!token) throw unauthenticated('Authentication required: send "Authorization: Bearer <token>"');
  const principal = verifyToken(services.config.jwtSecret, token);
  return {
    principal,
    services,
    loaders: createLoaders(services.dataSource, principal.tenantId),
    logger: services.logger.child({ requestId, tenantId: principal.tenantId, userId: principal.userId }),
  };
}

/** Exporting is for ADMIN and ACCOUNTANT; VIEWER may only read invoices. */
export function assertCanExport(principal: Principal): void {
  if (!principal.roles.some((r) => r === Role.ADMIN || r === Role.ACCOUNTANT)) {
    throw forbidden('Exporting invoices needs the ACCOUNTANT or ADMIN role');
  }
}
