import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The five tables of docs/data-model.md. Enums are CHECK constraints on text (adding a
 * value is one ALTER, and other tools can write plain strings). Every child
 * row references its parent through (tenant_id, id), so a row can never point
 * into another tenant.
 */
export class InitialSchema1764201600000 implements MigrationInterface {
  name = 'InitialSchema1764201600000';

  async up(q: QueryRunner): Promise<void> {
    // pg_trgm is a trusted extension (PG 13+): the database owner may create it.
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    // Case- and accent-folding that PostgreSQL may index (unaccent() is only
    // STABLE, so it cannot back an expression index). Used by the list's search.
    await q.query(`
      CREATE OR REPLACE FUNCTION ie_fold(t text) RETURNS text
      LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
        SELECT lower(translate(replace(replace(replace(replace(t, 'Œ', 'OE'), 'œ', 'oe'), 'Æ', 'AE'), 'æ', 'ae'),
          'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝŸýÿ',
          'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOOooooooUUUUuuuuYYyy'))
      $$`);

    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        product text NOT NULL CONSTRAINT tenants_product_check
          CHECK (product IN ('ARTIST_STANDARD','ARTIST_PREMIUM','SCHOOL_STANDARD','SCHOOL_PREMIUM','MANAGER')),
        timezone text NOT NULL DEFAULT 'Europe/Paris',
        currency char(3) NOT NULL DEFAULT 'EUR',
        siren text NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE payers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        last_name text NOT NULL,
        first_name text NOT NULL,
        customer_identifier text NULL,
        family_quotient numeric(10,2) NULL,
        email text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        -- target of the tenant-safe composite foreign key from invoices
        CONSTRAINT payers_tenant_id_id_key UNIQUE (tenant_id, id)
      )`);
    // Unique per tenant when set (docs/data-model.md); partial so that many payers may have none.
    await q.query(`CREATE UNIQUE INDEX payers_tenant_customer_identifier_key ON payers (tenant_id, customer_identifier) WHERE customer_identifier IS NOT NULL`);
    // The list's search on payer names ("heloise" finds "Héloïse"): trigram index on the folded name.
    await q.query(`CREATE INDEX payers_name_search_idx ON payers USING gin (ie_fold(last_name || ' ' || first_name) gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE invoices (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        type text NOT NULL CONSTRAINT invoices_type_check CHECK (type IN ('INVOICE','CREDIT_NOTE')),
        number text NOT NULL,
        billing_date date NOT NULL,
        role_number integer NULL,
        payer_id uuid NOT NULL,
        billing_period text NOT NULL CONSTRAINT invoices_billing_period_check
          CHECK (billing_period IN ('ANNUAL','SEMESTER_1','SEMESTER_2','QUARTER_1','QUARTER_2','QUARTER_3','QUARTER_4','MONTHLY')),
        billing_year text NOT NULL CONSTRAINT invoices_billing_year_check CHECK (billing_year ~ '^[0-9]{4}(/[0-9]{4})?$'),
        notes text NULL,
        amount_due numeric(12,2) NOT NULL,
        amount_paid numeric(12,2) NOT NULL DEFAULT 0,
        remaining_due numeric(12,2) NOT NULL DEFAULT 0,
        pending_collection numeric(12,2) NOT NULL DEFAULT 0,
        status text NOT NULL CONSTRAINT invoices_status_check
          CHECK (status IN ('TO_COLLECT','PARTIALLY_PAID','PAID','SETTLED','CANCELLED')),
        unique_identifier text NULL,
        payment_method text NULL CONSTRAINT invoices_payment_method_check
          CHECK (payment_method IN ('CHEQUE','CASH','BANK_TRANSFER','DIRECT_DEBIT','CARD','HOLIDAY_VOUCHER','OTHER')),
        credited_invoice_id uuid NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT invoices_tenant_number_key UNIQUE (tenant_id, number),
        CONSTRAINT invoices_tenant_id_id_key UNIQUE (tenant_id, id),
        CONSTRAINT invoices_payer_fk FOREIGN KEY (tenant_id, payer_id) REFERENCES payers (tenant_id, id),
        CONSTRAINT invoices_credited_invoice_fk FOREIGN KEY (tenant_id, credited_invoice_id) REFERENCES invoices (tenant_id, id),
        CONSTRAINT invoices_credit_note_link_check CHECK (credited_invoice_id IS NULL OR type = 'CREDIT_NOTE')
      )`);
    // List order and keyset pagination (billing_date DESC, number DESC), the
    // export's order (ASC), and billingDateFrom/To ranges: one index, read either way.
    await q.query(`CREATE INDEX invoices_tenant_billing_date_number_idx ON invoices (tenant_id, billing_date, number)`);
    // payerId filter, and the payer-name search that resolves payers first.
    await q.query(`CREATE INDEX invoices_tenant_payer_idx ON invoices (tenant_id, payer_id)`);
    // roleNumber filter: selective (a role is a few hundred invoices); partial since most have none.
    await q.query(`CREATE INDEX invoices_tenant_role_number_idx ON invoices (tenant_id, role_number) WHERE role_number IS NOT NULL`);
    // Search on the invoice number ("F1638" anywhere in it), folded like names.
    await q.query(`CREATE INDEX invoices_number_search_idx ON invoices USING gin (ie_fold(number) gin_trgm_ops)`);
    // Credit notes of an invoice (and the FK check when an invoice is deleted).
    await q.query(`CREATE INDEX invoices_credited_invoice_idx ON invoices (credited_invoice_id) WHERE credited_invoice_id IS NOT NULL`);

    await q.query(`
      CREATE TABLE invoice_lines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        invoice_id uuid NOT NULL,
        position integer NOT NULL CONSTRAINT invoice_lines_position_check CHECK (position >= 1),
        label text NOT NULL,
        beneficiary text NULL,
        activity text NULL,
        quantity numeric(10,3) NOT NULL DEFAULT 1,
        unit_price numeric(12,2) NOT NULL,
        discount_amount numeric(12,2) NOT NULL DEFAULT 0,
        amount numeric(12,2) NOT NULL,
        vat_rate numeric(5,2) NOT NULL DEFAULT 0,
        accounting_account text NULL,
        analytic_code text NULL,
        CONSTRAINT invoice_lines_invoice_fk FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE,
        -- Batched loading of an invoice's lines and the export's line order: one
        -- index scan per invoice, already in position order.
        CONSTRAINT invoice_lines_invoice_position_key UNIQUE (invoice_id, position)
      )`);

    await q.query(`
      CREATE TABLE invoice_exports (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        requested_by text NOT NULL,
        kind text NOT NULL CONSTRAINT invoice_exports_kind_check CHECK (kind IN ('INVOICES','INVOICE_LINES')),
        format text NOT NULL CONSTRAINT invoice_exports_format_check CHECK (format IN ('XLSX','CSV')),
        locale text NOT NULL DEFAULT 'fr-FR',
        selection jsonb NOT NULL,
        idempotency_key text NULL,
        status text NOT NULL DEFAULT 'QUEUED' CONSTRAINT invoice_exports_status_check
          CHECK (status IN ('QUEUED','RUNNING','COMPLETED','FAILED','CANCELLED','EXPIRED')),
        processed_rows integer NOT NULL DEFAULT 0,
        total_rows integer NULL,
        row_count integer NULL,
        file_key text NULL,
        file_name text NULL,
        file_size bigint NULL,
        error_code text NULL,
        error_message text NULL,
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz NULL,
        completed_at timestamptz NULL,
        expires_at timestamptz NULL
      )`);
    // invoiceExports(first, after): newest first, keyset on (created_at, id).
    await q.query(`CREATE INDEX invoice_exports_tenant_created_idx ON invoice_exports (tenant_id, created_at DESC, id DESC)`);
    // idempotencyKey: one export per tenant and key; the unique index settles concurrent requests.
    await q.query(`CREATE UNIQUE INDEX invoice_exports_tenant_idempotency_key ON invoice_exports (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // The retention sweep: completed exports whose object has to go.
    await q.query(`CREATE INDEX invoice_exports_expiry_idx ON invoice_exports (expires_at) WHERE status = 'COMPLETED'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS invoice_exports`);
    await q.query(`DROP TABLE IF EXISTS invoice_lines`);
    await q.query(`DROP TABLE IF EXISTS invoices`);
    await q.query(`DROP TABLE IF EXISTS payers`);
    await q.query(`DROP TABLE IF EXISTS tenants`);
    await q.query(`DROP FUNCTION IF EXISTS ie_fold(text)`);
  }
}
