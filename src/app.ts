import type IORedis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { Config } from './config';
import { createDataSource } from './db/data-source';
import { ensureDatabase, runMigrations } from './db/migrate';
import { RateLimiter } from './exports/admission';
import { Dispatcher } from './exports/dispatcher';
import { ExportService } from './exports/export.service';
import { ExportEvents, createExportEvents } from './exports/events';
import { ExportLifecycle } from './exports/lifecycle';
import { ExportQueues, redisConnection } from './exports/queue';
import { ExportStorage, storageOptionsFromConfig } from './storage';
import { ProfileService } from './profiles/profile.service';
import { ScheduleService, type SendingState } from './schedules/schedule.service';

/** Everything a process needs, built once at start and closed once at the end. */
export interface AppServices {
  config: Readonly<Config>;
  logger: Logger;
  dataSource: DataSource;
  redis: { queue: IORedis; publish: IORedis; subscribe: IORedis };
  /** Delivery only: the truth of every export is its row. */
  queues: ExportQueues;
  /** The outbox relay (PostgreSQL → queue), running in every process. */
  dispatcher: Dispatcher;
  events: ExportEvents;
  /** Every change of an export's row: its named transitions. */
  lifecycle: ExportLifecycle;
  storage: ExportStorage;
  exports: ExportService;
  profiles: ProfileService;
  schedules: ScheduleService;
  /** Whether this process can send mail (SMTP_URL, or the embedded sink boot.ts starts). */
  sending: SendingState;
  close(): Promise<void>;
  /** Drops every connection without waiting for an answer (a shutdown past its grace). */
  forceClose(): void;
}

