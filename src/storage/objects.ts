import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import type { StorageContext } from './context';
import { errorName, httpStatus } from './errors';

/** Reading, listing and deleting the objects of a bucket (and the multipart uploads left in it). */

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

/** Size and headers of an object, or null if it does not exist. */
export async function head(ctx: StorageContext, key: string): Promise<StoredObject | null> {
  try {
    const res = await ctx.client.send(new HeadObjectCommand({ Bucket: ctx.bucket, Key: key }));
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
export async function deleteObject(ctx: StorageContext, key: string): Promise<void> {
  try {
    await ctx.client.send(new DeleteObjectCommand({ Bucket: ctx.bucket, Key: key }));
  } catch (err) {
    if (errorName(err) === 'NoSuchKey') return;
    throw err;
  }
}

/** Every key under `prefix` (paginated listing), sorted. */
export async function listKeys(ctx: StorageContext, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await ctx.client.send(
      new ListObjectsV2Command({ Bucket: ctx.bucket, Prefix: prefix, ContinuationToken: token }),
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
export async function deletePrefix(ctx: StorageContext, prefix: string, opts: { keep?: string } = {}): Promise<number> {
  if (!prefix) throw new Error('deletePrefix needs a non-empty prefix');
  let deleted = 0;
  const keys = (await listKeys(ctx, prefix)).filter((k) => k !== opts.keep);
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    const res = await ctx.client.send(
      new DeleteObjectsCommand({
        Bucket: ctx.bucket,
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
    await abortMultipartUploads(ctx, prefix);
  } catch (err) {
    // e.g. no s3:ListBucketMultipartUploads permission: the objects are gone,
    // which is what callers rely on; a bucket lifecycle rule covers the rest.
    ctx.options.logger?.warn({ err, prefix }, 'could not abort the multipart uploads in progress under a deleted prefix');
  }
  return deleted;
}

/**
 * Multipart uploads in progress under `prefix` (AWS, MinIO; s3rver through
 * the embedded server's shim). A store that does not implement the call
 * (plain s3rver: 501) yields [].
 */
export async function listMultipartUploads(ctx: StorageContext, prefix: string): Promise<MultipartUploadInfo[]> {
  const uploads: MultipartUploadInfo[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  try {
    do {
      const res = await ctx.client.send(
        new ListMultipartUploadsCommand({
          Bucket: ctx.bucket,
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
export async function abortMultipartUploads(ctx: StorageContext, prefix: string, opts: { initiatedBefore?: Date } = {}): Promise<number> {
  let aborted = 0;
  for (const u of await listMultipartUploads(ctx, prefix)) {
    if (opts.initiatedBefore && (!u.initiated || u.initiated >= opts.initiatedBefore)) continue;
    try {
      await ctx.client.send(new AbortMultipartUploadCommand({ Bucket: ctx.bucket, Key: u.key, UploadId: u.uploadId }));
      aborted += 1;
    } catch (err) {
      if (errorName(err) !== 'NoSuchUpload') throw err;
    }
  }
  return aborted;
}
