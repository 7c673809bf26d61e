import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { runMigrations } from '../src/db/migrate';
import { testDatabaseUrl } from './test-env';

async function admin<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const client = new Client({ connectionString: adminUrl.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database for this run: create, migrate, and hand its URL to the test workers. */
export default async function globalSetup(): Promise<void> {
  const url = testDatabaseUrl();
  process.env.TEST_DATABASE_URL = url; // inherited by the jest workers
  const name = new URL(url).pathname.slice(1);
  await admin(url, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.query(`CREATE DATABASE "${name}"`);
  });
  const ds = createDataSource(url, { poolSize: 2 });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }
}

export { admin };
