import { registerEnumType } from 'type-graphql';
import type { Queryable } from '../db/sql';
import type { Principal } from '../auth/jwt';

/**
 * What the audit trail records (SECURITY.md). Adding an action is one line
 * here; the GraphQL enum, the filter and the page follow.
 */
export enum AuditAction {
  EXPORT_REQUESTED = 'EXPORT_REQUESTED',
  /** Refused with RATE_LIMITED (per-user rate or the tenant's cap of active exports). */
  EXPORT_REFUSED = 'EXPORT_REFUSED',
  EXPORT_CANCELLED = 'EXPORT_CANCELLED',
  /** Each read of `downloadUrl`: a fresh presigned URL to the file. */
  DOWNLOAD_URL_ISSUED = 'DOWNLOAD_URL_ISSUED',
  TRANSFER_REVERTED = 'TRANSFER_REVERTED',
  ACCOUNTING_SETTINGS_CHANGED = 'ACCOUNTING_SETTINGS_CHANGED',
  EXPORT_PROFILE_CREATED = 'EXPORT_PROFILE_CREATED',
  EXPORT_PROFILE_CHANGED = 'EXPORT_PROFILE_CHANGED',
  EXPORT_PROFILE_DELETED = 'EXPORT_PROFILE_DELETED',
  EXPORT_SCHEDULE_CREATED = 'EXPORT_SCHEDULE_CREATED',
  EXPORT_SCHEDULE_CHANGED = 'EXPORT_SCHEDULE_CHANGED',
  EXPORT_SCHEDULE_DELETED = 'EXPORT_SCHEDULE_DELETED',
  /** Each GET of an e-mailed link `/d/<token>`, working (302) or not (410); the actor is `link:<link id>`. */
  EXPORT_LINK_USED = 'EXPORT_LINK_USED',
  /** The links of the mails to one export stop working. */
  EXPORT_LINK_REVOKED = 'EXPORT_LINK_REVOKED',
}

registerEnumType(AuditAction, { name: 'AuditAction', description: 'What an audit event records' });

/** What an action is about. */
export enum AuditTarget {
  EXPORT = 'EXPORT',
  ACCOUNTING_SETTINGS = 'ACCOUNTING_SETTINGS',
  EXPORT_PROFILE = 'EXPORT_PROFILE',
  EXPORT_SCHEDULE = 'EXPORT_SCHEDULE',
}

/** Who did it, from the verified token and the request: never from arguments. */
export interface AuditActor {
  principal: Principal;
  requestId?: string;
  ip?: string;
}

/**
 * The actor of a use of an e-mailed link: whoever holds the link, not a
 * token holder. Named by the link (`link:<id>`, no roles), never by the
 * recipient's address: the link row says to whom it was mailed (docs/privacy.md).
 */
export function linkActor(tenantId: string, linkId: string, ip?: string): AuditActor {
  return { principal: { tenantId, userId: `link:${linkId}`, roles: [] }, ip };
}

export interface AuditEntry {
  action: AuditAction;
  targetType: AuditTarget;
  targetId?: string | null;
  /**
   * Facts about the action that help answer "who exported what": kinds,
   * formats, counts, names of filter fields, settings before/after. Never a
   * payer's data (names, customer ids, family quotients, search text).
   */
  details?: Record<string, unknown>;
}

/**
 * Appends one event. Pass the transaction of the change it records, so that
 * both are kept or neither; the table refuses UPDATE, and DELETE but for the
 * retention sweep (migration 1765200000000).
 */
export async function recordAudit(db: Queryable, who: AuditActor, entry: AuditEntry): Promise<void> {
  const { principal } = who;
  await db.query(
    `INSERT INTO audit_events (tenant_id, actor, roles, action, target_type, target_id, request_id, ip, details)
     VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $8, $9::jsonb)`,
    [
      principal.tenantId,
      principal.userId,
      principal.roles,
      entry.action,
      entry.targetType,
      entry.targetId ?? null,
      who.requestId ?? null,
      who.ip ?? null,
      JSON.stringify(entry.details ?? {}),
    ],
  );
}
