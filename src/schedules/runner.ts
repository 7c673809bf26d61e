import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { returning } from '../db/sql';
import { AppError } from '../errors';
import type { ExportService } from '../exports/export.service';
import { exportKind } from '../exports/kinds';
import { createLink } from '../links/links';
import type { Mailer, MailMessage } from '../mail/mailer';
import { emptyPeriodMail, failedRunMail, fileMail, undeliverableMail, type PeriodFacts } from '../mail/messages';
import { ProfileService } from '../profiles/profile.service';
import { nextRunAfter, periodBefore, type Period } from './periods';
import { SCHEDULE_COLUMNS, claimPeriod, queueDeliveries, requestRun, type DeliveryKind, type ScheduleRow } from './runs';
import { AdvisoryLock, withDeploymentLock } from '../db/advisory-locks';

export interface ScheduleRunnerDeps {
  dataSource: DataSource;
  exports: ExportService;
  config: Readonly<Config>;
  logger: Logger;
  mailer: Mailer;
  /** Base of the links in the mails. */
  publicUrl: string;
  /** The clock that decides what is due (tests move it). */
  now?: () => Date;
}

/** A mail is tried this often before it is given up (and the owner told). */
export const MAX_SEND_ATTEMPTS = 5;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;
/** A delivery being sent is leased this long: a process that dies mid-send leaves it to another. */
const SEND_LEASE_MS = 10 * 60_000;
const BATCH = 50;

export const retryDelayMs = (attempts: number) => Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));

interface RunRow {
  scheduleId: string;
  periodStart: string;
  periodEnd: string;
  tenantId: string;
  exportId: string | null;
}

/**
 * The scheduled sends (docs/profiles.md), from a timer under a PostgreSQL
 * advisory lock like the reconciler: PostgreSQL decides what is due, so a
 * Redis outage or a dead worker loses no run. Each pass:
 *  1. due schedules claim the period that ended last (once per period: a
 *     run missed while everything was down runs once when it is back);
 *  2. PENDING runs request their export (an ordinary one);
 *  3. runs whose export is final queue their mails (files or the owner's
 *     failure notice);
 *  4. due mails are sent, retried with backoff, the owner told when one
 *     cannot be delivered.
 */
export class ScheduleRunner {
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | undefined;
  private readonly now: () => Date;
  private readonly profiles: ProfileService;

  constructor(private readonly deps: ScheduleRunnerDeps) {
    this.now = deps.now ?? (() => new Date());
    this.profiles = new ProfileService(deps.dataSource);
  }

