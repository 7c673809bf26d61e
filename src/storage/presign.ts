import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { StorageContext } from './context';
import { contentDisposition } from './keys';

/**
 * A GET URL valid for `ttlSeconds` (1 s .. 7 days). With `fileName`, the
 * response's Content-Disposition is overridden with that name.
 * `expiresAt` is exact: signing time (whole seconds) + ttl.
 */
export async function presign({ client, bucket }: StorageContext, key: string, ttlSeconds: number, fileName?: string): Promise<{ url: string; expiresAt: Date }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 604800) {
    throw new RangeError(`Presigned URL lifetime must be 1..604800 seconds (got ${ttlSeconds})`);
  }
  const url = await getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: bucket,
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
