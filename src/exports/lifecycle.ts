import { randomUUID } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';
import { AdvisoryLock } from '../db/advisory-locks';
import type { OpenTransaction } from '../db/open-transaction';
import { returning, type Queryable } from '../db/sql';
import { ExportFormat, ExportKind, ExportStatus, WaitingReason } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportErrorCode, exportFailureMessage } from '../errors';
import type { ExportEvents } from './events';
import type { StoredSelection } from './selection';
import type { FileLayout } from '../profiles/file-layout';

/**
 * The export's life: the only module that writes `invoice_exports`. Each
 * named transition is one SQL statement (or one transaction), conditional on
 * the state it leaves, and fenced by the attempt's lease where an attempt
 * writes; it publishes the state it produced when a subscriber can see the
 * change. The state diagram and who calls which transition:
 * docs/architecture.md ("The life of an export's row"); a unit test
 * (export-row-owner.spec.ts) keeps every other module from writing the table.
 */

/**
 * One attempt at an export: its lease on the row. Every write an attempt
 * makes names its token, so that an attempt paused past its lease (GC pause,
 * SIGSTOP, a network stall) and taken over by another can change nothing
 * once it resumes: it learns it lost at its next write and stops.
 */
export interface Attempt {
  readonly exportId: string;
  readonly tenantId: string;
  readonly token: string;
  /** 1, 2, 3… over the export's life (takeovers and retries included). */
  readonly number: number;
  /** How long the lease lasts after each renewal (WORKER_LOCK_DURATION_MS). */
  readonly leaseMs: number;
}

export type ClaimResult =
  | { outcome: 'started'; attempt: Attempt; exp: InvoiceExport }
  /** Another attempt holds a live lease: look again when it expires. */
  | { outcome: 'held'; until: Date }
  /** Its tenant already runs EXPORT_TENANT_CONCURRENCY exports: back to the outbox. */
  | { outcome: 'parked' }
  /** Its workers died too often: FAILED WORKER_LOST. */
  | { outcome: 'lost' }
  /** Cancelled, finished or deleted: nothing to do. */
  | { outcome: 'gone' };

export interface ClaimPolicy {
  leaseMs: number;
  tenantConcurrency: number;
  maxAttempts: number;
}

export type LeaseState = 'held' | 'cancelled' | 'lost';

export type EnqueueResult = { outcome: 'enqueued' } | { outcome: 'taken' } | { outcome: 'unavailable'; queueError: unknown };

/** What a completed attempt wrote. */
export interface CompletedFile {
  /** Rows the cursor streamed (the progress bar's), and rows of the file (an accounting entry has several). */
  rows: number;
  fileRows: number;
  key: string;
  name: string;
  size: number;
  retentionDays: number;
  warnings: unknown[] | null;
}

export interface NewExport {
  tenantId: string;
  requestedBy: string;
  kind: ExportKind;
  format: ExportFormat;
  locale: string;
  selection: StoredSelection;
  idempotencyKey: string | null;
  expectedRows: number;
  queuePrefix: string;
  /** The request's W3C traceparent (tracing on): the enqueue and the worker join its trace. */
  traceParent?: string | null;
  /** docs/profiles.md: the profile's or the request's columns, CSV layout and file name, as they are now; null: the defaults. */
  options?: FileLayout | null;
}

/** The lease-held condition of every write of an attempt ($1 export id, $2 token). */
const HELD = `e.id = $1 AND e.lease_token = $2 AND e.status = 'RUNNING'`;
/** The lease of a RUNNING export has run out (by more than `graceParam` seconds: clock skew). */
const leaseExpired = (graceParam: string) => `(e.lease_expires_at IS NULL OR e.lease_expires_at < now() - make_interval(secs => ${graceParam}))`;
const leaseFor = (msParam: string) => `now() + make_interval(secs => ${msParam}::float8 / 1000)`;

export class ExportLifecycle {
  /** Every column but the selection (up to EXPORT_MAX_IDS ids): what an event carries. */
  private readonly published: string;

  constructor(
    private readonly ds: DataSource,
    private readonly events: ExportEvents,
  ) {
    this.published = ds
      .getMetadata(InvoiceExport)
      .columns.filter((c) => c.propertyName !== 'selection')
      .map((c) => `e.${c.databaseName}`)
      .join(', ');
  }

  // ── Requested and cancelled (the API) ────────────────────────────────

