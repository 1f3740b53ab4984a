'use strict';
// XCHAN_EXECUTOR_FACTORY (a C executor factory of the core) configures the
// pools of thread / ioThread / execute / go(file) too: each job is admitted
// by the core's executor for its workload (lib/pool.js, src/admission.c).
// The factory is read once per process, so each test runs a child process
// with the variable set.  The factory is the shared test factory
// (tests/cross/factory/xchan_test_factory.c): XCHAN_TEST_FACTORY_LOG counts
// its executes, XCHAN_TEST_FACTORY_SERIAL=1 gives each workload one thread.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const x = require('..');
const { root } = require('./helpers');

const tasks = path.join(__dirname, 'fixtures', 'tasks.js');

function buildLib(src, name) {
  const outDir = path.join(root, 'build', 'native');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, name);
  const r = spawnSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Werror', '-std=c11',
    '-fvisibility=hidden', '-pthread', '-Wl,--no-undefined', '-I', x.includeDir, src, '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return out;
}
const FACTORY = `${process.env.XCHAN_TEST_FACTORY_LIB ||
  buildLib(path.resolve(root, '..', '..', 'tests', 'cross', 'factory', 'xchan_test_factory.c'), 'libxchan_test_factory.so')}:xchan_test_factory`;
// A factory returning NULL for every workload: the core's own executors.
const DEFAULTS = FACTORY.replace(/:xchan_test_factory$/, ':xchan_test_factory_defaults');

// Runs src (with xchan, tasks and done(result) in scope) in a child process
// with env added; its result as JSON.
function child(src, env, timeout = 60000) {
  const script = `
    const xchan = require(${JSON.stringify(root)});
    const assert = require('node:assert/strict');
    const tasks = ${JSON.stringify(tasks)};
    const done = (v) => process.stdout.write('RESULT ' + JSON.stringify(v) + '\\n');
    (async () => { ${src} })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, `child failed (${r.status} ${r.signal}): ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no result: ${r.stdout} ${r.stderr}`);
  return JSON.parse(line.slice(7));
}

function logFile() {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xchan-tf-')), 'log');
  return f;
}
const lines = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

test('an unloadable factory makes execute, thread, ioThread and go(file) throw ELOAD naming the variable', () => {
  for (const [spec, why] of [
    ['/nonexistent/libnope.so:factory', /library "\/nonexistent\/libnope.so" cannot be loaded/],
    [FACTORY.replace(/:xchan_test_factory$/, ':no_such_factory'), /has no symbol "no_such_factory"/],
    ['no-colon', /must be "library:symbol"/],
  ]) {
    const got = child(`
      const out = [];
      for (const f of [() => xchan.execute('mixed', tasks, 'add', 1, 2), () => xchan.thread(tasks, 'add', 1, 2),
        () => xchan.ioThread(tasks, 'add', 1, 2), () => xchan.execute('compute', tasks, 'add', 1, 2),
        () => xchan.go(tasks, 'goInGo')]) {
        try { f(); out.push('no error'); } catch (e) { out.push([e instanceof xchan.errors.ELOAD, e.code, e.message]); }
      }
      done(out);
    `, { XCHAN_EXECUTOR_FACTORY: spec });
    assert.equal(got.length, 5);
    for (const [isEload, code, message] of got) {
      assert.equal(code, 'ELOAD', spec);
      assert.ok(isEload);
      assert.match(message, /^XCHAN_EXECUTOR_FACTORY=".*" names an executor factory that cannot be loaded/);
      assert.ok(message.includes(spec), message);
      assert.match(message, why);
    }
  }
});

test('a factory\'s executors admit every job: one execute per job, on its workload', () => {
  const log = logFile();
  const got = child(`
    const r = [];
    r.push(await xchan.thread(tasks, 'add', 1, 2).take());
    r.push(await xchan.thread(tasks, 'add', 3, 4).take());
    r.push(await xchan.ioThread(tasks, 'later', 5, 'io').take());
    const c = new xchan.Chan(1);
    xchan.execute('compute', tasks, 'putOn', c, 'computed');
    r.push(await c.take());
    r.push(await xchan.go(tasks, 'goInGo').take());
    done(r);
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY, XCHAN_TEST_FACTORY_LOG: log });
  assert.deepEqual(got, [3, 7, 'io', 'computed', true]);
  // go(file) is a DISPATCH job; the factory has no DISPATCH executor, so
  // the core falls back to its MIXED one.
  assert.deepEqual(lines(log), ['mixed', 'mixed', 'io', 'compute', 'mixed']);
});

