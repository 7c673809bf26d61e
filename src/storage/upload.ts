import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../logger';
import { abortReason, errorName } from './errors';
import { contentDisposition } from './keys';

const MiB = 1024 * 1024;

export interface UploadOptions {
  contentType: string;
  /** Download name for Content-Disposition (any Unicode; encoded per RFC 6266/5987). */
  fileName: string;
  /** Aborting stops the upload and removes everything it stored; the promise rejects with the abort reason. */
  signal?: AbortSignal;
}

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  /** ≥ 5 MiB (S3's minimum part). */
  partSize?: number;
  /** Parts in flight at once. */
  queueSize?: number;
  cleanupTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Streams `body` into `key` — a single PUT when it ends within one part, a
 * multipart upload otherwise — and resolves with the bytes stored. S3's
 * public API only: each request is sent with the upload's own AbortSignal,
 * so nothing needs a patched client or a library's internals.
 *
 * Memory and backpressure: `body` is read one part at a time; while
 * `queueSize` parts are in flight nothing more is read, so the producer is
 * held back by ordinary stream backpressure and memory stays below about
 * (queueSize + 1) × partSize (+ the copy of the part being cut) — ~15–20 MiB
 * with the defaults, whatever the file size.
 *
 * Failure: if `body` errors, the signal aborts or storage fails, the promise
 * rejects (with the body's error, the abort reason, or the first storage
 * error) only after the cleanup ran: requests carrying data are cut, every
 * part request has settled, the multipart upload is aborted (so no part
 * remains), an object a PUT or Complete may have created is deleted, and
 * `body` is destroyed (without an error, so that an unlistened 'error'
 * cannot crash the process: a producer's `pipeline()` sees a premature
 * close). Cleanup failures are logged, never substituted for the error.
 */
export async function uploadStream(target: UploadTarget, key: string, body: Readable, options: UploadOptions): Promise<{ size: number }> {
  const { signal } = options;
  if (signal?.aborted) {
    body.destroy();
    throw abortReason(signal);
  }
  const { client, bucket } = target;
  const partSize = Math.max(5 * MiB, target.partSize ?? 5 * MiB);
  const queueSize = Math.max(1, target.queueSize ?? 2);
  const object = { Bucket: bucket, Key: key };
  const headers = { ContentType: options.contentType, ContentDisposition: contentDisposition(options.fileName) };

  // Cuts the requests that carry data; metadata calls (Create, Complete) finish, so that we know what exists.
  const inflight = new AbortController();
  let failure: { error: unknown } | null = null;
  const fail = (error: unknown) => {
    failure ??= { error };
    inflight.abort(error);
    body.destroy();
  };
  const onAbort = () => fail(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });

  let size = 0;
  let uploadId: string | undefined;
  let objectMayExist = false;
  const parts: CompletedPart[] = [];
  const running = new Set<Promise<void>>();

  const sendPart = async (data: Buffer): Promise<void> => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand({ ...object, ...headers }))).UploadId;
    if (failure) return;
    const PartNumber = parts.length + 1;
    parts.push({ PartNumber });
    const done = client
      .send(new UploadPartCommand({ ...object, UploadId: uploadId, PartNumber, Body: data, ContentLength: data.length }), { abortSignal: inflight.signal })
      .then((res) => void (parts[PartNumber - 1].ETag = res.ETag), fail)
      .finally(() => running.delete(done));
    running.add(done);
    while (running.size >= queueSize && !failure) await Promise.race(running);
  };

  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const chunk of body) {
      if (failure) break;
      const buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += buf.length;
      pending.push(buf);
      pendingBytes += buf.length;
      if (pendingBytes >= partSize) {
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await sendPart(data);
      }
    }
    if (!failure) {
      const rest = Buffer.concat(pending, pendingBytes);
      if (parts.length === 0) {
        objectMayExist = true;
        await client.send(new PutObjectCommand({ ...object, ...headers, Body: rest, ContentLength: rest.length }), { abortSignal: inflight.signal });
      } else {
        if (rest.length) await sendPart(rest);
        await Promise.all(running);
        if (!failure) {
          objectMayExist = true;
          await client.send(new CompleteMultipartUploadCommand({ ...object, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
        }
      }
    }
  } catch (err) {
    fail(err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  await Promise.all(running);
  if (signal?.aborted) fail(abortReason(signal)); // aborted while completing: undo
  if (!failure) return { size };

  await cleanup(target, key, uploadId, objectMayExist);
  // An abort wins over the errors it caused (cut requests, the body's premature close).
  throw signal?.aborted ? abortReason(signal) : (failure as { error: unknown }).error;
}

async function cleanup(target: UploadTarget, key: string, uploadId: string | undefined, objectMayExist: boolean): Promise<void> {
  const signal = AbortSignal.timeout(target.cleanupTimeoutMs ?? 10000);
  const log = target.logger;
  const object = { Bucket: target.bucket, Key: key };
  if (uploadId) {
    try {
      await target.client.send(new AbortMultipartUploadCommand({ ...object, UploadId: uploadId }), { abortSignal: signal });
    } catch (err) {
      if (errorName(err) !== 'NoSuchUpload') log?.warn({ err, key, uploadId }, 'could not abort the multipart upload of a failed export upload');
    }
  }
  if (objectMayExist) {
    try {
      await target.client.send(new DeleteObjectCommand(object), { abortSignal: signal });
    } catch (err) {
      log?.warn({ err, key }, 'could not delete the object of a failed export upload');
    }
  }
}
