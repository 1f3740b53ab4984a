'use strict';
// Chan: a channel of the xchan core, as a JS object.
const native = require('./native');
const { makeError } = require('./errors');
const { toSpec, PROMISE } = require('./buffers');

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
  if (opts === undefined || opts === null) return [undefined, undefined];
  if (typeof opts === 'number') return [opts, undefined];
  if (typeof opts !== 'object') throw makeError('EINVAL', `${what}: options are a timeout in ms or { timeout, signal }`);
  const { timeout, signal } = opts;
  if (timeout !== undefined && typeof timeout !== 'number') throw makeError('EINVAL', `${what}: timeout must be a number of ms`);
  return [timeout, signal];
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
    if (opts === undefined) {
      // Completes at once when it can, resolving without a Node-API promise.
      let r;
      try {
        r = native.tryPut(this.#h, h(v));
      } catch (e) {
        return Promise.reject(e);
      }
      return r === PENDING ? native.put(this.#h, h(v)) : Promise.resolve(r);
    }
    const [ms, signal] = timeoutOf(opts, 'put');
    if (signal === undefined) return native.put(this.#h, h(v), ms);
    return withSignal(signal, (holder) => native.put(this.#h, h(v), ms, holder));
  }

  /** Takes a value; resolves undefined once the channel is closed and drained. */
  take(opts) {
    if (opts === undefined) {
      let v;
      try {
        v = native.tryTake(this.#h);
      } catch (e) {
        return Promise.reject(e);
      }
      return v === PENDING ? native.take(this.#h) : Promise.resolve(v);
    }
    const [ms, signal] = timeoutOf(opts, 'take');
    if (signal === undefined) return native.take(this.#h, ms);
    return withSignal(signal, (holder) => native.take(this.#h, ms, holder));
  }

  /** Puts only if that can happen now; true if it did. */
  offer(v) {
    return native.offer(this.#h, h(v));
  }

  /** Takes only if a value is ready now; undefined otherwise (or closed). */
  poll() {
    return native.poll(this.#h);
  }

  close() {
    native.close(this.#h);
  }

  /** Blocking take, for worker threads (throws on the main thread). */
  takeSync(timeoutMs) {
    return native.takeSync(this.#h, timeoutMs);
  }

  /** Blocking put, for worker threads (throws on the main thread). */
  putSync(v, timeoutMs) {
    return native.putSync(this.#h, h(v), timeoutMs);
  }

  /** A snapshot: { buffer, capacity, count, closed, pendingPuts, pendingTakes, maxPending, id }. */
  info() {
    return native.info(this.#h);
  }

  get closed() {
    return native.info(this.#h).closed;
  }

  /** The native channel (an external holding an xchan_chan *) for C addons. */
  handle() {
    return native.handle(this.#h);
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
    return v instanceof Chan ? v.#h : v;
  }

  static _h(ch) {
    if (!(ch instanceof Chan)) throw makeError('EINVAL', 'expected a Chan');
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
    } else if (Array.isArray(c) && c.length === 2 && c[0] instanceof Chan) {
      if (c[1] === undefined || c[1] === null) throw makeError('ENIL', `${what}: a put clause needs a value (null and undefined cannot be put)`);
      chans[i] = c[0];
      exts[i] = Chan._h(c[0]);
      vals[i] = h(c[1]);
    } else {
      throw makeError('EINVAL', `${what}: clause ${i} is neither a Chan (take) nor [chan, value] (put)`);
    }
  }
  return [exts, vals, chans];
}

function altsOpts(opts, what) {
  if (opts === undefined) return [false, undefined, undefined, false, undefined];
  if (opts === null || typeof opts !== 'object') throw makeError('EINVAL', `${what}: options are { priority, default, timeout, signal }`);
  const hasDefault = Object.prototype.hasOwnProperty.call(opts, 'default');
  if (opts.timeout !== undefined && typeof opts.timeout !== 'number') throw makeError('EINVAL', `${what}: timeout must be a number of ms`);
  return [!!opts.priority, opts.timeout, opts.signal, hasDefault, opts.default];
}

/**
 * Completes exactly one of the clauses: a Chan to take from, or [chan, value]
 * to put.  Resolves { value, chan, index } (a put's value is true, or false if
 * its channel was closed).  { priority: true } tries clauses in order;
 * { default: d } resolves { value: d, chan: undefined, index: -1 } when none is
 * ready now; { timeout } rejects with ETIMEDOUT; { signal } aborts.
 */
function alts(clauses, opts) {
  let exts, vals, chans, prio, ms, signal, hasDefault, dflt;
  try {
    [exts, vals, chans] = clausesOf(clauses, 'alts');
    [prio, ms, signal, hasDefault, dflt] = altsOpts(opts, 'alts');
  } catch (e) {
    return Promise.reject(e);
  }
  if (hasDefault) {
    try {
      const p = native.alts(exts, vals, chans, prio, undefined, true);
      return p === undefined ? Promise.resolve({ value: dflt, chan: undefined, index: -1 }) : p;
    } catch (e) {
      return Promise.reject(e);
    }
  }
  if (signal === undefined) return native.alts(exts, vals, chans, prio, ms, false);
  return withSignal(signal, (holder) => native.alts(exts, vals, chans, prio, ms, false, holder));
}

/** Blocking alts for worker threads; same clauses and options as alts(). */
function altsSync(clauses, opts) {
  const [exts, vals, chans] = clausesOf(clauses, 'altsSync');
  const [prio, ms, , hasDefault, dflt] = altsOpts(opts, 'altsSync');
  const r = native.altsSync(exts, vals, chans, prio, ms, hasDefault);
  return r === undefined ? { value: dflt, chan: undefined, index: -1 } : r;
}

/**
 * go(asyncFn, ...args): runs asyncFn(...args) on this thread (starting after the
 * current job, as a go block) and returns a Chan that receives its result, then
 * closes.  A result of undefined/null just closes it; a thrown error makes
 * take() of it reject with ETASK (error.cause is the original).
 */
function go(fn, ...args) {
  if (typeof fn !== 'function') throw makeError('EINVAL', 'go(fn) needs a function');
  const out = new Chan(1);
  Promise.resolve()
    .then(() => fn(...args))
    .then(
      (v) => {
        if (v !== undefined && v !== null) out.offer(v);
        out.close();
      },
      (err) => {
        out.offer(taskFailure(err, fn.name || 'go'));
        out.close();
      },
    );
  return out;
}

function taskFailure(err, name) {
  const e = makeError('ETASK', `task ${name} failed: ${err && err.message ? err.message : String(err)}`);
  e.cause = err;
  return new TaskFailure(e);
}

module.exports = { Chan, promiseChan, timeout, alts, altsSync, go, TaskFailure, taskFailure, PENDING };
