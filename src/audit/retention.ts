import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { returning } from '../db/sql';

const BATCH = 5000;

/**
 * Deletes audit events older than AUDIT_RETENTION_DAYS, in batches: the only
 * DELETE the table allows (its trigger wants `audit.retention_sweep` set in
 * the transaction, and rows older than a day). Run by the worker's sweep timer.
 */
export async function sweepAuditEvents(ds: DataSource, retentionDays: number, logger?: Logger): Promise<number> {
  let deleted = 0;
  for (;;) {
    const rows = await ds.transaction(async (tx) => {
      await tx.query(`SELECT set_config('audit.retention_sweep', 'on', true)`);
      return returning(tx,
        `DELETE FROM audit_events WHERE id IN (
           SELECT id FROM audit_events WHERE at < now() - make_interval(days => $1) ORDER BY at LIMIT $2
         ) RETURNING id`,
        [retentionDays, BATCH],
      );
    });
    deleted += rows.length;
    if (rows.length < BATCH) break;
  }
  if (deleted) logger?.info({ deleted, retentionDays }, 'Audit events past their retention deleted');
  return deleted;
}
