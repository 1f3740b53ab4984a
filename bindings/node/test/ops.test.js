'use strict';
// The low-level API (op handles), argument errors, buffers by name, done
// channels, inGo, the task error hook, execute and shutdown.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const x = require('..');
const { Chan } = x;

const tasks = path.join(__dirname, 'fixtures', 'tasks.js');
const code = (c) => (e) => e.code === c;
const typeEinval = (e) => e instanceof TypeError && e.code === 'EINVAL';

test('notify mode: the op is collected by its owner; state follows the core', () => {
  const c = new Chan();
  let told = 0;
  const op = c.takeAsync({ notify: () => told++ });
  assert.equal(op.state, 'pending');
  assert.throws(() => op.collect(), code('EAGAIN'));
  assert.equal(c.offer(4), true); // completes the take on this thread
  assert.equal(told, 1); // the notifier ran before offer returned
  assert.equal(op.state, 'completed'); // not collected yet
  assert.deepEqual(op.collect(), { code: 'OK', index: 0, value: 4 });
  assert.equal(op.state, 'delivered');
  assert.throws(() => op.collect(), code('EDONE'));
  assert.throws(() => op.cancelEx(), code('EDONE'));
});

test('cancelEx: a put handed back, or a completed result taken over', () => {
  const c = new Chan();
  const put = c.putAsync('back');
  assert.deepEqual(put.cancelEx(), { code: 'ECANCELED', index: -1, value: 'back' });
  assert.equal(put.state, 'canceled');
  assert.equal(c.poll(), undefined);
  const take = c.takeAsync();
  c.offer(5);
  assert.deepEqual(take.cancelEx(), { code: 'OK', index: 0, value: 5 });
  assert.throws(() => take.collect(), code('EDONE'));
});

test('callback mode: at once on the caller (no handle), later from the loop; collect is EINVAL', async () => {
  const c = new Chan(1);
  let during = true;
  let got;
  assert.equal(c.putAsync(1, (r) => (got = [during, r])), undefined);
  during = false;
  assert.deepEqual(got, [true, { code: 'OK', index: 0, value: undefined }]);
  const results = [];
  const t = c.takeAsync((r) => results.push(r));
  assert.equal(t, undefined); // completed at once: the value was buffered
  const pending = c.takeAsync((r) => results.push(r));
  assert.equal(pending.state, 'pending');
  assert.throws(() => pending.collect(), code('EINVAL'));
  c.close();
  assert.deepEqual(results, [{ code: 'OK', index: 0, value: 1 }, { code: 'ECLOSED', index: 0, value: undefined }]);
});

test('cancel: the callback gets ECANCELED before cancel() returns; a completed op answers false', () => {
  const c = new Chan();
  const seen = [];
  const op = c.putAsync('v', (r) => seen.push(r));
  assert.equal(op.cancel(), true);
  assert.deepEqual(seen, [{ code: 'ECANCELED', index: -1, value: 'v' }]);
  assert.equal(op.cancel(), false);
  assert.throws(() => x.Op.prototype.cancel.call(undefined), typeEinval);
});

test('dispatch: the callback never runs inside the start call; handle: false still calls back once', async () => {
  const c = new Chan(1);
  let during = true;
  const ran = new Promise((resolve) => c.putAsync(1, { callback: () => resolve(during), dispatch: true }));
  during = false;
  assert.equal(await ran, false);
  const d = new Chan();
  let calls = 0;
  const done = new Promise((resolve) => {
    assert.equal(d.takeAsync({ callback: (r) => resolve([++calls, r.value]), handle: false }), undefined);
  });
  d.offer('x');
  assert.deepEqual(await done, [1, 'x']);
  assert.throws(() => d.takeAsync({ handle: false }), code('EINVAL')); // notify mode needs its handle
});

test('altsAsync: the clause that completed, a default (EAGAIN) and a deadline (ETIMEDOUT)', async () => {
  const a = new Chan();
  const b = new Chan(1);
  const op = x.altsAsync([a, b]);
  b.offer(6);
  assert.deepEqual(op.collect(), { code: 'OK', index: 1, value: 6 });
  assert.equal(a.info().pendingTakes, 0);
  const none = x.altsAsync([a], { default: true });
  assert.deepEqual(none.collect(), { code: 'EAGAIN', index: -1, value: undefined });
  const late = await new Promise((resolve) => x.altsAsync([a], { callback: resolve, timeout: 5 }));
  assert.deepEqual(late, { code: 'ETIMEDOUT', index: -1, value: undefined });
});

test('a notify op completed by another thread notifies this event loop', async () => {
  const c = new Chan();
  let op;
  const told = new Promise((resolve) => (op = c.takeAsync({ notify: resolve })));
  const w = new Worker(`const { Chan } = require(${JSON.stringify(path.join(__dirname, '..'))});
    Chan.from(require('node:worker_threads').workerData).putSync('from a worker');`, { eval: true, workerData: c });
  const exited = new Promise((resolve) => w.on('exit', resolve));
  await told;
  assert.equal(op.collect().value, 'from a worker');
  await exited;
});

