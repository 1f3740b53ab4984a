'use strict';
// Transducers for channels: new Chan(n, { xform: xf.comp(xf.map(f), xf.take(3)) }).
//
// take and partitionAll are the core's C transforms (they run on any thread).
// The others call JS functions: they run on the JS thread that created the
// channel (see README, "Transforms and threads").  custom(make) is the general
// form: make() returns { step(v, push) -> stop?, complete?(push) }, where
// push(v) emits v and returns true once downstream has stopped.
const { makeError } = require('./errors');

function fn(f, name) {
  if (typeof f !== 'function') throw makeError('EINVAL', `xf.${name} needs a function`);
  return f;
}
function num(n, name) {
  if (!Number.isSafeInteger(n) || n < 0) throw makeError('EINVAL', `xf.${name}(n): n must be an integer >= 0`);
  return n;
}

const map = (f) => ({ type: 'map', fn: fn(f, 'map') });
const filter = (p) => ({ type: 'filter', fn: fn(p, 'filter') });
const remove = (p) => { fn(p, 'remove'); return filter((v) => !p(v)); };
const take = (n) => {
  // The core's take transform: n == 0 is EINVAL there, so it is here too.
  if (num(n, 'take') === 0) throw makeError('EINVAL', 'xf.take(n): n must be >= 1');
  return { type: 'take', n };
};
const partitionAll = (n) => {
  if (num(n, 'partitionAll') === 0) throw makeError('EINVAL', 'xf.partitionAll(n): n must be >= 1');
  return { type: 'partitionAll', n };
};
const custom = (make) => ({ type: 'custom', fn: fn(make, 'custom') });

const mapcat = (f) => {
  fn(f, 'mapcat');
  return custom(() => ({
    step(v, push) {
      for (const x of f(v)) if (push(x)) return true;
      return false;
    },
  }));
};
const drop = (n) => {
  num(n, 'drop');
  return custom(() => {
    let left = n;
    return { step: (v, push) => (left > 0 ? (left--, false) : push(v)) };
  });
};
const takeWhile = (p) => {
  fn(p, 'takeWhile');
  return custom(() => ({ step: (v, push) => (p(v) ? push(v) : true) }));
};
const dropWhile = (p) => {
  fn(p, 'dropWhile');
  return custom(() => {
    let dropping = true;
    return {
      step(v, push) {
        if (dropping && p(v)) return false;
        dropping = false;
        return push(v);
      },
    };
  });
};
const keep = (f) => {
  fn(f, 'keep');
  return custom(() => ({
    step(v, push) {
      const r = f(v);
      return r === undefined || r === null ? false : push(r);
    },
  }));
};
const dedupe = () => custom(() => {
  let prev = Symbol('none');
  return {
    step(v, push) {
      if (Object.is(v, prev)) return false;
      prev = v;
      return push(v);
    },
  };
});
const partitionBy = (f) => {
  fn(f, 'partitionBy');
  return custom(() => {
    let batch = [];
    let key = Symbol('none');
    return {
      step(v, push) {
        const k = f(v);
        if (batch.length > 0 && !Object.is(k, key)) {
          const out = batch;
          batch = [];
          key = k;
          batch.push(v);
          return push(out);
        }
        key = k;
        batch.push(v);
        return false;
      },
      complete(push) {
        if (batch.length > 0) push(batch);
        batch = [];
      },
    };
  });
};
const comp = (...items) => {
  if (items.length === 0) throw makeError('EINVAL', 'xf.comp() needs at least one transform');
  for (const it of items) {
    if (!it || typeof it.type !== 'string') throw makeError('EINVAL', 'xf.comp() takes transforms made by xf.*');
  }
  return items.length === 1 ? items[0] : { type: 'comp', items };
};

module.exports = {
  map, filter, remove, take, partitionAll, mapcat, drop, takeWhile, dropWhile, keep, dedupe,
  partitionBy, comp, custom,
};
