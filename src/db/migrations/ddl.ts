import type { QueryRunner } from 'typeorm';

/** Each brief ACCESS EXCLUSIVE / SHARE ROW EXCLUSIVE lock waits at most this long behind a running export, then retries. */
const LOCK_TIMEOUT = '2s';
const LOCK_ATTEMPTS = 30;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A DDL statement that needs a brief strong lock, in a migration that runs
 * outside a transaction: never queue every reader behind a long transaction
 * (an export's snapshot) for long — give up the lock after 2 s and retry.
 */
export async function briefly(q: QueryRunner, sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await q.query(`SET lock_timeout = '${LOCK_TIMEOUT}'`);
      await q.query(sql);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03' || attempt >= LOCK_ATTEMPTS) throw err;
      await sleep(500 * attempt);
    } finally {
      await q.query('RESET lock_timeout');
    }
  }
}

/** An index left INVALID by an interrupted `CREATE INDEX CONCURRENTLY` is dropped, so that the build can run again. */
export async function dropInvalidIndex(q: QueryRunner, name: string): Promise<void> {
  const [row] = await q.query(`SELECT NOT i.indisvalid AS invalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`, [name]);
  if (row?.invalid) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
}
