/**
 * `npm run chaos [-- --short --duration S --exports N --workers N --tenants N --seed N]`
 * (see lib/options.ts for every flag, docs/reliability.md for what it proves).
 *
 * An operator's worst day, bounded and repeatable: exports requested over
 * GraphQL while workers are SIGKILLed every ~10 s and SIGSTOPped past their
 * lease (one of them while its upload is in flight, until another attempt
 * has completed the export), Redis is killed -9 and restarted from its AOF
 * (and once restarted empty), the S3 server is stopped for 10–30 s, the API
 * is SIGKILLed and PostgreSQL connections of the chaos database are
 * terminated; then, once nothing is QUEUED or RUNNING, an audit of every
 * export, every file (rows and money totals against SQL, to the cent), every
 * object and every multipart upload in the bucket. Exit code 1 on any anomaly.
 */
import '../src/db/data-source'; // pg type parsers, as in the service
import { randomUUID, createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import pino from 'pino';
import { signToken } from '../src/auth/jwt';
import { GraphQLRequestError, gql, requestExport } from '../dev/client/export-client';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config';

// The chaos run's API and workers are separate processes, which refuse the
// development JWT secret: a secret of this run's own, inherited by the children.
process.env.JWT_SECRET ||= randomBytes(36).toString('base64');
import { createDataSource } from '../src/db/data-source';
import { ensureDatabase, runMigrations } from '../src/db/migrate';
import { Role } from '../src/entities/enums';
import type { ExportEvents } from '../src/exports/events';
import { ExportStorage, storageOptionsFromConfig } from '../src/storage';
import { toCents } from '../src/money';
import { seedTenant } from '../dev/seed/seed';
import { runSweep } from '../src/worker/sweep';
import { ROOT } from '../tools/lib/children';
import { fmt, percentile, sleep } from '../tools/lib/util';
import { INVOICE_MONEY_COLUMNS, LINE_MONEY_COLUMNS, csvTotals, xlsxTotals, type FileTotals } from '../scripts/lib/file-totals';
import { ChaosOptions, parseChaosOptions, rng, USAGE, UsageError } from './lib/options';
import { API_ENTRY, RedisServer, Slot, WORKER_ENTRY, freePort } from '../tools/lib/stack';

import {
  BUCKET,
  LEASE_MS,
  RECONCILE_MS,
  STUCK_RUNNING_S,
  log,
  t0,
  type Anomaly,
  type Fault,
  type Requested,
  type Row,
  type Spec,
  type TenantInfo,
  type Watch,
} from './model';
import type { ChaosRun } from './faults/run';
import { faultSchedule } from './faults/schedule';
import { killWorkersPeriodically } from './faults/worker-kill';
import { s3Slot } from './faults/s3-outage';

class Chaos implements ChaosRun {
  readonly stamp = new Date().toISOString().replace(/[:.]/g, '-');
  readonly prefix = `chaos-${randomUUID().slice(0, 8)}`;
  readonly random: () => number;
  resultsDir = '';
  logDir = '';
  tmp = '';
  redis!: RedisServer;
  s3!: Slot;
  api!: Slot;
  workers: Slot[] = [];
  apiPort = 0;
  s3Port = 0;
  pool!: Pool;
  lock: Client | undefined;
  tenants: TenantInfo[] = [];
  requested: Requested[] = [];
  faults: Fault[] = [];
  anomalies: Anomaly[] = [];
  watches: Watch[] = [];
  rows = new Map<string, Row>();
  /** export id → worker slot + incarnation + attempt, from the workers' "Export started" log lines. */
  holders = new Map<string, { slot: Slot; incarnation: number; attempt: number }>();
  completions = new Map<string, number>();
  outages = new Set<string>();
  stuckSeen = new Set<string>();
  maxOverdueS = 0;
  polls = 0;
  private polling = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(readonly opts: ChaosOptions) {
    this.random = rng(opts.seed);
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}/graphql`;
  }

  s3Env(): Record<string, string> {
    return {
      S3_ENDPOINT: `http://127.0.0.1:${this.s3Port}`,
      S3_BUCKET: BUCKET,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      S3_FORCE_PATH_STYLE: 'true',
    };
  }

  serviceEnv(): Record<string, string> {
    return {
      ...this.s3Env(),
      NODE_ENV: 'development',
      JWT_SECRET: process.env.JWT_SECRET!,
      DATABASE_URL: this.opts.databaseUrl,
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      WORKER_LOCK_DURATION_MS: String(LEASE_MS),
      RECONCILE_INTERVAL_MS: String(RECONCILE_MS),
      EXPORT_RATE_LIMIT_PER_MINUTE: '0',
      EXPORT_TENANT_MAX_ACTIVE: '10000',
      WORKER_CONCURRENCY: '2',
    };
  }

  // ------------------------------------------------------------------ setup

  async setup(): Promise<void> {
    const { opts } = this;
    this.resultsDir = opts.out ? path.dirname(opts.out) : path.join(ROOT, 'chaos', 'results', this.stamp);
    this.logDir = path.join(this.resultsDir, opts.out ? `logs-${this.stamp}` : 'logs');
    await fs.mkdir(this.logDir, { recursive: true });
    this.tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'invoice-export-chaos-'));
    log(`database ${new URL(opts.databaseUrl).pathname.slice(1)}, queue prefix ${this.prefix}, logs in ${path.relative(process.cwd(), this.logDir) || this.logDir}`);

    await ensureDatabase(opts.databaseUrl);
    // One run per database at a time: a second one would see (and its pg_terminate_backend would hit) the first one's exports.
    this.lock = new Client({ connectionString: opts.databaseUrl, application_name: 'invoice-export-chaos' });
    await this.lock.connect();
    this.lock.on('error', () => undefined);
    const [{ locked }] = (await this.lock.query(`SELECT pg_try_advisory_lock(hashtext('invoice-export:chaos-run')) AS locked`)).rows;
    if (!locked) {
      throw new UsageError(`another chaos run is using the database ${new URL(opts.databaseUrl).pathname.slice(1)}: wait for it, or give this one --db-name`);
    }
    const ds = createDataSource(opts.databaseUrl, { poolSize: 2, applicationName: 'invoice-export-chaos' });
    await ds.initialize();
    try {
      await runMigrations(ds);
      // Earlier runs' exports (their objects were in their own s3rver); each run looks only at its own queue prefix anyway.
      await ds.query(`DELETE FROM invoice_exports WHERE queue_prefix IS DISTINCT FROM $1 AND queue_prefix LIKE 'chaos-%'`, [this.prefix]);
    } finally {
      await ds.destroy();
    }
    this.pool = new Pool({ connectionString: opts.databaseUrl, max: 4, application_name: 'invoice-export-chaos' });
    this.pool.on('error', () => undefined);

    // Tenants: most small, the last two large enough for exports of several seconds.
    const sizes = opts.short ? [300, 800, 1500, 15000] : [300, 500, 800, 1000, 1200, 1500, 2000, 3000, 8000, 15000];
    while (sizes.length < opts.tenants) sizes.unshift(200 + 100 * sizes.length);
    const chosen = sizes.slice(sizes.length - opts.tenants);
    const config = loadConfig({ ...process.env });
    for (const [i, n] of chosen.entries()) {
      const name = `chaos-${i + 1}-${n}`;
      const seeded = await seedTenant(opts.databaseUrl, { tenantName: name, invoices: n, seed: 100 + i, ifExists: 'reuse', analyze: n >= 5000 });
      const { rows } = await this.pool.query<{ id: string }>('SELECT id FROM invoices WHERE tenant_id = $1 ORDER BY number LIMIT 2000', [seeded.tenantId]);
      this.tenants.push({
        name,
        tenantId: seeded.tenantId,
        invoices: seeded.invoices + seeded.creditNotes,
        lines: seeded.lines,
        ids: rows.map((r) => r.id),
        token: signToken(config.jwtSecret, { tenantId: seeded.tenantId, roles: [Role.ACCOUNTANT], userId: 'chaos' }),
      });
    }
    log(`tenants: ${this.tenants.map((t) => `${t.name} (${t.invoices} documents, ${t.lines} lines)`).join(', ')}`);

    // Redis of our own, with AOF; never the shared 6379.
    this.redis = new RedisServer(await freePort(6391), path.join(this.tmp, 'redis'), this.logDir);
    await this.redis.start();
    this.s3Port = await freePort(4591);
    this.apiPort = await freePort(4091);
    const echo = opts.verbose;
    this.s3 = s3Slot(this);
    await this.s3.start();
    this.api = new Slot('api', API_ENTRY, () => ({ ...this.serviceEnv(), PORT: String(this.apiPort) }), /API ready/, this.logDir, { echo });
    await this.api.start();
    for (let i = 0; i < opts.workers; i++) {
      const w = new Slot(`worker-${i + 1}`, WORKER_ENTRY, () => this.serviceEnv(), /Worker ready/, this.logDir, {
        echo,
        onLine: (slot, line) => this.onWorkerLine(slot, line),
      });
      this.workers.push(w);
    }
    await Promise.all(this.workers.map((w) => w.start()));
    log(`redis-server on ${this.redis.port} (AOF in ${this.redis.dir}), s3rver on ${this.s3Port}, API on ${this.apiPort}, ${opts.workers} workers`);
  }

  onWorkerLine(slot: Slot, line: string): void {
    if (!line.startsWith('{')) return;
    let entry: { msg?: string; exportId?: string; attempt?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (!entry.exportId) return;
    if (entry.msg === 'Export started') this.holders.set(entry.exportId, { slot, incarnation: slot.incarnation, attempt: entry.attempt ?? 0 });
    if (entry.msg === 'Export completed') this.completions.set(entry.exportId, (this.completions.get(entry.exportId) ?? 0) + 1);
  }

  // ------------------------------------------------------------------ observation

  startPolling(): void {
    this.pollTimer = setInterval(() => void this.poll(), 250);
  }

  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const { rows } = await this.pool.query<Row>(
        `SELECT id, tenant_id, status, attempts, lease_token, processed_rows, total_rows, waiting_reason, error_code, file_key,
                CASE WHEN status = 'RUNNING' THEN extract(epoch FROM now() - lease_expires_at)::float8 END AS overdue_s
         FROM invoice_exports WHERE queue_prefix = $1`,
        [this.prefix],
      );
      const now = Date.now();
      this.polls++;
      for (const r of rows) {
        const before = this.rows.get(r.id);
        this.rows.set(r.id, r);
        if (r.status === 'RUNNING' && r.overdue_s !== null) {
          this.maxOverdueS = Math.max(this.maxOverdueS, r.overdue_s);
          const key = `${r.id}:${r.lease_token}`;
          if (r.overdue_s > STUCK_RUNNING_S && !this.stuckSeen.has(key)) {
            this.stuckSeen.add(key);
            const holder = this.holders.get(r.id);
            this.anomalies.push({
              kind: 'stuck-running',
              exportId: r.id,
              detail: `RUNNING with a lease expired ${r.overdue_s.toFixed(0)} s ago and no takeover (attempt ${r.attempts}, last started by ${holder ? `${holder.slot.name} #${holder.incarnation}` : '?'}; outages now: ${[...this.outages].join(',') || 'none'})`,
            });
          }
        }
        const newlyCompleted = r.status === 'COMPLETED' && before?.status !== 'COMPLETED';
        const newlyStarted = r.status === 'RUNNING' && r.lease_token && r.lease_token !== before?.lease_token;
        for (const w of this.watches) {
          if (newlyCompleted && w.firstCompletedAfter === undefined) w.firstCompletedAfter = now - w.since;
          if (newlyStarted && w.firstStartAfter === undefined) w.firstStartAfter = now - w.since;
          const progressed = (old: string | null) =>
            (r.status === 'RUNNING' && r.lease_token !== null && r.lease_token !== old) || ['COMPLETED', 'FAILED', 'CANCELLED'].includes(r.status);
          if (w.victims?.has(r.id) && !w.done!.has(r.id) && progressed(w.victims.get(r.id)!)) w.done!.set(r.id, now - w.since);
          if (w.pending?.has(r.id) && !w.done!.has(r.id)) {
            const p = w.pending.get(r.id)!;
            if (progressed(p.token)) w.done!.set(r.id, now - w.since);
          }
        }
      }
    } catch {
      // PostgreSQL connections terminated on purpose: next poll.
    } finally {
      this.polling = false;
    }
  }

  addWatch(w: Omit<Watch, 'done'>): Watch {
    const full: Watch = { ...w, done: new Map() };
    this.watches.push(full);
    return full;
  }

  /** RUNNING exports whose attempt runs in this worker process now (by its log and the row). */
  runningOn(slot: Slot): Row[] {
    return [...this.rows.values()].filter((r) => {
      const h = this.holders.get(r.id);
      return r.status === 'RUNNING' && h && h.slot === slot && h.incarnation === slot.incarnation && h.attempt === r.attempts;
    });
  }

  // ------------------------------------------------------------------ workload

  plan(): Spec[] {
    const { opts, random } = this;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const specs: Spec[] = [];
    for (let i = 0; i < opts.exports; i++) {
      const tenant = Math.floor(random() * this.tenants.length);
      const t = this.tenants[tenant];
      const kind = random() < 0.5 ? 'INVOICES' : 'INVOICE_LINES';
      const format = random() < 0.5 ? 'XLSX' : 'CSV';
      const r = random();
      const ids = () => {
        const n = 1 + Math.floor(random() * Math.min(300, t.ids.length));
        const set = new Set<string>();
        while (set.size < n) set.add(pick(t.ids));
        return [...set];
      };
      const selection: Spec['selection'] =
        r < 0.4
          ? { filter: {} }
          : r < 0.6
            ? { filter: { types: ['INVOICE'] } }
            : r < 0.75
              ? { filter: {}, excludedInvoiceIds: ids().slice(0, 5) }
              : { invoiceIds: ids() };
      const spec: Spec = { at: random() * opts.duration * 1000, tenant, kind, format, selection };
      if (random() < 0.25) {
        spec.idempotencyKey = `chaos-${opts.seed}-${i}`;
        if (random() < 0.5) spec.repeatAfterMs = Math.floor(random() * 3000);
      }
      if (random() < 0.08) spec.cancelAfterMs = 300 + Math.floor(random() * 6000);
      specs.push(spec);
    }
    return specs.sort((a, b) => a.at - b.at);
  }

  private isNetworkError(err: unknown): boolean {
    if (err instanceof GraphQLRequestError) return false;
    const e = err as { name?: string; message?: string; cause?: { code?: string } };
    return e?.name === 'TypeError' || /fetch failed|ECONNREFUSED|ECONNRESET|socket|other side closed|JSON/i.test(`${e?.message} ${e?.cause?.code ?? ''}`);
  }

  /** A client retries while the API process is down (connection refused); any answer of the API counts. */
  private async withApi<T>(req: Requested | undefined, fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!this.isNetworkError(err) || Date.now() > deadline) throw err;
        if (req) req.networkRetries++;
        await sleep(300);
      }
    }
  }

  async runRequest(spec: Spec): Promise<void> {
    const t = this.tenants[spec.tenant];
    const req: Requested = { spec, networkRetries: 0 };
    this.requested.push(req);
    const input = {
      kind: spec.kind,
      format: spec.format,
      locale: 'fr-FR',
      selection: spec.selection,
      ...(spec.idempotencyKey ? { idempotencyKey: spec.idempotencyKey } : {}),
    };
    const during = () => [...this.outages];
    try {
      req.id = (await this.withApi(req, () => requestExport(this.apiUrl, t.token, input))).id;
    } catch (err) {
      const e = err as GraphQLRequestError;
      req.refused = { at: Date.now() - t0, code: e.errors?.[0]?.extensions?.code ?? 'NETWORK', message: (err as Error).message, during: during() };
      return;
    }
    const tasks: Promise<void>[] = [];
    if (spec.repeatAfterMs !== undefined) {
      tasks.push(
        (async () => {
          await sleep(spec.repeatAfterMs!);
          try {
            req.repeatId = (await this.withApi(req, () => requestExport(this.apiUrl, t.token, input))).id;
          } catch (err) {
            const e = err as GraphQLRequestError;
            req.refused = { at: Date.now() - t0, code: e.errors?.[0]?.extensions?.code ?? 'NETWORK', message: `repeat: ${(err as Error).message}`, during: during() };
          }
        })(),
      );
    }
    if (spec.cancelAfterMs !== undefined) {
      tasks.push(
        (async () => {
          await sleep(spec.cancelAfterMs!);
          req.cancelSent = true;
          try {
            const r = await this.withApi(undefined, () =>
              gql<{ cancelInvoiceExport: { status: string } }>(this.apiUrl, t.token, `mutation($id: ID!) { cancelInvoiceExport(id: $id) { id status } }`, { id: req.id }),
            );
            req.cancelResult = r.cancelInvoiceExport.status;
          } catch (err) {
            req.cancelResult = `error: ${(err as Error).message}`;
          }
        })(),
      );
    }
    await Promise.all(tasks);
  }

  async workload(): Promise<void> {
    const specs = this.plan();
    const start = Date.now();
    const inFlight: Promise<void>[] = [];
    for (const spec of specs) {
      const wait = start + spec.at - Date.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(this.runRequest(spec));
    }
    await Promise.all(inFlight);
    log(`workload done: ${specs.length} exports requested`);
  }

  // ------------------------------------------------------------------ faults

  fault(type: string, details: Record<string, unknown> = {}): Fault {
    const f: Fault = { type, at: Date.now() - t0, details };
    this.faults.push(f);
    return f;
  }

  end(f: Fault): void {
    f.end = Date.now() - t0;
  }

  upWorkers(): Slot[] {
    return this.workers.filter((w) => w.state === 'up');
  }












  // ------------------------------------------------------------------ audit

  async download(id: string): Promise<{ sha: string; bytes: Buffer; state: { status: string; rowCount: number | null; fileSize: number | null; fileName: string | null } }> {
    const row = this.rows.get(id) ?? (await this.pool.query(`SELECT tenant_id FROM invoice_exports WHERE id = $1`, [id])).rows[0];
    const t = this.tenants.find((x) => x.tenantId === row.tenant_id)!;
    const data = await this.withApi(undefined, () =>
      gql<{ invoiceExport: { status: string; rowCount: number | null; fileSize: number | null; fileName: string | null; downloadUrl: string | null } }>(
        this.apiUrl,
        t.token,
        `query($id: ID!) { invoiceExport(id: $id) { status rowCount fileSize fileName downloadUrl } }`,
        { id },
      ),
    );
    const e = data.invoiceExport;
    if (!e.downloadUrl) throw new Error(`no downloadUrl (status ${e.status})`);
    const res = await fetch(e.downloadUrl);
    if (!res.ok) throw new Error(`download: HTTP ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { sha: createHash('sha256').update(bytes).digest('hex'), bytes, state: e };
  }

  /** The selection's rows and sums, by SQL of its own (not the service's query). */
  async expected(tenantId: string, kind: string, selection: Record<string, unknown>): Promise<FileTotals> {
    const params: unknown[] = [tenantId];
    let where = '';
    if (selection.mode === 'ids') {
      params.push(selection.invoiceIds);
      where += ` AND i.id = ANY($${params.length}::uuid[])`;
    } else {
      const filter = (selection.filter ?? {}) as Record<string, unknown>;
      for (const k of Object.keys(filter)) if (k !== 'types') throw new Error(`unexpected filter ${k}`);
      if (Array.isArray(filter.types) && filter.types.length) {
        params.push(filter.types);
        where += ` AND i.type = ANY($${params.length}::text[])`;
      }
      const excluded = (selection.excludedInvoiceIds ?? []) as string[];
      if (excluded.length) {
        params.push(excluded);
        where += ` AND NOT (i.id = ANY($${params.length}::uuid[]))`;
      }
    }
    if (kind === 'INVOICES') {
      const [r] = (
        await this.pool.query(
          `SELECT count(*)::int AS n, count(DISTINCT i.number)::int AS docs, coalesce(sum(i.amount_due), 0)::text AS due,
                  coalesce(sum(i.amount_paid), 0)::text AS paid, coalesce(sum(i.remaining_due), 0)::text AS remaining
           FROM invoices i WHERE i.tenant_id = $1 ${where}`,
          params,
        )
      ).rows;
      return { rows: r.n, documents: r.docs, sums: { 'Montant dû': toCents(r.due), 'Montant payé': toCents(r.paid), 'Restant dû': toCents(r.remaining) } };
    }
    const [r] = (
      await this.pool.query(
        `SELECT count(*)::int AS n, count(DISTINCT i.number)::int AS docs, coalesce(sum(l.amount), 0)::text AS amount,
                coalesce(sum(l.discount_amount), 0)::text AS discount
         FROM invoices i JOIN invoice_lines l ON l.invoice_id = i.id AND l.tenant_id = i.tenant_id WHERE i.tenant_id = $1 ${where}`,
        params,
      )
    ).rows;
    return { rows: r.n, documents: r.docs, sums: { Montant: toCents(r.amount), Remise: toCents(r.discount) } };
  }

  async waitQuiet(timeoutMs: number): Promise<number> {
    const start = Date.now();
    for (;;) {
      const { rows } = await this.pool.query(`SELECT count(*)::int AS n FROM invoice_exports WHERE status IN ('QUEUED', 'RUNNING') AND queue_prefix = $1`, [this.prefix]);
      if (rows[0].n === 0) return Date.now() - start;
      if (Date.now() - start > timeoutMs) return -1;
      await sleep(1000);
    }
  }

  storage(): ExportStorage {
    const config = loadConfig({ ...process.env, ...this.s3Env() });
    return new ExportStorage(storageOptionsFromConfig(config));
  }

  async sweep(): Promise<Record<string, unknown>> {
    const storage = this.storage();
    if (this.opts.sweep === 'run') {
      const ds = createDataSource(this.opts.databaseUrl, { poolSize: 2, applicationName: 'invoice-export-chaos' });
      await ds.initialize();
      try {
        const events = { publish: async () => undefined } as unknown as ExportEvents;
        const report = await runSweep({ dataSource: ds, storage, events, logger: pino({ level: 'warn' }), config: { queuePrefix: this.prefix } }, { cleanAfterSeconds: 0 });
        return { mode: 'run', ...report };
      } finally {
        await ds.destroy();
        storage.destroy();
      }
    }
    // The workers' own sweep: every finished export's folder cleaned (60 s after it finished, a pass every 60 s).
    const start = Date.now();
    for (;;) {
      const { rows } = await this.pool.query(
        `SELECT count(*)::int AS n FROM invoice_exports WHERE files_cleaned_at IS NULL AND status NOT IN ('QUEUED','RUNNING') AND queue_prefix = $1`,
        [this.prefix],
      );
      if (rows[0].n === 0) return { mode: 'wait', waitedMs: Date.now() - start };
      if (Date.now() - start > 200_000) return { mode: 'wait', waitedMs: Date.now() - start, notCleaned: rows[0].n };
      await sleep(2000);
    }
  }

  async audit(): Promise<Record<string, unknown>> {
    const quietMs = await this.waitQuiet(this.opts.short ? 90_000 : 300_000);
    log(quietMs < 0 ? 'quiet period: still QUEUED/RUNNING exports after the bound' : `quiet after ${fmt.secs(quietMs / 1000)} s`);
    await sleep(2000);
    await this.poll();
    const sweep = await this.sweep();
    log(`sweep: ${JSON.stringify(sweep)}`);
    const all = (
      await this.pool.query(
        `SELECT id, tenant_id, kind, format, status, selection, error_code, error_message, file_key, file_size, row_count, attempts, idempotency_key
         FROM invoice_exports WHERE queue_prefix = $1 ORDER BY created_at`,
        [this.prefix],
      )
    ).rows;
    const cancelled = new Set(this.requested.filter((r) => r.cancelSent && r.id).map((r) => r.id!));
    const known = new Set(this.requested.flatMap((r) => [r.id, r.repeatId]).filter(Boolean) as string[]);
    const byStatus: Record<string, number> = {};
    const failedCodes: Record<string, number> = {};
    let checkedFiles = 0;
    let checkedRows = 0;
    for (const e of all) {
      byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
      if (!known.has(e.id)) this.anomalies.push({ kind: 'unknown-export', exportId: e.id, detail: 'an export the run did not get an id for (a retried request?)' });
      if (e.status === 'QUEUED' || e.status === 'RUNNING') {
        this.anomalies.push({ kind: 'stuck', exportId: e.id, detail: `${e.status} after the quiet period (attempts ${e.attempts})` });
      } else if (e.status === 'CANCELLED') {
        if (!cancelled.has(e.id)) this.anomalies.push({ kind: 'cancelled-unasked', exportId: e.id, detail: 'CANCELLED, but the run never cancelled it' });
      } else if (e.status === 'FAILED') {
        failedCodes[e.error_code ?? 'none'] = (failedCodes[e.error_code ?? 'none'] ?? 0) + 1;
        // Outages of Redis, storage, database or workers are ridden out: none of them may fail an export.
        this.anomalies.push({ kind: 'failed', exportId: e.id, detail: `FAILED ${e.error_code}: ${e.error_message}` });
      } else if (e.status === 'COMPLETED') {
        if ((this.completions.get(e.id) ?? 0) > 1) this.anomalies.push({ kind: 'completed-twice', exportId: e.id, detail: `"Export completed" logged ${this.completions.get(e.id)} times` });
        try {
          const { bytes, state } = await this.download(e.id);
          if (bytes.length !== Number(e.file_size)) throw new Error(`downloaded ${bytes.length} bytes, the export says ${e.file_size}`);
          const money = e.kind === 'INVOICES' ? INVOICE_MONEY_COLUMNS : LINE_MONEY_COLUMNS;
          const got = e.format === 'XLSX' ? await xlsxTotals(bytes, money) : csvTotals(bytes, 'fr-FR', money);
          const want = await this.expected(e.tenant_id, e.kind, e.selection);
          const diffs: string[] = [];
          if (got.rows !== want.rows || got.rows !== state.rowCount) diffs.push(`rows: file ${got.rows}, SQL ${want.rows}, rowCount ${state.rowCount}`);
          if (got.documents !== want.documents) diffs.push(`documents: file ${got.documents}, SQL ${want.documents}`);
          for (const c of money) if (got.sums[c] !== want.sums[c]) diffs.push(`${c}: file ${got.sums[c]}, SQL ${want.sums[c]} (cents)`);
          if (diffs.length) throw new Error(diffs.join('; '));
          checkedFiles++;
          checkedRows += got.rows;
        } catch (err) {
          this.anomalies.push({ kind: 'bad-file', exportId: e.id, detail: (err as Error).message });
        }
      } else {
        this.anomalies.push({ kind: 'unexpected-status', exportId: e.id, detail: e.status });
      }
    }
    // Idempotency: one export per key; a repeated request answered with the same export.
    const perKey = new Map<string, number>();
    for (const e of all) if (e.idempotency_key) perKey.set(`${e.tenant_id}:${e.idempotency_key}`, (perKey.get(`${e.tenant_id}:${e.idempotency_key}`) ?? 0) + 1);
    for (const [k, n] of perKey) if (n > 1) this.anomalies.push({ kind: 'duplicate', detail: `${n} exports for idempotency key ${k}` });
    for (const r of this.requested) {
      if (r.repeatId && r.id && r.repeatId !== r.id) this.anomalies.push({ kind: 'duplicate', exportId: r.id, detail: `the repeated request got ${r.repeatId}` });
    }
    // Requests refused (the API answered with an error): none, whatever the outage.
    for (const r of this.requested) {
      if (r.refused) this.anomalies.push({ kind: 'refused', detail: `${r.refused.code} at ${fmt.secs(r.refused.at / 1000)} s during [${r.refused.during.join(',')}]: ${r.refused.message}` });
    }
    // The bucket: only the files of COMPLETED exports; no incomplete upload.
    const storage = this.storage();
    let objects: string[] = [];
    let uploads: { key: string }[] = [];
    try {
      objects = await storage.listKeys('exports/');
      uploads = await storage.listMultipartUploads('exports/');
    } finally {
      storage.destroy();
    }
    const files = new Set(all.filter((e) => e.status === 'COMPLETED').map((e) => e.file_key));
    for (const k of objects) if (!files.has(k)) this.anomalies.push({ kind: 'orphan-object', detail: k });
    for (const e of all) if (e.status === 'COMPLETED' && !objects.includes(e.file_key)) this.anomalies.push({ kind: 'file-missing', exportId: e.id, detail: e.file_key });
    for (const u of uploads) this.anomalies.push({ kind: 'incomplete-upload', detail: u.key });
    return { quietMs, sweep, exports: all.length, byStatus, failedCodes, checkedFiles, checkedRows, objects: objects.length, incompleteUploads: uploads.length };
  }

  // ------------------------------------------------------------------ figures

  figures(): Record<string, unknown> {
    const s = (ms: number | undefined | null) => (ms === undefined || ms === null ? null : Math.round(ms) / 1000);
    const takeovers: number[] = [];
    const perFault = this.faults.map((f) => {
      const w = f.details.watch as Watch | undefined;
      const out: Record<string, unknown> = { type: f.type, at: s(f.at), durationS: f.end !== undefined ? s(f.end - f.at) : null };
      for (const [k, v] of Object.entries(f.details)) if (k !== 'watch') out[k] = v;
      if (w) {
        out.firstStartAfterS = s(w.firstStartAfter);
        out.firstCompletedAfterS = s(w.firstCompletedAfter);
        if (w.victims) {
          out.takeoverS = Object.fromEntries([...w.victims.keys()].map((id) => [id, s(w.done!.get(id))]));
          for (const id of w.victims.keys()) {
            const d = w.done!.get(id);
            if (d !== undefined && f.type.startsWith('worker-sigkill')) takeovers.push(d / 1000);
            if (d === undefined) {
              const r = this.rows.get(id);
              if (r && r.status !== 'COMPLETED' && r.status !== 'CANCELLED') this.anomalies.push({ kind: 'no-takeover', exportId: id, detail: `${f.type} at ${s(f.at)} s: never ran again (now ${r.status})` });
            }
          }
        }
        if (w.pending) {
          const times = [...w.done!.values()];
          out.pendingAtRestart = w.pending.size;
          out.pendingResumed = times.length;
          out.allPendingResumedS = times.length === w.pending.size ? s(Math.max(0, ...times)) : null;
        }
      }
      return out;
    });
    const refusedDuring = this.requested.filter((r) => r.refused).length;
    return {
      takeoverAfterSigkillS: takeovers.length
        ? { n: takeovers.length, p50: percentile(takeovers, 50), p95: percentile(takeovers, 95), max: Math.max(...takeovers) }
        : null,
      maxLeaseOverdueS: Math.round(this.maxOverdueS * 10) / 10,
      refusedRequests: refusedDuring,
      requestsRetriedWhileApiDown: this.requested.filter((r) => r.networkRetries > 0).length,
      workerRestarts: this.workers.reduce((n, w) => n + w.restarts, 0),
      faults: perFault,
    };
  }

  // ------------------------------------------------------------------ run

  async run(): Promise<number> {
    await this.setup();
    this.startPolling();
    let workloadDone = false;
    let faultsDone = false;
    const workload = this.workload().finally(() => (workloadDone = true));
    const faults = faultSchedule(this).finally(() => (faultsDone = true));
    const kills = killWorkersPeriodically(this, () => workloadDone && faultsDone);
    await Promise.all([workload, faults, kills]);
    for (const w of this.workers) if (w.state === 'frozen') w.thaw();
    log('audit: waiting until nothing is QUEUED or RUNNING');
    const audit = await this.audit();
    const figures = this.figures();
    const result = {
      stamp: this.stamp,
      options: { ...this.opts, databaseUrl: new URL(this.opts.databaseUrl).pathname.slice(1) },
      config: { WORKER_LOCK_DURATION_MS: LEASE_MS, RECONCILE_INTERVAL_MS: RECONCILE_MS, queuePrefix: this.prefix },
      elapsedS: Math.round((Date.now() - t0) / 100) / 10,
      tenants: this.tenants.map((t) => ({ name: t.name, documents: t.invoices, lines: t.lines })),
      requested: this.requested.length,
      cancelsSent: this.requested.filter((r) => r.cancelSent).length,
      idempotentRepeats: this.requested.filter((r) => r.repeatId).length,
      audit,
      figures,
      anomalies: this.anomalies,
      logs: this.logDir,
    };
    const out = this.opts.out ?? path.join(this.resultsDir, 'result.json');
    await fs.writeFile(out, JSON.stringify(result, null, 2));
    this.print(result);
    log(`results: ${out}`);
    return this.anomalies.length ? 1 : 0;
  }

  print(r: { audit: Record<string, unknown>; figures: Record<string, unknown>; anomalies: Anomaly[]; elapsedS: number; requested: number }): void {
    const f = r.figures as ReturnType<Chaos['figures']>;
    const lines = [
      '',
      `Chaos run: ${r.requested} requests, ${r.elapsedS} s in all`,
      `Exports: ${JSON.stringify(r.audit.byStatus)}; files checked ${r.audit.checkedFiles} (${r.audit.checkedRows} rows); objects ${r.audit.objects}; incomplete uploads ${r.audit.incompleteUploads}`,
      `Takeover after SIGKILL (kill → RUNNING again on another attempt): ${JSON.stringify(f.takeoverAfterSigkillS)}`,
      `Longest lease overdue seen (RUNNING, lease expired): ${f.maxLeaseOverdueS} s; refused requests: ${f.refusedRequests}; worker restarts: ${f.workerRestarts}`,
      'Faults:',
      ...(f.faults as Record<string, unknown>[]).map((x) => {
        const { type, at, ...rest } = x;
        const shown = Object.entries(rest)
          .filter(([k, v]) => v !== null && v !== undefined && k !== 'takeoverS' && k !== 'exports')
          .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`);
        const tk = x.takeoverS as Record<string, number | null> | undefined;
        if (tk && Object.keys(tk).length) shown.push(`takeover=${Object.values(tk).map((v) => (v === null ? 'none' : `${v}s`)).join(',')}`);
        return `  ${String(at).padStart(6)} s  ${String(type).padEnd(26)} ${shown.join(' ')}`;
      }),
      r.anomalies.length ? `ANOMALIES (${r.anomalies.length}):` : 'Anomalies: none',
      ...r.anomalies.map((a) => `  - ${a.kind}${a.exportId ? ` ${a.exportId}` : ''}: ${a.detail}`),
      '',
    ];
    process.stdout.write(lines.join('\n'));
  }

  async cleanup(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    await Promise.all([...this.workers, this.api].filter(Boolean).map((w) => w.stop(3000).catch(() => undefined)));
    await this.s3?.stop(3000).catch(() => undefined);
    await this.redis?.kill().catch(() => undefined);
    this.redis?.close();
    await this.pool?.end().catch(() => undefined);
    await this.lock?.end().catch(() => undefined);
    if (this.tmp) await fs.rm(this.tmp, { recursive: true, force: true }).catch(() => undefined);
  }

  killAllNow(): void {
    for (const w of [...this.workers, this.api, this.s3]) w?.killNow();
    this.redis?.killNow();
  }
}

async function main(): Promise<number> {
  let opts: ChaosOptions | 'help';
  try {
    opts = parseChaosOptions(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const chaos = new Chaos(opts);
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the children`);
    chaos.killAllNow();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => chaos.killAllNow());
  try {
    return await chaos.run();
  } catch (err) {
    log(`chaos run failed: ${(err as Error).stack ?? err}`);
    return 3;
  } finally {
    await chaos.cleanup();
  }
}

main().then((code) => process.exit(code));
