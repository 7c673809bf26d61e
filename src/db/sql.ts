/** A DataSource or a transaction's EntityManager. */
export interface Queries {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Rows of an UPDATE/DELETE … RETURNING. TypeORM's `query()` answers those with
 * `[rows, rowCount]` (and plain rows for SELECT/INSERT), so a bare
 * destructuring would see a non-empty array even when nothing matched.
 */
export async function returning<T = { id: string }>(ds: Queries, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await ds.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
