/**
 * What every module that writes SQL shares, below the domains (exports,
 * accounting, invoices): something that runs a query, positional parameters,
 * a built statement, and the quirks of TypeORM's `query()` answers.
 */

/** Anything that runs SQL: a pg client, a TypeORM DataSource or EntityManager. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<any>;
}

/** A SQL text with its positional parameters. */
export interface BuiltQuery {
  text: string;
  values: unknown[];
}

/** Collects positional parameters while a query is written. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Whether a string can be a `uuid` key (anything else never matches a row: answer "not found" without a query). */
export const isUuid = (value: string) => UUID_RE.test(value);

/**
 * Rows of an UPDATE/DELETE … RETURNING. TypeORM's `query()` answers those with
 * `[rows, rowCount]` (and plain rows for SELECT/INSERT), so a bare
 * destructuring would see a non-empty array even when nothing matched.
 */
export async function returning<T = { id: string }>(ds: Queryable, sql: string, params: unknown[]): Promise<T[]> {
  const result: unknown = await ds.query(sql, params);
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as T[];
  }
  return result as T[];
}
