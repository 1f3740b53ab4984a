'use strict';
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const root = path.resolve(__dirname, '..');

// A worker running `body` (CommonJS source) with `xchan` and `Chan` in scope
// and workerData as `data`.
function worker(body, workerData, opts = {}) {
  const src = `
    const xchan = require(${JSON.stringify(root)});
    const { Chan } = xchan;
    const { parentPort, workerData: data } = require('node:worker_threads');
    ${body}
  `;
  const w = new Worker(src, { eval: true, workerData, ...opts });
  // Listen from the start: 'exit' may come before a test awaits it.
  w.exited = new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  });
  w.exited.catch(() => {});
  return w;
}

function exited(w) {
  return w.exited;
}

function message(w) {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

// Resolves once pred() holds, polling; rejects after ms.
async function until(pred, ms = 5000, what = 'condition') {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

module.exports = { worker, exited, message, until, root };
