import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Importer layouts of the accounting export (docs/accounting.md, docs/accounting.md):
 * five more formats of `invoice_exports.format`, and the accountant's
 * software in the tenant's accounting settings (its format is the default of
 * the accounting export), with the two options of the XIMPORT and Quadra
 * layouts. Every new column has a default.
 */
export class ImportLayouts1765300000000 implements MigrationInterface {
  name = 'ImportLayouts1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_format_check,
      ADD CONSTRAINT invoice_exports_format_check CHECK (format IN ('XLSX','CSV','FEC','QUADRA','XIMPORT','EBP','CEGID','SAGE100'))`);
    await q.query(`
      ALTER TABLE tenant_accounting_settings
        ADD COLUMN accounting_software text NOT NULL DEFAULT 'FEC',
        ADD COLUMN ximport_decimal_comma boolean NOT NULL DEFAULT false,
        ADD COLUMN quadra_update_existing_accounts boolean NOT NULL DEFAULT true,
        ADD CONSTRAINT tenant_accounting_settings_software_check
          CHECK (accounting_software IN ('FEC','QUADRA','XIMPORT','EBP','CEGID','SAGE100'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM invoice_exports WHERE format IN ('QUADRA','XIMPORT','EBP','CEGID','SAGE100')`);
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_format_check,
      ADD CONSTRAINT invoice_exports_format_check CHECK (format IN ('XLSX','CSV','FEC'))`);
    await q.query(`
      ALTER TABLE tenant_accounting_settings
        DROP CONSTRAINT tenant_accounting_settings_software_check,
        DROP COLUMN accounting_software,
        DROP COLUMN ximport_decimal_comma,
        DROP COLUMN quadra_update_existing_accounts`);
  }
}
