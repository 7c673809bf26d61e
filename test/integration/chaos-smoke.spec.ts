import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

/**
 * `npm run chaos -- --short`: one of each fault (worker SIGKILL and SIGSTOP
 * past its lease, a worker frozen while its upload is in flight, Redis kill
 * -9 with and without its AOF, the S3 server stopped, the API SIGKILLed,
 * PostgreSQL connections terminated, cancels), then the audit. Every anomaly
 * of the audit fails this test: a stuck, wrongly failed or wrongly cancelled
 * export, a file whose rows or totals differ from SQL, an object without a
 * COMPLETED export, an incomplete upload, a duplicate, a refused request.
 */
const ROOT = path.join(__dirname, '..', '..');
const DB_NAME = `invoice_export_chaos_smoke_${process.pid}`;

let tmp: string;

async function onServer<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function runChaos(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', './scripts/register.js', 'chaos/chaos.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, CHAOS_DATABASE_URL: '', LOG_LEVEL: 'info' },
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
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-smoke-'));
});

afterAll(async () => {
  await onServer((c) => c.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`));
  await fs.rm(tmp, { recursive: true, force: true });
});

it('survives one of each fault with zero anomalies', async () => {
  const out = path.join(tmp, 'result.json');
  const { code, stdout, stderr } = await runChaos(['--short', '--db-name', DB_NAME, '--out', out]);
  const json = JSON.parse(await fs.readFile(out, 'utf8').catch(() => 'null'));
  expect({ code, anomalies: json?.anomalies ?? 'no JSON', tail: code === 0 ? '' : `${stdout}\n${stderr}`.slice(-4000) }).toEqual({
    code: 0,
    anomalies: [],
    tail: '',
  });
  // Every fault of the short run ran.
  const types = new Set(json.figures.faults.map((f: { type: string }) => f.type));
  for (const t of ['worker-sigkill', 'worker-sigstop', 'worker-sigstop-upload', 'redis-kill-aof', 'redis-restart-empty', 's3-outage', 'api-sigkill', 'pg-terminate']) {
    expect(types).toContain(t);
  }
  const upload = json.figures.faults.find((f: { type: string }) => f.type === 'worker-sigstop-upload');
  expect(upload.fileIntactAfterResume).toBe(true);
  expect(json.audit.exports).toBeGreaterThan(0);
  expect(json.audit.checkedFiles).toBe(json.audit.byStatus.COMPLETED);
  expect(json.figures.refusedRequests).toBe(0);
}, 300_000);
