'use strict';
// Channel semantics through the Promise API and the synchronous try-ops.
const test = require('node:test');
const assert = require('node:assert/strict');
const x = require('..');
const { Chan, promiseChan, dropping, sliding, errors, XchanError } = x;

const turn = () => new Promise((r) => setImmediate(r));

test('unbuffered: a put waits for a taker (rendezvous)', async () => {
  const ch = new Chan();
  let delivered = false;
  const p = ch.put(1).then((ok) => { delivered = ok; });
  await turn();
  assert.equal(delivered, false);
  assert.equal(await ch.take(), 1);
  await p;
  assert.equal(delivered, true);
});

test('fixed buffer: puts complete until full, FIFO', async () => {
  const ch = new Chan(2);
  assert.equal(await ch.put('a'), true);
  assert.equal(await ch.put('b'), true);
  assert.equal(ch.offer('c'), false);
  assert.equal(await ch.take(), 'a');
  assert.equal(await ch.take(), 'b');
  assert.equal(ch.poll(), undefined);
});

test('dropping and sliding buffers', async () => {
  const d = new Chan(dropping(2));
  for (const v of [1, 2, 3, 4]) assert.equal(await d.put(v), true);
  assert.deepEqual([d.poll(), d.poll(), d.poll()], [1, 2, undefined]);
  const s = new Chan(sliding(2));
  for (const v of [1, 2, 3, 4]) assert.equal(await s.put(v), true);
  assert.deepEqual([s.poll(), s.poll(), s.poll()], [3, 4, undefined]);
});

test('promise channel: first value to every taker, later puts dropped', async () => {
  const p = promiseChan();
  const takers = [p.take(), p.take()];
  assert.equal(await p.put(1), true);
  assert.equal(await p.put(2), true);
  assert.deepEqual(await Promise.all(takers), [1, 1]);
  assert.equal(await p.take(), 1);
  p.close();
  assert.equal(await p.take(), 1);
});

test('close: buffered values drain, then undefined; puts answer false', async () => {
  const ch = new Chan(3);
  await ch.put(1);
  await ch.put(2);
  ch.close();
  ch.close(); // idempotent
  assert.equal(await ch.put(3), false);
  assert.equal(ch.offer(3), false);
  assert.equal(await ch.take(), 1);
  assert.equal(ch.poll(), 2);
  assert.equal(await ch.take(), undefined);
  assert.equal(ch.closed, true);
});

test('close completes pending takers with undefined and keeps pending puts takeable', async () => {
  const a = new Chan();
  const t = a.take();
  a.close();
  assert.equal(await t, undefined);
  const b = new Chan();
  const p = b.put('kept');
  await turn();
  b.close();
  assert.equal(await b.take(), 'kept');
  assert.equal(await p, true);
  assert.equal(await b.take(), undefined);
});

test('null and undefined cannot be put (ENIL)', async () => {
  const ch = new Chan(1);
  await assert.rejects(ch.put(null), errors.ENIL);
  await assert.rejects(ch.put(undefined), (e) => e instanceof XchanError && e.code === 'ENIL');
  assert.throws(() => ch.offer(undefined), errors.ENIL);
  assert.equal(ch.info().count, 0);
});

test('values: numbers, bigints, strings, booleans, Buffers, objects', async () => {
  const ch = new Chan(32);
  const obj = { a: [1, 2] };
  const buf = Buffer.from('bytes');
  const u8 = new Uint8Array([1, 2, 3]);
  const fn = () => 1;
  const sym = Symbol('s');
  const vals = [0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53), 0.5, NaN, Infinity, 2 ** 60, 12n, 2n ** 62n,
    2n ** 80n, 'text', '', 'ünïcødé ✓', true, false, buf, u8, obj, fn, sym, [1, 'a']];
  for (const v of vals) assert.equal(ch.offer(v), true, String(v));
  const got = vals.map(() => ch.poll());
  assert.equal(got[0], 0);
  assert.ok(Object.is(got[1], -0));
  assert.equal(got[4], 2 ** 53 - 1);
  assert.ok(Number.isNaN(got[7]));
  assert.equal(got[9], 2 ** 60);
  assert.equal(got[10], 12); // an int64 comes back as a number when it fits 53 bits
  assert.equal(got[11], 2n ** 62n); // and as a bigint beyond
  assert.equal(got[12], 2n ** 80n); // wider than int64: the same bigint (host value)
  assert.deepEqual(got.slice(13, 18), ['text', '', 'ünïcødé ✓', true, false]);
  assert.deepEqual(Buffer.from(got[18]), buf);
  assert.deepEqual([...got[19]], [1, 2, 3]);
  assert.equal(got[20], obj, 'the very same object');
  assert.equal(got[21], fn);
  assert.equal(got[22], sym);
  assert.equal(got[23], vals[23]);
});

test('a Chan travels through a Chan as the same native channel', async () => {
  const outer = new Chan(1);
  const inner = new Chan(1);
  await outer.put(inner);
  const got = await outer.take();
  assert.equal(got, inner, 'the very same Chan object in the same isolate');
  await got.put(5);
  assert.equal(await inner.take(), 5);
});

test('a value already there costs no event-loop turn', async () => {
  const ch = new Chan(1);
  ch.offer(1);
  let immediate = false;
  setImmediate(() => { immediate = true; });
  assert.equal(await ch.take(), 1);
  assert.equal(await ch.put(2), true);
  assert.equal(immediate, false, 'resolved before any event-loop turn');
});

