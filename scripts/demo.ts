/**
 * npm run demo [-- --once] [-- --out <dir>] [-- --invoices <n>] [-- --reseed]
 *
 * The whole flow on one machine, with nothing but PostgreSQL and Redis:
 * creates the database if needed, migrates, seeds a demo music school (once),
 * starts the API, the worker and an embedded S3 server in this process, then
 * behaves as the product's front end does: subscribes over graphql-ws,
 * requests the three exports (the list, its billing lines, its accounting
 * entries as FEC), shows their progress, downloads the files and checks
 * their totals against the database to the cent. Without --once it then
 * prints the address of the page "Factures et avoirs" (GET /) with the
 * ACCOUNTANT token, and keeps running.
 */
import '../src/telemetry/preload'; // first: traces need it loaded before what they instrument
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StartupError, redactUrl } from '../src/app';
import type { Client } from 'graphql-ws';
import { exportWsClient, followExport, gql, requestExport } from '../dev/client/export-client';
import { signToken } from '../src/auth/jwt';
import { webDistDir } from '../src/api/web';
import { Running, boot } from '../src/boot';
import { demoScheduledSend } from './demo-schedule';
import { loadConfigOrExit, type Config } from '../src/config';
import { ensureDatabase } from '../src/db/migrate';
import { ExportFormat, Role } from '../src/entities/enums';
import { formatCents, toCents } from '../src/money';
import { seedTenant } from '../dev/seed/seed';
import { INVOICE_MONEY_COLUMNS, LINE_MONEY_COLUMNS, csvTotals, fecTotals, xlsxTotals, type EntryTotals, type FileTotals } from './lib/file-totals';
import { balanceOf, readLayoutFile } from './lib/layout-totals';
import { ProgressBoard } from './lib/progress';

// Read when the configuration is loaded and the S3 client created (in main()):
// quiet logs, since the demo prints what matters.
process.env.LOG_LEVEL ||= 'warn';

export const DEMO_TENANT = 'Conservatoire de démonstration';
const DEFAULT_INVOICES = 3000;
const EXPORT_TIMEOUT_MS = 120_000;

const USAGE = `Usage: npm run demo [-- --once] [-- --out <dir>] [-- --invoices <n>] [-- --reseed]

Starts the whole service in this process (API + worker + embedded S3), seeds
the demo school "${DEMO_TENANT}" once, requests the three exports through
GraphQL as the front end does (the list, its billing lines, its accounting
entries as FEC), follows their progress, downloads the files and checks their
totals against the database.

  --once            exit after the summary (exit code 0 only when the three
                    exports completed and their totals match the database)
  --out <dir>       where the files go (default ./exports)
  --invoices <n>    size of the demo school when it is first seeded (default ${DEFAULT_INVOICES})
  --reseed          delete the demo school and seed it again
  -h, --help        this help

Configuration: the variables of the README (DATABASE_URL, REDIS_URL, PORT, ...).
LOG_LEVEL defaults to "warn" here.`;

// ---------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------