test('a one-thread MIXED executor runs two blocking thread() jobs one after the other', () => {
  const log = logFile();
  const [[s1, e1], [s2, e2]] = child(`
    const a = xchan.thread(tasks, 'blockFor', 300);
    const b = xchan.thread(tasks, 'blockFor', 300);
    done([await a.take(), await b.take()]);
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY, XCHAN_TEST_FACTORY_LOG: log, XCHAN_TEST_FACTORY_SERIAL: '1' });
  assert.ok(e1 - s1 >= 290 && e2 - s2 >= 290);
  // The executor's one thread is held until a job ends: no overlap.
  assert.ok(s2 >= e1, `the second job started at ${s2}, before the first ended at ${e1}`);
  assert.deepEqual(lines(log), ['mixed', 'mixed']);
});

test('a JS factory\'s pool comes first; the core admits the workloads it leaves to the default', () => {
  const log = logFile();
  const got = child(`
    xchan.setExecutorFactory((w) => (w === 'mixed' ? 1 : null));
    const r = [await xchan.thread(tasks, 'add', 1, 1).take(), await xchan.ioThread(tasks, 'add', 2, 2).take()];
    done(r);
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY, XCHAN_TEST_FACTORY_LOG: log });
  assert.deepEqual(got, [2, 4]);
  assert.deepEqual(lines(log), ['io']);
});

test('a worker that ends with an admitted job in flight lets go of the executor\'s thread', () => {
  // The worker's job blocks for a minute on the one MIXED thread; the
  // worker is terminated, and the main thread's job runs at once.
  const log = logFile();
  const got = child(`
    const { Worker } = require('node:worker_threads');
    const started = new xchan.Chan(1);
    const w = new Worker(\`
      const xchan = require(${JSON.stringify(root)});
      const { workerData } = require('node:worker_threads');
      xchan.thread(${JSON.stringify(tasks)}, 'blockFor', 60000, xchan.Chan.from(workerData));
    \`, { eval: true, workerData: started });
    assert.equal(await started.take(), 'started'); // its job holds the thread
    await w.terminate();
    const t0 = Date.now();
    const v = await xchan.thread(tasks, 'add', 20, 22).take();
    done([v, Date.now() - t0]);
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY, XCHAN_TEST_FACTORY_LOG: log, XCHAN_TEST_FACTORY_SERIAL: '1' });
  assert.equal(got[0], 42);
  assert.ok(got[1] < 30000, `the next job waited ${got[1]} ms`);
  assert.deepEqual(lines(log), ['mixed', 'mixed'], 'both jobs were admitted by the factory\'s executor');
});

test('shutdown() with an admitted job in flight returns, and later jobs are ESHUTDOWN', () => {
  const log = logFile();
  const got = child(`
    const started = new xchan.Chan(1);
    const t = xchan.thread(tasks, 'blockFor', 60000, started);
    await started.take(); // the job holds the one MIXED thread
    const t0 = Date.now();
    xchan.shutdown();
    let err;
    try { xchan.thread(tasks, 'add', 1, 1); } catch (e) { err = e.code; }
    done([Date.now() - t0 < 30000, err, await t.take()]);
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY, XCHAN_TEST_FACTORY_LOG: log, XCHAN_TEST_FACTORY_SERIAL: '1' });
  assert.deepEqual(got, [true, 'ESHUTDOWN', null]);
  assert.deepEqual(lines(log), ['mixed']);
});

test('shutdown() lets go of the core\'s own MIXED thread a job holds (xchan_shutdown joins it)', () => {
  // The job ends through the main thread, which is blocked in the join: the
  // thread is let go first, or shutdown() would never return.
  const got = child(`
    const started = new xchan.Chan(1);
    const t = xchan.thread(tasks, 'blockFor', 60000, started);
    await started.take();
    const t0 = Date.now();
    xchan.shutdown();
    done([Date.now() - t0 < 20000, await t.take()]);
  `, { XCHAN_EXECUTOR_FACTORY: DEFAULTS }, 30000);
  assert.deepEqual(got, [true, null]);
});

