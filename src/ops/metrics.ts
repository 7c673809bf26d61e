import { Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { ownRows } from '../exports/dispatcher';
import type { ExportQueues } from '../exports/queue';
import { readCounters } from './counters';

/**
 * `/metrics` in the Prometheus text format. Every figure about exports is
 * read from PostgreSQL (and the queue's from Redis) at scrape time, so that
 * any API process answers for the whole deployment — workers have no HTTP
 * server, and their events are counted in `service_counters`. The process's
 * own figures (memory, event loop) come from prom-client's default metrics.
 */
export interface MetricsDeps {
  dataSource: DataSource;
  queues: ExportQueues;
  config: Pick<Config, 'queuePrefix'>;
}

/** Upper bounds of the duration histogram, in seconds. */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
/** Upper bounds of the throughput histogram, in rows per second. */
export const THROUGHPUT_BUCKETS = [100, 1000, 5000, 10_000, 25_000, 50_000, 100_000, 250_000];

type Sample = { metricName?: string; labels: Record<string, string | number>; value: number };
interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  read(): Promise<Sample[]>;
}

/** A metric of prom-client's registry whose samples are computed at each scrape. */
function computed(f: Family) {
  return {
    name: f.name,
    help: f.help,
    type: f.type,
    aggregator: 'sum' as const,
    reset() {},
    async get() {
      return { name: f.name, help: f.help, type: f.type, aggregator: 'sum', values: await f.read() };
    },
  };
}

/** A histogram's samples from SQL: one count per bucket (cumulative), the sum and the count, per label set. */
async function histogram(
  ds: DataSource,
  name: string,
  valueSql: string,
  buckets: number[],
  labelColumns: string[],
  where: string,
  params: unknown[],
): Promise<Sample[]> {
  const bucketCols = buckets.map((b, i) => `count(*) FILTER (WHERE v <= ${b}) AS b${i}`).join(', ');
  const labels = labelColumns.join(', ');
  const rows: Record<string, string | number>[] = await ds.query(
    `SELECT ${labels}, ${bucketCols}, count(*)::int AS n, coalesce(sum(v), 0)::float8 AS total
     FROM (SELECT ${labels}, ${valueSql} AS v FROM invoice_exports WHERE ${where}) x
     GROUP BY ${labels}`,
    params,
  );
  const samples: Sample[] = [];
  for (const r of rows) {
    const l = Object.fromEntries(labelColumns.map((c) => [c, String(r[c])]));
    buckets.forEach((b, i) => samples.push({ metricName: `${name}_bucket`, labels: { ...l, le: b }, value: Number(r[`b${i}`]) }));
    samples.push({ metricName: `${name}_bucket`, labels: { ...l, le: '+Inf' }, value: Number(r.n) });
    samples.push({ metricName: `${name}_sum`, labels: l, value: Number(r.total) });
    samples.push({ metricName: `${name}_count`, labels: l, value: Number(r.n) });
  }
  return samples;
}

export function createMetricsRegistry(deps: MetricsDeps): Registry {
  const { dataSource: ds, queues, config } = deps;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const own = ownRows('$1');
  const prefix = [config.queuePrefix];
  const families: Family[] = [
    {
      name: 'invoice_exports',
      help: 'Exports by kind, format and status (all recorded exports, from PostgreSQL)',
      type: 'gauge',
      read: async () =>
        (
          await ds.query(`SELECT kind, format, status, count(*)::int AS n FROM invoice_exports WHERE ${own} GROUP BY kind, format, status`, prefix)
        ).map((r: { kind: string; format: string; status: string; n: number }) => ({ labels: { kind: r.kind, format: r.format, status: r.status }, value: r.n })),
    },
    {
      name: 'invoice_exports_waiting',
      help: 'QUEUED exports by what they wait for (none: on the queue)',
      type: 'gauge',
      read: async () =>
        (
          await ds.query(
            `SELECT coalesce(waiting_reason, 'NONE') AS reason, count(*)::int AS n FROM invoice_exports WHERE status = 'QUEUED' AND ${own} GROUP BY 1`,
            prefix,
          )
        ).map((r: { reason: string; n: number }) => ({ labels: { reason: r.reason }, value: r.n })),
    },
    {
      name: 'invoice_export_duration_seconds',
      help: 'Start to completion of the completed exports still recorded',
      type: 'histogram',
      read: () =>
        histogram(ds, 'invoice_export_duration_seconds', `extract(epoch FROM completed_at - started_at)`, DURATION_BUCKETS, ['kind', 'format'],
          `status IN ('COMPLETED', 'EXPIRED') AND started_at IS NOT NULL AND ${own}`, prefix),
    },
    {
      name: 'invoice_export_rows_per_second',
      help: 'Rows per second of the completed exports still recorded',
      type: 'histogram',
      read: () =>
        histogram(ds, 'invoice_export_rows_per_second', `row_count / greatest(extract(epoch FROM completed_at - started_at), 0.001)`, THROUGHPUT_BUCKETS,
          ['kind', 'format'], `status IN ('COMPLETED', 'EXPIRED') AND started_at IS NOT NULL AND row_count IS NOT NULL AND ${own}`, prefix),
    },
    {
      name: 'invoice_export_queue_jobs',
      help: 'Jobs on the queue (Redis) by lane and state; absent while Redis is unreachable',
      type: 'gauge',
      read: async () => {
        const samples: Sample[] = [];
        if (!queues.connected) return samples;
        for (const q of queues.all) {
          try {
            const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
            for (const [state, n] of Object.entries(c)) samples.push({ labels: { queue: q.name, state }, value: n });
          } catch {
            // Redis down: invoice_export_queue_up says so.
          }
        }
        return samples;
      },
    },
    {
      name: 'invoice_export_queue_up',
      help: '1 when the job queue (Redis) answers',
      type: 'gauge',
      read: async () => [{ labels: {}, value: queues.connected ? 1 : 0 }],
    },
    {
      name: 'invoice_export_events',
      help: 'Retries, takeovers, lost leases, reconciler and sweep actions, over every process',
      type: 'counter',
      read: async () => (await readCounters(ds)).map((c) => ({ labels: { event: c.name, ...(c.label ? { kind: c.label } : {}) }, value: Number(c.value) })),
    },
  ];
  for (const f of families) registry.registerMetric(computed(f) as never);
  return registry;
}
