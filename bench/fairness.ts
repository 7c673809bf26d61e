/**
 * `npm run bench -- --fairness` (issue 10, docs/fairness.md): one tenant floods the
 * service, another keeps asking for a small export.
 *
 * For each layout (API processes × worker processes, every one a child
 * process started as `npm run start:api` / `npm run start:worker` would, with
 * the service's default fairness settings):
 *   1. tenant B (100 invoices) asks for an INVOICES XLSX export N times in a
 *      row, each after the previous one completed: B's solo latency, mutation →
 *      COMPLETED on the subscription, same processes, same run;
 *   2. tenant A (100,000 invoices) asks for 20 INVOICE_LINES XLSX exports at
 *      once, spread round-robin over the APIs;
 *   3. while A's exports run, B asks N times in a row again;
 *   4. A's 20 finish. The database is sampled every ~100 ms for how many of
 *      A's exports are RUNNING.
 * Targets are printed, never asserted; the exit code is non-zero only when
 * something did not work (an export failed, a row count is wrong).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { redactUrl } from '../src/app';
import { signToken } from '../src/auth/jwt';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { ExportFormat, ExportKind, Role } from '../src/entities/enums';
import { seedTenant, SeedResult } from '../dev/seed/seed';
import { Child, ROOT, runTs, stopChildrenOnSignal } from '../tools/lib/children';
import { API_ENTRY, startEmbeddedS3Child, WORKER_ENTRY } from '../tools/lib/stack';
import { FINAL_STATUSES, exportWsClient, followExport, requestExport } from '../dev/client/export-client';
import { BenchClient, ExportTiming } from './lib/client';
import { BenchOptions } from './lib/options';
import { removeQueueKeys } from '../tools/lib/redis-keys';
import { fmt, markdownTable, percentile, sleep } from '../tools/lib/util';

const log = (msg: string) => process.stderr.write(`[fairness] ${msg}\n`);
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);

/** The defaults of src/config.ts the targets are stated against (printed in the header). */
const DEFAULTS = loadConfig({}, { allowDevJwtSecret: true });

interface Layout {
  api: number;
  workers: number;
}

interface BRun {
  totalMs: number;
  /** Mutation → its answer. */
  acceptMs: number;
  /** Answer → first RUNNING received (waiting for a slot / the lane). */
  waitMs: number | null;
  /** First RUNNING → COMPLETED received. */
  runMs: number | null;
  /** A's exports RUNNING when this one was requested (last sample). */
  aRunningAtRequest: number | null;
  api: number;
}

interface AWaitSeen {
  id: string;
  /** Its subscriber was told waitingReason TENANT_CONCURRENCY. */
  waiting: boolean;
  maxQueuePosition: number | null;
  doneAt: number;
}

interface LayoutResult {
  layout: Layout;
  prefix: string;
  solo: BRun[];
  flood: BRun[];
  soloP50Ms: number;
  soloP95Ms: number;
  floodP50Ms: number;
  floodP95Ms: number;
  ratioP50: number;
  ratioP95: number;
  /** B's runs under the flood that ended before A's last export finished (all, unless A was very fast). */
  floodRunsDuringA: number;
  aExports: number;
  aCompleted: number;
  aFailed: string[];
  aTotalSeconds: number;
  /** Max of A's RUNNING exports over the samples. */
  aMaxRunning: number;
  samples: number;
  sampleIntervalMsP50: number;
  /** A's exports that told their subscriber waitingReason TENANT_CONCURRENCY with a queuePosition. */
  aSawWaiting: number;
  /** Highest queuePosition any of A's exports was told. */
  aMaxQueuePosition: number;
  aRowsPerExport: number;
  /** Per A export: seconds from the flood's start to its start and end (database clock → relative). */
  aTimeline: { id: string; startedS: number | null; completedS: number | null; attempts: number }[];
  loadAverage: number[];
}

/** Count of tenant A's exports by status, every ~100 ms, from the database. */
class RunningSampler {
  readonly samples: { at: number; running: number; queued: number; completed: number }[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly tenantId: string,
    private readonly prefix: string,
  ) {}

  get last(): number | null {
    return this.samples.length ? this.samples[this.samples.length - 1].running : null;
  }

