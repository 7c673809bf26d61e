import type { Express } from 'express';
import type { AppServices } from '../app';
import { createMetricsRegistry } from '../ops/metrics';
import { requireOperator } from './ops-auth';

export const METRICS_PATH = '/metrics';

/** `/metrics` for the platform's operators (OPS_TOKEN, like the dashboard; off when unset). */
export function mountMetrics(app: Express, services: AppServices): void {
  const registry = createMetricsRegistry(services);
  app.get(METRICS_PATH, requireOperator(services.config), async (_req, res, next) => {
    try {
      const body = await registry.metrics();
      res.type(registry.contentType).send(body);
    } catch (err) {
      next(err);
    }
  });
}
