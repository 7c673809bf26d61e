import { JobsOptions, Queue, QueueOptions } from 'bullmq';
import IORedis, { RedisOptions } from 'ioredis';

/** One queue carries every job of the service; job names route to handlers (worker/main.ts). */
export const EXPORT_QUEUE_NAME = 'invoice-exports';

export enum JobName {
  EXPORT = 'export',
  CLEANUP = 'cleanup',
}

/** Payloads carry ids only: the worker re-reads the export row (job data is stored in clear). */
export interface JobPayloads {
  [JobName.EXPORT]: { exportId: string };
  [JobName.CLEANUP]: Record<string, never>;
}

export const EXPORT_ATTEMPTS = 3;

export const EXPORT_JOB_OPTIONS: JobsOptions = {
  attempts: EXPORT_ATTEMPTS,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The sweep that expires old files and re-enqueues exports whose job went missing. */
export const CLEANUP_EVERY_MS = 60_000;

/**
 * Connections for BullMQ. The queue (API side) fails fast when Redis is down
 * so that a request gets an error instead of hanging; workers wait forever.
 */
export function redisConnection(url: string, role: 'queue' | 'worker' | 'events'): IORedis {
  const opts: RedisOptions =
    role === 'queue'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
      : { maxRetriesPerRequest: null, connectTimeout: 5000 };
  return new IORedis(url, { ...opts, lazyConnect: false });
}

export function createExportQueue(connection: IORedis, prefix: string): Queue {
  const opts: QueueOptions = { connection, prefix, defaultJobOptions: EXPORT_JOB_OPTIONS };
  return new Queue(EXPORT_QUEUE_NAME, opts);
}

export async function enqueueExport(queue: Queue, exportId: string): Promise<void> {
  // jobId = export id: adding twice is a no-op, which makes re-enqueueing safe.
  await queue.add(JobName.EXPORT, { exportId } satisfies JobPayloads[JobName.EXPORT], { jobId: exportId });
}
