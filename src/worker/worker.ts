import { Job, Worker } from 'bullmq';
import { Pool } from 'pg';
import type { AppServices } from '../app';
import { CLEANUP_EVERY_MS, EXPORT_QUEUE_NAME, JobName, JobPayloads, redisConnection } from '../exports/queue';
import { runCleanup } from './cleanup.processor';
import { ExportProcessor } from './export.processor';

export interface RunningWorker {
  worker: Worker;
  processor: ExportProcessor;
  /** Stops taking jobs; lets active exports finish for `graceMs`, then hands them back. */
  close(graceMs?: number): Promise<void>;
}

type Handlers = { [N in JobName]: (job: Job<JobPayloads[N]>, token?: string) => Promise<unknown> };

export async function startWorker(services: AppServices, opts: { maxRowsPerSheet?: number } = {}): Promise<RunningWorker> {
  const { config, logger } = services;
  const pool = new Pool({ connectionString: config.databaseUrl, max: config.workerConcurrency + 1, application_name: 'invoice-export-worker' });
  pool.on('error', (err) => logger.warn({ err }, 'Idle database connection failed'));
  const processor = new ExportProcessor({
    dataSource: services.dataSource,
    pool,
    storage: services.storage,
    events: services.events,
    config,
    logger,
    maxRowsPerSheet: opts.maxRowsPerSheet,
  });
  // Every job name has exactly one handler: the type refuses a missing one.
  const handlers: Handlers = {
    [JobName.EXPORT]: (job, token) => processor.process(job, token),
    [JobName.CLEANUP]: () => runCleanup({ ...services, logger }),
  };

  const connection = redisConnection(config.redisUrl, 'worker');
  const worker = new Worker(
    EXPORT_QUEUE_NAME,
    async (job: Job, token?: string) => {
      const handler = handlers[job.name as JobName] as ((job: Job, token?: string) => Promise<unknown>) | undefined;
      if (!handler) throw new Error(`No handler for job "${job.name}"`);
      await handler(job, token);
    },
    {
      connection,
      prefix: config.queuePrefix,
      concurrency: config.workerConcurrency,
      lockDuration: config.workerLockDurationMs,
      // A dead worker's job is taken over about one lock duration after its death.
      stalledInterval: Math.max(1000, Math.floor(config.workerLockDurationMs / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('error', (err) => logger.error({ err }, 'Worker connection error'));
  worker.on('failed', (job, err) => {
    if (job) logger.debug({ jobId: job.id, err: err.message }, 'Job attempt failed');
  });
  await worker.waitUntilReady();
  await services.queue.upsertJobScheduler('cleanup', { every: CLEANUP_EVERY_MS }, { name: JobName.CLEANUP, data: {} });
  logger.info({ concurrency: config.workerConcurrency, prefix: config.queuePrefix }, 'Worker ready');

  let closing: Promise<void> | undefined;
  return {
    worker,
    processor,
    close(graceMs = 25_000) {
      closing ??= (async () => {
        const closed = worker.close();
        const timer = setTimeout(() => processor.handBackAll(), graceMs);
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
  };
}
