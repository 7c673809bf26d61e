import { PassThrough } from 'node:stream';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { returning } from '../db/sql';
import type { Config } from '../config';
import { ExportStatus } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { Tenant } from '../entities/tenant.entity';
import type { ExportEvents } from '../exports/events';
import { exportKind } from '../exports/kinds';
import type { ExportLocale } from '../exports/labels';
import { EXPORT_ATTEMPTS, JobPayloads, JobName } from '../exports/queue';
import type { ExportSummary } from '../exports/rows';
import type { StoredSelection } from '../exports/selection';
import type { ExportStorage } from '../exports/storage';
import { contentTypeFor } from '../exports/writers';
import { StorageFailure, classifyExportError } from './errors';

/** Progress reaches the database and the subscribers at most this often. */
export const PROGRESS_INTERVAL_MS = 250;
const FETCH_BATCH = 1000;

export interface ExportProcessorDeps {
  dataSource: DataSource;
  /** Connections for the long read-only snapshots (one per running export). */
  pool: Pool;
  storage: ExportStorage;
  events: ExportEvents;
  config: Readonly<Config>;
  logger: Logger;
  /** XLSX rows per sheet (tests lower it to see the continuation sheet). */
  maxRowsPerSheet?: number;
}

/** Why an attempt stopped before its end. */
class Stop extends Error {
  constructor(readonly why: 'cancelled' | 'shutdown') {
    super(`export ${why}`);
  }
}

function describeSelection(selection: StoredSelection, locale: ExportLocale): string {
  const fr = locale === 'fr-FR';
  if (selection.mode === 'ids') {
    return fr ? `${selection.invoiceIds.length} pièce(s) cochée(s)` : `${selection.invoiceIds.length} ticked document(s)`;
  }
  const parts = Object.entries(selection.filter).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  const base = fr ? 'Tous les résultats' : 'All results';
  const filter = parts.length ? ` (${parts.join(', ')})` : '';
  const excluded = selection.excludedInvoiceIds.length
    ? fr
      ? `, sauf ${selection.excludedInvoiceIds.length} pièce(s) décochée(s)`
      : `, except ${selection.excludedInvoiceIds.length} unticked document(s)`
    : '';
  return base + filter + excluded;
}

/**
 * One export job: re-read the export, stream its rows out of one read-only
 * repeatable-read snapshot through the format writer into a multipart upload,
 * publish progress, and record the outcome. An attempt that does not end
 * COMPLETED leaves no object behind.
 */
export class ExportProcessor {
  /** Aborts of the running attempts, for a shutdown that cannot wait. */
  private readonly running = new Map<string, (why: Stop) => void>();

  constructor(private readonly deps: ExportProcessorDeps) {}

  /** Stops every running attempt and hands its job back to the queue. */
  handBackAll(): void {
    for (const stop of this.running.values()) stop(new Stop('shutdown'));
  }

  async process(job: Job<JobPayloads[JobName.EXPORT]>, token?: string): Promise<void> {
    const { exportId } = job.data;
    const { dataSource: ds, events } = this.deps;
    const logger = this.deps.logger.child({ exportId, jobId: job.id });

    const started = await this.start(exportId);
    if (!started) {
      logger.info('Export is no longer waiting (cancelled, finished or deleted): nothing to do');
      return;
    }
    const exp = started;
    const log = logger.child({ tenantId: exp.tenantId });
    log.info({ attempt: exp.attempts, kind: exp.kind, format: exp.format }, 'Export started');
    await events.publish(exp);

    try {
      await this.run(exp, log);
    } catch (err) {
      if (err instanceof Stop && err.why === 'cancelled') {
        log.info('Export cancelled while running; upload aborted');
        return;
      }
      if (err instanceof Stop && err.why === 'shutdown') {
        // Back to the queue without spending an attempt; another worker redoes it.
        await ds.query(`UPDATE invoice_exports SET status = 'QUEUED', processed_rows = 0, attempts = greatest(attempts - 1, 0) WHERE id = $1 AND status = 'RUNNING'`, [exportId]);
        if (token) await job.moveToDelayed(Date.now(), token);
        log.warn('Worker shutting down: export handed back to the queue');
        throw new DelayedError();
      }
      const failure = classifyExportError(err);
      const last = !failure.transient || job.attemptsMade + 1 >= (job.opts.attempts ?? EXPORT_ATTEMPTS);
      log[last ? 'error' : 'warn']({ err, code: failure.code, attempt: exp.attempts, final: last }, 'Export attempt failed');
      if (last) {
        await this.fail(exp, failure.code, failure.message);
        if (!failure.transient) throw new UnrecoverableError(failure.message);
      } else {
        // The next attempt starts from zero; subscribers see the bar go back.
        const [row] = await returning(ds, `UPDATE invoice_exports SET processed_rows = 0 WHERE id = $1 AND status = 'RUNNING' RETURNING id`, [exportId]);
        if (row) await events.publish(Object.assign(exp, { processedRows: 0 }));
      }
      throw err;
    }
  }

