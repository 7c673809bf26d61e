// `prepare` (run by npm ci / npm install): builds the page "Factures et avoirs"
// into web/dist, so that a fresh clone serves it after `npm ci` alone. Skips,
// saying so, where the page cannot be built: no web/ sources (the Docker build
// stage before `COPY web`) or no Vite (`npm ci --omit=dev`).
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
if (!existsSync(path.join(root, 'web', 'index.html'))) {
  console.log('prepare: no web/ sources here, the page is not built');
  process.exit(0);
}
const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
if (!existsSync(vite)) {
  console.log('prepare: Vite is not installed (production install), the page is not built');
  process.exit(0);
}
const r = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.mjs', '--logLevel', 'warn'], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
