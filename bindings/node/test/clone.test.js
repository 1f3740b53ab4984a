'use strict';
// JS objects crossing isolates through channels arrive as structured clones
// (src/clone.c): the putting isolate serializes, the taking one deserializes.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Chan, errors, tuple, promiseChan, xf } = require('..');
const { worker, exited, message, until } = require('./helpers');

test('an object put in a worker is taken on the main thread as an equal copy (take and poll)', async () => {
  const ch = new Chan(4);
  const done = new Chan(1);
  const w = worker(`
    const ch = Chan.from(data.ch), done = Chan.from(data.done);
    const a = { n: 1, nested: { list: [1, 'two', { three: 3n }] } };
    ch.putSync(a);
    ch.putSync({ n: 2 });
    ch.putSync({ n: 3 });
    done.takeSync(); // stays alive (and answering) until the main thread took all
    parentPort.postMessage(JSON.stringify({ n: a.n, nested: a.nested.list[1] }));
  `, { ch, done });
  const first = await ch.take();
  assert.deepEqual(first, { n: 1, nested: { list: [1, 'two', { three: 3n }] } });
  first.n = 99; // the copy is ours: the worker's object is untouched
  await until(() => ch.info().count === 2, 5000, 'the other puts');
  assert.deepEqual(ch.poll(), { n: 2 });
  assert.deepEqual(ch.poll(), { n: 3 });
  const reply = message(w);
  await done.put(true);
  assert.deepEqual(JSON.parse(await reply), { n: 1, nested: 'two' });
  assert.equal(await exited(w), 0);
});

test('an object put on the main thread is taken in a worker as an equal copy (sync and async takes)', async () => {
  const ch = new Chan(4);
  const out = new Chan(4);
  const mine = { k: 'v', arr: [1, 2] };
  ch.offer(mine);
  ch.offer({ second: true });
  const w = worker(`
    const ch = Chan.from(data.ch), out = Chan.from(data.out);
    (async () => {
      const a = ch.takeSync();
      const b = await ch.take();
      a.arr.push(3);
      out.putSync(JSON.stringify([a, b]));
    })();
  `, { ch, out });
  assert.deepEqual(JSON.parse(await out.take()), [{ k: 'v', arr: [1, 2, 3] }, { second: true }]);
  assert.deepEqual(mine, { k: 'v', arr: [1, 2] });
  assert.equal(await exited(w), 0);
});

test('Maps, Sets, Dates, RegExps, typed arrays and objects inside tuples clone', async () => {
  const ch = new Chan(4);
  const hold = new Chan(1);
  const w = worker(`
    const ch = Chan.from(data.ch), hold = Chan.from(data.hold);
    ch.putSync({
      map: new Map([['a', { deep: [1] }]]),
      set: new Set([1, 2]),
      date: new Date(86400000),
      re: /x+/g,
      f64: new Float64Array([0.5]),
      big: 2n ** 80n,
    });
    ch.putSync(2n ** 100n); // a bigint wider than int64 is an object too
    ch.putSync(xchan.tuple([1, { inside: 'tuple' }]));
    hold.takeSync();
  `, { ch, hold });
  const v = await ch.take();
  assert.ok(v.map instanceof Map);
  assert.deepEqual(v.map.get('a'), { deep: [1] });
  assert.deepEqual([...v.set], [1, 2]);
  assert.ok(v.date instanceof Date);
  assert.equal(v.date.getTime(), 86400000);
  assert.ok(v.re instanceof RegExp);
  assert.equal(v.re.source, 'x+');
  assert.ok(v.f64 instanceof Float64Array);
  assert.equal(v.f64[0], 0.5);
  assert.equal(v.big, 2n ** 80n);
  assert.equal(await ch.take(), 2n ** 100n);
  assert.deepEqual(await ch.take(), [1, { inside: 'tuple' }]);
  await hold.put(true);
  assert.equal(await exited(w), 0);
});

test('every take makes a new copy; the putting isolate still gets its very object', async () => {
  const p = promiseChan();
  const back = new Chan(1);
  const w = worker(`
    const p = Chan.from(data.p), back = Chan.from(data.back);
    const obj = { shared: 1 };
    p.putSync(obj);
    back.putSync(p.takeSync() === obj);
    back.putSync('done');
    back.putSync('end');
  `, { p, back });
  const a = await p.take();
  const b = p.poll();
  assert.deepEqual(a, { shared: 1 });
  assert.deepEqual(b, { shared: 1 });
  assert.notEqual(a, b);
  assert.equal(await back.take(), true);
  assert.equal(await back.take(), 'done');
  assert.equal(await back.take(), 'end');
  assert.equal(await exited(w), 0);
});

