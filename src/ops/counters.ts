import { DataSource } from 'typeorm';

/**
 * Counters of rare events (takeovers, retries, reconciler actions), kept in
 * PostgreSQL so that every process adds to the same figure and /metrics,
 * served by any API process, reads it whole.
 */
export type CounterName =
  | 'export_retries'
  | 'export_takeovers'
  | 'export_lost_leases'
  | 'reconciler_requeued'
  | 'reconciler_rescued'
  | 'reconciler_failed'
  | 'sweep_expired'
  | 'sweep_cleaned';

export async function bumpCounter(ds: DataSource, name: CounterName, label = '', by = 1): Promise<void> {
  if (by === 0) return;
  await ds.query(
    `INSERT INTO service_counters (name, label, value) VALUES ($1, $2, $3)
     ON CONFLICT (name, label) DO UPDATE SET value = service_counters.value + EXCLUDED.value`,
    [name, label, by],
  );
}

export async function readCounters(ds: DataSource): Promise<{ name: CounterName; label: string; value: number }[]> {
  return ds.query(`SELECT name, label, value FROM service_counters ORDER BY name, label`);
}
