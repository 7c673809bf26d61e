import type { Logger } from 'pino';
import { AppServices, StartupError, createServices } from './app';
import type { ApiServer } from './api/server';
import { Config, isDevelopmentEnv, loadConfigOrExit } from './config';
import { createLogger } from './logger';
import { loadEmbeddedS3, type EmbeddedS3Handle } from './embedded-s3';
import { shutdownTracing } from './telemetry/tracing';
import { RunningWorker, startWorker } from './worker/worker';
import { Sending, startSending } from './schedules/sending';

export type Role = 'all' | 'api' | 'worker';

export interface Running {
  config: Readonly<Config>;
  logger: Logger;
  services: AppServices;
  api?: ApiServer;
  port?: number;
  worker?: RunningWorker;
  embeddedS3?: EmbeddedS3Handle;
  s3Endpoint: string;
  /** Scheduled sends: the embedded mail sink, the schedule timer (docs/profiles.md). */
  sending?: Sending;
  /**
   * Stops taking work and closes everything, within SHUTDOWN_GRACE_MS plus
   * the hand-back window; past that, force-closes what is left. Resolves
   * either way (`forced`: something had to be cut), at most about
   * SHUTDOWN_GRACE_MS + 3 s after it was called, whatever is down.
   */
  shutdown(): Promise<ShutdownResult>;
}

export interface ShutdownResult {
  forced: boolean;
}

/** After the grace, attempts handed back get this long to write their rows before the rest is forced. */
export const HAND_BACK_MS = 2000;
/** A forced close is given this long; whatever is still open then ends with the process. */
const FORCE_CLOSE_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export interface BootOptions {
  config?: Readonly<Config>;
  logger?: Logger;
  /** Create the database when missing (demo, local runs). */
  createDatabase?: boolean;
  /** Force an embedded s3rver on a free port even when S3_ENDPOINT is set (demo). */
  embeddedS3Port?: number;
}

/**
 * Starts one process: API, worker or both. Separate API and worker processes
 * must share a storage, so they refuse to run without S3_ENDPOINT; the
 * all-in-one mode starts an embedded s3rver instead.
 */
export async function boot(role: Role, opts: BootOptions = {}): Promise<Running> {
  // Only the all-in-one local mode may run on the development JWT secret (config.ts).
  const config = opts.config ?? loadConfigOrExit(process.env, { allowDevJwtSecret: role === 'all' });
  const logger = opts.logger ?? createLogger(config.logLevel, config.nodeEnv);
  let embeddedS3: EmbeddedS3Handle | undefined;
  let s3Endpoint = config.s3Endpoint;
  if (!s3Endpoint) {
    if (role !== 'all') {
      throw new StartupError(
        `S3_ENDPOINT is not set: a separate ${role} process needs the storage shared with the ${role === 'api' ? 'workers' : 'API'}. ` +
          'Run `npm run s3:local` in another terminal and set S3_ENDPOINT=http://127.0.0.1:4569, or use `npm start` (API + worker + embedded S3 in one process).',
      );
    }
    // s3rver is a local stand-in (no signature checks of its own, unmaintained): never a deployment's storage.
    if (!isDevelopmentEnv(config.nodeEnv)) {
      throw new StartupError(
        `S3_ENDPOINT is not set: the embedded S3 server is for local runs only (NODE_ENV development or test; NODE_ENV is "${config.nodeEnv}"). Set S3_ENDPOINT to an S3 service (AWS S3, MinIO).`,
      );
    }
    const dev = loadEmbeddedS3();
    if (!dev) {
      throw new StartupError(
        'S3_ENDPOINT is not set and the embedded S3 server (dev/s3-local.ts, a development tool) is not part of this build. Set S3_ENDPOINT to an S3 service (AWS S3, MinIO).',
      );
    }
    try {
      embeddedS3 = await dev.startEmbeddedS3({
        directory: config.s3LocalDir,
        port: opts.embeddedS3Port ?? config.s3LocalPort,
        bucket: config.s3Bucket,
        accessKeyId: config.s3AccessKeyId,
        secretAccessKey: config.s3SecretAccessKey,
      });
    } catch (err) {
      if (err instanceof dev.EmbeddedS3UnavailableError) throw new StartupError(`S3_ENDPOINT is not set and ${err.message}`);
      throw new StartupError(
        `Cannot start the embedded S3 server on port ${config.s3LocalPort}: ${(err as Error).message}. Set S3_LOCAL_PORT to a free port, or S3_ENDPOINT to an S3 server.`,
      );
    }
    s3Endpoint = embeddedS3.endpoint;
    logger.info({ endpoint: s3Endpoint, directory: embeddedS3.directory }, 'Embedded S3 started');
  }

  let services: AppServices;
  try {
    // A separate API process serves reads and records exports with PostgreSQL alone.
    services = await createServices(config, logger, { s3Endpoint, createDatabase: opts.createDatabase, tolerateOutages: role === 'api' });
  } catch (err) {
    await embeddedS3?.close();
    throw err;
  }
  let stopping: Promise<ShutdownResult> | undefined;
  const running: Running = {
    config,
    logger,
    services,
    embeddedS3,
    s3Endpoint,
    shutdown() {
      stopping ??= stopWithin(running, config.shutdownGraceMs);
      return stopping;
    },
  };
  try {
    if (role !== 'worker') {
      // Loaded only where it serves: a worker process stays without the HTTP stack.
      const { createApiServer } = require('./api/server') as typeof import('./api/server');
      const api = await createApiServer(services);
      running.api = api;
      running.port = await api.listen(config.port);
      logger.info({ url: `http://localhost:${running.port}/graphql` }, 'API ready');
    }
    if (role !== 'api') running.worker = await startWorker(services);
    running.sending = await startSending(role, services, running.port);
  } catch (err) {
    await running.shutdown();
    if ((err as { code?: string }).code === 'EADDRINUSE') {
      throw new StartupError(`Port ${config.port} is already in use. Set PORT to a free port.`);
    }
    throw err;
  }
  return running;
}

