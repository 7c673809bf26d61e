import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL is the truth of every export; Redis only delivers jobs.
 *
 * - `lease_token` / `lease_expires_at`: the attempt holding a RUNNING export.
 *   Every write of an attempt is conditional on its token, so an attempt
 *   that was paused past its lease and taken over can change nothing.
 * - `enqueued_at`: the outbox. NULL on a QUEUED export means "no job in Redis
 *   yet" (Redis was down, the tenant is at its concurrency, a retry waits for
 *   `not_before`); the dispatcher enqueues it when it may run.
 * - `expected_rows`: the size counted at request time, for small-first order.
 * - `waiting_reason`: what a QUEUED export waits for, shown to the user.
 * - `files_cleaned_at`: the sweep has removed whatever an unfinished attempt
 *   may have left under the export's prefix.
 * - `queue_prefix`: the QUEUE_PREFIX of the deployment that recorded it, so
 *   that deployments (or test runs) sharing one database dispatch, reconcile
 *   and sweep only their own exports. NULL (a row written by another tool):
 *   any deployment's.
 */
export class AttemptLeases1764300000000 implements MigrationInterface {
  name = 'AttemptLeases1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE invoice_exports
        ADD COLUMN lease_token uuid NULL,
        ADD COLUMN lease_expires_at timestamptz NULL,
        ADD COLUMN enqueued_at timestamptz NULL,
        ADD COLUMN not_before timestamptz NULL,
        ADD COLUMN expected_rows integer NULL,
        ADD COLUMN waiting_reason text NULL,
        ADD COLUMN files_cleaned_at timestamptz NULL,
        ADD COLUMN queue_prefix text NULL`);
    // Exports already in Redis before this migration keep their job.
    await q.query(`UPDATE invoice_exports SET enqueued_at = created_at WHERE status IN ('QUEUED', 'RUNNING')`);
    await q.query(`UPDATE invoice_exports SET files_cleaned_at = now() WHERE status NOT IN ('QUEUED', 'RUNNING')`);
    // The dispatcher, the admission check and the reconciler read only active exports.
    await q.query(`CREATE INDEX invoice_exports_active_idx ON invoice_exports (tenant_id, created_at) WHERE status IN ('QUEUED', 'RUNNING')`);
    await q.query(`CREATE INDEX invoice_exports_unswept_idx ON invoice_exports (completed_at) WHERE files_cleaned_at IS NULL AND status NOT IN ('QUEUED', 'RUNNING')`);
    // Counters of rare events (takeovers, retries, reconciler actions) shared by every process, for /metrics.
    await q.query(`CREATE TABLE service_counters (name text NOT NULL, label text NOT NULL DEFAULT '', value bigint NOT NULL DEFAULT 0, PRIMARY KEY (name, label))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE service_counters`);
    await q.query(`DROP INDEX invoice_exports_unswept_idx`);
    await q.query(`DROP INDEX invoice_exports_active_idx`);
    await q.query(`
      ALTER TABLE invoice_exports
        DROP COLUMN lease_token, DROP COLUMN lease_expires_at, DROP COLUMN enqueued_at, DROP COLUMN not_before,
        DROP COLUMN expected_rows, DROP COLUMN waiting_reason, DROP COLUMN files_cleaned_at,
        DROP COLUMN queue_prefix`);
  }
}
