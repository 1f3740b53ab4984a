'use strict';
// Combinators (core.async's flow functions).
//
// Every one is the core's own process (it runs on the core's threads) and
// returns what core.async returns.  Those that call JS functions (map, split,
// reduce, transduce, pub, pipelines of JS transforms) call them on the thread
// that made the combinator: each call is queued to this thread, which runs it
// from its event loop, or from inside a blocking op (takeSync, putSync,
// altsSync) when it is blocked in one (src/jscall.c) — so a worker blocked on
// the result of its own reduce still feeds it (pipelineAsync's af too; what
// af then does in promises of a blocked thread waits for it to unblock).
const native = require('./native');
const { makeError, invalidArg } = require('./errors');
const { toSpec } = require('./buffers');
const { Chan } = require('./chan');

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
  return W(native.ontoChan(H(chanArg(ch, 'ontoChan')), Array.from(values), close));
}

/** A channel holding the values, then closed. */
function toChan(values) {
  return W(native.toChan(Array.from(values)));
}

/**
 * map(f, chans, buf): f applied to one value of each input at a time; a
 * result of undefined/null puts nothing that round.  Closes as soon as any
 * input closes (at once with no inputs: ASYNC-238).  A throwing f ends the
 * map (its output closes) with a process warning.
 */
function map(f, chans, buf) {
  isFn(f, 'map');
  if (!Array.isArray(chans)) throw makeError('EINVAL', 'map(f, chans): chans is an array of Chans');
  let out;
  const guarded = (...vals) => {
    try {
      return f(...vals);
    } catch (e) {
      failed(out, e);
      return undefined;
    }
  };
  const [o] = native.mapJs(guarded, chans.map((c, i) => H(c, `map: chans[${i}]`)), spec(buf));
  out = W(o);
  return out;
}

function failed(out, err) {
  if (out !== undefined) out.close();
  process.emitWarning(`xchan combinator failed: ${err && err.stack ? err.stack : err}`, { type: 'XchanWarning' });
}

/**
 * split(pred, ch, tBuf, fBuf) -> [trueChan, falseChan].  Both close when ch
 * closes or when a put to either fails (the core's split does the same).
 * With { done: true } (a 5th argument): { result: [t, f], done }, done
 * closing when the split's loop has ended.  A throwing pred closes both,
 * with a process warning.
 */
function split(pred, ch, tBuf, fBuf, opts) {
  const want = wantsDone(opts, 'split');
  isFn(pred, 'split');
  chanArg(ch, 'split(pred, ch)');
  let t;
  let f;
  const guarded = (v) => {
    try {
      return pred(v);
    } catch (e) {
      f.close();
      failed(t, e);
      return false;
    }
  };
  const [th, fh, dh] = native.splitJs(guarded, H(ch), spec(tBuf), spec(fBuf));
  t = W(th);
  f = W(fh);
  return withDone(want, [t, f], W(dh));
}

/** Marks a reduction as finished early (core.async's reduced). */
class Reduced {
  constructor(value) {
    this.value = value;
  }
}
const reduced = (v) => new Reduced(v);

/**
 * reduce(f, init, ch): a Chan receiving the final accumulator once ch closes
 * (or f returns reduced(v)), then closed; an undefined/null accumulator just
 * closes it, and so does a throwing f (the core's task error hook reports it).
 */
function reduce(f, init, ch) {
  isFn(f, 'reduce');
  chanArg(ch, 'reduce');
  return W(native.reduceJs(f, init, H(ch), Reduced));
}

/** transduce(xform, f, init, ch): reduce over ch's values passed through xform (its completion runs at the end). */
function transduce(xform, f, init, ch) {
  isFn(f, 'transduce');
  chanArg(ch, 'transduce');
  if (xform === null || typeof xform !== 'object') throw makeError('EINVAL', 'transduce(xform, ...): xform is an xf transform');
  return W(native.reduceJs(f, init, H(ch), Reduced, xform));
}

/** pub(ch, topicFn, bufFn?): routes each value to the subscribers of its topic. */
class Pub {
  #p;
  constructor(src, topicFn, bufFn) {
    isFn(topicFn, 'pub');
    chanArg(src, 'pub');
    if (bufFn !== undefined && bufFn !== null) isFn(bufFn, 'pub (bufFn)');
    const guarded = (v) => {
      try {
        return topicFn(v);
      } catch (e) {
        failed(undefined, e);
        return undefined;
      }
    };
    const buffers = bufFn ? (topic) => spec(bufFn(topic)) : undefined;
    const [p, done] = native.pubJs(H(src), guarded, buffers);
    this.#p = p;
    /** Closes when the pub's process has ended. */
    this.done = W(done);
  }
  sub(topic, ch, close = true) {
    native.pubOp(this.#p, 0, topic, H(chanArg(ch, 'sub')), close);
    return ch;
  }
  unsub(topic, ch) {
    native.pubOp(this.#p, 1, topic, H(chanArg(ch, 'unsub')));
  }
  /**
   * unsubAll(): every topic; unsubAll(topic): that topic's subscriptions.
   * The subscribers stay open (core.async's unsub-all).
   */
  unsubAll(...topic) {
    if (topic.length === 0) native.pubOp(this.#p, 3);
    else native.pubOp(this.#p, 2, topic[0]);
  }
}
const pub = (src, topicFn, bufFn) => new Pub(src, topicFn, bufFn);
const sub = (p, topic, ch, close = true) => p.sub(topic, ch, close);
const unsub = (p, topic, ch) => p.unsub(topic, ch);
const unsubAll = (p, ...topic) => p.unsubAll(...topic);

/**
 * pipeline(n, to, xform, from, close = true, exHandler): each value of from
 * through its own instance of xform, outputs to `to` in order, at most n in
 * flight; exHandler(err) replaces a failing element by its non-nil result.
 */
function pipeline(n, to, xform, from, close = true, exHandler, blocking = false) {
  if (!Number.isSafeInteger(n) || n < 1) throw makeError('EINVAL', 'pipeline: n must be an integer >= 1');
  if (native.isNativeXform(xform) && exHandler === undefined) {
    return W(native.pipeline(n, H(to), xform, H(from), close, blocking));
  }
  return W(native.pipelineJs(n, H(to), xform, H(from), close, blocking, exHandler));
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
  return W(native.pipelineAsyncJs(n, H(to, 'pipelineAsync(to)'), af, H(from, 'pipelineAsync(from)'), close));
}

module.exports = {
  pipe, mult, tap, untap, untapAll, Mult, mix, Mix, merge, take, into, ontoChan, toChan,
  map, split, reduce, reduced, transduce, pub, sub, unsub, unsubAll, Pub, pipeline,
  pipelineBlocking, pipelineAsync,
};
