'use strict';
// A JS thread blocked in takeSync/putSync/altsSync keeps running the JS
// calls other threads ask of it (jscall.c): the steps and onError of the
// transform channels it made.  Each test here deadlocks without that (the
// worker would wait for its own, stopped, thread), so each is bounded: a
// worker that does not report within its deadline fails the test.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Chan, xf } = require('..');
const { worker, exited, message } = require('./helpers');

// Resolves with the worker's first message, or rejects after ms.
function within(w, ms, what) {
  let timer;
  return Promise.race([
    message(w),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (deadlock)`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function stop(w) {
  await w.terminate();
}

test('a worker blocked in takeSync runs its channel\'s map step for a putter on another worker', async () => {
  const tokens = new Chan(1);
  const a = worker(`
    const ch = new Chan(1, { xform: xchan.xf.map((v) => v * 10) });
    Chan.from(data.tokens).putSync(ch);
    const got = [];
    for (let i = 0; i < 5; i++) got.push(ch.takeSync());
    parentPort.postMessage(got);
  `, { tokens });
  const ch = await tokens.take();
  const b = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 1; i <= 5; i++) ch.putSync(i);
  `, { ch });
  try {
    assert.deepEqual(await within(a, 10000, 'takeSync'), [10, 20, 30, 40, 50]);
    assert.equal(await exited(b), 0);
  } finally {
    await stop(a);
    await stop(b);
  }
});

test('the main thread\'s transform runs for a worker\'s putSync (served by the event loop)', async () => {
  const seen = [];
  const ch = new Chan(4, { xform: xf.filter((v) => { seen.push(v); return v % 2 === 0; }) });
  const w = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 1; i <= 6; i++) ch.putSync(i);
    ch.close();
  `, { ch });
  const got = [];
  for await (const v of ch) got.push(v);
  assert.deepEqual(got, [2, 4, 6]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.equal(await exited(w), 0);
});

test('a custom transform\'s completion runs on its thread when another worker closes the channel', async () => {
  const tokens = new Chan(1);
  const a = worker(`
    const batches = () => { let acc = []; return {
      step(v, push) { acc.push(v); if (acc.length === 2) { push(acc); acc = []; } return false; },
      complete(push) { if (acc.length) push(acc); } }; };
    const ch = new Chan(8, { xform: xchan.xf.custom(batches) });
    Chan.from(data.tokens).putSync(ch);
    const got = [];
    for (let v = ch.takeSync(); v !== undefined; v = ch.takeSync()) got.push(v);
    parentPort.postMessage(got);
  `, { tokens });
  const ch = await tokens.take();
  const b = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 1; i <= 5; i++) ch.putSync(i);
    ch.close();
  `, { ch });
  try {
    assert.deepEqual(await within(a, 10000, 'completion'), [[1, 2], [3, 4], [5]]);
  } finally {
    await stop(a);
    await stop(b);
  }
});

