'use strict';
// The Node runner of the conformance suite (tests/conformance/README.md, "The
// runner contract"), over the public API of the `xchan` package built in
// bindings/node (by ci/test.sh's node stage), the way a Node user calls it.
//
//   node runner.js --cases DIR [--json] [--case NAME] [--kind thread|task]
//
// Kinds: "task" runs each proc as an async function on the main thread with
// the Promise ops (ch.put, ch.take, xchan.alts); "thread" runs each proc in
// its own worker_threads Worker with the blocking ops (putSync, takeSync,
// altsSync).  Spawned bodies: "go" is xchan.go(asyncFn) on the spawning
// thread; "thread"/"io_thread" are xchan.thread/ioThread jobs (a worker pool)
// running this module's `spawnBody` export with blocking ops.
//
// Named objects: channels cross threads as their `$xchan` token.  A worker
// proc binds and looks up names through the main thread (a MessagePort plus
// an Atomics.wait on a SharedArrayBuffer, so a lookup is synchronous); other
// objects (mults, async ops) stay on the thread that made them.
//
// An op the binding's public API cannot express is a binding gap: its result
// is {"err": "GAP", "msg": "binding gap: ..."}, which fails the case.  Exit:
// 0 all passed, 1 otherwise, 3 when the binding is not built.
const fs = require('fs');
const path = require('path');
const wt = require('worker_threads');

const ROOT = path.resolve(__dirname, '../../../..');
let xchan;
try {
  xchan = require(process.env.XCHAN_NODE_MODULE || path.join(ROOT, 'bindings/node'));
  new xchan.Chan(1);
} catch (e) {
  if (wt.isMainThread && require.main === module) {
    process.stderr.write(`conformance/node: the xchan binding is not built (${e.message.split('\n')[0]})\n`);
    process.exit(3);
  }
  throw e;
}
const { Chan } = xchan;
const C = Chan.prototype;
const KINDS = ['thread', 'task'];

class Gap extends Error {}
class RunnerError extends Error {}
class StepFailure extends Error {}
const gap = (msg) => {
  throw new Gap(msg);
};

