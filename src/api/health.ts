import type { AppServices } from '../app';

export interface Readiness {
  ready: boolean;
  checks: Record<'postgres' | 'redis' | 's3', { ok: boolean; error?: string }>;
}

async function check(fn: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What an anonymous caller (a load balancer, anyone) sees: which dependency
 * is down, never the error itself, which may name hosts, users or buckets.
 * The operator (OPS_TOKEN) gets the details; the log has them too.
 */
export function publicReadiness(report: Readiness): Readiness {
  const strip = ({ ok }: { ok: boolean; error?: string }) => ({ ok });
  return { ready: report.ready, checks: { postgres: strip(report.checks.postgres), redis: strip(report.checks.redis), s3: strip(report.checks.s3) } };
}

/** PostgreSQL, Redis and S3 reachable, each one named when it is not. */
export async function checkReadiness(services: AppServices): Promise<Readiness> {
  const [postgres, redis, s3] = await Promise.all([
    check(() => services.dataSource.query('SELECT 1')),
    check(() => services.redis.queue.ping()),
    check(() => services.storage.ping()),
  ]);
  return { ready: postgres.ok && redis.ok && s3.ok, checks: { postgres, redis, s3 } };
}
