import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { returning } from '../db/sql';
import { ExportStatus } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import type { ExportEvents } from '../exports/events';
import { enqueueExport } from '../exports/queue';
import type { ExportStorage } from '../exports/storage';
import { ExportErrorCode } from './errors';

export interface CleanupDeps {
  dataSource: DataSource;
  queue: Queue;
  storage: ExportStorage;
  events: ExportEvents;
  logger: Logger;
}

export interface CleanupReport {
  expired: number;
  requeued: number;
  lost: number;
}

const BATCH = 200;
/** A QUEUED export with no job after this long lost its job (enqueue crashed half-way). */
const ORPHAN_AFTER_SECONDS = 60;

/**
 * The repeatable sweep: deletes the files of exports past their retention and
 * marks them EXPIRED; puts back in the queue an export whose job went missing;
 * fails a RUNNING export whose job is gone for good. No export is left waiting forever.
 */
export async function runCleanup(deps: CleanupDeps): Promise<CleanupReport> {
  const { dataSource: ds, storage, events, queue, logger } = deps;
  const report: CleanupReport = { expired: 0, requeued: 0, lost: 0 };
  const repo = ds.getRepository(InvoiceExport);

  for (;;) {
    const due = await repo
      .createQueryBuilder('e')
      .where(`e.status = 'COMPLETED' AND e.expires_at <= now()`)
      .orderBy('e.expires_at')
      .take(BATCH)
      .getMany();
    for (const e of due) {
      await storage.deletePrefix(storage.exportPrefix(e.tenantId, e.id));
      const [row] = await returning(ds, `UPDATE invoice_exports SET status = 'EXPIRED' WHERE id = $1 AND status = 'COMPLETED' RETURNING id`, [e.id]);
      if (row) {
        report.expired++;
        await events.publish(Object.assign(e, { status: ExportStatus.EXPIRED }));
      }
    }
    if (due.length < BATCH) break;
  }

  const waiting = await repo
    .createQueryBuilder('e')
    .where(`e.status IN ('QUEUED', 'RUNNING') AND e.created_at < now() - make_interval(secs => :age)`, { age: ORPHAN_AFTER_SECONDS })
    .take(1000)
    .getMany();
  for (const e of waiting) {
    const job = await queue.getJob(e.id);
    const state = job ? await job.getState() : 'missing';
    if (state === 'missing' && e.status === 'QUEUED') {
      await enqueueExport(queue, e.id);
      report.requeued++;
    } else if (state === 'missing' || state === 'failed' || state === 'completed') {
      const message = 'The worker running this export stopped and the job could not be resumed';
      const [row] = await returning(ds,
        `UPDATE invoice_exports SET status = 'FAILED', error_code = $2, error_message = $3, completed_at = now()
         WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
        [e.id, ExportErrorCode.WORKER_LOST, message],
      );
      if (row) {
        report.lost++;
        await events.publish(Object.assign(e, { status: ExportStatus.FAILED, errorCode: ExportErrorCode.WORKER_LOST, errorMessage: message }));
      }
    }
  }
  if (report.expired || report.requeued || report.lost) logger.info(report, 'Cleanup sweep');
  return report;
}
