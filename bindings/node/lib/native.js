'use strict';
// Loads the addon built by `npm install` (scripts/build.js).
const path = require('node:path');

const candidates = [
  process.env.XCHAN_NODE_ADDON,
  path.join(__dirname, '..', 'build', 'Release', 'xchan.node'),
  path.join(__dirname, '..', 'build', 'Debug', 'xchan.node'),
].filter(Boolean);

let native;
let lastError;
for (const file of candidates) {
  try {
    native = require(file);
    break;
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') throw e;
    lastError = e;
  }
}
if (!native) {
  const err = new Error('xchan: the native addon is not built (looked for ' +
    candidates.join(', ') + '). Run `npm install` or `npm run build` in ' +
    path.join(__dirname, '..') + '.');
  err.code = 'ELOAD';
  err.cause = lastError;
  throw err;
}
module.exports = native;
