'use strict';
// A WorkerPool worker: runs one job at a time and posts its result.
const { parentPort } = require('node:worker_threads');
const { Chan } = require('..');

const modules = new Map();
const recent = []; // results kept alive until the main thread has adopted them

function revive(v) {
  return v && typeof v === 'object' && typeof v.$xchan === 'string' && Object.keys(v).length === 1 ? Chan.from(v) : v;
}

parentPort.on('message', async ({ id, url, fn, args }) => {
  try {
    let mod = modules.get(url);
    if (mod === undefined) {
      mod = await import(url);
      modules.set(url, mod);
    }
    // ESM exports, or a CommonJS module's exports (import() puts them on .default).
    let f = mod[fn];
    if (typeof f !== 'function' && mod.default && typeof mod.default === 'object') f = mod.default[fn];
    if (typeof f !== 'function') throw new TypeError(`${url} exports no function "${fn}"`);
    const value = await f(...args.map(revive));
    recent.push(value);
    if (recent.length > 16) recent.shift();
    parentPort.postMessage({ id, ok: true, value: value instanceof Chan ? { $xchan: value.$xchan } : value });
  } catch (error) {
    // postMessage copies an Error as a plain Error: its code (an XchanError's
    // core name, or Node's own) travels beside it.
    parentPort.postMessage({ id, ok: false, error, code: error && typeof error.code === 'string' ? error.code : undefined });
  }
});
