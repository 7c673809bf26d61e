import { Job, JobsOptions, Queue, QueueOptions } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';
import { currentTraceparent, inSpan } from '../telemetry/tracing';

/**
 * Redis only delivers jobs; PostgreSQL holds the truth of every export
 * (status, attempts, lease, what it waits for). Two queues: small exports
 * have a lane of their own in every worker process, so that they never wait
 * behind a tenant's large ones (docs/fairness.md).
 */
export const EXPORT_QUEUE_NAME = 'invoice-exports';
export const SMALL_EXPORT_QUEUE_NAME = 'invoice-exports-small';

export enum JobName {
  EXPORT = 'export',
}

/**
 * Payloads carry ids only: the worker re-reads the export row (job data is
 * stored in clear). With tracing on, also the W3C `traceparent` of the
 * enqueue, which the worker's span joins.
 */
export interface JobPayloads {
  [JobName.EXPORT]: { exportId: string; traceparent?: string };
}

/**
 * BullMQ neither retries nor keeps a job: attempts, backoff and history are
 * the export row's (they survive Redis losing its data). A finished job is
 * removed, so that the same export id can be enqueued again for a retry.
 */
export const EXPORT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: true,
  removeOnFail: true,
};

/** The job scheduler of earlier versions, removed at start (the sweep is a timer in the workers now). */
export const LEGACY_CLEANUP_SCHEDULER = 'cleanup';

/**
 * Connections for BullMQ. The queue (API side) fails fast when Redis is down
 * so that a request gets an answer instead of hanging; workers wait forever.
 */
export function redisConnection(url: string, role: 'queue' | 'worker' | 'events'): IORedis {
  const opts: RedisOptions =
    role === 'queue'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  return new IORedis(url, { ...opts, lazyConnect: false });
}

/**
 * BullMQ priority from the expected size: 1 (highest) for one row, +1 each
 * time the size doubles. Exports of a like size keep their order (FIFO
 * within a priority).
 */
export function priorityForRows(rows: number): number {
  return 1 + Math.floor(Math.log2(Math.max(1, rows)));
}

/** Redis is not connected: BullMQ would wait for it, a request must not. */
export class QueueUnavailable extends Error {
  constructor() {
    super('The job queue (Redis) is not connected');
    this.name = 'QueueUnavailable';
  }
}

export class ExportQueues {
  readonly main: Queue;
  readonly small: Queue;

  constructor(private readonly connection: IORedis, prefix: string, private readonly smallMaxRows: number) {
    const opts: QueueOptions = { connection, prefix, defaultJobOptions: EXPORT_JOB_OPTIONS };
    this.main = new Queue(EXPORT_QUEUE_NAME, opts);
    this.small = new Queue(SMALL_EXPORT_QUEUE_NAME, opts);
  }

  get all(): Queue[] {
    return [this.main, this.small];
  }

  /** The lane of an export of `rows` expected rows. */
  queueFor(rows: number): Queue {
    return rows <= this.smallMaxRows ? this.small : this.main;
  }

  /**
   * BullMQ waits for a connection that was never made (Redis down at start)
   * instead of failing: callers on a request's path ask first.
   */
  get connected(): boolean {
    return this.connection.status === 'ready';
  }

  private ensureConnected(): void {
    if (!this.connected) throw new QueueUnavailable();
  }

  /**
   * jobId = export id: adding twice is a no-op, which makes re-enqueueing safe.
   * `traceparent`: the request's trace (stored in its row), which the enqueue
   * and the job's processing join.
   */
  async add(exportId: string, expectedRows: number, traceparent?: string | null): Promise<void> {
    this.ensureConnected();
    const queue = this.queueFor(expectedRows);
    const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'send', 'messaging.destination.name': queue.name, 'messaging.message.id': exportId };
    await inSpan(`send ${queue.name}`, 'producer', attributes, traceparent, async () => {
      const payload: JobPayloads[JobName.EXPORT] = { exportId };
      const sent = currentTraceparent();
      if (sent) payload.traceparent = sent;
      await queue.add(JobName.EXPORT, payload, { jobId: exportId, priority: priorityForRows(expectedRows) });
    });
  }

  /** The job of an export, in whichever lane it is. */
  async getJob(exportId: string): Promise<Job | undefined> {
    this.ensureConnected();
    for (const q of this.all) {
      const job = await q.getJob(exportId);
      if (job) return job;
    }
    return undefined;
  }

  /** Jobs per state, both lanes together. */
  async counts(): Promise<Record<string, number>> {
    this.ensureConnected();
    const states = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;
    const total: Record<string, number> = Object.fromEntries(states.map((s) => [s, 0]));
    for (const q of this.all) {
      const c = await q.getJobCounts(...states);
      for (const s of states) total[s] += c[s] ?? 0;
    }
    return total;
  }

  on(event: 'error', listener: (err: Error) => void): void {
    for (const q of this.all) q.on(event, listener);
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((q) => q.close().catch(() => undefined)));
  }
}