// Boxes and host values of another runtime are made by C code: the
// cross-test addon (tests/cross/node), through the binding's function table,
// as a user's C addon would.  The main thread brings it up to date
// (bindings/node/build/cross, as cross.test.js builds it) before the cases.
const CROSS_OUT = path.join(ROOT, 'bindings', 'node', 'build', 'cross');
const CROSS_FILE = path.join(CROSS_OUT, 'xchan_cross_node.node');
function buildCross() {
  const { findHeaders } = require(path.join(ROOT, 'bindings', 'node', 'scripts', 'node-headers'));
  const { spawnSync } = require('child_process');
  const steps = [['--build', CROSS_OUT]];
  if (!fs.existsSync(path.join(CROSS_OUT, 'CMakeCache.txt'))) {
    steps.unshift(['-S', path.join(ROOT, 'tests', 'cross', 'node'), '-B', CROSS_OUT, `-DNODE_API_INCLUDE=${findHeaders()}`,
      `-DXCHAN_NODE_INCLUDE=${xchan.includeDir}`, '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${CROSS_OUT}`]);
  }
  for (const a of steps) {
    const r = spawnSync('cmake', a, { encoding: 'utf8' });
    if (r.status !== 0) return `building the cross-test addon failed: ${r.stderr || r.stdout}`;
  }
  return null;
}
let crossAddon = null;
let crossProblem = null;
function cross() {
  if (crossProblem !== null) throw new RunnerError(crossProblem);
  if (crossAddon !== null) return crossAddon;
  crossAddon = require(CROSS_FILE);
  crossAddon.init(xchan.api());
  return crossAddon;
}

// A value C code puts on a fresh channel, as this isolate takes it.
function fromC(put, tag) {
  const tmp = new Chan(1);
  if (!put(tmp.handle(), tag)) throw new RunnerError('the addon could not put its value');
  try {
    return tmp.poll();
  } catch (e) {
    // A host value of another runtime: ERUNTIME, whose .value holds it
    // (the binding's way to keep it: it can be put again).
    if (e instanceof xchan.XchanError && e.code === 'ERUNTIME') return e.value;
    throw e;
  }
}

// Objects other threads can adopt: Chans and CancelTokens, by the fields
// the binding gives them for copies ($xchan, $xchanCancel).
const shareToken = (obj) => (obj instanceof Chan ? obj.$xchan : obj instanceof xchan.CancelToken ? obj.$xchanCancel : undefined);
const adoptToken = (t) => (t.startsWith('xcancel:') ? xchan.CancelToken.from(t) : Chan.from(t));

// A case's host value ({"host": tag}): a plain JS object carrying its tag,
// one per tag and thread (so identity holds within an isolate).  Another
// isolate takes it as a structured clone (as postMessage copies), which is
// still such an object: any plain object whose only key is `host` (a
// string) reads back as {"host": tag}, compared by content.
const makeHost = (tag) => ({ host: tag });
const isHost = (v) =>
  v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype &&
  typeof v.host === 'string' && Object.keys(v).length === 1;

const res = (err = 'OK', extra = {}) => Object.assign({ err }, extra);

function excResult(e) {
  if (e instanceof Gap) return { err: 'GAP', msg: 'binding gap: ' + e.message };
  if (e instanceof RunnerError) return { err: 'RUNNER', msg: e.message };
  if (e instanceof xchan.XchanError) return { err: e.code };
  // The binding's documented idiom for an argument of the wrong type (a null
  // channel): a TypeError whose code is the core's EINVAL.
  if ((e instanceof TypeError || e instanceof RangeError) && e.code === 'EINVAL') return { err: 'EINVAL' };
  return { err: (e && e.constructor && e.constructor.name) || 'Error', msg: String(e && e.message).slice(0, 200) };
}

// ---- names: a world per case, per thread ----

class World {
  constructor(kind, deadline, port, flag) {
    this.kind = kind;
    this.deadline = deadline;
    this.objs = new Map();
    this.hosts = new Map();
    this.trace = [];
    this.marks = new Map();
    this.spawns = 0;
    this.failedAt = null;
    this.port = port; // a worker's link to the main thread's names
    this.flag = flag;
    this.shared = null; // main thread: name -> $xchan token bound by workers
    this.extraTraces = []; // trace channels of spawned thread bodies
  }

  put(name, obj) {
    this.objs.set(name, obj);
    const token = shareToken(obj);
    if (this.port && token) this.port.postMessage({ bind: name, token });
    if (this.shared && token) this.shared.set(name, token);
  }

  get(name, type, what = 'object') {
    let o = this.objs.get(name);
    if (o === undefined && this.port) {
      for (let tries = 0; tries < 50 && o === undefined; tries++) {
        Atomics.store(this.flag, 0, 0);
        this.port.postMessage({ lookup: name });
        Atomics.wait(this.flag, 0, 0, 1000);
        const m = wt.receiveMessageOnPort(this.port);
        if (m && m.message.token) {
          o = adoptToken(m.message.token);
          this.objs.set(name, o);
        } else if (tries < 49) {
          Atomics.wait(this.flag, 1, 0, 2);
        }
      }
    }
    if (o === undefined && this.shared && this.shared.has(name)) o = adoptToken(this.shared.get(name));
    if (o === undefined || (type && !(o instanceof type))) throw new RunnerError(`unknown ${what} ${JSON.stringify(name)}`);
    return o;
  }

  // The named channel, or null for a null name: the binding rejects it
  // (a method called unbound on null, or a null argument).
  chan(op, key = 'ch') {
    const n = op[key];
    if (n === null) return null;
    if (n === undefined) throw new RunnerError(`op ${op.op} names no ${key}`);
    return this.get(n, Chan, 'channel');
  }

  chanName(ch) {
    for (const [k, v] of this.objs) if (v instanceof Chan && v.$xchan === ch.$xchan) return k;
    if (this.shared) for (const [k, v] of this.shared) if (v === ch.$xchan) return k;
    return '?';
  }

  host(tag) {
    if (!this.hosts.has(tag)) this.hosts.set(tag, makeHost(tag));
    return this.hosts.get(tag);
  }

  toJs(j) {
    if (j === null) return null;
    if (typeof j === 'boolean' || typeof j === 'string') return j;
    if (typeof j === 'number') {
      if (!Number.isInteger(j)) throw new RunnerError('a plain float value');
      return j;
    }
    // An ARRAY value (C-readable): xchan.tuple; a JS array put as it is would
    // be a host object of this isolate.
    if (Array.isArray(j)) return xchan.tuple(j.map((x) => this.toJs(x)));
    const keys = Object.keys(j);
    if (keys.length === 1) {
      const [k] = keys;
      const v = j[k];
      if (k === 'int') return BigInt(v);
      if (k === 'double') {
        if (typeof v === 'string') return { nan: NaN, inf: Infinity, '-inf': -Infinity }[v];
        // JS numbers: 2.0 is 2 (a number; the binding puts an integral
        // number as INT), so an integral double is compared as a number
        // (canon below), the documented rule.
        return v;
      }
      if (k === 'bytes') return new Uint8Array(Buffer.from(v, 'hex'));
      if (k === 'chan') return this.get(v, Chan, 'channel');
      if (k === 'host') return this.host(v);
      if (k === 'foreign_host') return fromC(cross().putForeign, v);
      if (k === 'box') return fromC(cross().putBox, v);
    }
    throw new RunnerError(`bad value ${JSON.stringify(j)}`);
  }

  // As toJs, but an array is a JS array (of toJs values), not an ARRAY value.
  toJsList(j) {
    return Array.isArray(j) ? j.map((x) => this.toJs(x)) : this.toJs(j);
  }

  toJson(v) {
    if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'bigint') {
      return v > 2n ** 53n || v < -(2n ** 53n) ? { int: v.toString() } : Number(v);
    }
    if (typeof v === 'number') {
      if (Number.isNaN(v)) return { double: 'nan' };
      if (!Number.isFinite(v)) return { double: v > 0 ? 'inf' : '-inf' };
      return Number.isInteger(v) ? v : { double: v };
    }
    if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
    if (Array.isArray(v)) return v.map((x) => this.toJson(x));
    if (v instanceof Chan) return { chan: this.chanName(v) };
    if (v instanceof xchan.Box) {
      // C reads the box's tag (the addon's struct) from a channel.
      const tmp = new Chan(1);
      tmp.offer(v);
      const tag = cross().boxTag(tmp.handle());
      tmp.poll();
      return { box: tag === undefined ? '?' : tag };
    }
    if (isHost(v)) return { host: v.host };
    return { unknown_kind: (v && v.constructor && v.constructor.name) || typeof v };
  }
}

// ---- the vocabulary ----

const ival = (v) => (typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'bigint' ? Number(v) : 0);
const MAP_FNS = {
  inc: (v) => ival(v) + 1,
  double: (v) => ival(v) * 2,
  str: (v) => String(ival(v)),
  parity: (v) => (ival(v) % 2 ? 'odd' : 'even'),
  identity: (v) => v,
  nil: () => null,
};
const isInt = (v) => typeof v === 'number' && Number.isInteger(v);
const PREDS = { even: (v) => isInt(v) && v % 2 === 0, odd: (v) => isInt(v) && v % 2 !== 0 };
const MAPCATS = { dup: (v) => [v, v], range: (v) => Array.from({ length: ival(v) }, (_, i) => i), none: () => [] };
const failOn = (k) => (v) => {
  if (isInt(v) && v === k) throw new StepFailure('boom');
  return v;
};

function oneXform(spec) {
  const keys = Object.keys(spec || {});
  if (keys.length !== 1) throw new RunnerError(`bad transform ${JSON.stringify(spec)}`);
  const [k] = keys;
  const a = spec[k];
  const { xf } = xchan;
  if (k === 'map' && MAP_FNS[a]) return xf.map(MAP_FNS[a]);
  if (k === 'filter' && PREDS[a]) return xf.filter(PREDS[a]);
  if (k === 'mapcat' && MAPCATS[a]) return xf.mapcat(MAPCATS[a]);
  if (k === 'take') return xf.take(a);
  if (k === 'partition_all') return xf.partitionAll(a);
  if (k === 'repeat') return xf.mapcat((v) => Array(a).fill(v));
  if (k === 'fail_on') return xf.map(failOn(a));
  throw new RunnerError(`bad transform ${JSON.stringify(spec)}`);
}
const makeXform = (spec) =>
  spec === undefined ? undefined : Array.isArray(spec) ? xchan.xf.comp(...spec.map(oneXform)) : oneXform(spec);
const errValue = (e) => (e instanceof StepFailure ? e.message : e && e.cause instanceof StepFailure ? e.cause.message : String(e && e.message));
const HANDLERS = { inject: () => 'err', drop: () => null, echo: errValue };
function handler(name) {
  if (name === undefined) return undefined;
  if (!HANDLERS[name]) throw new RunnerError(`bad on_error ${name}`);
  return HANDLERS[name];
}
const REDUCERS = {
  sum: (a, v) => ival(a) + ival(v),
  count: (a) => ival(a) + 1,
  sum_to_10: (a, v) => {
    const s = ival(a) + ival(v);
    return s >= 10 ? xchan.reduced(s) : s;
  },
  fail: () => {
    throw new StepFailure('boom');
  },
};
const MAP_N = { sum: (...vs) => vs.reduce((s, v) => s + ival(v), 0), vec: (...vs) => vs };
const ASYNC_FNS = {
  dup: (v, result) => {
    result.put(v).then(() => result.put(v)).then(() => result.close());
  },
  inc: (v, result) => {
    result.put(ival(v) + 1).then(() => result.close());
  },
};
// The same work as go tasks on the binding's DISPATCH pool: what a blocking
// proc's af starts (its own promises wait until it stops blocking).
const asyncBodies = {
  asyncDup: async (v, result) => {
    await result.put(v);
    await result.put(v);
    result.close();
  },
  asyncInc: async (v, result) => {
    await result.put(ival(v) + 1);
    result.close();
  },
};
const ASYNC_FNS_ELSEWHERE = {
  dup: (v, result) => {
    xchan.go(__filename, 'asyncDup', v, result);
  },
  inc: (v, result) => {
    xchan.go(__filename, 'asyncInc', v, result);
  },
};

// Buffers by name: xchan.buffer(kind, n) (the binding rejects unknown kinds
// and, through the core, capacities a kind does not take).
function bufArg(spec) {
  const kind = spec.buf || 'none';
  const n = spec.n || 0;
  if (kind === 'none' && !n) return undefined;
  return xchan.buffer(kind, n);
}

function chanOpts(spec) {
  const o = {};
  if (spec.xform !== undefined) o.xform = makeXform(spec.xform);
  if (spec.on_error !== undefined) o.onError = handler(spec.on_error);
  if (spec.max_pending !== undefined) o.maxPending = spec.max_pending;
  return o;
}

function makeChan(spec) {
  return new Chan(bufArg(spec), chanOpts(spec));
}

function outBuf(op) {
  const s = op.out;
  if (s === undefined) return undefined;
  if (s.xform !== undefined || s.on_error !== undefined || s.max_pending !== undefined)
    gap("a combinator's output channel takes only a buffer");
  return bufArg(s);
}

// ---- primitives: Promises on a task proc, blocking calls on a thread proc ----

const DEFAULT = Symbol('default');
const nap = (ms = 1) => new Promise((r) => setTimeout(r, ms));
// A worker proc sleeps in a blocking take on a timeout channel: like every
// blocking op it keeps running the JS callbacks of the worker's own channels
// and combinators (an Atomics.wait would stop them).
const napSync = (ms = 1) => xchan.timeout(ms).takeSync();

class Proc {
  constructor(w, path, task) {
    this.w = w;
    this.path = path;
    this.task = task;
  }

  // ch may be null: the methods are called unbound on it, as a user would
  // pass a null channel, and the binding rejects it.
  // cancel: a CancelToken, or undefined ({ timeout, cancel } options).
  async put(ch, v, t, cancel) {
    if (t === 0) {
      const closed = ch !== null && ch.closed;
      return C.offer.call(ch, v) ? res() : res(closed ? 'ECLOSED' : 'EAGAIN');
    }
    const o = cancel === undefined ? t : { timeout: t, cancel };
    const ok = this.task ? await C.put.call(ch, v, o) : C.putSync.call(ch, v, o);
    return ok ? res() : res('ECLOSED');
  }

  async take(ch, t, cancel) {
    if (t === 0) {
      const closed = ch !== null && ch.closed;
      const v = C.poll.call(ch);
      return v === undefined ? res(closed ? 'ECLOSED' : 'EAGAIN') : res('OK', { val: v });
    }
    const o = cancel === undefined ? t : { timeout: t, cancel };
    const v = this.task ? await C.take.call(ch, o) : C.takeSync.call(ch, o);
    return v === undefined ? res('ECLOSED') : res('OK', { val: v });
  }

  async alts(clauses, priority, t, cancel) {
    const o = { priority };
    if (t === 0) o.default = DEFAULT;
    else if (t !== undefined) o.timeout = t;
    if (cancel !== undefined) o.cancel = cancel;
    return this.task ? await xchan.alts(clauses, o) : xchan.altsSync(clauses, o);
  }

  async nap() {
    if (this.task) await nap();
    else napSync();
  }
}

const ms = (op) => (op.timeout_ms === undefined ? undefined : Math.max(op.timeout_ms, 0));

function valRes(w, r) {
  if ('val' in r) r.val = w.toJson(r.val);
  return r;
}

function altsClauses(w, op) {
  const cl = [];
  const kinds = [];
  for (const c of op.clauses || []) {
    if ('take' in c) {
      cl.push(c.take === null ? null : w.get(c.take, Chan, 'channel'));
      kinds.push('take');
    } else if ('put' in c) {
      cl.push([c.put === null ? null : w.get(c.put, Chan, 'channel'), w.toJs(c.val)]);
      kinds.push('put');
    } else {
      // A clause of another kind is passed as the object it is; the
      // binding accepts only a Chan or [chan, value].
      const [k] = Object.keys(c);
      cl.push({ [k]: w.get(c[k], Chan, 'channel') });
      kinds.push(k);
    }
  }
  return [cl, kinds];
}

function altsResult(kinds, r) {
  if (r.index < 0 || r.value === DEFAULT) return res('EAGAIN', { index: -1 });
  if (kinds[r.index] === 'put') return res(r.value ? 'OK' : 'ECLOSED', { index: r.index });
  return r.value === undefined ? res('ECLOSED', { index: r.index }) : res('OK', { index: r.index, val: r.value });
}

async function opAlts(p, op) {
  const [cl, kinds] = altsClauses(p.w, op);
  const cancel = op.cancel === undefined ? undefined : p.w.get(op.cancel, xchan.CancelToken, 'token');
  try {
    return valRes(p.w, altsResult(kinds, await p.alts(cl, !!op.priority, ms(op), cancel)));
  } catch (e) {
    const r = excResult(e);
    if (r.err === 'GAP' || r.err === 'RUNNER') throw e;
    return res(r.err, { index: -1 });
  }
}

async function opAltsRepeat(p, op) {
  const [cl, kinds] = altsClauses(p.w, op);
  const n = op.n || 1000;
  const counts = cl.map(() => 0);
  for (let k = 0; k < n; k++) {
    cl.forEach((c, i) => c.offer(i));
    const r = await p.alts(cl, !!op.priority, 0);
    if (r.index >= 0 && r.value !== DEFAULT) counts[r.index]++;
    for (const c of cl) while (c.poll() !== undefined);
  }
  if (op.min_share !== undefined && counts.every((c) => c >= op.min_share * n)) return res('OK', { val: 'fair' });
  return res('OK', { val: counts });
}

// ---- async ops: the binding's op handles (putAsync/takeAsync/altsAsync) ----
//
// Without `notify` an op is in callback mode (the callback records the
// result); with `notify` in notify mode (the notifier records that the op
// completed, and await collects).  Placement: a callback that ran inside the
// start call ran "on the caller"; one run later from the event loop (after
// another thread, the timer or a later op completed it) ran elsewhere.

class AsyncOp {
  constructor(isAlts, notify) {
    this.isAlts = isAlts;
    this.notify = notify;
    this.op = undefined; // the handle (undefined: none)
    this.result = null;
    this.notified = false;
    this.ranOn = null;
    this.inGo = null;
  }

  get done() {
    return this.result !== null || this.notified;
  }
}

// A binding result { code, index, value } as a case result.
function asyncRes(w, a, r) {
  const o = res(r.code);
  if (a.isAlts) o.index = r.index;
  if (r.value !== undefined) o.val = w.toJson(r.value);
  return o;
}

function startAsync(p, op, name) {
  const w = p.w;
  const isAlts = name === 'alts_async';
  const a = new AsyncOp(isAlts, !!op.notify);
  let inCall = true;
  const where = () => {
    a.ranOn = inCall ? 'caller' : 'other';
    a.inGo = xchan.inGo();
  };
  const opts = {};
  if (op.notify) {
    opts.notify = () => {
      where();
      a.notified = true;
    };
  } else {
    opts.callback = (r) => {
      where();
      a.result = asyncRes(w, a, r);
    };
    if (op.dispatch) opts.dispatch = true;
    if (op.handle === false) opts.handle = false;
  }
  w.put(op.as || '_', a);
  try {
    if (isAlts) {
      const [cl] = altsClauses(w, op);
      if (op.priority) opts.priority = true;
      if (op.timeout_ms === 0) opts.default = true;
      else if (op.timeout_ms !== undefined) opts.timeout = op.timeout_ms;
      a.op = xchan.altsAsync(cl, opts);
    } else if (name === 'put_async') {
      a.op = C.putAsync.call(w.chan(op), w.toJs(op.val), opts);
    } else {
      a.op = C.takeAsync.call(w.chan(op), opts);
    }
  } catch (e) {
    if (e instanceof Gap || e instanceof RunnerError) throw e;
    a.result = excResult(e); // the start call's error: no completion
    return excResult(e);
  } finally {
    inCall = false;
  }
  return res();
}

async function settle(p, a, within) {
  // Completions reach this thread's event loop: let it turn (a worker proc
  // turns it only between its blocking ops).
  const end = Date.now() + within;
  while (!a.done && Date.now() < end) await nap(1);
}

function collectNow(w, a) {
  try {
    return res('OK', { res: (a.result = asyncRes(w, a, a.op.collect())) });
  } catch (e) {
    return excResult(e);
  }
}

async function opAwait(p, op) {
  const a = p.w.get(op.of, AsyncOp, 'async op');
  await settle(p, a, op.within_ms === undefined ? 5000 : op.within_ms);
  if (!a.done) return res('ETIMEDOUT');
  if (a.result === null) {
    const c = collectNow(p.w, a);
    if (c.err !== 'OK') return Object.assign(c, { while: 'collect' });
  }
  const r = Object.assign({}, a.result);
  if (op.placement) r.ran_on = a.ranOn;
  if (op.in_go) r.in_go = a.inGo;
  return r;
}

function opCancel(p, op, ex) {
  const a = p.w.get(op.of, AsyncOp, 'async op');
  const O = xchan.Op.prototype;
  if (!ex) return O.cancel.call(a.op) ? res() : res('EDONE');
  const r = O.cancelEx.call(a.op);
  a.result = asyncRes(p.w, a, r);
  return res('OK', { res: a.result });
}

// ---- spawn ----

function errClass(name) {
  const c = xchan.errors[name];
  if (!c) throw new RunnerError(`unknown error name ${name}`);
  return c;
}

// The body of a spawned thread/io_thread (a job of the binding's worker pool).
// With spec.task it is a go body on the binding's DISPATCH pool (a go task
// spawned by a blocking proc): Promise ops, as every go body.
function spawnBody(spec) {
  const w = new World('thread', Date.now() + 60000, null, null);
  for (const [k, tok] of Object.entries(spec.chans)) w.objs.set(k, adoptToken(tok));
  const traceCh = Chan.from(spec.trace);
  const p = new Proc(w, spec.path, !!spec.task);
  return runOps(p, spec.op.ops || []).then(() => {
    for (const e of w.trace) if (!traceCh.offer(JSON.stringify(e))) break;
    traceCh.close();
    if (spec.op.fail) {
      const E = errClass(spec.op.fail);
      throw new E(`spawned body fails with ${spec.op.fail}`);
    }
    // A thread body's result is copied to the spawner as postMessage copies
    // (the binding's rule): an array is a JS array there.
    return 'result' in spec.op ? w.toJsList(spec.op.result) : undefined;
  });
}

function namesIn(o, out) {
  if (Array.isArray(o)) o.forEach((x) => namesIn(x, out));
  else if (o && typeof o === 'object') {
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string' && ['ch', 'chan', 'take', 'put', 'src', 'from', 'to', 'out', 'cancel', 'token'].includes(k)) out.add(v);
      else namesIn(v, out);
    }
  }
  return out;
}