  /** QUEUED (or RUNNING, taken over from a dead worker) → RUNNING; null when there is nothing to do. */
  private async start(exportId: string): Promise<InvoiceExport | null> {
    const ds = this.deps.dataSource;
    const [row] = await returning(ds,
      `UPDATE invoice_exports
       SET status = 'RUNNING', attempts = attempts + 1, started_at = coalesce(started_at, now()),
           processed_rows = 0, error_code = NULL, error_message = NULL
       WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
      [exportId],
    );
    if (!row) return null;
    return ds.getRepository(InvoiceExport).findOneByOrFail({ id: exportId });
  }

  private async fail(exp: InvoiceExport, code: string, message: string): Promise<void> {
    const [row] = await returning(this.deps.dataSource,
      `UPDATE invoice_exports SET status = 'FAILED', error_code = $2, error_message = $3, completed_at = now()
       WHERE id = $1 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
      [exp.id, code, message],
    );
    if (row) {
      await this.deps.events.publish(
        Object.assign(exp, { status: ExportStatus.FAILED, errorCode: code, errorMessage: message, completedAt: new Date() }),
      );
    }
  }

  private async run(exp: InvoiceExport, log: Logger): Promise<void> {
    const { dataSource: ds, pool, storage, events, config } = this.deps;
    const tenant = await ds.getRepository(Tenant).findOneByOrFail({ id: exp.tenantId });
    const locale = exp.locale as ExportLocale;
    // KINDS: the kind's module gives the queries, the writer and the file name (known once the totals are).
    const kind = exportKind(exp.kind);
    let fileName = '';
    let fileKey = '';

    const abort = new AbortController();
    let stopped: Stop | undefined;
    const stop = (why: Stop) => {
      if (stopped) return;
      stopped = why;
      abort.abort(why);
    };
    this.running.set(exp.id, stop);

    let client: PoolClient | undefined;
    let clientBroken = false;
    const onClientError = () => {
      clientBroken = true;
    };
    let ticker: NodeJS.Timeout | undefined;
    let upload: Promise<{ size: number }> | undefined;
    try {
      client = await pool.connect();
      client.on('error', onClientError);
      // One consistent snapshot: the totals of the Résumé agree with the rows.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // JIT compiles these big plans for 100-250 ms before their first row
      // (the line count, the rows query); a streaming export gains nothing from it.
      await client.query('SET LOCAL jit = off');
      const totalsQuery = kind.totalsQuery(exp.tenantId, exp.selection);
      const { rows: [totals] } = await client.query(totalsQuery.text, totalsQuery.values);
      const totalRows = kind.totalRows(totals);
      await ds.query(`UPDATE invoice_exports SET total_rows = $2 WHERE id = $1`, [exp.id, totalRows]);
      exp.totalRows = totalRows;
      await events.publish(exp);

      if (exp.attempts > 1) {
        // A previous attempt may have died mid-upload (SIGKILL): drop its parts.
        await storage
          .abortMultipartUploads(storage.exportPrefix(exp.tenantId, exp.id))
          .catch((err: unknown) => log.warn({ err }, 'Could not clean up the uploads of a previous attempt'));
      }
      const output = new PassThrough({ highWaterMark: 1024 * 1024 });
      const attempt = await kind.openAttempt({ db: client, exp, tenant, totals, locale, output, maxRowsPerSheet: this.deps.maxRowsPerSheet });
      const writer = attempt.writer;
      fileName = attempt.fileName;
      fileKey = storage.objectKey(exp.tenantId, exp.id, fileName);
      upload = storage
        .uploadStream(fileKey, output, { contentType: contentTypeFor(exp.format), fileName, signal: abort.signal })
        .catch((err: unknown) => {
          throw stopped ?? new StorageFailure(err);
        });
      // The upload failing (storage gone) must stop the producer too.
      upload.catch((err) => {
        if (!stopped) writer.abort(err instanceof Error ? err : new Error(String(err)));
      });

      let processed = 0;
      let published = 0;
      let ticking = false;
      ticker = setInterval(() => {
        if (ticking || processed === published) return;
        ticking = true;
        const n = processed;
        returning(ds, `UPDATE invoice_exports SET processed_rows = $2 WHERE id = $1 AND status = 'RUNNING' RETURNING id`, [exp.id, n])
          .then(async ([row]) => {
            if (!row) return stop(new Stop('cancelled'));
            published = n;
            exp.processedRows = n;
            await events.publish(exp);
          })
          .catch((err) => log.warn({ err }, 'Could not record progress'))
          .finally(() => {
            ticking = false;
          });
      }, PROGRESS_INTERVAL_MS);
      // A cancellation that comes while no row moves (e.g. still counting) is seen here too.
      ticker.unref();

      // A cursor, not a protocol-level portal: PostgreSQL then plans for rows
      // taken as they come (cursor_tuple_fraction), e.g. invoices from their
      // index in export order instead of sorting them all before the first row.
      // Each batch is fetched while the previous one is written.
      const rowsQuery = kind.rowsQuery(exp.tenantId, exp.selection);
      await client.query(`DECLARE export_rows NO SCROLL CURSOR FOR ${rowsQuery.text}`, rowsQuery.values);
      const db = client;
      const fetchRows = () => db.query(`FETCH FORWARD ${FETCH_BATCH} FROM export_rows`).then((r) => r.rows);
      let next = fetchRows();
      try {
        for (;;) {
          const batch = await next;
          if (!batch.length || stopped) break;
          next = fetchRows();
          for (let i = 0; i < batch.length; i++) {
            if (stopped) break;
            const row = batch[i];
            // Dropped from the batch once written, a row dies young; kept, the
            // whole batch gets promoted and garbage piles up in the old
            // generation (+100 MB of RSS on 358,000 CSV lines).
            batch[i] = undefined;
            await writer.writeRow(row);
            processed++;
          }
          if (stopped) break;
        }
      } catch (err) {
        if (!stopped) throw err;
      } finally {
        next.catch(() => undefined); // a batch still on its way when the loop stopped
      }
      if (stopped) throw stopped;
      if (processed !== totalRows) {
        throw new Error(`Snapshot changed under the export: counted ${totalRows} rows, streamed ${processed}`);
      }

      const summary: ExportSummary = {
        tenantName: tenant.name,
        requestedBy: exp.requestedBy,
        requestedAt: exp.createdAt,
        generatedAt: new Date(),
        selection: describeSelection(exp.selection, locale),
        invoiceCount: Number(totals.invoiceCount),
        creditNoteCount: Number(totals.creditNoteCount),
        rowCount: processed,
        totalDue: totals.totalDue,
        totalPaid: totals.totalPaid,
        totalRemaining: totals.totalRemaining,
      };
      await writer.finish(summary);
      const { size } = await upload;
      clearInterval(ticker);
      await client.query('COMMIT');

      // KINDS: COMPLETED and the kind's completion hook (accounting transfer marks) in one transaction.
      const warnings = attempt.warnings();
      const [done] = await ds.transaction(async (tx) => {
        const updated = await returning(tx,
          `UPDATE invoice_exports
           SET status = 'COMPLETED', processed_rows = $2, total_rows = $2, row_count = $7, file_key = $3, file_name = $4,
               file_size = $5, completed_at = now(), expires_at = now() + make_interval(days => $6), warnings = $8::jsonb
           WHERE id = $1 AND status = 'RUNNING' RETURNING id`,
          [exp.id, processed, fileKey, fileName, size, config.exportRetentionDays, writer.rowCount, warnings ? JSON.stringify(warnings) : null],
        );
        if (updated.length) await attempt.onCompleted?.(tx);
        return updated;
      });
      if (!done) {
        // Cancelled in the last instant: the file must not outlive the export.
        await storage.deleteObject(fileKey).catch((err: unknown) => log.warn({ err }, 'Could not delete the file of a cancelled export'));
        throw new Stop('cancelled');
      }
      const completed = await ds.getRepository(InvoiceExport).findOneByOrFail({ id: exp.id });
      log.info({ rows: processed, bytes: size, fileName }, 'Export completed');
      await events.publish(completed);
    } catch (err) {
      if (!abort.signal.aborted) abort.abort(err);
      await upload?.catch(() => undefined); // the upload has aborted: no object, no parts
      if (client && !clientBroken) await client.query('ROLLBACK').catch(() => {
        clientBroken = true;
      });
      throw err;
    } finally {
      clearInterval(ticker);
      this.running.delete(exp.id);
      client?.off('error', onClientError); // pooled connections outlive this export
      client?.release(clientBroken ? true : undefined);
    }
  }
}

