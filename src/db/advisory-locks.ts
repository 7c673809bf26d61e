import type { DataSource } from 'typeorm';

/**
 * Every PostgreSQL advisory-lock key of the service, in one place, so that
 * two locks never share a number by accident. A key is one bigint, or a pair
 * (namespace, hashtext(x)) where the lock is per tenant or per deployment.
 * The development tools (seed, chaos) lock on hashtext('invoice-export:…')
 * keys of their own, outside these numbers.
 */
export const AdvisoryLock = {
  /** One process at a time applies migrations (session lock on a connection of its own). */
  MIGRATIONS: 7_240_118_311,
  /** (key, hashtext(tenant_id)): a tenant's running slots, taken when an attempt claims an export. */
  TENANT_SLOTS: 7_240_118,
  /** (key, hashtext(tenant_id)): a tenant's admissions, taken when an export is recorded. */
  TENANT_ADMISSION: 7_240_119,
  /** (key, hashtext(QUEUE_PREFIX)): one reconciler pass at a time per deployment. */
  RECONCILER: 7_240_120,
  /** (key, hashtext(QUEUE_PREFIX)): one storage sweep at a time per deployment. */
  SWEEP: 7_240_121,
  /** (key, hashtext(QUEUE_PREFIX)): one schedule runner pass at a time per deployment (docs/profiles.md). */
  SCHEDULES: 7_240_130,
} as const;

export type AdvisoryLockKey = (typeof AdvisoryLock)[keyof typeof AdvisoryLock];

/**
 * Runs `fn` if no other process holds `(key, hashtext(queuePrefix))` — one
 * pass of a periodic job per deployment — and returns its result, or
 * `undefined` when another process holds the lock. The lock belongs to a
 * transaction around `fn`: if this process stalls while holding it (SIGSTOP,
 * a long GC pause, CPU starvation), PostgreSQL ends the idle session after
 * `idleTimeoutMs`, and the lock with it, so that another process takes the
 * job over instead of waiting for the stalled one. A pass that overlaps
 * another must therefore be safe: every update it makes is conditional.
 */
export async function withDeploymentLock<T>(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  queuePrefix: string,
  idleTimeoutMs: number,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  try {
    await qr.startTransaction();
    await qr.query(`SELECT set_config('idle_in_transaction_session_timeout', $1, true)`, [`${Math.round(idleTimeoutMs)}ms`]);
    const [{ locked }] = await qr.query(`SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS locked`, [key, queuePrefix]);
    if (!locked) return undefined;
    return await fn();
  } finally {
    if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
    // Already released when its session ended (terminated, or idle past the timeout).
    await qr.release().catch(() => undefined);
  }
}
