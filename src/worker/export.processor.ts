import { PassThrough } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { DelayedError, Job } from 'bullmq';
import { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { OpenTransaction } from '../db/open-transaction';
import type { BuiltQuery } from '../db/sql';
import { exportSnapshot, queryInSnapshot } from './snapshot-query';
import { DataSource } from 'typeorm';
import type { Config } from '../config';
import { InvoiceExport } from '../entities/invoice-export.entity';
import { Tenant } from '../entities/tenant.entity';
import type { Dispatcher } from '../exports/dispatcher';
import { ExportKindDefinition, KindAttempt, exportKind } from '../exports/kinds';
import type { Attempt, ExportLifecycle } from '../exports/lifecycle';
import type { ExportLocale } from '../exports/labels';
import type { JobPayloads, JobName } from '../exports/queue';
import type { StoredSelection } from '../exports/selection';
import type { ExportStorage } from '../storage';
import { contentTypeFor } from '../exports/formats';
import type { ExportSummary, ExportWriter } from '../exports/writers/writer';
import { bumpCounter } from '../ops/counters';
import { patternFileName } from '../profiles/file-name-pattern';
import { StorageFailure, decideRetry } from './retry-policy';

/** Progress reaches the database and the subscribers at most this often. */
export const PROGRESS_INTERVAL_MS = 250;
/** The lease is renewed (and checked) at least this often, so a superseded attempt stops within a second. */
export const LEASE_CHECK_MS = 1000;
const FETCH_BATCH = 1000;
/**
 * Rows between two yields to the event loop. A small export runs in the same
 * process as up to WORKER_CONCURRENCY large ones (its own lane, not its own
 * thread): each of its steps waits for the large exports' current slices.
 * ~100 rows of XLSX are ~2 ms; the writer alone yields every 512 (~10 ms).
 */
const YIELD_EVERY_ROWS = 100;

export interface ExportProcessorDeps {
  dataSource: DataSource;
  /** Connections for the long read-only snapshots (one per running export). */
  pool: Pool;
  storage: ExportStorage;
  lifecycle: ExportLifecycle;
  dispatcher: Dispatcher;
  config: Readonly<Config>;
  logger: Logger;
  /** XLSX rows per sheet (tests lower it to see the continuation sheet). */
  maxRowsPerSheet?: number;
}

/** Why an attempt stopped before its end. */
export class Stop extends Error {
  constructor(readonly why: 'cancelled' | 'superseded' | 'shutdown') {
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
 * One running attempt: its lease, the signal that stops it, and its
 * heartbeat. The heartbeat renews the lease with the progress; when the
 * export was cancelled or another attempt took it over, it stops the attempt.
 */
class AttemptRun {
  readonly abort = new AbortController();
  stopped: Stop | undefined;
  /** Handed back at the end of the grace, before its pipeline unwound (a hung upload may never). */
  handedBack = false;
  processed = 0;
  private reported = 0;
  private lastBeat = Date.now();
  private lastHeld = Date.now();
  private beating = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly exp: InvoiceExport,
    readonly attempt: Attempt,
    readonly log: Logger,
    private readonly lifecycle: ExportLifecycle,
  ) {}

  stop(why: Stop): void {
    if (this.stopped) return;
    this.stopped = why;
    this.abort.abort(why);
  }

  /** Throws the reason the attempt was stopped, if it was. */
  check(): void {
    if (this.stopped) throw this.stopped;
  }

  startHeartbeat(): void {
    this.timer = setInterval(() => void this.beat(), PROGRESS_INTERVAL_MS);
    // A cancellation that comes while no row moves (e.g. still counting) is seen here too.
    this.timer.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.timer);
  }

  /** A beat now, not at the next tick: the rows written so far are shown as soon as their total is known. */
  beatNow(): void {
    void this.beat();
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    if (this.beating || this.stopped) return;
    if (this.processed === this.reported && now - this.lastBeat < LEASE_CHECK_MS) return;
    // PostgreSQL unreachable for a whole lease: the export is someone else's by now.
    if (now - this.lastHeld > this.attempt.leaseMs) return this.stop(new Stop('superseded'));
    this.beating = true;
    // The rows written are shown once their total is (a kind's probed totals come while the rows stream).
    const n = this.exp.totalRows === null ? 0 : this.processed;
    try {
      const state = await this.lifecycle.progress(this.attempt, n);
      this.lastBeat = Date.now();
      if (state === 'cancelled') return this.stop(new Stop('cancelled'));
      if (state === 'lost') return this.stop(new Stop('superseded'));
      this.lastHeld = this.lastBeat;
      this.reported = n;
      this.exp.processedRows = n;
    } catch (err) {
      this.log.warn({ err }, 'Could not renew the lease (will retry)');
    } finally {
      this.beating = false;
    }
  }
}

/**
 * One export job: take the export's lease (if its tenant has a free slot),
 * stream its rows out of one read-only repeatable-read snapshot through the
 * format writer into a multipart upload of the attempt's own object,
 * publish progress, and record the outcome — every write fenced by the
 * lease. An attempt that does not end COMPLETED leaves no object behind.
 */
export class ExportProcessor {
  /** Running attempts, for a shutdown that cannot wait. */
  private readonly running = new Map<string, AttemptRun>();

  constructor(private readonly deps: ExportProcessorDeps) {}

  /** Attempts running now. */
  get activeCount(): number {
    return this.running.size;
  }

  /**
   * Stops every running attempt and hands it back to the queue at once: one
   * statement on its row, not after its pipeline unwinds, which a hung
   * storage or a dead Redis may never let happen before the process exits.
   */
  async handBackAll(): Promise<void> {
    await Promise.all(
      [...this.running.values()].map(async (run) => {
        run.stop(new Stop('shutdown'));
        if (await this.deps.lifecycle.handBack(run.attempt).catch(() => false)) {
          run.handedBack = true;
          run.log.warn('Worker shutting down: export handed back to the queue');
        }
      }),
    );
  }

  async process(job: Job<JobPayloads[JobName.EXPORT]>, token?: string): Promise<void> {
    const { exportId } = job.data;
    const logger = this.deps.logger.child({ exportId, jobId: job.id });
    const { config } = this.deps;
    const begun = await this.deps.lifecycle.claim(exportId, {
      leaseMs: config.workerLockDurationMs,
      tenantConcurrency: config.exportTenantConcurrency,
      maxAttempts: config.exportMaxAttempts,
    });
    switch (begun.outcome) {
      case 'gone':
        logger.info('Export is no longer waiting (cancelled, finished or deleted): nothing to do');
        return;
      case 'parked':
        logger.info('Its tenant runs as many exports as it may: back to wait for its turn');
        return;
      case 'lost':
        logger.error('Export failed: its attempts are spent (WORKER_LOST)');
        void this.deps.dispatcher.kick();
        return;
      case 'held':
        // Another attempt holds a live lease (a duplicate delivery): look again when it expires.
        if (token) await job.moveToDelayed(begun.until.getTime() + 250, token);
        throw new DelayedError();
      case 'started':
        break;
    }
    const { exp, attempt } = begun;
    const log = logger.child({ tenantId: exp.tenantId, attempt: attempt.number });
    if (attempt.number > 1) await bumpCounter(this.deps.dataSource, 'export_retries', exp.kind).catch(() => undefined);
    log.info({ kind: exp.kind, format: exp.format }, 'Export started');

    const run = new AttemptRun(exp, attempt, log, this.deps.lifecycle);
    this.running.set(exp.id, run);
    try {
      await this.runAttempt(run);
    } catch (err) {
      await this.settleFailure(run, err, job, token);
    } finally {
      this.running.delete(exp.id);
      // A slot of its tenant may be free now.
      void this.deps.dispatcher.kick();
    }
  }

  /** What a stopped or failed attempt leaves: handed back, retried later, or FAILED — only while it holds the lease. */
  private async settleFailure(run: AttemptRun, err: unknown, job: Job, token: string | undefined): Promise<void> {
    const { exp, attempt, log } = run;
    if (err instanceof Stop) {
      if (err.why === 'cancelled') return log.info('Export cancelled while running; upload aborted');
      if (err.why === 'superseded') {
        await bumpCounter(this.deps.dataSource, 'export_lost_leases').catch(() => undefined);
        return log.warn('Lease lost (paused too long, taken over by another attempt): stopped, own upload removed');
      }
      if (run.handedBack || (await this.deps.lifecycle.handBack(attempt))) {
        if (!run.handedBack) log.warn('Worker shutting down: export handed back to the queue');
        if (token) await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      return;
    }
    const decision = decideRetry(err, attempt.number, this.deps.config);
    const { failure } = decision;
    log[decision.final ? 'error' : 'warn']({ err, code: failure.code, final: decision.final }, 'Export attempt failed');
    if (decision.final) {
      await this.deps.lifecycle.fail(attempt, failure.code, failure.message);
      return;
    }
    const notBefore = new Date(Date.now() + decision.delayMs);
    if (!(await this.deps.lifecycle.retryLater(attempt, failure.code, failure.message, notBefore))) return;
    if (token) await job.moveToDelayed(notBefore.getTime(), token);
    throw new DelayedError();
  }

  /** The stages of one attempt, in order; each write is fenced by the attempt's lease. */
  private async runAttempt(run: AttemptRun): Promise<void> {
    const { dataSource: ds, storage } = this.deps;
    const { exp, attempt } = run;
    const tenant = await ds.getRepository(Tenant).findOneByOrFail({ id: exp.tenantId });
    const locale = exp.locale as ExportLocale;
    // The kind's module gives the queries, the writer and the file name (known once the totals are).
    const kind = exportKind(exp.kind);

    run.startHeartbeat();
    let snapshot: PoolClient | undefined;
    let broken = false;
    const onClientError = () => {
      broken = true;
    };
    let upload: Promise<{ size: number }> | undefined;
    let completion: OpenTransaction | undefined;
    let counted: Promise<void> | undefined;
    let orphan: string | undefined;
    try {
      snapshot = await this.openSnapshot();
      snapshot.on('error', onClientError);
      let totals: Record<string, unknown>;
      ({ totals, counted } = await this.countRows(run, snapshot, kind));
      await this.dropEarlierUploads(run);
      // The kind's own rows that commit with COMPLETED (transfer marks) are written as the file is.
      if (kind.writeWithCompletion) completion = await OpenTransaction.begin(this.deps.pool, attempt.leaseMs);
      const output = new PassThrough({ highWaterMark: 1024 * 1024 });
      const file = await kind.openAttempt({ db: snapshot, exp, tenant, totals, locale, output, maxRowsPerSheet: this.deps.maxRowsPerSheet, completion });
      // PROFILES: the recorded file name pattern, if any, names the file.
      file.fileName = patternFileName(exp, kind.fileStem[locale], tenant) ?? file.fileName;
      // Each attempt writes its own object (its number in the key).
      const fileKey = storage.objectKey(exp.tenantId, exp.id, file.fileName, attempt.number);
      upload = this.startUpload(run, file.writer, output, fileKey, file.fileName);
      // A probed total that fails stops the writing with its error.
      counted.catch((err: unknown) => file.writer.abort(err instanceof Error ? err : new Error(String(err))));
      const processed = await this.streamRows(run, snapshot, file.writer, kind.rowsQuery(exp.tenantId, exp.selection));
      await counted;
      run.check();
      if (processed !== run.exp.totalRows) {
        throw new Error(`Snapshot changed under the export: counted ${run.exp.totalRows} rows, streamed ${processed}`);
      }
      await file.writer.finish(this.summary(exp, tenant, totals, processed));
      const { size } = await upload;
      // This attempt's object, unnamed by any row until COMPLETED: gone with the attempt if it stops before.
      orphan = fileKey;
      await snapshot.query('COMMIT');
      run.check();
      orphan = undefined; // from here the completion decides (an attempt that lost deletes it)
      await this.complete(run, file, { rows: processed, key: fileKey, size }, completion);
    } catch (err) {
      if (!run.abort.signal.aborted) run.abort.abort(err);
      await upload?.catch(() => undefined); // the upload has aborted: no object, no parts
      await counted?.catch(() => undefined); // the probed totals' connection goes back to the pool first
      if (orphan) await storage.deleteObject(orphan).catch((e: unknown) => run.log.warn({ err: e }, 'Could not delete the file of an attempt that stopped'));
      if (snapshot && !broken) await snapshot.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw err;
    } finally {
      await completion?.rollback(); // a no-op once committed
      run.stopHeartbeat();
      snapshot?.off('error', onClientError); // pooled connections outlive this export
      snapshot?.release(broken ? true : undefined);
    }
  }

  /** One consistent snapshot: the totals of the Résumé agree with the rows. */
  private async openSnapshot(): Promise<PoolClient> {
    const client = await this.deps.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      // JIT compiles these big plans for 100-250 ms before their first row
      // (the line count, the rows query); a streaming export gains nothing from it.
      await client.query('SET LOCAL jit = off');
      return client;
    } catch (err) {
      client.release(true);
      throw err;
    }
  }

  /**
   * The totals, in the attempt's snapshot. A kind's probed totals (an index
   * probe per document into its lines) run on a connection of their
   * own while the rows stream; `counted` settles once they are merged and the
   * progress bar's total is recorded. Without them, it is settled already.
   */
  private async countRows(run: AttemptRun, client: PoolClient, kind: ExportKindDefinition): Promise<{ totals: Record<string, unknown>; counted: Promise<void> }> {
    const { tenantId, selection } = run.exp;
    const probeQuery = kind.probeTotalsQuery?.(tenantId, selection);
    // The client sends its statements in order: the snapshot is exported before the totals query runs.
    const probed = probeQuery ? exportSnapshot(client).then((id) => queryInSnapshot(this.deps.pool, id, probeQuery)) : null;
    probed?.catch(() => undefined); // awaited through `counted`
    const totalsQuery = kind.totalsQuery(tenantId, selection);
    const { rows: [totals] } = await client.query(totalsQuery.text, totalsQuery.values);
    run.check();
    const count = async (): Promise<void> => {
      if (probed) Object.assign(totals, await probed);
      const totalRows = kind.totalRows(totals);
      run.check();
      if (!(await this.deps.lifecycle.counted(run.attempt, totalRows))) {
        run.stop(new Stop('superseded'));
        run.check();
      }
      run.exp.totalRows = totalRows;
      if (probed) run.beatNow();
    };
    const counted = count();
    counted.catch(() => undefined); // awaited after the rows
    if (!probed) await counted;
    return { totals, counted };
  }

  /** A previous attempt may have died mid-upload (SIGKILL): drop its parts. This attempt holds the lease. */
  private async dropEarlierUploads(run: AttemptRun): Promise<void> {
    if (run.attempt.number <= 1) return;
    const { storage } = this.deps;
    await storage
      .abortMultipartUploads(storage.exportPrefix(run.exp.tenantId, run.exp.id))
      .catch((err: unknown) => run.log.warn({ err }, 'Could not clean up the uploads of a previous attempt'));
  }

  /** The upload of this attempt's own object; its failure (storage gone) stops the producer too. */
  private startUpload(run: AttemptRun, writer: ExportWriter<unknown>, output: PassThrough, key: string, fileName: string): Promise<{ size: number }> {
    const upload = this.deps.storage
      .uploadStream(key, output, { contentType: contentTypeFor(run.exp.format, run.exp.options), fileName, signal: run.abort.signal })
      .catch((err: unknown) => {
        throw run.stopped ?? new StorageFailure(err);
      });
    upload.catch((err) => {
      if (!run.stopped) writer.abort(err instanceof Error ? err : new Error(String(err)));
    });
    return upload;
  }

  /**
   * A cursor, not a protocol-level portal: PostgreSQL then plans for rows
   * taken as they come (cursor_tuple_fraction), e.g. invoices from their
   * index in export order instead of sorting them all before the first row.
   * Each batch is fetched while the previous one is written.
   */
  private async streamRows(run: AttemptRun, client: PoolClient, writer: ExportWriter<unknown>, rowsQuery: BuiltQuery): Promise<number> {
    await client.query(`DECLARE export_rows NO SCROLL CURSOR FOR ${rowsQuery.text}`, rowsQuery.values);
    const fetchRows = () => {
      const batch = client.query(`FETCH FORWARD ${FETCH_BATCH} FROM export_rows`).then((r) => r.rows);
      // The next batch is fetched while this one is written: if its connection
      // dies meanwhile (pg_terminate_backend, a network cut), its rejection
      // must not be unhandled until awaited, or Node kills the whole worker.
      batch.catch(() => undefined);
      return batch;
    };
    let next = fetchRows();
    try {
      for (;;) {
        const batch = await next;
        if (!batch.length || run.stopped) break;
        next = fetchRows();
        for (let i = 0; i < batch.length; i++) {
          if (run.stopped) break;
          const row = batch[i];
          // Dropped from the batch once written, a row dies young; kept, the
          // whole batch gets promoted and garbage piles up in the old
          // generation (+100 MB of RSS on 358,000 CSV lines).
          batch[i] = undefined;
          await writer.writeRow(row);
          if (++run.processed % YIELD_EVERY_ROWS === 0) await yieldToEventLoop();
        }
        if (run.stopped) break;
      }
    } catch (err) {
      if (!run.stopped) throw err;
    } finally {
      next.catch(() => undefined); // a batch still on its way when the loop stopped
    }
    run.check();
    return run.processed;
  }

  private summary(exp: InvoiceExport, tenant: Tenant, totals: Record<string, unknown>, rows: number): ExportSummary {
    return {
      tenantName: tenant.name,
      requestedBy: exp.requestedBy,
      requestedAt: exp.createdAt,
      generatedAt: new Date(),
      selection: describeSelection(exp.selection, exp.locale as ExportLocale),
      invoiceCount: Number(totals.invoiceCount),
      creditNoteCount: Number(totals.creditNoteCount),
      rowCount: rows,
      totalDue: String(totals.totalDue),
      totalPaid: String(totals.totalPaid),
      totalRemaining: String(totals.totalRemaining),
    };
  }

  /**
   * COMPLETED if this attempt still holds the lease, with the kind's
   * completion hook (accounting transfer marks) in the same transaction.
   * Otherwise the export was cancelled or taken over: the object is this
   * attempt's own (its key names the attempt), so deleting it cannot touch
   * the winner's file.
   */
  private async complete(run: AttemptRun, kindAttempt: KindAttempt<unknown>, file: { rows: number; key: string; size: number }, within?: OpenTransaction): Promise<void> {
    const { lifecycle, storage, config } = this.deps;
    run.check();
    const done = await lifecycle.complete(
      run.attempt,
      {
        ...file,
        name: kindAttempt.fileName,
        fileRows: kindAttempt.writer.rowCount,
        warnings: kindAttempt.warnings(),
        retentionDays: config.exportRetentionDays,
      },
      kindAttempt.onCompleted ? (qr) => kindAttempt.onCompleted!(qr) : undefined,
      within,
    );
    if (!done) {
      await storage.deleteObject(file.key).catch((err: unknown) => run.log.warn({ err }, 'Could not delete the file of an attempt that lost'));
      run.stop(new Stop((await lifecycle.whyLost(run.attempt)) === 'cancelled' ? 'cancelled' : 'superseded'));
      run.check();
    }
    run.log.info({ rows: file.rows, bytes: file.size, fileName: kindAttempt.fileName }, 'Export completed');
  }
}
