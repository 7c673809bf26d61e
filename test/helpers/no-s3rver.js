// Preloaded (NODE_OPTIONS=--require) to run a process as the production image
// does: without the devDependency s3rver.
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 's3rver' || request.startsWith('s3rver/')) {
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
