import { randomUUID } from 'node:crypto';
import { DataSource, QueryRunner } from 'typeorm';
import type { Config } from '../config';
import { returning } from '../db/sql';
import { ExportStatus, WaitingReason } from '../entities/enums';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { ExportErrorCode } from './errors';

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
}

export type BeginResult =
  | { outcome: 'started'; attempt: Attempt; exp: InvoiceExport }
  /** Another attempt holds a live lease: look again when it expires. */
  | { outcome: 'held'; until: Date }
  /** Its tenant already runs EXPORT_TENANT_CONCURRENCY exports: back to the outbox. */
  | { outcome: 'parked' }
  /** Its workers died too often: FAILED WORKER_LOST. */
  | { outcome: 'lost' }
  /** Cancelled, finished or deleted: nothing to do. */
  | { outcome: 'gone' };

export type LeaseState = 'held' | 'cancelled' | 'lost';

/** Advisory-lock namespace of "one tenant's slots" (the key's first half). */
const TENANT_SLOTS_LOCK = 7_240_118;

/** What a RUNNING row's lease-held update condition reads like. */
const HELD = `id = $1 AND lease_token = $2 AND status = 'RUNNING'`;

export class AttemptStore {
  constructor(
    private readonly ds: DataSource,
    private readonly config: Pick<Config, 'workerLockDurationMs' | 'exportTenantConcurrency' | 'exportMaxAttempts'>,
  ) {}

  private get leaseMs(): number {
    return this.config.workerLockDurationMs;
  }

