'use strict';
// CancelToken: the core's cancel token (xchan_cancel), for every thread.
const native = require('./native');
const { makeError, invalidArg } = require('./errors');

const kAdopt = Symbol('xchan.cancel.adopt');

/**
 * A token that stops the operations made with it: put/take/alts (Promise
 * and blocking forms) given { cancel: token }.  fire() makes every
 * operation waiting with it, and every later one until reset(), end with
 * ECANCELED, nothing transferred (a Promise op that had already completed
 * keeps its result).  Any thread may fire it: copy it to a worker
 * (workerData, postMessage) and adopt it there with CancelToken.from().
 */
class CancelToken {
  #x;

  constructor(key, x) {
    this.#x = key === kAdopt ? x : native.cancelNew();
    // An own enumerable field, so that a copy to a worker can be adopted.
    this.$xchanCancel = native.cancelId(this.#x);
  }

  /** Fires the token (idempotent), on any thread. */
  fire() {
    native.cancelFire(CancelToken._x(this, 'fire'));
  }

  /** Unfires it, for reuse; operations already stopped stay stopped. */
  reset() {
    native.cancelReset(CancelToken._x(this, 'reset'));
  }

  get fired() {
    return native.cancelFired(CancelToken._x(this, 'fired'));
  }

  /** The same token from a CancelToken copied to this thread. */
  static from(x) {
    if (x instanceof CancelToken) return x;
    const id = x !== null && typeof x === 'object' ? x.$xchanCancel : x;
    if (typeof id !== 'string') throw invalidArg('CancelToken.from() needs a CancelToken, or one copied to this thread');
    return new CancelToken(kAdopt, native.cancelAdopt(id));
  }

  static _x(t, what) {
    if (t === null || typeof t !== 'object' || !(#x in t)) throw invalidArg(`${what}: the cancel option must be a CancelToken`);
    return t.#x;
  }
}

// Runs a blocking op of this thread with token t (undefined: without one).
function withToken(t, what, run) {
  if (t === undefined) return run();
  const x = CancelToken._x(t, what);
  native.cancelEnter(x); // ECANCELED if it has fired
  let fired = false;
  try {
    return run();
  } catch (e) {
    fired = native.cancelFired(x);
    if (fired && e && e.code === 'ECANCELED') throw makeError('ECANCELED', `${what}: the cancel token fired (nothing was transferred)`);
    throw e;
  } finally {
    native.cancelLeave(x);
  }
}

module.exports = { CancelToken, withToken };
