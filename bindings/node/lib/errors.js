'use strict';
// XchanError and one subclass per error name of the core (generated from the
// core's own list at load, so a new core error gets a class without edits).
const native = require('./native');

class XchanError extends Error {
  constructor(message, options) {
    super(message, options);
    if (this.code === undefined) this.code = 'EUNKNOWN';
  }
}
Object.defineProperty(XchanError.prototype, 'name', { value: 'XchanError', writable: true, configurable: true });

const names = native.errorNames();
const messages = native.errorMessages();
const errors = Object.create(null);
const codes = Object.create(null);
names.forEach((code, num) => {
  if (code === 'OK') return;
  const cls = {
    [code]: class extends XchanError {
      constructor(message, options) {
        super(message === undefined ? messages[num] : message, options);
        this.code = code;
        this.errno = num;
      }
    },
  }[code];
  Object.defineProperty(cls.prototype, 'name', { value: `XchanError[${code}]`, writable: true, configurable: true });
  errors[code] = cls;
  codes[code] = num;
});
Object.freeze(errors);

function makeError(code, message) {
  const cls = errors[code] || XchanError;
  const e = new cls(message);
  if (!errors[code]) e.code = code;
  return e;
}

// What an argument is, for messages: "null", "undefined", "a number", "Foo".
function describe(x) {
  if (x === null) return 'null';
  if (typeof x === 'object' || typeof x === 'function') return (x.constructor && x.constructor.name) || 'an object';
  return typeof x === 'undefined' ? 'undefined' : `a ${typeof x}`;
}

/**
 * An argument of the wrong type (a null or non-Chan channel, a clause that is
 * neither a Chan nor [chan, value]): Node's idiom, a TypeError, whose .code
 * is the core's 'EINVAL' (as Node's own errors carry a code).
 */
function invalidArg(message) {
  const e = new TypeError(message);
  e.code = 'EINVAL';
  e.errno = codes.EINVAL;
  return e;
}

/** "<what> must be a Chan, got <x>" as invalidArg. */
const notChan = (what, x) => invalidArg(`${what} must be a Chan, got ${describe(x)}`);

module.exports = { XchanError, errors, codes: Object.freeze(codes), makeError, invalidArg, notChan, describe };
