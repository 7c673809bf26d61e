import { CreateBucketCommand, HeadBucketCommand, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import type { StorageContext } from './context';
import { errorName, httpStatus } from './errors';

/** The bucket itself: readiness, and its creation at start-up. */

/** Readiness: the bucket answers (HeadBucket), within pingTimeoutMs. */
export async function ping(ctx: StorageContext): Promise<void> {
  const ms = ctx.options.pingTimeoutMs ?? 3000;
  const signal = AbortSignal.timeout(ms);
  try {
    await ctx.client.send(new HeadBucketCommand({ Bucket: ctx.bucket }), { abortSignal: signal });
  } catch (err) {
    if (signal.aborted && errorName(err) === 'AbortError') {
      throw Object.assign(new Error(`Storage did not answer within ${ms} ms (${ctx.options.endpoint ?? 'AWS'})`), {
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
export async function ensureBucket(ctx: StorageContext): Promise<boolean> {
  try {
    await ctx.client.send(new HeadBucketCommand({ Bucket: ctx.bucket }));
    return false;
  } catch (err) {
    if (httpStatus(err) !== 404 && errorName(err) !== 'NotFound' && errorName(err) !== 'NoSuchBucket') throw err;
  }
  try {
    await ctx.client.send(
      new CreateBucketCommand({
        Bucket: ctx.bucket,
        ...(ctx.options.region && ctx.options.region !== 'us-east-1'
          ? { CreateBucketConfiguration: { LocationConstraint: ctx.options.region as BucketLocationConstraint } }
          : {}),
      }),
    );
    return true;
  } catch (err) {
    // BucketAlreadyOwnedByYou / BucketAlreadyExists (s3rver) / a concurrent creation:
    // fine if the bucket is now there and ours to use.
    try {
      await ctx.client.send(new HeadBucketCommand({ Bucket: ctx.bucket }));
      return false;
    } catch {
      throw err;
    }
  }
}
