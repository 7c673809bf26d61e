/**
 * Embedded S3-compatible server (s3rver) for the single-process modes
 * (`npm start`, `npm run demo`), `npm run s3:local` and the tests
 * (docs/architecture.md: S3_ENDPOINT unset → loopback s3rver storing under `.data/s3`).
 *
 * Local modes only: s3rver is a devDependency (unmaintained, fast-xml-parser
 * 3, dicer): it is loaded here lazily, and the production image has none.
 *
 * s3rver 3.7.1, as found here:
 * - checks the access key of a request and the expiry of a presigned URL,
 *   never the SigV4 signature itself, and serves anonymous requests; and a
 *   multipart/form-data POST crashes the process (dicer). A guard in front
 *   of it (s3-local-guard.ts) verifies the signature with the configured
 *   key pair and refuses what crashes it;
 * - implements CreateMultipartUpload / UploadPart / CompleteMultipartUpload,
 *   but answers AbortMultipartUpload with 405 MethodNotAllowed and
 *   ListMultipartUploads with 501 NotImplemented, and UploadPart to an unknown
 *   upload id happily recreates it. Every failed or cancelled export would then
 *   leave its parts under `<dir>/<bucket>/._S3rver_uploads/<uploadId>/`
 *   forever. A small shim (below) fills these three gaps the way S3 behaves,
 *   so that the storage module's cleanup path works and can be tested locally.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type S3rver from 's3rver';
import type S3ErrorClass from 's3rver/lib/models/error';
import type { EmbeddedS3Module } from '../src/embedded-s3';
import { checkRequest, errorXml } from './s3-local-guard';

export const DEFAULT_S3_LOCAL_DIR = '.data/s3';
export const S3RVER_DEFAULT_KEY = 'S3RVER';

export interface EmbeddedS3Options {
  /** Where objects are stored; created if missing. Default `.data/s3` (relative to the cwd). */
  directory?: string;
  /** 0 = any free port. Default 0. */
  port?: number;
  /** Interface to bind. Default loopback `127.0.0.1`. */
  host?: string;
  /** Bucket created at start (kept if it exists). */
  bucket: string;
  /**
   * The only credentials the server accepts: the guard verifies every
   * request's SigV4 signature with them (s3rver itself would also accept
   * S3RVER/S3RVER, and checks only the access key).
   */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Suppress s3rver's request log. Default true. */
  silent?: boolean;
}

export interface EmbeddedS3 {
  /** `http://127.0.0.1:<port>`: use as S3_ENDPOINT (path-style). */
  endpoint: string;
  port: number;
  host: string;
  /** Absolute storage directory. */
  directory: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /**
   * Stops listening. Requests in flight get `graceMs` (default 2000) to
   * finish, then their connections are cut; idle keep-alive connections are
   * closed at once. Data stays on disk (resetOnClose: false).
   */
  close(graceMs?: number): Promise<void>;
}

/** Thrown when s3rver is not installed (a production install: npm ci --omit=dev). */
export class EmbeddedS3UnavailableError extends Error {
  constructor() {
    super(
      'the embedded S3 server (s3rver, a devDependency for local runs) is not installed here. ' +
        'Set S3_ENDPOINT to an S3 service (AWS S3, MinIO), or install the development dependencies (npm ci).',
    );
    this.name = 'EmbeddedS3UnavailableError';
  }
}

interface S3rverModules {
  S3rver: typeof S3rver;
  AWSAccount: typeof import('s3rver/lib/models/account');
  S3Error: typeof S3ErrorClass;
  authentication: typeof import('s3rver/lib/middleware/authentication');
}