test('a job refused by the core\'s executor throws its error: a worker\'s thread() after shutdown() is ESHUTDOWN', () => {
  // shutdown() is the main thread's; the worker's own pools still accept
  // jobs, and the core's executor refuses them.
  const got = child(`
    const { Worker } = require('node:worker_threads');
    xchan.shutdown();
    const w = new Worker(\`
      const xchan = require(${JSON.stringify(root)});
      let r;
      try { xchan.thread(${JSON.stringify(tasks)}, 'add', 1, 1); r = 'no error'; } catch (e) { r = [e.code, e.message]; }
      require('node:worker_threads').parentPort.postMessage(r);
    \`, { eval: true });
    done(await new Promise((r) => w.once('message', r)));
  `, { XCHAN_EXECUTOR_FACTORY: FACTORY });
  assert.equal(got[0], 'ESHUTDOWN');
  assert.match(got[1], /'mixed' workload/);
});

test('shutdown() while an admitted job is still queued in the core\'s executor: the job fails with ESHUTDOWN and the process exits', () => {
  // A worker's job holds the core's one COMPUTE thread past shutdown()'s
  // one-second drain, so the main thread's job queued behind it is dropped
  // by the core, its proxy never runs: the job must still end (ESHUTDOWN to
  // the task error hook, its loop no longer kept alive), or the process
  // never exits.
  const got = child(`
    const { Worker } = require('node:worker_threads');
    const errs = [];
    xchan.setTaskErrorHook((name, e) => errs.push([name, e && e.code]));
    const started = new xchan.Chan(1);
    const w = new Worker(\`
      const xchan = require(${JSON.stringify(root)});
      const { workerData } = require('node:worker_threads');
      xchan.execute('compute', ${JSON.stringify(tasks)}, 'blockFor', 2500, xchan.Chan.from(workerData));
    \`, { eval: true, workerData: started });
    assert.equal(await started.take(), 'started');
    const c = new xchan.Chan(1);
    xchan.execute('compute', { name: 'queued' }, tasks, 'putOn', c, 'ran');
    xchan.shutdown();
    await new Promise((r) => w.once('exit', r));
    await new Promise((r) => setTimeout(r, 200));
    done([c.poll() === undefined, errs]);
  `, { XCHAN_EXECUTOR_FACTORY: DEFAULTS, XCHAN_COMPUTE_THREADS: '1' }, 20000);
  assert.deepEqual(got, [true, [['queued', 'ESHUTDOWN']]]);
});

test('shutdown() in a worker fails the main thread\'s job its executor still held back (ESHUTDOWN), and the process exits', () => {
  const got = child(`
    const { Worker } = require('node:worker_threads');
    const errs = [];
    xchan.setTaskErrorHook((name, e) => errs.push([name, e && e.code]));
    const started = new xchan.Chan(1);
    const holder = new Worker(\`
      const xchan = require(${JSON.stringify(root)});
      const { workerData } = require('node:worker_threads');
      xchan.execute('compute', ${JSON.stringify(tasks)}, 'blockFor', 2500, xchan.Chan.from(workerData));
    \`, { eval: true, workerData: started });
    assert.equal(await started.take(), 'started');
    const c = new xchan.Chan(1);
    xchan.execute('compute', { name: 'queued' }, tasks, 'putOn', c, 'ran');
    const closer = new Worker(\`require(${JSON.stringify(root)}).shutdown();\`, { eval: true });
    await Promise.all([holder, closer].map((w) => new Promise((r) => w.once('exit', r))));
    await new Promise((r) => setTimeout(r, 200));
    done([c.poll() === undefined, errs]);
  `, { XCHAN_EXECUTOR_FACTORY: DEFAULTS, XCHAN_COMPUTE_THREADS: '1' }, 20000);
  assert.deepEqual(got, [true, [['queued', 'ESHUTDOWN']]]);
});
