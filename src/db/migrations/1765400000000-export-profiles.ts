import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Saved export profiles (DESIGN §17), and the layout an export was
 * requested with (`invoice_exports.options`: the profile's settings as they
 * were then, so that a later edit does not change a queued export).
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invoice_exports DROP COLUMN options`);
    await q.query(`DROP TABLE export_profiles`);
  }
}
