import { MigrationInterface, QueryRunner } from 'typeorm';
import { briefly } from './ddl';

/**
 * Transfer marks that lock no invoice (docs/accounting.md, "Transfer to accounting").
 *
 * The foreign key from `accounting_transfers (tenant_id, invoice_id)` to
 * `invoices` checked each mark with a `FOR KEY SHARE` lock on its invoice:
 * an accounting export of 100,000 documents wrote a lock into every one of
 * their rows (dirtying every page of the school's invoices, in the WAL too),
 * spent half of its marks' cost on it (100,000 marks in batches of 2,000:
 * 1.53 s with the key, 0.76 s without, on the bench's school), and made a
 * secretary's deletion of one of those invoices wait for the export to end.
 *
 * What the key gave is kept otherwise: a mark is only ever inserted by
 * joining the invoice in the school (kinds/accounting-entries-writer.ts), and
 * deleting invoices deletes their marks (a statement-level trigger over the
 * deleted rows, through the (tenant_id, invoice_id) index). A mark inserted
 * by an export still running while its invoice is deleted can outlive the
 * invoice; it names a uuid no invoice will have again, and every reader of
 * the marks starts from the invoices.
 *
 * The trigger comes first, so that no deletion goes unpaired; dropping the
 * key takes a brief lock (retried with a timeout).
 */
export class TransferMarksWithoutInvoiceLocks1765800000000 implements MigrationInterface {
  name = 'TransferMarksWithoutInvoiceLocks1765800000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION accounting_transfers_forget_invoices() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM accounting_transfers t USING gone g WHERE t.tenant_id = g.tenant_id AND t.invoice_id = g.id;
        RETURN NULL;
      END $$`);
    await briefly(q, `CREATE OR REPLACE TRIGGER invoices_forget_transfers AFTER DELETE ON invoices
      REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION accounting_transfers_forget_invoices()`);
    await briefly(q, `ALTER TABLE accounting_transfers DROP CONSTRAINT IF EXISTS accounting_transfers_invoice_fk`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM accounting_transfers t WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.tenant_id = t.tenant_id AND i.id = t.invoice_id)`);
    await q.query(`ALTER TABLE accounting_transfers ADD CONSTRAINT accounting_transfers_invoice_fk
      FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, id) ON DELETE CASCADE`);
    await q.query(`DROP TRIGGER IF EXISTS invoices_forget_transfers ON invoices`);
    await q.query(`DROP FUNCTION IF EXISTS accounting_transfers_forget_invoices()`);
  }
}
