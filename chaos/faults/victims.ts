import type { Slot } from '../../tools/lib/stack';
import type { ChaosRun } from './run';

/** Which exports a fault hit: those still RUNNING under the attempt of the worker it struck. */

/**
 * Of the exports the worker was running (by its log), those still RUNNING
 * under its attempt once it is killed or frozen: the poll may lag behind an
 * export that completed just before.
 */
export async function stillRunning(run: ChaosRun, ids: string[], w: Slot): Promise<Map<string, string | null>> {
  const victims = new Map<string, string | null>();
  if (!ids.length) return victims;
  const rows = await run.pool
    .query<{ id: string; lease_token: string; attempts: number }>(`SELECT id, lease_token, attempts FROM invoice_exports WHERE id = ANY($1::uuid[]) AND status = 'RUNNING'`, [ids])
    .then((r) => r.rows)
    .catch(() => []);
  for (const r of rows) {
    const h = run.holders.get(r.id);
    if (h && h.slot === w && h.attempt === r.attempts) victims.set(r.id, r.lease_token);
  }
  return victims;
}
