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
