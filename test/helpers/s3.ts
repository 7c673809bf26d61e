/**
 * An embedded s3rver for tests: a free loopback port, a temp directory of its
 * own, a bucket; gives the endpoint, a Config slice / env for the code under
 * test, and stops (and removes its directory).
 *
 *   const s3 = await startTestS3();
 *   const config = s3.withConfig(loadConfig());       // a full Config pointing at it
 *   const storage = new ExportStorage(storageOptionsFromConfig(s3.config));     // or storage options
 *   spawn(..., { env: { ...process.env, ...s3.env } }) // child processes
 *   await s3.stop();
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { StorageConfig } from '../../src/storage';
import { startEmbeddedS3, type EmbeddedS3 } from '../../dev/s3-local';

export interface TestS3 {
  endpoint: string;
  port: number;
  bucket: string;
  /** The server's storage directory (a fresh temp dir). */
  directory: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The S3 part of Config, pointing at this server. */
  config: StorageConfig;
  /** S3_* variables for a child process. */
  env: Record<string, string>;
  /** `base` with its S3 settings replaced by this server's. */
  withConfig<C extends StorageConfig>(base: C): C;
  server: EmbeddedS3;
  /** A raw S3 client with this server's credentials (the embedded server refuses unsigned requests). */
  client(): S3Client;
  /** Stops the server (it may be stopped already). `keepFiles` leaves the directory. */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

export interface TestS3Options {
  /** Default: `test-<random>` (a valid bucket name). */
  bucket?: string;
  /** Default: S3RVER / S3RVER. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export async function startTestS3(options: TestS3Options = {}): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-s3-'));
  const bucket = options.bucket ?? `test-${randomUUID().slice(0, 8)}`;
  let server: EmbeddedS3;
  try {
    server = await startEmbeddedS3({
      directory,
      port: 0,
      host: '127.0.0.1',
      bucket,
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      silent: true,
    });
  } catch (err) {
    await fs.rm(directory, { recursive: true, force: true });
    throw err;
  }
  const config: StorageConfig = {
    s3Endpoint: server.endpoint,
    s3Bucket: bucket,
    s3Region: 'us-east-1',
    s3AccessKeyId: server.accessKeyId,
    s3SecretAccessKey: server.secretAccessKey,
    s3ForcePathStyle: true,
  };
  const env = {
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: bucket,
    S3_REGION: config.s3Region,
    S3_ACCESS_KEY_ID: server.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
  let stopped = false;
  return {
    endpoint: server.endpoint,
    port: server.port,
    bucket,
    directory,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    config,
    env,
    withConfig: <C extends StorageConfig>(base: C): C => ({ ...base, ...config }),
    server,
    client: () =>
      new S3Client({
        endpoint: server.endpoint,
        region: config.s3Region,
        forcePathStyle: true,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    async stop({ keepFiles = false } = {}) {
      if (!stopped) {
        stopped = true;
        await server.close(500);
      }
      if (!keepFiles) await fs.rm(directory, { recursive: true, force: true });
    },
  };
}
