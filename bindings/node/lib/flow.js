'use strict';
// Combinators (core.async's flow functions).
//
// Those without JS callbacks are the core's own processes (they run on the
// core's threads): pipe, mult, mix, merge, take, into, ontoChan, toChan, and
// pipeline/pipelineBlocking when the transform is native (xf.take,
// xf.partitionAll).  Those that call JS functions (map, split, reduce,
// transduce, pub, pipelineAsync, and pipelines of JS transforms) run as async
// loops on this JS thread with the same semantics, because JS code can only
// run on its own thread.  Every one returns what core.async returns.
const native = require('./native');
const { makeError, invalidArg } = require('./errors');
const { toSpec } = require('./buffers');
const { Chan, go } = require('./chan');

const H = (ch, what) => Chan._h(ch, what);
const W = (ext) => (ext === undefined ? undefined : Chan._wrap(ext));
const spec = (buf) => (buf === undefined ? undefined : toSpec(buf));
const isFn = (f, what) => {
  if (typeof f !== 'function') throw makeError('EINVAL', `${what} needs a function`);
};
const chanArg = (ch, what) => {
  Chan._h(ch, what);
  return ch;
};
// The options object a combinator takes last: { done: true } asks for its
// done channel as well ({ result, done } instead of core.async's result).
const wantsDone = (opts, what) => {
  if (opts === undefined || opts === null) return false;
  if (typeof opts !== 'object') throw makeError('EINVAL', `${what}: options are { done: boolean }`);
  return !!opts.done;
};
const withDone = (want, result, done) => (want ? { result, done } : result);

/**
 * Copies every value of from to to; closes to when from closes (unless close
 * is false).  Returns to, as core.async; with { done: true }, { result: to,
 * done } where done closes when the copying has ended.
 */
function pipe(from, to, close = true, opts) {
  const want = wantsDone(opts, 'pipe');
  const done = W(native.pipe(H(from, 'pipe(from)'), H(to, 'pipe(to)'), close));
  return withDone(want, to, done);
}

