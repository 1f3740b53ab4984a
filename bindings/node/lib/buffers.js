'use strict';
// Buffer specifications: new Chan(n), new Chan(dropping(n)), new Chan(sliding(n)).
const { makeError } = require('./errors');

const BUF = Object.freeze({ none: 0, fixed: 1, dropping: 2, sliding: 3, promise: 4 });

class BufferSpec {
  constructor(bufKind, capacity) {
    this.bufKind = bufKind;
    this.capacity = capacity;
    Object.freeze(this);
  }
}

function count(n, what) {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw makeError('EINVAL', `${what}(n): n must be an integer >= 1 (got ${String(n)})`);
  }
  return n;
}

const fixed = (n) => new BufferSpec(BUF.fixed, count(n, 'buffer'));
const dropping = (n) => new BufferSpec(BUF.dropping, count(n, 'dropping'));
const sliding = (n) => new BufferSpec(BUF.sliding, count(n, 'sliding'));
const PROMISE = new BufferSpec(BUF.promise, 0);

// The names buffer(kind, n) accepts ('none' is 'unbuffered').
const KINDS = Object.freeze({ unbuffered: BUF.none, none: BUF.none, fixed: BUF.fixed, dropping: BUF.dropping, sliding: BUF.sliding, promise: BUF.promise });

/**
 * buffer(n): a fixed buffer of n.  buffer(kind, n): a buffer by its name,
 * 'unbuffered' (or 'none'), 'fixed', 'dropping', 'sliding' or 'promise',
 * with capacity n (absent or 0 for unbuffered and promise).  An unknown kind
 * is EINVAL here; a capacity the kind does not take (unbuffered or promise
 * with n > 0, fixed with 0) is EINVAL from the core when the Chan is made,
 * as C's xchan_chan_new answers.
 */
function buffer(kind, n) {
  if (typeof kind !== 'string') return fixed(kind);
  if (!Object.prototype.hasOwnProperty.call(KINDS, kind)) {
    throw makeError('EINVAL', `buffer(kind, n): unknown buffer kind ${JSON.stringify(kind)} (one of ${Object.keys(KINDS).join(', ')})`);
  }
  if (n === undefined) n = 0;
  if (!Number.isSafeInteger(n) || n < 0) throw makeError('EINVAL', `buffer(${JSON.stringify(kind)}, n): n must be an integer >= 0 (got ${String(n)})`);
  return new BufferSpec(KINDS[kind], n);
}
const NONE = new BufferSpec(BUF.none, 0);

// undefined/0 -> unbuffered; n -> fixed(n); a BufferSpec as is.
function toSpec(buf) {
  if (buf === undefined || buf === null || buf === 0) return NONE;
  if (buf instanceof BufferSpec) return buf;
  if (typeof buf === 'number') return fixed(buf);
  throw makeError('EINVAL', 'a buffer is a number, dropping(n), sliding(n) or undefined');
}

module.exports = { BufferSpec, BUF, buffer, fixed, dropping, sliding, PROMISE, NONE, toSpec };
