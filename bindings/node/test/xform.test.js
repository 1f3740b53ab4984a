'use strict';
// Channel transforms (transducers) with JS steps and the core's own.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Chan, xf } = require('..');

async function drain(ch) {
  const out = [];
  for await (const v of ch) out.push(v);
  return out;
}

test('map and filter run on puts', async () => {
  const ch = new Chan(10, { xform: xf.comp(xf.filter((v) => v % 2 === 0), xf.map((v) => v * 10)) });
  for (let i = 0; i < 6; i++) await ch.put(i);
  ch.close();
  assert.deepEqual(await drain(ch), [0, 20, 40]);
});

test('take closes the channel after n; pending puts complete', async () => {
  const ch = new Chan(1, { xform: xf.take(2) });
  assert.equal(await ch.put('a'), true);
  const p = ch.put('b');
  assert.equal(await ch.take(), 'a');
  assert.equal(await p, true);
  assert.equal(await ch.take(), 'b');
  assert.equal(await ch.take(), undefined);
  assert.equal(await ch.put('c'), false);
});

test('partitionAll flushes its last batch at close', async () => {
  const ch = new Chan(10, { xform: xf.partitionAll(3) });
  for (let i = 1; i <= 7; i++) await ch.put(i);
  ch.close();
  assert.deepEqual(await drain(ch), [[1, 2, 3], [4, 5, 6], [7]]);
});

test('mapcat expands (overfilling the buffer); dedupe, drop, takeWhile, keep', async () => {
  const a = new Chan(1, { xform: xf.mapcat((v) => [v, v]) });
  assert.equal(a.offer(1), true);
  assert.equal(a.info().count, 2);
  a.close();
  assert.deepEqual(await drain(a), [1, 1]);
  const b = new Chan(10, { xform: xf.comp(xf.dedupe(), xf.drop(1), xf.takeWhile((v) => v < 4), xf.keep((v) => (v === 2 ? null : v))) });
  for (const v of [1, 1, 2, 2, 3, 3, 4, 5]) await b.put(v);
  assert.deepEqual(await drain(b), [3]);
});

test('partitionBy groups runs and flushes at close', async () => {
  const ch = new Chan(10, { xform: xf.partitionBy((v) => v > 0) });
  for (const v of [1, 2, -1, -2, 3]) await ch.put(v);
  ch.close();
  assert.deepEqual(await drain(ch), [[1, 2], [-1, -2], [3]]);
});

test('a step that throws goes to onError; its result replaces the value', async () => {
  const seen = [];
  const ch = new Chan(10, {
    xform: xf.map((v) => { if (v === 2) throw new Error('two'); return v; }),
    onError: (e) => { seen.push(e.message); return 'replaced'; },
  });
  for (const v of [1, 2, 3]) await ch.put(v);
  ch.close();
  assert.deepEqual(await drain(ch), [1, 'replaced', 3]);
  assert.deepEqual(seen, ['two']);
});

test('without onError a failing step emits a process warning and drops the value', async () => {
  const warned = new Promise((resolve) => process.once('warning', resolve));
  const ch = new Chan(10, { xform: xf.map(() => { throw new Error('bad step'); }) });
  assert.equal(await ch.put(1), true);
  const w = await warned;
  assert.match(w.message, /bad step/);
  assert.equal(ch.poll(), undefined);
});

test('map returning undefined fails the step (nil cannot enter a channel)', async () => {
  const errs = [];
  const ch = new Chan(10, { xform: xf.map(() => undefined), onError: (e) => { errs.push(e); } });
  await ch.put(1);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'ENIL');
});

test('custom transforms: state per channel, early stop, completion', async () => {
  const sumsTo = (limit) => xf.custom(() => {
    let sum = 0;
    return {
      step(v, push) {
        sum += v;
        if (sum >= limit) { push(sum); return true; }
        return false;
      },
      complete(push) { if (sum < limit) push(-sum); },
    };
  });
  const a = new Chan(4, { xform: sumsTo(5) });
  const b = new Chan(4, { xform: sumsTo(100) });
  for (const v of [2, 2, 2]) { await a.put(v); await b.put(v); }
  assert.equal(a.closed, true, 'returning true stops the channel');
  b.close();
  assert.deepEqual(await drain(a), [6]);
  assert.deepEqual(await drain(b), [-6]);
});

test('the same object passes through a JS transform', async () => {
  const o = { k: 1 };
  const ch = new Chan(1, { xform: xf.filter(() => true) });
  await ch.put(o);
  assert.equal(await ch.take(), o);
});

test('bad transforms are rejected', () => {
  assert.throws(() => xf.map(1), /function/);
  assert.throws(() => xf.take(-1));
  assert.throws(() => new Chan(1, { xform: { type: 'nope' } }), (e) => e.code === 'EINVAL');
  assert.throws(() => new Chan(1, { xform: xf.custom(() => 5) }), (e) => e.code === 'EINVAL');
});
