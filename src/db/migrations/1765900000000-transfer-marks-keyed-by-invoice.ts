import { MigrationInterface, QueryRunner } from 'typeorm';
import { briefly, dropInvalidIndex } from './ddl';

/**
 * Transfer marks keyed by invoice first (docs/accounting.md, "Transfer to accounting").
 *
 * Every reader of the marks asks "has this invoice a mark?" (the list's
 * filter and column, an accounting export's "already transferred" total):
 * `tenant_id = … AND invoice_id = …`, which the (tenant_id, invoice_id)
 * index answers. But the primary key was (export_id, invoice_id), and when
 * the table's statistics say it is small — freshly analyzed when empty, the
 * state of a school's first accounting export — the planner may take the
 * primary key with `invoice_id` as a condition on its second column: a scan
 * of the whole index for each invoice. With an export's 100,000 marks going
 * in meanwhile (uncommitted, but in the index) or 100,000 earlier ones, the
 * bench's totals query took 139 s for 100,000 invoices instead of 0.75 s.
 *
 * The primary key becomes (invoice_id, export_id): whichever index the
 * planner takes for an invoice's marks, the invoice is its first column. An
 * index on `export_id` serves what asks by export (revert, the cascade from
 * `invoice_exports`). `ON CONFLICT (export_id, invoice_id)` infers the same
 * unique index (a set of columns).
 *
 * Built concurrently (an invalid leftover of an interrupted build goes first);
 * the swap of the primary key takes a brief lock, retried with a timeout.
 */
export class TransferMarksKeyedByInvoice1765900000000 implements MigrationInterface {
  name = 'TransferMarksKeyedByInvoice1765900000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    const exists = async (name: string): Promise<boolean> => (await q.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [name])).length > 0;
    await dropInvalidIndex(q, 'accounting_transfers_export_idx');
    await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS accounting_transfers_export_idx ON accounting_transfers (export_id)`);
    const [pk] = await q.query(
      `SELECT a.attname AS first FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       WHERE c.conrelid = 'accounting_transfers'::regclass AND c.contype = 'p'`,
    );
    if (pk?.first === 'invoice_id') return;
    await dropInvalidIndex(q, 'accounting_transfers_invoice_export_idx');
    if (!(await exists('accounting_transfers_invoice_export_idx'))) {
      await q.query(`CREATE UNIQUE INDEX CONCURRENTLY accounting_transfers_invoice_export_idx ON accounting_transfers (invoice_id, export_id)`);
    }
    await briefly(q, `ALTER TABLE accounting_transfers DROP CONSTRAINT IF EXISTS accounting_transfers_pkey,
      ADD CONSTRAINT accounting_transfers_pkey PRIMARY KEY USING INDEX accounting_transfers_invoice_export_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX accounting_transfers_export_invoice_idx ON accounting_transfers (export_id, invoice_id)`);
    await q.query(`ALTER TABLE accounting_transfers DROP CONSTRAINT accounting_transfers_pkey,
      ADD CONSTRAINT accounting_transfers_pkey PRIMARY KEY USING INDEX accounting_transfers_export_invoice_idx`);
    await q.query(`DROP INDEX IF EXISTS accounting_transfers_export_idx`);
  }
}
