'use strict';
// Chan: a channel of the xchan core, as a JS object.
const native = require('./native');
const { AsyncLocalStorage } = require('node:async_hooks');
const { makeError, invalidArg, notChan, codes } = require('./errors');
const { toSpec, PROMISE } = require('./buffers');
const { opaqueOf } = require('./values');
const { CancelToken, withToken } = require('./cancel');

const kWrap = Symbol('xchan.wrap');

// One Chan object per native channel in this isolate, so that a Chan put on a
// channel and taken here is the very same object.  Weak: a Chan nobody holds
// is collected (its native reference dropped) as usual.
const live = new Map(); // channel id -> WeakRef<Chan>
const forget = new FinalizationRegistry((id) => {
  const w = live.get(id);
  if (w !== undefined && w.deref() === undefined) live.delete(id);
});

// What native.tryPut/tryTake return when the operation would have to wait.
const PENDING = Object.freeze({ xchan: 'pending' });

// A task's failure travelling as a value: take() of it rejects with its error.
class TaskFailure {
  constructor(error) {
    this.error = error;
  }
}

function timeoutOf(opts, what) {
  if (opts === undefined || opts === null) return [undefined, undefined, undefined];
  if (typeof opts === 'number') return [opts, undefined, undefined];
  if (typeof opts !== 'object') throw makeError('EINVAL', `${what}: options are a timeout in ms or { timeout, signal, cancel }`);
  const { timeout, signal, cancel } = opts;
  if (timeout !== undefined && typeof timeout !== 'number') throw makeError('EINVAL', `${what}: timeout must be a number of ms`);
  if (cancel !== undefined) CancelToken._x(cancel, what);
  return [timeout, signal, cancel];
}

// Starts a Promise op (start(holder)) with an AbortSignal and/or a
// CancelToken: a fired token rejects at once with ECANCELED (nothing
// started); otherwise firing it cancels the op like an abort.
function withCancel(signal, cancel, start) {
  if (cancel === undefined) return signal === undefined ? start(undefined) : withSignal(signal, start);
  if (cancel.fired) return Promise.reject(makeError('ECANCELED', 'the cancel token has fired (nothing was transferred)'));
  const run = (holder) => {
    const p = start(holder);
    if (holder.op !== undefined) native.cancelWatch(CancelToken._x(cancel, 'cancel'), holder.op);
    return p;
  };
  return signal === undefined ? run({}) : withSignal(signal, run);
}

// Runs `start(holder)` (a native op) and, with an AbortSignal, cancels the
// op when the signal aborts: either nothing was transferred (the promise
// rejects with ECANCELED) or the op had completed (the promise keeps its result).
function withSignal(signal, start) {
  if (signal.aborted) {
    return Promise.reject(makeError('ECANCELED', 'the operation was aborted before it started'));
  }
  const holder = {};
  const p = start(holder);
  if (holder.op !== undefined) {
    const op = holder.op;
    const onAbort = () => native.cancelOp(op);
    signal.addEventListener('abort', onAbort, { once: true });
    const off = () => signal.removeEventListener('abort', onAbort);
    p.then(off, off);
  }
  return p;
}

class Chan {
  #h;