  /**
   * A new QUEUED export, not on the queue yet (the dispatcher's outbox), in
   * the caller's transaction (admission); undefined when a request with the
   * same idempotency key was recorded first. A filter means "the invoices
   * that exist now": the database's clock is stamped into it.
   */
  async record(tx: Queryable, x: NewExport): Promise<string | undefined> {
    const rows = (await tx.query(
      `INSERT INTO invoice_exports (tenant_id, requested_by, kind, format, locale, selection, idempotency_key, expected_rows, queue_prefix, trace_parent, options)
       VALUES ($1, $2, $3, $4, $5,
         CASE WHEN $6::jsonb->>'mode' = 'filter' THEN jsonb_set($6::jsonb, '{createdBefore}', to_jsonb(now())) ELSE $6::jsonb END,
         $7, $8, $9, $10, $11)
       ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id`,
      [x.tenantId, x.requestedBy, x.kind, x.format, x.locale, JSON.stringify(x.selection), x.idempotencyKey, x.expectedRows, x.queuePrefix, x.traceParent ?? null, x.options ? JSON.stringify(x.options) : null],
    )) as { id: string }[];
    return rows[0]?.id;
  }

  /**
   * QUEUED or RUNNING → CANCELLED (a running attempt sees it at its next
   * heartbeat); undefined if it had finished. `inTransaction` runs in the same
   * transaction when the row changed (the audit event).
   */
  async cancel(tenantId: string, id: string, inTransaction?: (tx: Queryable) => Promise<void>): Promise<InvoiceExport | undefined> {
    const row = await this.transaction(async (qr) => {
      const [changed] = await returning<Record<string, unknown>>(qr.manager,
        `UPDATE invoice_exports e SET status = 'CANCELLED', completed_at = now(), waiting_reason = NULL
         WHERE e.tenant_id = $1 AND e.id = $2 AND e.status IN ('QUEUED', 'RUNNING') RETURNING ${this.published}`,
        [tenantId, id],
      );
      if (changed && inTransaction) await inTransaction(qr.manager);
      return changed;
    });
    if (!row) return undefined;
    const e = this.hydrate(row);
    await this.publish(e);
    return e;
  }

  // ── The outbox (the dispatcher and the reconciler) ───────────────────

  /**
   * The outbox's hand-over: the row is claimed for the queue (`enqueued_at`
   * set), then `addJob` puts its job in Redis; if Redis refuses it, the claim
   * is undone and the export waits for the queue (QUEUE_UNAVAILABLE).
   * `taken`: another process claimed it first.
   */
  async enqueue(id: string, addJob: () => Promise<void>): Promise<EnqueueResult> {
    // The claim's instant as text: a JS Date would drop the microseconds that the undo matches on.
    const [row] = await this.write(
      `UPDATE invoice_exports e SET enqueued_at = now(), waiting_reason = NULL
       FROM invoice_exports prev
       WHERE e.id = $1 AND prev.id = e.id AND e.status = 'QUEUED' AND e.enqueued_at IS NULL
       RETURNING e.enqueued_at::text AS claimed_at, prev.waiting_reason AS was_waiting, ${this.published}`,
      [id],
    );
    if (!row) return { outcome: 'taken' };
    try {
      await addJob();
    } catch (queueError) {
      await this.ds.query(`UPDATE invoice_exports SET enqueued_at = NULL, waiting_reason = $2 WHERE id = $1 AND enqueued_at = $3::timestamptz`, [
        id,
        WaitingReason.QUEUE_UNAVAILABLE,
        row.claimed_at,
      ]);
      if (row.was_waiting !== WaitingReason.QUEUE_UNAVAILABLE) await this.publishCurrent(id);
      return { outcome: 'unavailable', queueError };
    }
    // It no longer waits for anything: subscribers who were told why it waited learn it.
    if (row.was_waiting) await this.publish(row);
    return { outcome: 'enqueued' };
  }

  /** QUEUED exports whose tenant runs as many as it may: they say so. */
  async waitForTenantSlot(ids: string[]): Promise<void> {
    if (!ids.length) return;
    const rows = await this.write(
      `UPDATE invoice_exports e SET waiting_reason = $2 WHERE e.id = ANY($1::uuid[]) AND e.status = 'QUEUED' RETURNING ${this.published}`,
      [ids, WaitingReason.TENANT_CONCURRENCY],
    );
    for (const row of rows) await this.publish(row);
  }

