'use strict';
// thread / ioThread on worker pools, and the executor factory.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const x = require('..');
const { Chan, WorkerPool } = x;

const tasks = path.join(__dirname, 'fixtures', 'tasks.js');

test('setExecutorFactory sizes the pools; thread and ioThread run module functions', async () => {
  const asked = [];
  x.setExecutorFactory((workload) => {
    asked.push(workload);
    return workload === 'io' ? new WorkerPool({ size: 1, name: 'test-io' }) : 2;
  });
  assert.equal(await x.thread(tasks, 'add', 2, 3).take(), 5);
  assert.equal(await x.ioThread(tasks, 'later', 5, 'io').take(), 'io');
  assert.equal(await x.thread(tasks, 'default', 'arg').take(), 'default arg');
  assert.deepEqual(asked.sort(), ['io', 'mixed']);
  assert.throws(() => x.setExecutorFactory(() => null), x.errors.ESTATE);
  // The mixed pool has 2 workers: 6 concurrent tasks use at most 2 threads.
  const ids = await Promise.all(Array.from({ length: 6 }, () => x.thread(tasks, 'later', 20, 0).take()
    .then(() => x.thread(tasks, 'whoami').take())));
  assert.ok(new Set(ids).size <= 2);
});

test('a task failure closes its result channel and reaches the task error hook with its name', async () => {
  const failed = [];
  x.setTaskErrorHook((name, e) => failed.push([name, e]));
  try {
    assert.equal(await x.thread({ name: 'failing' }, tasks, 'fail').take(), undefined);
    assert.equal(await x.thread(tasks, 'nope').take(), undefined);
    assert.equal(failed[0][0], 'failing');
    assert.match(failed[0][1].message, /on purpose/);
    assert.match(failed[1][0], /tasks\.js#nope$/);
    assert.match(failed[1][1].message, /no function "nope"/);
  } finally {
    x.setTaskErrorHook(null);
  }
});

test('channels as task arguments and results are the same native channels', async () => {
  const ch = new Chan(10);
  const total = x.thread(tasks, 'sum', ch);
  for (let i = 1; i <= 10; i++) await ch.put(i);
  ch.close();
  assert.equal(await total.take(), 55);
  const out = new Chan(2);
  const n = x.thread(tasks, 'produce', out, 50);
  let got = 0;
  for await (const v of out) got += v;
  assert.equal(got, 49 * 50 / 2);
  assert.equal(await n.take(), 50);
  const made = await x.thread(tasks, 'makeChan').take();
  assert.ok(made instanceof Chan);
  assert.deepEqual([await made.take(), await made.take(), await made.take()], ['x', 'y', undefined]);
});

test('a WorkerPool of its own, closed afterwards', async () => {
  const pool = new WorkerPool({ size: 1 });
  assert.equal(pool.size, 1);
  assert.equal(await pool.run(tasks, 'add', 1, 1).take(), 2);
  await pool.close();
  assert.throws(() => pool.run(tasks, 'add', 1, 1), x.errors.ESHUTDOWN);
  assert.throws(() => new WorkerPool({ size: 0 }), x.errors.EINVAL);
});