test('an op completed by this thread settles without an event-loop turn', async () => {
  const ch = new Chan();
  let immediate = false;
  setImmediate(() => { immediate = true; });
  const t = ch.take(); // pending
  assert.equal(ch.offer('v'), true); // completes it on this thread
  assert.equal(await t, 'v');
  const p = ch.put('w'); // pending
  assert.equal(ch.poll(), 'w');
  assert.equal(await p, true);
  assert.equal(immediate, false, 'no event-loop turn was needed');
});

test('take and put with a timeout reject ETIMEDOUT; nothing is transferred', async () => {
  const ch = new Chan();
  const t0 = Date.now();
  await assert.rejects(ch.take(30), errors.ETIMEDOUT);
  assert.ok(Date.now() - t0 >= 25);
  await assert.rejects(ch.put('x', { timeout: 10 }), errors.ETIMEDOUT);
  assert.equal(ch.info().pendingPuts, 0);
  assert.equal(ch.poll(), undefined);
  const b = new Chan(1);
  b.offer('ready');
  assert.equal(await b.take(0), 'ready');
});

test('an aborted take never swallows a value', async () => {
  for (let i = 0; i < 200; i++) {
    const ch = new Chan(1);
    const ac = new AbortController();
    const p = ch.take({ signal: ac.signal });
    if (i % 2) ch.offer(i); // completes the pending take before the abort
    ac.abort();
    const r = await p.then((v) => ({ v }), (e) => ({ e }));
    if (r.e) {
      assert.equal(r.e.code, 'ECANCELED');
      if (i % 2) assert.fail('the value was offered to the take');
      assert.equal(ch.poll(), undefined);
    } else {
      assert.equal(r.v, i);
    }
  }
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(new Chan().take({ signal: ac.signal }), errors.ECANCELED);
});

test('an aborted put hands its value back (not delivered)', async () => {
  const ch = new Chan();
  const ac = new AbortController();
  const p = ch.put({ big: true }, { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, errors.ECANCELED);
  assert.equal(ch.info().pendingPuts, 0);
  assert.equal(ch.poll(), undefined);
});

test('for await drains until close', async () => {
  const ch = new Chan(10);
  for (let i = 0; i < 5; i++) await ch.put(i);
  ch.close();
  const got = [];
  for await (const v of ch) got.push(v);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

test('maxPending: one more pending op than allowed is ELIMIT', async () => {
  const ch = new Chan(0, { maxPending: 2 });
  const a = ch.take();
  const b = ch.take();
  await assert.rejects(ch.take(), errors.ELIMIT);
  ch.close();
  assert.deepEqual(await Promise.all([a, b]), [undefined, undefined]);
});

test('bad arguments give XchanErrors naming the problem', () => {
  assert.throws(() => new Chan(-1), (e) => e.code === 'EINVAL' && /integer/.test(e.message));
  assert.throws(() => new Chan(1.5), errors.EINVAL);
  assert.throws(() => new Chan('x'), errors.EINVAL);
  assert.throws(() => dropping(0), errors.EINVAL);
  assert.throws(() => new Chan(0, { xform: x.xf.map((v) => v) }), (e) => e.code === 'EINVAL' && /buffer/.test(e.message));
  assert.throws(() => Chan.from({}), errors.EINVAL);
  assert.throws(() => x.timeout('soon'), errors.EINVAL);
});

test('errors: one class per core error name, all XchanErrors with .code', () => {
  for (const [code, cls] of Object.entries(errors)) {
    const e = new cls();
    assert.ok(e instanceof XchanError && e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(typeof e.message, 'string');
  }
  assert.ok(Object.keys(errors).length >= 20);
});

test('timeout(ms) closes after ms, never before', async () => {
  const t0 = performance.now();
  const t = x.timeout(40);
  assert.equal(await t.take(), undefined);
  assert.ok(performance.now() - t0 >= 39);
});

test('takeSync/putSync/altsSync throw on the main thread, saying why', () => {
  const ch = new Chan(1);
  assert.throws(() => ch.takeSync(), (e) => e.code === 'ESTATE' && /main thread/.test(e.message));
  assert.throws(() => ch.putSync(1), errors.ESTATE);
  assert.throws(() => x.altsSync([ch]), errors.ESTATE);
  assert.equal(ch.info().count, 0);
});

test('go runs an async function and delivers its result; a throw closes it and reaches the task error hook', async () => {
  const r = x.go(async (a, b) => a + b, 2, 3);
  assert.equal(await r.take(), 5);
  assert.equal(await r.take(), undefined);
  const n = x.go(async () => undefined);
  assert.equal(await n.take(), undefined);
  const failed = [];
  x.setTaskErrorHook((name, e) => failed.push([name, e.message]));
  try {
    const f = x.go(async function boom() { throw new Error('boom'); });
    assert.equal(await f.take(), undefined);
    const g = x.go({ name: 'named' }, async () => { throw new RangeError('bad'); });
    assert.equal(await g.take(), undefined);
    assert.deepEqual(failed, [['boom', 'boom'], ['named', 'bad']]);
  } finally {
    x.setTaskErrorHook(null);
  }
});

test('many producers and consumers: every value exactly once', async () => {
  const ch = new Chan(4);
  const N = 2000;
  const producers = Array.from({ length: 4 }, (_, p) => (async () => {
    for (let i = p; i < N; i += 4) assert.equal(await ch.put(i), true);
  })());
  const seen = new Set();
  const consumers = Array.from({ length: 3 }, () => (async () => {
    for await (const v of ch) {
      assert.ok(!seen.has(v));
      seen.add(v);
    }
  })());
  await Promise.all(producers);
  ch.close();
  await Promise.all(consumers);
  assert.equal(seen.size, N);
});