/** A start-up failure a person can act on: one line, naming what failed and what to set. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const reason = (err: unknown) => {
  const e = err as { message?: string; name?: string; code?: string; errors?: { message?: string }[]; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  // S3 answers HEAD requests without a body: the SDK then only knows "UnknownError" and the status.
  if (status === 403 || status === 401) return `access denied (HTTP ${status}): the credentials were refused`;
  let msg = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(err);
  if (status && (msg === 'UnknownError' || msg === e?.name)) msg = `HTTP ${status}`;
  return msg.split('\n')[0];
};

/** user:password@ → user:***@ for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

async function startDatabase(config: Readonly<Config>, opts: { migrate: boolean; createDatabase: boolean }, logger: Logger): Promise<DataSource> {
  const where = `PostgreSQL at ${redactUrl(config.databaseUrl)}`;
  try {
    if (opts.createDatabase && (await ensureDatabase(config.databaseUrl))) logger.info('Created the database');
    const ds = createDataSource(config.databaseUrl, { poolSize: 10 });
    await ds.initialize();
    if (opts.migrate) {
      const ran = await runMigrations(ds);
      if (ran.length) logger.info({ migrations: ran }, 'Applied migrations');
    }
    return ds;
  } catch (err) {
    if ((err as { code?: string }).code === '3D000') {
      throw new StartupError(`Cannot use ${where}: ${reason(err)}. Create it with \`npm run migrate\` (or \`npm run demo\`), or set DATABASE_URL.`);
    }
    throw new StartupError(`Cannot use ${where}: ${reason(err)}. Start PostgreSQL or set DATABASE_URL.`);
  }
}

async function startRedis(config: Readonly<Config>, log: Logger, tolerate: boolean): Promise<AppServices['redis']> {
  const conns = {
    queue: redisConnection(config.redisUrl, 'queue'),
    publish: redisConnection(config.redisUrl, 'events'),
    subscribe: redisConnection(config.redisUrl, 'events'),
  };
  let timer: NodeJS.Timeout | undefined;
  // Without an 'error' listener ioredis prints "[ioredis] Unhandled error event"
  // with a stack trace at every reconnection attempt: a wall of text instead
  // of the one line below. At run time, one warning per outage and connection.
  let lastError: Error | undefined;
  let failFast: (err: Error) => void = () => undefined;
  let runtimeLogger: Logger | undefined; // set once started: start-up failures are reported below instead
  for (const [name, c] of Object.entries(conns)) {
    let warned = false;
    c.on('error', (err: Error) => {
      lastError = err;
      failFast(err);
      if (!warned && runtimeLogger) runtimeLogger.warn({ connection: name, err: err.message }, 'Redis connection error (reconnecting)');
      warned = true;
    });
    c.on('ready', () => {
      warned = false;
    });
  }
  try {
    await Promise.race([
      conns.publish.ping(),
      new Promise((_, reject) => {
        failFast = reject;
        if (lastError) reject(lastError);
        timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
      }),
    ]);
    runtimeLogger = log;
    return conns;
  } catch (err) {
    const message = `Cannot reach Redis at ${redactUrl(config.redisUrl)}: ${reason(err)}`;
    if (tolerate) {
      // PostgreSQL holds the truth: reads and export requests work without Redis,
      // and the connections keep reconnecting in the background.
      log.warn(`${message}. Starting anyway: exports are recorded and dispatched once Redis is back.`);
      runtimeLogger = log;
      return conns;
    }
    for (const c of Object.values(conns)) c.disconnect();
    throw new StartupError(`${message}. Start Redis or set REDIS_URL.`);
  } finally {
    failFast = () => undefined;
    // Otherwise the pending timer keeps a process that has shut down alive for 5 s.
    clearTimeout(timer);
  }
}

export async function startStorage(config: Readonly<Config>, endpoint: string, logger?: Logger, tolerate = false): Promise<ExportStorage> {
  // The endpoint may be the embedded s3rver's, which the config does not name.
  const storage = new ExportStorage(storageOptionsFromConfig(config, { endpoint, logger }));
  try {
    await storage.ensureBucket();
    return storage;
  } catch (err) {
    if (tolerate) {
      // The API only signs URLs (no request to the storage); workers create the bucket.
      logger?.warn(`Cannot use the S3 bucket "${config.s3Bucket}" at ${endpoint}: ${reason(err)}. Starting anyway.`);
      return storage;
    }
    storage.destroy();
    throw new StartupError(
      `Cannot use the S3 bucket "${config.s3Bucket}" at ${endpoint}: ${reason(err)}. Check S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY.`,
    );
  }
}

export async function createServices(
  config: Readonly<Config>,
  logger: Logger,
  opts: { s3Endpoint: string; migrate?: boolean; createDatabase?: boolean; tolerateOutages?: boolean },
): Promise<AppServices> {
  const tolerate = opts.tolerateOutages ?? false;
  const dataSource = await startDatabase(config, { migrate: opts.migrate ?? true, createDatabase: opts.createDatabase ?? false }, logger);
  let redis: AppServices['redis'];
  let storage: ExportStorage;
  try {
    redis = await startRedis(config, logger, tolerate);
  } catch (err) {
    await dataSource.destroy();
    throw err;
  }
  try {
    storage = await startStorage(config, opts.s3Endpoint, logger, tolerate);
  } catch (err) {
    await dataSource.destroy();
    for (const c of Object.values(redis)) c.disconnect();
    throw err;
  }
  const queues = new ExportQueues(redis.queue, config.queuePrefix, config.exportSmallMaxRows);
  queues.on('error', (err) => logger.debug({ err: err.message }, 'Queue connection error'));
  const events = createExportEvents(redis.publish, redis.subscribe, config.queuePrefix);
  const lifecycle = new ExportLifecycle(dataSource, events);
  const dispatcher = new Dispatcher(dataSource, queues, lifecycle, config, logger);
  const rateLimiter = new RateLimiter(redis.queue, config.queuePrefix, config.exportRateLimitPerMinute, logger);
  const exports = new ExportService(dataSource, queues, lifecycle, storage, config, logger, dispatcher, rateLimiter);
  dispatcher.start();
  const sending: SendingState = { smtpUrl: config.smtpUrl ?? null };
  let closed = false;
  return {
    config,
    logger,
    dataSource,
    redis,
    queues,
    dispatcher,
    events,
    lifecycle,
    storage,
    exports,
    profiles: new ProfileService(dataSource),
    schedules: new ScheduleService(dataSource, exports, sending, config.queuePrefix),
    sending,
    async close() {
      if (closed) return;
      closed = true;
      dispatcher.stop();
      await queues.close();
      for (const c of Object.values(redis)) c.disconnect();
      storage.destroy();
      await dataSource.destroy().catch(() => undefined);
    },
    forceClose() {
      closed = true;
      dispatcher.stop();
      for (const c of Object.values(redis)) c.disconnect();
      void queues.close();
      storage.destroy();
      void dataSource.destroy().catch(() => undefined);
    },
  };
}
