import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config';
import type { Logger } from '../logger';

/** Where the export files are and how patient requests are. */
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

/** The one S3 client of a storage, configured for every store the service meets (AWS S3, MinIO, s3rver). */
export function createS3Client(o: StorageOptions): S3Client {
  return new S3Client({
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