test('a null or non-Chan channel is a TypeError with code EINVAL', async () => {
  await assert.rejects(Chan.prototype.take.call(null), typeEinval);
  await assert.rejects(Chan.prototype.put.call(undefined, 1), typeEinval);
  assert.throws(() => Chan.prototype.offer.call(null, 1), typeEinval);
  assert.throws(() => Chan.prototype.poll.call({}), typeEinval);
  assert.throws(() => Chan.prototype.close.call(null), (e) => typeEinval(e) && /must be a Chan, got null/.test(e.message));
  assert.throws(() => Chan.prototype.takeAsync.call(null), typeEinval);
  const a = new Chan();
  assert.throws(() => x.pipe(null, a), (e) => typeEinval(e) && /pipe\(from\)/.test(e.message));
  assert.throws(() => x.merge([a, null]), (e) => typeEinval(e) && /chans\[1\]/.test(e.message));
  assert.throws(() => x.mult(null), typeEinval);
  assert.throws(() => x.mix(a).toggle([[null, { mute: true }]]), typeEinval);
  await assert.rejects(x.alts([null]), typeEinval);
  await assert.rejects(x.alts([{ peek: a }]), typeEinval);
});

test('buffer(kind, n): by name; unknown kinds and capacities the kind does not take are EINVAL', async () => {
  assert.equal(new Chan(x.buffer('fixed', 2)).info().capacity, 2);
  assert.equal(new Chan(x.buffer('sliding', 1)).info().buffer, 'sliding');
  assert.equal(new Chan(x.buffer('unbuffered')).info().buffer, 'none');
  const p = new Chan(x.buffer('promise'));
  p.offer(1);
  p.offer(2);
  assert.deepEqual([await p.take(), await p.take()], [1, 1]);
  assert.throws(() => x.buffer('bottomless', 1), code('EINVAL'));
  assert.throws(() => new Chan(x.buffer('unbuffered', 3)), code('EINVAL'));
  assert.throws(() => new Chan(x.buffer('promise', 1)), code('EINVAL'));
  assert.throws(() => new Chan(x.buffer('fixed', 0)), code('EINVAL'));
});

test('done channels: merge and split on request; pub.unsubAll leaves subscribers open', async () => {
  const a = x.toChan([1, 2]);
  const m = x.merge([a], undefined, { done: true });
  assert.ok(m.result instanceof Chan);
  const got = [];
  for await (const v of m.result) got.push(v);
  assert.deepEqual(got, [1, 2]);
  assert.equal(await m.done.take(), undefined);
  const src = new Chan(4);
  const { result: [evens, odds], done } = x.split((v) => v % 2 === 0, src, undefined, undefined, { done: true });
  evens.close();
  src.offer(2); // the put to evens fails: both close, the loop ends
  assert.equal(await done.take(), undefined);
  assert.equal(await odds.take(), undefined);
  const s = new Chan();
  const pb = x.pub(s, (v) => (v % 2 ? 'odd' : 'even'));
  const e = pb.sub('even', new Chan(5));
  const o = pb.sub('odd', new Chan(5));
  pb.unsubAll('even');
  await s.put(2);
  await s.put(3);
  assert.equal(await o.take(), 3);
  pb.unsubAll();
  await s.put(5);
  s.close();
  await pb.done.take();
  assert.equal(e.closed, false);
  assert.equal(o.closed, false);
});

test('inGo: true in a go body (after its awaits too), false in callbacks and outside', async () => {
  assert.equal(x.inGo(), false);
  const c = new Chan();
  let inCallback;
  c.takeAsync(() => (inCallback = x.inGo()));
  const g = x.go(async () => {
    const before = x.inGo();
    await new Promise((r) => setTimeout(r, 1));
    c.offer(1); // runs the callback here, outside the go task
    return [before, x.inGo()];
  });
  assert.deepEqual(await g.take(), [true, true]);
  assert.equal(inCallback, false);
});

test('execute runs a job on a workload pool; an unknown workload is EINVAL', async () => {
  const c = new Chan(1);
  x.execute('compute', tasks, 'putOn', c, 'ran');
  assert.equal(await c.take(), 'ran');
  assert.throws(() => x.execute('nonsense', tasks, 'putOn', c, 1), code('EINVAL'));
});

test('shutdown completes pending ops with ESHUTDOWN, then refuses new tasks', () => {
  const script = `
    const x = require(${JSON.stringify(path.join(__dirname, '..'))});
    const c = new x.Chan();
    const r = [];
    c.takeAsync((res) => r.push(res.code));
    const p = new x.Chan().putAsync('kept');
    const t = x.timeout(60000);
    x.go(async () => { try { x.shutdown(); } catch (e) { r.push('in go: ' + e.code); } }).take().then(() => {
      x.shutdown();
      x.shutdown(); // again: nothing more to do
      const pr = p.collect();
      r.push(pr.code + ':' + pr.value);
      r.push(t.closed ? 'timeout closed' : 'timeout open');
      for (const f of [() => x.go(async () => 1), () => x.timeout(10), () => x.thread(__filename, 'f')]) {
        try { f(); r.push('started'); } catch (e) { r.push(e.code); }
      }
      console.log(JSON.stringify(r));
    });`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout.trim().split('\n').pop());
  assert.equal(r[0], 'in go: ESTATE');
  assert.deepEqual(r.slice(1), ['ESHUTDOWN', 'ESHUTDOWN:kept', 'timeout closed', 'ESHUTDOWN', 'ESHUTDOWN', 'ESHUTDOWN']);
});