// What a body run elsewhere (a pool worker) needs: the channels it names,
// by token, and a channel for its trace.
function bodySpec(w, op, path, task) {
  const chans = {};
  for (const n of namesIn(op.ops || [], new Set())) {
    try {
      chans[n] = shareToken(w.get(n));
    } catch (e) {
      /* bound later: the body cannot see it */
    }
  }
  const trace = new Chan(1024);
  w.extraTraces.push(trace);
  return { op, path, chans, trace: trace.$xchan, task };
}

function opSpawn(p, op) {
  const w = p.w;
  const kind = op.kind || 'go';
  const as = op.as || 'task';
  const path = `${p.path}/${as}`;
  const name = op.name || as;
  let ch;
  if (kind === 'go' && !p.task) {
    // A blocking proc's own event loop does not turn while it blocks, so
    // its go task is go(file, export): a go body on the DISPATCH pool.
    ch = xchan.go({ name }, __filename, 'spawnBody', bodySpec(w, op, path, true));
  } else if (kind === 'go') {
    w.spawns++;
    const body = async () => {
      try {
        await runOps(new Proc(w, path, true), op.ops || []);
        if (op.fail) {
          const E = errClass(op.fail);
          throw new E(`spawned body fails with ${op.fail}`);
        }
        return 'result' in op ? w.toJs(op.result) : undefined;
      } finally {
        w.spawns--;
      }
    };
    ch = xchan.go({ name }, body);
  } else if (kind === 'thread' || kind === 'io_thread') {
    const fn = kind === 'thread' ? xchan.thread : xchan.ioThread;
    ch = fn({ name }, __filename, 'spawnBody', bodySpec(w, op, path, false));
  } else gap(`spawn kind ${kind} cannot be expressed`);
  w.put(as, ch);
  return res();
}

