import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';

export const MiB = 1024 * 1024;

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Peak (VmHWM) and current (VmRSS) resident memory of a live process, in bytes (Linux /proc). */
export function procMemory(pid: number): { peak: number; current: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { peak: kb('VmHWM'), current: kb('VmRSS') };
}

/** A Writable that discards everything and counts the bytes. */
export function nullSink(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      sink.bytes += chunk.length;
      cb();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

export const fmt = {
  int: (n: number | null | undefined) => (n === null || n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US')),
  secs: (s: number | null | undefined) => (s === null || s === undefined || !Number.isFinite(s) ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1)),
  ms: (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) ? '—' : `${Math.round(ms)} ms`),
  ratio: (r: number | null | undefined) => (r === null || r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`),
  mib: (b: number | null | undefined) => (b === null || b === undefined || !Number.isFinite(b) ? '—' : `${Math.round(b / MiB)} MB`),
  size: (b: number | null | undefined) =>
    b === null || b === undefined || !Number.isFinite(b) ? '—' : b >= 10 * MiB ? `${(b / MiB).toFixed(0)} MB` : `${(b / MiB).toFixed(1)} MB`,
};

/** A Markdown table (GitHub style), columns padded for the terminal. */
export function markdownTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (s: string, i: number) => (align[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