test('CancelToken: a fired token stops Promise and blocking ops (nothing transferred) until reset, from any thread', async () => {
  const tok = new x.CancelToken();
  const c = new Chan();
  tok.fire();
  assert.equal(tok.fired, true);
  await assert.rejects(c.put(1, { cancel: tok }), code('ECANCELED'));
  await assert.rejects(x.alts([c], { cancel: tok }), code('ECANCELED'));
  tok.reset();
  await assert.rejects(c.put(1, { cancel: tok, timeout: 10 }), code('ETIMEDOUT'));
  const pending = c.take({ cancel: tok });
  tok.fire();
  await assert.rejects(pending, code('ECANCELED'));
  assert.equal(c.info().pendingTakes, 0);
  tok.reset();
  await assert.rejects(c.take({ cancel: {} }), typeEinval);
  // A worker blocked in takeSync with the token, fired from here.
  const w = new Worker(`const x = require(${JSON.stringify(path.join(__dirname, '..'))});
    const { workerData: d, parentPort } = require('node:worker_threads');
    const c = x.Chan.from(d.c);
    const t = x.CancelToken.from(d.t);
    const out = [];
    try { c.takeSync({ cancel: t }); out.push('took'); } catch (e) { out.push(e.code); }
    try { c.takeSync({ cancel: t }); } catch (e) { out.push(e.code); }
    t.reset();
    try { c.takeSync({ timeout: 20, cancel: t }); } catch (e) { out.push(e.code); }
    parentPort.postMessage(out);`, { eval: true, workerData: { c, t: tok } });
  const msg = new Promise((resolve) => w.on('message', resolve));
  const exited = new Promise((resolve) => w.on('exit', resolve));
  while (c.info().pendingTakes === 0) await new Promise((r) => setTimeout(r, 2));
  tok.fire();
  assert.deepEqual(await msg, ['ECANCELED', 'ECANCELED', 'ETIMEDOUT']);
  assert.equal(c.offer(1), false); // no taker left waiting: nothing was taken
  await exited;
});

test('cancelEx storm against a producing worker: every value received exactly once', async () => {
  const N = 3000;
  const c = new Chan();
  const w = new Worker(`const { Chan } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const c = Chan.from(require('node:worker_threads').workerData);
    for (let i = 0; i < ${N}; i++) c.putSync(i);
    c.close();`, { eval: true, workerData: c });
  const exited = new Promise((resolve) => w.on('exit', resolve));
  const seen = new Uint8Array(N);
  let got = 0;
  let closed = false;
  const record = (r) => {
    if (r.code === 'OK') {
      seen[r.value]++;
      got++;
    } else if (r.code === 'ECLOSED') {
      closed = true;
    } else {
      assert.equal(r.code, 'ECANCELED');
    }
  };
  for (let round = 0; !closed; round++) {
    const op = c.takeAsync();
    if (round % 3 !== 0) await new Promise((r) => (round % 3 === 1 ? setImmediate(r) : queueMicrotask(r)));
    try {
      record(op.cancelEx());
    } catch (e) {
      assert.equal(e.code, 'EDONE');
      assert.fail('nobody else collects this op');
    }
  }
  await exited;
  assert.equal(got, N);
  assert.ok(seen.every((n) => n === 1));
});

test('op records are freed: collected, cancelled, callback and dropped handles; a worker exiting with pending ops', async () => {
  const native = require('../lib/native');
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      global.gc();
      await new Promise((r) => setImmediate(r));
    }
  };
  await settle();
  const ops0 = native.liveCounts().ops;
  const c = new Chan();
  for (let i = 0; i < 2000; i++) {
    const t = c.takeAsync();
    c.offer(i);
    assert.equal(t.collect().value, i);
    assert.equal(c.putAsync('x').cancelEx().code, 'ECANCELED');
    c.takeAsync(() => {});
    c.offer(i);
    c.takeAsync(); // completed, never collected, handle dropped
    c.offer(i);
  }
  await settle();
  assert.ok(native.liveCounts().ops <= ops0 + 2, `live ops ${ops0} -> ${native.liveCounts().ops}`);
  const d = new Chan();
  const w = new Worker(`const { Chan } = require(${JSON.stringify(path.join(__dirname, '..'))});
    const d = Chan.from(require('node:worker_threads').workerData);
    d.takeAsync(); d.takeAsync(() => {}); d.putAsync({ obj: 1 }); d.putAsync('v', () => {});`, { eval: true, workerData: d });
  await new Promise((resolve) => w.on('exit', resolve));
  assert.deepEqual([d.info().pendingTakes, d.info().pendingPuts], [0, 0]); // cancelled at the worker's teardown
  await settle();
  assert.ok(native.liveCounts().ops <= ops0 + 2, `live ops after the worker: ${native.liveCounts().ops}`);
});
