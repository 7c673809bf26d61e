import { Pool } from 'pg';
import type { ChaosRun } from './run';

/** Fault: every PostgreSQL connection of the service's database terminated. */

export async function pgTerminate(run: ChaosRun): Promise<void> {
  const f = run.fault('pg-terminate');
  const adminUrl = new URL(run.opts.databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new Pool({ connectionString: adminUrl.toString(), max: 1 });
  try {
    const db = new URL(run.opts.databaseUrl).pathname.slice(1);
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
       WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> 'invoice-export-chaos'`,
      [db],
    );
    f.details.terminated = rows.filter((r) => r.killed).length;
  } finally {
    await admin.end();
  }
  run.end(f);
  f.details.watch = run.addWatch({ kind: 'pg-terminate', faultIndex: run.faults.length - 1, since: Date.now() });
}
