import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/**
 * `npm run bench` still runs from end to end on a small tenant: every case,
 * the table, the JSON. Benchmarks are not tests: nothing here looks at a
 * time or a ratio, only that the bench works and that its row counts are
 * those of the database.
 */
const ROOT = path.join(__dirname, '..', '..');
const DB_NAME = `invoice_export_bench_smoke_${process.pid}`;
const INVOICES = 2000;

let out: string;
let tmp: string;

function serverUrl(database: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${database}`;
  return url.toString();
}

async function onServer<T>(database: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl(database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', './scripts/register.js', 'bench/bench.ts', ...args], {
      cwd: ROOT,
      // BENCH_DATABASE_URL would override --db-name; the bench picks its own queue prefix.
      env: { ...process.env, BENCH_DATABASE_URL: '', QUEUE_PREFIX: `bench-smoke-${randomUUID().slice(0, 8)}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
  out = path.join(tmp, 'results.json');
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
  await onServer('postgres', (c) => c.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`));
});

it('runs every case on a small tenant, prints the table and writes the JSON', async () => {
  const { code, stdout, stderr } = await runBench([
    '--invoices', String(INVOICES),
    '--runs', '1',
    '--small-runs', '3',
    '--naive-max', '500',
    '--db-name', DB_NAME,
    '--out', out,
  ]);
  expect({ code, tail: code === 0 ? '' : `${stdout}\n${stderr}`.slice(-4000) }).toEqual({ code: 0, tail: '' });

  for (const kind of ['INVOICES', 'INVOICE_LINES']) {
    expect(stdout).toContain(`| COPY ${kind} (CSV, to a null sink)`);
    for (const format of ['XLSX', 'CSV']) {
      expect(stdout).toContain(`| end to end ${kind} ${format} `);
      expect(stdout).toContain(`| writer only ${kind} ${format} (rows in memory → null sink)`);
    }
    expect(stdout).toContain(`| naive ${kind} XLSX (ORM + in-memory Workbook, first 500 invoices)`);
  }
  expect(stdout).toContain('| COPY ACCOUNTING_ENTRIES (CSV, to a null sink)');
  expect(stdout).toContain('| end to end ACCOUNTING_ENTRIES FEC ');
  for (const format of ['QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100']) {
    expect(stdout).toContain(`| end to end ACCOUNTING_ENTRIES ${format} `);
    expect(stdout).toContain(`| pre-flight check ACCOUNTING_ENTRIES ${format} (nothing written)`);
  }
  expect(stdout).toMatch(/Small export \(100 invoices, INVOICES XLSX, 3 runs on a warm worker\): mutation → COMPLETED p50 \d+ ms, p95 \d+ ms/);
  expect(stdout).toMatch(/Scaling \(4 concurrent INVOICE_LINES XLSX exports .*\): 1 worker process [\d.]+ s, 2 worker processes [\d.]+ s → [\d.]+× faster/);
  expect(stdout).toMatch(/Tracing \(INVOICE_LINES CSV, [\d,]+ rows.*\): off \(no OTEL_EXPORTER_OTLP_ENDPOINT\) [\d.]+ s, on \(OTLP http\/protobuf to a local sink\) [\d.]+ s → [\d.]+×/);
  expect(stdout).toContain('Targets (reported, not asserted):');

  // The JSON holds the same cases, with the row counts of the database.
  const json = JSON.parse(await fs.readFile(out, 'utf8'));
  const counts = await onServer(DB_NAME, async (c) => {
    const { rows } = await c.query(
      `SELECT t.name, (SELECT count(*) FROM invoices i WHERE i.tenant_id = t.id)::int AS invoices,
              (SELECT count(*) FROM invoice_lines l WHERE l.tenant_id = t.id)::int AS lines
       FROM tenants t WHERE t.name = $1`,
      [`bench-${INVOICES}`],
    );
    return rows[0] as { invoices: number; lines: number };
  });
  expect(counts.invoices).toBe(INVOICES);
  expect(json.tenants.main).toMatchObject({ name: `bench-${INVOICES}`, invoices: counts.invoices, lines: counts.lines });

  const rows = (group: string, kind: string, format: string | null) =>
    json.cases.filter((c: any) => c.group === group && c.kind === kind && c.format === format).map((c: any) => c.rows);
  for (const [kind, expected] of [['INVOICES', counts.invoices], ['INVOICE_LINES', counts.lines]] as const) {
    expect(rows('copy', kind, null)).toEqual([expected]);
    for (const format of ['XLSX', 'CSV']) {
      expect(rows('e2e', kind, format)).toEqual([expected]);
      expect(rows('writer', kind, format)).toEqual([expected]);
    }
  }
  // The accounting kind's SELECT streams the billing lines; its file has one line per entry line (more).
  expect(rows('copy', 'ACCOUNTING_ENTRIES', null)).toEqual([counts.lines]);
  expect(rows('e2e', 'ACCOUNTING_ENTRIES', 'FEC')[0]).toBeGreaterThan(counts.lines);
  // Each importer layout writes the FEC's entry lines, and its pre-flight check counts them.
  for (const format of ['QUADRA', 'XIMPORT', 'EBP', 'CEGID', 'SAGE100']) {
    expect(rows('e2e', 'ACCOUNTING_ENTRIES', format)).toEqual(rows('e2e', 'ACCOUNTING_ENTRIES', 'FEC'));
    expect(rows('check', 'ACCOUNTING_ENTRIES', format)).toEqual(rows('e2e', 'ACCOUNTING_ENTRIES', 'FEC'));
  }
  const naive = json.cases.filter((c: any) => c.group === 'naive');
  expect(naive.map((c: any) => [c.kind, c.invoices])).toEqual([['INVOICES', 500], ['INVOICE_LINES', 500]]);
  expect(naive[0].rows).toBe(500);
  expect(naive[1].rows).toBeGreaterThan(500);

  for (const c of json.cases) {
    expect(c.seconds).toHaveLength(1);
    expect(c.wallSeconds).toBeGreaterThan(0);
    if (c.group === 'e2e') {
      expect(c.peakRss).toBeGreaterThanOrEqual(c.idleRss);
      expect(c.fileSize).toBeGreaterThan(0);
      expect(c.ratioToCopy).toBeGreaterThan(0);
      // No writer-only baseline for the accounting kind (its file rows are built from its SQL rows).
      if (c.kind !== 'ACCOUNTING_ENTRIES') expect(c.ratioToWriter).toBeGreaterThan(0);
    }
  }
  expect(json.small).toMatchObject({ runs: 3, rows: 100 });
  expect(json.scaling).toMatchObject({ exports: 4, rowsPerExport: counts.lines });
  // The traced worker sent its spans; both workers wrote the whole export.
  expect(json.tracing).toMatchObject({ kind: 'INVOICE_LINES', format: 'CSV', rows: counts.lines, off: { seconds: [expect.any(Number)] }, on: { seconds: [expect.any(Number)] } });
  expect(json.tracing.otlpRequests).toBeGreaterThan(0);
  expect(json.targets.length).toBeGreaterThan(0);
}, 480_000); // the tracing case (two more worker processes) and a row per importer layout

describe('--list (the list at platform scale)', () => {
  const PREFIX = `invoice_export_bench_smoke_list_${process.pid}_`;
  const LIST_INVOICES = 300;

  afterAll(async () => {
    for (const n of [1, 2]) await onServer('postgres', (c) => c.query(`DROP DATABASE IF EXISTS "${PREFIX}${n}" WITH (FORCE)`));
  });

  it("times the page's query on a 2-school and a 1-school database, with the counts of the database", async () => {
    const listOut = path.join(tmp, 'list.json');
    const { code, stdout, stderr } = await runBench([
      '--list', '--invoices', String(LIST_INVOICES), '--list-tenants', '2', '--list-small-tenants', '1', '--list-runs', '2',
      '--list-db-prefix', PREFIX, '--out', listOut,
    ]);
    expect({ code, tail: code === 0 ? '' : `${stdout}\n${stderr}`.slice(-4000) }).toEqual({ code: 0, tail: '' });
    for (const row of ['| first page ', '| next page ', '| search payer "', '| search number "', '| status TO_COLLECT+PARTIALLY_PAID, year ', '| 8 front ends, first page at once ', '| requestInvoiceExport, search "']) {
      expect(stdout).toContain(row);
    }
    expect(stdout).toContain('p50 2/1');

    const json = JSON.parse(await fs.readFile(listOut, 'utf8'));
    expect([json.big.tenants, json.small.tenants, json.big.invoices, json.small.invoices]).toEqual([2, 1, 2 * LIST_INVOICES, LIST_INVOICES]);
    // What the API counted is what SQL counts in school 1, in each database.
    for (const db of [json.big, json.small]) {
      const expected = await onServer(`${PREFIX}${db.tenants}`, async (c) => {
        const q = async (sql: string, params: unknown[]) => Number((await c.query(sql, [db.tenantId, ...params])).rows[0].n);
        return {
          all: await q('SELECT count(*) AS n FROM invoices WHERE tenant_id = $1', []),
          payer: await q(`SELECT count(*) AS n FROM invoices i JOIN payers p ON p.id = i.payer_id
                          WHERE i.tenant_id = $1 AND strpos(lower(p.last_name || ' ' || p.first_name), lower($2)) > 0`, [db.probe.lastFirst]),
          number: await q(`SELECT count(*) AS n FROM invoices WHERE tenant_id = $1 AND strpos(lower(number), lower($2)) > 0`, [db.probe.numberPrefix]),
        };
      });
      const count = (prefix: string) => db.cases.find((c: any) => c.name.startsWith(prefix)).count;
      expect(expected.payer).toBeGreaterThan(0);
      expect({
        all: count('first page'),
        payer: count(`search payer "${db.probe.lastFirst}"`),
        number: count('search number'),
        exportSelection: count('requestInvoiceExport'),
      }).toEqual({ ...expected, exportSelection: expected.payer });
    }
  }, 240_000);
});
