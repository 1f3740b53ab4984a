'use strict';
// Every combinator of the core, through the binding.
const test = require('node:test');
const assert = require('node:assert/strict');
const x = require('..');
const { Chan, xf, sliding } = x;

async function drain(ch) {
  const out = [];
  for await (const v of ch) out.push(v);
  return out;
}
const closed = async (done) => assert.equal(await done.take(), undefined);

test('pipe copies and closes; close=false keeps the destination open', async () => {
  const from = x.toChan([1, 2, 3]);
  const to = new Chan(10);
  assert.equal(x.pipe(from, to), to); // core.async's return value
  assert.deepEqual(await drain(to), [1, 2, 3]);
  const to2 = new Chan(10);
  const { result, done } = x.pipe(x.toChan(['a']), to2, false, { done: true });
  assert.equal(result, to2);
  await closed(done);
  assert.equal(to2.closed, false);
  assert.equal(await to2.take(), 'a');
});

test('mult: every tap gets every value', async () => {
  const src = new Chan();
  const m = x.mult(src);
  const t1 = m.tap(new Chan(10));
  const t2 = x.tap(m, new Chan(10));
  for (const v of [1, 2, 3]) await src.put(v);
  src.close();
  assert.deepEqual(await drain(t1), [1, 2, 3]);
  assert.deepEqual(await drain(t2), [1, 2, 3]);
  await closed(m.done);
});

test('mult: untap', async () => {
  const src = new Chan();
  const m = x.mult(src);
  const t1 = m.tap(new Chan(10));
  const t2 = m.tap(new Chan(10));
  await src.put(1);
  // The put completes when the mult has taken the value; it reaches the taps
  // after: wait for both before untapping t2 (a deadline, not a sleep).
  for (const end = Date.now() + 5000; (t1.info().count < 1 || t2.info().count < 1) && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 1));
  }
  m.untap(t2);
  await src.put(2);
  for (const end = Date.now() + 5000; t1.info().count < 2 && Date.now() < end;) {
    await new Promise((r) => setTimeout(r, 1));
  }
  m.untapAll();
  src.close();
  await closed(m.done);
  // Untapped channels are not closed by the mult.
  assert.deepEqual([t1.poll(), t1.poll(), t1.closed], [1, 2, false]);
  assert.deepEqual([t2.poll(), t2.poll(), t2.closed], [1, undefined, false]);
});

test('mix: inputs reach the output; mute, pause, solo', async () => {
  const out = new Chan(100);
  const mx = x.mix(out);
  const a = new Chan(10);
  const b = new Chan(10);
  mx.admix(a);
  mx.admix(b);
  await a.put('a1');
  await b.put('b1');
  const got = [await out.take(), await out.take()].sort();
  assert.deepEqual(got, ['a1', 'b1']);
  mx.toggle([[b, { mute: true }]]);
  assert.deepEqual(mx.state(b), { mute: true, pause: false, solo: false });
  await b.put('b-muted');
  await a.put('a2');
  assert.equal(await out.take(), 'a2');
  mx.toggle(new Map([[b, { mute: false, solo: true }]]));
  await a.put('a-not-solo');
  await b.put('b-solo');
  assert.equal(await out.take(), 'b-solo');
  mx.unmixAll();
  assert.throws(() => mx.soloMode('loud'), x.errors.EINVAL);
  mx.soloMode('pause');
});

test('merge: all values, closes when every input has', async () => {
  const out = x.merge([x.toChan([1, 2]), x.toChan([3]), x.toChan([])]);
  assert.deepEqual((await drain(out)).sort(), [1, 2, 3]);
});

test('take(n, ch)', async () => {
  const src = x.toChan([1, 2, 3, 4]);
  assert.deepEqual(await drain(x.take(2, src)), [1, 2]);
  assert.equal(await src.take(), 3);
});