// ---- combinators ----

// Combinators that call JS functions (map, split, reduce, transduce, pub,
// pipelines) are core processes whose callbacks the thread that made them
// runs, also while it is blocked in takeSync/putSync/altsSync.

function combOp(p, op, name) {
  const w = p.w;
  const close = op.close === undefined ? true : op.close;
  const bindDone = (d) => {
    if (op.done) w.put(op.done, d);
  };
  switch (name) {
    case 'pipe':
      bindDone(xchan.pipe(w.chan(op, 'from'), w.chan(op, 'to'), close, { done: true }).done);
      return res();
    case 'pipeline': {
      const mode = op.mode || 'compute';
      const from = w.chan(op, 'from');
      const to = w.chan(op, 'to');
      const n = op.n === undefined ? 1 : op.n;
      let d;
      if (mode === 'async') {
        if (!ASYNC_FNS[op.af]) throw new RunnerError('bad af');
        if (op.on_error) gap('pipelineAsync takes no exHandler');
        d = xchan.pipelineAsync(n, to, (p.task ? ASYNC_FNS : ASYNC_FNS_ELSEWHERE)[op.af], from, close);
      } else {
        const fn = mode === 'blocking' ? xchan.pipelineBlocking : xchan.pipeline;
        d = fn(n, to, makeXform(op.xform), from, close, handler(op.on_error));
      }
      bindDone(d);
      return res();
    }
    case 'mult': {
      const m = xchan.mult(w.chan(op, 'src'));
      w.put(op.as || '_', m);
      bindDone(m.done);
      return res();
    }
    case 'tap':
    case 'untap':
    case 'untap_all': {
      const m = w.get(op.mult, xchan.Mult, 'mult');
      if (name === 'tap') m.tap(w.chan(op), close);
      else if (name === 'untap') m.untap(w.chan(op));
      else m.untapAll();
      return res();
    }
    case 'pub': {
      const tf = MAP_FNS[op.topic];
      if (!tf) throw new RunnerError('bad topic fn');
      let bufFn;
      if (op.topic_buf !== undefined) {
        const b = bufArg(op.topic_buf);
        bufFn = () => b;
      }
      const pb = xchan.pub(w.chan(op, 'src'), tf, bufFn);
      w.put(op.as || '_', pb);
      bindDone(pb.done);
      return res();
    }
    case 'sub':
    case 'unsub':
    case 'unsub_topic':
    case 'unsub_all': {
      const pb = w.get(op.pub, xchan.Pub, 'pub');
      const topic = op.topic === undefined ? undefined : w.toJs(op.topic);
      if (name === 'sub') pb.sub(topic, w.chan(op), close);
      else if (name === 'unsub') pb.unsub(topic, w.chan(op));
      else if (name === 'unsub_topic') pb.unsubAll(topic);
      else pb.unsubAll();
      return res();
    }
    case 'mix': {
      const m = xchan.mix(w.chan(op, 'out'));
      w.put(op.as || '_', m);
      bindDone(m.done);
      return res();
    }
    case 'admix':
    case 'unmix':
    case 'unmix_all':
    case 'toggle':
    case 'solo_mode':
    case 'mix_get': {
      const m = w.get(op.mix, xchan.Mix, 'mix');
      if (name === 'admix') m.admix(w.chan(op));
      else if (name === 'unmix') m.unmix(w.chan(op));
      else if (name === 'unmix_all') m.unmixAll();
      else if (name === 'solo_mode') m.soloMode(op.mode || 'mute');
      else if (name === 'mix_get') {
        const st = m.state(w.chan(op));
        return res('OK', { val: ['mute', 'pause', 'solo'].filter((k) => st[k]) });
      } else {
        const entries = (op.entries || []).map((e) => {
          const s = {};
          for (const k of ['mute', 'pause', 'solo']) if (k in e) s[k] = e[k];
          return [w.chan(e), s];
        });
        m.toggle(entries);
      }
      return res();
    }
    case 'merge':
    case 'map': {
      if (op.done && name === 'map') gap('map has no done channel');
      const cs = op.chans === null ? null : (op.chans || []).map((c) => (c === null ? null : w.get(c, Chan, 'channel')));
      let out;
      if (name === 'merge') {
        const m = xchan.merge(cs, outBuf(op), { done: true });
        out = m.result;
        bindDone(m.done);
      } else {
        if (!MAP_N[op.fn]) gap(`a map function ${op.fn} outside the vocabulary cannot be passed`);
        out = xchan.map(MAP_N[op.fn], cs, outBuf(op));
      }
      w.put(op.as || '_', out);
      return res();
    }
    case 'split': {
      const pred = PREDS[op.pred];
      if (!pred || !Array.isArray(op.as) || op.as.length !== 2) throw new RunnerError('split needs pred and as: [t, f]');
      const { result: [t, f], done } = xchan.split(pred, w.chan(op, 'src'), undefined, undefined, { done: true });
      bindDone(done);
      w.put(op.as[0], t);
      w.put(op.as[1], f);
      return res();
    }
    case 'take_n':
      if (op.done) gap('take has no done channel');
      w.put(op.as || '_', xchan.take(op.n || 0, w.chan(op, 'src'), outBuf(op)));
      return res();
    case 'reduce':
    case 'transduce':
    case 'into': {
      // into's init is a JS array (its items are what the result starts with).
      const init = op.init === undefined ? undefined : w.toJsList(op.init);
      const src = w.chan(op, 'src');
      let out;
      if (name === 'into') out = init === null ? xchan.into(src) : xchan.into(init, src);
      else {
        const f = REDUCERS[op.fn];
        if (!f) throw new RunnerError('bad fn');
        out = name === 'reduce' ? xchan.reduce(f, init, src) : xchan.transduce(makeXform(op.xform), f, init, src);
      }
      w.put(op.as || '_', out);
      return res();
    }
    case 'onto_chan':
      bindDone(xchan.ontoChan(w.chan(op), (op.vals || []).map((v) => w.toJs(v)), close));
      return res();
    case 'to_chan':
      w.put(op.as || '_', xchan.toChan((op.vals || []).map((v) => w.toJs(v))));
      return res();
    default:
      return null;
  }
}