  /** On the queue since `enqueuedAt` but Redis has no job (restarted empty, removed by hand): back to the outbox. */
  async requeueMissingJob(id: string, enqueuedAt: string): Promise<boolean> {
    const rows = await returning(
      this.ds,
      `UPDATE invoice_exports e SET enqueued_at = NULL WHERE e.id = $1 AND e.status = 'QUEUED' AND e.enqueued_at = $2::timestamptz RETURNING e.id`,
      [id, enqueuedAt],
    );
    return rows.length === 1;
  }

  /**
   * A RUNNING export whose lease ran out (its worker died or lost
   * PostgreSQL) more than `graceSeconds` ago: back to the outbox with the
   * attempt counted (WORKER_LOST), or FAILED WORKER_LOST once `maxAttempts`
   * were spent. One statement: the attempts decide which.
   */
  async requeueLost(id: string, maxAttempts: number, graceSeconds: number): Promise<'requeued' | 'failed' | undefined> {
    const [row] = await this.write(
      `UPDATE invoice_exports e SET
         status = CASE WHEN e.attempts >= $2::int THEN 'FAILED' ELSE 'QUEUED' END,
         error_code = CASE WHEN e.attempts >= $2::int THEN $4::text ELSE e.error_code END,
         error_message = CASE WHEN e.attempts >= $2::int THEN $5::text ELSE e.error_message END,
         completed_at = CASE WHEN e.attempts >= $2::int THEN now() ELSE e.completed_at END,
         processed_rows = CASE WHEN e.attempts >= $2::int THEN e.processed_rows ELSE 0 END,
         enqueued_at = CASE WHEN e.attempts >= $2::int THEN e.enqueued_at END,
         waiting_reason = CASE WHEN e.attempts >= $2::int THEN NULL ELSE $6::text END,
         lease_token = NULL, lease_expires_at = NULL
       WHERE e.id = $1 AND e.status = 'RUNNING' AND ${leaseExpired('$3')}
       RETURNING ${this.published}`,
      [id, maxAttempts, graceSeconds, ExportErrorCode.WORKER_LOST, exportFailureMessage(ExportErrorCode.WORKER_LOST), WaitingReason.WORKER_LOST],
    );
    if (!row) return undefined;
    await this.publish(row);
    return row.status === ExportStatus.FAILED ? 'failed' : 'requeued';
  }

  // ── An attempt (the worker) ──────────────────────────────────────────