test('a value that cannot be cloned (a function) gives ERUNTIME saying why, with error.value kept', async () => {
  const ch = new Chan(4);
  const back = new Chan(2);
  const w = worker(`
    const ch = Chan.from(data.ch), back = Chan.from(data.back);
    const fn = () => 42;
    ch.putSync(fn);
    ch.putSync({ inner: Symbol('s') });
    ch.putSync(xchan.tuple([1, { ok: true }, () => 0]));
    const got = back.takeSync();
    parentPort.postMessage(got === fn && got() === 42);
  `, { ch, back });
  const err = await ch.take().then(() => null, (e) => e);
  assert.ok(err instanceof errors.ERUNTIME, 'a function is not cloneable');
  assert.match(err.message, /cannot be cloned \(.*could not be cloned/);
  await until(() => ch.info().count === 2, 5000, 'the other puts');
  assert.throws(() => ch.poll(), (e) => e instanceof errors.ERUNTIME && /could not be cloned/.test(e.message));
  // An array with such an item: the error names the item; the array is kept.
  assert.throws(() => ch.poll(), (e) => e instanceof errors.ERUNTIME &&
    /^item 2 of this array cannot be read: .*could not be cloned.*the whole array is kept in error\.value$/s.test(e.message));
  // Nothing is lost: the held value goes back to its isolate intact.
  const reply = message(w);
  assert.equal(await back.put(err.value), true);
  assert.equal(await reply, true);
  await exited(w);
});

test('an owner blocked in takeSync (or putSync) still answers the clone', async () => {
  const ch = new Chan(1);
  const gate = new Chan();
  const w = worker(`
    const ch = Chan.from(data.ch), gate = Chan.from(data.gate);
    ch.putSync({ from: 'blocked' });
    parentPort.postMessage('blocking');
    gate.takeSync();                 // blocked here while the main thread takes
    ch.putSync({ from: 'putSync' });
    ch.putSync({ from: 'last' });    // and here: the channel is full
    gate.takeSync();                 // alive until its last object was taken
  `, { ch, gate });
  assert.equal(await message(w), 'blocking');
  await until(() => gate.info().pendingTakes === 1, 5000, 'the worker to block in takeSync');
  assert.deepEqual(await ch.take(), { from: 'blocked' });
  assert.equal(await gate.put('go'), true);
  await until(() => ch.info().pendingPuts === 1, 5000, 'the worker to block in putSync');
  assert.deepEqual(ch.poll(), { from: 'putSync' });
  assert.deepEqual(await ch.take(), { from: 'last' });
  assert.equal(await gate.put('end'), true);
  assert.equal(await exited(w), 0);
});

test('two workers taking each other\'s objects at the same moment both get their copies', async () => {
  const chans = [new Chan(1), new Chan(1)];
  const release = new Chan();
  const body = `
    const mine = Chan.from(data.mine), theirs = Chan.from(data.theirs);
    mine.putSync({ from: data.name });
    parentPort.postMessage(theirs.takeSync().from);
    Chan.from(data.release).takeSync(); // alive until both took (closed: null)
  `;
  const a = worker(body, { mine: chans[0], theirs: chans[1], name: 'a', release });
  const b = worker(body, { mine: chans[1], theirs: chans[0], name: 'b', release });
  const [fromB, fromA] = await Promise.all([message(a), message(b)]);
  assert.deepEqual([fromB, fromA], ['b', 'a']);
  release.close();
  assert.deepEqual(await Promise.all([exited(a), exited(b)]), [0, 0]);
});

test('an owner busy in JS delays the clone, and still answers as its loop ends', async () => {
  // The worker puts, then runs JS for a while and ends with nothing left to
  // do: the clone the main thread asks meanwhile waits for that JS, and is
  // answered before the worker's environment goes (its loop does not wake
  // for it: 'beforeExit' serves it).
  const ch = new Chan(1);
  const asked = new Int32Array(new SharedArrayBuffer(4));
  const w = worker(`
    Chan.from(data.ch).putSync({ late: [1, 2] });
    // Busy until the main thread is about to take, and 100 ms more.
    const limit = Date.now() + 10000;
    while (Atomics.load(data.asked, 0) === 0 && Date.now() < limit);
    const end = Date.now() + 100;
    while (Date.now() < end);
  `, { ch, asked });
  await until(() => ch.info().count === 1, 5000, 'the put');
  Atomics.store(asked, 0, 1);
  const t0 = Date.now();
  assert.deepEqual(await ch.take(), { late: [1, 2] });
  assert.ok(Date.now() - t0 > 20, 'the clone waited for the busy owner');
  assert.equal(await exited(w), 0);
});

test('take() waits for a clone without blocking the event loop', async () => {
  const ch = new Chan(1);
  const asked = new Int32Array(new SharedArrayBuffer(4));
  const w = worker(`
    Chan.from(data.ch).putSync({ slow: true });
    const limit = Date.now() + 10000;
    while (Atomics.load(data.asked, 0) === 0 && Date.now() < limit);
    const end = Date.now() + 200;
    while (Date.now() < end);
  `, { ch, asked });
  await until(() => ch.info().count === 1, 5000, 'the put');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  Atomics.store(asked, 0, 1);
  const v = await ch.take();
  clearInterval(timer);
  assert.deepEqual(v, { slow: true });
  assert.ok(ticks >= 5, `the event loop ran while the owner was busy (${ticks} ticks)`);
  assert.equal(await exited(w), 0);
});

test('alts() also waits for a clone without blocking: {value, index, chan}', async () => {
  const { alts } = require('..');
  const a = new Chan(1);
  const b = new Chan(1);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = worker(`
    Chan.from(data.b).putSync(xchan.tuple([{ in: 'alts' }, 7]));
    Atomics.wait(data.flag, 0, 0, 30000);
  `, { b, flag });
  await until(() => b.info().count === 1, 5000, 'the put');
  const t0 = Date.now();
  const p = alts([a, b]);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  const r = await p;
  assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
  assert.deepEqual(r.value, [{ in: 'alts' }, 7]);
  assert.equal(r.index, 1);
  assert.equal(r.chan, b);
  assert.equal(await exited(w), 0);
});

test('an owner blocked in Atomics.wait for the main thread: an async take does not deadlock', async () => {
  const ch = new Chan(1);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = worker(`
    Chan.from(data.ch).putSync({ waited: true });
    Atomics.wait(data.flag, 0, 0, 30000); // outside xchan: cannot answer here
  `, { ch, flag });
  await until(() => ch.info().count === 1, 5000, 'the put');
  const t0 = Date.now();
  const p = ch.take(); // the clone is asked; the main thread goes on
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  assert.deepEqual(await p, { waited: true });
  // (A take blocking this thread would have waited out the worker's 30 s.)
  assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
  assert.equal(await exited(w), 0);
});

test('a taker that ends while its clone is pending: the late answer is dropped, no crash', async () => {
  const ch = new Chan(1);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const owner = worker(`
    Chan.from(data.ch).putSync({ late: true });
    Atomics.wait(data.flag, 0, 0, 30000); // answers only once released
  `, { ch, flag });
  await until(() => ch.info().count === 1, 5000, 'the put');
  const taker = worker(`
    Chan.from(data.ch).take().then(() => parentPort.postMessage('settled'));
    parentPort.postMessage('asked');
  `, { ch });
  assert.equal(await message(taker), 'asked');
  await until(() => ch.info().count === 0, 5000, 'the take');
  await taker.terminate();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  assert.equal(await exited(owner), 0);
  // The channel still works, and this thread is fine.
  ch.offer('after');
  assert.equal(await ch.take(), 'after');
});

test('an object whose isolate has exited gives ERUNTIME (owner gone), value kept', async () => {
  const ch = new Chan(2);
  const w = worker(`
    const ch = Chan.from(data.ch);
    ch.putSync({ orphan: true });
  `, { ch });
  assert.equal(await exited(w), 0);
  const err = await ch.take().then(() => null, (e) => e);
  assert.ok(err instanceof errors.ERUNTIME);
  assert.match(err.message, /has ended/);
  assert.ok(err.value !== undefined);
});

test('a JS transform step of a channel made on the main thread gets a worker\'s object as a clone', async () => {
  const ch = new Chan(4, { xform: xf.map((v) => ({ n: v.n + 1, isDate: v.when instanceof Date })) });
  const w = worker(`
    const ch = Chan.from(data.ch);
    ch.putSync({ n: 1, when: new Date(0) });
    ch.close();
  `, { ch });
  assert.deepEqual(await ch.take(), { n: 2, isDate: true });
  assert.equal(await ch.take(), undefined);
  assert.equal(await exited(w), 0);
});

test('within its own isolate an object is never cloned: the very same object comes back', () => {
  const ch = new Chan(2);
  const o = { same: true };
  ch.offer(o);
  ch.offer(tuple([o]));
  assert.equal(ch.poll(), o);
  assert.equal(ch.poll()[0], o);
});