// ---- channel state ----

const BUFS = { none: 'none', unbuffered: 'none', fixed: 'fixed', dropping: 'dropping', sliding: 'sliding', promise: 'promise' };
function infoOf(ch) {
  const i = C.info.call(ch);
  return {
    buf: BUFS[i.buffer] || i.buffer,
    capacity: i.capacity,
    count: i.count,
    closed: i.closed,
    pending_puts: i.pendingPuts,
    pending_takes: i.pendingTakes,
    max_pending: i.maxPending,
  };
}

async function opWait(p, op) {
  const ch = p.w.chan(op);
  const end = Date.now() + (op.within_ms === undefined ? 5000 : op.within_ms);
  for (;;) {
    const now = infoOf(ch);
    if (Object.entries(op.until || {}).every(([k, v]) => now[k] === v)) return res();
    if (Date.now() > end) return res('ETIMEDOUT');
    await p.nap();
  }
}

async function opDrain(p, op) {
  const ch = p.w.chan(op);
  const end = Date.now() + (op.within_ms === undefined ? 5000 : op.within_ms);
  const vals = [];
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return res('ETIMEDOUT', { val: vals });
    let r;
    try {
      r = await p.take(ch, left);
    } catch (e) {
      if (e instanceof xchan.XchanError && e.code === 'ETIMEDOUT') return res('ETIMEDOUT', { val: vals });
      throw e;
    }
    if (r.err !== 'OK') return r.err === 'ECLOSED' ? res('OK', { val: vals }) : res(r.err, { val: vals });
    vals.push(p.w.toJson(r.val));
  }
}

