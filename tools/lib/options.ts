/**
 * What the command-line tools (bench, chaos) share to read their options:
 * the usage error, integer options with bounds, and a database of the
 * tool's own on DATABASE_URL's server.
 */

/** A bad command line: the tool prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

/** `--name N`: `fallback` when absent; an integer in [min, max], else a UsageError naming the option. */
export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max = 10_000_000): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`--${name} must be an integer (got "${raw}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max} (got ${n})`);
  return n;
}

/**
 * The tool's own database: `override` (its *_DATABASE_URL) when set, else
 * DATABASE_URL's server with the database `dbName` — never the service's own,
 * since the tools seed and delete in it.
 */
export function toolDatabaseUrl(env: NodeJS.ProcessEnv, dbName: string, override?: string): string {
  if (override) return override;
  const url = new URL(env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/invoice_export');
  const current = decodeURIComponent(url.pathname.slice(1));
  if (dbName === current || dbName === 'invoice_export') {
    throw new UsageError(`--db-name ${dbName} is the service's own database: the tool seeds and deletes in its database, give it another one`);
  }
  if (!/^[A-Za-z0-9_]+$/.test(dbName)) throw new UsageError(`--db-name must be letters, digits and _ (got "${dbName}")`);
  url.pathname = `/${dbName}`;
  return url.toString();
}
