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
const NONE = new BufferSpec(BUF.none, 0);

// undefined/0 -> unbuffered; n -> fixed(n); a BufferSpec as is.
function toSpec(buf) {
  if (buf === undefined || buf === null || buf === 0) return NONE;
  if (buf instanceof BufferSpec) return buf;
  if (typeof buf === 'number') return fixed(buf);
  throw makeError('EINVAL', 'a buffer is a number, dropping(n), sliding(n) or undefined');
}

module.exports = { BufferSpec, BUF, fixed, dropping, sliding, PROMISE, NONE, toSpec };
