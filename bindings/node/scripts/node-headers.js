'use strict';
// Where node_api.h is, without downloading anything: the headers that ship
// with the running Node (official tarballs, nvm, NodeSource; Debian's
// libnode-dev puts them in /usr/include/node), or the `node-api-headers`
// package when installed.  XCHAN_NODE_API_INCLUDE overrides.
const fs = require('node:fs');
const path = require('node:path');

function findHeaders() {
  const candidates = [];
  if (process.env.XCHAN_NODE_API_INCLUDE) candidates.push(process.env.XCHAN_NODE_API_INCLUDE);
  candidates.push(path.resolve(path.dirname(fs.realpathSync(process.execPath)), '..', 'include', 'node'));
  candidates.push('/usr/include/node', '/usr/local/include/node');
  try {
    candidates.push(require('node-api-headers').include_dir);
  } catch (_) { /* optional */ }
  const found = candidates.find((d) => d && fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) {
    throw new Error('xchan: no node_api.h found. Looked in:\n  ' + candidates.join('\n  ') +
      '\nInstall the Node headers (Debian: apt-get install libnode-dev), or\n' +
      '`npm install node-api-headers`, or set XCHAN_NODE_API_INCLUDE.');
  }
  return found;
}

module.exports = { findHeaders };
