/**
 * Where the tests run: a throwaway database of this jest run (global-setup
 * creates it and exports its URL to the workers; global-teardown drops it),
 * so that two runs on one machine never share one.
 */
export function testDatabaseUrl(): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  const base = new URL(process.env.TEST_DATABASE_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432/invoice_export_test');
  base.pathname = `/${base.pathname.slice(1)}_${process.pid}`;
  return base.toString();
}
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = testDatabaseUrl();