  start(intervalMs = this.deps.config.reconcileIntervalMs): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick().catch(() => undefined), intervalMs);
    this.timer.unref();
    void this.tick().catch(() => undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.busy?.catch(() => undefined);
  }

  /** One pass (the timer's; tests call it after moving the clock). Concurrent calls share the pass under way. */
  tick(): Promise<void> {
    this.busy ??= this.withLock(() => this.pass())
      .catch((err) => this.deps.logger.warn({ err }, 'Scheduled sends: pass failed'))
      .finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async pass(): Promise<void> {
    await this.claimDue();
    await this.requestPending();
    await this.settleFinished();
    await this.sendDue();
  }

  private async withLock(fn: () => Promise<void>): Promise<void> {
    // A stalled holder's session ends after 120 s, and its lock with it.
    await withDeploymentLock(this.deps.dataSource, AdvisoryLock.SCHEDULES, this.deps.config.queuePrefix, 120_000, fn);
  }

  /** 1. Every enabled schedule whose time has come claims its period, then looks to its next time. */
  private async claimDue(): Promise<void> {
    const { dataSource: ds } = this.deps;
    const now = this.now();
    const due: (ScheduleRow & { timezone: string })[] = await ds.query(
      `SELECT ${SCHEDULE_COLUMNS}, t.timezone FROM export_schedules s JOIN tenants t ON t.id = s.tenant_id
       WHERE s.enabled AND s.next_run_at <= $1 AND s.queue_prefix = $2 ORDER BY s.next_run_at LIMIT ${BATCH}`,
      [now, this.deps.config.queuePrefix],
    );
    for (const s of due) {
      const period = periodBefore(s.cadence, now, s.timezone);
      if (await claimPeriod(ds, s, period)) this.deps.logger.info({ scheduleId: s.id, period: period.start }, 'Scheduled send due');
      await ds.query(`UPDATE export_schedules SET next_run_at = $2 WHERE id = $1 AND next_run_at = $3`, [
        s.id,
        nextRunAfter(s.cadence, s.day, s.hour, s.timezone, now),
        s.nextRunAt,
      ]);
    }
  }

  /** 2. Runs claimed but not requested yet (just now, by "run now", or before a crash). */
  private async requestPending(): Promise<void> {
    const { dataSource: ds, exports } = this.deps;
    const runs: RunRow[] = await ds.query(
      `SELECT r.schedule_id AS "scheduleId", r.period_start::text AS "periodStart", r.period_end::text AS "periodEnd", r.tenant_id AS "tenantId", r.export_id AS "exportId"
       FROM export_schedule_runs r JOIN export_schedules s ON s.id = r.schedule_id AND s.queue_prefix = $1
       WHERE r.status = 'PENDING' ORDER BY r.created_at LIMIT ${BATCH}`,
      [this.deps.config.queuePrefix],
    );
    for (const run of runs) {
      const s = await this.schedule(run.scheduleId);
      if (!s) continue;
      const profile = await this.profiles.get(s.tenantId, s.profileId);
      const period = { start: run.periodStart, end: run.periodEnd };
      try {
        if (!profile) throw new Error('its profile was deleted');
        await requestRun(ds, exports, s, profile, period);
      } catch (err) {
        const reason = err instanceof AppError ? `${err.message} (${err.code})` : (err as Error).message;
        if (err instanceof AppError && err.code === 'RATE_LIMITED') continue; // the next pass tries again
        this.deps.logger.warn({ err, scheduleId: s.id, period: period.start }, 'Scheduled export could not be requested');
        await this.failRun(run, s, reason);
      }
    }
  }

  /** 3. Runs whose export is final: the recipients' mails, or the owner's. */
  private async settleFinished(): Promise<void> {
    const { dataSource: ds } = this.deps;
    const runs: (RunRow & { status: string; errorCode: string | null; errorMessage: string | null })[] = await ds.query(
      `SELECT r.schedule_id AS "scheduleId", r.period_start::text AS "periodStart", r.period_end::text AS "periodEnd", r.tenant_id AS "tenantId",
              r.export_id AS "exportId", e.status, e.error_code AS "errorCode", e.error_message AS "errorMessage"
       FROM export_schedule_runs r JOIN invoice_exports e ON e.id = r.export_id
       JOIN export_schedules s ON s.id = r.schedule_id AND s.queue_prefix = $1
       WHERE r.status = 'REQUESTED' AND e.status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED') LIMIT ${BATCH}`,
      [this.deps.config.queuePrefix],
    );
    for (const run of runs) {
      const s = await this.schedule(run.scheduleId);
      if (!s) continue;
      if (run.status === 'COMPLETED') {
        await this.queueMails(run, s.recipients, 'FILE', run.exportId);
        await ds.query(`UPDATE export_schedule_runs SET status = 'COMPLETED' WHERE schedule_id = $1 AND period_start = $2`, [run.scheduleId, run.periodStart]);
      } else {
        const reason = run.status === 'FAILED' ? `${run.errorMessage ?? 'échec'} (${run.errorCode ?? 'FAILED'})` : `l'export est ${run.status}`;
        await this.failRun(run, s, reason);
      }
    }
  }

  private async failRun(run: RunRow, s: ScheduleRow, reason: string): Promise<void> {
    await this.deps.dataSource.query(
      `UPDATE export_schedule_runs SET status = 'FAILED', error = $3 WHERE schedule_id = $1 AND period_start = $2`,
      [run.scheduleId, run.periodStart, reason],
    );
    await this.queueMails(run, [s.ownerEmail], 'FAILURE', run.exportId, reason);
  }

  private queueMails(run: RunRow, recipients: string[], kind: DeliveryKind, exportId: string | null, detail: string | null = null): Promise<void> {
    return queueDeliveries(this.deps.dataSource, run, recipients, kind, exportId, detail, this.now());
  }

  /** 4. Mails whose time has come; each is leased while it is sent, so that two processes never send it both. */
  private async sendDue(): Promise<void> {
    const { dataSource: ds, logger } = this.deps;
    const now = this.now();
    const due: { scheduleId: string; periodStart: string; periodEnd: string; recipient: string; kind: string; tenantId: string; exportId: string | null; attempts: number; detail: string | null }[] =
      await ds.query(
        `SELECT d.schedule_id AS "scheduleId", d.period_start::text AS "periodStart", r.period_end::text AS "periodEnd", d.recipient, d.kind,
                d.tenant_id AS "tenantId", d.export_id AS "exportId", d.attempts, d.detail
         FROM export_deliveries d JOIN export_schedule_runs r USING (schedule_id, period_start)
         JOIN export_schedules s ON s.id = d.schedule_id AND s.queue_prefix = $2
         WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at LIMIT ${BATCH}`,
        [now, this.deps.config.queuePrefix],
      );
    for (const d of due) {
      const key = [d.scheduleId, d.periodStart, d.recipient, d.kind];
      const leased = await returning(ds,
        `UPDATE export_deliveries SET next_attempt_at = $5, attempts = attempts + 1
         WHERE schedule_id = $1 AND period_start = $2 AND recipient = $3 AND kind = $4 AND status = 'PENDING' AND attempts = $6
         RETURNING attempts`,
        [...key, new Date(now.getTime() + SEND_LEASE_MS), d.attempts],
      );
      if (!leased.length) continue;
      const attempts = d.attempts + 1;
      let linkId: string | null = null;
      try {
        const composed = await this.compose(d);
        linkId = composed.linkId;
        const { messageId } = await this.deps.mailer.send(composed.message);
        await ds.query(
          `UPDATE export_deliveries SET status = 'SENT', sent_at = $5, message_id = $6, last_error = NULL
           WHERE schedule_id = $1 AND period_start = $2 AND recipient = $3 AND kind = $4`,
          [...key, this.now(), messageId],
        );
        logger.info({ scheduleId: d.scheduleId, period: d.periodStart, kind: d.kind, attempts }, 'Scheduled mail sent');
      } catch (err) {
        const reason = (err as Error).message.split('\n')[0];
        if (linkId) await ds.query(`DELETE FROM export_links WHERE id = $1`, [linkId]).catch(() => undefined);
        const last = attempts >= MAX_SEND_ATTEMPTS;
        logger.warn({ err: reason, scheduleId: d.scheduleId, kind: d.kind, attempts, final: last }, 'Scheduled mail not sent');
        await ds.query(
          `UPDATE export_deliveries SET status = $5, next_attempt_at = $6, last_error = $7
           WHERE schedule_id = $1 AND period_start = $2 AND recipient = $3 AND kind = $4`,
          [...key, last ? 'FAILED' : 'PENDING', new Date(this.now().getTime() + retryDelayMs(attempts)), reason],
        );
        if (last && (d.kind === 'FILE' || d.kind === 'NOTICE')) {
          const s = await this.schedule(d.scheduleId);
          if (s) await this.queueMails({ ...d, exportId: d.exportId }, [s.ownerEmail], 'UNDELIVERABLE', d.exportId, `${d.recipient}\n${attempts}\n${reason}`);
        }
      }
    }
  }

  private async compose(d: { scheduleId: string; periodStart: string; periodEnd: string; recipient: string; kind: string; tenantId: string; exportId: string | null; detail: string | null }): Promise<{ message: MailMessage; linkId: string | null }> {
    const { dataSource: ds, config } = this.deps;
    const s = await this.schedule(d.scheduleId);
    const [tenant] = await ds.query(`SELECT name, timezone FROM tenants WHERE id = $1`, [d.tenantId]);
    const profile = s ? await this.profiles.get(s.tenantId, s.profileId) : null;
    const period: Period = { start: d.periodStart, end: d.periodEnd, label: s ? periodBefore(s.cadence, dayAfter(d.periodEnd), 'UTC').label : d.periodStart };
    const facts: PeriodFacts = { school: tenant.name, profileName: profile?.name ?? 'export', periodLabel: period.label, periodStart: period.start, periodEnd: period.end };
    if (d.kind === 'NOTICE') return { message: emptyPeriodMail(d.recipient, facts), linkId: null };
    if (d.kind === 'FAILURE') return { message: failedRunMail(d.recipient, facts, d.detail ?? ''), linkId: null };
    if (d.kind === 'UNDELIVERABLE') {
      const [recipient, attempts, reason] = (d.detail ?? '').split('\n');
      return { message: undeliverableMail(d.recipient, facts, recipient, Number(attempts), reason ?? ''), linkId: null };
    }
    const [exp] = await ds.query(
      `SELECT id, kind, status, selection, file_name AS "fileName", file_size AS "fileSize", row_count AS "rowCount" FROM invoice_exports WHERE tenant_id = $1 AND id = $2`,
      [d.tenantId, d.exportId],
    );
    if (!exp || exp.status !== 'COMPLETED') throw new Error('The export is no longer available');
    const totalsQuery = exportKind(exp.kind).totalsQuery(d.tenantId, exp.selection);
    const [totals] = await ds.query(totalsQuery.text, totalsQuery.values);
    const link = await createLink(ds, { tenantId: d.tenantId, exportId: exp.id, recipient: d.recipient, days: config.exportLinkDays, now: this.now() });
    const message = fileMail(d.recipient, facts, {
      fileName: exp.fileName,
      fileSize: Number(exp.fileSize),
      rowCount: exp.rowCount,
      invoiceCount: Number(totals.invoiceCount),
      creditNoteCount: Number(totals.creditNoteCount),
      totalDue: String(totals.totalDue),
      link: `${this.deps.publicUrl}/d/${link.token}`,
      linkExpiresAt: link.expiresAt,
      timeZone: tenant.timezone,
    });
    return { message, linkId: link.id };
  }

  private async schedule(id: string): Promise<ScheduleRow | null> {
    const [row] = await this.deps.dataSource.query(`SELECT ${SCHEDULE_COLUMNS} FROM export_schedules s WHERE s.id = $1`, [id]);
    return row ?? null;
  }
}

/** Noon UTC of the day after `iso`: inside the next period whatever the zone (to find a period's label again). */
function dayAfter(iso: string): Date {
  const d = new Date(`${iso}T12:00:00Z`);
  return new Date(d.getTime() + 86_400_000);
}