test('onError of a worker\'s channel runs for a failing step caused by another worker', async () => {
  const tokens = new Chan(1);
  const a = worker(`
    const ch = new Chan(4, {
      xform: xchan.xf.map((v) => { if (v === 2) throw new Error('two'); return v; }),
      onError: (e) => 'handled ' + e.message,
    });
    Chan.from(data.tokens).putSync(ch);
    parentPort.postMessage([ch.takeSync(), ch.takeSync(), ch.takeSync()]);
  `, { tokens });
  const ch = await tokens.take();
  const b = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 1; i <= 3; i++) ch.putSync(i);
  `, { ch });
  try {
    assert.deepEqual(await within(a, 10000, 'onError'), [1, 'handled two', 3]);
  } finally {
    await stop(a);
    await stop(b);
  }
});

test('two workers blocked on each other\'s transform channels serve each other', async () => {
  // A puts into B's channel while B puts into A's: each step needs the
  // other thread, which is blocked in putSync.
  const src = (name) => `
    const mine = new Chan(4, { xform: xchan.xf.map((v) => '${name}:' + v) });
    Chan.from(data.tokens).putSync(mine);
    const out = Chan.from(data.out);
    const other = out.takeSync();
    for (let i = 0; i < 3; i++) other.putSync(i);
    const got = [];
    for (let i = 0; i < 3; i++) got.push(mine.takeSync());
    parentPort.postMessage(got);
  `;
  const outA = new Chan(1);
  const outB = new Chan(1);
  const tokA = new Chan(1);
  const tokB = new Chan(1);
  const a = worker(src('a'), { tokens: tokA, out: outA });
  const b = worker(src('b'), { tokens: tokB, out: outB });
  const chanA = await tokA.take();
  const chanB = await tokB.take();
  await outA.put(chanB);
  await outB.put(chanA);
  try {
    const [ra, rb] = await Promise.all([within(a, 10000, 'a'), within(b, 10000, 'b')]);
    assert.deepEqual(ra, ['a:0', 'a:1', 'a:2']);
    assert.deepEqual(rb, ['b:0', 'b:1', 'b:2']);
  } finally {
    await stop(a);
    await stop(b);
  }
});

test('closing a worker\'s own transform channel while another worker\'s step waits on it does not deadlock', async () => {
  const tokens = new Chan(1);
  const a = worker(`
    const ch = new Chan(64, { xform: xchan.xf.map((v) => v + 1) });
    Chan.from(data.tokens).putSync(ch);
    ch.takeSync(); // the other worker's steps are under way
    ch.close();
    let n = 1;
    while (ch.takeSync() !== undefined) n++;
    parentPort.postMessage(n);
  `, { tokens });
  const ch = await tokens.take();
  const b = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 0; i < 1000; i++) if (!ch.putSync(i)) break;
  `, { ch });
  try {
    const n = await within(a, 10000, 'close');
    assert.ok(n >= 0 && n <= 1000, `took ${n}`);
  } finally {
    await stop(a);
    await stop(b);
  }
});

test('terminating a worker blocked in takeSync still interrupts it (nothing taken)', async () => {
  const ch = new Chan();
  const w = worker(`
    const ch = Chan.from(data.ch);
    parentPort.postMessage('ready');
    ch.takeSync();
  `, { ch });
  assert.equal(await message(w), 'ready');
  await new Promise((r) => setTimeout(r, 20));
  await w.terminate();
  assert.equal(ch.offer(1), false); // no taker is left behind
});

// The combinators with JS callbacks are core processes whose callbacks are
// JS calls to the thread that made them: a worker blocked on their output
// still runs them.
test('a worker blocked in takeSync feeds its own reduce, transduce, map, split, pub and pipeline', async () => {
  const w = worker(`
    const { xf } = xchan;
    const out = {};
    const src = () => { const c = new Chan(16); for (let i = 1; i <= 6; i++) c.putSync(i); c.close(); return c; };
    out.reduce = xchan.reduce((a, v) => a + v, 0, src()).takeSync();
    out.reduced = xchan.reduce((a, v) => (a + v >= 6 ? xchan.reduced(a + v) : a + v), 0, src()).takeSync();
    out.transduce = xchan.transduce(xf.comp(xf.filter((v) => v % 2 === 0), xf.map((v) => v * 10)), (a, v) => a.concat([v]), [], src()).takeSync();
    const m = xchan.map((a, b) => a * b, [src(), src()]);
    out.map = [...m.sync()];
    const [evens, odds] = xchan.split((v) => v % 2 === 0, src(), 8, 8);
    out.split = [[...evens.sync()], [...odds.sync()]];
    const p = xchan.pub(src(), (v) => (v % 3 === 0 ? 'three' : 'other'), () => 8);
    const threes = new Chan(8);
    p.sub('three', threes);
    out.pub = [...threes.sync()];
    const to = new Chan(16);
    xchan.pipeline(2, to, xf.mapcat((v) => [v, -v]), src());
    out.pipeline = [...to.sync()];
    parentPort.postMessage(out);
  `, {});
  try {
    const got = await within(w, 15000, 'combinators');
    assert.equal(got.reduce, 21);
    assert.equal(got.reduced, 6);
    assert.deepEqual(got.transduce, [20, 40, 60]);
    assert.deepEqual(got.map, [1, 4, 9, 16, 25, 36]);
    assert.deepEqual(got.split, [[2, 4, 6], [1, 3, 5]]);
    assert.deepEqual(got.pub, [3, 6]);
    assert.deepEqual(got.pipeline, [1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6]);
  } finally {
    await stop(w);
  }
});

