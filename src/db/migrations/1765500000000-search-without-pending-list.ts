import { MigrationInterface, QueryRunner } from 'typeorm';
import { briefly } from './ddl';

/**
 * The trigram indexes of the search without GIN's pending list
 * (docs/search.md, "Why fastupdate is off").
 *
 * With `fastupdate` on (GIN's default), new entries wait in one unsorted
 * pending list (up to `gin_pending_list_limit`, 4 MB) until a vacuum or an
 * overflow moves them into the index, and every search reads that whole list:
 * every school's recent writes, whatever school searches. On the bench's
 * 12-school database the list held 19,333 entries against 4,830 on the
 * 3-school one, and a school's search cost 1.4–1.6× more. Off, each write
 * updates the index in place (a few trigram entries per invoice number or
 * payer name) and a search reads its own school's entries only.
 *
 * `ALTER INDEX … SET` needs a brief strong lock (taken with a timeout and
 * retried); the entries already pending are then moved into the index
 * (`gin_clean_pending_list`, which blocks no one). No transaction, so that a
 * retried lock does not hold the other index's.
 */
const INDEXES = ['invoices_tenant_number_folded_trgm_idx', 'payers_tenant_name_folded_trgm_idx'];

export class SearchWithoutPendingList1765500000000 implements MigrationInterface {
  name = 'SearchWithoutPendingList1765500000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    for (const index of INDEXES) {
      await briefly(q, `ALTER INDEX ${index} SET (fastupdate = off)`);
      await q.query(`SELECT gin_clean_pending_list($1::regclass)`, [index]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const index of INDEXES) await briefly(q, `ALTER INDEX ${index} RESET (fastupdate)`);
  }
}
