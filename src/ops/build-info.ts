import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** What runs: the package's version, the git commit of the source tree ("unknown" outside one, e.g. the Docker image), Node's version. */
export interface BuildInfo {
  version: string;
  commit: string;
  node: string;
}

const ROOT = path.join(__dirname, '..', '..');
let cached: BuildInfo | undefined;

function packageJson(): { version: string } {
  // From src/ops (ts sources) or dist/src/ops (compiled): the package is two levels up either way, plus dist.
  for (const dir of [ROOT, path.join(ROOT, '..')]) {
    try {
      return require(path.join(dir, 'package.json'));
    } catch {
      // not here
    }
  }
  return { version: 'unknown' };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

export function buildInfo(): BuildInfo {
  cached ??= { version: packageJson().version, commit: gitCommit(), node: process.version };
  return cached;
}
