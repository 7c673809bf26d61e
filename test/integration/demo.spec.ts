/**
 * `npm run demo -- --once` as a newcomer runs it: a database that does not
 * exist yet, nothing in storage, default everything else (but free ports, a
 * queue prefix and directories of its own). It must create and seed what it
 * needs, export both kinds, download the files and exit 0; a second run
 * reuses the demo school.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { admin } from '../global-setup';
import { FR_HEADERS, readCsv, readXlsx } from '../helpers/files';
import { runTs } from '../helpers/processes';
import { TEST_DATABASE_URL } from '../test-env';

const DEMO_TENANT = 'Conservatoire de démonstration';

let tmp: string;
let databaseUrl: string;
let dbName: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-demo-'));
  const url = new URL(TEST_DATABASE_URL);
  dbName = `ie_demo_test_${process.pid}_${randomUUID().slice(0, 6)}`;
  url.pathname = `/${dbName}`;
  databaseUrl = url.toString();
});

afterAll(async () => {
  if (databaseUrl) await admin(databaseUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

function runDemo(outDir: string) {
  return runTs(
    'scripts/demo.ts',
    {
      DATABASE_URL: databaseUrl,
      PORT: '0',
      S3_ENDPOINT: '',
      S3_LOCAL_PORT: '0',
      S3_LOCAL_DIR: path.join(tmp, 's3'),
      MAIL_LOCAL_DIR: path.join(tmp, 'mail'),
      SMTP_URL: '',
      QUEUE_PREFIX: `demo-test-${randomUUID().slice(0, 8)}`,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
    },
    ['--once', '--out', outDir],
  );
}

async function finish(child: ReturnType<typeof runDemo>, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    child.exited,
    new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (code === 'timeout') {
    await child.kill('SIGKILL');
    throw new Error(`the demo did not finish within ${timeoutMs / 1000} s:\n${child.output()}`);
  }
  return code;
}

it('runs from an empty database to three downloaded, correct files, then reuses the demo school', async () => {
  const outDir = path.join(tmp, 'exports');
  const started = Date.now();
  const first = runDemo(outDir);
  const code = await finish(first, 120_000);
  const output = first.output();
  expect(`exit ${code}\n${output}`).toBe(`exit 0\n${output}`);
  expect(Date.now() - started).toBeLessThan(120_000);

  // What it says.
  expect(output).toMatch(/database created, schema migrated/);
  expect(output).toMatch(/http:\/\/localhost:\d+\/graphql/);
  expect(output).toMatch(/ACCOUNTANT\s+eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  expect(output).toMatch(/ADMIN\s+eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  expect(output).toContain(`Demo school "${DEMO_TENANT}": 3,000 invoices and credit notes`);
  expect(output).toMatch(/seeded in/);
  for (const label of ['due', 'paid', 'remaining', 'due \\(Montant\\)', 'discounts \\(Remise\\)']) {
    expect(output).toMatch(new RegExp(`${label}\\s+-?[\\d,]+\\.\\d{2} EUR\\s+✓ matches the database to the cent`));
  }
  expect(output).toMatch(/debit = credit\s+[\d,]+\.\d{2} EUR\s+✓ the file and each of its [\d,]+ entries balance/);
  expect(output).toMatch(/receivable \(411\)\s+-?[\d,]+\.\d{2} EUR\s+✓ matches the database to the cent/);
  expect(output).toContain('The three exports and the Sage 50 / Ciel import file completed; every total matches the database to the cent.');
  // docs/accounting.md: the pre-flight check, then the importer file read back against the FEC of the same selection.
  expect(output).toMatch(/Pre-flight check, XIMPORT/);
  expect(output).toMatch(/problems\s+0\s+✓ nothing refuses the export/);
  for (const name of ['entries', 'lines', 'debit', 'credit']) {
    expect(output).toMatch(new RegExp(`${name}\\s+[\\d,.]+( EUR)?\\s+✓ the same as the FEC and the pre-flight check`));
  }
  expect(output).not.toMatch(/✗/);
  expect(output).not.toMatch(/Try next/); // --once: no invitation to stay
  // docs/profiles.md: the monthly send, its mail in the embedded sink, the file through the mail's link.
  expect(output).toMatch(/mail\s+\S+\.eml\s+.*Cabinet comptable/);
  expect(output).toMatch(/link\s+http:\/\/localhost:\d+\/d\/[A-Za-z0-9_-]{43}/);
  expect(output).toMatch(/✓\s+downloaded ecritures-Conservatoire-de-demonstration-\d{8}\.csv through the link: \d+ bytes\s+first line: EcritureDate;JournalCode;CompteNum/);

  // What it leaves.
  const files = (await fs.readdir(outDir)).sort();
  // The demo school has a SIREN, but its school year 2024/2025 spans two fiscal years (ending 12-31):
  // its FEC takes the dated name rather than <SIREN>FEC<AAAAMMJJ>.txt (docs/accounting.md, SPANS_FISCAL_YEARS).
  expect(files).toEqual([
    'XIMPORT.TXT', // the Sage 50 / Ciel import file of the same selection
    expect.stringMatching(/^ecritures-comptables_\d{8}-\d{4}\.txt$/), expect.stringMatching(/^factures_\d{8}-\d{4}\.xlsx$/), expect.stringMatching(/^lignes-de-facturation_\d{8}-\d{4}\.csv$/),
  ]);
  files.push(files.shift()!, files.shift()!); // factures, lignes, then XIMPORT and the FEC: the order the checks below read them
  const xlsx = await fs.readFile(path.join(outDir, files[0]));
  const csv = await fs.readFile(path.join(outDir, files[1]));
  expect(xlsx.length).toBeGreaterThan(0);
  expect(csv.length).toBeGreaterThan(0);

  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const { rows: [tenant] } = await db.query('SELECT id FROM tenants WHERE name = $1', [DEMO_TENANT]);
    const { rows: [{ n }] } = await db.query('SELECT count(*)::int AS n FROM invoices WHERE tenant_id = $1', [tenant.id]);
    expect(n).toBe(3000);

    const { sheets } = await readXlsx(xlsx);
    expect(sheets[0].name).toBe('Factures et avoirs');
    expect(sheets[0].header).toEqual([...FR_HEADERS.INVOICES]);
    expect(sheets[0].rows).toHaveLength(3000);
    expect(output).toMatch(/rows\s+3,000\s+✓/);

    const { header, rows } = readCsv(csv, 'fr-FR');
    expect(header).toEqual([...FR_HEADERS.INVOICE_LINES]);
    expect(rows.length).toBeGreaterThan(0);
    expect(output).toMatch(new RegExp(`billing lines\\s+${rows.length.toLocaleString('en-GB')}\\s+✓`));
    // The filtered selection: the latest school year, invoices still to be collected.
    const { rows: [{ year }] } = await db.query(
      `SELECT max(billing_year) AS year FROM invoices WHERE tenant_id = $1 AND billing_year LIKE '%/%'`,
      [tenant.id],
    );
    const yearIdx = FR_HEADERS.INVOICE_LINES.indexOf('Année de facturation');
    expect(new Set(rows.map((r) => r[yearIdx]))).toEqual(new Set([year]));
  } finally {
    await db.end();
  }

  // Second run: same database, the school is reused, not seeded again.
  const second = runDemo(path.join(tmp, 'exports-2'));
  const secondCode = await finish(second, 60_000);
  expect(`exit ${secondCode}\n${second.output()}`).toBe(`exit 0\n${second.output()}`);
  expect(second.output()).toMatch(/already there: reused/);
  expect(second.output()).toMatch(/schema up to date/);
  // The same period again: the same mail shown, nothing sent twice.
  expect(second.output()).toMatch(/✓\s+downloaded/);
  const mails = (await fs.readdir(path.join(tmp, 'mail'))).filter((n) => n.endsWith('.eml'));
  expect(mails).toHaveLength(1);
  expect(second.output()).toContain(`Demo school "${DEMO_TENANT}": 3,000 invoices and credit notes`);
}, 200_000);

it('stops at once with one line naming the variable when PostgreSQL or Redis cannot be reached', async () => {
  const cases = [
    { env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }, names: ['postgres://postgres@127.0.0.1:1/x', 'DATABASE_URL'] },
    { env: { DATABASE_URL: databaseUrl, REDIS_URL: 'redis://127.0.0.1:1' }, names: ['redis://127.0.0.1:1', 'REDIS_URL'] },
  ];
  await Promise.all(
    cases.map(async ({ env, names }) => {
      const child = runTs('scripts/demo.ts', { PORT: '0', S3_LOCAL_PORT: '0', S3_LOCAL_DIR: path.join(tmp, 's3-fail'), ...env }, ['--once']);
      let stderr = '';
      child.proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      expect(await finish(child, 20_000)).not.toBe(0);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^Cannot start: /);
      for (const n of names) expect(lines[0]).toContain(n);
    }),
  );
}, 30_000);
