import type { DataSource } from 'typeorm';
import type { AuditAction } from './audit';
import { SqlParams } from '../db/sql';

export interface AuditEventRow {
  id: string;
  action: AuditAction;
  actor: string;
  roles: string[];
  targetType: string;
  targetId: string | null;
  at: Date;
  requestId: string | null;
}

export interface AuditFilterSpec {
  actions?: AuditAction[] | null;
  actor?: string | null;
  targetId?: string | null;
  from?: Date | null;
  to?: Date | null;
}

/**
 * One page of a tenant's audit trail, newest first: keyset on (at, id)
 * through the cursor's event (an event of another tenant is no cursor).
 */
export async function listAuditEvents(
  ds: DataSource,
  tenantId: string,
  filter: AuditFilterSpec,
  first: number,
  afterId: string | null,
): Promise<{ events: AuditEventRow[]; hasNextPage: boolean }> {
  const p = new SqlParams();
  const where = [`e.tenant_id = ${p.add(tenantId)}`];
  if (filter.actions?.length) where.push(`e.action = ANY(${p.add(filter.actions)}::text[])`);
  if (filter.actor) where.push(`e.actor = ${p.add(filter.actor)}`);
  if (filter.targetId) where.push(`e.target_id = ${p.add(filter.targetId)}`);
  if (filter.from) where.push(`e.at >= ${p.add(filter.from)}`);
  if (filter.to) where.push(`e.at < ${p.add(filter.to)}`);
  if (afterId) {
    where.push(`(e.at, e.id) < (SELECT c.at, c.id FROM audit_events c WHERE c.tenant_id = ${p.add(tenantId)} AND c.id = ${p.add(afterId)})`);
  }
  const rows: AuditEventRow[] = await ds.query(
    `SELECT e.id, e.action, e.actor, e.roles, e.target_type AS "targetType", e.target_id AS "targetId", e.at, e.request_id AS "requestId"
     FROM audit_events e WHERE ${where.join(' AND ')}
     ORDER BY e.at DESC, e.id DESC LIMIT ${p.add(first + 1)}`,
    p.values,
  );
  return { events: rows.slice(0, first), hasNextPage: rows.length > first };
}
