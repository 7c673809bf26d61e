import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { procMemory } from './util';
import { SERVICE_NODE_FLAGS } from '../../src/runtime-flags';

export const ROOT = path.join(__dirname, '..', '..');

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** The last ~64 KB of stdout + stderr. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
  /** Peak (VmHWM) and current resident memory, bytes. */
  memory(): { peak: number; current: number };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

const KEEP_OUTPUT = 64 * 1024;

/**
 * Runs a TypeScript entry of the project in its own process, the way the npm
 * scripts do (`node <SERVICE_NODE_FLAGS> -r ./scripts/register.js <entry>`), or a compiled one.
 */
export function runTs(
  name: string,
  entry: string,
  env: Record<string, string | undefined>,
  opts: { args?: string[]; nodeFlags?: string[]; echo?: boolean; compiled?: boolean } = {},
): Child {
  // `compiled`: `entry` is JavaScript (a tsc build), run without the TypeScript hook.
  const loader = opts.compiled ? [] : ['-r', './scripts/register.js'];
  // The service's own V8 flags first (src/runtime-flags.ts), as `npm start` gives them; harmless for other entries.
  const proc = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...(opts.nodeFlags ?? []), ...loader, entry, ...(opts.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (opts.echo) process.stderr.write(d.toString().replace(/^(?=.)/gm, `[${name}] `));
    if (out.length > 2 * KEEP_OUTPUT) out = out.slice(-KEEP_OUTPUT);
    for (const l of [...listeners]) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const child: Child = {
    name,
    proc,
    pid: proc.pid!,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const finish = (err: Error | null, m?: RegExpExecArray) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve(m!);
        };
        const check = () => {
          const m = pattern.exec(out);
          if (m) finish(null, m);
        };
        const timer = setTimeout(() => finish(new Error(`${name}: timed out waiting for ${pattern}:\n${out.slice(-3000)}`)), timeoutMs);
        listeners.add(check);
        exited.then((code) =>
          setTimeout(() => {
            if (listeners.has(check)) finish(new Error(`${name} exited (code ${code}) before ${pattern}:\n${out.slice(-3000)}`));
          }, 50),
        );
        check();
      });
    },
    memory: () => procMemory(proc.pid!),
    async stop(graceMs = 15_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return child;
}

/** Runs a bench helper that prints one JSON line prefixed `RESULT ` and exits; returns it with the child's peak RSS. */
export async function runJsonChild<T>(
  name: string,
  entry: string,
  env: Record<string, string | undefined>,
  args: string[],
  timeoutMs: number,
): Promise<T & { peakRss: number }> {
  const child = runTs(name, entry, env, { args });
  // The child reports its own VmHWM just before exiting (a finished process has no /proc entry).
  const m = await child.waitFor(/^RESULT (.+)$/m, timeoutMs).catch(async (err) => {
    await child.stop(1000);
    throw err;
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with code ${code}:\n${child.output().slice(-3000)}`);
  return JSON.parse(m[1]) as T & { peakRss: number };
}

/**
 * Ctrl-C / SIGTERM during a run: stop the children (3 s each), then exit 130;
 * a second signal exits at once.
 */
export function stopChildrenOnSignal(children: Iterable<Child>, log: (msg: string) => void): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping the children…`);
    Promise.all([...children].map((c) => c.stop(3000))).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
