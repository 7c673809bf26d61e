import { Job, Worker } from 'bullmq';
import { Pool } from 'pg';
import type { AppServices } from '../app';
import { JobName, JobPayloads, LEGACY_CLEANUP_SCHEDULER, redisConnection } from '../exports/queue';
import { inSpan } from '../telemetry/tracing';
import { ExportProcessor } from './export.processor';
import { Reconciler } from './reconciler';

export interface RunningWorker {
  /** The main lane's BullMQ worker (large exports). */
  worker: Worker;
  /** Every BullMQ worker of this process: the main lane and the small-export lane. */
  workers: Worker[];
  processor: ExportProcessor;
  reconciler: Reconciler;
  /** Stops / resumes taking jobs on every lane (running exports go on). */
  pause(): Promise<void>;
  resume(): void;
  /** Stops taking jobs; lets active exports finish for `graceMs` (SHUTDOWN_GRACE_MS), then hands them back. */
  close(graceMs?: number): Promise<void>;
  /**
   * What close() could not finish (Redis or PostgreSQL unreachable): hands
   * back what still runs, force-closes BullMQ, drops the connections. Does
   * not wait for them: the process exits next.
   */
  forceClose(): void;
}

type Handlers = { [N in JobName]: (job: Job<JobPayloads[N]>, token?: string) => Promise<unknown> };

export async function startWorker(services: AppServices, opts: { maxRowsPerSheet?: number } = {}): Promise<RunningWorker> {
  const { config, logger } = services;
  const slots = config.workerConcurrency + config.workerSmallConcurrency;
  // Per running export: its snapshot, its probed totals beside it (worker/snapshot-query.ts), and the transaction that
  // completes it when its kind writes along (transfer marks).
  const pool = new Pool({ connectionString: config.databaseUrl, max: 3 * slots + 1, application_name: 'invoice-export-worker' });
  pool.on('error', (err) => logger.warn({ err }, 'Idle database connection failed'));
  const processor = new ExportProcessor({
    dataSource: services.dataSource,
    pool,
    storage: services.storage,
    lifecycle: services.lifecycle,
    dispatcher: services.dispatcher,
    config,
    logger,
    maxRowsPerSheet: opts.maxRowsPerSheet,
  });
  // Every job name has exactly one handler: the type refuses a missing one.
  const handlers: Handlers = {
    [JobName.EXPORT]: (job, token) => processor.process(job, token),
  };
  const route = async (job: Job, token?: string) => {
    const handler = handlers[job.name as JobName] as ((job: Job, token?: string) => Promise<unknown>) | undefined;
    if (!handler) throw new Error(`No handler for job "${job.name}"`);
    // In the trace of the request that enqueued it (the job's traceparent), when tracing is on.
    const attributes = { 'messaging.system': 'bullmq', 'messaging.operation.type': 'process', 'messaging.destination.name': job.queueName, 'messaging.message.id': String(job.id) };
    await inSpan(`process ${job.queueName}`, 'consumer', attributes, (job.data as { traceparent?: string }).traceparent, () => handler(job, token));
  };

  const connection = redisConnection(config.redisUrl, 'worker');
  const lanes = [
    { queue: services.queues.main, concurrency: config.workerConcurrency },
    { queue: services.queues.small, concurrency: config.workerSmallConcurrency },
  ].filter((l) => l.concurrency > 0);
  const workers = lanes.map(
    ({ queue, concurrency }) =>
      new Worker(queue.name, route, {
        connection,
        prefix: config.queuePrefix,
        concurrency,
        lockDuration: config.workerLockDurationMs,
        // A dead worker's job is taken over about one lock duration after its death.
        stalledInterval: Math.max(1000, Math.floor(config.workerLockDurationMs / 2)),
        maxStalledCount: 1000, // attempts are counted by the export's row, not by BullMQ
      }),
  );
  for (const w of workers) {
    w.on('error', (err) => logger.error({ err: err.message }, 'Worker connection error'));
    w.on('failed', (job, err) => {
      if (job) logger.debug({ jobId: job.id, err: err.message }, 'Job attempt failed');
    });
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  // Earlier versions swept from a job scheduler, which a Redis wipe loses.
  await services.queues.main.removeJobScheduler(LEGACY_CLEANUP_SCHEDULER).catch(() => undefined);
  const reconciler = new Reconciler(services);
  reconciler.start();
  logger.info({ concurrency: config.workerConcurrency, smallConcurrency: config.workerSmallConcurrency, prefix: config.queuePrefix }, 'Worker ready');

  let closing: Promise<void> | undefined;
  return {
    worker: workers[0],
    workers,
    processor,
    reconciler,
    async pause() {
      await Promise.all(workers.map((w) => w.pause()));
    },
    resume() {
      for (const w of workers) w.resume();
    },
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        reconciler.stop();
        const closed = Promise.all(workers.map((w) => w.close()));
        const timer = setTimeout(() => void processor.handBackAll(), graceMs);
        try {
          await closed;
        } finally {
          clearTimeout(timer);
          connection.disconnect();
          await pool.end().catch(() => undefined);
        }
      })();
      return closing;
    },
    forceClose() {
      reconciler.stop();
      void processor.handBackAll();
      // close(true) does not wait for the running jobs (a close() already under way cannot be forced: disconnect below).
      for (const w of workers) void w.close(true).catch(() => undefined);
      for (const w of workers) void w.disconnect().catch(() => undefined);
      connection.disconnect();
      void pool.end().catch(() => undefined);
    },
  };
}
