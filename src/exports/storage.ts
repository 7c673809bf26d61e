/**
 * Export files in S3-compatible storage (AWS S3, MinIO, the embedded s3rver).
 * The only module that imports the AWS SDK (DESIGN §2).
 *
 * Objects live under `exports/<tenantId>/<exportId>/<fileName>` (DESIGN §5)
 * with a `Content-Disposition: attachment` carrying the file name, and are
 * downloaded through presigned GET URLs.
 */
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config';
import type { Logger } from '../logger';

const MiB = 1024 * 1024;

export interface StorageOptions {
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** SDK attempts per request (the BullMQ job retries on top). Default 2. */
  maxAttempts?: number;
  /** TCP connect timeout. Default 3000 ms. */
  connectionTimeoutMs?: number;
  /** A socket idle this long (no byte either way) fails the request. Default 10000 ms. */
  socketTimeoutMs?: number;
  /** Hard cap on one request (one part upload included). Default 120000 ms. */
  requestTimeoutMs?: number;
  /** Cap on ping() (readiness probes). Default 3000 ms. */
  pingTimeoutMs?: number;
  /** Cap on the best-effort cleanup after a failed upload. Default 10000 ms. */
  cleanupTimeoutMs?: number;
  /** Multipart part size, ≥ 5 MiB (S3's minimum). Default 5 MiB: the parts in flight are most of an export's memory. */
  partSize?: number;
  /** Parts uploaded concurrently. Default 2. */
  queueSize?: number;
  logger?: Logger;
}

export type StorageConfig = Pick<
  Config,
  's3Endpoint' | 's3Bucket' | 's3Region' | 's3AccessKeyId' | 's3SecretAccessKey' | 's3ForcePathStyle'
>;

export function storageOptionsFromConfig(config: StorageConfig, extra: Partial<StorageOptions> = {}): StorageOptions {
  return {
    endpoint: config.s3Endpoint,
    bucket: config.s3Bucket,
    region: config.s3Region,
    accessKeyId: config.s3AccessKeyId,
    secretAccessKey: config.s3SecretAccessKey,
    forcePathStyle: config.s3ForcePathStyle,
    ...extra,
  };
}

export interface UploadOptions {
  contentType: string;
  /** Download name for Content-Disposition (any Unicode; encoded per RFC 6266/5987). */
  fileName: string;
  /** Aborting stops the upload and removes everything it stored; the promise rejects with the abort reason. */
  signal?: AbortSignal;
}

export interface StoredObject {
  size: number;
  contentType?: string;
  contentDisposition?: string;
  lastModified?: Date;
}

export interface MultipartUploadInfo {
  key: string;
  uploadId: string;
  initiated?: Date;
}

// ---------------------------------------------------------------------------
// Keys and headers
// ---------------------------------------------------------------------------

function keySegment(what: string, value: string): string {
  if (!value || value === '.' || value === '..' || value.includes('/') || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new Error(`Invalid ${what} for a storage key: ${JSON.stringify(value)}`);
  }
  return value;
}

/** `exports/<tenantId>/<exportId>/` — the folder of one export (for deletePrefix / abortMultipartUploads). */
export function exportPrefix(tenantId: string, exportId: string): string {
  return `exports/${keySegment('tenant id', tenantId)}/${keySegment('export id', exportId)}/`;
}

/**
 * `exports/<tenantId>/<exportId>/<fileName>` (DESIGN §5); with an attempt,
 * `exports/<tenantId>/<exportId>/<attempt>/<fileName>`: each attempt writes
 * its own object, so that an attempt that lost its lease can never
 * overwrite or delete the file of the attempt that won.
 */
export function objectKey(tenantId: string, exportId: string, fileName: string, attempt?: number): string {
  const folder = attempt === undefined ? '' : `${keySegment('attempt', String(attempt))}/`;
  return `${exportPrefix(tenantId, exportId)}${folder}${keySegment('file name', fileName)}`;
}

