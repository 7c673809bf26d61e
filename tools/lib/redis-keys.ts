import IORedis from 'ioredis';

/**
 * Deletes every key under the given queue prefixes (`<prefix>:*`, SCAN then
 * DEL, never FLUSH: the Redis is shared) — what a bench or chaos run leaves
 * of its own BullMQ queues. Failures are reported through `log`, not thrown:
 * this runs in teardowns.
 */
export async function removeQueueKeys(redisUrl: string, prefixes: readonly string[], log: (msg: string) => void): Promise<void> {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } catch (err) {
    log(`could not remove the queue keys ${prefixes.map((p) => `${p}:*`).join(', ')}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
