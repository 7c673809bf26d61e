import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageOptions } from './client';

/** What every storage operation works with: the one client, the bucket and the options. */
export interface StorageContext {
  readonly client: S3Client;
  readonly bucket: string;
  readonly options: StorageOptions;
}
