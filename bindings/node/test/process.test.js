'use strict';
// Process-level behaviour: exit with idle channels, keep-alive while an
// operation is pending, memory over 1M operations.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { root } = require('./helpers');

function run(src, { args = [], timeout = 60000 } = {}) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [...args, '-e', `const xchan = require(${JSON.stringify(root)});\n${src}`],
    { encoding: 'utf8', timeout });
  return { ...r, ms: Date.now() - t0 };
}

test('the process exits normally with idle channels, buffered values and unfired timeouts', () => {
  const r = run(`
    const { Chan, timeout } = xchan;
    const a = new Chan(10); a.offer({ o: 1 }); a.offer('s');
    const b = new Chan(); const c = timeout(60000);
    const d = new Chan(1, { xform: xchan.xf.map((v) => v) }); d.offer(1);
    globalThis.keep = [a, b, c, d];
    console.log('done');
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done');
  assert.ok(r.ms < 10000, `exit took ${r.ms} ms`);
});

test('a pending take keeps the process alive until it completes', () => {
  const r = run(`
    const t0 = Date.now();
    xchan.timeout(300).take().then((v) => console.log('fired', v, Date.now() - t0 >= 290));
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'fired undefined true');
});

test('a worker blocked in takeSync does not hold the exit', () => {
  const r = run(`
    const { Worker } = require('node:worker_threads');
    const ch = new xchan.Chan();
    const w = new Worker(\`const { Chan } = require(${JSON.stringify(root)});
      const { workerData, parentPort } = require('node:worker_threads');
      parentPort.postMessage('in'); Chan.from(workerData).takeSync();\`, { eval: true, workerData: ch });
    w.once('message', () => { w.unref(); setTimeout(() => { console.log('main done'); process.exit(0); }, 50); });
  `, { timeout: 20000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'main done');
});

test('no leak over 1M operations (offer/poll, Promise put/take, objects, channels)', () => {
  const r = run(`
    const { Chan } = xchan;
    const collect = () => { for (let i = 0; i < 4; i++) global.gc(); };
    async function round(n) {
      const ch = new Chan(64);
      for (let i = 0; i < n; i++) { ch.offer(i); ch.poll(); }
      for (let i = 0; i < n; i++) { ch.offer({ i }); ch.poll(); }
      for (let i = 0; i < n / 4; i++) { await ch.put('s' + (i & 7)); await ch.take(); }
      const rv = new Chan();
      for (let i = 0; i < n / 8; i++) { const t = rv.take(); await rv.put(Buffer.alloc(8)); await t; }
      for (let i = 0; i < n / 16; i++) { const c = new Chan(1); c.offer(c); c.poll(); }
      await new Promise((r) => setImmediate(r));
    }
    (async () => {
      // Warm-up: the allocator and V8 reach their working set first.
      for (let k = 0; k < 4; k++) await round(100000);
      collect();
      await new Promise((r) => setTimeout(r, 50));
      collect();
      const native = require(${JSON.stringify(root + '/lib/native')});
      const live0 = native.liveCounts();
      const before = process.memoryUsage();
      let ops = 0;
      for (let k = 0; k < 5; k++) { await round(100000); ops += 100000 * (2 * 2 + 2 * 0.25 + 2 * 0.125 + 0.0625); }
      collect(); await new Promise((r) => setTimeout(r, 50)); collect();
      const after = process.memoryUsage();
      const live1 = native.liveCounts();
      console.log(JSON.stringify({ ops, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed,
        external: after.external - before.external, live0, live1 }));
    })();
  `, { args: ['--expose-gc'], timeout: 300000 });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.ok(m.ops >= 1e6, `ran ${m.ops} operations`);
  // Every native object the addon made was freed again (GC finalizers run).
  for (const k of ['chans', 'refs', 'ops']) {
    assert.ok(m.live1[k] <= m.live0[k] + 4, `live ${k}: ${m.live0[k]} -> ${m.live1[k]}`);
  }
  assert.ok(m.heap < 4e6, `heap grew by ${m.heap} bytes`);
  // Under ASan freed memory sits in its quarantine (256 MB): RSS says nothing
  // there, and ASan's own leak checks cover the native side.
  // RSS has allocator and V8 heap steps of tens of MB that plateau; a leak of
  // 16 bytes per op would add 38 MB.
  if (!process.env.ASAN_OPTIONS) assert.ok(m.rss < 32e6, `rss grew by ${m.rss} bytes`);
  console.log(`# 1M-op leak check: ${JSON.stringify(m)}`);
});