const out = process.stdout;
const tty = out.isTTY === true;
const color = (code: string) => (s: string) => (tty && !process.env.NO_COLOR ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = color('1');
const dim = color('2');
const green = color('32');
const red = color('31');
const say = (line = '') => out.write(`${line}\n`);

const fmtInt = (n: number) => n.toLocaleString('en-GB');
const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
/** Relative to the current directory when inside it, else absolute. */
function showPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}
/** Cents → "1,234,567.89" (grouped for reading; the files themselves never group). */
function fmtMoney(cents: bigint): string {
  const [units, dec] = formatCents(cents).split('.');
  return `${units.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${dec}`;
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * The configured port, or any free one when the default is taken and the
 * user did not ask for it explicitly (an explicit PORT that is taken stops
 * the start with a message naming PORT).
 */
async function choosePort(name: string, port: number, host: string): Promise<{ port: number; note?: string }> {
  if (port === 0 || process.env[name]) return { port };
  if (await portIsFree(port, host)) return { port };
  return { port: 0, note: `port ${port} is in use (set ${name} to choose one)` };
}

// ---------------------------------------------------------------------------
// GraphQL, as a front end talks to it
// ---------------------------------------------------------------------------

// ---------------------------------------------------------------------------
// The two exports of the product's menu "Action pour X sélectionnés"
// ---------------------------------------------------------------------------

interface DemoExport {
  label: string;
  what: string;
  input: Record<string, unknown>;
  moneyColumns: readonly string[];
  read(file: Buffer): Promise<FileTotals>;
  /** The same selection, summed by SQL. */
  expected(running: Running, tenantId: string): Promise<FileTotals>;
  /** Instead of comparing money columns: the kind's own checks (accounting: balances). */
  checks?(got: FileTotals, want: FileTotals): { name: string; cents: bigint; ok: boolean; note: string }[];
}

interface Outcome {
  spec: DemoExport;
  ok: boolean;
  lines: string[];
  /** What the downloaded file holds (when it was read). */
  totals?: FileTotals;
}

async function invoiceSums(running: Running, tenantId: string, where: string, params: unknown[]): Promise<FileTotals> {
  const [r] = await running.services.dataSource.query(
    `SELECT count(*)::int AS n, count(DISTINCT i.number)::int AS docs,
            coalesce(sum(i.amount_due), 0)::text AS due, coalesce(sum(i.amount_paid), 0)::text AS paid,
            coalesce(sum(i.remaining_due), 0)::text AS remaining
       FROM invoices i WHERE i.tenant_id = $1 ${where}`,
    [tenantId, ...params],
  );
  const c = toCents;
  return { rows: r.n, documents: r.docs, sums: { 'Montant dû': c(r.due), 'Montant payé': c(r.paid), 'Restant dû': c(r.remaining) } };
}

async function lineSums(running: Running, tenantId: string, where: string, params: unknown[]): Promise<FileTotals> {
  const [r] = await running.services.dataSource.query(
    `SELECT count(*)::int AS n, count(DISTINCT i.number)::int AS docs,
            coalesce(sum(l.amount), 0)::text AS amount, coalesce(sum(l.discount_amount), 0)::text AS discount
       FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id AND l.tenant_id = i.tenant_id
      WHERE i.tenant_id = $1 ${where}`,
    [tenantId, ...params],
  );
  const c = toCents;
  return { rows: r.n, documents: r.docs, sums: { Montant: c(r.amount), Remise: c(r.discount) } };
}

/** Signed sum of amount_due of the selection: what the receivable lines of the entries must add up to. */
async function receivableSums(running: Running, tenantId: string, where: string, params: unknown[]): Promise<FileTotals> {
  const [r] = await running.services.dataSource.query(
    `SELECT count(*)::int AS docs, coalesce(sum(i.amount_due), 0)::text AS due FROM invoices i WHERE i.tenant_id = $1 ${where}`,
    [tenantId, ...params],
  );
  // The number of entry lines is the file's own (one per non-zero line, per VAT rate): not checked against SQL.
  return { rows: -1, documents: r.docs, sums: { receivable: toCents(r.due) } };
}

/** The most recent school year ("2025/2026") of the tenant's invoices. */
async function latestSchoolYear(running: Running, tenantId: string): Promise<string | undefined> {
  const rows = await running.services.dataSource.query(
    `SELECT billing_year FROM invoices WHERE tenant_id = $1 AND billing_year ~ '^[0-9]{4}/[0-9]{4}$'
      ORDER BY billing_year DESC LIMIT 1`,
    [tenantId],
  );
  return rows[0]?.billing_year;
}

function demoExports(schoolYear: string | undefined): DemoExport[] {
  const statuses = ['TO_COLLECT', 'PARTIALLY_PAID'];
  const lineFilter: Record<string, unknown> = { statuses, ...(schoolYear ? { billingYear: schoolYear } : {}) };
  return [
    {
      label: 'Exporter',
      what: 'INVOICES as XLSX · every invoice and credit note ("Tous les résultats")',
      input: { kind: 'INVOICES', format: 'XLSX', locale: 'fr-FR', selection: { filter: {} } },
      moneyColumns: INVOICE_MONEY_COLUMNS,
      read: (file) => xlsxTotals(file, INVOICE_MONEY_COLUMNS),
      expected: (running, tenantId) => invoiceSums(running, tenantId, '', []),
    },
    {
      label: 'Exporter les lignes de facturation',
      what:
        `INVOICE_LINES as CSV · ${schoolYear ? `school year ${schoolYear}, ` : ''}` +
        'status "À encaisser" or "Partiellement encaissée"',
      input: { kind: 'INVOICE_LINES', format: 'CSV', locale: 'fr-FR', selection: { filter: lineFilter } },
      moneyColumns: LINE_MONEY_COLUMNS,
      read: async (file) => csvTotals(file, 'fr-FR', LINE_MONEY_COLUMNS),
      expected: (running, tenantId) =>
        schoolYear
          ? lineSums(running, tenantId, 'AND i.status = ANY($2::text[]) AND i.billing_year = $3', [statuses, schoolYear])
          : lineSums(running, tenantId, 'AND i.status = ANY($2::text[])', [statuses]),
    },
    {
      label: 'Exporter les écritures comptables',
      what: `ACCOUNTING_ENTRIES, FEC by default · ${schoolYear ? `school year ${schoolYear}` : 'every document'}, invoices and credit notes`,
      input: { kind: 'ACCOUNTING_ENTRIES', locale: 'fr-FR', selection: { filter: schoolYear ? { billingYear: schoolYear } : {} } },
      moneyColumns: [],
      read: async (file) => fecTotals(file),
      expected: (running, tenantId) =>
        schoolYear ? receivableSums(running, tenantId, 'AND i.billing_year = $2', [schoolYear]) : receivableSums(running, tenantId, '', []),
      checks: (got, want) => {
        const e = got as EntryTotals;
        return [
          { name: 'debit = credit', cents: e.debit, ok: e.debit === e.credit && e.unbalancedEntries === 0 && e.malformedLines === 0,
            note: e.debit === e.credit && e.unbalancedEntries === 0 ? `the file and each of its ${fmtInt(e.documents)} entries balance` : `credit ${fmtMoney(e.credit)}, ${e.unbalancedEntries} unbalanced entries, ${e.malformedLines} malformed lines` },
          { name: 'receivable (411)', cents: e.receivable, ok: e.receivable === want.sums.receivable,
            note: e.receivable === want.sums.receivable ? 'matches the database to the cent (sum of amount_due)' : `database ${fmtMoney(want.sums.receivable)}` },
        ];
      },
    },
  ];
}

async function runExports(opts: {
  running: Running;
  apiUrl: string;
  token: string;
  tenantId: string;
  currency: string;
  outDir: string;
  specs: DemoExport[];
}): Promise<Outcome[]> {
  const { running, apiUrl, token, tenantId, currency, outDir, specs } = opts;
  const client = exportWsClient(apiUrl, token);
  activeClient = client;
  try {
    const width = Math.max(...specs.map((s) => s.label.length));
    specs.forEach((s, i) => say(`  ${i + 1}. ${bold(s.label.padEnd(width))}  ${dim(s.what)}`));
    say();
    const board = new ProgressBoard(out, specs.map((s) => s.label));
    const results = await Promise.all(
      specs.map(async (spec, i) => {
        const started = Date.now();
        try {
          const requested = await requestExport(apiUrl, token, spec.input);
          const final = await followExport(client, requested.id, (s) => board.update(i, s), EXPORT_TIMEOUT_MS);
          return { spec, final, ms: Date.now() - started };
        } catch (err) {
          return { spec, error: err as Error, ms: Date.now() - started };
        }
      }),
    );
    say();

    await fs.mkdir(outDir, { recursive: true });
    const outcomes: Outcome[] = [];
    for (const r of results) {
      const lines: string[] = [];
      const fail = (msg: string) => {
        lines.push(`${red('✗')} ${msg}`);
        return { spec: r.spec, ok: false, lines };
      };
      if ('error' in r) {
        outcomes.push(fail(`${r.spec.label}: ${r.error!.message}`));
        continue;
      }
      const f = r.final!;
      if (f.status !== 'COMPLETED' || !f.downloadUrl || !f.fileName) {
        outcomes.push(fail(`${r.spec.label}: ended ${f.status}${f.error ? ` — ${f.error.code}: ${f.error.message}` : ''}`));
        continue;
      }
      const res = await fetch(f.downloadUrl);
      if (!res.ok) {
        outcomes.push(fail(`${r.spec.label}: download refused (HTTP ${res.status})`));
        continue;
      }
      const file = Buffer.from(await res.arrayBuffer());
      const target = path.join(outDir, f.fileName);
      await fs.writeFile(target, file);
      const shown = showPath(target);

      let ok = file.length === f.fileSize;
      const got = await r.spec.read(file);
      const want = await r.spec.expected(running, tenantId);
      const mark = (same: boolean) => (same ? green('✓') : red('✗'));
      const rowsOk = (want.rows < 0 || got.rows === want.rows) && got.rows === f.rowCount;
      ok &&= rowsOk && got.documents === want.documents;
      lines.push(`${bold(shown)}  ${dim(`${r.spec.label} · ${fmtBytes(file.length)} · URL ${fmtSeconds(r.ms)} after the request`)}`);
      if (file.length !== f.fileSize) lines.push(`${red('✗')} downloaded ${file.length} bytes, the export says ${f.fileSize}`);
      const noun = { INVOICES: 'rows', INVOICE_LINES: 'billing lines', ACCOUNTING_ENTRIES: 'entry lines' }[r.spec.input.kind as string] ?? 'rows';
      lines.push(
        `${noun.padEnd(18)}${fmtInt(got.rows).padStart(18)}   ${mark(rowsOk)} ${dim(want.rows < 0 ? `the export says ${fmtInt(f.rowCount ?? 0)}` : `database ${fmtInt(want.rows)}`)}` +
          (r.spec.input.kind === 'INVOICES' ? '' : `   ${dim(`(of ${fmtInt(got.documents)} invoices and credit notes)`)}`),
      );
      for (const c of r.spec.checks?.(got, want) ?? []) {
        ok &&= c.ok;
        lines.push(`${c.name.padEnd(18)}${`${fmtMoney(c.cents)} ${currency}`.padStart(18)}   ${mark(c.ok)} ${dim(c.note)}`);
      }

      const names: Record<string, string> = {
        'Montant dû': 'due',
        'Montant payé': 'paid',
        'Restant dû': 'remaining',
        Montant: 'due (Montant)',
        Remise: 'discounts (Remise)',
      };
      for (const col of r.spec.moneyColumns) {
        const same = got.sums[col] === want.sums[col];
        ok &&= same;
        lines.push(
          `${names[col].padEnd(18)}${`${fmtMoney(got.sums[col])} ${currency}`.padStart(18)}   ${mark(same)} ` +
            dim(same ? 'matches the database to the cent' : `database ${fmtMoney(want.sums[col])} ${currency}`),
        );
      }
      outcomes.push({ spec: r.spec, ok, lines, totals: got });
    }
    return outcomes;
  } finally {
    activeClient = undefined;
    await client.dispose();
  }
}

/** The importer layout the demo writes beside the FEC: Sage 50 / Ciel, the associations' usual software. */
const IMPORTER_FORMAT = ExportFormat.XIMPORT;

interface CheckItem { rule: string; field: string | null; width: number | null; count: number; documents: string[]; message: string }
interface AccountingCheck { entryCount: number; lineCount: number; totalDebit: string; totalCredit: string; problems: CheckItem[]; warnings: CheckItem[] }

/**
 * "Exporter les écritures comptables" for the accountant's software
 * (docs/accounting.md): the pre-flight check of the accounting selection, then the file in
 * that program's import layout, read back and checked against the FEC of the
 * same selection (entries, lines, debit and credit to the cent).
 */
async function importerFile(opts: {
  apiUrl: string; token: string; selection: Record<string, unknown>; fec: EntryTotals | undefined; currency: string; outDir: string;
}): Promise<{ ok: boolean; lines: string[] }> {
  const { apiUrl, token, selection, fec, currency, outDir } = opts;
  const lines: string[] = [];
  const mark = (same: boolean) => (same ? green('✓') : red('✗'));
  const money = (cents: bigint) => `${fmtMoney(cents)} ${currency}`.padStart(18);
  const { accountingExportCheck: check } = await gql<{ accountingExportCheck: AccountingCheck }>(apiUrl, token,
    `query($selection: InvoiceSelection!, $format: ExportFormat!) { accountingExportCheck(selection: $selection, format: $format) {
       entryCount lineCount totalDebit totalCredit problems { rule field width count documents message } warnings { rule field width count documents message } } }`,
    { selection, format: IMPORTER_FORMAT });
  lines.push(`${bold(`Pre-flight check, ${IMPORTER_FORMAT}`)}  ${dim('accountingExportCheck: nothing written')}`);
  lines.push(`${'entries / lines'.padEnd(18)}${`${fmtInt(check.entryCount)} / ${fmtInt(check.lineCount)}`.padStart(18)}`);
  lines.push(`${'debit / credit'.padEnd(18)}${money(toCents(check.totalDebit))}   ${mark(check.totalDebit === check.totalCredit)} ${dim(`credit ${fmtMoney(toCents(check.totalCredit))}`)}`);
  lines.push(`${'problems'.padEnd(18)}${String(check.problems.length).padStart(18)}   ${mark(check.problems.length === 0)} ${dim(check.problems.length ? check.problems.map((p) => p.message).join('; ') : 'nothing refuses the export')}`);
  for (const w of check.warnings) {
    const docs = `${w.documents.slice(0, 3).join(', ')}${w.count > 3 ? ', …' : ''}`;
    lines.push(`${'warning'.padEnd(18)}${String(w.count).padStart(18)}   ${dim(`${w.rule}: ${w.field} cut to ${w.width} characters (${docs})`)}`);
  }
  let ok = check.problems.length === 0;
  if (!ok) return { ok, lines };

  const client = exportWsClient(apiUrl, token);
  try {
    const requested = await requestExport(apiUrl, token, { kind: 'ACCOUNTING_ENTRIES', format: IMPORTER_FORMAT, locale: 'fr-FR', selection });
    const final = await followExport(client, requested.id, () => undefined, EXPORT_TIMEOUT_MS);
    if (final.status !== 'COMPLETED' || !final.downloadUrl || !final.fileName) {
      lines.push(`${red('✗')} ${IMPORTER_FORMAT}: ended ${final.status}${final.error ? ` — ${final.error.code}: ${final.error.message}` : ''}`);
      return { ok: false, lines };
    }
    const file = Buffer.from(await (await fetch(final.downloadUrl)).arrayBuffer());
    const target = path.join(outDir, final.fileName);
    await fs.writeFile(target, file);
    const read = balanceOf(readLayoutFile(IMPORTER_FORMAT, file).lines); // throws on a record of the wrong length or an unbalanced entry
    lines.push(`${bold(showPath(target))}  ${dim(`Sage 50 / Ciel Compta import file · ${fmtBytes(file.length)} · every record 142 bytes, every entry balanced`)}`);
    const same = (a: bigint | number, b: bigint | number | undefined) => b !== undefined && BigInt(a) === BigInt(b);
    const rows: [string, bigint | number, bigint | number | undefined, string][] = [
      ['entries', read.entries, fec?.documents, fmtInt(read.entries)],
      ['lines', read.lines, fec?.rows, fmtInt(read.lines)],
      ['debit', read.debit, fec?.debit, `${fmtMoney(read.debit)} ${currency}`],
      ['credit', read.credit, fec?.credit, `${fmtMoney(read.credit)} ${currency}`],
    ];
    for (const [name, got, want, shown] of rows) {
      const match = same(got, want) && (name !== 'entries' || read.entries === check.entryCount) && (name !== 'lines' || read.lines === check.lineCount);
      ok &&= match;
      lines.push(`${name.padEnd(18)}${shown.padStart(18)}   ${mark(match)} ${dim(match ? 'the same as the FEC and the pre-flight check' : `FEC ${want === undefined ? 'not read' : String(want)}`)}`);
    }
  } catch (err) {
    lines.push(`${red('✗')} ${IMPORTER_FORMAT}: ${(err as Error).message}`);
    ok = false;
  } finally {
    await client.dispose();
  }
  return { ok, lines };
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

let running: Running | undefined;
let activeClient: Client | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  stopping = true;
  await activeClient?.dispose();
  await running?.shutdown().catch(() => undefined);
  process.exit(code);
}

function parse() {
  try {
    const { values } = parseArgs({
      options: {
        once: { type: 'boolean', default: false },
        out: { type: 'string', default: 'exports' },
        invoices: { type: 'string' },
        reseed: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      say(USAGE);
      process.exit(0);
    }
    const invoices = values.invoices === undefined ? DEFAULT_INVOICES : Number(values.invoices);
    if (!Number.isSafeInteger(invoices) || invoices < 1 || invoices > 5_000_000) {
      throw new Error(`--invoices must be a whole number between 1 and 5,000,000 (got "${values.invoices}")`);
    }
    return { once: values.once!, outDir: path.resolve(values.out!), invoices, reseed: values.reseed! };
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(64);
  }
}

async function main(): Promise<void> {
  const args = parse();
  const base = loadConfigOrExit(process.env, { allowDevJwtSecret: true }); // a local single-process mode
  const api = await choosePort('PORT', base.port, '0.0.0.0');
  const s3: { port: number; note?: string } = base.s3Endpoint ? { port: base.s3LocalPort } : await choosePort('S3_LOCAL_PORT', base.s3LocalPort, '127.0.0.1');
  const config: Readonly<Config> = Object.freeze({ ...base, port: api.port, s3LocalPort: s3.port });

  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    say('\nStopping (Ctrl-C again to force)…');
    void stop(0);
  });
  process.on('SIGTERM', () => void stop(0));

  say(bold('Invoice export service · demo'));
  say();
  let created = false;
  try {
    created = await ensureDatabase(config.databaseUrl);
  } catch {
    // boot() below reports an unreachable database in one line.
  }
  running = await boot('all', { config, createDatabase: true, embeddedS3Port: s3.port });
  if (stopping) return;
  const port = running.port!;
  const apiUrl = `http://127.0.0.1:${port}/graphql`;
  const shownUrl = `http://localhost:${port}/graphql`;

  say(`  PostgreSQL  ${redactUrl(config.databaseUrl)}  ${dim(created ? '(database created, schema migrated)' : '(schema up to date)')}`);
  say(`  Redis       ${redactUrl(config.redisUrl)}  ${dim(`(queue prefix "${config.queuePrefix}")`)}`);
  if (running.embeddedS3) {
    const dir = showPath(running.embeddedS3.directory);
    say(`  Storage     embedded S3 at ${running.embeddedS3.endpoint}, files under ${dir}  ${dim(`(bucket "${config.s3Bucket}"${s3.note ? `; ${s3.note}` : ''})`)}`);
  } else {
    say(`  Storage     S3 at ${config.s3Endpoint}  ${dim(`(bucket "${config.s3Bucket}")`)}`);
  }
  say(`  API         ${bold(shownUrl)}  ${dim(`(worker in this process, concurrency ${config.workerConcurrency}${api.note ? `; ${api.note}` : ''})`)}`);

  const seedStarted = Date.now();
  const seeded = await seedTenant(config.databaseUrl, {
    tenantName: DEMO_TENANT,
    invoices: args.invoices,
    ifExists: args.reseed ? 'replace' : 'reuse',
  });
  if (stopping) return;
  const [tenant] = await running.services.dataSource.query('SELECT currency FROM tenants WHERE id = $1', [seeded.tenantId]);
  say(
    `  Demo school "${DEMO_TENANT}": ${fmtInt(seeded.invoices)} invoices and credit notes, ` +
      `${fmtInt(seeded.lines)} billing lines, ${fmtInt(seeded.payers)} payers  ` +
      dim(seeded.created ? `(seeded in ${fmtSeconds(Date.now() - seedStarted)})` : '(already there: reused; --reseed seeds it again)'),
  );
  say(`  ${dim(`tenant id ${seeded.tenantId}`)}`);

  const accountant = signToken(config.jwtSecret, { tenantId: seeded.tenantId, userId: 'demo-accountant', roles: [Role.ACCOUNTANT] });
  const admin = signToken(config.jwtSecret, { tenantId: seeded.tenantId, userId: 'demo-admin', roles: [Role.ADMIN] });
  say();
  say(bold('Development tokens') + dim(' (valid 12 hours; `npm run token -- --tenant <id> --role ADMIN` makes more)'));
  say(`  ACCOUNTANT  ${accountant}`);
  say(`  ADMIN       ${admin}`);
  say();

  say(bold('Exports') + dim(' — what "Action pour X sélectionnés" does in the list "Factures et avoirs"'));
  const specs = demoExports(await latestSchoolYear(running, seeded.tenantId));
  const outcomes = await runExports({
    running,
    apiUrl,
    token: accountant,
    tenantId: seeded.tenantId,
    currency: tenant?.currency ?? 'EUR',
    outDir: args.outDir,
    specs,
  });
  if (stopping) return;
  say(bold('Files') + dim(` (in ${showPath(args.outDir)}/)`));
  for (const o of outcomes) {
    for (const [k, line] of o.lines.entries()) say(`${k === 0 ? '  ' : '      '}${line}`);
    say();
  }
  const accounting = outcomes.find((o) => o.spec.input.kind === 'ACCOUNTING_ENTRIES');
  const importer = await importerFile({
    apiUrl, token: accountant, selection: accounting!.spec.input.selection as Record<string, unknown>,
    fec: accounting?.totals as EntryTotals | undefined, currency: tenant?.currency ?? 'EUR', outDir: args.outDir,
  });
  if (stopping) return;
  for (const [k, line] of importer.lines.entries()) say(`${k === 0 ? '  ' : '      '}${line}`);
  say();
  const exportsOk = outcomes.length === 3 && outcomes.every((o) => o.ok) && importer.ok;
  say(exportsOk ? green('The three exports and the Sage 50 / Ciel import file completed; every total matches the database to the cent.') : red('Something did not match: see ✗ above.'));

  say();
  say(bold('Scheduled send') + dim(' — "Envois programmés": the monthly mail to the accountant (docs/profiles.md)'));
  const scheduled = await demoScheduledSend(running, apiUrl, admin).catch((err: Error) => ({ ok: false, lines: [['✗', err.message] as [string, string]] }));
  for (const [label, value, note] of scheduled.lines) say(`  ${label.padEnd(10)}${value}${note ? `  ${dim(note)}` : ''}`);
  const allOk = exportsOk && scheduled.ok;

  if (args.once) {
    await stop(allOk ? 0 : 1);
    return;
  }

  const root = `http://localhost:${port}`;
  say();
  say(bold('The page "Factures et avoirs"') + dim(' (tick rows, "Action pour X sélectionnés", follow the exports)'));
  say(`  ${bold(`${root}/#token=${accountant}`)}`);
  if (!webDistDir()) say(`  ${red('✗')} ${dim('the page is not built: run `npm run build:web` (npm ci does it)')}`);
  say();
  say(bold('Try next') + dim(' (the service keeps running; Ctrl-C stops it)'));
  say(`  ${dim('# in another terminal:')}`);
  say(`  export TOKEN=${accountant}`);
  say(`  curl -s ${shownUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`);
  say(`    -d '{"query":"{ invoices(first: 3) { totalCount edges { node { number billingDate amountDue status payer { lastName firstName } } } } }"}'`);
  say(`  curl -s ${shownUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`);
  say(`    -d '{"query":"mutation { requestInvoiceExport(input: { kind: INVOICES, format: CSV, selection: { filter: { types: [CREDIT_NOTE] } } }) { id status } }"}'`);
  say(`  curl -s ${shownUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`);
  say(`    -d '{"query":"{ invoiceExports(first: 5) { edges { node { id kind status rowCount fileName downloadUrl } } } }"}'`);
  say();
  say(`  Queue dashboard   ${bold(`${root}/admin/queues`)}  ${dim('(user name: anything; password: the ADMIN token above)')}`);
  say(`  GraphQL sandbox   ${bold(shownUrl)} in a browser  ${dim('(header  Authorization: Bearer <the ACCOUNTANT token>)')}`);
  say(`  Health            ${root}/healthz   ${root}/readyz`);
  say(`  ${dim('README.md explains the operations, the file formats and how to run the parts separately.')}`);
  // The API and the worker keep the process alive until SIGINT/SIGTERM.
}

main().catch(async (err) => {
  if (err instanceof StartupError) {
    process.stderr.write(`Cannot start: ${err.message}\n`);
  } else {
    process.stderr.write(`Demo failed: ${err instanceof Error ? (process.env.DEBUG ? err.stack : err.message) : String(err)}\n`);
  }
  await running?.shutdown().catch(() => undefined);
  process.exit(1);
});