// ---- executors ----
const COUNTERS = {};
function opExecutorFactory(op) {
  for (const wl of op.counting || []) {
    if (!COUNTERS[wl]) {
      const pool = new xchan.WorkerPool({ size: 2, name: `counting-${wl}` });
      const run = pool.run.bind(pool);
      pool.count = 0;
      pool.run = (...a) => {
        pool.count++;
        return run(...a);
      };
      COUNTERS[wl] = pool;
    }
  }
  xchan.setExecutorFactory((wl) => COUNTERS[wl] || null);
  return res();
}

// The job of an `execute` op: puts val on ch (a pool worker).
function executeBody(job) {
  if (job === undefined) return undefined;
  const w = new World('thread', Date.now() + 60000, null, null);
  return Chan.from(job.ch).put(w.toJs(job.val));
}

// The task error hook: [name, error code] of every failed task, in order.
const TASK_ERRORS = [];
xchan.setTaskErrorHook((name, e) => TASK_ERRORS.push([name, (e && e.code) || (e && e.constructor && e.constructor.name) || String(e)]));

async function opTaskErrors(p, op) {
  const n = op.n === undefined ? 1 : op.n;
  const end = Date.now() + (op.within_ms === undefined ? 5000 : op.within_ms);
  while (TASK_ERRORS.length < n && Date.now() < end) await p.nap();
  return res('OK', { val: TASK_ERRORS.slice() });
}

// ---- dispatch ----

async function execOp(p, op) {
  const w = p.w;
  const name = op.op;
  switch (name) {
    case 'chan':
      w.put(op.as || '?', makeChan(op));
      return res();
    case 'put':
    case 'offer': {
      const ch = w.chan(op);
      const cancel = op.cancel === undefined ? undefined : w.get(op.cancel, xchan.CancelToken, 'token');
      return p.put(ch, w.toJs(op.val), name === 'offer' ? 0 : ms(op), cancel);
    }
    case 'take':
    case 'poll': {
      const ch = w.chan(op);
      const cancel = op.cancel === undefined ? undefined : w.get(op.cancel, xchan.CancelToken, 'token');
      return valRes(w, await p.take(ch, name === 'poll' ? 0 : ms(op), cancel));
    }
    case 'close':
      C.close.call(w.chan(op));
      return res();
    case 'info': {
      const i = infoOf(w.chan(op));
      if (!op.fields) return res('OK', { val: i });
      const o = {};
      for (const f of op.fields) o[f] = i[f] === undefined ? null : i[f];
      return res('OK', { val: o });
    }
    case 'wait':
      return opWait(p, op);
    case 'timeout':
      w.put(op.as || '?', xchan.timeout(op.ms || 0));
      return res();
    case 'alts':
      return opAlts(p, op);
    case 'alts_repeat':
      return opAltsRepeat(p, op);
    case 'put_async':
    case 'take_async':
    case 'alts_async':
      return startAsync(p, op, name);
    case 'await':
      return opAwait(p, op);
    case 'completed': {
      const a = w.get(op.of, AsyncOp, 'async op');
      return res('OK', { val: a.done || (a.op !== undefined && a.op.state !== 'pending') });
    }
    case 'cancel':
    case 'cancel_ex':
      return opCancel(p, op, name === 'cancel_ex');
    case 'collect':
      return collectNow(w, w.get(op.of, AsyncOp, 'async op'));
    case 'op_state':
      return res('OK', { val: Reflect.get(xchan.Op.prototype, 'state', w.get(op.of, AsyncOp, 'async op').op).toUpperCase() });
    case 'token':
      w.put(op.as || '?', new xchan.CancelToken());
      return res();
    case 'fire':
      w.get(op.token, xchan.CancelToken, 'token').fire();
      return res();
    case 'reset':
      w.get(op.token, xchan.CancelToken, 'token').reset();
      return res();
    case 'spawn':
      return opSpawn(p, op);
    case 'task_errors':
      return opTaskErrors(p, op);
    case 'in_go':
      return res('OK', { val: xchan.inGo() });
    case 'executor_factory':
      return opExecutorFactory(op);
    case 'executor_count':
      return res('OK', { val: COUNTERS[op.workload] ? COUNTERS[op.workload].count : 0 });
    case 'execute':
      if (op.ch === undefined) xchan.execute(op.workload, __filename, 'executeBody');
      else xchan.execute(op.workload, __filename, 'executeBody', { ch: w.get(op.ch, Chan, 'channel').$xchan, val: op.val });
      return res();
    case 'shutdown':
      xchan.shutdown();
      return res();
    case 'seed':
      xchan.randomSeed(BigInt(op.seed));
      return res();
    case 'check_version':
      if (op.number === undefined) xchan.checkVersion();
      else xchan.checkVersion(op.number);
      return res();
    case 'repeat': {
      const counts = {};
      for (let i = 0; i < (op.n === undefined ? 1 : op.n); i++) {
        let r;
        try {
          r = await execOp(p, op.do || {});
        } catch (e) {
          if (e instanceof Gap) throw e;
          r = excResult(e);
        }
        counts[r.err] = (counts[r.err] || 0) + 1;
      }
      return res('OK', { val: counts });
    }
    case 'drain':
      return opDrain(p, op);
    default: {
      const r = combOp(p, op, name);
      if (r) return r;
      throw new RunnerError(`unknown op ${name}`);
    }
  }
  return null;
}