test('into collects into an array; with an initial array', async () => {
  assert.deepEqual(await x.into(x.toChan([1, 'b'])).take(), [1, 'b']);
  assert.deepEqual(await x.into([0], x.toChan([1])).take(), [0, 1]);
});

test('ontoChan and toChan', async () => {
  const ch = new Chan(10);
  await closed(x.ontoChan(ch, [1, 2]));
  assert.deepEqual(await drain(ch), [1, 2]);
  const big = x.toChan(Array.from({ length: 250 }, (_, i) => i));
  assert.equal((await drain(big)).length, 250);
});

test('map over channels (JS function)', async () => {
  const out = x.map((a, b) => a + b, [x.toChan([1, 2, 3]), x.toChan([10, 20])]);
  assert.deepEqual(await drain(out), [11, 22]);
});

test('split by a predicate', async () => {
  const [even, odd] = x.split((v) => v % 2 === 0, x.toChan([1, 2, 3, 4]), 10, 10);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await drain(even), [2, 4]);
  assert.deepEqual(await drain(odd), [1, 3]);
});

test('reduce and reduced; transduce', async () => {
  assert.equal(await x.reduce((a, v) => a + v, 0, x.toChan([1, 2, 3])).take(), 6);
  assert.equal(await x.reduce((a, v) => (v === 2 ? x.reduced(a) : a + v), 0, x.toChan([1, 2, 3])).take(), 1);
  const r = x.transduce(xf.comp(xf.map((v) => v * 2), xf.take(2)), (a, v) => a.concat([v]), [], x.toChan([1, 2, 3]));
  assert.deepEqual(await r.take(), [2, 4]);
});

test('pub/sub routes by topic', async () => {
  const src = new Chan();
  const p = x.pub(src, (v) => v.kind);
  const apples = p.sub('apple', new Chan(10));
  const pears = x.sub(p, 'pear', new Chan(10));
  for (const v of [{ kind: 'apple', n: 1 }, { kind: 'pear', n: 2 }, { kind: 'plum', n: 3 }, { kind: 'apple', n: 4 }]) await src.put(v);
  src.close();
  assert.deepEqual((await drain(apples)).map((v) => v.n), [1, 4]);
  assert.deepEqual((await drain(pears)).map((v) => v.n), [2]);
});

test('pipeline with a native transform runs on the core; order kept', async () => {
  const to = new Chan(100);
  const from = x.toChan(Array.from({ length: 20 }, (_, i) => i));
  await closed(x.pipeline(4, to, xf.partitionAll(1), from));
  assert.deepEqual(await drain(to), Array.from({ length: 20 }, (_, i) => [i]));
});

test('pipeline with a JS transform, pipelineBlocking, exHandler', async () => {
  const to = new Chan(100);
  await closed(x.pipeline(2, to, xf.mapcat((v) => [v, -v]), x.toChan([1, 2])));
  assert.deepEqual(await drain(to), [1, -1, 2, -2]);
  const to2 = new Chan(100);
  const ex = (e) => `caught ${e.message}`;
  await closed(x.pipelineBlocking(2, to2, xf.map((v) => { if (v === 2) throw new Error('2'); return v; }), x.toChan([1, 2, 3]), true, ex));
  assert.deepEqual(await drain(to2), [1, 'caught 2', 3]);
});

test('pipelineAsync keeps input order whatever the completion order', async () => {
  const to = new Chan(100);
  const af = (v, res) => {
    setTimeout(() => { res.put(v * 2).then(() => res.close()); }, (5 - v) * 5);
  };
  await closed(x.pipelineAsync(3, to, af, x.toChan([1, 2, 3, 4])));
  assert.deepEqual(await drain(to), [2, 4, 6, 8]);
});

test('combinator outputs take buffer specs', async () => {
  const out = x.merge([x.toChan([1, 2, 3])], sliding(1));
  await new Promise((r) => setTimeout(r, 20));
  const got = await drain(out);
  assert.ok(got.length >= 1 && got[got.length - 1] === 3);
});
