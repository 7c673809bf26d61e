import type { DataSource } from 'typeorm';
import { AuditAction, AuditTarget, recordAudit, type AuditActor } from '../audit/audit';
import type { Principal } from '../auth/jwt';
import { changedFields } from '../audit/details';
import { isUuid, returning, type Queryable } from '../db/sql';
import { ExportKind } from '../entities/enums';
import { badInput, notFound } from '../errors';
import type { ExportService } from '../exports/export.service';
import { ProfileService } from '../profiles/profile.service';
import { nextRunAfter, periodBefore, type Cadence } from './periods';
import { SCHEDULE_COLUMNS, claimPeriod, requestRun, type ScheduleRow } from './runs';

export interface ScheduleInput {
  profileId: string;
  cadence: Cadence;
  day: number;
  hour: number;
  recipients: string[];
  selection: ScheduleRow['selection'];
  enabled?: boolean | null;
  emptyPeriod?: ScheduleRow['emptyPeriod'] | null;
  ownerEmail?: string | null;
}

/** Whether this process can send mail: SMTP_URL, or the embedded sink of the single-process modes. */
export interface SendingState {
  smtpUrl: string | null;
}

export interface ScheduleView extends ScheduleRow {
  lastRunExportId: string | null;
  lastRunStatus: string | null;
  lastPeriodStart: string | null;
}

