import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.join(__dirname, '..', '..');

export interface Child {
  proc: ChildProcess;
  output: () => string;
  /** Resolves when a line of the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  /** Peak and current resident memory from /proc (Linux), in bytes. */
  memory(): { peak: number; current: number };
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs a TypeScript entry point of the project in its own process. */
export function runTs(entry: string, env: Record<string, string | undefined>, args: string[] = []): Child {
  const proc = spawn(process.execPath, ['-r', './scripts/register.js', entry, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners: (() => void)[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out);
          if (m) {
            listeners.splice(listeners.indexOf(check), 1);
            clearTimeout(timer);
            resolve(m[0]);
          }
        };
        const timer = setTimeout(() => {
          listeners.splice(listeners.indexOf(check), 1);
          reject(new Error(`timed out waiting for ${pattern} in:\n${out.slice(-3000)}`));
        }, timeoutMs);
        listeners.push(check);
        exited.then(() => setTimeout(() => {
          if (listeners.includes(check)) {
            listeners.splice(listeners.indexOf(check), 1);
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}:\n${out.slice(-3000)}`));
          }
        }, 50));
        check();
      });
    },
    memory() {
      const status = require('node:fs').readFileSync(`/proc/${proc.pid}/status`, 'utf8') as string;
      const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
      return { peak: kb('VmHWM'), current: kb('VmRSS') };
    },
    async kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
