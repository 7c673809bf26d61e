import type { Logger } from 'pino';
import type { Config } from '../config';
import { DataSource } from 'typeorm';
import { ExportStatus } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import type { ExportEvents } from '../exports/events';
import { ExportLifecycle } from '../exports/lifecycle';
import type { ExportStorage } from '../storage';
import { ownRows } from '../exports/dispatcher';
import { bumpCounter } from '../ops/counters';

export interface SweepDeps {
  dataSource: DataSource;
  storage: ExportStorage;
  events: ExportEvents;
  /** The row's transitions (`expire`, `markCleaned`); made from the data source and events when not given. */
  lifecycle?: ExportLifecycle;
  logger: Logger;
  /** Its QUEUE_PREFIX: only this deployment's exports (their files are in its storage). */
  config: Pick<Config, 'queuePrefix'>;
}

export interface SweepReport {
  expired: number;
  /** Finished exports whose folder was cleaned of what unfinished attempts left. */
  cleaned: number;
  /** Multipart uploads under exports/ older than STALE_UPLOAD_MS, aborted. */
  staleUploads: number;
}

const BATCH = 200;
/** A finished export's folder is cleaned this long after it finished: any attempt it superseded has stopped by then. */
export const CLEAN_AFTER_SECONDS = 60;
/** No export uploads for an hour: an older multipart upload belongs to an attempt that died. */
export const STALE_UPLOAD_MS = 3600_000;

/**
 * The storage sweep, run by the reconciler's timer (never by a job that
 * Redis could lose): deletes the files of exports past their retention and
 * marks them EXPIRED; removes whatever an attempt that did not win left
 * under a finished export's prefix (objects of a cancelled, failed or
 * superseded attempt, incomplete multipart uploads); aborts any multipart
 * upload older than an hour under exports/.
 */
export async function runSweep(deps: SweepDeps, opts: { cleanAfterSeconds?: number } = {}): Promise<SweepReport> {
  const report: SweepReport = { expired: 0, cleaned: 0, staleUploads: 0 };
  const lifecycle = deps.lifecycle ?? new ExportLifecycle(deps.dataSource, deps.events);
  report.expired = await expireFiles(deps, lifecycle);
  report.cleaned = await cleanFinishedFolders(deps, lifecycle, opts.cleanAfterSeconds ?? CLEAN_AFTER_SECONDS);
  try {
    report.staleUploads = await deps.storage.abortMultipartUploads('exports/', { initiatedBefore: new Date(Date.now() - STALE_UPLOAD_MS) });
  } catch (err) {
    deps.logger.warn({ err }, 'Could not list the multipart uploads in progress');
  }
  await bumpCounter(deps.dataSource, 'sweep_expired', '', report.expired);
  await bumpCounter(deps.dataSource, 'sweep_cleaned', '', report.cleaned);
  if (report.expired || report.cleaned || report.staleUploads) deps.logger.info(report, 'Storage sweep');
  return report;
}

async function expireFiles({ dataSource: ds, storage, config }: SweepDeps, lifecycle: ExportLifecycle): Promise<number> {
  const repo = ds.getRepository(InvoiceExport);
  let expired = 0;
  for (;;) {
    const due = await repo
      .createQueryBuilder('e')
      .where(`e.status = 'COMPLETED' AND e.expires_at <= now() AND ${ownRows(':prefix')}`, { prefix: config.queuePrefix })
      .orderBy('e.expires_at')
      .take(BATCH)
      .getMany();
    for (const e of due) {
      await storage.deletePrefix(storage.exportPrefix(e.tenantId, e.id));
      if (await lifecycle.expire(e.id)) expired++;
    }
    if (due.length < BATCH) return expired;
  }
}

async function cleanFinishedFolders({ dataSource: ds, storage, config }: SweepDeps, lifecycle: ExportLifecycle, afterSeconds: number): Promise<number> {
  let cleaned = 0;
  for (;;) {
    const rows: { id: string; tenant_id: string; status: ExportStatus; file_key: string | null }[] = await ds.query(
      `SELECT id, tenant_id, status, file_key FROM invoice_exports
       WHERE files_cleaned_at IS NULL AND status NOT IN ('QUEUED', 'RUNNING')
         AND coalesce(completed_at, created_at) < now() - make_interval(secs => $1)
         AND ${ownRows('$3')}
       ORDER BY completed_at LIMIT $2`,
      [afterSeconds, BATCH, config.queuePrefix],
    );
    for (const r of rows) {
      const keep = r.status === ExportStatus.COMPLETED ? (r.file_key ?? undefined) : undefined;
      await storage.deletePrefix(storage.exportPrefix(r.tenant_id, r.id), { keep });
      await lifecycle.markCleaned(r.id);
      cleaned++;
    }
    if (rows.length < BATCH) return cleaned;
  }
}
