import path from 'node:path';
import { parseArgs } from 'node:util';
import { intOption as int, toolDatabaseUrl, UsageError } from '../../tools/lib/options';

export { UsageError };

export const USAGE = `Usage: npm run bench [-- options]

Measures the export end to end (GraphQL mutation over HTTP → BullMQ → a worker
in its own process → S3 multipart upload → COMPLETED seen on the graphql-ws
subscription) for INVOICES and INVOICE_LINES in XLSX and CSV, side by side with
its baselines on the same rows (COPY, writer only, naive ORM + in-memory
workbook), in a database of its own. Prints one table and writes the figures
as JSON under bench/results/.

  --invoices N            invoices of the main tenant (default 100000)
  --lines-per-invoice M   accepted for the issue's CLI; the seed decides (1–6, ~3.6 on average): actual counts are reported
  --runs K                interleaved rounds of the main cases (each case once per round); the table shows medians (default 3)
  --small-runs S          runs of the small export, for p50/p95 (default 20)
  --small-invoices N      invoices of the small export (default 100)
  --naive-max N           cap of the naive baseline, in invoices (default 20000)
  --scaling-invoices N    tenant of the scaling case: 4 concurrent INVOICE_LINES XLSX exports (default 28000, ~100,000 lines; at most --invoices)
  --scaling-runs R        runs of the scaling case per worker count (default 1)
  --flatness              also run the memory-flatness cases: INVOICE_LINES ~100,000 vs >1,048,575 lines, and the accounting
                          entries in every format at 28,000 vs 300,000 invoices (seeds a 300,000-invoice tenant once, ~1 min); --only narrows them
  --flatness-invoices N   invoices of the big flatness tenant (default 300000, ~1.08M lines)
  --full                  everything (= --flatness)
  --skip LIST             comma-separated phases to skip: e2e,copy,writer,naive,small,scaling,tracing
                          (tracing: INVOICE_LINES CSV on a worker without and with OTEL_EXPORTER_OTLP_ENDPOINT, --runs times each; bench/tracing.ts)
  --only LIST             limit the main cases to these kind:format pairs, e.g. INVOICES:XLSX,ACCOUNTING_ENTRIES:FEC (profiling)
  --compiled-worker       run the workers from a tsc build (npm run build's output, built into bench/results/build)
                          instead of src/worker/main.ts through the swc hook of npm run start:worker (~50 MB less RSS)
  --worker-concurrency C  WORKER_CONCURRENCY of the workers (default 2, the service's default)
  --db-name NAME          database on DATABASE_URL's server (default invoice_export_bench); BENCH_DATABASE_URL overrides both
  --cpu-prof              run the workers with --cpu-prof (profiles under bench/results/profiles/<timestamp>/)
  --verbose               echo the workers' and helpers' logs (pino JSON, with epoch-ms times) to stderr
  --out FILE              JSON output (default bench/results/<timestamp>.json)

Fairness (issue 10; bench/fairness.ts):
  --fairness              instead of the cases above: tenant A (--invoices, default 100000) asks for
                          --fairness-a-exports INVOICE_LINES XLSX exports at once, then tenant B
                          (--small-invoices, default 100) asks for an INVOICES XLSX export --fairness-b-runs
                          times in a row, solo first then under A's flood; API and workers in processes of
                          their own; runs the layouts 1 API + 1 worker and 2 API + 2 workers, in a database
                          of its own by default (invoice_export_bench_fair)
  --fairness-api N        API processes (with --fairness-workers: only that layout)
  --fairness-workers N    worker processes
  --fairness-layouts LIST layouts as API x WORKERS, e.g. 1x1,2x2 (the default)
  --fairness-a-exports N  A's exports sent at once (default 20, = EXPORT_TENANT_MAX_ACTIVE)
  --fairness-b-runs N     B's exports in a row, solo and under the flood (default 10)

List at platform scale (issue 16; bench/list.ts):
  --list                  instead of the cases above: time the page's Invoices query through the API for
                          school 1 of a --list-tenants database and of a --list-small-tenants one (every
                          school --invoices invoices, seeded once and reused), and the ratio of the two
  --list-tenants N        schools of the big database (default 12)
  --list-small-tenants N  schools of the small database (default 3)
  --list-runs N           timed requests per case (default 30)
  --list-db-prefix NAME   the databases are NAME<tenants> (default invoice_export_bench_list)
  -h, --help              this help

Needs PostgreSQL and Redis (DATABASE_URL's server, REDIS_URL); starts its own
s3rver, API (in this process) and worker processes with a unique QUEUE_PREFIX.`;

