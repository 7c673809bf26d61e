/**
 * `npm run bench [-- --invoices N --runs K ...]` (see lib/options.ts for every
 * flag, bench/PERFORMANCE.md for what the figures mean).
 *
 * The export measured on its real path — GraphQL mutation over HTTP →
 * BullMQ → a worker in its own process (a fresh one per case, for its peak
 * RSS) → S3 multipart upload to an s3rver of the bench's own → COMPLETED on
 * the graphql-ws subscription — and, in the same run and on the same rows,
 * what bounds it from below (COPY, the writer alone) and what it replaces
 * (ORM + in-memory workbook). Benchmarks are not tests: the targets are
 * reported, never asserted; the exit code is non-zero only when something
 * did not work (an export failed, a row count or a sheet name is wrong).
 */
import '../src/db/data-source'; // pg type parsers, as in the service
import { randomUUID } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { redactUrl } from '../src/app';
import { signToken } from '../src/auth/jwt';
import { boot, Running } from '../src/boot';
import { loadConfig } from '../src/config';
import { createDataSource } from '../src/db/data-source';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { ExportFormat, IMPORT_LAYOUT_FORMATS, ExportKind, Role } from '../src/entities/enums';
import { EXCEL_MAX_DATA_ROWS } from '../src/exports/formats';
import { seedTenant, SeedResult } from '../dev/seed/seed';
import { Child, ROOT, runJsonChild, runTs, stopChildrenOnSignal } from '../tools/lib/children';
import { startEmbeddedS3Child } from '../tools/lib/stack';
import { BenchClient, ExportTiming } from './lib/client';
import { BenchOptions, parseOptions, USAGE, UsageError } from './lib/options';
import { allInvoices, copyOnce } from './lib/sql';
import { Client } from 'pg';
import { removeQueueKeys } from '../tools/lib/redis-keys';
import { fmt, markdownTable, median, MiB, percentile } from '../tools/lib/util';
import { xlsxSheetNames } from './lib/zip';
import { runFairness } from './fairness';
import { runListBench } from './list';
import { TracingResult, tracingPhase, tracingReport } from './tracing';
import type { NaiveResult } from './naive';
import { EXCELJS_BASELINE } from './baseline/xlsx-exceljs';
import type { WriterOnlyResult } from './writer-only';

// The bench's worker runs as a separate process, which refuses the development
// JWT secret (src/config.ts): give this run one of its own, inherited by the children.
process.env.JWT_SECRET ||= `bench-${randomUUID()}-${randomUUID()}`;

/** Kinds measured end to end and against their COPY baseline (every kind of the registry). */
const KINDS = [ExportKind.INVOICES, ExportKind.INVOICE_LINES, ExportKind.ACCOUNTING_ENTRIES] as const;
/** Formats of the flatness case and of the two list kinds. */
const FORMATS = [ExportFormat.XLSX, ExportFormat.CSV] as const;
/**
 * The formats measured per kind: the accounting entries in their own formats, FEC and the five importer
 * layouts (their CSV and XLSX reuse the same writers). A layout's end to end includes its request-time
 * check (aggregate queries over the selection in PostgreSQL before the export is recorded).
 */
const KIND_FORMATS: Readonly<Record<(typeof KINDS)[number], readonly ExportFormat[]>> = {
  [ExportKind.INVOICES]: FORMATS,
  [ExportKind.INVOICE_LINES]: FORMATS,
  [ExportKind.ACCOUNTING_ENTRIES]: [ExportFormat.FEC, ...IMPORT_LAYOUT_FORMATS],
};
/** One case of the flatness phase, as the JSON keeps it. */
interface FlatnessSize {
  invoices: number;
  rows: number;
  seconds: number;
  peakRss: number;
  fileSize: number;
  rssByQuarter: (number | null)[];
  sheetNames?: string[];
  secondSheetOk?: boolean;
}
interface FlatnessCase {
  kind: ExportKind;
  format: ExportFormat;
  small: FlatnessSize;
  big: FlatnessSize;
  ratio: number;
}
/** XIMPORT numbers its entries on 5 digits: a larger file is refused (docs/accounting.md). */
const XIMPORT_MAX_ENTRIES = 99_999;
/** The writer-only and naive baselines feed a kind's file rows straight from SQL: not the accounting kind, whose file rows are built from its SQL rows. */
const BASELINE_KINDS = [ExportKind.INVOICES, ExportKind.INVOICE_LINES] as const;

/** `baseline`: the XLSX writer as it was on exceljs (bench/baseline/), its × writer only = how much faster the current writer is. `check`: a pre-flight check. */
type Group = 'e2e' | 'copy' | 'writer' | 'naive' | 'check' | 'baseline';

export interface CaseResult {
  name: string;
  group: Group;
  kind: ExportKind;
  format: ExportFormat | null;
  /** Invoices behind the rows (the naive case is capped). */
  invoices: number;
  rows: number;
  seconds: number[];
  wallSeconds: number;
  rowsPerSecond: number;
  ratioToCopy: number | null;
  ratioToWriter: number | null;
  /** Ratios computed per row (the case ran on fewer rows than its baselines). */
  ratiosPerRow: boolean;
  /** VmHWM of the process doing the work: median over the rounds (one fresh process each). */
  peakRss: number | null;
  /** Every round's peak. */
  peakRssRuns?: (number | null)[];
  idleRss: number | null;
  fileSize: number | null;
  /** e2e: mutation → first RUNNING state received, median, ms. */
  firstRunningMs: number | null;
  /** e2e: the worker's startedAt → RUNNING received, median, ms. */
  startToRunningMs: number | null;
  /** e2e: mutation → first state with processedRows > 0, median, ms. */
  firstRowsMs: number | null;
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | null;
  note?: string;
}

interface Sample {
  rows: number;
  seconds: number;
  peakRss: number | null;
  idleRss: number | null;
  fileSize: number | null;
  firstRunningMs: number | null;
  startToRunningMs: number | null;
  firstRowsMs: number | null;
}

interface WorkerHandle {
  child: Child;
  idleRss: number;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);

function gitCommit(): string | null {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: ROOT, encoding: 'utf8' }).trim();
    return dirty ? `${sha}+uncommitted` : sha;
  } catch {
    return null;
  }
}

