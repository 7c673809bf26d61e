import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OTEL_VARIABLES } from '../../src/telemetry/tracing';

/**
 * The configuration tables stay true to the code: every variable src/config.ts reads, and the OpenTelemetry
 * variables src/telemetry honours, are documented, and nothing else.
 */
const ROOT = path.join(__dirname, '..', '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');

it('docs/configuration.md documents exactly the variables src/config.ts reads and the OTEL_* ones of src/telemetry', () => {
  const read_by_code = new Set([...read('src/config.ts').matchAll(/\benv, '([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]));
  for (const v of OTEL_VARIABLES) read_by_code.add(v);
  const documented = new Set([...read('docs/configuration.md').matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]));
  expect([...read_by_code].filter((v) => !documented.has(v))).toEqual([]);
  expect([...documented].filter((v) => !read_by_code.has(v) && v !== 'NODE_ENV')).toEqual([]);
});

it('every link of the README to a file of the repository points to a file that exists', () => {
  const links = [...read('README.md').matchAll(/\]\(((?:docs\/|[A-Z]+\.md)[^)#]*)/g)].map((m) => m[1]);
  expect(links.length).toBeGreaterThan(5);
  for (const l of links) expect(() => readFileSync(path.join(ROOT, l))).not.toThrow();
});

describe('the design text lives in the repository', () => {
  it('no comment of the code, the tests or the tools cites a DESIGN section (a document that is not in the repository)', () => {
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const res = spawnSync('git', ['grep', '-n', '-E', 'DESIGN *§|\\(DESIGN$', '--', 'src', 'test', 'web/src', 'scripts', 'bench', 'chaos', 'dev', 'tools'], {
      cwd: `${__dirname}/../..`,
      encoding: 'utf8',
    });
    // git grep: status 1 and no output when nothing matches.
    expect(res.stdout).toBe('');
    expect(res.status).toBe(1);
  });
});