const EMAIL = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+\.[^\s@<>(),;:"\\[\]]+$/;
const MAX_RECIPIENTS = 10;

function checkEmail(value: string, field: string): string {
  const v = value.trim();
  if (v.length > 254 || !EMAIL.test(v)) throw badInput(`${field}: ${JSON.stringify(value)} is not an e-mail address`, { field });
  return v;
}

/**
 * A schedule's settings as the audit trail keeps them. The recipients and
 * the owner are the school's own addresses (its accountant, its staff), not
 * payers' data (docs/privacy.md).
 */
function auditedSettings(s: ScheduleRow): Record<string, unknown> {
  return {
    profileId: s.profileId, cadence: s.cadence, day: s.day, hour: s.hour, recipients: s.recipients, selection: s.selection,
    enabled: s.enabled, emptyPeriod: s.emptyPeriod, ownerEmail: s.ownerEmail,
  };
}

/** Schedules of one tenant (docs/profiles.md); every query scoped by it. */
export class ScheduleService {
  private readonly profiles: ProfileService;

  constructor(
    private readonly ds: DataSource,
    private readonly exports: ExportService,
    private readonly sending: SendingState,
    /** The deployment whose runner sends this tenant's schedules (QUEUE_PREFIX), as exports record theirs. */
    private readonly queuePrefix: string,
  ) {
    this.profiles = new ProfileService(ds);
  }

  private readonly viewSql = `SELECT ${SCHEDULE_COLUMNS},
      lr.export_id AS "lastRunExportId", lr.status AS "lastRunStatus", lr.period_start::text AS "lastPeriodStart"
    FROM export_schedules s
    LEFT JOIN LATERAL (SELECT r.export_id, r.status, r.period_start FROM export_schedule_runs r
                       WHERE r.schedule_id = s.id ORDER BY r.period_start DESC LIMIT 1) lr ON true`;

  list(tenantId: string): Promise<ScheduleView[]> {
    return this.ds.query(`${this.viewSql} WHERE s.tenant_id = $1 ORDER BY s.created_at, s.id`, [tenantId]);
  }

  async get(tenantId: string, id: string, db: Queryable = this.ds): Promise<ScheduleView | null> {
    if (!isUuid(id)) return null;
    const [row] = (await db.query(`${this.viewSql} WHERE s.tenant_id = $1 AND s.id = $2`, [tenantId, id])) as ScheduleView[];
    return row ?? null;
  }

  private async getOrFail(tenantId: string, id: string): Promise<ScheduleView> {
    const s = await this.get(tenantId, id);
    if (!s) throw notFound(`No export schedule with id "${id}"`);
    return s;
  }

  private assertCanSend(): void {
    if (!this.sending.smtpUrl) {
      throw badInput(
        'Scheduled sends need a mail server: set SMTP_URL (separate API and worker processes have no embedded mail sink; `npm start` and `npm run demo` start one)',
        { field: 'SMTP_URL' },
      );
    }
  }

  private async checked(tenantId: string, principal: Principal, input: ScheduleInput) {
    const profile = await this.profiles.getOrFail(tenantId, input.profileId, 'profileId');
    if (!['WEEKLY', 'MONTHLY', 'QUARTERLY'].includes(input.cadence)) throw badInput('cadence must be WEEKLY, MONTHLY or QUARTERLY', { field: 'cadence' });
    const [lo, hi] = input.cadence === 'WEEKLY' ? [1, 7] : [1, 28];
    if (!Number.isInteger(input.day) || input.day < lo || input.day > hi) {
      throw badInput(
        input.cadence === 'WEEKLY'
          ? `day must be a weekday from 1 (Monday) to 7 (Sunday) (got ${input.day})`
          : `day must be from 1 to 28, so that every month has it (got ${input.day})`,
        { field: 'day' },
      );
    }
    if (!Number.isInteger(input.hour) || input.hour < 0 || input.hour > 23) throw badInput(`hour must be from 0 to 23 (got ${input.hour})`, { field: 'hour' });
    const recipients = [...new Map(input.recipients.map((r, i) => checkEmail(r, `recipients[${i}]`)).map((r) => [r.toLowerCase(), r])).values()];
    if (!recipients.length) throw badInput('recipients is empty: give at least one e-mail address', { field: 'recipients' });
    if (recipients.length > MAX_RECIPIENTS) throw badInput(`recipients may hold at most ${MAX_RECIPIENTS} addresses (got ${recipients.length})`, { field: 'recipients' });
    if (input.selection === 'NOT_YET_TRANSFERRED' && profile.kind !== ExportKind.ACCOUNTING_ENTRIES) {
      throw badInput(
        `selection NOT_YET_TRANSFERRED goes with a profile of accounting entries (only they mark documents transferred); the profile "${profile.name}" exports ${profile.kind}: use PREVIOUS_PERIOD`,
        { field: 'selection' },
      );
    }
    const ownerEmail = input.ownerEmail
      ? checkEmail(input.ownerEmail, 'ownerEmail')
      : EMAIL.test(principal.userId) ? principal.userId : recipients[0];
    return { profile, recipients, ownerEmail, enabled: input.enabled ?? true, emptyPeriod: input.emptyPeriod ?? 'SKIP' };
  }

  private async timezoneOf(tenantId: string): Promise<string> {
    const [t] = await this.ds.query(`SELECT timezone FROM tenants WHERE id = $1`, [tenantId]);
    return t.timezone;
  }

  /** Created and audited in one transaction: both are kept or neither. */
  async create(who: AuditActor, input: ScheduleInput): Promise<ScheduleView> {
    this.assertCanSend();
    const { principal } = who;
    const { tenantId } = principal;
    const v = await this.checked(tenantId, principal, input);
    const next = nextRunAfter(input.cadence, input.day, input.hour, await this.timezoneOf(tenantId), new Date());
    return this.ds.transaction(async (tx) => {
      const [{ id }] = await tx.query(
        `INSERT INTO export_schedules (tenant_id, profile_id, cadence, day, hour, recipients, selection, enabled, empty_period, owner_id, owner_email, next_run_at, queue_prefix)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
        [tenantId, v.profile.id, input.cadence, input.day, input.hour, v.recipients, input.selection, v.enabled, v.emptyPeriod, principal.userId, v.ownerEmail, next, this.queuePrefix],
      );
      const created = (await this.get(tenantId, id, tx))!;
      await recordAudit(tx, who, {
        action: AuditAction.EXPORT_SCHEDULE_CREATED, targetType: AuditTarget.EXPORT_SCHEDULE, targetId: id,
        details: { profileName: v.profile.name, ...auditedSettings(created) },
      });
      return created;
    });
  }

  async update(who: AuditActor, id: string, input: ScheduleInput): Promise<ScheduleView> {
    const { principal } = who;
    const { tenantId } = principal;
    await this.getOrFail(tenantId, id);
    this.assertCanSend();
    const v = await this.checked(tenantId, principal, input);
    const next = nextRunAfter(input.cadence, input.day, input.hour, await this.timezoneOf(tenantId), new Date());
    return this.ds.transaction(async (tx) => {
      const [before] = (await tx.query(`SELECT ${SCHEDULE_COLUMNS} FROM export_schedules s WHERE s.tenant_id = $1 AND s.id = $2 FOR UPDATE`, [tenantId, id])) as ScheduleRow[];
      if (!before) throw notFound(`No export schedule with id "${id}"`);
      await tx.query(
        `UPDATE export_schedules SET profile_id = $3, cadence = $4, day = $5, hour = $6, recipients = $7, selection = $8, enabled = $9,
           empty_period = $10, owner_email = $11, next_run_at = $12, updated_at = now()
         WHERE tenant_id = $1 AND id = $2`,
        [tenantId, id, v.profile.id, input.cadence, input.day, input.hour, v.recipients, input.selection, v.enabled, v.emptyPeriod, v.ownerEmail, next],
      );
      const after = (await this.get(tenantId, id, tx))!;
      await recordAudit(tx, who, {
        action: AuditAction.EXPORT_SCHEDULE_CHANGED, targetType: AuditTarget.EXPORT_SCHEDULE, targetId: id,
        details: changedFields(auditedSettings(before), auditedSettings(after)),
      });
      return after;
    });
  }

  async delete(who: AuditActor, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { tenantId } = who.principal;
    return this.ds.transaction(async (tx) => {
      const [row] = await returning<ScheduleRow>(tx, `DELETE FROM export_schedules s WHERE s.tenant_id = $1 AND s.id = $2 RETURNING ${SCHEDULE_COLUMNS}`, [tenantId, id]);
      if (!row) return false;
      await recordAudit(tx, who, { action: AuditAction.EXPORT_SCHEDULE_DELETED, targetType: AuditTarget.EXPORT_SCHEDULE, targetId: id, details: auditedSettings(row) });
      return true;
    });
  }

  /**
   * Runs the period that ended last, now. The period's run is claimed once:
   * a second call for the same period returns its export and sends nothing
   * again. The runner sends the mails when the export completes.
   */
  async runNow(principal: Principal, id: string): Promise<string | null> {
    const { tenantId } = principal;
    const s = await this.getOrFail(tenantId, id);
    this.assertCanSend();
    const period = periodBefore(s.cadence, new Date(), await this.timezoneOf(tenantId));
    if (await claimPeriod(this.ds, s, period)) {
      const profile = await this.profiles.getOrFail(tenantId, s.profileId, 'profileId');
      // Requested here, so that the caller gets the export (or a refusal) at once.
      try {
        return (await requestRun(this.ds, this.exports, s, profile, period)).exportId;
      } catch (err) {
        // Nothing was requested: free the period for another try.
        await this.ds.query(`DELETE FROM export_schedule_runs WHERE schedule_id = $1 AND period_start = $2 AND status = 'PENDING'`, [s.id, period.start]);
        throw err;
      }
    }
    const [run] = await this.ds.query(`SELECT export_id AS "exportId" FROM export_schedule_runs WHERE schedule_id = $1 AND period_start = $2`, [s.id, period.start]);
    return run?.exportId ?? null;
  }
}