  /**
   * QUEUED (or RUNNING whose lease expired: its worker is gone) → RUNNING
   * under a new lease, if its tenant has a free slot. The slot count and the
   * update run under the tenant's advisory lock, so two workers cannot both
   * take the last slot. A RUNNING export whose lease expired does not count:
   * a dead worker's slot is freed when its export is taken over.
   */
  async claim(exportId: string, policy: ClaimPolicy): Promise<ClaimResult> {
    const token = randomUUID();
    const result = await this.transaction(async (qr): Promise<ClaimResult> => {
      const [row] = await qr.query(`SELECT tenant_id, status FROM invoice_exports WHERE id = $1`, [exportId]);
      if (!row || (row.status !== ExportStatus.QUEUED && row.status !== ExportStatus.RUNNING)) return { outcome: 'gone' };
      await qr.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [AdvisoryLock.TENANT_SLOTS, row.tenant_id]);
      const [current] = await qr.query(
        `SELECT status, attempts, lease_expires_at, lease_expires_at > now() AS live,
                (SELECT count(*)::int FROM invoice_exports r
                 WHERE r.tenant_id = e.tenant_id AND r.status = 'RUNNING' AND r.lease_expires_at > now() AND r.id <> e.id) AS running
         FROM invoice_exports e WHERE id = $1 FOR UPDATE`,
        [exportId],
      );
      if (!current || (current.status !== ExportStatus.QUEUED && current.status !== ExportStatus.RUNNING)) return { outcome: 'gone' };
      if (current.status === ExportStatus.RUNNING && current.live) return { outcome: 'held', until: new Date(current.lease_expires_at) };
      if (current.attempts >= policy.maxAttempts) {
        await qr.query(
          `UPDATE invoice_exports SET status = 'FAILED', error_code = $2, error_message = $3, completed_at = now(),
             lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL
           WHERE id = $1`,
          [exportId, ExportErrorCode.WORKER_LOST, exportFailureMessage(ExportErrorCode.WORKER_LOST)],
        );
        return { outcome: 'lost' };
      }
      if (current.running >= policy.tenantConcurrency) {
        await qr.query(
          `UPDATE invoice_exports SET status = 'QUEUED', enqueued_at = NULL, waiting_reason = $2, lease_token = NULL, lease_expires_at = NULL
           WHERE id = $1`,
          [exportId, WaitingReason.TENANT_CONCURRENCY],
        );
        return { outcome: 'parked' };
      }
      await qr.query(
        `UPDATE invoice_exports
         SET status = 'RUNNING', attempts = attempts + 1, lease_token = $2, lease_expires_at = ${leaseFor('$3')},
             started_at = coalesce(started_at, now()), processed_rows = 0, error_code = NULL, error_message = NULL,
             waiting_reason = NULL, not_before = NULL
         WHERE id = $1`,
        [exportId, token, policy.leaseMs],
      );
      const exp = await qr.manager.getRepository(InvoiceExport).findOneByOrFail({ id: exportId });
      return { outcome: 'started', exp, attempt: { exportId, tenantId: exp.tenantId, token, number: exp.attempts, leaseMs: policy.leaseMs } };
    });
    if (result.outcome === 'started') await this.publish(result.exp);
    else if (result.outcome === 'parked' || result.outcome === 'lost') await this.publishCurrent(exportId);
    return result;
  }

  /** Renews the lease with the rows written so far (published when they moved); says whether the attempt still holds the export. */
  async progress(a: Attempt, processedRows: number): Promise<LeaseState> {
    const [row] = await this.write(
      `UPDATE invoice_exports e SET processed_rows = $3, lease_expires_at = ${leaseFor('$4')}
       FROM invoice_exports prev
       WHERE ${HELD} AND prev.id = e.id
       RETURNING prev.processed_rows AS rows_before, ${this.published}`,
      [a.exportId, a.token, processedRows, a.leaseMs],
    );
    if (!row) return this.whyLost(a);
    if (row.rows_before !== processedRows) await this.publish(row);
    return 'held';
  }

  /** The attempt counted the rows it will write (the progress bar's total). */
  async counted(a: Attempt, totalRows: number): Promise<boolean> {
    return !!(await this.publishOne(`UPDATE invoice_exports e SET total_rows = $3 WHERE ${HELD} RETURNING ${this.published}`, [a.exportId, a.token, totalRows]));
  }

  /**
   * COMPLETED, only if this attempt still holds the export; `inTransaction`
   * runs in the same transaction (e.g. recording what the file transferred).
   * `within`: a transaction the attempt began earlier and wrote to while it
   * streamed (db/open-transaction.ts); the transition is then its last
   * statement and commits it — or rolls it back when the lease was lost.
   */
  async complete(a: Attempt, file: CompletedFile, inTransaction?: (db: Queryable) => Promise<void>, within?: OpenTransaction): Promise<boolean> {
    // clock_timestamp(): the transaction may have begun long before (now() is its start).
    const sql = `UPDATE invoice_exports e
         SET status = 'COMPLETED', processed_rows = $3, total_rows = $3, row_count = $8, file_key = $4, file_name = $5,
             file_size = $6, completed_at = clock_timestamp(), expires_at = clock_timestamp() + make_interval(days => $7), warnings = $9::jsonb,
             lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL, error_code = NULL, error_message = NULL
         WHERE ${HELD} RETURNING ${this.published}`;
    const params = [a.exportId, a.token, file.rows, file.key, file.name, file.size, file.retentionDays, file.fileRows, file.warnings ? JSON.stringify(file.warnings) : null];
    // The row if the attempt still held it, with the kind's writes in the same transaction; else nothing written.
    const settle = async (rows: Record<string, unknown>[], db: Queryable, undo: () => Promise<void>) => {
      if (!rows.length) {
        await undo();
        return undefined;
      }
      await inTransaction?.(db);
      return this.hydrate(rows[0]);
    };
    let completed: InvoiceExport | undefined;
    if (within) {
      completed = await settle(await within.query(sql, params), within, () => within.rollback());
      if (completed) await within.commit();
    } else {
      completed = await this.transaction(async (qr) => settle((await qr.query(sql, params))[0], qr, () => qr.rollbackTransaction()));
    }
    if (completed) await this.publish(completed);
    return !!completed;
  }

  /** FAILED with what the user reads, only while the attempt holds the lease. */
  async fail(a: Attempt, code: ExportErrorCode, message: string): Promise<boolean> {
    return !!(await this.publishOne(
      `UPDATE invoice_exports e SET status = 'FAILED', error_code = $3, error_message = $4, completed_at = now(),
         lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL
       WHERE ${HELD} RETURNING ${this.published}`,
      [a.exportId, a.token, code, message],
    ));
  }

  /**
   * Back to QUEUED to be tried again at `notBefore`; the error stays visible
   * (what the export waits for). The job stays in Redis, delayed until then.
   */
  async retryLater(a: Attempt, code: ExportErrorCode, message: string, notBefore: Date): Promise<boolean> {
    return !!(await this.publishOne(
      `UPDATE invoice_exports e SET status = 'QUEUED', processed_rows = 0, error_code = $3, error_message = $4, not_before = $5,
         waiting_reason = $6, lease_token = NULL, lease_expires_at = NULL, enqueued_at = now()
       WHERE ${HELD} RETURNING ${this.published}`,
      [a.exportId, a.token, code, message, notBefore, WaitingReason.RETRY],
    ));
  }

  /** Worker shutting down: back to QUEUED without spending the attempt; the job stays in Redis. */
  async handBack(a: Attempt): Promise<boolean> {
    return !!(await this.publishOne(
      `UPDATE invoice_exports e SET status = 'QUEUED', processed_rows = 0, attempts = greatest(e.attempts - 1, 0),
         lease_token = NULL, lease_expires_at = NULL, enqueued_at = now()
       WHERE ${HELD} RETURNING ${this.published}`,
      [a.exportId, a.token],
    ));
  }

  /** Why an attempt no longer holds its export: cancelled, or taken over. */
  async whyLost(a: Attempt): Promise<LeaseState> {
    const [row] = await this.ds.query(`SELECT status FROM invoice_exports WHERE id = $1`, [a.exportId]);
    return row?.status === ExportStatus.CANCELLED ? 'cancelled' : 'lost';
  }

  // ── Retention (the sweep) ────────────────────────────────────────────

  /** COMPLETED past its retention, its files deleted: EXPIRED. */
  async expire(id: string): Promise<boolean> {
    return !!(await this.publishOne(
      `UPDATE invoice_exports e SET status = 'EXPIRED', files_cleaned_at = now() WHERE e.id = $1 AND e.status = 'COMPLETED' RETURNING ${this.published}`,
      [id],
    ));
  }

  /** A finished export's folder holds nothing but its file now (what other attempts left is gone). */
  async markCleaned(id: string): Promise<void> {
    await this.ds.query(`UPDATE invoice_exports SET files_cleaned_at = now() WHERE id = $1`, [id]);
  }

  // ── Publishing ───────────────────────────────────────────────────────

  /** The row as it is now, to subscribers (e.g. once recorded and dispatched). */
  async publishCurrent(id: string): Promise<InvoiceExport | null> {
    const e = await this.ds.getRepository(InvoiceExport).findOneBy({ id });
    if (e) await this.publish(e);
    return e;
  }

  /** Best effort: pub/sub is at most once anyway, and subscriptions re-read the row after a silence. */
  private async publish(row: InvoiceExport | Record<string, unknown>): Promise<void> {
    const e = row instanceof InvoiceExport ? row : this.hydrate(row);
    await this.events.publish(e).catch(() => undefined);
  }

  private async publishOne(sql: string, params: unknown[]): Promise<InvoiceExport | undefined> {
    const [row] = await this.write(sql, params);
    if (!row) return undefined;
    const e = this.hydrate(row);
    await this.publish(e);
    return e;
  }

  private write(sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
    return returning<Record<string, unknown>>(this.ds, sql, params);
  }

  /** A raw row of RETURNING as the entity TypeORM would have read (dates, bigint file size). */
  private hydrate(raw: Record<string, unknown>): InvoiceExport {
    const e = new InvoiceExport();
    for (const c of this.ds.getMetadata(InvoiceExport).columns) {
      if (c.databaseName in raw) c.setEntityValue(e, this.ds.driver.prepareHydratedValue(raw[c.databaseName], c));
    }
    return e;
  }

  private async transaction<T>(fn: (qr: QueryRunner) => Promise<T>): Promise<T> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const result = await fn(qr);
      if (qr.isTransactionActive) await qr.commitTransaction();
      return result;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }
}
