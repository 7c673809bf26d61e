import path from 'node:path';
import { parseArgs } from 'node:util';
import { intOption, toolDatabaseUrl, UsageError } from '../../tools/lib/options';

export { UsageError };

export const USAGE = `Usage: npm run chaos [-- options]

The project's own bounded chaos run: its own database, queue prefix, s3rver,
redis-server (AOF, another port), one API and N worker processes; exports
requested over GraphQL while workers are SIGKILLed and SIGSTOPped past their
lease, Redis is killed (restarted from its AOF, and once empty), the S3
server is stopped, the API is killed and PostgreSQL connections are
terminated; then an audit of every export, file and object. Prints the
figures, writes them as JSON under chaos/results/, exits 1 on any anomaly.

  --duration S     seconds of workload (default 180; --short 50)
  --exports N      exports requested over the duration (default 200; --short 30)
  --workers N      worker processes (default 3; --short 2)
  --tenants N      tenants seeded (default 10; --short 4)
  --seed N         seed of the schedule, the workload and the faults (default 1)
  --short          the smoke version (≤ 3 minutes in all): fewer exports, one of each fault
  --sweep MODE     wait: wait for the workers' own storage sweep before the audit (default);
                   run: run the sweep from the audit at once (default with --short)
  --db-name NAME   database on DATABASE_URL's server (default invoice_export_chaos)
  --out FILE       JSON output (default chaos/results/<timestamp>/result.json; logs next to it)
  --verbose        echo the children's logs
  -h, --help       this help

Needs PostgreSQL (DATABASE_URL's server; only connections to the chaos
database are ever terminated) and redis-server on the PATH (a private one is
started; the shared Redis is never touched).`;

export interface ChaosOptions {
  duration: number;
  exports: number;
  workers: number;
  tenants: number;
  seed: number;
  short: boolean;
  sweep: 'wait' | 'run';
  databaseUrl: string;
  out: string | null;
  verbose: boolean;
}

const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number) => intOption(name, raw, fallback, min, max);

export function parseChaosOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): ChaosOptions | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string' },
        exports: { type: 'string' },
        workers: { type: 'string' },
        tenants: { type: 'string' },
        seed: { type: 'string' },
        short: { type: 'boolean', default: false },
        sweep: { type: 'string' },
        'db-name': { type: 'string' },
        out: { type: 'string' },
        verbose: { type: 'boolean', default: false },
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
  const short = Boolean(values.short);
  const sweep = s('sweep') ?? (short ? 'run' : 'wait');
  if (sweep !== 'wait' && sweep !== 'run') throw new UsageError(`--sweep must be wait or run (got "${sweep}")`);
  const out = s('out');
  return {
    duration: int('duration', s('duration'), short ? 50 : 180, 10, 3600),
    exports: int('exports', s('exports'), short ? 30 : 200, 1, 10_000),
    workers: int('workers', s('workers'), short ? 2 : 3, 2, 16),
    tenants: int('tenants', s('tenants'), short ? 4 : 10, 2, 50),
    seed: int('seed', s('seed'), 1, 0, 2 ** 31),
    short,
    sweep,
    // BENCH_DATABASE_URL is the bench's: the chaos run names its own database.
    databaseUrl: toolDatabaseUrl(env, s('db-name') ?? 'invoice_export_chaos', env.CHAOS_DATABASE_URL),
    out: out ? path.resolve(out) : null,
    verbose: Boolean(values.verbose),
  };
}

/** mulberry32: a small seeded generator, enough for schedules. */
export function rng(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