/** RFC 5987 attr-char: encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>`
 * (RFC 6266 §4.3): modern browsers use filename*, old ones the ASCII fallback
 * (accents stripped, anything else non-ASCII or quote-breaking → `_`).
 * The header value itself is pure ASCII, as HTTP requires.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(fileName)}`;
}

// ---------------------------------------------------------------------------
// Error classification
// ---------------------------------------------------------------------------

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
  'TransactionInProgressException',
  'OperationAborted', // S3 409: a conflicting operation is in progress, try again
  'RequestTimeTooSkewed', // the SDK corrects its clock offset on the next attempt
  'XMinioServerNotInitialized',
]);

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND', // DNS not (yet) resolvable, e.g. a service that is starting
  'EAI_AGAIN',
  'ERR_HTTP2_STREAM_ERROR',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Whether retrying later may succeed: network failures, timeouts, throttling,
 * 5xx → true. Refusals that a retry cannot change (AccessDenied,
 * InvalidAccessKeyId, SignatureDoesNotMatch, NoSuchBucket, other 4xx, 501),
 * programming errors, and aborts (AbortError: the caller cancelled) → false.
 */
export function isTransientStorageError(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'AbortError') {
    // An abort that wraps a timeout (AbortSignal.timeout) is a timeout.
    return e.cause !== undefined && isTransientStorageError(e.cause, depth + 1);
  }
  if (TRANSIENT_NAMES.has(name)) return true;
  if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || e.code.startsWith('UND_ERR_'))) return true;
  if (e.$retryable !== undefined && e.$retryable !== null) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    if (status === 408 || status === 429) return true;
    if (status >= 500 && status !== 501 && status !== 505) return true;
    return false;
  }
  // The SDK wraps what is not an `instanceof Error` of its own realm (e.g.
  // under Jest's VM sandbox) as "AWS SDK error wrapper for Error: connect
  // ECONNREFUSED …", dropping `code`: read the code from the message then.
  const message = typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
  if (message.startsWith('AWS SDK error wrapper for ')) {
    const codes = message.match(/\b(?:E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/g) ?? [];
    if (codes.some((c) => TRANSIENT_CODES.has(c) || c.startsWith('UND_ERR_'))) return true;
    if (/\b(?:TimeoutError|socket hang up)\b/.test(message)) return true;
  }
  return e.cause !== undefined && isTransientStorageError(e.cause, depth + 1);
}

function errorName(err: unknown): string | undefined {
  return err && typeof err === 'object' && typeof (err as ErrorLike).name === 'string'
    ? ((err as ErrorLike).name as string)
    : undefined;
}

function httpStatus(err: unknown): number | undefined {
  return (err as ErrorLike | undefined)?.$metadata?.httpStatusCode;
}

function isErrorLike(value: unknown): value is Error {
  // Not `instanceof Error`: DOMException / errors of another realm (Jest's VM) fail it.
  return (
    value instanceof Error ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as Error).name === 'string' &&
      typeof (value as Error).message === 'string')
  );
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (isErrorLike(reason)) return reason;
  const err = new Error(reason === undefined ? 'Upload aborted' : String(reason));
  err.name = 'AbortError';
  return err;
}

// ---------------------------------------------------------------------------
// The storage
// ---------------------------------------------------------------------------

export class ExportStorage {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly options: StorageOptions;
  private readonly partSize: number;
  private readonly queueSize: number;

