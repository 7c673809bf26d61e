import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AppServices } from '../app';
import { verifyToken } from '../auth/jwt';
import { Role } from '../entities/enums';

export const ADMIN_PATH = '/admin/queues';

/**
 * The token of an ADMIN, as "Authorization: Bearer <jwt>" or, for a browser,
 * as the password of HTTP basic auth (any user name).
 */
function adminOnly(secret: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    let token: string | undefined;
    const bearer = /^Bearer\s+(\S+)$/i.exec(header);
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    if (bearer) token = bearer[1];
    else if (basic) token = Buffer.from(basic[1], 'base64').toString('utf8').split(':').slice(1).join(':');
    try {
      if (!token) throw new Error('no token');
      const principal = verifyToken(secret, token);
      if (!principal.roles.includes(Role.ADMIN)) {
        res.status(403).json({ error: 'FORBIDDEN', message: 'The queue dashboard is for ADMIN tokens only' });
        return;
      }
      next();
    } catch {
      res.setHeader('WWW-Authenticate', 'Basic realm="invoice-export admin: paste an ADMIN token as the password"');
      res.status(401).json({ error: 'UNAUTHENTICATED', message: 'Send an ADMIN token (Bearer, or as the basic-auth password)' });
    }
  };
}

export function mountAdmin(app: Express, services: AppServices): void {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({ queues: services.queues.all.map((q) => new BullMQAdapter(q, { readOnlyMode: false })), serverAdapter });
  app.use(ADMIN_PATH, adminOnly(services.config.jwtSecret), serverAdapter.getRouter());
}