class Bench {
  readonly children = new Set<Child>();
  readonly cases: CaseResult[] = [];
  readonly prefix = `bench-${randomUUID().slice(0, 8)}`;
  readonly runStamp = stamp();
  tenants: Record<string, SeedResult & { name: string }> = {};
  small: Record<string, unknown> | null = null;
  scaling: Record<string, unknown> | null = null;
  flatness: Record<string, unknown> | null = null;
  tracing: TracingResult | null = null;
  private s3Dir = '';
  private s3Env: Record<string, string> = {};
  private s3Child: Child | null = null;
  private api: Running | null = null;
  private client: BenchClient | null = null;
  private redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  private createdBefore = '';
  private profileSeq = 0;
  /** 1-minute load average, sampled every 5 s: other work on the machine shows here. */
  readonly load: number[] = [os.loadavg()[0]];
  private readonly loadTimer = setInterval(() => this.load.push(os.loadavg()[0]), 5000).unref();

  constructor(readonly opts: BenchOptions) {}

  /** Where --compiled-worker builds the service (tsc -p tsconfig.build.json, as npm run build). */
  get buildDir(): string {
    return path.join(ROOT, 'bench', 'results', 'build');
  }

  get profileDir(): string {
    return path.join(ROOT, 'bench', 'results', 'profiles', this.runStamp);
  }

  // ------------------------------------------------------------------ setup

