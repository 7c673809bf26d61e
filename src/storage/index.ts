import type { Readable } from 'node:stream';
import { ensureBucket, ping } from './bucket';
import { createS3Client, type StorageOptions } from './client';
import type { StorageContext } from './context';
import { exportPrefix, objectKey } from './keys';
import { abortMultipartUploads, deleteObject, deletePrefix, head, listKeys, listMultipartUploads, type MultipartUploadInfo, type StoredObject } from './objects';
import { presign } from './presign';
import { uploadStream, type UploadOptions } from './upload';

/**
 * Export files in S3-compatible storage (AWS S3, MinIO, the embedded s3rver
 * of dev/): a basic repository over one S3 client. Each capability is a
 * small module of this folder — the client (client.ts), keys and names
 * (keys.ts), the streamed upload (upload.ts), presigning (presign.ts),
 * objects and deletion (objects.ts), the bucket (bucket.ts) and which
 * failures are transient (errors.ts); nothing else in src/ imports the AWS SDK.
 */
export class ExportStorage {
  readonly bucket: string;
  private readonly ctx: StorageContext;

  /** `new ExportStorage(storageOptionsFromConfig(config, { logger }))`. */
  constructor(options: StorageOptions) {
    this.bucket = options.bucket;
    this.ctx = { client: createS3Client(options), bucket: options.bucket, options };
  }

  objectKey(tenantId: string, exportId: string, fileName: string, attempt?: number): string {
    return objectKey(tenantId, exportId, fileName, attempt);
  }

  exportPrefix(tenantId: string, exportId: string): string {
    return exportPrefix(tenantId, exportId);
  }

  /** Readiness: the bucket answers (HeadBucket), within pingTimeoutMs. */
  ping(): Promise<void> {
    return ping(this.ctx);
  }

  /** Creates the bucket if missing (safe when processes race); true when this call created it. */
  ensureBucket(): Promise<boolean> {
    return ensureBucket(this.ctx);
  }

  /** Streams `body` into `key`; resolves with the bytes stored (upload.ts says how it fails and cleans up). */
  uploadStream(key: string, body: Readable, options: UploadOptions): Promise<{ size: number }> {
    const { client, bucket, options: o } = this.ctx;
    return uploadStream({ client, bucket, partSize: o.partSize, queueSize: o.queueSize, cleanupTimeoutMs: o.cleanupTimeoutMs, logger: o.logger }, key, body, options);
  }

  /** A GET URL valid for `ttlSeconds`, downloading as `fileName` when given; `expiresAt` exact. */
  presign(key: string, ttlSeconds: number, fileName?: string): Promise<{ url: string; expiresAt: Date }> {
    return presign(this.ctx, key, ttlSeconds, fileName);
  }

  head(key: string): Promise<StoredObject | null> {
    return head(this.ctx, key);
  }

  deleteObject(key: string): Promise<void> {
    return deleteObject(this.ctx, key);
  }

  listKeys(prefix: string): Promise<string[]> {
    return listKeys(this.ctx, prefix);
  }

  deletePrefix(prefix: string, opts: { keep?: string } = {}): Promise<number> {
    return deletePrefix(this.ctx, prefix, opts);
  }

  listMultipartUploads(prefix: string): Promise<MultipartUploadInfo[]> {
    return listMultipartUploads(this.ctx, prefix);
  }

  abortMultipartUploads(prefix: string, opts: { initiatedBefore?: Date } = {}): Promise<number> {
    return abortMultipartUploads(this.ctx, prefix, opts);
  }

  /** Closes the HTTP connections (keep-alive sockets). */
  destroy(): void {
    this.ctx.client.destroy();
  }
}

export { storageOptionsFromConfig, type StorageConfig, type StorageOptions } from './client';
export { isTransientStorageError } from './errors';
export { contentDisposition, exportPrefix, objectKey } from './keys';
export type { MultipartUploadInfo, StoredObject } from './objects';
export type { UploadOptions } from './upload';