function loadS3rver(): S3rverModules {
  try {
    return {
      S3rver: require('s3rver'),
      AWSAccount: require('s3rver/lib/models/account'),
      S3Error: require('s3rver/lib/models/error'),
      authentication: require('s3rver/lib/middleware/authentication'),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') throw new EmbeddedS3UnavailableError();
    throw err;
  }
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const { S3rver, AWSAccount, S3Error, authentication } = loadS3rver();
  const directory = path.resolve(options.directory ?? DEFAULT_S3_LOCAL_DIR);
  const host = options.host ?? '127.0.0.1';
  const accessKeyId = options.accessKeyId ?? S3RVER_DEFAULT_KEY;
  const secretAccessKey = options.secretAccessKey ?? S3RVER_DEFAULT_KEY;
  await fs.mkdir(directory, { recursive: true });

  if (accessKeyId !== S3RVER_DEFAULT_KEY) {
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  }

  const server = new S3rver({
    directory,
    silent: options.silent ?? true,
    resetOnClose: false,
    // Path-style only: the endpoint is an IP address and the client uses forcePathStyle.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket }],
  });
  installMultipartShim(server, directory, S3Error, authentication);

  // Not server.run(): s3rver listens without an 'error' listener, so a port
  // in use (EADDRINUSE) would crash the whole process instead of rejecting.
  await server.configureBuckets();
  // Nothing reaches s3rver unsigned, or in a shape that crashes it (s3-local-guard.ts).
  const s3rverHandler = server.callback();
  const credentials = { accessKeyId, secretAccessKey };
  const httpServer = http.createServer((req, res) => {
    const refused = checkRequest(req, credentials);
    if (!refused) {
      s3rverHandler(req, res);
      return;
    }
    res.writeHead(refused.status, { 'content-type': 'application/xml', connection: 'close' });
    res.end(errorXml(refused));
    req.resume(); // drop whatever body was sent
  });
  httpServer.on('close', () => server.logger.close());
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => {
      server.logger.close();
      reject(err);
    };
    httpServer.once('error', onError);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', onError);
      httpServer.on('error', (err) => server.logger.error('s3rver: %s', err));
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const endpointHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const endpoint = `http://${endpointHost.includes(':') ? `[${endpointHost}]` : endpointHost}:${port}`;

  let closing: Promise<void> | undefined;
  const close = (graceMs = 2000): Promise<void> => {
    closing ??= (async () => {
      if (!httpServer.listening) return;
      const closed = once(httpServer, 'close');
      httpServer.close();
      httpServer.closeIdleConnections();
      const timer = setTimeout(() => httpServer.closeAllConnections(), graceMs);
      timer.unref();
      try {
        await closed;
      } finally {
        clearTimeout(timer);
      }
    })();
    return closing;
  };

  return { endpoint, port, host, directory, bucket: options.bucket, accessKeyId, secretAccessKey, close };
}

// ---------------------------------------------------------------------------
// Multipart shim: AbortMultipartUpload, ListMultipartUploads, NoSuchUpload.
// ---------------------------------------------------------------------------

/** Where s3rver's FilesystemStore keeps in-progress uploads (lib/stores/filesystem.js). */
const UPLOADS_DIR = '._S3rver_uploads';
/** s3rver's upload ids: crypto.randomBytes(16).toString('hex'). Anything else never touches the disk. */
const UPLOAD_ID = /^[0-9a-f]{32}$/;

function decodePathPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function installMultipartShim(
  server: S3rver,
  directory: string,
  S3Error: typeof S3ErrorClass,
  authentication: typeof import('s3rver/lib/middleware/authentication'),
): void {
  const authenticate = authentication();
  const shim: S3rver.Middleware = async (ctx, next) => {
    const query = ctx.query as Record<string, string | string[] | undefined>;
    const hasUploadId = 'uploadId' in query;
    const listing = ctx.method === 'GET' && 'uploads' in query;
    if (!hasUploadId && !listing) return next();

    const [, rawBucket = '', ...rawKey] = (ctx.path as string).split('/');
    const bucket = decodePathPart(rawBucket);
    const key = decodePathPart(rawKey.join('/'));
    if (!bucket || key === undefined) return next();
    const bucketDir = path.join(directory, bucket);
    const uploadsDir = path.join(bucketDir, UPLOADS_DIR);

    const isAbort = ctx.method === 'DELETE' && hasUploadId && key !== '';
    const isPart = ctx.method === 'PUT' && hasUploadId && key !== '' && !('x-amz-copy-source' in ctx.headers);
    const isComplete = ctx.method === 'POST' && hasUploadId && key !== '';
    const isList = listing && key === '';
    if (!isAbort && !isPart && !isComplete && !isList) return next();

    // Same authentication as every other s3rver route (it needs ctx.params).
    ctx.params = { ...(ctx.params ?? {}), bucket, ...(key ? { key } : {}) };
    await authenticate(ctx, async () => undefined);
    if (!(await isDirectory(bucketDir))) {
      throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
    }

    if (isList) {
      ctx.body = await listUploads(uploadsDir, bucket, typeof query.prefix === 'string' ? query.prefix : '');
      return;
    }

    const uploadId = typeof query.uploadId === 'string' ? query.uploadId : '';
    const uploadDir = path.join(uploadsDir, uploadId);
    const known = UPLOAD_ID.test(uploadId) && (await readText(path.join(uploadDir, 'key'))) === key;
    if (!known) {
      throw new S3Error(
        'NoSuchUpload',
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
        { UploadId: uploadId },
      );
    }
    if (isAbort) {
      await fs.rm(uploadDir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    return next(); // UploadPart / CompleteMultipartUpload of a live upload: s3rver's own handlers
  };

  // Koa composes `middleware` when the server starts listening; run the shim
  // just before s3rver's router (the last middleware), after its logger, XML
  // body encoder and vhost rewriting.
  const stack = server.middleware;
  const last = stack[stack.length - 1] as { router?: unknown } | undefined;
  if (!last || !last.router) {
    throw new Error('s3rver: unexpected middleware layout, cannot install the multipart shim (s3rver version changed?)');
  }
  stack.splice(stack.length - 1, 0, shim);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readText(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch {
    return undefined;
  }
}

async function listUploads(uploadsDir: string, bucket: string, prefix: string) {
  let ids: string[] = [];
  try {
    ids = (await fs.readdir(uploadsDir)).filter((id) => UPLOAD_ID.test(id));
  } catch {
    ids = [];
  }
  const uploads: Array<{ Key: string; UploadId: string; Initiated: string; StorageClass: string }> = [];
  for (const id of ids) {
    const dir = path.join(uploadsDir, id);
    const key = await readText(path.join(dir, 'key'));
    if (key === undefined || !key.startsWith(prefix)) continue;
    const stat = await fs.stat(dir).catch(() => undefined);
    if (!stat) continue;
    uploads.push({ Key: key, UploadId: id, Initiated: stat.birthtime.toISOString(), StorageClass: 'STANDARD' });
  }
  uploads.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : a.Initiated.localeCompare(b.Initiated)));
  return {
    ListMultipartUploadsResult: {
      '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
      Bucket: bucket,
      KeyMarker: '',
      UploadIdMarker: '',
      NextKeyMarker: '',
      NextUploadIdMarker: '',
      Prefix: prefix,
      MaxUploads: 1000,
      IsTruncated: false,
      ...(uploads.length ? { Upload: uploads } : {}),
    },
  };
}

// What src/embedded-s3.ts loads this module as (`npm start`, the demo): checked here, where both are known.
const contract: EmbeddedS3Module = { startEmbeddedS3, EmbeddedS3UnavailableError };
void contract;
