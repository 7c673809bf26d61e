import { Client } from 'pg';
import { createDataSource } from '../src/db/data-source';
import { runMigrations } from '../src/db/migrate';
import { TEST_DATABASE_URL } from './test-env';

/** Fresh test database for every run: drop, create, migrate. */
export default async function globalSetup(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const ds = createDataSource(TEST_DATABASE_URL, { poolSize: 2 });
  await ds.initialize();
  try {
    await runMigrations(ds);
  } finally {
    await ds.destroy();
  }
}
