#!/usr/bin/env node
// row 15 of bench/README.md (Node): xchan against what a Node user has today.
//
//   node bench/node/bench.js [--quick] [--json]
//
//  pair         offer+poll on a buffered channel (sync try pair), ns per pair,
//               against the Node-API floor: two calls of a native no-op
//  stream1      async stream in one isolate: await put / await take, cap 64
//  stream m->w  main puts (await put, cap 1024), a worker takes (takeSync)
//               vs postMessage (one message per value)
//               vs a SharedArrayBuffer ring of int32 (Atomics.wait when
//               empty/full), hand-written, the fastest a user can build
//  rt m<->w     round trip: main puts a request and awaits the reply; the
//               worker answers with takeSync/putSync
//               vs postMessage ping-pong
//               vs the SAB ring pair with the main thread waiting in
//               Atomics.wait (blocking the event loop) and in
//               Atomics.waitAsync (keeping it)
//  objs w->m    a worker puts small objects ({i, s, a: [1, 2, 3]}, putSync,
//               cap 1024), main takes each as a structured clone (await
//               take: one serialize round trip to the worker per object)
//               vs postMessage of the same objects (informative, not row 15)
// Each figure is the median of several runs after a warm-up; ratios are
// xchan / peer (lower is better for xchan).
'use strict';
const path = require('node:path');
const { Worker } = require('node:worker_threads');
const xchan = require(path.join(__dirname, '..', '..', 'bindings', 'node'));
const native = require(path.join(__dirname, '..', '..', 'bindings', 'node', 'lib', 'native'));
const { Chan } = xchan;

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const REPS = quick ? 3 : 5;
const N = {
  pair: quick ? 500000 : 2000000,
  stream1: quick ? 100000 : 400000,
  stream: quick ? 100000 : 400000,
  rt: quick ? 5000 : 20000,
  objs: quick ? 5000 : 20000,
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => process.hrtime.bigint();

async function measure(fn, n) {
  await fn(Math.max(1, Math.floor(n / 10))); // warm-up
  const runs = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = now();
    await fn(n);
    runs.push(Number(now() - t0) / n);
  }
  return median(runs);
}

// ---- one isolate --------------------------------------------------------------

function pairXchan(n) {
  const ch = new Chan(64);
  for (let i = 0; i < n; i++) {
    ch.offer(i);
    ch.poll();
  }
}

function pairFloor(n) {
  const f = native.noop;
  let x = 0;
  for (let i = 0; i < n; i++) {
    x = f(i);
    x = f(x);
  }
  return x;
}

async function stream1(n) {
  const ch = new Chan(64);
  const consumer = (async () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += await ch.take();
    return s;
  })();
  for (let i = 0; i < n; i++) await ch.put(i);
  await consumer;
}