  constructor(options: StorageOptions | StorageConfig) {
    const o: StorageOptions = 's3Bucket' in options ? storageOptionsFromConfig(options) : options;
    this.options = o;
    this.bucket = o.bucket;
    this.partSize = Math.max(5 * MiB, o.partSize ?? 5 * MiB);
    this.queueSize = Math.max(1, o.queueSize ?? 2);
    this.client = new S3Client({
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      region: o.region,
      forcePathStyle: o.forcePathStyle,
      credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
      // The SDK's default (WHEN_SUPPORTED) sends streamed bodies aws-chunked
      // with trailing checksums; s3rver stores that framing inside the object
      // (STACK.md). Only compute / validate checksums where S3 demands them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // The BullMQ job retries with backoff; the SDK only smooths over blips.
      maxAttempts: o.maxAttempts ?? 2,
      // Options for the SDK's own NodeHttpHandler (no @smithy import needed).
      // A dead endpoint fails at connect (refused at once, or connectionTimeout);
      // a hung one by socketTimeout (idle socket); requestTimeout caps a request.
      requestHandler: {
        connectionTimeout: o.connectionTimeoutMs ?? 3000,
        socketTimeout: o.socketTimeoutMs ?? 10000,
        requestTimeout: o.requestTimeoutMs ?? 120000,
        throwOnRequestTimeout: true,
      },
    });
  }

  static fromConfig(config: StorageConfig, extra: Partial<StorageOptions> = {}): ExportStorage {
    return new ExportStorage(storageOptionsFromConfig(config, extra));
  }

  objectKey(tenantId: string, exportId: string, fileName: string, attempt?: number): string {
    return objectKey(tenantId, exportId, fileName, attempt);
  }

  exportPrefix(tenantId: string, exportId: string): string {
    return exportPrefix(tenantId, exportId);
  }