  /**
   * QUEUED (or RUNNING whose lease expired: its worker is gone) → RUNNING
   * under a new lease, if its tenant has a free slot. The slot count and the
   * update run under the tenant's advisory lock, so two workers cannot both
   * take the last slot. A RUNNING export whose lease expired does not count:
   * a dead worker's slot is freed when its export is taken over.
   */
  async begin(exportId: string): Promise<BeginResult> {
    const token = randomUUID();
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const [row] = await qr.query(`SELECT tenant_id, status, attempts FROM invoice_exports WHERE id = $1`, [exportId]);
      if (!row || (row.status !== ExportStatus.QUEUED && row.status !== ExportStatus.RUNNING)) {
        await qr.commitTransaction();
        return { outcome: 'gone' };
      }
      await qr.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [TENANT_SLOTS_LOCK, row.tenant_id]);
      const [current] = await qr.query(
        `SELECT status, attempts, lease_expires_at, lease_expires_at > now() AS live,
                (SELECT count(*)::int FROM invoice_exports r
                 WHERE r.tenant_id = e.tenant_id AND r.status = 'RUNNING' AND r.lease_expires_at > now() AND r.id <> e.id) AS running
         FROM invoice_exports e WHERE id = $1 FOR UPDATE`,
        [exportId],
      );
      if (!current || (current.status !== ExportStatus.QUEUED && current.status !== ExportStatus.RUNNING)) {
        await qr.commitTransaction();
        return { outcome: 'gone' };
      }
      if (current.status === ExportStatus.RUNNING && current.live) {
        await qr.commitTransaction();
        return { outcome: 'held', until: new Date(current.lease_expires_at) };
      }
      if (current.attempts >= this.config.exportMaxAttempts) {
        await qr.query(
          `UPDATE invoice_exports SET status = 'FAILED', error_code = $2, error_message = $3, completed_at = now(),
             lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL
           WHERE id = $1`,
          [exportId, ExportErrorCode.WORKER_LOST, `The export was started ${current.attempts} times and its worker stopped each time`],
        );
        await qr.commitTransaction();
        return { outcome: 'lost' };
      }
      if (current.running >= this.config.exportTenantConcurrency) {
        await qr.query(
          `UPDATE invoice_exports SET status = 'QUEUED', enqueued_at = NULL, waiting_reason = $2, lease_token = NULL, lease_expires_at = NULL
           WHERE id = $1`,
          [exportId, WaitingReason.TENANT_CONCURRENCY],
        );
        await qr.commitTransaction();
        return { outcome: 'parked' };
      }
      await qr.query(
        `UPDATE invoice_exports
         SET status = 'RUNNING', attempts = attempts + 1, lease_token = $2, lease_expires_at = now() + make_interval(secs => $3::float8 / 1000),
             started_at = coalesce(started_at, now()), processed_rows = 0, error_code = NULL, error_message = NULL,
             waiting_reason = NULL, not_before = NULL
         WHERE id = $1`,
        [exportId, token, this.leaseMs],
      );
      await qr.commitTransaction();
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
    const exp = await this.ds.getRepository(InvoiceExport).findOneByOrFail({ id: exportId });
    return { outcome: 'started', exp, attempt: { exportId, tenantId: exp.tenantId, token, number: exp.attempts } };
  }

  /** Renews the lease (and records progress); says whether the attempt still holds the export. */
  async heartbeat(a: Attempt, processedRows: number): Promise<LeaseState> {
    const [row] = await returning(
      this.ds,
      `UPDATE invoice_exports SET processed_rows = $3, lease_expires_at = now() + make_interval(secs => $4::float8 / 1000)
       WHERE ${HELD} RETURNING id`,
      [a.exportId, a.token, processedRows, this.leaseMs],
    );
    return row ? 'held' : this.whyLost(a);
  }

  /** Why an attempt no longer holds its export: cancelled, or taken over. */
  async whyLost(a: Attempt): Promise<LeaseState> {
    const [row] = await this.ds.query(`SELECT status FROM invoice_exports WHERE id = $1`, [a.exportId]);
    return row?.status === ExportStatus.CANCELLED ? 'cancelled' : 'lost';
  }

  async setTotalRows(a: Attempt, totalRows: number): Promise<boolean> {
    const rows = await returning(this.ds, `UPDATE invoice_exports SET total_rows = $3 WHERE ${HELD} RETURNING id`, [a.exportId, a.token, totalRows]);
    return rows.length === 1;
  }

  /**
   * COMPLETED, only if this attempt still holds the export; `inTransaction`
   * runs in the same transaction (e.g. recording what the file transferred).
   */
  async complete(
    a: Attempt,
    file: {
      /** Rows the cursor streamed (the progress bar's), and rows of the file (an accounting entry has several). */
      rows: number;
      fileRows: number;
      key: string;
      name: string;
      size: number;
      retentionDays: number;
      warnings: unknown[] | null;
    },
    inTransaction?: (qr: QueryRunner) => Promise<void>,
  ): Promise<boolean> {
    const qr = this.ds.createQueryRunner();
    await qr.connect();
    try {
      await qr.startTransaction();
      const [rows] = await qr.query(
        `UPDATE invoice_exports
         SET status = 'COMPLETED', processed_rows = $3, total_rows = $3, row_count = $8, file_key = $4, file_name = $5,
             file_size = $6, completed_at = now(), expires_at = now() + make_interval(days => $7), warnings = $9::jsonb,
             lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL, error_code = NULL, error_message = NULL
         WHERE ${HELD} RETURNING id`,
        [a.exportId, a.token, file.rows, file.key, file.name, file.size, file.retentionDays, file.fileRows, file.warnings ? JSON.stringify(file.warnings) : null],
      );
      if (!rows.length) {
        await qr.rollbackTransaction();
        return false;
      }
      await inTransaction?.(qr);
      await qr.commitTransaction();
      return true;
    } catch (err) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await qr.release();
    }
  }

  async fail(a: Attempt, code: string, message: string): Promise<boolean> {
    const rows = await returning(
      this.ds,
      `UPDATE invoice_exports SET status = 'FAILED', error_code = $3, error_message = $4, completed_at = now(),
         lease_token = NULL, lease_expires_at = NULL, waiting_reason = NULL
       WHERE ${HELD} RETURNING id`,
      [a.exportId, a.token, code, message],
    );
    return rows.length === 1;
  }

  /**
   * Back to QUEUED to be tried again at `notBefore`; the error stays visible
   * (what the export waits for). The job stays in Redis, delayed until then.
   */
  async retryLater(a: Attempt, code: string, message: string, notBefore: Date): Promise<boolean> {
    const rows = await returning(
      this.ds,
      `UPDATE invoice_exports SET status = 'QUEUED', processed_rows = 0, error_code = $3, error_message = $4, not_before = $5,
         waiting_reason = $6, lease_token = NULL, lease_expires_at = NULL, enqueued_at = now()
       WHERE ${HELD} RETURNING id`,
      [a.exportId, a.token, code, message, notBefore, WaitingReason.RETRY],
    );
    return rows.length === 1;
  }

  /** Worker shutting down: back to QUEUED without spending the attempt; the job stays in Redis. */
  async handBack(a: Attempt): Promise<boolean> {
    const rows = await returning(
      this.ds,
      `UPDATE invoice_exports SET status = 'QUEUED', processed_rows = 0, attempts = greatest(attempts - 1, 0),
         lease_token = NULL, lease_expires_at = NULL, enqueued_at = now()
       WHERE ${HELD} RETURNING id`,
      [a.exportId, a.token],
    );
    return rows.length === 1;
  }

  /** The delay before retry number `attempt + 1`: exponential, capped, with ±20 % jitter. */
  static retryDelayMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
    const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(exp * (0.8 + 0.4 * random()));
  }
}
