import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express } from 'express';
import type { AppServices } from '../app';
import { requireOperator } from './ops-auth';

export const ADMIN_PATH = '/admin/queues';

/**
 * The queue dashboard belongs to the platform's operators (SECURITY.md), not
 * to a tenant: it shows every tenant's jobs and can stop everyone's exports.
 * It needs OPS_TOKEN (off when unset) and is read-only unless
 * OPS_DASHBOARD_WRITE=true — twice: bull-board's own readOnlyMode hides and
 * refuses its actions, and requireOperator refuses every non-GET request, so
 * that a route bull-board forgets to guard stays closed too.
 */
export function mountAdmin(app: Express, services: AppServices): void {
  const { config } = services;
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({ queues: services.queues.all.map((q) => new BullMQAdapter(q, { readOnlyMode: !config.opsDashboardWrite })), serverAdapter });
  // bull-board runs its own Express app, which announces itself unless told not to.
  const router = serverAdapter.getRouter() as Express;
  router.disable?.('x-powered-by');
  app.use(ADMIN_PATH, requireOperator(config, { write: config.opsDashboardWrite }), router);
}
