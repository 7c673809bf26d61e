import type { Pool, PoolClient } from 'pg';
import type { BuiltQuery } from '../db/sql';

/**
 * A query in the snapshot of another, still open, transaction — on a
 * connection of its own, so that it runs while that transaction's connection
 * streams rows (docs/architecture.md, "The path of an export", stage 4).
 * The exporting transaction must stay open until this one has imported the
 * snapshot (an attempt's stays open until its file is written).
 *
 * `snapshotId` is `pg_export_snapshot()` of the REPEATABLE READ transaction
 * (db: `exportSnapshot`). The connection goes back to the pool once the
 * query has answered, or is dropped if it failed mid-way.
 */
export async function queryInSnapshot<Row = Record<string, unknown>>(pool: Pool, snapshotId: string, query: BuiltQuery): Promise<Row> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SET TRANSACTION SNAPSHOT '${snapshotId.replace(/'/g, "''")}'`);
    await client.query('SET LOCAL jit = off');
    const { rows } = await client.query(query.text, query.values);
    await client.query('COMMIT');
    return rows[0] as Row;
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    client.release(broken ? true : undefined);
  }
}

/** The snapshot of `client`'s open REPEATABLE READ transaction, for queryInSnapshot. */
export async function exportSnapshot(client: PoolClient): Promise<string> {
  const { rows } = await client.query('SELECT pg_export_snapshot() AS id');
  return rows[0].id as string;
}
