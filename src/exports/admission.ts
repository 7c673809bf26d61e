import type IORedis from 'ioredis';
import type { Logger } from 'pino';
import { EntityManager } from 'typeorm';
import type { Config } from '../config';
import { AdvisoryLock } from '../db/advisory-locks';
import { rateLimited } from '../errors';

/**
 * Who may ask for one more export (docs/fairness.md). Both limits hold over any
 * number of API processes: the per-user rate in Redis, the per-tenant count
 * of active exports in PostgreSQL under the tenant's advisory lock.
 */

const WINDOW_SECONDS = 60;

/** When a tenant at its cap may try again: about the time a typical export takes. */
export const ACTIVE_RETRY_AFTER_SECONDS = 30;

export class RateLimiter {
  private warned = false;

  constructor(
    private readonly redis: IORedis,
    private readonly prefix: string,
    private readonly perMinute: number,
    private readonly logger: Logger,
  ) {}

  /**
   * A fixed one-minute window per user of a tenant. Refused with
   * RATE_LIMITED and the seconds left in the window. While Redis is down
   * the limit is not enforced (the export is still recorded in PostgreSQL,
   * and the per-tenant cap still holds): availability before throttling.
   */
  async check(tenantId: string, userId: string): Promise<void> {
    if (this.perMinute <= 0) return;
    const window = Math.floor(Date.now() / 1000 / WINDOW_SECONDS);
    const key = `${this.prefix}:rate:${tenantId}:${userId}:${window}`;
    let count: number;
    try {
      const res = await this.redis.multi().incr(key).expire(key, WINDOW_SECONDS + 1).exec();
      count = Number(res?.[0]?.[1] ?? 0);
      this.warned = false;
    } catch (err) {
      if (!this.warned) this.logger.warn({ err: (err as Error).message }, 'Rate limit not enforced: Redis is unreachable');
      this.warned = true;
      return;
    }
    if (count > this.perMinute) {
      const retryAfter = Math.max(1, (window + 1) * WINDOW_SECONDS - Math.floor(Date.now() / 1000));
      throw rateLimited(
        `Too many export requests: at most ${this.perMinute} a minute per user; try again in ${retryAfter} s`,
        retryAfter,
      );
    }
  }
}

/**
 * Runs `insert` only if the tenant has fewer than EXPORT_TENANT_MAX_ACTIVE
 * exports queued or running, in one transaction under the tenant's lock, so
 * that concurrent requests (any API process) cannot overshoot the cap.
 */
export async function admitExport<T>(
  manager: EntityManager,
  tenantId: string,
  config: Pick<Config, 'exportTenantMaxActive'>,
  insert: (tx: EntityManager) => Promise<T>,
): Promise<T> {
  return manager.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [AdvisoryLock.TENANT_ADMISSION, tenantId]);
    const [{ n }] = await tx.query(
      `SELECT count(*)::int AS n FROM invoice_exports WHERE tenant_id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [tenantId],
    );
    const max = config.exportTenantMaxActive;
    if (n >= max) {
      throw rateLimited(
        `Your organisation already has ${n} exports queued or running (at most ${max}); try again when one has finished`,
        ACTIVE_RETRY_AFTER_SECONDS,
      );
    }
    return insert(tx);
  });
}
