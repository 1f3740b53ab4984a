'use strict';
// native.go / thread / ioThread: a function of a plain shared library, run
// through libffi on the core's go / thread / io executors (the core's
// xchan_native_run).  The library needs no Node glue: it gets channels and
// scalars as C arguments.
//
//   const done = native.ioThread('./libsensor.so', 'stream', 'v(ci)', ch, 100);
//
// signature: a return letter, then the argument letters in parentheses
// (xchan_ext.h): i integer (number or bigint), d number, b boolean,
// s string, p opaque box, c Chan; v (return only) void.  Each returns a Chan
// that receives the function's return value and then closes (void: closes
// empty).  A wrong call runs nothing and throws: ELOAD (library or symbol
// not found), EINVAL (malformed signature, wrong argument count), ETYPE (an
// argument of the wrong type), with a message naming the problem.
const path = require('node:path');
const native = require('./native');
const { Chan } = require('./chan');
const { makeError } = require('./errors');

// The core's workload numbers (xchan.h: XCHAN_WORKLOAD_*).
const DISPATCH = 0;
const MIXED = 1;
const IO = 2;

function run(workload, what, lib, symbol, signature, args) {
  if (typeof lib !== 'string' && !(lib instanceof URL)) {
    throw makeError('EINVAL', `native.${what}(lib, symbol, signature, ...args): lib is a path`);
  }
  if (typeof symbol !== 'string' || typeof signature !== 'string') {
    throw makeError('EINVAL', `native.${what}(lib, symbol, signature, ...args): symbol and signature are strings`);
  }
  // A relative path with a slash is relative to the working directory, as
  // dlopen reads it; a bare name is searched by the dynamic loader.
  const file = lib instanceof URL ? require('node:url').fileURLToPath(lib) : lib;
  const resolved = file.includes('/') ? path.resolve(file) : file;
  return Chan._wrap(native.nativeRun(workload, resolved, symbol, signature, args.map(Chan._v)));
}

/** Runs `symbol` as a go task (must not block in the OS; use thread/ioThread). */
const go = (lib, symbol, signature, ...args) => run(DISPATCH, 'go', lib, symbol, signature, args);
/** Runs `symbol` on the core's thread executor (core.async thread). */
const thread = (lib, symbol, signature, ...args) => run(MIXED, 'thread', lib, symbol, signature, args);
/** Runs `symbol` on the core's IO executor (core.async io-thread). */
const ioThread = (lib, symbol, signature, ...args) => run(IO, 'ioThread', lib, symbol, signature, args);

module.exports = { go, thread, ioThread };
