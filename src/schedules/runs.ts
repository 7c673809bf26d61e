import type { DataSource } from 'typeorm';
import { returning, SqlParams } from '../db/sql';
import { Role } from '../entities/enums';
import type { ExportService } from '../exports/export.service';
import { invoiceConditions, type InvoiceFilterSpec } from '../exports/selection';
import type { ProfileData } from '../profiles/profile.service';
import type { Period } from './periods';

/**
 * One run of a schedule = one (schedule, period) row, inserted once: its
 * primary key is what makes a period run exactly once, whatever restarts,
 * retries, racing processes or "run now" clicks. A run is PENDING until its
 * export is requested (or the period found empty), REQUESTED until the
 * export is final, then COMPLETED (mails queued) or FAILED (owner told).
 */

export interface ScheduleRow {
  id: string;
  tenantId: string;
  profileId: string;
  cadence: 'WEEKLY' | 'MONTHLY' | 'QUARTERLY';
  day: number;
  hour: number;
  recipients: string[];
  selection: 'NOT_YET_TRANSFERRED' | 'PREVIOUS_PERIOD';
  enabled: boolean;
  emptyPeriod: 'SKIP' | 'SEND_NOTICE';
  ownerId: string;
  ownerEmail: string;
  nextRunAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export const SCHEDULE_COLUMNS = `s.id, s.tenant_id AS "tenantId", s.profile_id AS "profileId", s.cadence, s.day, s.hour, s.recipients,
  s.selection, s.enabled, s.empty_period AS "emptyPeriod", s.owner_id AS "ownerId", s.owner_email AS "ownerEmail",
  s.next_run_at AS "nextRunAt", s.created_at AS "createdAt", s.updated_at AS "updatedAt"`;

/** Who an export of a schedule is requested by (`requestedBy`). */
export const scheduleRequester = (scheduleId: string) => `schedule:${scheduleId}`;

/** Records the run of a period; false when that period already has one. */
export async function claimPeriod(ds: DataSource, s: Pick<ScheduleRow, 'id' | 'tenantId'>, period: Period): Promise<boolean> {
  const rows: unknown[] = await ds.query(
    `INSERT INTO export_schedule_runs (schedule_id, period_start, period_end, tenant_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (schedule_id, period_start) DO NOTHING RETURNING schedule_id`,
    [s.id, period.start, period.end, s.tenantId],
  );
  return rows.length > 0;
}

/** The invoices a run selects: the profile's filter, narrowed to the period by the schedule's rule. */
export function runFilter(selection: ScheduleRow['selection'], profile: ProfileData, period: { start: string; end: string }): InvoiceFilterSpec {
  const base = { ...(profile.filter ?? {}) };
  if (selection === 'NOT_YET_TRANSFERRED') return { ...base, accountingTransferred: false, billingDateFrom: undefined, billingDateTo: period.end };
  return { ...base, billingDateFrom: period.start, billingDateTo: period.end };
}

/**
 * Requests the export of a PENDING run (or finds its period empty). The
 * idempotency key makes a second call after a crash return the same export.
 */
export async function requestRun(
  ds: DataSource,
  exports: ExportService,
  s: ScheduleRow,
  profile: ProfileData,
  period: { start: string; end: string },
): Promise<{ status: 'EMPTY' | 'REQUESTED'; exportId: string | null }> {
  const filter = runFilter(s.selection, profile, period);
  const params = new SqlParams();
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM invoices i WHERE ${invoiceConditions(params, s.tenantId, filter).join(' AND ')}`, params.values);
  if (n === 0) {
    const [marked] = await returning(ds,
      `UPDATE export_schedule_runs SET status = 'EMPTY' WHERE schedule_id = $1 AND period_start = $2 AND status = 'PENDING' RETURNING schedule_id`,
      [s.id, period.start],
    );
    if (marked && s.emptyPeriod === 'SEND_NOTICE') {
      await queueDeliveries(ds, { scheduleId: s.id, periodStart: period.start, tenantId: s.tenantId }, s.recipients, 'NOTICE', null, null, new Date());
    }
    return { status: 'EMPTY', exportId: null };
  }
  const principal = { tenantId: s.tenantId, userId: scheduleRequester(s.id), roles: [Role.ADMIN] };
  // Audited like any export request, the schedule as its actor.
  const exp = await exports.request(
    principal,
    { kind: profile.kind, profileId: profile.id, selection: { filter }, idempotencyKey: `${scheduleRequester(s.id)}:${period.start}` },
    { principal },
  );
  await ds.query(
    `UPDATE export_schedule_runs SET status = 'REQUESTED', export_id = $3 WHERE schedule_id = $1 AND period_start = $2 AND status = 'PENDING'`,
    [s.id, period.start, exp.id],
  );
  return { status: 'REQUESTED', exportId: exp.id };
}

export type DeliveryKind = 'FILE' | 'NOTICE' | 'FAILURE' | 'UNDELIVERABLE';

/** One delivery per (schedule, period, recipient, kind): a recipient never gets a period twice. */
export async function queueDeliveries(
  ds: Pick<DataSource, 'query'>,
  run: { scheduleId: string; periodStart: string; tenantId: string },
  recipients: string[],
  kind: DeliveryKind,
  exportId: string | null,
  detail: string | null,
  at: Date,
): Promise<void> {
  await ds.query(
    `INSERT INTO export_deliveries (schedule_id, period_start, recipient, kind, tenant_id, export_id, detail, next_attempt_at)
     SELECT $1, $2, r, $4, $5, $6, $7, $8 FROM unnest($3::text[]) AS r
     ON CONFLICT DO NOTHING`,
    [run.scheduleId, run.periodStart, recipients, kind, run.tenantId, exportId, detail, at],
  );
}