/**
 * The graceful close, raced against its deadline: the API and the worker stop
 * taking work at once; running exports get `graceMs`, then are handed back
 * (worker.close); HAND_BACK_MS later, whatever has not closed — BullMQ
 * waiting for a Redis that is gone, a pool whose server does not answer — is
 * cut (found: a worker sent SIGTERM during a Redis outage still running 48
 * minutes later).
 */
async function stopWithin(running: Running, graceMs: number): Promise<ShutdownResult> {
  const { logger, services, embeddedS3 } = running;
  const graceful = (async () => {
    await Promise.all([
      running.sending?.close().catch((err) => logger.warn({ err }, 'Scheduled sends close failed')),
      running.api?.close().catch((err) => logger.warn({ err }, 'HTTP server close failed')),
      running.worker?.close(graceMs).catch((err) => logger.warn({ err }, 'Worker close failed')),
    ]);
    await services.close();
    await embeddedS3?.close();
    await shutdownTracing(); // the spans still buffered
    return false;
  })();
  const forced = await Promise.race([graceful, sleep(graceMs + HAND_BACK_MS).then(() => true)]);
  if (!forced) return { forced };
  logger.error({ graceMs }, 'Shutdown did not finish within SHUTDOWN_GRACE_MS (Redis or PostgreSQL unreachable?): closing what is left by force');
  try {
    running.worker?.forceClose();
    services.forceClose();
    void embeddedS3?.close(0).catch(() => undefined);
  } catch (err) {
    logger.warn({ err }, 'Forced close failed');
  }
  await Promise.race([graceful, sleep(FORCE_CLOSE_MS)]);
  return { forced };
}

/** For the `main` files: start, stop on SIGTERM/SIGINT within the grace (exit 1 when forced), one clear line on a start-up failure. */
export function runMain(role: Role): void {
  // `npm start` is the local all-in-one mode: like the demo, it creates a
  // missing database. Separate API and worker processes expect it to exist.
  boot(role, { createDatabase: role === 'all' }).then(
    (running) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) {
          // A second Ctrl-C or SIGTERM: the operator will not wait; running attempts are left to their lease's expiry.
          running.logger.warn({ signal }, 'Second signal during the shutdown: exiting now');
          process.exit(1);
        }
        stopping = true;
        running.logger.info({ graceMs: running.config.shutdownGraceMs, signal }, 'Shutting down');
        running.shutdown().then(
          ({ forced }) => process.exit(forced ? 1 : 0),
          (err) => {
            running.logger.error({ err }, 'Shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (err) => {
      if (err instanceof StartupError) {
        process.stderr.write(`Cannot start: ${err.message}\n`);
        process.exit(1);
      }
      process.stderr.write(`Cannot start: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
