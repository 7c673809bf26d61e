import { Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { ownRows } from '../exports/dispatcher';
import type { ExportQueues } from '../exports/queue';
import { buildInfo } from './build-info';
import { CounterName, readCounters } from './counters';

/**
 * `/metrics` in the Prometheus text format (docs/operations.md): one prefix
 * (`invoice_export_`), counters ending in `_total`, units in the names.
 *
 * Two kinds of figures. Deployment-wide ones are read from PostgreSQL (and
 * the queue's from Redis) at scrape time, so that any API process answers
 * for the whole deployment — workers have no HTTP server, and their events
 * are counted in `service_counters`. Every replica serves the same values:
 * they carry `scope="deployment"`, to be aggregated with `max`, never `sum`.
 * The process's own figures (build, its Redis connection, memory, CPU, event
 * loop) carry no scope label and add up over replicas.
 * docs/operations.md lists every name; a test compares it with this output.
 */export interface MetricsDeps {
  dataSource: DataSource;
  queues: ExportQueues;
  config: Pick<Config, 'queuePrefix'>;
}

/** Upper bounds of the duration histogram, in seconds. */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export const METRIC_PREFIX = 'invoice_export_';
/** The label of every figure computed for the whole deployment (the same on every replica: `max`, not `sum`). */
export const DEPLOYMENT = { scope: 'deployment' } as const;

/** The counters of `service_counters`, by family: the family's name, and the label the row's own label (if any) goes to. */
const COUNTER_FAMILIES: { name: string; help: string; counters: Partial<Record<CounterName, Record<string, string>>>; rowLabel?: string }[] = [
  { name: 'invoice_export_retries_total', help: 'Attempts after the first, by kind', counters: { export_retries: {} }, rowLabel: 'kind' },
  { name: 'invoice_export_takeovers_total', help: 'Exports taken over from a worker whose lease ran out', counters: { export_takeovers: {} } },
  { name: 'invoice_export_lost_leases_total', help: 'Attempts that found their lease taken over and stopped', counters: { export_lost_leases: {} } },
  {
    name: 'invoice_export_reconciler_actions_total',
    help: 'Reconciler actions: exports put back on the queue, rescued from a lost job, failed for good',
    counters: { reconciler_requeued: { action: 'requeued' }, reconciler_rescued: { action: 'rescued' }, reconciler_failed: { action: 'failed' } },
  },
  {
    name: 'invoice_export_sweep_actions_total',
    help: 'Sweep actions: files expired, leftovers of unfinished attempts cleaned',
    counters: { sweep_expired: { action: 'expired' }, sweep_cleaned: { action: 'cleaned' } },
  },
];

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
    const l = { ...Object.fromEntries(labelColumns.map((c) => [c, String(r[c])])), ...DEPLOYMENT };
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
  // The process's own (memory, CPU, event loop, GC), under the same prefix.
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const own = ownRows('$1');
  const prefix = [config.queuePrefix];
  const finished = `status IN ('COMPLETED', 'EXPIRED') AND started_at IS NOT NULL AND ${own}`;
  const counters = async () => readCounters(ds);
  const families: Family[] = [
    {
      name: 'invoice_export_build_info',
      help: 'Always 1: the version, git commit and Node.js version this process runs',
      type: 'gauge',
      read: async () => [{ labels: { ...buildInfo() }, value: 1 }],
    },
    {
      name: 'invoice_export_exports',
      help: 'Recorded exports by kind, format and status (deployment-wide, from PostgreSQL)',
      type: 'gauge',
      read: async () =>
        (
          await ds.query(`SELECT kind, format, status, count(*)::int AS n FROM invoice_exports WHERE ${own} GROUP BY kind, format, status`, prefix)
        ).map((r: { kind: string; format: string; status: string; n: number }) => ({
          labels: { kind: r.kind, format: r.format, status: r.status, ...DEPLOYMENT },
          value: r.n,
        })),
    },
    {
      name: 'invoice_export_exports_waiting',
      help: 'QUEUED exports by what they wait for, NONE meaning on the queue (deployment-wide, from PostgreSQL)',
      type: 'gauge',
      read: async () =>
        (
          await ds.query(
            `SELECT coalesce(waiting_reason, 'NONE') AS reason, count(*)::int AS n FROM invoice_exports WHERE status = 'QUEUED' AND ${own} GROUP BY 1`,
            prefix,
          )
        ).map((r: { reason: string; n: number }) => ({ labels: { reason: r.reason, ...DEPLOYMENT }, value: r.n })),
    },
    {
      name: 'invoice_export_duration_seconds',
      help: 'Start to completion of the completed exports (deployment-wide, from PostgreSQL)',
      type: 'histogram',
      read: () =>
        histogram(ds, 'invoice_export_duration_seconds', `extract(epoch FROM completed_at - started_at)`, DURATION_BUCKETS, ['kind', 'format'], finished, prefix),
    },
    {
      name: 'invoice_export_rows_total',
      help: 'Rows written in the completed exports (deployment-wide, from PostgreSQL)',
      type: 'counter',
      read: async () => (await sizes(ds, finished, prefix)).map((r) => ({ labels: r.labels, value: r.rows })),
    },
    {
      name: 'invoice_export_file_bytes_total',
      help: 'Bytes of the completed exports\' files (deployment-wide, from PostgreSQL)',
      type: 'counter',
      read: async () => (await sizes(ds, finished, prefix)).map((r) => ({ labels: r.labels, value: r.bytes })),
    },
    {
      name: 'invoice_export_queue_jobs',
      help: 'Jobs on the queue by lane and state; absent while Redis is unreachable (deployment-wide, from Redis)',
      type: 'gauge',
      read: async () => {
        const samples: Sample[] = [];
        if (!queues.connected) return samples;
        for (const q of queues.all) {
          try {
            const c = await q.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
            for (const [state, n] of Object.entries(c)) samples.push({ labels: { queue: q.name, state, ...DEPLOYMENT }, value: n });
          } catch {
            // Redis down: invoice_export_queue_up says so.
          }
        }
        return samples;
      },
    },
    {
      name: 'invoice_export_queue_up',
      help: '1 when this process reaches the job queue (Redis)',
      type: 'gauge',
      read: async () => [{ labels: {}, value: queues.connected ? 1 : 0 }],
    },
    ...COUNTER_FAMILIES.map(
      (f): Family => ({
        name: f.name,
        help: `${f.help} (deployment-wide, every process's, from PostgreSQL)`,
        type: 'counter',
        read: async () => {
          const rows = await counters();
          const samples: Sample[] = [];
          for (const [counter, labels] of Object.entries(f.counters) as [CounterName, Record<string, string>][]) {
            const mine = rows.filter((r) => r.name === counter);
            // A counter never bumped yet is 0, so that rate() and increase() see its first event.
            if (!mine.length && !f.rowLabel) samples.push({ labels: { ...labels, ...DEPLOYMENT }, value: 0 });
            for (const r of mine) {
              const own = f.rowLabel && r.label ? { [f.rowLabel]: r.label } : {};
              samples.push({ labels: { ...labels, ...own, ...DEPLOYMENT }, value: Number(r.value) });
            }
          }
          return samples;
        },
      }),
    ),
  ];
  for (const f of families) registry.registerMetric(computed(f) as never);
  return registry;
}

/** Rows and bytes of the finished exports, by kind and format. */
async function sizes(ds: DataSource, where: string, params: unknown[]): Promise<{ labels: Record<string, string>; rows: number; bytes: number }[]> {
  const rows: { kind: string; format: string; rows: string; bytes: string }[] = await ds.query(
    `SELECT kind, format, coalesce(sum(row_count), 0)::text AS rows, coalesce(sum(file_size), 0)::text AS bytes
     FROM invoice_exports WHERE ${where} GROUP BY kind, format`,
    params,
  );
  return rows.map((r) => ({ labels: { kind: r.kind, format: r.format, ...DEPLOYMENT }, rows: Number(r.rows), bytes: Number(r.bytes) }));
}