export type Phase = 'e2e' | 'copy' | 'writer' | 'naive' | 'small' | 'scaling' | 'tracing';
const PHASES: Phase[] = ['e2e', 'copy', 'writer', 'naive', 'small', 'scaling', 'tracing'];

export interface BenchOptions {
  invoices: number;
  linesPerInvoice: number | null;
  runs: number;
  smallRuns: number;
  smallInvoices: number;
  naiveMax: number;
  scalingInvoices: number;
  scalingRuns: number;
  flatness: boolean;
  flatnessInvoices: number;
  skip: Set<Phase>;
  /** `KIND:FORMAT` pairs of the main cases to run; empty = all. */
  only: Set<string>;
  workerConcurrency: number;
  compiledWorker: boolean;
  databaseUrl: string;
  cpuProf: boolean;
  verbose: boolean;
  out: string | null;
  /** --fairness: the layouts to run, API processes × worker processes. */
  fairness: { api: number; workers: number }[] | null;
  fairnessAExports: number;
  fairnessBRuns: number;
  /** --list: the list bench (bench/list.ts) instead of the export cases. */
  list: boolean;
  listTenants: number;
  listSmallTenants: number;
  listRuns: number;
  listDbPrefix: string;
}

/** The bench's own database: BENCH_DATABASE_URL, else DATABASE_URL's server with another database name. */
export function benchDatabaseUrl(env: NodeJS.ProcessEnv, dbName: string | undefined): string {
  return toolDatabaseUrl(env, dbName ?? 'invoice_export_bench', env.BENCH_DATABASE_URL);
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        invoices: { type: 'string' },
        'lines-per-invoice': { type: 'string' },
        runs: { type: 'string' },
        'small-runs': { type: 'string' },
        'small-invoices': { type: 'string' },
        'naive-max': { type: 'string' },
        'scaling-invoices': { type: 'string' },
        'scaling-runs': { type: 'string' },
        flatness: { type: 'boolean', default: false },
        'flatness-invoices': { type: 'string' },
        full: { type: 'boolean', default: false },
        skip: { type: 'string' },
        only: { type: 'string' },
        'worker-concurrency': { type: 'string' },
        'compiled-worker': { type: 'boolean', default: false },
        'db-name': { type: 'string' },
        'cpu-prof': { type: 'boolean', default: false },
        verbose: { type: 'boolean', default: false },
        out: { type: 'string' },
        fairness: { type: 'boolean', default: false },
        'fairness-api': { type: 'string' },
        'fairness-workers': { type: 'string' },
        'fairness-layouts': { type: 'string' },
        'fairness-a-exports': { type: 'string' },
        'fairness-b-runs': { type: 'string' },
        list: { type: 'boolean', default: false },
        'list-tenants': { type: 'string' },
        'list-small-tenants': { type: 'string' },
        'list-runs': { type: 'string' },
        'list-db-prefix': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const s = (k: string) => values[k] as string | undefined;
  const invoices = int('invoices', s('invoices'), 100_000, 1);
  const skip = new Set<Phase>();
  for (const p of (s('skip') ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!PHASES.includes(p as Phase)) throw new UsageError(`--skip: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
    skip.add(p as Phase);
  }
  const only = new Set<string>();
  for (const pair of (s('only') ?? '').split(',').map((x) => x.trim().toUpperCase()).filter(Boolean)) {
    if (!/^(INVOICES|INVOICE_LINES):(XLSX|CSV)$|^ACCOUNTING_ENTRIES:(FEC|QUADRA|XIMPORT|EBP|CEGID|SAGE100)$/.test(pair)) {
      throw new UsageError(`--only: "${pair}" is not KIND:FORMAT (INVOICES or INVOICE_LINES with XLSX or CSV, or ACCOUNTING_ENTRIES with FEC, QUADRA, XIMPORT, EBP, CEGID or SAGE100)`);
    }
    only.add(pair);
  }
  const out = s('out');
  const fairness = parseFairness(values, s);
  return {
    invoices,
    linesPerInvoice: s('lines-per-invoice') === undefined ? null : int('lines-per-invoice', s('lines-per-invoice'), 0, 1, 6),
    runs: int('runs', s('runs'), 3, 1, 100),
    smallRuns: int('small-runs', s('small-runs'), 20, 1, 1000),
    smallInvoices: int('small-invoices', s('small-invoices'), 100, 1),
    naiveMax: int('naive-max', s('naive-max'), 20_000, 1),
    scalingInvoices: Math.min(invoices, int('scaling-invoices', s('scaling-invoices'), 28_000, 1)),
    scalingRuns: int('scaling-runs', s('scaling-runs'), 1, 1, 20),
    flatness: Boolean(values.flatness || values.full),
    flatnessInvoices: int('flatness-invoices', s('flatness-invoices'), 300_000, 1),
    skip,
    only,
    workerConcurrency: int('worker-concurrency', s('worker-concurrency'), 2, 1, 64),
    compiledWorker: Boolean(values['compiled-worker']),
    // The fairness run counts a tenant's exports: a database of its own, so that another bench's exports never count.
    databaseUrl: benchDatabaseUrl(env, s('db-name') ?? (fairness ? 'invoice_export_bench_fair' : undefined)),
    cpuProf: Boolean(values['cpu-prof']),
    verbose: Boolean(values.verbose),
    out: out ? path.resolve(out) : null,
    fairness,
    fairnessAExports: int('fairness-a-exports', s('fairness-a-exports'), 20, 1, 1000),
    fairnessBRuns: int('fairness-b-runs', s('fairness-b-runs'), 10, 1, 1000),
    ...parseList(values, s),
  };
}

function parseFairness(values: Record<string, string | boolean | undefined>, s: (k: string) => string | undefined): BenchOptions['fairness'] {
  const api = s('fairness-api');
  const workers = s('fairness-workers');
  const layouts = s('fairness-layouts');
  if (!values.fairness) {
    if (api !== undefined || workers !== undefined || layouts !== undefined) throw new UsageError('--fairness-api, --fairness-workers and --fairness-layouts go with --fairness');
    return null;
  }
  if (layouts !== undefined && (api !== undefined || workers !== undefined)) throw new UsageError('give either --fairness-layouts or --fairness-api/--fairness-workers');
  if (api !== undefined || workers !== undefined) {
    return [{ api: int('fairness-api', api, 1, 1, 8), workers: int('fairness-workers', workers, 1, 1, 8) }];
  }
  return (layouts ?? '1x1,2x2').split(',').map((l) => l.trim()).filter(Boolean).map((l) => {
    const m = /^(\d+)x(\d+)$/i.exec(l);
    if (!m) throw new UsageError(`--fairness-layouts: "${l}" is not APIxWORKERS (e.g. 2x2)`);
    return { api: int('fairness-layouts', m[1], 1, 1, 8), workers: int('fairness-layouts', m[2], 1, 1, 8) };
  });
}

function parseList(values: Record<string, string | boolean | undefined>, s: (k: string) => string | undefined) {
  const prefix = s('list-db-prefix') ?? 'invoice_export_bench_list';
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) throw new UsageError(`--list-db-prefix must be letters, digits and _ (got "${prefix}")`);
  const list = {
    list: Boolean(values.list),
    listTenants: int('list-tenants', s('list-tenants'), 12, 1, 1000),
    listSmallTenants: int('list-small-tenants', s('list-small-tenants'), 3, 1, 1000),
    listRuns: int('list-runs', s('list-runs'), 30, 1, 10_000),
    listDbPrefix: prefix,
  };
  if (list.list && list.listSmallTenants >= list.listTenants) throw new UsageError('--list-small-tenants must be fewer than --list-tenants');
  return list;
}
