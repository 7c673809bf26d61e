import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The shape of src/ (docs/architecture.md), checked by a tool rather than by reading:
 * dpdm resolves every import of every file of src/ (so every entry point:
 * main, api/main, worker/main, the CLIs), type-only imports included.
 */
const ROOT = path.join(__dirname, '..', '..');

interface Dependency {
  issuer: string;
  request: string;
  kind: string;
  id: string | null;
}
interface DpdmOutput {
  tree: Record<string, Dependency[] | null>;
  circulars: string[][];
}

let graph: DpdmOutput;
beforeAll(() => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dpdm-'));
  try {
    const out = path.join(dir, 'graph.json');
    execFileSync(
      process.execPath,
      [require.resolve('dpdm/lib/bin/dpdm.js'), '--no-tree', '--no-warning', '--no-circular', '--no-progress', '-o', out, 'src/**/*.ts'],
      { cwd: ROOT, stdio: 'pipe' },
    );
    graph = JSON.parse(readFileSync(out, 'utf8')) as DpdmOutput;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

const edges = () =>
  Object.entries(graph.tree).flatMap(([file, deps]) => (deps ?? []).map((d) => ({ from: file, to: d.id ?? d.request, kind: d.kind })));

it('reads the whole of src/, its entry points included', () => {
  const files = Object.keys(graph.tree);
  for (const entry of ['src/main.ts', 'src/api/main.ts', 'src/worker/main.ts', 'src/db/migrate.cli.ts', 'src/auth/token.cli.ts']) {
    expect(files).toContain(entry);
  }
  expect(files.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(60);
});

it('finds no import cycle in src/', () => {
  expect(graph.circulars.map((c) => c.join(' -> '))).toEqual([]);
});

it('keeps the accounting domain free of the exports (src/accounting imports nothing from src/exports)', () => {
  const wrong = edges().filter((e) => e.from.startsWith('src/accounting/') && e.to.startsWith('src/exports/'));
  expect(wrong).toEqual([]);
});

it('keeps development tools out of src/ (no static import of dev/, tools/, bench/, chaos/ or test/)', () => {
  const wrong = edges().filter((e) => e.from.startsWith('src/') && /^(dev|tools|bench|chaos|test)\//.test(e.to) && e.kind !== 'DynamicImport');
  expect(wrong).toEqual([]);
});
