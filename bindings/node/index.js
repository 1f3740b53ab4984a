'use strict';
// xchan for Node: core.async channels shared by the main thread, worker
// threads and native addons.  See README.md.
const { threadId, isMainThread, Worker } = require('node:worker_threads');
const v8 = require('node:v8');
const native = require('./lib/native');
const { XchanError, errors, codes, makeError } = require('./lib/errors');
const { BufferSpec, buffer, dropping, sliding } = require('./lib/buffers');
const { Chan, promiseChan, timeout, alts, altsSync, altsAsync, Op, go, TaskFailure, PENDING, setTaskErrorHook, inGo, shutdown } = require('./lib/chan');
const xf = require('./lib/xf');
const { Box, Tuple, tuple } = require('./lib/values');
const { CancelToken } = require('./lib/cancel');
const flow = require('./lib/flow');
const pool = require('./lib/pool');
const nativeWorkers = require('./lib/native-workers');
const pkg = require('./package.json');

// The addon and this JS must come from the same build, and the core the
// addon linked must accept the header it was compiled with.
const versions = native.versions();
if (versions.check !== 0) {
  throw makeError('EVERSION', `xchan: core ${versions.string} does not match the addon's header (${versions.header})`);
}

function reportXformError(err, onError) {
  if (typeof onError === 'function') return onError(err);
  process.emitWarning(`a channel transform failed: ${err && err.stack ? err.stack : String(err)}`,
    { type: 'XchanWarning', code: 'EXFORM' });
  return undefined;
}

native.initEnv({
  threadId,
  isMain: isMainThread,
  makeError,
  // A native channel, or with a second argument true a BOX, as JS sees it.
  wrapChan: (ext, box) => (box === true ? Box._wrap(ext) : Chan._wrap(ext)),
  reportXformError,
  TaskFailure,
  pending: PENDING,
  // How a JS object crosses to another isolate through a channel: the
  // structured clone postMessage makes (src/clone.c).
  serialize: v8.serialize,
  deserialize: v8.deserialize,
});

// worker.terminate() cannot interrupt native code by itself: fire the
// worker's cancel token first, so that a takeSync/putSync/altsSync blocked
// in it returns at once (nothing transferred) and the termination proceeds.
const kPatched = Symbol.for('xchan.terminatePatched');
if (!Worker.prototype[kPatched]) {
  const terminate = Worker.prototype.terminate;
  Object.defineProperty(Worker.prototype, kPatched, { value: true });
  Worker.prototype.terminate = function xchanTerminate(...args) {
    if (typeof this.threadId === 'number' && this.threadId >= 0) native.interruptThread(this.threadId);
    return terminate.apply(this, args);
  };
}
// An env whose loop is about to end still answers the JS calls other
// threads queued for it (a clone of an object it put, a transform step):
// its loop does not wake for them when nothing else keeps it alive.
process.on('beforeExit', () => native.serveCalls());
if (isMainThread) {
  // At process exit Node terminates and joins the workers: wake any that is
  // blocked in a sync op, or the exit would wait for it for ever.
  process.on('exit', () => native.interruptAllThreads());
}

/** The core's function table, as an external (for C addons: xchan_node.h). */
function api() {
  return native.api();
}

/**
 * Throws EVERSION unless code written against core version headerNumber
 * (MAJOR*10000 + MINOR*100 + PATCH; default: the header this addon was built
 * with) may use the loaded core: same major, core minor >= its minor.
 */
function checkVersion(headerNumber = versions.header) {
  if (!Number.isInteger(headerNumber)) throw makeError('EINVAL', 'checkVersion(headerNumber): an integer');
  const rc = native.checkVersion(headerNumber);
  if (rc !== 0) throw makeError(Object.keys(codes).find((k) => codes[k] === rc) || 'EUNKNOWN', `xchan: core ${versions.string} cannot serve version ${headerNumber}`);
}

/**
 * Seeds the calling thread's random generator, which alts uses to pick
 * among ready clauses: the same seed gives the same choices on this thread.
 */
function randomSeed(seed) {
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) seed = BigInt(seed);
  if (typeof seed !== 'bigint') throw makeError('EINVAL', 'randomSeed(seed): a non-negative integer or BigInt');
  native.randomSeed(seed);
}

/** The directory holding xchan/xchan.h, xchan/xchan_ext.h and xchan_node.h. */
const includeDir = require('node:path').join(__dirname, 'include');

module.exports = {
  Chan,
  promiseChan,
  timeout,
  alts,
  altsSync,
  altsAsync,
  Op,
  go,
  xf,
  buffer,
  dropping,
  sliding,
  BufferSpec,
  Box,
  Tuple,
  tuple,
  CancelToken,
  XchanError,
  errors,
  codes,
  ...flow,
  thread: pool.thread,
  ioThread: pool.ioThread,
  WorkerPool: pool.WorkerPool,
  setExecutorFactory: pool.setExecutorFactory,
  execute: pool.execute,
  setTaskErrorHook,
  inGo,
  shutdown,
  native: nativeWorkers,
  api,
  checkVersion,
  randomSeed,
  includeDir,
  version: pkg.version,
  coreVersion: versions.string,
};
