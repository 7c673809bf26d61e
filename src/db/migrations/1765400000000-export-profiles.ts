import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Saved export profiles and the send to the accountant (docs/profiles.md): the
 * profiles; the layout an export was requested with (`invoice_exports.options`:
 * the profile's settings as they were then, so that a later edit does not
 * change a queued export); the schedules, each (schedule, period) run once
 * (its primary key); each mail once per (schedule, period, recipient, kind);
 * the download links (only a hash of their token) and their uses.
 */
export class ExportProfiles1765400000000 implements MigrationInterface {
  name = 'ExportProfiles1765400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE export_profiles (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('INVOICES','INVOICE_LINES','ACCOUNTING_ENTRIES')),
        format text NOT NULL CHECK (format IN ('XLSX','CSV','FEC')),
        locale text NOT NULL DEFAULT 'fr-FR',
        columns jsonb,
        filter jsonb,
        csv jsonb,
        file_name_pattern text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT export_profiles_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 100)
      )`);
    await q.query(`CREATE UNIQUE INDEX export_profiles_tenant_name_key ON export_profiles (tenant_id, lower(name))`);
    await q.query(`ALTER TABLE invoice_exports ADD COLUMN options jsonb`);
    await q.query(`
      CREATE TABLE export_schedules (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        profile_id uuid NOT NULL REFERENCES export_profiles(id) ON DELETE RESTRICT,
        cadence text NOT NULL CHECK (cadence IN ('WEEKLY','MONTHLY','QUARTERLY')),
        day int NOT NULL,
        hour int NOT NULL CHECK (hour BETWEEN 0 AND 23),
        recipients text[] NOT NULL CHECK (cardinality(recipients) BETWEEN 1 AND 10),
        selection text NOT NULL CHECK (selection IN ('NOT_YET_TRANSFERRED','PREVIOUS_PERIOD')),
        enabled boolean NOT NULL DEFAULT true,
        empty_period text NOT NULL DEFAULT 'SKIP' CHECK (empty_period IN ('SKIP','SEND_NOTICE')),
        owner_id text NOT NULL,
        owner_email text NOT NULL,
        next_run_at timestamptz NOT NULL,
        queue_prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT export_schedules_day_check CHECK (
          (cadence = 'WEEKLY' AND day BETWEEN 1 AND 7) OR (cadence <> 'WEEKLY' AND day BETWEEN 1 AND 28))
      )`);
    await q.query(`CREATE INDEX export_schedules_due_idx ON export_schedules (next_run_at) WHERE enabled`);
    await q.query(`CREATE INDEX export_schedules_tenant_idx ON export_schedules (tenant_id)`);
    await q.query(`
      CREATE TABLE export_schedule_runs (
        schedule_id uuid NOT NULL REFERENCES export_schedules(id) ON DELETE CASCADE,
        period_start date NOT NULL,
        period_end date NOT NULL,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        export_id uuid REFERENCES invoice_exports(id) ON DELETE SET NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','REQUESTED','EMPTY','COMPLETED','FAILED')),
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (schedule_id, period_start)
      )`);
    await q.query(`CREATE INDEX export_schedule_runs_open_idx ON export_schedule_runs (status) WHERE status IN ('PENDING','REQUESTED')`);
    await q.query(`
      CREATE TABLE export_deliveries (
        schedule_id uuid NOT NULL,
        period_start date NOT NULL,
        recipient text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('FILE','NOTICE','FAILURE','UNDELIVERABLE')),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        export_id uuid REFERENCES invoice_exports(id) ON DELETE SET NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING','SENT','FAILED')),
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        detail text,
        last_error text,
        message_id text,
        sent_at timestamptz,
        PRIMARY KEY (schedule_id, period_start, recipient, kind),
        FOREIGN KEY (schedule_id, period_start) REFERENCES export_schedule_runs (schedule_id, period_start) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX export_deliveries_pending_idx ON export_deliveries (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(`
      CREATE TABLE export_links (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        export_id uuid NOT NULL REFERENCES invoice_exports(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        recipient text,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX export_links_export_idx ON export_links (export_id)`);
    await q.query(`
      CREATE TABLE export_link_uses (
        id bigserial PRIMARY KEY,
        link_id uuid NOT NULL REFERENCES export_links(id) ON DELETE CASCADE,
        used_at timestamptz NOT NULL DEFAULT now(),
        outcome int NOT NULL
      )`);
    await q.query(`CREATE INDEX export_link_uses_link_idx ON export_link_uses (link_id, used_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE export_link_uses`);
    await q.query(`DROP TABLE export_links`);
    await q.query(`DROP TABLE export_deliveries`);
    await q.query(`DROP TABLE export_schedule_runs`);
    await q.query(`DROP TABLE export_schedules`);
    await q.query(`ALTER TABLE invoice_exports DROP COLUMN options`);
    await q.query(`DROP TABLE export_profiles`);
  }
}
