import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { WaitingReason } from '../entities/enums';
import type { ExportLifecycle } from './lifecycle';
import type { ExportQueues } from './queue';

/**
 * The outbox relay. An export is recorded in PostgreSQL first (QUEUED,
 * `enqueued_at` NULL); the dispatcher then puts it on the queue when it may
 * run: Redis is reachable, its retry delay has passed, and its tenant has
 * fewer than EXPORT_TENANT_CONCURRENCY exports running or on the queue.
 * Every API and worker process runs one (a pass per second, and at once
 * after a request or a finished export); passes may overlap between
 * processes: claiming a row is conditional, adding a job is idempotent, and
 * the worker re-checks the tenant's slots when the job starts. The row's
 * changes are the lifecycle's transitions (`enqueue`, `waitForTenantSlot`).
 */
export class Dispatcher {
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private redisDown = false;

  constructor(
    private readonly ds: DataSource,
    private readonly queues: ExportQueues,
    private readonly lifecycle: ExportLifecycle,
    private readonly config: Pick<Config, 'exportTenantConcurrency' | 'exportPriorityAgingSeconds' | 'queuePrefix'>,
    private readonly logger: Logger,
  ) {}

  /** Passes every `intervalMs` until stop(). */
  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.kick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A pass now (or right after the one running); resolves when it is done. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again);
      } catch (err) {
        this.logger.warn({ err }, 'Dispatch pass failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** One pass: enqueue what may run, tell the others what they wait for. */
  async pass(tenantId?: string): Promise<{ enqueued: number; waiting: number }> {
    const rows: { id: string; tenant_id: string; rows: number; may_run: boolean; waiting_reason: string | null; trace_parent: string | null }[] = await this.ds.query(
      `WITH busy AS (
         SELECT tenant_id, count(*)::int AS n FROM invoice_exports
         WHERE status = 'RUNNING' OR (status = 'QUEUED' AND enqueued_at IS NOT NULL)
         GROUP BY tenant_id
       ), waiting AS (
         SELECT id, tenant_id, coalesce(expected_rows, 0) AS rows, waiting_reason, trace_parent,
           row_number() OVER (PARTITION BY tenant_id ORDER BY ${waitingOrder('$2')}) AS rn
         FROM invoice_exports
         WHERE status = 'QUEUED' AND enqueued_at IS NULL AND (not_before IS NULL OR not_before <= now())
           AND ($3::uuid IS NULL OR tenant_id = $3::uuid) AND ${ownRows('$4')}
       )
       SELECT w.id, w.tenant_id, w.rows, w.waiting_reason, w.trace_parent, w.rn <= $1 - coalesce(b.n, 0) AS may_run
       FROM waiting w LEFT JOIN busy b USING (tenant_id)
       ORDER BY w.rn, w.rows
       LIMIT 2000`,
      [this.config.exportTenantConcurrency, this.config.exportPriorityAgingSeconds, tenantId ?? null, this.config.queuePrefix],
    );
    let enqueued = 0;
    const changed: string[] = [];
    for (const r of rows) {
      if (!r.may_run) {
        if (r.waiting_reason !== WaitingReason.TENANT_CONCURRENCY) changed.push(r.id);
        continue;
      }
      const result = await this.lifecycle.enqueue(r.id, () => this.queues.add(r.id, r.rows, r.trace_parent));
      if (result.outcome === 'taken') continue;
      if (result.outcome === 'unavailable') {
        // Redis is down: the export stays recorded (QUEUE_UNAVAILABLE), and is dispatched when it is back.
        if (!this.redisDown) {
          this.logger.warn({ err: (result.queueError as Error).message }, 'The job queue is unreachable: exports are recorded and will be dispatched later');
        }
        this.redisDown = true;
        break;
      }
      enqueued++;
      if (this.redisDown) this.logger.info('The job queue is reachable again: dispatching the recorded exports');
      this.redisDown = false;
    }
    await this.lifecycle.waitForTenantSlot(changed);
    return { enqueued, waiting: rows.length - enqueued };
  }
}

/**
 * The order in which a tenant's waiting exports start: smaller first (by
 * doubling of the expected rows, as the queue's priority), then oldest; an
 * export waiting longer than EXPORT_PRIORITY_AGING_SECONDS (`$agingParam`)
 * goes by age alone, so that large exports are never starved.
 */
export function waitingOrder(agingParam: string): string {
  return `CASE WHEN created_at < now() - make_interval(secs => ${agingParam}) THEN 0
               ELSE 1 + floor(log(2, greatest(coalesce(expected_rows, 1), 1)::numeric)) END, created_at, id`;
}

/** Rows of this deployment (QUEUE_PREFIX `$prefixParam`), or of none in particular. */
export function ownRows(prefixParam: string): string {
  return `(queue_prefix IS NULL OR queue_prefix = ${prefixParam})`;
}
