import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AdvisoryLock } from './advisory-locks';

/** Runs pending migrations under a PostgreSQL advisory lock; idempotent. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  // The lock lives on a connection of its own, so it works whatever the pool size.
  const lock = new Client({ connectionString: (dataSource.options as { url: string }).url, connectionTimeoutMillis: 5000 });
  await lock.connect();
  try {
    // API and worker processes starting together migrate one at a time. Polled rather than waited for: a
    // session blocked in pg_advisory_lock() holds a snapshot for as long as it waits, and CREATE INDEX
    // CONCURRENTLY (in the migration the lock holder runs) waits for every older snapshot — the two would
    // wait for each other forever.
    while (!(await lock.query('SELECT pg_try_advisory_lock($1) AS ok', [AdvisoryLock.MIGRATIONS])).rows[0].ok) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const done = await dataSource.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await lock.end(); // ending the session releases the lock
  }
}

/** Creates the database named in the URL when it does not exist yet (local and demo use). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another process created it at the same moment.
      if ((err as { code?: string }).code !== '42P04') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}
