'use strict';
// A WorkerPool worker: runs one job at a time and hands its outcome to the
// spawning thread with native.callThread: a JS call queued to that thread,
// which runs it even while it is blocked in a sync op.  The call is not
// waited for (the spawner may be stopping this very worker), so recent
// results stay referenced here until the spawner has had time to adopt a
// Chan among them.
const { parentPort } = require('node:worker_threads');
const v8 = require('node:v8');
const { Chan } = require('..');
const native = require('./native');
const { runAsGo } = require('./chan');

const modules = new Map();
const recent = []; // results kept alive until the spawner has adopted them

function reply(to, msg) {
  let bytes;
  try {
    bytes = v8.serialize(msg);
  } catch (error) {
    // What postMessage would have refused (a function, a class instance...).
    bytes = v8.serialize({ id: msg.id, ok: false, error, code: undefined });
  }
  native.callThread(to, bytes);
}

function revive(v) {
  return v && typeof v === 'object' && typeof v.$xchan === 'string' && Object.keys(v).length === 1 ? Chan.from(v) : v;
}

parentPort.on('message', async ({ id, url, fn, args, reply: to, go, name }) => {
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
    const value = await (go ? runAsGo(name, () => f(...args.map(revive))) : f(...args.map(revive)));
    recent.push(value);
    if (recent.length > 64) recent.shift();
    reply(to, { id, ok: true, value: value instanceof Chan ? { $xchan: value.$xchan } : value });
  } catch (error) {
    // postMessage copies an Error as a plain Error: its code (an XchanError's
    // core name, or Node's own) travels beside it.
    reply(to, { id, ok: false, error, code: error && typeof error.code === 'string' ? error.code : undefined });
  }
});