  start(intervalMs = 100): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const t0 = performance.now();
        const { rows } = await this.pool.query(
          `SELECT count(*) FILTER (WHERE status = 'RUNNING')::int AS running,
                  count(*) FILTER (WHERE status = 'QUEUED')::int AS queued,
                  count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed
           FROM invoice_exports WHERE tenant_id = $1 AND queue_prefix = $2`,
          [this.tenantId, this.prefix],
        );
        this.samples.push({ at: t0, ...rows[0] });
        await sleep(Math.max(0, intervalMs - (performance.now() - t0)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

function gitCommit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return null;
  }
}

export class FairnessBench {
  readonly children = new Set<Child>();
  readonly results: LayoutResult[] = [];
  readonly runStamp = stamp();
  readonly load: number[] = [os.loadavg()[0]];
  private readonly loadTimer = setInterval(() => this.load.push(os.loadavg()[0]), 5000).unref();
  private readonly redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  /** Separate API and worker processes refuse the development JWT secret: one of the run's own, unless JWT_SECRET is set. */
  private readonly config = loadConfig({ ...process.env, JWT_SECRET: process.env.JWT_SECRET || randomBytes(48).toString('base64') });
  private readonly prefixes: string[] = [];
  private tenants: { a: SeedResult & { name: string }; b: SeedResult & { name: string } } | null = null;
  private s3Dir = '';
  private s3Env: Record<string, string> = {};
  private s3Child: Child | null = null;
  private pool: Pool | null = null;

  constructor(readonly opts: BenchOptions) {}