// ---- comparing ----

// JS cannot tell 2.0 from 2: a double the case writes with an integral value
// ({"double": 2}) is compared as the number 2.
function canon(x) {
  if (Array.isArray(x)) return x.map(canon);
  if (x && typeof x === 'object' && Object.keys(x).length === 1 && typeof x.double === 'number' && Number.isInteger(x.double)) return x.double;
  if (x && typeof x === 'object') {
    const o = {};
    for (const k of Object.keys(x).sort()) o[k] = canon(x[k]);
    return o;
  }
  return x;
}
const same = (a, b) => JSON.stringify(canon(a)) === JSON.stringify(canon(b));
const sortVals = (r) => {
  if (Array.isArray(r.val)) r.val = r.val.slice().sort((a, b) => (JSON.stringify(canon(a)) < JSON.stringify(canon(b)) ? -1 : 1));
};
function normalizeExpect(op, e) {
  let x;
  if (e === undefined) x = res();
  else if (typeof e === 'string') x = { err: e };
  else x = Object.assign({ err: 'OK' }, e);
  if (op.elapsed_ms) x.time = 'ok';
  if (op.unordered) sortVals(x);
  return x;
}

async function runOps(p, ops) {
  const w = p.w;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const t0 = performance.now();
    if (op.mark) w.marks.set(op.mark, t0);
    let actual;
    try {
      actual = await execOp(p, op);
    } catch (e) {
      actual = excResult(e);
    }
    if (op.elapsed_ms) {
      const start = op.since && w.marks.has(op.since) ? w.marks.get(op.since) : t0;
      const got = performance.now() - start;
      const [lo, hi] = op.elapsed_ms;
      actual.time = got >= lo && got <= hi ? 'ok' : `${got.toFixed(1)} ms, outside [${lo}, ${hi}]`;
    }
    const e = op.expect;
    const expect = normalizeExpect(op, e);
    if (op.unordered) sortVals(actual);
    let ok = e === 'any' || ((e !== undefined || !op.expect_one_of) && same(expect, actual));
    for (const alt of op.expect_one_of || []) if (same(normalizeExpect(op, alt), actual)) ok = true;
    if (actual.err === 'GAP') ok = false;
    w.trace.push({ proc: p.path, i, op: op.op || '?', expect, actual, ok });
    if (!ok) {
      if (w.failedAt === null) w.failedAt = Date.now();
      if (w.port) w.port.postMessage({ failed: true });
      break;
    }
  }
}

// ---- a worker proc ----

if (!wt.isMainThread && wt.workerData && wt.workerData.conformanceProc) {
  const { ops, path: pth, flag, port } = wt.workerData;
  const w = new World('thread', Infinity, port, new Int32Array(flag));
  // The traces of the bodies it spawned (thread, io_thread, go on the pool)
  // travel with its own.
  const spawned = () => {
    const out = [];
    for (const t of w.extraTraces) for (let x = t.poll(); x !== undefined; x = t.poll()) out.push(JSON.parse(x));
    return out;
  };
  runOps(new Proc(w, pth, false), ops).then(
    () => port.postMessage({ trace: w.trace.concat(spawned()) }),
    (e) => port.postMessage({ trace: w.trace.concat([String(e && e.stack)]) }),
  );
}

// ---- one case under one kind ----

async function rescue(w) {
  const chans = [...w.objs.values()].filter((o) => o instanceof Chan);
  if (w.shared) for (const t of w.shared.values()) if (!t.startsWith('xcancel:')) chans.push(Chan.from(t));
  for (const c of chans) c.close();
  const end = Date.now() + 1000;
  while (Date.now() < end) {
    for (const c of chans) while (c.poll() !== undefined);
    await nap(2);
  }
}

const waitDeadline = (w) => (w.failedAt === null ? w.deadline : Math.min(w.deadline, w.failedAt + 1000));

async function runThreads(w, c) {
  w.shared = new Map();
  const procs = c.procs.map((pr) => {
    const flag = new SharedArrayBuffer(8);
    const { port1, port2 } = new wt.MessageChannel();
    const fl = new Int32Array(flag);
    const st = { done: false, trace: null, worker: null };
    port1.on('message', (m) => {
      if (m.bind) w.shared.set(m.bind, m.token);
      else if (m.lookup !== undefined) {
        port1.postMessage({ token: w.shared.get(m.lookup) || shareToken(w.objs.get(m.lookup)) });
        Atomics.store(fl, 0, 1);
        Atomics.notify(fl, 0);
      } else if (m.failed) {
        if (w.failedAt === null) w.failedAt = Date.now();
      } else if (m.trace) {
        st.trace = m.trace;
        st.done = true;
      }
    });
    st.worker = new wt.Worker(__filename, {
      workerData: { conformanceProc: true, ops: pr.ops || [], path: pr.name || 'main', flag, port: port2 },
      transferList: [port2],
    });
    st.worker.on('error', (e) => {
      st.trace = [String(e && e.stack)];
      st.done = true;
    });
    st.port = port1;
    return st;
  });
  while (procs.some((s) => !s.done) && Date.now() < waitDeadline(w)) await nap(2);
  let timedOut = procs.some((s) => !s.done);
  let stuck = false;
  if (timedOut) {
    await rescue(w);
    const end = Date.now() + 2000;
    while (procs.some((s) => !s.done) && Date.now() < end) await nap(2);
    stuck = procs.some((s) => !s.done);
  }
  for (const s of procs) {
    for (const e of s.trace || []) {
      if (typeof e === 'string') w.trace.push({ proc: '?', i: -1, op: 'worker', expect: null, actual: { err: 'WORKER', msg: e }, ok: false });
      else w.trace.push(e);
    }
    s.port.close();
    await s.worker.terminate();
  }
  return [timedOut, stuck];
}