// ---- main <-> worker ------------------------------------------------------------

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Chan } = require(workerData.xchan);
parentPort.on('message', (m) => {
  if (m.kind === 'xchan-stream') {
    const ch = Chan.from(m.ch); let s = 0;
    for (let i = 0; i < m.n; i++) s += ch.takeSync();
    parentPort.postMessage(s);
  } else if (m.kind === 'xchan-rt') {
    const req = Chan.from(m.req), res = Chan.from(m.res);
    for (let i = 0; i < m.n; i++) res.putSync(req.takeSync() + 1);
    parentPort.postMessage('done');
  } else if (m.kind === 'xchan-objs') {
    const ch = Chan.from(m.ch);
    for (let i = 0; i < m.n; i++) ch.putSync({ i, s: 'abc', a: [1, 2, 3] });
    parentPort.once('message', () => parentPort.postMessage('done')); // alive until all were taken
    parentPort.postMessage('put');
  } else if (m.kind === 'pm-objs') {
    for (let i = 0; i < m.n; i++) m.port.postMessage({ i, s: 'abc', a: [1, 2, 3] });
    m.port.close();
  } else if (m.kind === 'pm-stream') {
    let s = 0, left = m.n;
    const port = m.port;
    port.on('message', (v) => { s += v; if (--left === 0) { port.close(); parentPort.postMessage(s); } });
  } else if (m.kind === 'pm-rt') {
    const port = m.port; let left = m.n;
    port.on('message', (v) => { port.postMessage(v + 1); if (--left === 0) port.close(); });
  } else if (m.kind === 'sab-stream') {
    const ring = new Int32Array(m.sab), cap = ring.length - 2; // [0]=head [1]=tail
    let s = 0;
    for (let i = 0; i < m.n; i++) {
      let t = Atomics.load(ring, 1);
      while (Atomics.load(ring, 0) === t) Atomics.wait(ring, 0, t);
      s += ring[2 + (t % cap)];
      Atomics.store(ring, 1, t + 1); Atomics.notify(ring, 1);
    }
    parentPort.postMessage(s);
  } else if (m.kind === 'sab-rt') {
    const a = new Int32Array(m.sab); // [0]=seq req, [1]=req value, [2]=seq reply, [3]=reply value
    for (let i = 1; i <= m.n; i++) {
      while (Atomics.load(a, 0) !== i) Atomics.wait(a, 0, i - 1);
      a[3] = a[1] + 1;
      Atomics.store(a, 2, i); Atomics.notify(a, 2);
    }
    parentPort.postMessage('done');
  }
});
`;

let worker;
function startWorker() {
  worker = new Worker(WORKER, { eval: true, workerData: { xchan: path.join(__dirname, '..', '..', 'bindings', 'node') } });
}
const reply = () => new Promise((r) => worker.once('message', r));

async function xchanStream(n) {
  const ch = new Chan(1024);
  const done = reply();
  worker.postMessage({ kind: 'xchan-stream', ch, n });
  for (let i = 0; i < n; i++) await ch.put(i);
  await done;
}

async function pmStream(n) {
  const { port1, port2 } = new MessageChannel();
  const done = reply();
  worker.postMessage({ kind: 'pm-stream', port: port2, n }, [port2]);
  for (let i = 0; i < n; i++) port1.postMessage(i);
  await done;
  port1.close();
}

async function sabStream(n) {
  const sab = new SharedArrayBuffer(4 * (2 + 1024));
  const ring = new Int32Array(sab);
  const cap = 1024;
  const done = reply();
  worker.postMessage({ kind: 'sab-stream', sab, n });
  for (let i = 0; i < n; i++) {
    const h = Atomics.load(ring, 0);
    while (h - Atomics.load(ring, 1) >= cap) Atomics.wait(ring, 1, Atomics.load(ring, 1));
    ring[2 + (h % cap)] = i;
    Atomics.store(ring, 0, h + 1);
    Atomics.notify(ring, 0);
  }
  await done;
}

async function xchanRt(n) {
  const req = new Chan();
  const res = new Chan();
  const done = reply();
  worker.postMessage({ kind: 'xchan-rt', req, res, n });
  for (let i = 0; i < n; i++) {
    await req.put(i);
    await res.take();
  }
  await done;
}

async function xchanObjs(n) {
  const ch = new Chan(1024);
  const put = reply();
  worker.postMessage({ kind: 'xchan-objs', ch, n });
  let s = 0;
  for (let i = 0; i < n; i++) s += (await ch.take()).i;
  await put;
  const done = reply();
  worker.postMessage('taken');
  await done;
  return s;
}

async function pmObjs(n) {
  const { port1, port2 } = new MessageChannel();
  let left = n;
  const got = new Promise((r) => port1.on('message', () => { if (--left === 0) r(); }));
  worker.postMessage({ kind: 'pm-objs', port: port2, n }, [port2]);
  await got;
  port1.close();
}

async function pmRt(n) {
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ kind: 'pm-rt', port: port2, n }, [port2]);
  for (let i = 0; i < n; i++) {
    const p = new Promise((r) => port1.once('message', r));
    port1.postMessage(i);
    await p;
  }
  port1.close();
}

async function sabRt(n, waitAsync) {
  const sab = new SharedArrayBuffer(16);
  const a = new Int32Array(sab);
  const done = reply();
  worker.postMessage({ kind: 'sab-rt', sab, n });
  for (let i = 1; i <= n; i++) {
    a[1] = i;
    Atomics.store(a, 0, i);
    Atomics.notify(a, 0);
    while (Atomics.load(a, 2) !== i) {
      if (waitAsync) await Atomics.waitAsync(a, 2, i - 1).value;
      else Atomics.wait(a, 2, i - 1);
    }
  }
  await done;
}

// ---- run ------------------------------------------------------------------------

async function main() {
  startWorker();
  const rows = [];
  const add = (row, workload, x, peer, p) => rows.push({ row, workload, xchan: x, peer, peerNs: p, ratio: p ? x / p : null });

  const pair = await measure(pairXchan, N.pair);
  const floor = await measure(pairFloor, N.pair);
  add('15a', 'sync try pair (offer+poll)', pair, 'N-API floor (2 no-op calls)', floor);
  add('15b', 'async stream, one isolate (cap 64)', await measure(stream1, N.stream1), null, null);
  const xs = await measure(xchanStream, N.stream);
  add('15c', 'stream main->worker (cap 1024)', xs, 'postMessage', await measure(pmStream, N.stream));
  add('15c', 'stream main->worker (cap 1024)', xs, 'SAB+Atomics.wait int ring', await measure(sabStream, N.stream));
  const xr = await measure(xchanRt, N.rt);
  add('15d', 'round trip main<->worker', xr, 'postMessage', await measure(pmRt, N.rt));
  add('15d', 'round trip main<->worker', xr, 'SAB ring, main in Atomics.wait', await measure((n) => sabRt(n, false), N.rt));
  add('15d', 'round trip main<->worker', xr, 'SAB ring, main in Atomics.waitAsync', await measure((n) => sabRt(n, true), N.rt));
  add('objs', 'objects w->main as clones (cap 1024)', await measure(xchanObjs, N.objs), 'postMessage', await measure(pmObjs, N.objs));
  await worker.terminate();

  if (asJson) {
    console.log(JSON.stringify({ node: process.version, rows }, null, 2));
    return;
  }
  const fmt = (ns) => (ns === null ? '' : ns >= 1000 ? `${(ns / 1000).toFixed(2)} us` : `${ns.toFixed(1)} ns`);
  console.log(`xchan Node bench (row 15), node ${process.version}, ${require('node:os').cpus().length} cpus, median of ${REPS}${quick ? ' (quick)' : ''}`);
  console.log('row  workload                              xchan        peer                                  peer         xchan/peer');
  for (const r of rows) {
    console.log(`${r.row.padEnd(4)} ${r.workload.padEnd(37)} ${fmt(r.xchan).padStart(10)}   ${(r.peer || '-').padEnd(37)} ${fmt(r.peerNs).padStart(10)}   ${r.ratio === null ? '' : r.ratio.toFixed(2) + 'x'}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
