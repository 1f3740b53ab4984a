'use strict';
// Native workers (xchan.native): libsensor.so (tests/cross/native/sensor.c, a
// plain C library reaching the core through its xchan_native_onload function
// table) runs on the core's go / thread / io executors through libffi,
// producing into and consuming from channels JS made.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const x = require('..');
const { Chan, native } = x;
const { worker, root } = require('./helpers');

function buildSensor() {
  if (process.env.XCHAN_SENSOR_LIB) return process.env.XCHAN_SENSOR_LIB;
  const src = path.resolve(root, '..', '..', 'tests', 'cross', 'native', 'sensor.c');
  const outDir = path.join(root, 'build', 'native');
  fs.mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, 'libsensor.so');
  const r = spawnSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-O1', '-Wall', '-Werror', '-std=c11',
    '-fvisibility=hidden', '-Wl,--no-undefined', '-I', x.includeDir, src, '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return out;
}
const SENSOR = buildSensor();

async function drain(ch) {
  const got = [];
  for await (const v of ch) got.push(v);
  return got;
}
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

for (const how of ['go', 'thread', 'ioThread']) {
  test(`stream v(ci) produces into a JS channel (${how})`, async () => {
    const ch = new Chan();
    const done = native[how](SENSOR, 'stream', 'v(ci)', ch, 100);
    assert.ok(done instanceof Chan);
    assert.deepEqual(await drain(ch), range(1, 100));
    assert.equal(await done.take({ timeout: 5000 }), undefined, 'void: the result channel closes empty');
  });
}

test('JS produces and C sums: i(c)', async () => {
  const ch = new Chan(4);
  const result = native.thread(SENSOR, 'sum', 'i(c)', ch);
  for (let i = 1; i <= 1000; i++) await ch.put(i);
  ch.close();
  assert.equal(await result.take({ timeout: 10000 }), 500500);
});

test('a pipeline of C and JS: relay_double i(cc)', async () => {
  const src = new Chan(8);
  const doubled = new Chan();
  native.go(SENSOR, 'stream', 'v(ci)', src, 50);
  const relay = native.ioThread(SENSOR, 'relay_double', 'i(cc)', src, doubled);
  assert.deepEqual(await drain(doubled), range(1, 50).map((i) => 2 * i));
  assert.equal(await relay.take({ timeout: 5000 }), 50);
});

test('a worker consumes with takeSync what C produces', async () => {
  const ch = new Chan(16);
  const w = worker(`
    const ch = Chan.from(data.ch);
    let sum = 0;
    for (const v of ch.sync()) sum += v;
    parentPort.postMessage(sum);
  `, { ch });
  const sum = new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  native.thread(SENSOR, 'stream', 'v(ci)', ch, 1000);
  assert.equal(await sum, 500500);
  await w.exited;
});

test('return kinds and relative paths', async () => {
  const rel = path.relative(process.cwd(), SENSOR);
  assert.equal(await native.go(rel.includes('/') ? rel : `./${rel}`, 'scale', 'd(dd)', 1.5, 4).take(), 6);
  assert.equal(await native.thread(SENSOR, 'is_even', 'b(i)', 8).take(), true);
  assert.equal(await native.ioThread(SENSOR, 'parity', 's(i)', 7).take(), 'odd');
  assert.equal(await native.go(SENSOR, 'text_length', 'i(s)', 'héllo').take(), 6);
  const counter = await native.thread(SENSOR, 'counter', 'c(i)', 3).take();
  assert.ok(counter instanceof Chan);
  assert.deepEqual(await drain(counter), [1, 2, 3]);
});

test('bad calls throw before anything runs', () => {
  const ch = new Chan(1);
  const expect = (fn, code, re) => assert.throws(fn, (e) => {
    assert.ok(e instanceof x.XchanError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, re);
    return true;
  });
  expect(() => native.go('/nonexistent/libx.so', 'stream', 'v(ci)', ch, 1), 'ELOAD',
    /cannot load library "\/nonexistent\/libx.so"/);
  expect(() => native.go(SENSOR, 'no_such', 'v(ci)', ch, 1), 'ELOAD', /no symbol "no_such"/);
  expect(() => native.thread(SENSOR, 'stream', 'v(cx)', ch, 1), 'EINVAL', /signature "v\(cx\)"/);
  expect(() => native.thread(SENSOR, 'stream', 'v(ci)', ch), 'EINVAL', /takes 2 arguments, got 1/);
  expect(() => native.ioThread(SENSOR, 'stream', 'v(ci)', ch, '1'), 'ETYPE', /argument 2 .* must be int, got string/);
  expect(() => native.ioThread(SENSOR, 'stream', 'v(ci)', ch, {}), 'ETYPE', /argument 2/);
  expect(() => native.go(SENSOR, 'stream', 'v(ci)', ...range(1, 17)), 'EINVAL', /at most 16 arguments/);
  expect(() => native.go(42, 'stream', 'v(ci)', ch, 1), 'EINVAL', /lib is a path/);
  assert.throws(() => native.thread(SENSOR, 'stream', 'v(ci)', ch, null), (e) => e.code === 'ENIL');
  assert.equal(ch.poll(), undefined, 'nothing ran');
});
