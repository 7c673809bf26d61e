import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../../src/config';
import { createDataSource } from '../../src/db/data-source';
import { ensureDatabase, runMigrations } from '../../src/db/migrate';
import { Product } from '../../src/entities/enums';
import { DEFAULT_SEED, seedTenant } from './seed';

/**
 * npm run seed -- --tenant <name> --invoices <n> [--seed <int>] [--product P] [--replace]
 *
 * The last line on stdout is the tenant id alone, so that scripts can capture
 * it (`TENANT=$(npm run -s seed -- ...)`); everything else goes to stderr.
 */

const USAGE = `Usage: npm run seed -- --tenant <name> --invoices <n> [--seed <int>] [--product <product>] [--replace]

Creates a tenant (a French music school) with <n> invoices and credit notes,
their billing lines and about n/3 payers, and prints its id. The same
arguments always give the same data (ids aside).

  --tenant <name>      tenant name; if it exists, its id is printed and nothing is written
  --invoices <n>       number of invoices and credit notes (0 to 5,000,000)
  --seed <int>         random seed, 0 to 4294967295 (default ${DEFAULT_SEED})
  --product <product>  ${Object.values(Product).join(', ')} (default SCHOOL_PREMIUM)
  --replace            delete the existing tenant of that name and all its data first
  -h, --help           this help

Database: DATABASE_URL (created and migrated if needed).`;

const EX_USAGE = 64;

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(EX_USAGE);
}

function parseInteger(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^-?\d+$/.test(raw.trim())) usageError(`--${name} must be an integer (got "${raw}")`);
  const n = Number(raw.trim());
  if (n < min || n > max) usageError(`--${name} must be between ${min} and ${max} (got ${raw})`);
  return n;
}

function parse() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        invoices: { type: 'string' },
        seed: { type: 'string' },
        product: { type: 'string' },
        replace: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const tenant = values.tenant?.trim();
  if (!tenant) usageError('--tenant is required');
  const invoices = parseInteger('invoices', values.invoices, 0, 5_000_000);
  if (invoices === undefined) usageError('--invoices is required');
  const seed = parseInteger('seed', values.seed, 0, 4_294_967_295) ?? DEFAULT_SEED;
  const product = (values.product ?? Product.SCHOOL_PREMIUM).toUpperCase() as Product;
  if (!Object.values(Product).includes(product)) usageError(`--product must be one of ${Object.values(Product).join(', ')} (got "${values.product}")`);
  return { tenant, invoices, seed, product, replace: values.replace };
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  const args = parse();
  const config = loadConfigOrExit(process.env, { allowDevJwtSecret: true }); // a local tool: signs for, or never checks, tokens

  if (await ensureDatabase(config.databaseUrl)) log(`Created database ${decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1))}`);
  const ds = createDataSource(config.databaseUrl, { poolSize: 1, applicationName: 'invoice-export-seed' });
  await ds.initialize();
  try {
    const ran = await runMigrations(ds);
    if (ran.length) log(`Applied migrations: ${ran.join(', ')}`);
  } finally {
    await ds.destroy();
  }

  const started = Date.now();
  const tty = process.stderr.isTTY;
  let lastReported = -1;
  const result = await seedTenant(config.databaseUrl, {
    tenantName: args.tenant,
    invoices: args.invoices,
    seed: args.seed,
    product: args.product,
    ifExists: args.replace ? 'replace' : 'reuse',
    onProgress: (done, total) => {
      if (total === 0) return;
      const pct = Math.floor((done * 100) / total);
      if (tty) {
        process.stderr.write(`\rSeeding "${args.tenant}": ${done}/${total} invoices (${pct} %)${done === total ? '\n' : ''}`);
      } else if (pct >= lastReported + 10 || done === total) {
        lastReported = pct;
        log(`Seeding "${args.tenant}": ${done}/${total} invoices (${pct} %)`);
      }
    },
  });

  if (!result.created) {
    log(`Tenant "${args.tenant}" already exists (${result.invoices} invoices, ${result.lines} lines, ${result.payers} payers); nothing written. Use --replace to recreate it.`);
  } else {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    log(
      `Seeded tenant "${args.tenant}" (${args.product}, seed ${args.seed}): ${result.invoices} invoices of which ${result.creditNotes} credit notes, ` +
        `${result.lines} lines, ${result.payers} payers in ${seconds} s`,
    );
  }
  process.stdout.write(`${result.tenantId}\n`);
}

main().catch((err) => {
  log(`Seed failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