test('callbacks of the main thread\'s combinators run on the main thread, values from a worker', async () => {
  const { threadId } = require('node:worker_threads');
  const ran = new Set();
  const ch = new Chan(4);
  const sum = require('..').reduce((a, v) => { ran.add(threadId); return a + v; }, 0, ch);
  const w = worker(`
    const ch = Chan.from(data.ch);
    for (let i = 1; i <= 100; i++) ch.putSync(i);
    ch.close();
  `, { ch });
  assert.equal(await sum.take(), 5050);
  assert.deepEqual([...ran], [threadId]);
  assert.equal(await exited(w), 0);
});

// A pool worker hands its job's outcome to the spawning thread as a JS call
// (callThread), which a blocked spawner runs: thread() works from a worker
// that then blocks on the result, also with a fixed pool smaller than the
// number of jobs (the queued job is dispatched from inside the wait).
test('a worker blocked in takeSync gets the results of its own thread()/ioThread() jobs', async () => {
  const tasks = require('node:path').join(__dirname, 'fixtures', 'tasks.js');
  const w = worker(`
    const tasks = ${JSON.stringify(tasks)};
    const a = xchan.thread(tasks, 'add', 2, 3);
    const b = xchan.ioThread(tasks, 'add', 4, 5);
    const pool = new xchan.WorkerPool({ size: 1 });
    const c1 = pool.run(tasks, 'add', 1, 1);
    const c2 = pool.run(tasks, 'add', 2, 2);
    const made = xchan.thread(tasks, 'makeChan').takeSync();
    const failed = xchan.thread(tasks, 'fail');
    parentPort.postMessage({
      a: a.takeSync(), b: b.takeSync(), c: [c1.takeSync(), c2.takeSync()],
      made: [made.takeSync(), made.takeSync(), made.takeSync()],
      failed: failed.takeSync() === undefined && failed.closed,
    });
    pool.close();
  `, {});
  try {
    const got = await within(w, 30000, 'thread() from a blocked worker');
    assert.deepEqual(got, { a: 5, b: 9, c: [2, 4], made: ['x', 'y', undefined], failed: true });
  } finally {
    await stop(w);
  }
});

// go(file, exportName, ...args): a go body on the DISPATCH pool, so a worker
// can start go tasks and block on them; go bodies share workers (at most one
// per CPU takes them), and inGo() is true in them.
test('go(file, export) runs on the dispatch pool: a blocked worker awaits its go tasks', async () => {
  const tasks = require('node:path').join(__dirname, 'fixtures', 'tasks.js');
  const w = worker(`
    const tasks = ${JSON.stringify(tasks)};
    const inGo = xchan.go(tasks, 'goInGo').takeSync();
    const n = 24;
    const feeds = Array.from({ length: n }, () => new Chan(1));
    const results = feeds.map((c) => xchan.go(tasks, 'goTakeThenReport', c));
    feeds.forEach((c, i) => c.putSync(i));
    const got = results.map((r) => r.takeSync());
    parentPort.postMessage({ inGo, values: got.map((g) => g[0]), threads: new Set(got.map((g) => g[1])).size });
  `, {});
  try {
    const got = await within(w, 30000, 'go(file) from a blocked worker');
    assert.equal(got.inGo, true);
    assert.deepEqual(got.values, Array.from({ length: 24 }, (_, i) => i));
    // 24 parked go bodies at once, on at most one worker per CPU.
    assert.ok(got.threads >= 1 && got.threads <= require('node:os').availableParallelism(), `${got.threads} workers`);
  } finally {
    await stop(w);
  }
});

test('pipelineAsync from a blocked worker: af runs there and starts go tasks on the pool', async () => {
  const tasks = require('node:path').join(__dirname, 'fixtures', 'tasks.js');
  const w = worker(`
    const tasks = ${JSON.stringify(tasks)};
    const from = new Chan(16);
    const to = new Chan(16);
    for (let i = 1; i <= 8; i++) from.putSync(i);
    from.close();
    xchan.pipelineAsync(3, to, (v, result) => { xchan.go(tasks, 'goTwice', v, result); }, from);
    parentPort.postMessage([...to.sync()]);
  `, {});
  try {
    const got = await within(w, 30000, 'pipelineAsync from a blocked worker');
    assert.deepEqual(got, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8]);
  } finally {
    await stop(w);
  }
});
