import type IORedis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { AdvisoryLock, withDeploymentLock, type AdvisoryLockKey } from '../db/advisory-locks';
import { Dispatcher, ownRows } from '../exports/dispatcher';
import type { ExportEvents } from '../exports/events';
import type { ExportLifecycle } from '../exports/lifecycle';
import type { ExportQueues } from '../exports/queue';
import type { ExportStorage } from '../storage';
import { bumpCounter } from '../ops/counters';
import { runSweep } from './sweep';
import { sweepAuditEvents } from '../audit/retention';

export interface ReconcilerDeps {
  dataSource: DataSource;
  queues: ExportQueues;
  redis: { queue: IORedis };
  dispatcher: Dispatcher;
  storage: ExportStorage;
  events: ExportEvents;
  lifecycle: ExportLifecycle;
  config: Readonly<Config>;
  logger: Logger;
}

export interface ReconcileReport {
  /** RUNNING exports whose lease expired (worker gone), put back to run again. */
  rescued: number;
  /** …or FAILED WORKER_LOST, their attempts spent. */
  failed: number;
  /** QUEUED exports whose job Redis no longer has, handed back to the dispatcher. */
  requeued: number;
}

/** A job is looked for only once its export has been on the queue this long (the add may be in flight). */
const JOB_GRACE_SECONDS = 5;
/** A lease is declared dead this long after it expired (clock skew between processes). */
const LEASE_GRACE_SECONDS = 1;
export const SWEEP_EVERY_MS = 60_000;

/** How long a stalled process may keep the reconciler's (or the sweep's) lock: two passes, at least 2 s. */
export function lockTimeoutMs(config: Pick<Config, 'reconcileIntervalMs'>): number {
  return Math.max(2000, 2 * config.reconcileIntervalMs);
}

/**
 * Makes Redis agree with PostgreSQL, from a timer in every worker process
 * (nothing of it lives in Redis, so that a Redis restarted empty loses
 * nothing): RUNNING exports whose attempt's lease expired run again (or
 * fail when their attempts are spent); QUEUED exports whose job is gone go
 * back to the dispatcher; then a dispatch pass. One process at a time,
 * through a PostgreSQL advisory lock.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastSweep = 0;

  constructor(private readonly deps: ReconcilerDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.config.reconcileIntervalMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.withLock(AdvisoryLock.RECONCILER, () => this.reconcile());
      if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) {
        this.lastSweep = Date.now();
        await this.withLock(AdvisoryLock.SWEEP, () => runSweep(this.deps));
        await sweepAuditEvents(this.deps.dataSource, this.deps.config.auditRetentionDays, this.deps.logger);
      }
    } catch (err) {
      this.deps.logger.warn({ err }, 'Reconciler pass failed');
    } finally {
      this.busy = false;
    }
  }

  /** Runs `fn` if no other worker of this deployment holds `key` (one pass at a time; see withDeploymentLock). */
  private withLock<T>(key: AdvisoryLockKey, fn: () => Promise<T>): Promise<T | undefined> {
    return withDeploymentLock(this.deps.dataSource, key, this.deps.config.queuePrefix, lockTimeoutMs(this.deps.config), fn);
  }

  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { rescued: 0, failed: 0, requeued: 0 };
    await this.rescueLostAttempts(report);
    await this.requeueMissingJobs(report);
    const { dataSource: ds, dispatcher, logger } = this.deps;
    await dispatcher.pass();
    await bumpCounter(ds, 'reconciler_rescued', '', report.rescued);
    await bumpCounter(ds, 'reconciler_failed', '', report.failed);
    await bumpCounter(ds, 'reconciler_requeued', '', report.requeued);
    if (report.rescued || report.failed || report.requeued) logger.info(report, 'Reconciler');
    return report;
  }

  /**
   * A RUNNING export whose lease expired has no live attempt: its worker died
   * or lost PostgreSQL. It goes back to the outbox (the attempt counted), or
   * FAILED WORKER_LOST once EXPORT_MAX_ATTEMPTS attempts were spent. A stale
   * job of it in Redis (active, its worker dead) is removed so that the
   * dispatcher can enqueue it again.
   */
  private async rescueLostAttempts(report: ReconcileReport): Promise<void> {
    const { dataSource: ds, config } = this.deps;
    const lost: { id: string }[] = await ds.query(
      `SELECT id FROM invoice_exports
       WHERE status = 'RUNNING' AND (lease_expires_at IS NULL OR lease_expires_at < now() - make_interval(secs => $1)) AND ${ownRows('$2')}
       LIMIT 500`,
      [LEASE_GRACE_SECONDS, config.queuePrefix],
    );
    for (const { id } of lost) {
      const outcome = await this.deps.lifecycle.requeueLost(id, config.exportMaxAttempts, LEASE_GRACE_SECONDS);
      if (outcome === 'failed') report.failed++;
      if (outcome !== 'requeued') continue;
      await this.dropStaleJob(id);
      report.rescued++;
      await bumpCounter(ds, 'export_takeovers');
    }
  }

  /** QUEUED and on the queue since JOB_GRACE_SECONDS, but Redis has no job (restarted empty, job removed by hand…). */
  private async requeueMissingJobs(report: ReconcileReport): Promise<void> {
    const { dataSource: ds, queues, lifecycle, config } = this.deps;
    // The instant as text: a JS Date would drop PostgreSQL's microseconds and never match again.
    const enqueued: { id: string; enqueued_at: string }[] = await ds.query(
      `SELECT id, enqueued_at::text FROM invoice_exports
       WHERE status = 'QUEUED' AND enqueued_at < now() - make_interval(secs => $1) AND ${ownRows('$2')}
       ORDER BY enqueued_at LIMIT 2000`,
      [JOB_GRACE_SECONDS, config.queuePrefix],
    );
    for (const e of enqueued) {
      const job = await queues.getJob(e.id);
      if (job && !(await this.isStale(job.id!, job))) continue;
      if (job) await job.remove().catch(() => undefined);
      if (await lifecycle.requeueMissingJob(e.id, e.enqueued_at)) report.requeued++;
    }
  }

  /** A job that can never run: finished (kept by hand), or active with no worker holding its lock. */
  private async isStale(id: string, job: { getState(): Promise<string>; queueName: string }): Promise<boolean> {
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return true;
    if (state !== 'active') return false;
    const lock = `${this.deps.config.queuePrefix}:${job.queueName}:${id}:lock`;
    return (await this.deps.redis.queue.exists(lock)) === 0;
  }

  private async dropStaleJob(id: string): Promise<void> {
    try {
      const job = await this.deps.queues.getJob(id);
      if (job && (await this.isStale(id, job))) await job.remove();
    } catch (err) {
      this.deps.logger.debug({ err, exportId: id }, 'Could not remove the stale job');
    }
  }
}
