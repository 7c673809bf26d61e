import type { DataSource } from 'typeorm';
import { AuditAction, AuditTarget, recordAudit, type AuditActor } from '../audit/audit';
import { changedFields, filterSummary } from '../audit/details';
import { isUuid, returning } from '../db/sql';
import type { ExportFormat, ExportKind } from '../entities/enums';
import { badInput, notFound } from '../errors';
import { resolveExportFormat } from '../exports/kinds';
import { DEFAULT_EXPORT_LOCALE, isExportLocale, SUPPORTED_LOCALES, type ExportLocale } from '../exports/labels';
import { validateFilter, type InvoiceFilterSpec } from '../exports/selection';
import type { CsvFileOptions } from '../exports/writers/csv';
import type { ColumnChoice, FileLayout } from './file-layout';
import { buildLayout, type LayoutInput } from './layout-input';

/** A saved profile (docs/profiles.md), as stored. */
export interface ProfileData {
  id: string;
  tenantId: string;
  name: string;
  kind: ExportKind;
  format: ExportFormat;
  locale: ExportLocale;
  columns: ColumnChoice[] | null;
  filter: InvoiceFilterSpec | null;
  csv: CsvFileOptions | null;
  fileNamePattern: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProfileInput extends LayoutInput {
  name: string;
  kind: ExportKind;
  format?: ExportFormat | null;
  locale?: string | null;
  filter?: InvoiceFilterSpec | null;
}

const SELECT = `SELECT id, tenant_id AS "tenantId", name, kind, format, locale, columns, filter, csv,
  file_name_pattern AS "fileNamePattern", created_by AS "createdBy", created_at AS "createdAt", updated_at AS "updatedAt"
  FROM export_profiles`;

/** The layout an export takes from a profile: its settings as they are now, recorded on the export. */
export function layoutOfProfile(p: ProfileData): FileLayout {
  return { profileId: p.id, profileName: p.name, columns: p.columns, csv: p.csv, fileNamePattern: p.fileNamePattern };
}

function stripEmpty(filter: InvoiceFilterSpec): InvoiceFilterSpec | null {
  const kept = Object.entries(filter).filter(([, v]) => v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length));
  return kept.length ? (Object.fromEntries(kept) as InvoiceFilterSpec) : null;
}

/** Checked values to store; every refusal is BAD_USER_INPUT naming the offender. */
function checked(input: ProfileInput) {
  const name = input.name?.trim() ?? '';
  if (!name) throw badInput('name is empty: give the profile a name', { field: 'name' });
  if (name.length > 100) throw badInput('name is too long (at most 100 characters)', { field: 'name' });
  const format = resolveExportFormat(input.kind, input.format);
  const locale = input.locale ?? DEFAULT_EXPORT_LOCALE;
  if (!isExportLocale(locale)) throw badInput(`locale must be one of ${SUPPORTED_LOCALES.join(', ')} (got "${locale}")`, { field: 'locale' });
  validateFilter(input.filter, 'filter');
  const layout = buildLayout(input.kind, format, input);
  return {
    name,
    format,
    locale,
    columns: layout?.columns ?? null,
    csv: layout?.csv ?? null,
    fileNamePattern: layout?.fileNamePattern ?? null,
    filter: input.filter ? stripEmpty(input.filter) : null,
  };
}

/** A profile's settings as the audit trail keeps them: the filter without any payer's data. */
function auditedSettings(p: ProfileData): Record<string, unknown> {
  return {
    name: p.name, kind: p.kind, format: p.format, locale: p.locale, columns: p.columns, csv: p.csv, fileNamePattern: p.fileNamePattern,
    filter: p.filter ? filterSummary(p.filter) : null,
  };
}

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

/** A second profile with the same name (case-insensitive) in the tenant. */
function nameTaken(err: unknown, name: string): never {
  if ((err as { code?: string }).code === '23505') {
    throw badInput(`A profile named "${name}" already exists`, { field: 'name' });
  }
  throw err;
}

