import { MigrationInterface, QueryRunner } from 'typeorm';
import { briefly, dropInvalidIndex } from './ddl';

/**
 * The list's search at platform scale (docs/search.md): the folded text is
 * stored once, in plain columns a trigger keeps up to date, and searched
 * through trigram GIN indexes that lead with the tenant (btree_gin), so that a
 * search reads the school's own entries only.
 *
 * Built without holding writes for long on a big database: no table rewrite
 * (plain nullable columns are added instantly; a generated STORED column would
 * rewrite the table under ACCESS EXCLUSIVE), the backfill commits in batches,
 * the indexes are built CONCURRENTLY. Hence no transaction around it: each
 * statement commits on its own, and every step can run again (a migration
 * interrupted half-way finishes on the next start).
 */

/** Rows per backfill transaction: a write to one of them waits at most for one batch (well under a second). */
const BATCH = 5_000;

interface Folded {
  table: 'invoices' | 'payers';
  column: string;
  /** The folded text, from NEW's columns (trigger) or the row's (backfill). */
  expression: (row: string) => string;
  /** Columns whose change refolds. */
  sources: string[];
  index: string;
  /** The index this one replaces (not tenant-scoped, and on an expression evaluated again at every recheck). */
  oldIndex: string;
  oldIndexDefinition: string;
}

const FOLDED: Folded[] = [
  {
    table: 'invoices',
    column: 'number_folded',
    expression: (r) => `ie_fold(${r}.number)`,
    sources: ['number'],
    index: 'invoices_tenant_number_folded_trgm_idx',
    oldIndex: 'invoices_number_search_idx',
    oldIndexDefinition: `ON invoices USING gin (ie_fold(number) gin_trgm_ops)`,
  },
  {
    table: 'payers',
    column: 'name_folded',
    // Both name orders in one value; the line break cannot occur in a search (its blanks become single spaces).
    expression: (r) => `ie_fold(${r}.last_name || ' ' || ${r}.first_name) || E'\\n' || ie_fold(${r}.first_name || ' ' || ${r}.last_name)`,
    sources: ['last_name', 'first_name'],
    index: 'payers_tenant_name_folded_trgm_idx',
    oldIndex: 'payers_name_search_idx',
    oldIndexDefinition: `ON payers USING gin (ie_fold(last_name || ' ' || first_name) gin_trgm_ops)`,
  },
];

const YEAR_STATUS_INDEX = 'invoices_tenant_year_status_idx';

export class TenantSearchIndexes1765000000000 implements MigrationInterface {
  name = 'TenantSearchIndexes1765000000000';
  /** CREATE INDEX CONCURRENTLY cannot run in a transaction; the batches must commit one by one. */
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`); // trusted (PG 13+): the database owner may create it
    for (const f of FOLDED) {
      await briefly(q, `ALTER TABLE ${f.table} ADD COLUMN IF NOT EXISTS ${f.column} text`);
      await q.query(`
        CREATE OR REPLACE FUNCTION ie_fold_${f.table}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.${f.column} := ${f.expression('NEW')};
          RETURN NEW;
        END $$`);
      // From here on every write keeps the column; the backfill below folds the rows already there.
      await briefly(q, `CREATE OR REPLACE TRIGGER ${f.table}_fold BEFORE INSERT OR UPDATE OF ${[...f.sources, f.column].join(', ')}
        ON ${f.table} FOR EACH ROW EXECUTE FUNCTION ie_fold_${f.table}()`);
      // Batches in primary-key order, each its own short transaction (row locks on BATCH rows at a time).
      let after = '00000000-0000-0000-0000-000000000000';
      for (;;) {
        const rows: { last: string | null }[] = await q.query(
          `WITH batch AS (SELECT id FROM ${f.table} WHERE id > $1 ORDER BY id LIMIT ${BATCH}),
                done AS (UPDATE ${f.table} t SET ${f.column} = ${f.expression('t')} FROM batch
                          WHERE t.id = batch.id AND t.${f.column} IS DISTINCT FROM ${f.expression('t')})
           SELECT max(id::text) AS last FROM batch`,
          [after],
        );
        if (!rows[0]?.last) break;
        after = rows[0].last;
      }
      await dropInvalidIndex(q, f.index);
      await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${f.index} ON ${f.table} USING gin (tenant_id, ${f.column} gin_trgm_ops)`);
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${f.oldIndex}`);
      // The backfill left a dead version of every row and cleared the visibility map: without this, index-only
      // scans (the list's counts) read the heap until autovacuum comes by. VACUUM takes no lock that blocks writes.
      await q.query(`VACUUM (ANALYZE) ${f.table}`);
    }
    // The list's usual filter, a school year and statuses, and its count: read from the index alone.
    await dropInvalidIndex(q, YEAR_STATUS_INDEX);
    await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${YEAR_STATUS_INDEX} ON invoices (tenant_id, billing_year, status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${YEAR_STATUS_INDEX}`);
    for (const f of FOLDED) {
      await dropInvalidIndex(q, f.oldIndex);
      await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${f.oldIndex} ${f.oldIndexDefinition}`);
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${f.index}`);
      await briefly(q, `DROP TRIGGER IF EXISTS ${f.table}_fold ON ${f.table}`);
      await q.query(`DROP FUNCTION IF EXISTS ie_fold_${f.table}()`);
      await briefly(q, `ALTER TABLE ${f.table} DROP COLUMN IF EXISTS ${f.column}`);
    }
  }
}
