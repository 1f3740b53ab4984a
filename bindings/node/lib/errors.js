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

module.exports = { XchanError, errors, codes: Object.freeze(codes), makeError };