class Mult {
  #m;
  constructor(src) {
    const [m, done] = native.mult(H(src, 'mult(src)'));
    this.#m = m;
    /** Closes when the mult's process has ended. */
    this.done = W(done);
  }
  tap(ch, close = true) {
    native.multOp(this.#m, 0, H(ch), close);
    return ch;
  }
  untap(ch) {
    native.multOp(this.#m, 1, H(ch));
  }
  untapAll() {
    native.multOp(this.#m, 2);
  }
}
/** Every value of src goes to every tap. */
const mult = (src) => new Mult(src);
const tap = (m, ch, close = true) => m.tap(ch, close);
const untap = (m, ch) => m.untap(ch);
const untapAll = (m) => m.untapAll();

const MIX = Object.freeze({ mute: 1, pause: 2, solo: 4 });
class Mix {
  #m;
  constructor(out) {
    const [m, done] = native.mix(H(out, 'mix(out)'));
    this.#m = m;
    this.done = W(done);
  }
  admix(ch) {
    native.mixOp(this.#m, 0, H(ch));
  }
  unmix(ch) {
    native.mixOp(this.#m, 1, H(ch));
  }
  unmixAll() {
    native.mixOp(this.#m, 2);
  }
  /** 'mute' (default) or 'pause': what happens to non-solo inputs. */
  soloMode(mode) {
    if (mode !== 'mute' && mode !== 'pause') throw makeError('EINVAL', "soloMode is 'mute' or 'pause'");
    native.mixOp(this.#m, 3, mode === 'mute' ? 0 : 1);
  }
  /** toggle(new Map([[ch, { mute, pause, solo }]])) or an array of [ch, state] pairs. */
  toggle(stateMap) {
    const entries = [];
    for (const [ch, st] of stateMap) {
      let mask = 0;
      let flags = 0;
      for (const k of Object.keys(st)) {
        if (!(k in MIX)) throw makeError('EINVAL', `mix toggle: unknown attribute ${k}`);
        mask |= MIX[k];
        if (st[k]) flags |= MIX[k];
      }
      entries.push([H(ch, 'mix toggle: each channel'), mask, flags]);
    }
    native.mixOp(this.#m, 5, entries);
  }
  /** The attributes of input ch: { mute, pause, solo }. */
  state(ch) {
    const f = native.mixOp(this.#m, 4, H(ch));
    return { mute: !!(f & 1), pause: !!(f & 2), solo: !!(f & 4) };
  }
}
const mix = (out) => new Mix(out);

/**
 * One channel with every value of chans; closes when all have closed.  With
 * { done: true }: { result, done }, done closing when the merge has ended.
 */
function merge(chans, buf, opts) {
  const want = wantsDone(opts, 'merge');
  if (!Array.isArray(chans)) throw invalidArg('merge(chans): chans must be an array of Chans');
  const [out, done] = native.merge(chans.map((c, i) => H(c, `merge: chans[${i}]`)), spec(buf));
  return withDone(want, W(out), W(done));
}

/** A channel with at most n values of ch. */
function take(n, ch, buf) {
  const [out] = native.takeN(H(ch, 'take(n, ch)'), n, spec(buf));
  return W(out);
}

/** A channel that receives one array: init's items then every value of ch. */
function into(init, ch) {
  if (ch === undefined && init instanceof Chan) [init, ch] = [[], init];
  return W(native.into(H(ch, 'into(init, ch)'), init));
}

/** Puts the values on ch, then closes it (unless close is false). Returns a done Chan. */
function ontoChan(ch, values, close = true) {
  const h = H(chanArg(ch, 'ontoChan'));
  const vals = Array.from(values);
  // The core runs a channel's transform step on the thread that adds the
  // value; a JS transform can only run here, so the puts are made from this
  // thread (an async loop) instead of the core's process, which would lose
  // them.
  if (!native.isJsXform(h)) return W(native.ontoChan(h, vals, close));
  if (vals.some((v) => v === undefined || v === null)) throw makeError('EINVAL', 'ontoChan: a value is null or undefined');
  const done = new Chan();
  (async () => {
    for (const v of vals) if (!(await ch.put(v))) break;
    if (close) ch.close();
    done.close();
  })().catch((e) => failed(done, e));
  return done;
}

/** A channel holding the values, then closed. */
function toChan(values) {
  return W(native.toChan(Array.from(values)));
}

/** map(f, chans, buf): f applied to one value of each input at a time. */
function map(f, chans, buf) {
  isFn(f, 'map');
  const out = new Chan(buf);
  // With no inputs there is nothing to zip: out is closed at once (ASYNC-238).
  if (chans.length === 0) {
    out.close();
    return out;
  }
  (async () => {
    for (;;) {
      const vals = await Promise.all(chans.map((c) => c.take()));
      if (vals.some((v) => v === undefined)) break;
      const r = f(...vals);
      if (r !== undefined && r !== null && !(await out.put(r))) break;
    }
    out.close();
  })().catch((e) => failed(out, e));
  return out;
}

function failed(out, err) {
  out.close();
  process.emitWarning(`xchan combinator failed: ${err && err.stack ? err.stack : err}`, { type: 'XchanWarning' });
}

/**
 * split(pred, ch, tBuf, fBuf) -> [trueChan, falseChan].  Both close when ch
 * closes or when a put to either fails (the core's split does the same).
 * With { done: true } (a 5th argument): { result: [t, f], done }, done
 * closing when the split's loop has ended.
 */
function split(pred, ch, tBuf, fBuf, opts) {
  const want = wantsDone(opts, 'split');
  isFn(pred, 'split');
  chanArg(ch, 'split(pred, ch)');
  const t = new Chan(tBuf);
  const f = new Chan(fBuf);
  const done = new Chan();
  (async () => {
    for await (const v of ch) {
      if (!(await (pred(v) ? t : f).put(v))) break;
    }
    t.close();
    f.close();
    done.close();
  })().catch((e) => {
    f.close();
    done.close();
    failed(t, e);
  });
  return withDone(want, [t, f], done);
}

/** Marks a reduction as finished early (core.async's reduced). */
class Reduced {
  constructor(value) {
    this.value = value;
  }
}
const reduced = (v) => new Reduced(v);

/** reduce(f, init, ch): a Chan receiving the final accumulator. */
function reduce(f, init, ch) {
  isFn(f, 'reduce');
  chanArg(ch, 'reduce');
  return go(async () => {
    let acc = init;
    for (;;) {
      const v = await ch.take();
      if (v === undefined) return acc;
      acc = f(acc, v);
      if (acc instanceof Reduced) return acc.value;
    }
  });
}

/** transduce(xform, f, init, ch): reduce over ch's values passed through xform. */
function transduce(xform, f, init, ch) {
  isFn(f, 'transduce');
  chanArg(ch, 'transduce');
  // The transform runs where core.async runs it: in a channel's buffer.
  const staged = new Chan(1, { xform });
  (async () => {
    for (;;) {
      const v = await ch.take();
      if (v === undefined || !(await staged.put(v))) break;
    }
    staged.close();
  })();
  return reduce(f, init, staged);
}

/** pub(ch, topicFn, bufFn?): routes each value to the subscribers of its topic. */
class Pub {
  #topics = new Map(); // topic -> { ch, mult }
  #topicFn;
  #bufFn;
  #closed = false;
  constructor(src, topicFn, bufFn) {
    isFn(topicFn, 'pub');
    chanArg(src, 'pub');
    this.#topicFn = topicFn;
    this.#bufFn = bufFn;
    this.done = go(async () => {
      for (;;) {
        const v = await src.take();
        if (v === undefined) break;
        const t = this.#topics.get(this.#topicFn(v));
        if (t !== undefined && !(await t.ch.put(v)) && this.#topics.get(t.topic) === t) this.#topics.delete(t.topic);
      }
      this.#closed = true;
      for (const t of this.#topics.values()) t.ch.close();
    });
  }
  #topic(topic) {
    let t = this.#topics.get(topic);
    if (t === undefined) {
      const ch = new Chan(this.#bufFn ? this.#bufFn(topic) : undefined);
      t = { topic, ch, mult: new Mult(ch) };
      this.#topics.set(topic, t);
      if (this.#closed) ch.close();
    }
    return t;
  }
  sub(topic, ch, close = true) {
    this.#topic(topic).mult.tap(ch, close);
    return ch;
  }
  unsub(topic, ch) {
    const t = this.#topics.get(topic);
    if (t) t.mult.untap(ch);
  }
  unsubAll(topic) {
    if (arguments.length === 0) {
      for (const t of this.#topics.values()) Pub.#drop(t);
      this.#topics.clear();
      return;
    }
    const t = this.#topics.get(topic);
    if (t) {
      Pub.#drop(t);
      this.#topics.delete(topic);
    }
  }
  // Forgets a topic: its subscribers are untapped first, so that closing the
  // topic's channel does not close them (core.async's unsub-all leaves the
  // subscribed channels open).
  static #drop(t) {
    t.mult.untapAll();
    t.ch.close();
  }
}
const pub = (src, topicFn, bufFn) => new Pub(src, topicFn, bufFn);
const sub = (p, topic, ch, close = true) => p.sub(topic, ch, close);
const unsub = (p, topic, ch) => p.unsub(topic, ch);
const unsubAll = (p, ...topic) => p.unsubAll(...topic);

// Runs one element through a fresh instance of the transform: a channel
// with a buffer of 1 accepts the offer at once (an expanding step may
// overfill it), close runs the completion, and poll drains the outputs.
function runXform(xform, v, exHandler) {
  const ch = new Chan(1, { xform, onError: exHandler });
  ch.offer(v);
  ch.close();
  const outs = [];
  for (let x = ch.poll(); x !== undefined; x = ch.poll()) outs.push(x);
  return outs;
}

/**
 * pipeline(n, to, xform, from, close = true, exHandler): each value of from
 * through its own instance of xform, outputs to `to` in order.
 */
function pipeline(n, to, xform, from, close = true, exHandler, blocking = false) {
  if (!Number.isSafeInteger(n) || n < 1) throw makeError('EINVAL', 'pipeline: n must be an integer >= 1');
  if (native.isNativeXform(xform) && exHandler === undefined) {
    return W(native.pipeline(n, H(to), xform, H(from), close, blocking));
  }
  return go(async () => {
    for (;;) {
      const v = await from.take();
      if (v === undefined) break;
      for (const x of runXform(xform, v, exHandler)) {
        if (!(await to.put(x))) break;
      }
    }
    if (close) to.close();
  });
}
const pipelineBlocking = (n, to, xform, from, close = true, exHandler) =>
  pipeline(n, to, xform, from, close, exHandler, true);

/**
 * pipelineAsync(n, to, af, from, close = true): af(v, resultChan) starts the
 * work for v and must put its results on resultChan, then close it; results
 * go to `to` in input order, with at most n elements in flight.
 */
function pipelineAsync(n, to, af, from, close = true) {
  if (!Number.isSafeInteger(n) || n < 1) throw makeError('EINVAL', 'pipelineAsync: n must be an integer >= 1');
  isFn(af, 'pipelineAsync');
  const jobs = new Chan(n);
  go(async () => {
    for (;;) {
      const v = await from.take();
      if (v === undefined) break;
      const res = new Chan(1);
      await jobs.put(res);
      af(v, res);
    }
    jobs.close();
  });
  return go(async () => {
    for await (const res of jobs) {
      for await (const x of res) await to.put(x);
    }
    if (close) to.close();
  });
}

module.exports = {
  pipe, mult, tap, untap, untapAll, Mult, mix, Mix, merge, take, into, ontoChan, toChan,
  map, split, reduce, reduced, transduce, pub, sub, unsub, unsubAll, Pub, pipeline,
  pipelineBlocking, pipelineAsync,
};
