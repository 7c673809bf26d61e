/**
 * The stack the tools start (bench, chaos): the embedded S3 server, a
 * redis-server with AOF on another port, API and worker processes — for
 * chaos each a `Slot` that can be SIGKILLed, SIGSTOPped and restarted in
 * place, with its whole log kept in the results folder.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, promises as fs, WriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Child, runTs } from './children';
import { sleep } from './util';

/** The entry points the tools start, as the npm scripts do (`s3:local`, `start:api`, `start:worker`). */
export const EMBEDDED_S3_ENTRY = 'dev/s3-local.cli.ts';
export const API_ENTRY = 'src/api/main.ts';
export const WORKER_ENTRY = 'src/worker/main.ts';

/** The S3_* settings of the service processes for the embedded S3 server at `endpoint` (its default key). */
export function embeddedS3Env(endpoint: string, bucket: string): Record<string, string> {
  return {
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
    S3_FORCE_PATH_STYLE: 'true',
  };
}

/**
 * An embedded S3 server in a child process of its own on a free port,
 * storing under `dir`: started through the tool's `spawn` (which tracks its
 * children), resolved once it listens, with the settings the service needs.
 */
export async function startEmbeddedS3Child(
  spawnChild: (name: string, entry: string, env: Record<string, string>) => Child,
  dir: string,
  bucket: string,
): Promise<{ child: Child; env: Record<string, string> }> {
  const child = spawnChild('s3rver', EMBEDDED_S3_ENTRY, { S3_LOCAL_PORT: '0', S3_LOCAL_DIR: dir, S3_BUCKET: bucket, LOG_LEVEL: 'warn' });
  const endpoint = (await child.waitFor(/^S3_ENDPOINT=(\S+)$/m, 30_000))[1];
  return { child, env: embeddedS3Env(endpoint, bucket) };
}

export async function freePort(from?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | null>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(null));
      srv.listen(port, '127.0.0.1', () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
  if (from) {
    for (let p = from; p < from + 100; p++) {
      if ((await tryPort(p)) !== null) return p;
    }
  }
  const p = await tryPort(0);
  if (p === null) throw new Error('no free port');
  return p;
}

/** Appends a child's output to its log file, one file per role (all incarnations). */
function tee(proc: ChildProcess, log: WriteStream, label: string, onLine?: (line: string) => void): void {
  const write = (d: string | Buffer) => {
    if (!log.writableEnded) log.write(d);
  };
  write(`\n===== ${new Date().toISOString()} ${label} pid ${proc.pid} =====\n`);
  let partial = '';
  const onData = (d: Buffer) => {
    write(d);
    if (!onLine) return;
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) onLine(l);
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  proc.on('exit', (code, signal) => write(`\n===== ${new Date().toISOString()} ${label} pid ${proc.pid} exited code ${code} signal ${signal} =====\n`));
}

export class RedisServer {
  proc: ChildProcess | undefined;
  private log: WriteStream;

  constructor(
    readonly port: number,
    readonly dir: string,
    logDir: string,
  ) {
    this.log = createWriteStream(path.join(logDir, 'redis.log'), { flags: 'a' }).on('error', () => undefined);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc = proc;
    tee(proc, this.log, 'redis-server');
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 30_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${out}`));
      });
    });
  }

  /** kill -9: what was not fsynced yet (appendfsync everysec) is lost. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  /** Deletes the data directory (the AOF): the next start is empty. */
  async wipe(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  killNow(): void {
    this.proc?.kill('SIGKILL');
  }

  close(): void {
    this.log.end();
  }
}

export type SlotState = 'starting' | 'up' | 'frozen' | 'dead' | 'stopped';

/**
 * One supervised process (a worker slot, the API, the s3rver): restarted when
 * it dies, unless `hold` (an outage the run makes on purpose) or the run is
 * over.
 */
export class Slot {
  child: Child | undefined;
  state: SlotState = 'dead';
  incarnation = 0;
  hold = false;
  stopping = false;
  restarts = 0;
  private log: WriteStream;
  private starting: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly env: () => Record<string, string>,
    private readonly ready: RegExp,
    logDir: string,
    private readonly opts: { echo?: boolean; onLine?: (slot: Slot, line: string) => void; autoRestart?: boolean } = {},
  ) {
    this.log = createWriteStream(path.join(logDir, `${name.replace(/[^A-Za-z0-9_-]+/g, '-')}.log`), { flags: 'a' }).on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts it and waits until it is ready; retries while it exits before (e.g. Redis down for a worker). */
  start(timeoutMs = 120_000): Promise<void> {
    this.starting ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      try {
        for (;;) {
          if (this.stopping) return;
          this.state = 'starting';
          const inc = ++this.incarnation;
          const child = runTs(this.name, this.entry, this.env(), { echo: this.opts.echo });
          this.child = child;
          tee(child.proc, this.log, `${this.name} #${inc}`, this.opts.onLine ? (l) => this.opts.onLine!(this, l) : undefined);
          child.exited.then(() => this.onExit(inc));
          try {
            await child.waitFor(this.ready, Math.max(1000, deadline - Date.now()));
            this.state = 'up';
            return;
          } catch (err) {
            if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
            if (Date.now() > deadline) throw err;
            await sleep(1000);
          }
        }
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  private onExit(inc: number): void {
    if (inc !== this.incarnation) return;
    this.state = 'dead';
    if (this.stopping || this.hold || this.opts.autoRestart === false || this.starting) return;
    this.restarts++;
    setTimeout(() => {
      if (!this.stopping && !this.hold && this.state === 'dead') void this.start().catch(() => undefined);
    }, 300);
  }

  signal(sig: NodeJS.Signals): void {
    this.child?.proc.kill(sig);
  }

  /** SIGKILL; resolves when it is gone (the supervisor restarts it unless `hold`). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
    c.proc.kill('SIGKILL');
    await c.exited;
  }

  freeze(): void {
    this.state = 'frozen';
    this.signal('SIGSTOP');
  }

  thaw(): void {
    this.signal('SIGCONT');
    if (this.state === 'frozen') this.state = 'up';
  }

  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.signal('SIGCONT');
    await this.child?.stop(graceMs);
    this.state = 'stopped';
    this.log.end();
  }

  killNow(): void {
    this.stopping = true;
    if (this.child && this.child.proc.exitCode === null) {
      this.child.proc.kill('SIGCONT');
      this.child.proc.kill('SIGKILL');
    }
  }
}
