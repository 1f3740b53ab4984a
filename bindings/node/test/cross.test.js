'use strict';
// Sharing channels with a C addon (tests/cross/node) that reaches the core
// only through the function table: pthreads produce into JS channels, JS
// consumes with for await and a worker with takeSync, C consumes what JS puts.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const x = require('..');
const { Chan } = x;
const { findHeaders } = require('../scripts/node-headers');
const { worker, exited, root } = require('./helpers');

const src = path.resolve(root, '..', '..', 'tests', 'cross', 'node');
const out = path.join(root, 'build', 'cross');

function build() {
  const args = ['-S', src, '-B', out, `-DNODE_API_INCLUDE=${findHeaders()}`, `-DXCHAN_NODE_INCLUDE=${x.includeDir}`,
    '-DCMAKE_BUILD_TYPE=Release', `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${out}`];
  for (const a of [args, ['--build', out]]) {
    const r = spawnSync('cmake', a, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }
  return path.join(out, 'xchan_cross_node.node');
}

const addonPath = build();
const cross = require(addonPath);
cross.init(x.api());

test('the installed headers are complete', () => {
  for (const h of ['xchan_node.h', 'xchan/xchan.h', 'xchan/xchan_ext.h', 'xchan/xchan_combinators.h']) {
    assert.ok(fs.existsSync(path.join(x.includeDir, h)), h);
  }
});

test('C pthreads produce into a JS channel; JS consumes with for await', async () => {
  const ch = new Chan(64);
  const threads = 4;
  const n = 25000;
  const job = cross.startProducers(ch.handle(), n, threads, true);
  const seen = new Uint8Array(threads * n);
  let count = 0;
  for await (const v of ch) {
    assert.equal(seen[v], 0);
    seen[v] = 1;
    count++;
  }
  assert.equal(count, threads * n);
  cross.join(job);
});

test('a worker consumes what C produces, with takeSync', async () => {
  const ch = new Chan(16);
  const res = new Chan(1);
  const w = worker(`
    const ch = Chan.from(data.ch), res = Chan.from(data.res);
    let n = 0, sum = 0;
    for (const v of ch.sync()) { n++; sum += v; }
    res.putSync([n, sum].join(','));
  `, { ch, res });
  const job = cross.startProducers(ch.handle(), 10000, 2, true);
  const N = 20000;
  assert.equal(await res.take(), `${N},${(N * (N - 1)) / 2}`);
  cross.join(job);
  await exited(w);
});

test('C pthreads consume what JS puts: ints, strings, and host objects as "others"', async () => {
  const ch = new Chan(8);
  const job = cross.startConsumers(ch.handle(), 3);
  let sum = 0;
  for (let i = 0; i < 3000; i++) {
    await ch.put(i);
    sum += i;
  }
  await ch.put('héllo');
  await ch.put({ js: 'object' });
  await ch.put(Buffer.from('b'));
  ch.close();
  const r = cross.join(job);
  assert.deepEqual(r, { ints: 3000, sum, strings: 1, stringBytes: 6, others: 2 });
});

test('values made by C arrive as natural JS values', async () => {
  const ch = new Chan(16);
  cross.putSamples(ch.handle());
  const got = [];
  for (let i = 0; i < 7; i++) got.push(await ch.take());
  assert.deepEqual(got.slice(0, 4), [-42, 2.5, true, 'from C ✓']);
  assert.ok(Buffer.isBuffer(got[4]));
  assert.deepEqual([...got[4]], [0, 1, 2]);
  assert.deepEqual(got[5], [1, 'two']);
  assert.ok(got[6] instanceof Chan);
  assert.equal(await got[6].take(), 'inner');
});

test('a channel handle keeps the channel alive for C; Chan.fromHandle adopts one', async () => {
  const h = new Chan(1).handle();
  const again = Chan.fromHandle(h);
  assert.equal(await again.put(1), true);
  assert.equal(await Chan.fromHandle(h).take(), 1);
  assert.throws(() => Chan.fromHandle({}), x.errors.EINVAL);
});

test('a C thread adding to a channel with a JS transform: the step runs on the channel\'s JS thread', () => {
  // The producers' puts wait (holding the step lock) until this thread's
  // event loop has run the JS step for them; join only once they are done.
  const r = spawnSync(process.execPath, ['-e', `
    const x = require(${JSON.stringify(root)});
    const cross = require(${JSON.stringify(addonPath)});
    cross.init(x.api());
    const seen = [];
    const ch = new x.Chan(4, { xform: x.xf.map((v) => { seen.push(v); return v * 2; }) });
    const job = cross.startProducers(ch.handle(), 2, 3, true);
    (async () => {
      const got = [];
      for await (const v of ch) got.push(v);
      cross.join(job);
      console.log(JSON.stringify([got.sort((a, b) => a - b), seen.sort((a, b) => a - b)]));
    })();
  `], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [[0, 2, 4, 6, 8, 10], [0, 1, 2, 3, 4, 5]]);
  assert.equal(r.stderr, '');
});

test('a Box from C: the same native pointer each time it is put; its destructor runs once', async () => {
  const before = cross.boxCounts();
  const ch = new Chan(2);
  assert.equal(cross.putBox(ch.handle(), 'b1'), true);
  let b = ch.poll();
  assert.ok(b instanceof x.Box);
  const tmp = new Chan(2);
  tmp.offer(b);
  tmp.offer(b);
  assert.equal(cross.boxTag(tmp.handle()), 'b1'); // C reads the box JS put back
  assert.ok(tmp.poll() instanceof x.Box);
  assert.ok(tmp.poll() instanceof x.Box);
  assert.throws(() => new x.Box(), TypeError);
  b = undefined;
  for (let i = 0; i < 100 && cross.boxCounts().released === before.released; i++) {
    global.gc();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(cross.boxCounts(), { made: before.made + 1, released: before.released + 1 });
});

test('tuple(items) is an ARRAY C reads; nil items are EINVAL; a host value of another runtime is ERUNTIME', async () => {
  const ch = new Chan(2);
  const t = x.tuple([1, 'two', x.tuple([true])]);
  ch.offer(t);
  const job = cross.startConsumers(ch.handle(), 1);
  ch.close();
  assert.deepEqual(cross.join(job), { ints: 0, sum: 0, strings: 0, stringBytes: 0, others: 1 });
  const back = new Chan(1);
  back.offer(t);
  assert.deepEqual(await back.take(), [1, 'two', [true]]); // a new Array: ARRAY, not a host object
  assert.throws(() => x.tuple([1, null]), x.errors.EINVAL);
  const f = new Chan(2);
  assert.equal(cross.putForeign(f.handle(), 'theirs'), true);
  let held;
  assert.throws(() => f.poll(), (e) => e.code === 'ERUNTIME' && (held = e.value) !== undefined);
  assert.equal(f.offer(held), true); // not lost: it can be put again
  assert.throws(() => f.poll(), (e) => e.code === 'ERUNTIME');
});