  // The native handle of `self`, the receiver of Chan.prototype[method]; a
  // null or non-Chan receiver (Chan.prototype.take.call(null)) is a
  // TypeError with code EINVAL, as the core answers a NULL channel.
  static #of(self, method) {
    if (self === null || typeof self !== 'object' || !(#h in self)) throw notChan(`the channel (this of Chan.prototype.${method})`, self);
    return self.#h;
  }

  /**
   * new Chan()               unbuffered
   * new Chan(n)              fixed buffer of n
   * new Chan(dropping(n))    drops new values when full
   * new Chan(sliding(n))     drops the oldest value when full
   * new Chan(n, { xform, onError, maxPending })
   */
  constructor(buf, opts) {
    if (buf === kWrap) {
      this.#h = opts;
    } else {
      const spec = toSpec(buf);
      let xform, onError, maxPending;
      if (opts !== undefined && opts !== null) {
        if (typeof opts !== 'object') throw makeError('EINVAL', 'new Chan(buf, { xform, onError, maxPending })');
        ({ xform, onError, maxPending } = opts);
      }
      this.#h = native.newChan(spec.bufKind, spec.capacity, xform, onError, maxPending);
    }
    // An own enumerable field, so that a Chan copied to a worker (workerData,
    // postMessage) arrives as { $xchan } that Chan.from() adopts there.
    this.$xchan = native.token(this.#h);
    const id = native.chanId(this.#h);
    live.set(id, new WeakRef(this));
    forget.register(this, id);
  }

  /** Puts v; resolves true when delivered, false if the channel is closed. */
  put(v, opts) {
    let hd, ms, signal, cancel;
    try {
      hd = Chan.#of(this, 'put');
      if (opts === undefined) {
        // Completes at once when it can, resolving without a Node-API promise.
        const r = native.tryPut(hd, h(v));
        return r === PENDING ? native.put(hd, h(v)) : Promise.resolve(r);
      }
      [ms, signal, cancel] = timeoutOf(opts, 'put');
    } catch (e) {
      return Promise.reject(e);
    }
    return withCancel(signal, cancel, (holder) => native.put(hd, h(v), ms, holder));
  }

  /** Takes a value; resolves undefined once the channel is closed and drained. */
  take(opts) {
    let hd, ms, signal, cancel;
    try {
      hd = Chan.#of(this, 'take');
      if (opts === undefined) {
        const v = native.tryTake(hd);
        return v === PENDING ? native.take(hd) : Promise.resolve(v);
      }
      [ms, signal, cancel] = timeoutOf(opts, 'take');
    } catch (e) {
      return Promise.reject(e);
    }
    return withCancel(signal, cancel, (holder) => native.take(hd, ms, holder));
  }

  /**
   * The low-level put (xchan_put_async), for code that runs its own
   * completion loop: putAsync(v, callback) or putAsync(v, { callback,
   * notify, dispatch, handle }).  See Op and README "Op handles".  Returns
   * an Op, or undefined (callback mode: the put completed during the call,
   * and the callback has already run; or { handle: false }).
   */
  putAsync(v, opts) {
    const hd = Chan.#of(this, 'putAsync');
    return startLow(opts, 'putAsync', (mode, fn, dispatch, want) => native.putAsync(hd, h(v), mode, fn, dispatch, want));
  }

  /** The low-level take (xchan_take_async); as putAsync. */
  takeAsync(opts) {
    const hd = Chan.#of(this, 'takeAsync');
    return startLow(opts, 'takeAsync', (mode, fn, dispatch, want) => native.takeAsync(hd, mode, fn, dispatch, want));
  }

  /** Puts only if that can happen now; true if it did. */
  offer(v) {
    return native.offer(Chan.#of(this, 'offer'), h(v));
  }

  /** Takes only if a value is ready now; undefined otherwise (or closed). */
  poll() {
    return native.poll(Chan.#of(this, 'poll'));
  }

  close() {
    native.close(Chan.#of(this, 'close'));
  }

  /**
   * Blocking take, for worker threads (throws on the main thread):
   * takeSync(timeoutMs?) or takeSync({ timeout, cancel }) with a CancelToken.
   */
  takeSync(opts) {
    const hd = Chan.#of(this, 'takeSync');
    const [ms, , cancel] = timeoutOf(opts, 'takeSync');
    return withToken(cancel, 'takeSync', () => native.takeSync(hd, ms));
  }

  /** Blocking put, for worker threads: putSync(v, timeoutMs?) or putSync(v, { timeout, cancel }). */
  putSync(v, opts) {
    const hd = Chan.#of(this, 'putSync');
    const [ms, , cancel] = timeoutOf(opts, 'putSync');
    return withToken(cancel, 'putSync', () => native.putSync(hd, h(v), ms));
  }

  /** A snapshot: { buffer, capacity, count, closed, pendingPuts, pendingTakes, maxPending, id }. */
  info() {
    return native.info(Chan.#of(this, 'info'));
  }

  get closed() {
    return native.info(Chan.#of(this, 'closed')).closed;
  }

  /** The native channel (an external holding an xchan_chan *) for C addons. */
  handle() {
    return native.handle(Chan.#of(this, 'handle'));
  }

  [Symbol.asyncIterator]() {
    const ch = this;
    return {
      next() {
        return ch.take().then((value) => (value === undefined ? { done: true, value } : { done: false, value }));
      },
      return() {
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Blocking iteration for worker threads: for (const v of ch.sync()) ... */
  * sync() {
    for (;;) {
      const v = this.takeSync();
      if (v === undefined) return;
      yield v;
    }
  }

  /** The same native channel from a Chan, or from a Chan copied to this thread. */
  static from(x) {
    if (x instanceof Chan) return x;
    const token = typeof x === 'string' ? x : x && typeof x === 'object' ? x.$xchan : undefined;
    if (typeof token !== 'string') {
      throw makeError('EINVAL', 'Chan.from() needs a Chan, or a Chan copied to this thread (workerData, postMessage)');
    }
    return Chan._wrap(native.adopt(token));
  }

  /** A Chan for a native channel handed out by a C addon (an external of xchan_chan *). */
  static fromHandle(ext) {
    return Chan._wrap(native.fromHandle(ext));
  }

  // The Chan of this isolate for a native channel (an external with its own
  // reference, dropped when it is collected if the Chan already exists).
  static _wrap(ext) {
    const known = live.get(native.chanId(ext));
    const ch = known === undefined ? undefined : known.deref();
    return ch !== undefined ? ch : new Chan(kWrap, ext);
  }

  // A value for the addon: a Chan travels as its native handle.
  static _v(v) {
    return v instanceof Chan ? v.#h : opaqueOf(v);
  }

  // The native handle of channel argument `what` (TypeError EINVAL otherwise).
  static _h(ch, what = 'the channel') {
    if (ch === null || typeof ch !== 'object' || !(#h in ch)) throw notChan(what, ch);
    return ch.#h;
  }
}

const h = Chan._v;

/** A promise channel: the first value put is kept and given to every taker. */
function promiseChan(opts) {
  return new Chan(PROMISE, opts);
}

/** A channel that closes after ms milliseconds. */
function timeout(ms) {
  return new Chan(kWrap, native.timeout(ms));
}

function clausesOf(clauses, what) {
  if (!Array.isArray(clauses) || clauses.length === 0) {
    throw makeError('EINVAL', `${what} needs a non-empty array of clauses: a Chan (take) or [chan, value] (put)`);
  }
  const exts = new Array(clauses.length);
  const vals = new Array(clauses.length);
  const chans = new Array(clauses.length);
  for (let i = 0; i < clauses.length; i++) {
    const c = clauses[i];
    if (c instanceof Chan) {
      chans[i] = c;
      exts[i] = Chan._h(c);
      vals[i] = undefined;
    } else if (Array.isArray(c) && c.length === 2) {
      exts[i] = Chan._h(c[0], `${what}: the channel of put clause ${i}`);
      if (c[1] === undefined || c[1] === null) throw makeError('ENIL', `${what}: a put clause needs a value (null and undefined cannot be put)`);
      chans[i] = c[0];
      vals[i] = h(c[1]);
    } else if (c === null || c === undefined) {
      throw notChan(`${what}: clause ${i}`, c);
    } else {
      throw invalidArg(`${what}: clause ${i} is neither a Chan (take) nor [chan, value] (put)`);
    }
  }
  return [exts, vals, chans];
}

function altsOpts(opts, what) {
  if (opts === undefined) return [false, undefined, undefined, false, undefined, undefined];
  if (opts === null || typeof opts !== 'object') throw makeError('EINVAL', `${what}: options are { priority, default, timeout, signal, cancel }`);
  const hasDefault = Object.prototype.hasOwnProperty.call(opts, 'default');
  if (opts.timeout !== undefined && typeof opts.timeout !== 'number') throw makeError('EINVAL', `${what}: timeout must be a number of ms`);
  if (opts.cancel !== undefined) CancelToken._x(opts.cancel, what);
  return [!!opts.priority, opts.timeout, opts.signal, hasDefault, opts.default, opts.cancel];
}

/**
 * Completes exactly one of the clauses: a Chan to take from, or [chan, value]
 * to put.  Resolves { value, chan, index } (a put's value is true, or false if
 * its channel was closed).  { priority: true } tries clauses in order;
 * { default: d } resolves { value: d, chan: undefined, index: -1 } when none is
 * ready now; { timeout } rejects with ETIMEDOUT; { signal } aborts.
 */
function alts(clauses, opts) {
  let exts, vals, chans, prio, ms, signal, hasDefault, dflt, cancel;
  try {
    [exts, vals, chans] = clausesOf(clauses, 'alts');
    [prio, ms, signal, hasDefault, dflt, cancel] = altsOpts(opts, 'alts');
  } catch (e) {
    return Promise.reject(e);
  }
  if (cancel !== undefined && cancel.fired) return Promise.reject(makeError('ECANCELED', 'alts: the cancel token has fired (nothing was transferred)'));
  if (hasDefault) {
    try {
      const p = native.alts(exts, vals, chans, prio, undefined, true);
      return p === undefined ? Promise.resolve({ value: dflt, chan: undefined, index: -1 }) : p;
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return withCancel(signal, cancel, (holder) => native.alts(exts, vals, chans, prio, ms, false, holder));
}

/**
 * The low-level alts (xchan_alts_async): altsAsync(clauses, callback) or
 * altsAsync(clauses, { callback, notify, dispatch, handle, priority,
 * timeout, default }); as Chan.prototype.putAsync.  The result's index is
 * the clause that completed (-1: none, e.g. ETIMEDOUT, or EAGAIN when a
 * `default` key is given and no clause was ready: XCHAN_DEADLINE_POLL); a
 * put clause's value is undefined.
 */
function altsAsync(clauses, opts) {
  const [exts, vals, chans] = clausesOf(clauses, 'altsAsync');
  const o = opts !== null && typeof opts === 'object' ? opts : {};
  if (o.timeout !== undefined && typeof o.timeout !== 'number') throw makeError('EINVAL', 'altsAsync: timeout must be a number of ms');
  const poll = Object.prototype.hasOwnProperty.call(o, 'default');
  return startLow(opts, 'altsAsync', (mode, fn, dispatch, want) => native.altsAsync(exts, vals, chans, !!o.priority, o.timeout, mode, fn, dispatch, want, poll));
}

// ---- the low-level API: op handles ----

const MODE_CALLBACK = 1;
const MODE_NOTIFY = 2;

// A callback or notifier runs outside any go task (inGo() is false in it),
// as the core never runs one on a go task's stack.
const outsideGo = (fn) => (fn === undefined ? undefined : (...a) => goContext.run(undefined, fn, ...a));

// (fn | { callback, notify, dispatch, handle }) -> [mode, fn, dispatch, wantHandle]
function lowOpts(opts, what) {
  if (typeof opts === 'function') return [MODE_CALLBACK, outsideGo(opts), false, true];
  if (opts === undefined || opts === null) return [MODE_NOTIFY, undefined, false, true];
  if (typeof opts !== 'object') throw invalidArg(`${what}: the last argument is a callback or { callback, notify, dispatch, handle }`);
  const { callback, notify, dispatch = false, handle = true } = opts;
  if (callback !== undefined && typeof callback !== 'function') throw invalidArg(`${what}: callback must be a function`);
  if (notify !== undefined && typeof notify !== 'function') throw invalidArg(`${what}: notify must be a function`);
  if (callback !== undefined && notify !== undefined) throw makeError('EINVAL', `${what}: give a callback (callback mode) or a notifier (notify mode), not both`);
  if (callback === undefined && !handle) throw makeError('EINVAL', `${what}: a notify-mode op needs its handle (collect() is how its result is read)`);
  if (callback === undefined && dispatch) throw makeError('EINVAL', `${what}: dispatch places a callback; notify mode has none`);
  return callback !== undefined
    ? [MODE_CALLBACK, outsideGo(callback), !!dispatch, !!handle]
    : [MODE_NOTIFY, outsideGo(notify), false, true];
}

// Starts a low-level op.  With dispatch, the core hands the result over on
// its dispatch executor; the callback then never runs inside the start call,
// even when the dispatch thread is quicker than the call's return.
function startLow(opts, what, start) {
  const [mode, fn, dispatch, want] = lowOpts(opts, what);
  let inCall = true;
  const cb = dispatch ? (r) => (inCall ? setImmediate(fn, r) : fn(r)) : fn;
  try {
    return Op._wrap(start(mode, cb, dispatch, want));
  } finally {
    inCall = false;
  }
}

const kOp = Symbol('xchan.op');

/**
 * A pending asynchronous operation of the low-level API (putAsync,
 * takeAsync, altsAsync), mirroring the core's xchan_op.  A result is
 * { code, index, value }: code is the core's name ('OK', 'ECLOSED',
 * 'ECANCELED', 'ETIMEDOUT', 'ESHUTDOWN', ...), value the value taken or a
 * put's value handed back (undefined otherwise), index the alts clause (-1
 * none).  In callback mode the callback gets it on this thread; in notify
 * mode the optional notifier is called on this thread once the op has
 * completed and collect() returns it.
 */
class Op {
  #x;

  constructor(key, x) {
    if (key !== kOp) throw new TypeError('Op handles come from putAsync, takeAsync and altsAsync');
    this.#x = x;
  }

  static _wrap(x) {
    return x === undefined ? undefined : new Op(kOp, x);
  }

  static #of(self, method) {
    if (self === null || typeof self !== 'object' || !(#x in self)) {
      throw invalidArg(`the op (this of Op.prototype.${method}) must be an Op, got ${self === null ? 'null' : typeof self}`);
    }
    return self.#x;
  }

  /** 'pending' | 'completed' (not yet delivered) | 'delivered' | 'canceled' */
  get state() {
    return native.opState(Op.#of(this, 'state'));
  }

  /** Notify mode: the completed result; throws EAGAIN (not completed yet), EDONE (already collected), EINVAL (a callback-mode op). */
  collect() {
    return native.opCollect(Op.#of(this, 'collect'));
  }

  /** true: the cancel won (the callback gets ECANCELED; nothing was transferred); false: it had completed. */
  cancel() {
    return native.opCancel(Op.#of(this, 'cancel'));
  }

  /**
   * Cancel-or-collect: the result now, { code: 'ECANCELED', value: <a put's
   * value> } when the cancel won, or the completed result not yet
   * delivered; the callback/notifier then does not run.  Throws EDONE when
   * the result was already delivered.
   */
  cancelEx() {
    return native.opCancelEx(Op.#of(this, 'cancelEx'));
  }
}

/** Blocking alts for worker threads; same clauses and options as alts(). */
function altsSync(clauses, opts) {
  const [exts, vals, chans] = clausesOf(clauses, 'altsSync');
  const [prio, ms, , hasDefault, dflt, cancel] = altsOpts(opts, 'altsSync');
  const r = withToken(cancel, 'altsSync', () => native.altsSync(exts, vals, chans, prio, ms, hasDefault));
  return r === undefined ? { value: dflt, chan: undefined, index: -1 } : r;
}

// ---- tasks: go, the task error hook, inGo ----

// The go body running now (its name), across its awaits.
const goContext = new AsyncLocalStorage();
let taskErrorHook = null;
let goCount = 0;
let shutDown = false;

/**
 * setTaskErrorHook(fn): fn(name, error) is called when a go/thread/ioThread
 * body fails (throws or rejects), on the thread that started the task, after
 * the task's result channel has closed without a value (the core's rule).
 * null restores the default: a process warning (code 'ETASK').  A hook that
 * throws is reported as a warning too.
 */
function setTaskErrorHook(fn) {
  if (fn !== null && typeof fn !== 'function') throw invalidArg('setTaskErrorHook(fn): fn must be a function or null');
  taskErrorHook = fn;
}

function reportTaskError(name, err) {
  const warn = (what, e) =>
    process.emitWarning(`xchan: ${what}: ${e && e.stack ? e.stack : String(e)}`, { type: 'XchanWarning', code: 'ETASK' });
  if (taskErrorHook === null) return warn(`task ${name} failed`, err);
  try {
    taskErrorHook(name, err);
  } catch (e) {
    warn(`the task error hook threw (task ${name})`, e);
  }
}

/** true inside the body of a go(asyncFn) task (also after its awaits). */
function inGo() {
  return goContext.getStore() !== undefined;
}

function checkNotShutDown(what) {
  if (shutDown) throw makeError('ESHUTDOWN', `${what}: xchan is shut down`);
}

/**
 * go(asyncFn, ...args), or go({ name }, asyncFn, ...args): runs asyncFn(...args)
 * on this thread (starting after the current job, as a go block) and returns
 * a Chan that receives its result, then closes.  A result of
 * undefined/null just closes it.  A body that throws closes the Chan without
 * a value and its error goes to the task error hook (setTaskErrorHook) with
 * the task's name (default: the function's name, or "go-N").
 */
function go(fn, ...args) {
  let name;
  if (fn !== null && typeof fn === 'object' && !(fn instanceof URL)) {
    ({ name } = fn);
    if (name !== undefined && typeof name !== 'string') throw invalidArg('go({ name }, fn): name must be a string');
    fn = args.shift();
  }
  // go(file, exportName, ...args): a go task on the DISPATCH executor (lib/pool.js).
  if (typeof fn === 'string' || fn instanceof URL) return require('./pool').goFile(name, fn, ...args);
  if (typeof fn !== 'function') throw invalidArg('go(fn) needs a function');
  checkNotShutDown('go');
  goCount++;
  if (name === undefined) name = fn.name || `go-${goCount}`;
  const out = new Chan(1);
  goContext.run(name, () =>
    Promise.resolve()
      .then(() => fn(...args))
      .then(
        (v) => {
          if (v !== undefined && v !== null) out.offer(v);
          out.close();
        },
        (err) => {
          out.close();
          reportTaskError(name, err);
        },
      ),
  );
  return out;
}

/** Runs fn() as the body of the go task `name` (inGo() is true in it): pool workers' go jobs. */
function runAsGo(name, fn) {
  return goContext.run(name, fn);
}

// What the binding does at shutdown() (lib/pool.js closes its pools), and
// just before xchan_shutdown (lib/pool.js lets go of the core's threads its
// jobs hold).
const onShutdown = [];
const beforeShutdown = [];

/**
 * shutdown(): xchan_shutdown.  Pending timers fire (timeout channels close),
 * every async operation still pending completes with ESHUTDOWN (a put's
 * value handed back), the worker pools of thread/ioThread stop, and starting
 * new tasks or timeouts afterwards throws ESHUTDOWN.  Channels stay usable.
 * Calling it again does nothing.  Inside a go body it throws ESTATE (a task
 * cannot shut down what runs it, as the core answers from its own threads).
 */
function shutdown() {
  if (inGo()) throw makeError('ESTATE', 'shutdown() cannot be called inside a go task');
  if (!shutDown) for (const f of beforeShutdown) f();
  const rc = native.shutdown();
  if (rc !== 0) throw makeError(Object.keys(codes).find((k) => codes[k] === rc) || 'EUNKNOWN', 'xchan_shutdown failed');
  if (!shutDown) {
    shutDown = true;
    for (const f of onShutdown) f();
  }
}

module.exports = {
  Chan, promiseChan, timeout, alts, altsSync, altsAsync, Op, go, TaskFailure, PENDING,
  setTaskErrorHook, reportTaskError, inGo, shutdown, onShutdown, beforeShutdown, checkNotShutDown, runAsGo,
};
