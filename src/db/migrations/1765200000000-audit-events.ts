import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (SECURITY.md): who exported whose data. Append-only in the
 * database itself: UPDATE is refused; DELETE only by the retention sweep
 * (which sets `audit.retention_sweep` in its transaction) of rows older than
 * a day, or as the cascade of erasing the tenant.
 */
export class AuditEvents1765200000000 implements MigrationInterface {
  name = 'AuditEvents1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        actor text NOT NULL,
        roles text[] NOT NULL,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        at timestamptz NOT NULL DEFAULT now(),
        request_id text,
        ip text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    // auditEvents: one tenant's, newest first (keyset on at, id); the sweep: by age.
    await q.query(`CREATE INDEX audit_events_tenant_at_idx ON audit_events (tenant_id, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at)`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' THEN
          RAISE EXCEPTION 'audit_events is append-only: rows are never updated' USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM tenants WHERE id = OLD.tenant_id) THEN
          RETURN OLD; -- the tenant is being erased: its trail goes with it
        END IF;
        IF coalesce(current_setting('audit.retention_sweep', true), '') <> 'on' OR OLD.at >= now() - interval '1 day' THEN
          RAISE EXCEPTION 'audit_events is append-only: only the retention sweep deletes, and only rows past their retention'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
      FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
  }
}