  async setup(): Promise<void> {
    const { opts } = this;
    log(`database ${redactUrl(opts.databaseUrl)} (the bench's own)`);
    await ensureDatabase(opts.databaseUrl);
    const ds = createDataSource(opts.databaseUrl, { poolSize: 2, applicationName: 'invoice-export-bench-fairness' });
    await ds.initialize();
    try {
      await runMigrations(ds);
    } finally {
      await ds.destroy();
    }
    const seed = async (n: number) => {
      const name = `bench-${n}`;
      const t0 = Date.now();
      const r = await seedTenant(opts.databaseUrl, { tenantName: name, invoices: n, ifExists: 'reuse', analyze: true });
      log(`tenant ${name}: ${fmt.int(r.invoices)} invoices, ${fmt.int(r.lines)} lines, ${r.created ? `seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'reused'}`);
      return { ...r, name };
    };
    this.tenants = { a: await seed(opts.invoices), b: await seed(opts.smallInvoices) };
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 2, application_name: 'invoice-export-bench-fairness' });

    this.s3Dir = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-fairness-s3-'));
    const s3 = await startEmbeddedS3Child((name, entry, env) => this.spawn(name, entry, env), this.s3Dir, 'bench-exports');
    this.s3Child = s3.child;
    this.s3Env = s3.env;
  }

  private spawn(name: string, entry: string, env: Record<string, string>): Child {
    const child = runTs(name, entry, env, { echo: this.opts.verbose });
    this.children.add(child);
    child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** Same environment for every process of a layout: the service's defaults but for the bench's wiring. */
  private serviceEnv(prefix: string): Record<string, string> {
    return {
      ...this.s3Env,
      JWT_SECRET: this.config.jwtSecret ?? '',
      DATABASE_URL: this.opts.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(this.opts.workerConcurrency),
      LOG_LEVEL: 'info',
    };
  }

  async runLayout(layout: Layout): Promise<LayoutResult> {
    const { opts } = this;
    const { a, b } = this.tenants!;
    const prefix = `fair-${randomUUID().slice(0, 8)}-${layout.api}x${layout.workers}`;
    this.prefixes.push(prefix);
    const label = `${layout.api} API + ${layout.workers} worker${layout.workers > 1 ? 's' : ''}`;
    log(`layout ${label} (queue prefix ${prefix})`);
    const loadFrom = this.load.length;
    const env = this.serviceEnv(prefix);
    const apis = Array.from({ length: layout.api }, (_, i) => this.spawn(`api ${i + 1}`, API_ENTRY, { ...env, PORT: '0' }));
    const workers = Array.from({ length: layout.workers }, (_, i) => this.spawn(`worker ${i + 1}`, WORKER_ENTRY, env));
    const urls = await Promise.all(
      apis.map(async (api) => {
        const m = await api.waitFor(/"url":"http:\/\/localhost:(\d+)\/graphql"/, 60_000);
        return `http://127.0.0.1:${m[1]}/graphql`;
      }),
    );
    await Promise.all(workers.map((w) => w.waitFor(/Worker ready/, 60_000)));
    // One user per tenant and layout: A's 20 requests are within the default rate limit (30 a minute per user).
    const token = (tenantId: string, user: string) => signToken(this.config.jwtSecret, { tenantId, roles: [Role.ACCOUNTANT], userId: `${prefix}-${user}` });
    const tokenA = token(a.tenantId, 'a');
    const wsA = urls.map((u) => exportWsClient(u, tokenA, { lazy: false }));
    // B's solo and flood runs are two users, so that the 2 × 10 + warm-up requests stay under the rate limit too.
    const clientsB = { solo: urls.map((u) => new BenchClient(u, token(b.tenantId, 'b-solo'))), flood: urls.map((u) => new BenchClient(u, token(b.tenantId, 'b-flood'))) };
    const sampler = new RunningSampler(this.pool!, a.tenantId, prefix);
    try {
      const smallExport = async (client: BenchClient): Promise<ExportTiming> => {
        const t = await client.runExport({ kind: ExportKind.INVOICES, format: ExportFormat.XLSX, selection: { filter: {} } });
        if (t.final.rowCount !== b.invoices) throw new Error(`B's export ${t.id} has ${t.final.rowCount} rows, expected ${b.invoices}`);
        return t;
      };
      const bRuns = async (clients: BenchClient[], phase: string): Promise<BRun[]> => {
        const runs: BRun[] = [];
        for (let i = 0; i < opts.fairnessBRuns; i++) {
          const aRunning = sampler.last;
          const t = await smallExport(clients[i % clients.length]);
          runs.push({
            totalMs: t.doneAt - t.requestedAt,
            acceptMs: t.acceptedAt - t.requestedAt,
            waitMs: t.runningAt === null ? null : t.runningAt - t.acceptedAt,
            runMs: t.runningAt === null ? null : t.doneAt - t.runningAt,
            aRunningAtRequest: aRunning,
            api: i % clients.length,
          });
        }
        const total = runs.map((r) => r.totalMs);
        log(`  B ${phase}: p50 ${fmt.ms(percentile(total, 50))}, p95 ${fmt.ms(percentile(total, 95))} (${total.map((x) => Math.round(x)).join(', ')} ms)`);
        return runs;
      };

      // Warm-up, not counted: every API's HTTP and WebSocket paths, and every worker's small lane (JIT, connections).
      for (let i = 0; i < 2 * Math.max(layout.api, layout.workers); i++) await smallExport(clientsB.solo[i % urls.length]);
      const solo = await bRuns(clientsB.solo, 'solo');

      sampler.start(100);
      await sleep(150);
      const floodAt = performance.now();
      log(`  A: ${opts.fairnessAExports} INVOICE_LINES XLSX exports at once`);
      let lastADone = Infinity;
      const aAll = Promise.allSettled(
        Array.from({ length: opts.fairnessAExports }, async (_, i) => {
          const api = i % urls.length;
          const { id } = await requestExport(urls[api], tokenA, { kind: ExportKind.INVOICE_LINES, format: ExportFormat.XLSX, locale: 'fr-FR', selection: { filter: {} } });
          const seen: AWaitSeen = { id, waiting: false, maxQueuePosition: null, doneAt: 0 };
          const final = await followExport(wsA[api], id, (st, at) => {
            if (st.waitingReason === 'TENANT_CONCURRENCY') seen.waiting = true;
            if (st.queuePosition !== null) seen.maxQueuePosition = Math.max(seen.maxQueuePosition ?? 0, st.queuePosition);
            if (FINAL_STATUSES.has(st.status)) seen.doneAt = at;
          }, 30 * 60_000);
          if (final.status !== 'COMPLETED') throw new Error(`A's export ${id} ended ${final.status}: ${JSON.stringify(final.error)}`);
          if (final.rowCount !== a.lines) throw new Error(`A's export ${id} has ${final.rowCount} rows, expected ${a.lines}`);
          return seen;
        }),
      ).then((settled) => {
        lastADone = performance.now();
        return settled;
      });
      // B starts once A's exports are all recorded (the first ones running, the others waiting).
      const until = Date.now() + 60_000;
      for (;;) {
        const s = sampler.samples[sampler.samples.length - 1];
        if (s && s.running + s.queued + s.completed >= opts.fairnessAExports) break;
        if (Date.now() > until) throw new Error(`A's ${opts.fairnessAExports} exports were not all recorded within 60 s`);
        await sleep(20);
      }
      const flood = await bRuns(clientsB.flood, 'under the flood');
      const floodBEnd = performance.now();
      const settled = await aAll;
      await sleep(150);
      await sampler.stop();

      const aDone = settled.filter((s): s is PromiseFulfilledResult<AWaitSeen> => s.status === 'fulfilled').map((s) => s.value);
      const aFailed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => String(s.reason?.message ?? s.reason));
      const aTotalSeconds = ((aDone.length === settled.length ? Math.max(...aDone.map((t) => t.doneAt)) : lastADone) - floodAt) / 1000;
      const timeline: { id: string; started: number | null; completed: number | null; attempts: number }[] = (
        await this.pool!.query(
          `SELECT id, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM completed_at) * 1000 AS completed, attempts
           FROM invoice_exports WHERE tenant_id = $1 AND queue_prefix = $2 ORDER BY started_at NULLS LAST`,
          [a.tenantId, prefix],
        )
      ).rows.map((r) => ({ id: r.id, started: r.started === null ? null : Number(r.started), completed: r.completed === null ? null : Number(r.completed), attempts: r.attempts }));
      const floodEpoch = performance.timeOrigin + floodAt;
      const intervals = sampler.samples.slice(1).map((s, i) => s.at - sampler.samples[i].at);
      const soloTotals = solo.map((r) => r.totalMs);
      const floodTotals = flood.map((r) => r.totalMs);
      const result: LayoutResult = {
        layout,
        prefix,
        solo,
        flood,
        soloP50Ms: percentile(soloTotals, 50),
        soloP95Ms: percentile(soloTotals, 95),
        floodP50Ms: percentile(floodTotals, 50),
        floodP95Ms: percentile(floodTotals, 95),
        ratioP50: percentile(floodTotals, 50) / percentile(soloTotals, 50),
        ratioP95: percentile(floodTotals, 95) / percentile(soloTotals, 95),
        floodRunsDuringA: floodBEnd <= lastADone ? flood.length : flood.length - 1,
        aExports: opts.fairnessAExports,
        aCompleted: aDone.length,
        aFailed,
        aTotalSeconds,
        aMaxRunning: Math.max(0, ...sampler.samples.map((s) => s.running)),
        samples: sampler.samples.length,
        sampleIntervalMsP50: intervals.length ? percentile(intervals, 50) : NaN,
        aSawWaiting: aDone.filter((t) => t.waiting).length,
        aMaxQueuePosition: Math.max(0, ...aDone.map((t) => t.maxQueuePosition ?? 0)),
        aRowsPerExport: a.lines,
        aTimeline: timeline.map((t) => ({
          id: t.id,
          startedS: t.started === null ? null : (t.started - floodEpoch) / 1000,
          completedS: t.completed === null ? null : (t.completed - floodEpoch) / 1000,
          attempts: t.attempts,
        })),
        loadAverage: this.load.slice(loadFrom),
      };
      if (floodBEnd > lastADone) log(`  warning: A's exports finished before B's runs under the flood did`);
      log(
        `  A: ${aDone.length}/${opts.fairnessAExports} completed in ${fmt.secs(aTotalSeconds)} s, at most ${result.aMaxRunning} RUNNING at once ` +
          `(${result.samples} samples, every ${fmt.ms(result.sampleIntervalMsP50)})`,
      );
      return result;
    } finally {
      if (!sampler['stopped']) await sampler.stop().catch(() => undefined);
      await Promise.all([...wsA.map((w) => ({ close: () => w.dispose() })), ...clientsB.solo, ...clientsB.flood].map((c) => Promise.resolve(c.close()).catch(() => undefined)));
      await Promise.all([...workers, ...apis].map((c) => c.stop(10_000)));
    }
  }

  report(): string {
    const { a, b } = this.tenants!;
    const mean = this.load.reduce((x, y) => x + y, 0) / this.load.length;
    const out: string[] = [
      `Fairness benchmark (issue 10) — ${new Date().toISOString()} — ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim()}), Node ${process.version}, commit ${gitCommit() ?? '?'}`,
      `Machine load (1-min load average, ${os.cpus().length} CPUs): at start ${this.load[0].toFixed(1)}, mean ${mean.toFixed(1)}, max ${Math.max(...this.load).toFixed(1)}. ` +
        `The bench alone keeps ~2 busy; more means other work shared the cores, and the figures are noisy.`,
      `Tenant A ${a.name}: ${fmt.int(a.invoices)} invoices; ${this.opts.fairnessAExports} INVOICE_LINES XLSX exports of ${fmt.int(a.lines)} lines sent at once. ` +
        `Tenant B ${b.name}: an INVOICES XLSX export of ${fmt.int(b.invoices)} invoices, ${this.opts.fairnessBRuns} times in a row, solo then under A's flood; mutation → COMPLETED received on the subscription.`,
      `Service defaults: EXPORT_TENANT_CONCURRENCY=${DEFAULTS.exportTenantConcurrency}, EXPORT_TENANT_MAX_ACTIVE=${DEFAULTS.exportTenantMaxActive}, ` +
        `EXPORT_RATE_LIMIT_PER_MINUTE=${DEFAULTS.exportRateLimitPerMinute} (one user per tenant and phase), EXPORT_SMALL_MAX_ROWS=${DEFAULTS.exportSmallMaxRows}, ` +
        `WORKER_CONCURRENCY=${this.opts.workerConcurrency}, WORKER_SMALL_CONCURRENCY=${DEFAULTS.workerSmallConcurrency}, EXPORT_PRIORITY_AGING_SECONDS=${DEFAULTS.exportPriorityAgingSeconds}. ` +
        `API and workers: child processes (src/api/main.ts, src/worker/main.ts); requests round-robin over the APIs.`,
      '',
    ];
    out.push(
      markdownTable(
        ['Layout', 'B solo p50', 'B solo p95', 'B flood p50', 'B flood p95', 'p50 × solo', 'p95 × solo', `A: ${this.opts.fairnessAExports} done in`, 'A max RUNNING', 'A completed', 'load avg'],
        this.results.map((r) => [
          `${r.layout.api} API + ${r.layout.workers} worker${r.layout.workers > 1 ? 's' : ''}`,
          fmt.ms(r.soloP50Ms),
          fmt.ms(r.soloP95Ms),
          fmt.ms(r.floodP50Ms),
          fmt.ms(r.floodP95Ms),
          fmt.ratio(r.ratioP50),
          fmt.ratio(r.ratioP95),
          `${fmt.secs(r.aTotalSeconds)} s`,
          `${r.aMaxRunning} (${r.samples} samples)`,
          `${r.aCompleted}/${r.aExports}`,
          `${Math.min(...r.loadAverage).toFixed(1)}–${Math.max(...r.loadAverage).toFixed(1)}`,
        ]),
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    out.push('', 'B under the flood, per run (ms): mutation answer / answer → RUNNING / RUNNING → COMPLETED; A RUNNING when it was requested:');
    for (const r of this.results) {
      const med = (f: (x: BRun) => number | null, runs: BRun[]) => fmt.ms(percentile(runs.map(f).filter((x): x is number => x !== null), 50));
      out.push(
        `  ${r.layout.api}x${r.layout.workers}: solo medians ${med((x) => x.acceptMs, r.solo)} / ${med((x) => x.waitMs, r.solo)} / ${med((x) => x.runMs, r.solo)}; ` +
          `flood medians ${med((x) => x.acceptMs, r.flood)} / ${med((x) => x.waitMs, r.flood)} / ${med((x) => x.runMs, r.flood)}; ` +
          `A RUNNING at B's requests: ${r.flood.map((x) => x.aRunningAtRequest ?? '?').join(' ')}`,
      );
    }
    out.push('', 'Targets (reported, not asserted):');
    for (const r of this.results) {
      const l = `${r.layout.api} API + ${r.layout.workers} worker(s)`;
      const mark = (met: boolean) => (met ? 'met' : 'MISSED');
      out.push(
        `  [${mark(r.ratioP50 <= 3)}] ${l}: B's p50 under the flood ≤ 3× solo p50: ${fmt.ms(r.floodP50Ms)} vs ${fmt.ms(r.soloP50Ms)} = ${fmt.ratio(r.ratioP50)}` +
          (r.floodRunsDuringA < r.flood.length ? ` (only ${r.floodRunsDuringA} of B's runs ran while A was busy)` : ''),
        `  [${mark(r.aMaxRunning <= DEFAULTS.exportTenantConcurrency)}] ${l}: A never more than EXPORT_TENANT_CONCURRENCY=${DEFAULTS.exportTenantConcurrency} RUNNING at once: max ${r.aMaxRunning} over ${r.samples} samples`,
        `  [${mark(r.aCompleted === r.aExports)}] ${l}: A's ${r.aExports} all complete: ${r.aCompleted}/${r.aExports}${r.aFailed.length ? ` — ${r.aFailed.slice(0, 3).join('; ')}` : ''}`,
      );
    }
    return out.join('\n');
  }

  json(): Record<string, unknown> {
    return {
      kind: 'fairness',
      timestamp: new Date().toISOString(),
      commit: gitCommit(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.trim(), memoryBytes: os.totalmem(), node: process.version },
      options: { invoices: this.opts.invoices, smallInvoices: this.opts.smallInvoices, aExports: this.opts.fairnessAExports, bRuns: this.opts.fairnessBRuns, layouts: this.opts.fairness, workerConcurrency: this.opts.workerConcurrency, databaseUrl: redactUrl(this.opts.databaseUrl) },
      settings: {
        exportTenantConcurrency: DEFAULTS.exportTenantConcurrency,
        exportTenantMaxActive: DEFAULTS.exportTenantMaxActive,
        exportRateLimitPerMinute: DEFAULTS.exportRateLimitPerMinute,
        exportSmallMaxRows: DEFAULTS.exportSmallMaxRows,
        workerSmallConcurrency: DEFAULTS.workerSmallConcurrency,
        exportPriorityAgingSeconds: DEFAULTS.exportPriorityAgingSeconds,
      },
      loadAverage: { samples: this.load, mean: this.load.reduce((x, y) => x + y, 0) / this.load.length, max: Math.max(...this.load) },
      tenants: this.tenants,
      layouts: this.results,
    };
  }

  async teardown(): Promise<void> {
    clearInterval(this.loadTimer);
    await Promise.all([...this.children].filter((c) => c !== this.s3Child).map((c) => c.stop(5000)));
    await this.s3Child?.stop(5000);
    if (this.s3Dir) await fs.rm(this.s3Dir, { recursive: true, force: true });
    await removeQueueKeys(this.redisUrl, this.prefixes, log);
    try {
      if (this.pool && this.prefixes.length) await this.pool.query(`DELETE FROM invoice_exports WHERE queue_prefix = ANY($1::text[])`, [this.prefixes]);
    } catch (err) {
      log(`could not delete the run's exports: ${(err as Error).message}`);
    }
    await this.pool?.end().catch(() => undefined);
  }
}

/** The whole --fairness run: every layout in turn, one table, one JSON file. */
export async function runFairness(opts: BenchOptions): Promise<number> {
  const bench = new FairnessBench(opts);
  stopChildrenOnSignal(bench.children, log);
  const started = Date.now();
  let failure: unknown = null;
  try {
    await bench.setup();
    for (const layout of opts.fairness ?? []) bench.results.push(await bench.runLayout(layout));
  } catch (err) {
    failure = err;
  } finally {
    await bench.teardown().catch((err) => log(`teardown: ${err}`));
  }
  if (bench.results.length) process.stdout.write(`\n${bench.report()}\n`);
  if (bench.results.length) {
    const file = opts.out ?? path.join(ROOT, 'bench', 'results', `fairness-${bench.runStamp}.json`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, `${JSON.stringify({ ...bench.json(), durationSeconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
    process.stdout.write(`\nJSON: ${path.relative(process.cwd(), file) || file}\n`);
  }
  if (failure) {
    process.stderr.write(`\nFairness benchmark failed: ${failure instanceof Error ? failure.stack : String(failure)}\n`);
    return 1;
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}