async function runTasks(w, c) {
  let left = c.procs.length;
  // Each proc is a go task: xchan.go(asyncFn) (inGo() is true in it).
  c.procs.forEach((pr) => xchan.go({ name: pr.name || 'main' }, () => runOps(new Proc(w, pr.name || 'main', true), pr.ops || []).finally(() => left--)));
  while ((left > 0 || w.spawns > 0) && Date.now() < waitDeadline(w)) await nap(1);
  const timedOut = left > 0 || w.spawns > 0;
  let stuck = false;
  if (timedOut) {
    await rescue(w);
    const end = Date.now() + 2000;
    while (left > 0 && Date.now() < end) await nap(2);
    stuck = left > 0;
  }
  return [timedOut, stuck];
}

async function runCase(fname, c, kind) {
  const t0 = Date.now();
  TASK_ERRORS.length = 0;
  const w = new World(kind, t0 + (c.timeout_ms || 20000), null, null);
  const diff = [];
  let timedOut = false;
  let stuck = false;
  let ok = true;
  for (const [name, spec] of Object.entries(c.chans || {})) {
    try {
      w.put(name, makeChan(spec));
    } catch (e) {
      const r = excResult(e);
      diff.push(`channel ${name}: ${r.msg || r.err}`);
      ok = false;
      break;
    }
  }
  if (ok) [timedOut, stuck] = await (kind === 'thread' ? runThreads : runTasks)(w, c);
  // spawned thread bodies' traces
  for (const t of w.extraTraces) {
    let s;
    while ((s = t.poll()) !== undefined) w.trace.push(JSON.parse(s));
  }
  let failed = !ok || timedOut;
  for (const e of w.trace) {
    if (timedOut || !e.ok) {
      failed = true;
      diff.push(e);
    }
  }
  const mismatchFirst = w.failedAt !== null && w.trace.some((e) => !e.ok);
  if (timedOut) {
    diff.push(
      mismatchFirst
        ? stuck
          ? 'after the first mismatch, procs stayed blocked'
          : 'after the first mismatch, procs still blocked were freed by closing and draining the case\'s channels'
        : "a proc or task did not finish before the case's deadline" + (stuck ? ', not even once its channels were closed and drained' : ''),
    );
  }
  const status = timedOut ? (mismatchFirst ? 'fail' : 'hang') : failed ? 'fail' : 'pass';
  return [{ case: c.name, file: fname, lang: 'node', kind, status, diff, ms: Date.now() - t0 }, stuck];
}

function runIsolated(args, fname, c, kind) {
  const cp = require('child_process');
  const env = Object.assign({}, process.env);
  for (const [k, v] of Object.entries(c.env || {})) env[k] = String(v);
  const p = cp.spawnSync(process.execPath, [__filename, '--cases', args.cases, '--case', c.name, '--kind', kind, '--json', '--in-process'], {
    env,
    encoding: 'utf8',
    timeout: (c.timeout_ms || 20000) + 30000,
  });
  try {
    return JSON.parse(p.stdout)[0];
  } catch (e) {
    return { case: c.name, file: fname, lang: 'node', kind, status: 'error', diff: [`isolated run gave no result (${p.status})`], ms: 0 };
  }
}

function printHuman(r) {
  process.stdout.write(`${r.status.padEnd(12)} ${r.kind.padEnd(6)} ${r.case} (${r.ms} ms)\n`);
  if (r.status === 'pass') return;
  for (const d of r.diff) {
    if (typeof d === 'string') process.stdout.write(`    ${d}\n`);
    else process.stdout.write(`    ${d.proc} #${d.i} ${d.op}\n      expected ${JSON.stringify(d.expect)}\n      actual   ${JSON.stringify(d.actual)}\n`);
  }
}

async function main() {
  const argv = process.argv.slice(2);
  const args = { json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--cases') args.cases = argv[++i];
    else if (argv[i] === '--case') args.case = argv[++i];
    else if (argv[i] === '--kind') args.kind = argv[++i];
    else if (argv[i] === '--json') args.json = true;
    else if (argv[i] === '--in-process') args.inProcess = true;
    else {
      process.stderr.write('usage: runner.js --cases DIR [--json] [--case NAME] [--kind thread|task]\n');
      process.exit(2);
    }
  }
  crossProblem = buildCross();
  // Loaded here too: Node unloads an addon a worker loaded when that worker
  // exits, and a box's destructor (the addon's code) may run later, on any
  // thread; an addon that hands out destructors stays loaded while they live.
  if (crossProblem === null) cross();
  // Warm the MIXED pool, as a long-running program's is: thread() bodies run
  // on pool workers, and a cold worker start (a new isolate loading the
  // binding: ~100-150 ms, several at once on a loaded 2-core machine more
  // than 500 ms) is not what the cases time (timeouts_fire_in_deadline_order
  // starts four blocking bodies against a 500 ms timeout).  Not in an
  // isolated case's process: those install executor factories first.
  if (!args.inProcess) await Promise.all(Array.from({ length: 4 }, () => xchan.thread(__filename, 'executeBody').take()));
  const results = [];
  let allOk = true;
  let stuck = false;
  const files = fs.readdirSync(args.cases).filter((f) => f.endsWith('.json')).sort();
  outer: for (const fname of files) {
    let data = JSON.parse(fs.readFileSync(path.join(args.cases, fname), 'utf8'));
    if (!Array.isArray(data)) data = data.cases || [];
    for (const c of data) {
      if (args.case && c.name !== args.case) continue;
      for (const kind of KINDS) {
        if (!(c.kinds || KINDS).includes(kind) || (args.kind && args.kind !== kind)) continue;
        let r;
        if (c.isolated && !args.inProcess) r = runIsolated(args, fname, c, kind);
        else [r, stuck] = await runCase(fname, c, kind);
        if (r.status !== 'pass') allOk = false;
        if (!args.json) printHuman(r);
        results.push(r);
        if (stuck) break outer;
      }
    }
  }
  const out = args.json ? JSON.stringify(results, null, 1) + '\n' : '';
  process.stdout.write(out, () => process.exit(stuck ? 1 : allOk ? 0 : 1));
}

// A Promise an op dropped must not end the run: it is reported on stderr.
process.on('unhandledRejection', (e) => process.stderr.write(`conformance/node: unhandled rejection: ${e && e.message}\n`));

module.exports = { spawnBody, executeBody, ...asyncBodies };
if (wt.isMainThread && require.main === module) main();
