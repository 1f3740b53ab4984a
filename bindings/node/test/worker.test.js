'use strict';
// Channels shared between the main thread and worker_threads.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Chan, errors, xf } = require('..');
const { worker, exited, message, until } = require('./helpers');

test('main -> worker through workerData; worker blocks in takeSync', async () => {
  const ch = new Chan(4);
  const back = new Chan(4);
  const w = worker(`
    const ch = Chan.from(data.ch), back = Chan.from(data.back);
    let sum = 0;
    for (const v of ch.sync()) sum += v;
    back.putSync(sum);
  `, { ch, back });
  for (let i = 1; i <= 100; i++) assert.equal(await ch.put(i), true);
  ch.close();
  assert.equal(await back.take(), 5050);
  assert.equal(await exited(w), 0);
});

test('worker -> main: values of every crossable kind arrive as natural JS values', async () => {
  const ch = new Chan(16);
  const w = worker(`
    const ch = Chan.from(data.ch);
    for (const v of [1, -2.5, 2n ** 62n, 'héllo', true, Buffer.from('abc'), new Uint8Array([9])]) ch.putSync(v);
    const inner = new Chan(1);
    inner.putSync('inside');
    ch.putSync(inner);
    ch.close();
  `, { ch });
  const got = [];
  for await (const v of ch) got.push(v);
  await exited(w);
  assert.deepEqual(got.slice(0, 5), [1, -2.5, 2n ** 62n, 'héllo', true]);
  assert.ok(Buffer.isBuffer(got[5]));
  assert.equal(got[5].toString(), 'abc');
  assert.deepEqual([...got[6]], [9]);
  assert.ok(got[7] instanceof Chan);
  assert.equal(await got[7].take(), 'inside');
});

test('a Chan sent through another channel reaches the worker', async () => {
  const control = new Chan(1);
  const w = worker(`
    const control = Chan.from(data.control);
    const reply = control.takeSync();
    reply.putSync('pong');
  `, { control });
  const reply = new Chan(1);
  await control.put(reply);
  assert.equal(await reply.take(), 'pong');
  await exited(w);
});

test('altsSync in a worker: priority and default', async () => {
  const a = new Chan(1);
  const b = new Chan(1);
  const out = new Chan(8);
  const w = worker(`
    const a = Chan.from(data.a), b = Chan.from(data.b), out = Chan.from(data.out);
    const { altsSync } = xchan;
    out.putSync(altsSync([a, b], { default: 'none' }).value);
    a.putSync(1); b.putSync(2);
    const r = altsSync([b, a], { priority: true });
    out.putSync(r.value); out.putSync(r.index);
    out.putSync(altsSync([a]).value);
    try { altsSync([a], { timeout: 10 }); } catch (e) { out.putSync(e.code); }
  `, { a, b, out });
  await exited(w);
  assert.deepEqual([out.poll(), out.poll(), out.poll(), out.poll(), out.poll()], ['none', 2, 0, 1, 'ETIMEDOUT']);
});

test('an object of another isolate that cannot be cloned: ERUNTIME holding the value, which goes back intact', async () => {
  const ch = new Chan(2);
  const back = new Chan(2);
  const w = worker(`
    const ch = Chan.from(data.ch), back = Chan.from(data.back);
    const obj = { mine: true, fn() {} };
    ch.putSync(obj);
    parentPort.postMessage(back.takeSync() === obj);
  `, { ch, back });
  const err = await ch.take().then(() => null, (e) => e);
  assert.ok(err instanceof errors.ERUNTIME, 'take reports the foreign object');
  assert.match(err.message, /another isolate.*cannot be cloned/);
  assert.equal(await back.put(err.value), true);
  assert.equal(await message(w), true);
  await exited(w);
});

test('worker.terminate() ends a worker blocked in takeSync promptly; no value lost', async () => {
  const ch = new Chan();
  const w = worker(`
    const ch = Chan.from(data.ch);
    parentPort.postMessage('blocking');
    ch.takeSync();
    parentPort.postMessage('took');
  `, { ch });
  assert.equal(await message(w), 'blocking');
  await until(() => ch.info().pendingTakes === 1, 5000, 'the worker to block');
  const t0 = Date.now();
  await w.terminate();
  assert.ok(Date.now() - t0 < 2000, `terminate took ${Date.now() - t0} ms`);
  await until(() => ch.info().pendingTakes === 0, 2000, 'the take to be withdrawn');
  // The value put now is not swallowed by the dead worker.
  assert.equal(ch.offer('after'), false);
  const p = ch.put('after');
  assert.equal(await ch.take(), 'after');
  assert.equal(await p, true);
});

test('a worker that exits with its objects in channels does not crash the process', async () => {
  const ch = new Chan(8);
  const w = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 0; i < 5; i++) ch.putSync({ i });
    ch.putSync('plain');
  `, { ch });
  await exited(w);
  // Its objects cannot be cloned any more (ERUNTIME), never a crash; plain
  // values are fine.
  for (let i = 0; i < 5; i++) await assert.rejects(ch.take(), errors.ERUNTIME);
  assert.equal(await ch.take(), 'plain');
  if (global.gc) global.gc();
});

test('a channel with a JS transform crosses threads; its step runs on the thread that made it', async () => {
  const { threadId } = require('node:worker_threads');
  const ran = [];
  const ch = new Chan(4, { xform: xf.map((v) => { ran.push(threadId); return v + 1; }) });
  assert.ok(Chan.from({ $xchan: ch.$xchan }) instanceof Chan);
  const w = worker(`
    const ch = Chan.from(data.ch);
    ch.putSync(1);
    ch.putSync(2);
  `, { ch });
  assert.equal(await exited(w), 0);
  assert.deepEqual([ch.poll(), ch.poll()], [2, 3]);
  assert.deepEqual(ran, [threadId, threadId]);
  const native = new Chan(1, { xform: xf.take(2) });
  assert.ok(Chan.from({ $xchan: native.$xchan }) instanceof Chan);
});

test('round trips main <-> worker through two channels', async () => {
  const req = new Chan();
  const res = new Chan();
  const w = worker(`
    const req = Chan.from(data.req), res = Chan.from(data.res);
    for (const v of req.sync()) res.putSync(v * 2);
    res.close();
  `, { req, res });
  for (let i = 0; i < 1000; i++) {
    await req.put(i);
    assert.equal(await res.take(), i * 2);
  }
  req.close();
  assert.equal(await res.take(), undefined);
  await exited(w);
});

test('abort storm against a producing worker: every value received exactly once', async () => {
  const ch = new Chan(8);
  const N = 5000;
  const w = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 0; i < ${N}; i++) ch.putSync(i);
    ch.close();
  `, { ch });
  const seen = new Uint8Array(N);
  let received = 0;
  let aborted = 0;
  for (;;) {
    const ac = new AbortController();
    const p = ch.take({ signal: ac.signal });
    if (received % 3 === 0) ac.abort();
    else if (received % 3 === 1) queueMicrotask(() => ac.abort());
    else setImmediate(() => ac.abort());
    let v;
    try {
      v = await p;
    } catch (e) {
      assert.equal(e.code, 'ECANCELED');
      aborted++;
      continue;
    }
    if (v === undefined) break;
    assert.equal(seen[v], 0, `value ${v} received twice`);
    seen[v] = 1;
    received++;
  }
  await exited(w);
  assert.equal(received, N, `received ${received} of ${N} (${aborted} aborts)`);
  assert.ok(aborted > 0);
});