/** Profiles of one tenant: every query scoped by it; another tenant's id is not found. */
export class ProfileService {
  constructor(private readonly ds: DataSource) {}

  list(tenantId: string): Promise<ProfileData[]> {
    return this.ds.query(`${SELECT} WHERE tenant_id = $1 ORDER BY lower(name), id`, [tenantId]);
  }

  async get(tenantId: string, id: string): Promise<ProfileData | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.ds.query(`${SELECT} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    return row ?? null;
  }

  async getOrFail(tenantId: string, id: string, field = 'id'): Promise<ProfileData> {
    const found = await this.get(tenantId, id);
    if (!found) throw badInput(`${field}: no export profile with id "${id}"`, { field });
    return found;
  }

  /** Created and audited in one transaction: both are kept or neither. */
  async create(who: AuditActor, input: ProfileInput): Promise<ProfileData> {
    const { tenantId, userId } = who.principal;
    const v = checked(input);
    return this.ds.transaction(async (tx) => {
      const [{ id }] = await tx
        .query(
          `INSERT INTO export_profiles (tenant_id, name, kind, format, locale, columns, filter, csv, file_name_pattern, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
          [tenantId, v.name, input.kind, v.format, v.locale, json(v.columns), json(v.filter), json(v.csv), v.fileNamePattern, userId],
        )
        .catch((err: unknown) => nameTaken(err, v.name));
      const [created]: ProfileData[] = await tx.query(`${SELECT} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      await recordAudit(tx, who, { action: AuditAction.EXPORT_PROFILE_CREATED, targetType: AuditTarget.EXPORT_PROFILE, targetId: id, details: auditedSettings(created) });
      return created;
    });
  }

  async update(who: AuditActor, id: string, input: ProfileInput): Promise<ProfileData> {
    const { tenantId } = who.principal;
    if (!isUuid(id)) throw notFound(`No export profile with id "${id}"`);
    const v = checked(input);
    return this.ds.transaction(async (tx) => {
      const [before]: ProfileData[] = await tx.query(`${SELECT} WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
      if (!before) throw notFound(`No export profile with id "${id}"`);
      await tx
        .query(
          `UPDATE export_profiles SET name = $3, kind = $4, format = $5, locale = $6, columns = $7, filter = $8, csv = $9,
             file_name_pattern = $10, updated_at = now()
           WHERE tenant_id = $1 AND id = $2`,
          [tenantId, id, v.name, input.kind, v.format, v.locale, json(v.columns), json(v.filter), json(v.csv), v.fileNamePattern],
        )
        .catch((err: unknown) => nameTaken(err, v.name));
      const [after]: ProfileData[] = await tx.query(`${SELECT} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
      await recordAudit(tx, who, {
        action: AuditAction.EXPORT_PROFILE_CHANGED, targetType: AuditTarget.EXPORT_PROFILE, targetId: id,
        details: { name: after.name, ...changedFields(auditedSettings(before), auditedSettings(after)) },
      });
      return after;
    });
  }

  /** Exports made with it keep their recorded layout. */
  async delete(who: AuditActor, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { tenantId } = who.principal;
    return this.ds.transaction(async (tx) => {
      const rows = await returning<{ id: string; name: string; kind: string }>(
        tx, `DELETE FROM export_profiles WHERE tenant_id = $1 AND id = $2 RETURNING id, name, kind`, [tenantId, id],
      ).catch((err: { code?: string }) => {
        // export_schedules.profile_id: a schedule still sends with it.
        if (err.code === '23503') throw badInput('The profile is used by a scheduled send: delete the schedule or give it another profile first', { field: 'id' });
        throw err;
      });
      if (!rows.length) return false;
      await recordAudit(tx, who, { action: AuditAction.EXPORT_PROFILE_DELETED, targetType: AuditTarget.EXPORT_PROFILE, targetId: id, details: { name: rows[0].name, kind: rows[0].kind } });
      return true;
    });
  }
}
