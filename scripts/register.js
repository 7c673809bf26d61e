// Runs TypeScript sources directly with swc (the same transform as the tests):
// `node -r ./scripts/register.js src/main.ts`. type-graphql needs decorator
// metadata, which esbuild-based runners (tsx) do not emit.
//
// Compiled files are cached under node_modules/.cache/ts-register, keyed by
// their content: a warm start never loads swc's native compiler (~40 MB of a
// worker's memory) and takes no compile time.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const swcrcText = fs.readFileSync(path.join(root, '.swcrc'), 'utf8');
const cacheDir = path.join(root, 'node_modules', '.cache', 'ts-register');
let swc;

function compile(source, filename) {
  const key = crypto.createHash('sha1').update(swcrcText).update('\0').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not compiled yet
  }
  swc ??= require('@swc/core');
  const swcrc = JSON.parse(swcrcText);
  delete swcrc.$schema;
  const { code } = swc.transformSync(source, { ...swcrc, filename, swcrc: false, configFile: false });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, cached); // atomic: processes starting together never read half a file
  } catch {
    // a read-only tree just compiles every time
  }
  return code;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  module._compile(compile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
process.setSourceMapsEnabled(true);
