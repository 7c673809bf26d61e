// Runs TypeScript sources directly with swc (the same transform as the tests):
// `node -r ./scripts/register.js src/main.ts`. type-graphql needs decorator
// metadata, which esbuild-based runners (tsx) do not emit.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '.swcrc'), 'utf8'));
delete swcrc.$schema;

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { code } = transformSync(source, { ...swcrc, filename, swcrc: false, configFile: false });
  module._compile(code, filename);
};
process.setSourceMapsEnabled(true);