  async setup(): Promise<void> {
    const { opts } = this;
    log(`database ${redactUrl(opts.databaseUrl)} (the bench's own), queue prefix ${this.prefix}`);
    await ensureDatabase(opts.databaseUrl);
    const ds = createDataSource(opts.databaseUrl, { poolSize: 2, applicationName: 'invoice-export-bench' });
    await ds.initialize();
    try {
      await runMigrations(ds);
      // Exports of earlier (maybe interrupted) runs: a QUEUED one would be re-enqueued by a worker's cleanup sweep.
      await ds.query('DELETE FROM invoice_exports');
      // What autovacuum would have done since (this machine's server runs without it): each accounting
      // export marks 100,000 documents, deleted with its export; their dead rows would otherwise be
      // read again by every later run's totals and transfer checks.
      await ds.query('VACUUM (ANALYZE) invoice_exports, accounting_transfers, audit_events');
    } finally {
      await ds.destroy();
    }

    const sizes: Record<string, number> = { main: opts.invoices };
    sizes.small = opts.smallInvoices; // the small export, and the warm-up of every fresh worker
    if (!opts.skip.has('scaling') || opts.flatness) sizes.scaling = opts.scalingInvoices;
    if (opts.flatness) sizes.flatBig = opts.flatnessInvoices;
    for (const [role, n] of Object.entries(sizes)) {
      const name = `bench-${n}`;
      const t0 = Date.now();
      let lastLog = 0;
      const seeded = await seedTenant(opts.databaseUrl, {
        tenantName: name,
        invoices: n,
        ifExists: 'reuse',
        analyze: true,
        onProgress: (done, total) => {
          if (Date.now() - lastLog > 5000) {
            lastLog = Date.now();
            log(`seeding ${name}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} invoices`);
          }
        },
      });
      this.tenants[role] = { ...seeded, name };
      log(
        `tenant ${name}: ${seeded.invoices.toLocaleString('en-US')} invoices, ${seeded.lines.toLocaleString('en-US')} lines ` +
          `(${(seeded.lines / Math.max(1, seeded.invoices)).toFixed(2)} per invoice), ${seeded.created ? `seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'reused'}`,
      );
    }
    if (opts.linesPerInvoice !== null) {
      log(`note: --lines-per-invoice ${opts.linesPerInvoice} is not applied: the seed generates 1–6 lines per invoice ` +
        `(${(this.tenants.main.lines / Math.max(1, this.tenants.main.invoices)).toFixed(2)} on average here); the actual line counts are reported`);
    }
    // Rows created up to now: the same set for the baselines as for the exports ("Tous les résultats" at request time).
    this.createdBefore = new Date().toISOString();

    if (opts.compiledWorker) {
      log(`building the service with tsc into ${path.relative(ROOT, this.buildDir)} (--compiled-worker)`);
      await fs.rm(this.buildDir, { recursive: true, force: true });
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', this.buildDir], { cwd: ROOT, stdio: 'inherit' });
    }

    this.s3Dir = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-bench-s3-'));
    const s3 = await startEmbeddedS3Child((name, entry, env) => this.spawn(name, entry, env), this.s3Dir, 'bench-exports');
    this.s3Child = s3.child;
    this.s3Env = s3.env;

    const config = loadConfig({
      ...process.env,
      ...this.s3Env,
      DATABASE_URL: opts.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.prefix,
      PORT: '0',
      LOG_LEVEL: 'warn',
    }, { allowDevJwtSecret: true }); // a local run on this machine
    this.api = await boot('api', { config, logger: pino({ level: 'warn' }, pino.destination(2)) });
    const url = `http://127.0.0.1:${this.api.port}/graphql`;
    log(`API on ${url}, s3rver on ${this.s3Env.S3_ENDPOINT}`);
    this.tokens = Object.fromEntries(
      Object.entries(this.tenants).map(([role, t]) => [role, signToken(config.jwtSecret, { tenantId: t.tenantId, roles: [Role.ACCOUNTANT], userId: 'bench' })]),
    );
    this.url = url;
  }

  private tokens: Record<string, string> = {};
  private url = '';
  private clients = new Map<string, BenchClient>();

  /** A GraphQL client (HTTP + one WebSocket) acting for a tenant. */
  clientFor(role: string): BenchClient {
    let c = this.clients.get(role);
    if (!c) {
      c = new BenchClient(this.url, this.tokens[role]);
      this.clients.set(role, c);
    }
    return c;
  }

  spawn(name: string, entry: string, env: Record<string, string>, nodeFlags: string[] = []): Child {
    const child = runTs(name, entry, env, { nodeFlags, echo: this.opts.verbose, compiled: entry.endsWith('.js') });
    this.children.add(child);
    child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** A fresh worker process (`src/worker/main.ts`, as `npm run start:worker`), ready to take jobs. */
  async startWorker(label: string, env: Record<string, string> = {}): Promise<WorkerHandle> {
    const flags: string[] = [];
    if (this.opts.cpuProf) {
      const dir = path.join(this.profileDir, `${String(++this.profileSeq).padStart(2, '0')}-${label.replace(/[^A-Za-z0-9]+/g, '-')}`);
      await fs.mkdir(dir, { recursive: true });
      flags.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    }
    const entry = this.opts.compiledWorker ? path.join(this.buildDir, 'src', 'worker', 'main.js') : 'src/worker/main.ts';
    const child = this.spawn(`worker ${label}`, entry, {
      ...this.s3Env,
      DATABASE_URL: this.opts.databaseUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.prefix,
      WORKER_CONCURRENCY: String(this.opts.workerConcurrency),
      LOG_LEVEL: 'info',
      ...env,
    }, flags);
    await child.waitFor(/Worker ready/, 60_000);
    return { child, idleRss: child.memory().current };
  }

  async stopWorker(w: WorkerHandle): Promise<number> {
    const peak = w.child.memory().peak;
    const code = await w.child.stop();
    if (code !== 0) log(`warning: ${w.child.name} exited with code ${code}`);
    return peak;
  }

  private readonly ximportCaps = new Map<string, { excluded: string[]; excludedRows: number } | null>();

  /**
   * XIMPORT numbers its entries on 5 digits (docs/accounting.md): a tenant of more than 99,999 documents
   * is exported as "Tous les résultats" minus its last documents in export order, up to 1,000 of them
   * (the 100,000-invoice tenant: 99,999 entries); null when it fits, or when it would take more.
   */
  private async ximportCap(role: string): Promise<{ excluded: string[]; excludedRows: number } | null> {
    if (this.ximportCaps.has(role)) return this.ximportCaps.get(role)!;
    const t = this.tenants[role];
    const over = t.invoices - XIMPORT_MAX_ENTRIES;
    let cap: { excluded: string[]; excludedRows: number } | null = null;
    if (over > 0 && over <= 1000) {
      const client = new Client({ connectionString: this.opts.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ id: string; source_rows: number }>(
          `SELECT i.id, greatest(1, (SELECT count(*) FROM invoice_lines l WHERE l.tenant_id = i.tenant_id AND l.invoice_id = i.id))::int AS source_rows
           FROM invoices i WHERE i.tenant_id = $1 ORDER BY i.billing_date DESC, i.number DESC LIMIT $2`,
          [t.tenantId, over],
        );
        cap = { excluded: rows.map((r) => r.id), excludedRows: rows.reduce((a, r) => a + r.source_rows, 0) };
      } finally {
        await client.end();
      }
    }
    this.ximportCaps.set(role, cap);
    return cap;
  }

  /** Rows the kind's SELECT streams (the progress total): invoices, or lines (every seeded invoice has at least one). */
  expectedRows(role: string, kind: ExportKind): number {
    const t = this.tenants[role];
    return kind === ExportKind.INVOICES ? t.invoices : t.lines;
  }

  async exportOnce(role: string, kind: ExportKind, format: ExportFormat): Promise<ExportTiming> {
    const cap = format === ExportFormat.XIMPORT ? await this.ximportCap(role) : null;
    const selection = cap ? { filter: {}, excludedInvoiceIds: cap.excluded } : { filter: {} };
    const timing = await this.clientFor(role).runExport({ kind, format, selection });
    if (this.opts.verbose) {
      const epoch = (t: number | null) => (t === null ? null : Math.round(performance.timeOrigin + t));
      log(`export ${timing.id}: requested ${epoch(timing.requestedAt)}, accepted ${epoch(timing.acceptedAt)}, RUNNING ${epoch(timing.runningAt)}, first rows ${epoch(timing.firstRowsAt)}, done ${epoch(timing.doneAt)} (epoch ms)`);
    }
    const expected = this.expectedRows(role, kind) - (cap?.excludedRows ?? 0);
    // The accounting file holds entry lines (one per non-zero billing line, per VAT rate, per receivable): its progress total is the SELECT's rows.
    const streamed = kind === ExportKind.ACCOUNTING_ENTRIES ? timing.final.totalRows : timing.final.rowCount;
    if (timing.final.status !== 'COMPLETED' || streamed !== expected) {
      throw new Error(`export ${timing.id} (${kind} ${format}) ended ${timing.final.status} with ${streamed} rows, expected ${expected}`);
    }
    if (kind === ExportKind.ACCOUNTING_ENTRIES) await this.forgetTransfers(timing.id);
    return timing;
  }

  /**
   * Each accounting case starts as the first one did: its export's 100,000
   * marks go, and what autovacuum would then do is done (this machine's
   * server runs without it). Kept, they piled up case after case (1.2
   * million by the third round) and every later export's totals query and
   * marks read their dead and invisible index entries.
   */
  private async forgetTransfers(exportId: string): Promise<void> {
    const c = new Client({ connectionString: this.opts.databaseUrl, application_name: 'invoice-export-bench' });
    await c.connect();
    try {
      await c.query('DELETE FROM accounting_transfers WHERE export_id = $1', [exportId]);
      await c.query('VACUUM (ANALYZE) accounting_transfers');
    } finally {
      await c.end();
    }
  }

  // ------------------------------------------------------------------ phases

  /**
   * The main cases, interleaved: each of the K rounds runs COPY, the four end
   * to end exports and the writer alone once, so that a change of background
   * load on a shared machine weighs on a case and its baselines alike.
   */
  async mainRounds(): Promise<void> {
    const { opts } = this;
    const phases = (['copy', 'e2e', 'writer'] as const).filter((p) => !opts.skip.has(p));
    if (!phases.length) return;
    // Warm PostgreSQL's cache and the API's HTTP and WebSocket paths once (not measured).
    for (const kind of KINDS) await copyOnce(opts.databaseUrl, kind, this.tenants.main.tenantId, allInvoices(this.createdBefore));
    await this.clientFor('main').gql('{ invoiceExports(first: 1) { totalCount } }', {});
    for (let round = 1; round <= opts.runs; round++) {
      log(`round ${round}/${opts.runs}`);
      if (phases.includes('copy')) await this.copyRound();
      if (phases.includes('e2e')) await this.e2eRound();
      if (phases.includes('writer')) await this.writerRound();
    }
    for (const s of this.samples.values()) {
      const { samples, ...rest } = s;
      const ms = (pick: (x: Sample) => number | null) => medianOf(samples.map(pick));
      this.addCase({
        ...rest,
        rows: samples[0].rows,
        seconds: samples.map((x) => x.seconds),
        // Each round's worker (or child) is a fresh process: the median of their peaks, like the times; every peak is kept.
        peakRss: ms((x) => x.peakRss),
        peakRssRuns: samples.map((x) => x.peakRss),
        idleRss: ms((x) => x.idleRss),
        fileSize: samples[0].fileSize,
        firstRunningMs: ms((x) => x.firstRunningMs),
        startToRunningMs: ms((x) => x.startToRunningMs),
        firstRowsMs: ms((x) => x.firstRowsMs),
      });
    }
  }

  private readonly samples = new Map<string, Pick<CaseResult, 'name' | 'group' | 'kind' | 'format' | 'invoices'> & { samples: Sample[] }>();

  private record(meta: Pick<CaseResult, 'name' | 'group' | 'kind' | 'format' | 'invoices'>, sample: Partial<Sample> & Pick<Sample, 'rows' | 'seconds'>): void {
    let entry = this.samples.get(meta.name);
    if (!entry) this.samples.set(meta.name, (entry = { ...meta, samples: [] }));
    entry.samples.push({ peakRss: null, idleRss: null, fileSize: null, firstRunningMs: null, startToRunningMs: null, firstRowsMs: null, ...sample });
  }

  private async copyRound(): Promise<void> {
    const tenant = this.tenants.main;
    for (const kind of KINDS) {
      if (!KIND_FORMATS[kind].some((f) => this.wanted(kind, f))) continue;
      const r = await copyOnce(this.opts.databaseUrl, kind, tenant.tenantId, allInvoices(this.createdBefore));
      if (r.rows !== this.expectedRows('main', kind)) throw new Error(`COPY ${kind}: ${r.rows} rows, expected ${this.expectedRows('main', kind)}`);
      this.record(
        { name: `COPY ${kind} (CSV, to a null sink)`, group: 'copy', kind, format: null, invoices: tenant.invoices },
        { rows: r.rows, seconds: r.seconds, fileSize: r.bytes },
      );
      log(`  COPY ${kind}: ${fmt.secs(r.seconds)} s`);
    }
  }

  /** Each export on a fresh worker process (its own peak RSS), warmed by one small export of the same kind and format. */
  private wanted(kind: ExportKind, format: ExportFormat): boolean {
    return !this.opts.only.size || this.opts.only.has(`${kind}:${format}`);
  }

  private async e2eRound(): Promise<void> {
    for (const kind of KINDS) {
      for (const format of KIND_FORMATS[kind]) {
        if (!this.wanted(kind, format)) continue;
        if (format === ExportFormat.XIMPORT && this.tenants.main.invoices > XIMPORT_MAX_ENTRIES && !(await this.ximportCap('main'))) {
          // Its movement number has 5 digits: the request is refused (ENTRY_NUMBER_TOO_LONG), by design.
          log(`  end to end ${kind} ${format}: skipped, ${this.tenants.main.invoices} entries do not fit its 5-digit numbers`);
          continue;
        }
        const worker = await this.startWorker(`${kind}-${format}`);
        let t: ExportTiming;
        let peak = 0;
        try {
          await this.exportOnce('small', kind, format); // a long-lived worker has its modules loaded and its connections open
          t = await this.exportOnce('main', kind, format);
        } finally {
          peak = await this.stopWorker(worker);
        }
        this.record(
          { name: `end to end ${kind} ${format}`, group: 'e2e', kind, format, invoices: this.tenants.main.invoices },
          {
            rows: t.final.rowCount!,
            seconds: (t.doneAt - t.requestedAt) / 1000,
            peakRss: peak,
            idleRss: worker.idleRss,
            fileSize: t.final.fileSize,
            firstRunningMs: t.runningAt === null ? null : t.runningAt - t.requestedAt,
            startToRunningMs: t.startToRunningMs,
            firstRowsMs: t.firstRowsAt === null ? null : t.firstRowsAt - t.requestedAt,
          },
        );
        log(`  end to end ${kind} ${format}: ${fmt.secs((t.doneAt - t.requestedAt) / 1000)} s, worker peak ${fmt.mib(peak)}`);
        if (kind === ExportKind.ACCOUNTING_ENTRIES && format !== ExportFormat.FEC) await this.checkOnce(format);
      }
    }
  }

  /** The pre-flight check of the whole main tenant in a layout (accountingExportCheck: the same read, nothing written). */
  private async checkOnce(format: ExportFormat): Promise<void> {
    const started = performance.now();
    const cap = format === ExportFormat.XIMPORT ? await this.ximportCap('main') : null;
    const r = await this.clientFor('main').gql<{ accountingExportCheck: { lineCount: number; problems: unknown[] } }>(
      `query($f: ExportFormat!, $s: InvoiceSelection!) { accountingExportCheck(selection: $s, format: $f) { lineCount problems { rule } } }`,
      { f: format, s: cap ? { filter: {}, excludedInvoiceIds: cap.excluded } : { filter: {} } },
    );
    const seconds = (performance.now() - started) / 1000;
    if (r.accountingExportCheck.problems.length) throw new Error(`pre-flight check ${format}: problems on the bench tenant`);
    this.record(
      { name: `pre-flight check ACCOUNTING_ENTRIES ${format} (nothing written)`, group: 'check', kind: ExportKind.ACCOUNTING_ENTRIES, format, invoices: this.tenants.main.invoices },
      { rows: r.accountingExportCheck.lineCount, seconds },
    );
    log(`  pre-flight check ${format}: ${fmt.secs(seconds)} s`);
  }

  private async writerRound(): Promise<void> {
    const { opts } = this;
    for (const kind of BASELINE_KINDS) {
      const formats = FORMATS.filter((f) => this.wanted(kind, f));
      if (!formats.length) continue;
      const r = await runJsonChild<WriterOnlyResult>(
        `writer-only ${kind}`,
        'bench/writer-only.ts',
        {},
        [
          '--database-url', opts.databaseUrl,
          '--tenant-id', this.tenants.main.tenantId,
          '--kind', kind,
          '--runs', '1',
          // The exceljs-era XLSX writer on the same rows, next to the current one.
          '--formats', [...formats, ...(formats.includes(ExportFormat.XLSX) ? [EXCELJS_BASELINE] : [])].join(','),
          '--created-before', this.createdBefore,
        ],
        30 * 60_000,
      );
      if (r.rows !== this.expectedRows('main', kind)) throw new Error(`writer only ${kind}: ${r.rows} rows, expected ${this.expectedRows('main', kind)}`);
      for (const format of formats) {
        const f = r.formats[format]!;
        this.record(
          { name: `writer only ${kind} ${format} (rows in memory → null sink)`, group: 'writer', kind, format, invoices: this.tenants.main.invoices },
          { rows: r.rows, seconds: f.seconds[0], peakRss: r.peakRss, fileSize: f.bytes },
        );
        log(`  writer only ${kind} ${format}: ${fmt.secs(f.seconds[0])} s`);
      }
      const base = r.formats[EXCELJS_BASELINE];
      if (base) {
        this.record(
          { name: `writer only ${kind} XLSX, exceljs-era writer (baseline, bench/baseline/)`, group: 'baseline', kind, format: ExportFormat.XLSX, invoices: this.tenants.main.invoices },
          { rows: r.rows, seconds: base.seconds[0], peakRss: r.peakRss, fileSize: base.bytes },
        );
        log(`  writer only ${kind} XLSX (exceljs-era baseline): ${fmt.secs(base.seconds[0])} s`);
      }
    }
  }

  async naivePhase(): Promise<void> {
    const { opts } = this;
    for (const kind of BASELINE_KINDS) {
      const r = await runJsonChild<NaiveResult>(
        `naive ${kind}`,
        'bench/naive.ts',
        {},
        [
          '--database-url', opts.databaseUrl,
          '--tenant-id', this.tenants.main.tenantId,
          '--kind', kind,
          '--max-invoices', String(opts.naiveMax),
          '--runs', String(opts.runs),
        ],
        60 * 60_000,
      );
      const capped = r.invoices < this.tenants.main.invoices;
      this.addCase({
        name: `naive ${kind} XLSX (ORM + in-memory Workbook${capped ? `, first ${r.invoices.toLocaleString('en-US')} invoices` : ''})`,
        group: 'naive',
        kind,
        format: ExportFormat.XLSX,
        invoices: r.invoices,
        rows: r.rows,
        seconds: r.seconds,
        peakRss: r.peakRss,
        fileSize: r.bytes,
      });
      log(`naive ${kind}: ${fmt.secs(median(r.seconds))} s for ${r.rows} rows, peak ${fmt.mib(r.peakRss)}`);
    }
  }

  async smallPhase(): Promise<void> {
    const { opts } = this;
    const worker = await this.startWorker('small');
    const timings: ExportTiming[] = [];
    let peak = 0;
    try {
      await this.exportOnce('small', ExportKind.INVOICES, ExportFormat.XLSX); // warm-up (JIT, connections), not counted
      for (let i = 0; i < opts.smallRuns; i++) timings.push(await this.exportOnce('small', ExportKind.INVOICES, ExportFormat.XLSX));
    } finally {
      peak = await this.stopWorker(worker);
    }
    const total = timings.map((t) => t.doneAt - t.requestedAt);
    const running = timings.map((t) => (t.runningAt ?? t.doneAt) - t.requestedAt);
    const startToRunning = timings.map((t) => t.startToRunningMs).filter((x): x is number => x !== null);
    this.small = {
      kind: ExportKind.INVOICES,
      format: ExportFormat.XLSX,
      invoices: this.tenants.small.invoices,
      rows: timings[0].final.rowCount,
      runs: timings.length,
      completedMs: total,
      p50Ms: percentile(total, 50),
      p95Ms: percentile(total, 95),
      firstRunningP50Ms: percentile(running, 50),
      firstRunningP95Ms: percentile(running, 95),
      startToRunningP50Ms: startToRunning.length ? percentile(startToRunning, 50) : null,
      startToRunningP95Ms: startToRunning.length ? percentile(startToRunning, 95) : null,
      acceptedP50Ms: percentile(timings.map((t) => t.acceptedAt - t.requestedAt), 50),
      workerPeakRss: peak,
    };
    log(`small export: p50 ${fmt.ms(percentile(total, 50))}, p95 ${fmt.ms(percentile(total, 95))}`);
  }

  /** Four concurrent INVOICE_LINES XLSX exports of ~100,000 lines, on one worker process then on two. */
  async scalingPhase(): Promise<void> {
    const { opts } = this;
    const kind = ExportKind.INVOICE_LINES;
    const format = ExportFormat.XLSX;
    const measure = async (workers: number): Promise<{ seconds: number[]; peaks: number[] }> => {
      const seconds: number[] = [];
      let peaks: number[] = [];
      for (let run = 0; run < opts.scalingRuns; run++) {
        const handles = await Promise.all(Array.from({ length: workers }, (_, i) => this.startWorker(`scaling-${workers}w-${i + 1}`)));
        try {
          const timings = await Promise.all(Array.from({ length: 4 }, () => this.exportOnce('scaling', kind, format)));
          seconds.push((Math.max(...timings.map((t) => t.doneAt)) - Math.min(...timings.map((t) => t.requestedAt))) / 1000);
        } finally {
          peaks = await Promise.all(handles.map((h) => this.stopWorker(h)));
        }
        log(`scaling, ${workers} worker process(es): 4 exports in ${fmt.secs(seconds[seconds.length - 1])} s`);
      }
      return { seconds, peaks };
    };
    const one = await measure(1);
    const two = await measure(2);
    const s1 = median(one.seconds);
    const s2 = median(two.seconds);
    this.scaling = {
      kind,
      format,
      exports: 4,
      rowsPerExport: this.expectedRows('scaling', kind),
      workerConcurrency: opts.workerConcurrency,
      oneWorker: { seconds: one.seconds, medianSeconds: s1, peakRss: one.peaks },
      twoWorkers: { seconds: two.seconds, medianSeconds: s2, peakRss: two.peaks },
      speedup: s1 / s2,
    };
  }

  /**
   * Worker peak RSS of the same kind and format on a small and a big tenant: INVOICE_LINES XLSX and CSV at
   * ~100,000 and more than 1,048,575 lines (the big XLSX must continue on a second sheet), and the
   * accounting entries in every format at 28,000 and 300,000 invoices (XIMPORT: 100,000 capped at
   * 99,999 entries, its 5-digit limit). `--only` narrows the cases.
   */
  async flatnessPhase(): Promise<void> {
    const cases: { kind: ExportKind; format: ExportFormat }[] = [
      ...FORMATS.map((format) => ({ kind: ExportKind.INVOICE_LINES, format })),
      ...KIND_FORMATS[ExportKind.ACCOUNTING_ENTRIES].map((format) => ({ kind: ExportKind.ACCOUNTING_ENTRIES, format })),
    ].filter((c) => this.wanted(c.kind, c.format));
    const result: Record<string, unknown> = {};
    for (const { kind, format } of cases) {
      const perSize: Record<string, unknown> = {};
      const big = format === ExportFormat.XIMPORT ? 'main' : 'flatBig';
      for (const role of ['scaling', big]) {
        const worker = await this.startWorker(`flatness-${kind}-${format}-${role}`);
        let t: ExportTiming;
        let peak = 0;
        // RSS over the export's duration: flat memory levels off, a leak keeps climbing.
        const trace: { at: number; rss: number }[] = [];
        let sampler: NodeJS.Timeout | undefined;
        try {
          await this.exportOnce('small', kind, format); // warm, as in the main cases
          sampler = setInterval(() => {
            try {
              trace.push({ at: performance.now(), rss: worker.child.memory().current });
            } catch {
              // the process is gone: the export fails below
            }
          }, 100);
          t = await this.exportOnce(role, kind, format);
        } finally {
          clearInterval(sampler);
          peak = await this.stopWorker(worker);
        }
        const quarter = (q: number) => {
          const span = t.doneAt - t.requestedAt;
          const inQ = trace.filter((x) => x.at >= t.requestedAt + (q * span) / 4 && x.at < t.requestedAt + ((q + 1) * span) / 4);
          return inQ.length ? Math.max(...inQ.map((x) => x.rss)) : null;
        };
        const entry: Record<string, unknown> = {
          invoices: this.tenants[role].invoices,
          rows: t.final.rowCount,
          seconds: (t.doneAt - t.requestedAt) / 1000,
          peakRss: peak,
          idleRss: worker.idleRss,
          fileSize: t.final.fileSize,
          rssByQuarter: [0, 1, 2, 3].map(quarter),
        };
        log(`flatness ${kind} ${format} ${t.final.rowCount} rows: ${fmt.secs(entry.seconds as number)} s, peak ${fmt.mib(peak)}`);
        if (kind === ExportKind.INVOICE_LINES && format === ExportFormat.XLSX && role === big) {
          entry.sheetNames = await this.sheetNamesOf(t);
          const expected = ['Lignes de facturation', 'Lignes de facturation (2)', 'Résumé'];
          entry.secondSheetOk = t.final.rowCount! > EXCEL_MAX_DATA_ROWS && JSON.stringify(entry.sheetNames) === JSON.stringify(expected);
          if (t.final.rowCount! > EXCEL_MAX_DATA_ROWS && !entry.secondSheetOk) {
            throw new Error(`the ${t.final.rowCount}-line workbook has sheets ${JSON.stringify(entry.sheetNames)}, expected ${JSON.stringify(expected)}`);
          }
        }
        perSize[role === 'scaling' ? 'small' : 'big'] = entry;
      }
      const small = perSize.small as { peakRss: number };
      const bigEntry = perSize.big as { peakRss: number };
      result[`${kind} ${format}`] = { kind, format, ...perSize, ratio: bigEntry.peakRss / small.peakRss };
    }
    this.flatness = result;
  }

  /** Downloads the file (streamed to a temp file) and reads its sheet names from xl/workbook.xml. */
  private async sheetNamesOf(t: ExportTiming): Promise<string[]> {
    let url = t.final.downloadUrl;
    if (!url) {
      const data = await this.clientFor('flatBig').gql<{ invoiceExport: { downloadUrl: string } }>('query($id: ID!) { invoiceExport(id: $id) { downloadUrl } }', { id: t.id });
      url = data.invoiceExport.downloadUrl;
    }
    const file = path.join(this.s3Dir, `download-${t.id}.xlsx`);
    const res = await fetch(url);
    if (!res.ok || !res.body) throw new Error(`download of ${t.id}: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
    try {
      return await xlsxSheetNames(file);
    } finally {
      await fs.rm(file, { force: true });
    }
  }

  // ------------------------------------------------------------------ results

  addCase(c: Partial<CaseResult> & Pick<CaseResult, 'name' | 'group' | 'kind' | 'format' | 'invoices' | 'rows' | 'seconds'>): void {
    const wallSeconds = median(c.seconds);
    this.cases.push({
      peakRss: null,
      idleRss: null,
      fileSize: null,
      firstRunningMs: null,
      startToRunningMs: null,
      firstRowsMs: null,
      ...c,
      wallSeconds,
      rowsPerSecond: c.rows / wallSeconds,
      ratioToCopy: null,
      ratioToWriter: null,
      ratiosPerRow: false,
    });
  }

  /** Ratios to the COPY of the same kind and to the writer of the same kind and format (per row when the row counts differ). */
  computeRatios(): void {
    for (const c of this.cases) {
      const copy = this.cases.find((x) => x.group === 'copy' && x.kind === c.kind);
      const writer = this.cases.find((x) => x.group === 'writer' && x.kind === c.kind && x.format === (c.format ?? ExportFormat.CSV));
      const ratio = (base: CaseResult | undefined) => {
        if (!base) return null;
        // The accounting file has more lines than its SELECT has rows (entries built from them): same invoices, same work.
        if (base.rows === c.rows || (c.kind === ExportKind.ACCOUNTING_ENTRIES && base.invoices === c.invoices)) return c.wallSeconds / base.wallSeconds;
        c.ratiosPerRow = true;
        return (c.wallSeconds / c.rows) / (base.wallSeconds / base.rows);
      };
      c.ratioToCopy = ratio(copy);
      c.ratioToWriter = c.group === 'copy' ? null : ratio(writer);
    }
  }

  targets(): TargetCheck[] {
    const checks: TargetCheck[] = [];
    const e2e = (kind: ExportKind, format: ExportFormat) => this.cases.find((c) => c.group === 'e2e' && c.kind === kind && c.format === format);
    const inv = e2e(ExportKind.INVOICES, ExportFormat.XLSX);
    const at = this.opts.invoices === 100_000 ? '' : ` (targets are set for 100,000 invoices; this run: ${this.opts.invoices.toLocaleString('en-US')})`;
    if (inv?.ratioToWriter != null) {
      checks.push({ target: `INVOICES XLSX end to end ≤ 1.5× writer only${at}`, measured: fmt.ratio(inv.ratioToWriter), met: inv.ratioToWriter <= 1.5 });
    }
    if (inv?.peakRss != null) {
      const peaks = (inv.peakRssRuns ?? []).filter((x): x is number => x !== null);
      checks.push({
        target: 'INVOICES XLSX worker peak RSS ≤ 200 MB',
        measured: `${fmt.mib(inv.peakRss)} (median of ${peaks.length} workers${peaks.length > 1 ? `, max ${fmt.mib(Math.max(...peaks))}` : ''}; idle ${fmt.mib(inv.idleRss)})`,
        met: inv.peakRss <= 200 * MiB,
      });
    }
    // Issue 16: the worker's CPU per row.
    if (inv?.ratioToCopy != null) {
      checks.push({ target: `INVOICES XLSX end to end ≤ 3.5× COPY${at}`, measured: fmt.ratio(inv.ratioToCopy), met: inv.ratioToCopy <= 3.5 });
    }
    for (const base of this.cases.filter((c) => c.group === 'baseline')) {
      if (base.ratioToWriter == null) continue;
      checks.push({ target: `${base.kind} XLSX writer only ≥ 2× the rows/s of the exceljs-era writer`, measured: `${fmt.ratio(base.ratioToWriter)}`, met: base.ratioToWriter >= 2 });
    }
    const fecCase = e2e(ExportKind.ACCOUNTING_ENTRIES, ExportFormat.FEC);
    if (fecCase?.ratioToCopy != null) {
      checks.push({ target: `ACCOUNTING_ENTRIES FEC end to end ≤ 4× COPY${at}`, measured: fmt.ratio(fecCase.ratioToCopy), met: fecCase.ratioToCopy <= 4 });
    }
    for (const kind of KINDS) {
      const csv = e2e(kind, ExportFormat.CSV);
      if (csv?.ratioToCopy != null) checks.push({ target: `${kind} CSV end to end ≤ 4× COPY`, measured: fmt.ratio(csv.ratioToCopy), met: csv.ratioToCopy <= 4 });
    }
    for (const format of IMPORT_LAYOUT_FORMATS) {
      const layout = e2e(ExportKind.ACCOUNTING_ENTRIES, format);
      if (layout?.ratioToCopy != null) {
        checks.push({ target: `ACCOUNTING_ENTRIES ${format} end to end ≤ 4× COPY`, measured: `${fmt.ratio(layout.ratioToCopy)}, peak ${fmt.mib(layout.peakRss)}`, met: layout.ratioToCopy <= 4 });
      }
      const check = this.cases.find((c) => c.group === 'check' && c.format === format);
      const copy = this.cases.find((c) => c.group === 'copy' && c.kind === ExportKind.ACCOUNTING_ENTRIES);
      if (check && layout) {
        // "Within the time of the export's own read": the check reads what the export reads, without the upload.
        checks.push({ target: `pre-flight check ${format} ≤ its export's end to end`, measured: `${fmt.secs(check.wallSeconds)} s (export ${fmt.secs(layout.wallSeconds)} s${copy ? `, COPY ${fmt.secs(copy.wallSeconds)} s` : ''})`, met: check.wallSeconds <= layout.wallSeconds });
      }
    }
    const fec = e2e(ExportKind.ACCOUNTING_ENTRIES, ExportFormat.FEC);
    if (fec?.peakRss != null) {
      // Memory as flat as the other kinds: compared with the list's lines as CSV, the same rows streamed.
      const lines = e2e(ExportKind.INVOICE_LINES, ExportFormat.CSV);
      checks.push({
        target: 'ACCOUNTING_ENTRIES FEC worker peak RSS ≤ 200 MB' + (lines?.peakRss ? ' and ≤ 1.3× INVOICE_LINES CSV' : ''),
        measured: `${fmt.mib(fec.peakRss)}${lines?.peakRss ? ` (${fmt.ratio(fec.peakRss / lines.peakRss)} INVOICE_LINES CSV)` : ''}`,
        met: fec.peakRss <= 200 * MiB && (!lines?.peakRss || fec.peakRss <= 1.3 * lines.peakRss),
      });
    }
    if (this.small) {
      const s = this.small as { p50Ms: number; p95Ms: number; startToRunningP50Ms: number | null; firstRunningP50Ms: number };
      checks.push({ target: `small export (${this.tenants.small.invoices} invoices) p50 mutation → COMPLETED < 300 ms`, measured: `${fmt.ms(s.p50Ms)} (p95 ${fmt.ms(s.p95Ms)})`, met: s.p50Ms < 300 });
      checks.push({
        target: 'first progress event (RUNNING) < 200 ms after the job starts',
        measured: `${fmt.ms(s.startToRunningP50Ms)} after startedAt, ${fmt.ms(s.firstRunningP50Ms)} after the mutation (p50)`,
        met: s.startToRunningP50Ms === null ? null : s.startToRunningP50Ms < 200,
      });
    }
    if (this.scaling) {
      const sp = this.scaling.speedup as number;
      checks.push({ target: '2 worker processes clearly faster than 1 (4 concurrent exports; "clearly": ≥ 1.3×)', measured: `${sp.toFixed(2)}× faster`, met: sp >= 1.3 });
    }
    if (this.flatness) {
      for (const f of Object.values(this.flatness) as FlatnessCase[]) {
        checks.push({
          target: `flat memory, ${f.kind} ${f.format}: peak RSS at ${f.big.rows.toLocaleString('en-US')} rows (${f.big.invoices.toLocaleString('en-US')} invoices) ≤ 1.3× at ${f.small.rows.toLocaleString('en-US')}`,
          measured: `${fmt.ratio(f.ratio)} (${fmt.mib(f.small.peakRss)} → ${fmt.mib(f.big.peakRss)})`,
          met: f.ratio <= 1.3,
        });
        if (f.kind === ExportKind.INVOICE_LINES && f.format === ExportFormat.XLSX) {
          checks.push({ target: 'past 1,048,575 lines the data continues on a second sheet', measured: f.big.secondSheetOk ? 'yes' : 'no', met: Boolean(f.big.secondSheetOk) });
        }
      }
    }
    return checks;
  }

  report(): string {
    const { opts } = this;
    const out: string[] = [];
    const main = this.tenants.main;
    out.push(
      `Invoice export benchmark — ${new Date().toISOString()} — ${os.cpus().length} CPU (${os.cpus()[0]?.model.trim()}), Node ${process.version}, commit ${gitCommit() ?? '?'}`,
      `Tenant ${main.name}: ${main.invoices.toLocaleString('en-US')} invoices, ${main.lines.toLocaleString('en-US')} lines ` +
        `(${(main.lines / Math.max(1, main.invoices)).toFixed(2)} per invoice). Wall seconds: median of ${opts.runs} interleaved round(s). ` +
        `Worker: a fresh process per case and round (${opts.compiledWorker ? 'compiled by tsc, as `npm run build`' : 'src/worker/main.ts through the swc hook, as `npm run start:worker`'}), warmed by one small export, WORKER_CONCURRENCY=${opts.workerConcurrency}.`,
      `Machine load (1-min load average during the run, ${os.cpus().length} CPUs): mean ${(this.load.reduce((a, b) => a + b, 0) / this.load.length).toFixed(1)}, max ${Math.max(...this.load).toFixed(1)} (the bench alone keeps about 2 busy; more means other work shared the machine).`,
      '',
    );
    const rows = this.cases.map((c) => [
      c.name,
      fmt.int(c.rows),
      fmt.secs(c.wallSeconds),
      fmt.int(c.rowsPerSecond),
      fmt.ratio(c.ratioToCopy) + (c.ratiosPerRow && c.ratioToCopy !== null ? ' †' : ''),
      fmt.ratio(c.ratioToWriter) + (c.ratiosPerRow && c.ratioToWriter !== null ? ' †' : ''),
      c.peakRss === null ? '—' : c.idleRss === null ? fmt.mib(c.peakRss) : `${fmt.mib(c.peakRss)} (idle ${Math.round(c.idleRss / MiB)})`,
      fmt.size(c.fileSize),
      c.group === 'e2e' ? `${fmt.ms(c.firstRunningMs)} / ${fmt.ms(c.startToRunningMs)}` : '—',
    ]);
    out.push(
      markdownTable(
        ['Case', 'Rows', 'Wall s', 'Rows/s', '× COPY', '× writer only', 'Peak RSS', 'File size', 'First RUNNING: after mutation / after job start'],
        rows,
        ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
    const notes: string[] = [];
    if (this.cases.some((c) => c.ratiosPerRow)) notes.push('† per row: the naive case ran on fewer rows than its baselines (it does not scale).');
    notes.push(
      'Peak RSS: VmHWM of the process doing the work, median over the rounds (a fresh process each; every peak is in the JSON) — the worker (end to end; idle = its RSS once ready, before any job), the child holding the rows (writer only, naive); COPY runs in PostgreSQL.',
    );
    out.push('', ...notes);

    const extra: string[] = [];
    if (this.small) {
      const s = this.small as Record<string, number>;
      extra.push(
        `Small export (${this.tenants.small.invoices} invoices, INVOICES XLSX, ${s.runs} runs on a warm worker): mutation → COMPLETED p50 ${fmt.ms(s.p50Ms)}, p95 ${fmt.ms(s.p95Ms)}; ` +
          `mutation → RUNNING p50 ${fmt.ms(s.firstRunningP50Ms)}, p95 ${fmt.ms(s.firstRunningP95Ms)}; job start → RUNNING received p50 ${fmt.ms(s.startToRunningP50Ms)}, p95 ${fmt.ms(s.startToRunningP95Ms)}.`,
      );
    }
    if (this.scaling) {
      const sc = this.scaling as { rowsPerExport: number; oneWorker: { medianSeconds: number }; twoWorkers: { medianSeconds: number }; speedup: number; workerConcurrency: number };
      extra.push(
        `Scaling (4 concurrent INVOICE_LINES XLSX exports of ${fmt.int(sc.rowsPerExport)} lines, WORKER_CONCURRENCY=${sc.workerConcurrency}): ` +
          `1 worker process ${fmt.secs(sc.oneWorker.medianSeconds)} s, 2 worker processes ${fmt.secs(sc.twoWorkers.medianSeconds)} s → ${sc.speedup.toFixed(2)}× faster.`,
      );
    }
    if (this.flatness) {
      for (const f of Object.values(this.flatness) as FlatnessCase[]) {
        extra.push(
          `Flatness ${f.kind} ${f.format}: ${fmt.int(f.small.rows)} rows → worker peak ${fmt.mib(f.small.peakRss)} in ${fmt.secs(f.small.seconds)} s; ` +
            `${fmt.int(f.big.rows)} rows → ${fmt.mib(f.big.peakRss)} in ${fmt.secs(f.big.seconds)} s (${fmt.size(f.big.fileSize)}); ratio ${fmt.ratio(f.ratio)}` +
            `; RSS by quarter of the big export: ${f.big.rssByQuarter.map((b) => (b === null ? '—' : Math.round(b / MiB))).join(' / ')} MB` +
            (f.big.sheetNames ? `; sheets: ${f.big.sheetNames.join(', ')}` : '') + '.',
        );
      }
    }
    if (this.tracing) extra.push(tracingReport(this.tracing));
    if (extra.length) out.push('', ...extra);

    const checks = this.targets();
    if (checks.length) {
      out.push('', 'Targets (reported, not asserted):');
      for (const c of checks) out.push(`  [${c.met === null ? '?' : c.met ? 'met' : 'MISSED'}] ${c.target}: ${c.measured}`);
    }
    return out.join('\n');
  }

  json(): Record<string, unknown> {
    return {
      timestamp: new Date().toISOString(),
      commit: gitCommit(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.trim(), memoryBytes: os.totalmem(), node: process.version, platform: `${os.platform()} ${os.release()}` },
      options: { ...this.opts, skip: [...this.opts.skip], databaseUrl: redactUrl(this.opts.databaseUrl) },
      loadAverage: { samples: this.load, mean: this.load.reduce((a, b) => a + b, 0) / this.load.length, max: Math.max(...this.load) },
      tenants: this.tenants,
      cases: this.cases,
      small: this.small,
      scaling: this.scaling,
      flatness: this.flatness,
      tracing: this.tracing,
      targets: this.targets(),
    };
  }

  // ------------------------------------------------------------------ teardown

  async teardown(): Promise<void> {
    clearInterval(this.loadTimer);
    await Promise.all([...this.clients.values()].map((c) => c.close().catch(() => undefined)));
    await Promise.all([...this.children].filter((c) => c !== this.s3Child).map((c) => c.stop(5000)));
    await this.api?.shutdown().catch((err) => log(`API shutdown: ${err}`));
    await this.s3Child?.stop(5000);
    if (this.s3Dir) await fs.rm(this.s3Dir, { recursive: true, force: true });
    if (this.opts.compiledWorker) await fs.rm(this.buildDir, { recursive: true, force: true });
    // This run's queue keys (a unique prefix) and exports.
    await removeQueueKeys(this.redisUrl, [this.prefix], log);
    const ds = createDataSource(this.opts.databaseUrl, { poolSize: 1, applicationName: 'invoice-export-bench' });
    try {
      await ds.initialize();
      await ds.query('DELETE FROM invoice_exports');
    } catch (err) {
      log(`could not delete the bench's exports: ${(err as Error).message}`);
    } finally {
      if (ds.isInitialized) await ds.destroy();
    }
  }
}

function medianOf(values: (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null);
  return v.length ? median(v) : null;
}

async function main(): Promise<number> {
  let opts: BenchOptions | 'help';
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 64;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (opts.fairness) return runFairness(opts);
  if (opts.list) return runListBench(opts);
  const bench = new Bench(opts);
  stopChildrenOnSignal(bench.children, log);

  const started = Date.now();
  let failure: unknown = null;
  try {
    await bench.setup();
    await bench.mainRounds();
    if (!opts.skip.has('naive')) await bench.naivePhase();
    if (!opts.skip.has('small')) await bench.smallPhase();
    if (!opts.skip.has('scaling')) await bench.scalingPhase();
    if (opts.flatness) await bench.flatnessPhase();
    if (!opts.skip.has('tracing')) bench.tracing = await tracingPhase({ startWorker: (l, e) => bench.startWorker(l, e), stopWorker: (w) => bench.stopWorker(w as WorkerHandle), exportOnce: (r, k, f) => bench.exportOnce(r, k, f), log }, opts.runs);
  } catch (err) {
    failure = err;
  } finally {
    await bench.teardown().catch((err) => log(`teardown: ${err}`));
  }
  if (failure) {
    process.stderr.write(`\nBenchmark failed: ${failure instanceof Error ? failure.stack : String(failure)}\n`);
    return 1;
  }
  bench.computeRatios();
  process.stdout.write(`\n${bench.report()}\n`);
  const file = opts.out ?? path.join(ROOT, 'bench', 'results', `${bench.runStamp}.json`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify({ ...bench.json(), durationSeconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${path.relative(process.cwd(), file) || file}\n`);
  if (opts.cpuProf) process.stdout.write(`CPU profiles: ${path.relative(process.cwd(), bench.profileDir)}\n`);
  log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`Benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