  /** Readiness: the bucket answers (HeadBucket), within pingTimeoutMs. */
  async ping(): Promise<void> {
    const ms = this.options.pingTimeoutMs ?? 3000;
    const signal = AbortSignal.timeout(ms);
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
    } catch (err) {
      if (signal.aborted && errorName(err) === 'AbortError') {
        throw Object.assign(new Error(`Storage did not answer within ${ms} ms (${this.options.endpoint ?? 'AWS'})`), {
          name: 'TimeoutError',
          code: 'ETIMEDOUT',
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * Creates the bucket if it does not exist. Safe when several processes start
   * at once: a creation that loses the race is fine if the bucket then exists.
   * Resolves true when this call created it.
   */
  async ensureBucket(): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return false;
    } catch (err) {
      if (httpStatus(err) !== 404 && errorName(err) !== 'NotFound' && errorName(err) !== 'NoSuchBucket') throw err;
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          ...(this.options.region && this.options.region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: this.options.region as BucketLocationConstraint } }
            : {}),
        }),
      );
      return true;
    } catch (err) {
      // BucketAlreadyOwnedByYou / BucketAlreadyExists (s3rver) / a concurrent creation:
      // fine if the bucket is now there and ours to use.
      try {
        await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
        return false;
      } catch {
        throw err;
      }
    }
  }

  /**
   * Streams `body` into `key` (multipart above one part, a single PUT below)
   * and resolves with the number of bytes stored.
   *
   * Memory and backpressure: lib-storage pulls `body` through an async
   * iterator, cutting it into `partSize` buffers; each of the `queueSize`
   * uploaders awaits its UploadPart before pulling the next part, so nothing
   * is read while all uploaders are busy. The producer is then held back by
   * ordinary stream backpressure (the counting Transform's and the body's
   * highWaterMarks, 16 KiB each by default), so a slow store slows the
   * producer, and memory stays below about (queueSize + 1) × partSize
   * (+ one transient Buffer.concat copy of the part being cut) — ~24–32 MiB
   * with the defaults, whatever the file size.
   *
   * Failure: if `body` errors, the signal aborts or storage fails, the
   * promise rejects (with the body's error, the abort reason, or the storage
   * error) only after the cleanup ran: in-flight part uploads are cut (on
   * abort), the multipart upload is aborted (AbortMultipartUpload, so no part
   * remains), any object that a PUT/Complete may have created is deleted, and
   * `body` is destroyed so that the producer stops (without an error, so that
   * an unlistened 'error' event cannot crash the process: a producer's
   * `pipeline()` sees ERR_STREAM_PREMATURE_CLOSE). Cleanup failures are
   * logged, never substituted for the original error.
   *
   * Why not `upload.abort()`: lib-storage's done() then rejects at once,
   * while its in-flight UploadPart requests still run and its
   * AbortMultipartUpload is sent in the background — the caller could not
   * know when the parts are gone, and a part landing after the abort would
   * survive it. Failing the body instead makes lib-storage settle every
   * uploader before done() rejects; in-flight requests of an aborted upload
   * are cut through a per-upload AbortSignal.
   */
  async uploadStream(key: string, body: Readable, options: UploadOptions): Promise<{ size: number }> {
    const { signal } = options;
    if (signal?.aborted) {
      body.destroy(); // no error event: the caller may not listen; its pipeline sees a premature close
      throw abortReason(signal);
    }

    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
        size += chunk.length;
        callback(null, chunk);
      },
    });
    // A body error (or premature close) reaches lib-storage through `counter`;
    // if lib-storage stops reading (it destroys `counter`), `body` is
    // destroyed too, so the producer learns that nobody reads any more.
    pipeline(body, counter, () => undefined);

    // Cut requests that carry data when the upload is aborted. Metadata calls
    // (Create/Complete/Abort) are left to finish so that lib-storage knows the
    // upload id and what exists.
    const inflight = new AbortController();
    let objectMayExist = false;
    const client = this.client;
    const scoped = Object.create(client) as S3Client;
    scoped.send = ((command: unknown, opts?: Record<string, unknown>) => {
      if (command instanceof PutObjectCommand || command instanceof CompleteMultipartUploadCommand) {
        objectMayExist = true;
      }
      const cut = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
      return (client.send as (c: unknown, o?: unknown) => Promise<unknown>).call(
        client,
        command,
        cut ? { ...(opts ?? {}), abortSignal: inflight.signal } : opts,
      );
    }) as S3Client['send'];

    const upload = new Upload({
      client: scoped,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counter,
        ContentType: options.contentType,
        ContentDisposition: contentDisposition(options.fileName),
      },
      partSize: this.partSize,
      queueSize: this.queueSize,
      // We abort the multipart upload ourselves, after every uploader settled,
      // and keep the original error (lib-storage would replace it with the
      // AbortMultipartUpload error if that failed).
      leavePartsOnError: true,
    });

    const onAbort = () => {
      const reason = abortReason(signal!);
      inflight.abort(reason);
      counter.destroy(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    let failure: unknown;
    try {
      await upload.done();
      if (signal?.aborted) failure = abortReason(signal); // aborted while completing: undo
    } catch (err) {
      failure = signal?.aborted ? abortReason(signal) : err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (failure === undefined) return { size };

    if (!body.destroyed) body.destroy(); // (usually done already by the pipeline) the producer must stop
    await this.cleanupFailedUpload(key, upload.uploadId, objectMayExist);
    throw failure;
  }

  private async cleanupFailedUpload(key: string, uploadId: string | undefined, objectMayExist: boolean): Promise<void> {
    const signal = AbortSignal.timeout(this.options.cleanupTimeoutMs ?? 10000);
    const log = this.options.logger;
    if (uploadId) {
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), {
          abortSignal: signal,
        });
      } catch (err) {
        if (errorName(err) !== 'NoSuchUpload') {
          log?.warn({ err, key, uploadId }, 'could not abort the multipart upload of a failed export upload');
        }
      }
    }
    if (objectMayExist) {
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      } catch (err) {
        log?.warn({ err, key }, 'could not delete the object of a failed export upload');
      }
    }
  }

  /**
   * A GET URL valid for `ttlSeconds` (1 s .. 7 days). With `fileName`, the
   * response's Content-Disposition is overridden with that name.
   * `expiresAt` is exact: signing time (whole seconds) + ttl.
   */
  async presign(key: string, ttlSeconds: number, fileName?: string): Promise<{ url: string; expiresAt: Date }> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 604800) {
      throw new RangeError(`Presigned URL lifetime must be 1..604800 seconds (got ${ttlSeconds})`);
    }
    const url = await getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ...(fileName ? { ResponseContentDisposition: contentDisposition(fileName) } : {}),
      }),
      { expiresIn: ttlSeconds },
    );
    const amzDate = new URL(url).searchParams.get('X-Amz-Date');
    const m = amzDate && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    const signedAt = m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Date.now();
    return { url, expiresAt: new Date(signedAt + ttlSeconds * 1000) };
  }

  /** Size and headers of an object, or null if it does not exist. */
  async head(key: string): Promise<StoredObject | null> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: res.ContentLength ?? 0,
        contentType: res.ContentType,
        contentDisposition: res.ContentDisposition,
        lastModified: res.LastModified,
      };
    } catch (err) {
      if (httpStatus(err) === 404 && errorName(err) !== 'NoSuchBucket') return null;
      throw err;
    }
  }

  /** Deletes one object; a missing object is not an error. */
  async deleteObject(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (errorName(err) === 'NoSuchKey') return;
      throw err;
    }
  }

  /** Every key under `prefix` (paginated listing), sorted. */
  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  /**
   * Deletes every object under `prefix` (e.g. an export's folder) and aborts
   * the multipart uploads in progress there. Resolves with the number of
   * objects deleted. An empty prefix is refused (it would empty the bucket).
   * `keep`: a key to leave (a completed export's file, among what its
   * superseded attempts left).
   */
  async deletePrefix(prefix: string, opts: { keep?: string } = {}): Promise<number> {
    if (!prefix) throw new Error('deletePrefix needs a non-empty prefix');
    let deleted = 0;
    const keys = (await this.listKeys(prefix)).filter((k) => k !== opts.keep);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const errors = (res.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (errors.length) {
        const first = errors[0];
        throw Object.assign(new Error(`Could not delete ${errors.length} object(s) under ${prefix}: ${first.Code} ${first.Message ?? ''}`), {
          name: first.Code ?? 'DeleteObjectsError',
        });
      }
      deleted += batch.length;
    }
    try {
      await this.abortMultipartUploads(prefix);
    } catch (err) {
      // e.g. no s3:ListBucketMultipartUploads permission: the objects are gone,
      // which is what callers rely on; a bucket lifecycle rule covers the rest.
      this.options.logger?.warn({ err, prefix }, 'could not abort the multipart uploads in progress under a deleted prefix');
    }
    return deleted;
  }

  /**
   * Multipart uploads in progress under `prefix` (AWS, MinIO; s3rver through
   * the embedded server's shim). A store that does not implement the call
   * (plain s3rver: 501) yields [].
   */
  async listMultipartUploads(prefix: string): Promise<MultipartUploadInfo[]> {
    const uploads: MultipartUploadInfo[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      do {
        const res = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const u of res.Uploads ?? []) {
          if (u.Key && u.UploadId) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated });
        }
        keyMarker = res.IsTruncated ? res.NextKeyMarker : undefined;
        uploadIdMarker = res.IsTruncated ? res.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      if (errorName(err) === 'NotImplemented' || httpStatus(err) === 501) return [];
      throw err;
    }
    return uploads;
  }

  /**
   * Aborts every multipart upload in progress under `prefix` — e.g. the one a
   * killed worker left behind, before another worker redoes the export.
   * Resolves with the number aborted.
   */
  async abortMultipartUploads(prefix: string, opts: { initiatedBefore?: Date } = {}): Promise<number> {
    let aborted = 0;
    for (const u of await this.listMultipartUploads(prefix)) {
      if (opts.initiatedBefore && (!u.initiated || u.initiated >= opts.initiatedBefore)) continue;
      try {
        await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.key, UploadId: u.uploadId }));
        aborted += 1;
      } catch (err) {
        if (errorName(err) !== 'NoSuchUpload') throw err;
      }
    }
    return aborted;
  }

  /** Closes the HTTP connections (keep-alive sockets). */
  destroy(): void {
    this.client.destroy();
  }
}

/** `createStorage({ endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle })`. */
export function createStorage(options: StorageOptions | StorageConfig): ExportStorage {
  return new ExportStorage(options);
}
