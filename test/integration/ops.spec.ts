/**
 * Operations: health and readiness probes, the queue dashboard's access
 * rules, one-line start-up failures of every entry point, graceful shutdown
 * on SIGTERM, and JSON logs that carry exportId and tenantId.
 *
 * Nothing here stops the machine's PostgreSQL or Redis: an outage is played
 * with a throwaway redis-server of this file, or by stopping the test's own
 * s3rver.
 */
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { signToken } from '../../src/auth/jwt';
import { Role } from '../../src/entities/enums';
import { seedTenant } from '../../dev/seed/seed';
import { TestApp, startTestApp, uniqueName } from '../helpers/app';
import { Child, runTs } from '../helpers/processes';
import { startRedis } from '../helpers/redis';
import { TestS3, startTestS3 } from '../helpers/s3';
import { wsClient } from '../helpers/ws';

let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-ops-'));
});

afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // HTML (the dashboard) stays text
  }
  return { status: res.status, body };
}

const origin = (app: TestApp) => app.url.replace(/\/graphql$/, '');

const OPS_TOKEN = `ops-${randomUUID()}`;

describe('probes and the queue dashboard', () => {
  let app: TestApp;
  const tenantId = randomUUID();

  beforeAll(async () => {
    app = await startTestApp({ env: { OPS_TOKEN } });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('GET /healthz answers 200 while the process is alive', async () => {
    const res = await getJson(`${origin(app)}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 when PostgreSQL, Redis and S3 answer', async () => {
    const res = await getJson(`${origin(app)}/readyz`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ready: true, checks: { postgres: { ok: true }, redis: { ok: true }, s3: { ok: true } } });
  });

  it('/admin/queues refuses a request without the operator token (401, with a basic-auth challenge)', async () => {
    const res = await fetch(`${origin(app)}/admin/queues`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    const bad = await fetch(`${origin(app)}/admin/queues`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).toBe(401);
  });

  it('/admin/queues refuses every tenant token, ADMIN included (SECURITY.md: operators only)', async () => {
    for (const role of [Role.ADMIN, Role.ACCOUNTANT, Role.VIEWER]) {
      const res = await fetch(`${origin(app)}/admin/queues`, { headers: { authorization: `Bearer ${app.token(tenantId, [role])}` } });
      expect(`${role}: ${res.status}`).toBe(`${role}: 401`);
    }
  });

  it('/admin/queues opens to OPS_TOKEN, as Bearer or as the basic-auth password, and shows the export queue', async () => {
    const bearer = await fetch(`${origin(app)}/admin/queues`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(bearer.status).toBe(200);
    expect(await bearer.text()).toMatch(/<html/i);
    expect(bearer.headers.get('x-powered-by')).toBeNull();
    const basic = await fetch(`${origin(app)}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from(`anyone:${OPS_TOKEN}`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
    const api = await getJson(`${origin(app)}/admin/queues/api/queues`, { authorization: `Bearer ${OPS_TOKEN}` });
    expect(api.status).toBe(200);
    expect(JSON.stringify(api.body)).toContain('invoice-exports');
  });
});

describe('readiness during an outage', () => {
  it('names redis when Redis is unreachable, recovers when it is back, and names s3 when storage stops', async () => {
    const redis = await startRedis();
    const s3 = await startTestS3();
    const app = await startTestApp({ role: 'api', s3, env: { REDIS_URL: redis.url, OPS_TOKEN } });
    try {
      const readyz = `${origin(app)}/readyz`;
      expect((await getJson(readyz)).status).toBe(200);

      await redis.stop();
      const down = await until('/readyz to fail', async () => {
        const r = await getJson(readyz);
        return r.status === 503 ? r : undefined;
      });
      expect(down.body.ready).toBe(false);
      expect(down.body.checks.redis).toEqual({ ok: false }); // anonymous: which one, not why
      const detailed = await getJson(readyz, { authorization: `Bearer ${OPS_TOKEN}` });
      expect(detailed.body.checks.redis.ok).toBe(false);
      expect(typeof detailed.body.checks.redis.error).toBe('string'); // the operator: why
      expect(down.body.checks.postgres).toEqual({ ok: true });
      expect(down.body.checks.s3).toEqual({ ok: true });
      // Liveness is not readiness: the process is fine.
      expect((await getJson(`${origin(app)}/healthz`)).status).toBe(200);

      const again = await startRedis(redis.port);
      try {
        await until('/readyz to recover', async () => ((await getJson(readyz)).status === 200 ? true : undefined), 20_000);

        await s3.stop();
        const noS3 = await until('/readyz to fail on s3', async () => {
          const r = await getJson(readyz);
          return r.status === 503 ? r : undefined;
        });
        expect(noS3.body.checks.s3.ok).toBe(false);
        expect(noS3.body.checks.redis).toEqual({ ok: true });
        expect(noS3.body.checks.postgres).toEqual({ ok: true });
      } finally {
        await app.stop();
        await again.stop();
      }
    } finally {
      await redis.stop();
      await s3.stop();
    }
  }, 60_000);
});

/** Waits for the exit; stderr without the AWS SDK's Node 20 notice (harmless, several lines). */
async function failure(child: Child, timeoutMs = 15_000): Promise<{ code: number | null; lines: string[]; ms: number }> {
  const started = Date.now();
  let stderr = '';
  child.proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
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
    throw new Error(`still running after ${timeoutMs} ms:\n${child.output()}`);
  }
  const cleaned = stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?\(Use `node --trace-warnings[^\n]*\n/g, '');
  return { code, lines: cleaned.trim().split('\n').filter(Boolean), ms: Date.now() - started };
}

describe('start-up failures: one line naming what failed and the variable to set', () => {
  let s3: TestS3;
  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  const BAD_DB = 'postgres://postgres@127.0.0.1:1/x';
  const BAD_REDIS = 'redis://127.0.0.1:1';

  it('for npm start, start:api and start:worker, whether PostgreSQL, Redis or S3 fails', async () => {
    const local = { S3_ENDPOINT: '', S3_LOCAL_PORT: '0', S3_LOCAL_DIR: path.join(tmp, 's3-main') };
    const cases: { name: string; entry: string; env: Record<string, string>; expects: (string | RegExp)[] }[] = [
      { name: 'npm start, PostgreSQL down', entry: 'src/main.ts', env: { ...local, DATABASE_URL: BAD_DB }, expects: [BAD_DB, 'DATABASE_URL'] },
      { name: 'npm start, Redis down', entry: 'src/main.ts', env: { ...local, REDIS_URL: BAD_REDIS }, expects: [BAD_REDIS, 'REDIS_URL'] },
      { name: 'start:api, PostgreSQL down', entry: 'src/api/main.ts', env: { ...s3.env, DATABASE_URL: BAD_DB }, expects: [BAD_DB, 'DATABASE_URL'] },
      { name: 'start:worker, PostgreSQL down', entry: 'src/worker/main.ts', env: { ...s3.env, DATABASE_URL: BAD_DB }, expects: [BAD_DB, 'DATABASE_URL'] },
      { name: 'start:worker, Redis down', entry: 'src/worker/main.ts', env: { ...s3.env, REDIS_URL: BAD_REDIS }, expects: [BAD_REDIS, 'REDIS_URL'] },
      {
        name: 'start:worker, S3 refuses the credentials',
        entry: 'src/worker/main.ts',
        env: { ...s3.env, S3_ACCESS_KEY_ID: 'NOT-A-KEY' },
        expects: [s3.endpoint, /access denied/, 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
      },
      { name: 'start:worker, S3 unreachable', entry: 'src/worker/main.ts', env: { ...s3.env, S3_ENDPOINT: 'http://127.0.0.1:1' }, expects: ['http://127.0.0.1:1', 'S3_ENDPOINT'] },
      { name: 'start:api without S3_ENDPOINT', entry: 'src/api/main.ts', env: { S3_ENDPOINT: '' }, expects: ['S3_ENDPOINT', 'npm run s3:local'] },
      { name: 'start:worker without S3_ENDPOINT', entry: 'src/worker/main.ts', env: { S3_ENDPOINT: '' }, expects: ['S3_ENDPOINT'] },
    ];
    // Three at a time: each start compiles the sources (swc) on a 2-core machine that runs other tests too.
    const results: { c: (typeof cases)[number]; r: Awaited<ReturnType<typeof failure>> }[] = [];
    for (let i = 0; i < cases.length; i += 3) {
      const batch = cases.slice(i, i + 3);
      results.push(...(await Promise.all(batch.map(async (c) => ({ c, r: await failure(runTs(c.entry, { PORT: '0', LOG_LEVEL: 'warn', ...c.env }), 20_000) })))));
    }
    for (const { c, r } of results) {
      const where = `${c.name}:\n${r.lines.join('\n')}`;
      expect(`${c.name}: exit ${r.code === 0 ? 0 : 'non-zero'}`).toBe(`${c.name}: exit non-zero`);
      expect(`${c.name}: ${r.lines.length} line(s)`).toBe(`${c.name}: 1 line(s)`);
      expect(r.lines[0]).toMatch(/^Cannot start: /);
      expect(r.lines[0]).not.toMatch(/\n|\s+at\s+\S+\s+\(/); // no stack trace
      for (const e of c.expects) {
        if (typeof e === 'string') expect(`${where}\n→ contains ${e}: ${r.lines[0].includes(e)}`).toBe(`${where}\n→ contains ${e}: true`);
        else expect(r.lines[0]).toMatch(e);
      }
      // Generous for a loaded CI machine, but no hanging retry loop (alone: 1–2 s).
      expect(r.ms).toBeLessThan(15_000);
    }
  }, 90_000);

  it('a bad value stops the start with the variable named', async () => {
    const r = await failure(runTs('src/main.ts', { WORKER_CONCURRENCY: 'lots' }));
    expect(r.code).not.toBe(0);
    expect(r.lines).toEqual(['Configuration error: WORKER_CONCURRENCY must be an integer (got "lots")']);
  }, 20_000);
});

describe('graceful shutdown', () => {
  it('npm start (API + worker + embedded S3) exits 0 promptly on SIGTERM, closing its WebSocket clients', async () => {
    const secret = 'ops-test-secret-0123456789-abcdefghijklmnop';
    const child = runTs('src/main.ts', {
      NODE_ENV: 'test', // the embedded S3 runs in local modes only
      JWT_SECRET: secret,
      LOG_LEVEL: 'info',
      PORT: '0',
      S3_ENDPOINT: '',
      S3_LOCAL_PORT: '0',
      S3_LOCAL_DIR: path.join(tmp, 's3-sigterm'),
    });
    try {
      await child.waitFor(/"msg":"Worker ready"/, 30_000);
      const ready = child
        .output()
        .split('\n')
        .map((l) => (l.startsWith('{') ? JSON.parse(l) : {}))
        .find((l) => l.msg === 'API ready');
      const url: string = ready.url.replace('localhost', '127.0.0.1');
      expect((await fetch(url.replace('/graphql', '/readyz'))).status).toBe(200);

      // A front end with a subscription socket open (its tenant must exist).
      const tenantId = randomUUID();
      const db = new PgClient({ connectionString: process.env.DATABASE_URL });
      await db.connect();
      await db.query(`INSERT INTO tenants (id, name, product) VALUES ($1, 'École SIGTERM', 'SCHOOL_STANDARD')`, [tenantId]);
      await db.end();
      const client = wsClient(url.replace(/^http/, 'ws'), signToken(secret, { tenantId, userId: 'u', roles: [Role.ACCOUNTANT] }));
      const closed = new Promise<number>((resolve) => client.on('closed', (e) => resolve((e as { code: number }).code)));
      const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
      const sub = client.subscribe({ query: `subscription { invoiceExportUpdated(id: "${randomUUID()}") { id } }` }, {
        next: () => undefined,
        error: () => undefined,
        complete: () => undefined,
      });
      await connected;

      const started = Date.now();
      child.proc.kill('SIGTERM');
      const code = await child.exited;
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(child.output()).toMatch(/"signal":"SIGTERM","msg":"Shutting down"/);
      expect(await closed).toBeGreaterThan(0);
      sub();
      await client.dispose();
    } finally {
      await child.kill('SIGKILL');
    }
  }, 60_000);
});

describe('logs', () => {
  it('are JSON lines in production, and every line about an export carries exportId and tenantId', async () => {
    const s3 = await startTestS3();
    const app = await startTestApp({ role: 'api', s3 });
    const worker = runTs('src/worker/main.ts', { ...s3.env, NODE_ENV: 'production', JWT_SECRET: 'ops-test-secret-0123456789-abcdefghijklmnop', LOG_LEVEL: 'info' });
    let stdout = '';
    worker.proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      const { tenantId } = await seedTenant(app.config.databaseUrl, { tenantName: uniqueName('logs'), invoices: 40, ifExists: 'duplicate' });
      await worker.waitFor(/"msg":"Worker ready"/, 30_000);
      const token = app.token(tenantId);
      const res = await app.gql<{ requestInvoiceExport: { id: string } }>(
        `mutation($input: RequestInvoiceExportInput!) { requestInvoiceExport(input: $input) { id } }`,
        { input: { kind: 'INVOICE_LINES', format: 'CSV', selection: { filter: {} } } },
        token,
      );
      expect(res.errors).toBeUndefined();
      const exportId = res.data!.requestInvoiceExport.id;
      await until(
        'the export to complete',
        async () => {
          const r = await app.gql<{ invoiceExport: { status: string } }>(`query($id: ID!) { invoiceExport(id: $id) { status } }`, { id: exportId }, token);
          return r.data?.invoiceExport.status === 'COMPLETED' ? true : undefined;
        },
        30_000,
      );
      await worker.waitFor(/"msg":"Export completed"/, 10_000);
      expect(await worker.kill('SIGTERM')).toBe(0);

      const lines = stdout.split('\n').filter((l) => l.trim());
      const parsed = lines.map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line: ${l}`);
        }
      });
      for (const l of parsed) {
        expect(typeof l.level).toBe('number');
        expect(typeof l.time).toBe('number');
        expect(typeof l.msg).toBe('string');
      }
      const ours = parsed.filter((l) => l.exportId === exportId);
      expect(ours.map((l) => l.msg)).toEqual(expect.arrayContaining(['Export started', 'Export completed']));
      for (const l of ours) expect(`${l.msg}: tenantId ${l.tenantId}`).toBe(`${l.msg}: tenantId ${tenantId}`);
    } finally {
      await worker.kill('SIGKILL');
      await app.stop();
      await s3.stop();
    }
  }, 60_000);
});
