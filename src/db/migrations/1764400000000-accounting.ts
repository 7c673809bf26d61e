import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * "Exporter les écritures comptables" (docs/accounting.md): the tenants' accounting
 * settings, the marks of documents transferred to accounting, and the
 * warnings of a completed export. Every new column has a default or is
 * nullable, so rows written by other tools stay valid.
 */
export class Accounting1764400000000 implements MigrationInterface {
  name = 'Accounting1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_accounting_settings (
        tenant_id uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
        journal_code text NOT NULL DEFAULT 'VT',
        journal_label text NOT NULL DEFAULT 'Ventes',
        receivable_account text NOT NULL DEFAULT '411000',
        default_revenue_account text NOT NULL DEFAULT '706000',
        vat_accounts jsonb NOT NULL DEFAULT '{"20.00":"445710","10.00":"445712","5.50":"445711","2.10":"445713"}'::jsonb,
        account_labels jsonb NOT NULL DEFAULT '{}'::jsonb,
        fallback_auxiliary_account text NOT NULL DEFAULT 'DIVERS',
        fiscal_year_end text NOT NULL DEFAULT '12-31',
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tenant_accounting_settings_fiscal_year_end_check CHECK (fiscal_year_end ~ '^[0-1][0-9]-[0-3][0-9]$')
      )`);
    await q.query(`
      CREATE TABLE accounting_transfers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL,
        export_id uuid NOT NULL REFERENCES invoice_exports(id) ON DELETE CASCADE,
        transferred_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT accounting_transfers_invoice_fk FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE,
        CONSTRAINT accounting_transfers_export_invoice_key UNIQUE (export_id, invoice_id)
      )`);
    // The filter accountingTransferred (EXISTS per invoice) and Invoice.accountingTransferredAt (the latest).
    await q.query(`CREATE INDEX accounting_transfers_tenant_invoice_idx ON accounting_transfers (tenant_id, invoice_id, transferred_at DESC)`);
    await q.query(`ALTER TABLE invoice_exports ADD COLUMN warnings jsonb`);
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_kind_check,
      ADD CONSTRAINT invoice_exports_kind_check CHECK (kind IN ('INVOICES','INVOICE_LINES','ACCOUNTING_ENTRIES'))`);
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_format_check,
      ADD CONSTRAINT invoice_exports_format_check CHECK (format IN ('XLSX','CSV','FEC'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM invoice_exports WHERE kind = 'ACCOUNTING_ENTRIES' OR format = 'FEC'`);
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_kind_check,
      ADD CONSTRAINT invoice_exports_kind_check CHECK (kind IN ('INVOICES','INVOICE_LINES'))`);
    await q.query(`ALTER TABLE invoice_exports DROP CONSTRAINT invoice_exports_format_check,
      ADD CONSTRAINT invoice_exports_format_check CHECK (format IN ('XLSX','CSV'))`);
    await q.query(`ALTER TABLE invoice_exports DROP COLUMN warnings`);
    await q.query(`DROP TABLE accounting_transfers`);
    await q.query(`DROP TABLE tenant_accounting_settings`);
  }
}
