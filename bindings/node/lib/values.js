'use strict';
// Values JS holds without reading them: Box (a native pointer with its
// destructor, made by C code) and Tuple (an ARRAY value C can read).
const native = require('./native');
const { invalidArg } = require('./errors');

const kKey = Symbol('xchan.value');

/**
 * A BOX value from C (xchan_val_box): a native pointer with its destructor,
 * opaque to JS.  Putting a Box puts the same native value again (C gets the
 * same pointer); the destructor runs once, when the last copy, in JS or in
 * any channel, is released.  C addons make them (see tests/cross/node).
 */
class Box {
  #x;

  constructor(key, x) {
    if (key !== kKey) throw new TypeError('a Box comes from a channel (C code makes boxes)');
    this.#x = x;
  }

  static _wrap(x) {
    return new Box(kKey, x);
  }

  static _x(b) {
    return b.#x;
  }
}

/**
 * An ARRAY value (xchan_val_array) that C code can read, made with
 * tuple(items).  (A JS array put as it is stays a host object: this isolate
 * gets the very same array back, C cannot read it.)  An ARRAY taken from a
 * channel arrives as a new JS Array.
 */
class Tuple {
  #x;

  constructor(key, x) {
    if (key !== kKey) throw new TypeError('use xchan.tuple(items)');
    this.#x = x;
  }

  static _x(t) {
    return t.#x;
  }
}

/** tuple(items): an ARRAY value of items (each a value that can be put; null/undefined is EINVAL, as in the core). */
function tuple(items) {
  if (!Array.isArray(items)) throw invalidArg('tuple(items): items must be an array');
  const { Chan } = require('./chan'); // (chan.js requires this module)
  return new Tuple(kKey, native.makeArray(items.map(Chan._v)));
}

// What the addon gets for a value: a Box's or Tuple's native value, else v.
function opaqueOf(v) {
  if (v instanceof Box) return Box._x(v);
  if (v instanceof Tuple) return Tuple._x(v);
  return v;
}

module.exports = { Box, Tuple, tuple, opaqueOf };
