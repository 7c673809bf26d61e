/**
 * `node -r ./scripts/register.js bench/profile-summary.ts <file.cpuprofile|dir> [--top N]`
 *
 * Where a worker's CPU went (profiles from `npm run bench -- --cpu-prof`):
 * self time per function and per package / source file, heaviest first.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function moduleOf(url: string): string {
  if (!url) return '(native / V8)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  return src >= 0 ? url.slice(src + 1) : url.replace(/^file:\/\//, '');
}

async function summarize(file: string, top: number): Promise<void> {
  const profile = JSON.parse(await fs.readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  const fns = new Map<string, number>();
  const mods = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += us;
    const key = `${functionName || '(anonymous)'}  ${url ? `${moduleOf(url)}:${lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const mod = ['(idle)', '(garbage collector)', '(program)'].includes(functionName) ? functionName : moduleOf(url);
    mods.set(mod, (mods.get(mod) ?? 0) + us);
  }
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const busy = total * 1000 - idle;
  process.stdout.write(`\n${file}\n  ${(total / 1000).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (not idle)\n\n  by package / file (self time):\n`);
  for (const [k, v] of [...mods].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${ms(v)}  ${k}\n`);
  process.stdout.write('\n  by function (self time):\n');
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${ms(v)}  ${k}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const topIx = args.indexOf('--top');
  const top = topIx >= 0 ? Number(args.splice(topIx, 2)[1]) : 25;
  const files: string[] = [];
  for (const arg of args) {
    const stat = await fs.stat(arg);
    if (!stat.isDirectory()) files.push(arg);
    else {
      const walk = async (dir: string): Promise<void> => {
        for (const e of await fs.readdir(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.name.endsWith('.cpuprofile')) files.push(p);
        }
      };
      await walk(arg);
    }
  }
  if (!files.length) throw new Error('Usage: bench/profile-summary.ts <file.cpuprofile | directory> [--top N]');
  for (const f of files.sort()) await summarize(f, top);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
