'use strict';
// The Node part of `make demo` (run by examples/demo/run.sh).
//
// C threads produce sensor readings into a channel JS made; a mult fans it
// out to an async go task on the main thread and to a worker_thread that
// blocks in takeSync, while an alts with a timeout keeps watch on the C
// producer.  Prints what happened and the throughput.
//
//   XCHAN_DEMO_LIB=build/examples/demo/libxchan_demo_sensors.so \
//   XCHAN_NODE_MODULE=bindings/node node examples/demo/demo.js
const path = require('node:path');
const { Worker } = require('node:worker_threads');

const modulePath = path.resolve(process.env.XCHAN_NODE_MODULE || 'bindings/node');
const xchan = require(modulePath);
const { Chan, mult, go, alts, timeout, native } = xchan;

const LIB = process.env.XCHAN_DEMO_LIB || 'build/examples/demo/libxchan_demo_sensors.so';
const SENSORS = 4;
const PER_SENSOR = Number(process.env.XCHAN_DEMO_PER_SENSOR || 30000);

// The worker: a plain blocking loop over the channel (takeSync), which a
// worker may do and the main thread must not.
const workerSource = `
  const { workerData, parentPort } = require('node:worker_threads');
  const { Chan } = require(workerData.modulePath);
  let warm = 0, first;
  for (const v of Chan.from(workerData.ch).sync()) {
    if (typeof v === 'string' && v.endsWith('warm')) { warm++; first ??= v; }
  }
  parentPort.postMessage({ warm, first });
`;

// A go task on the main thread: what the readings say (counts are >= 1000,
// temperatures below 100; status lines are strings).
async function summarise(readings) {
  let temps = 0, tempSum = 0, tempMax = -Infinity, counts = 0, statuses = 0;
  for await (const v of readings) {
    if (typeof v === 'string') statuses++;
    else if (v >= 1000) counts++;
    else { temps++; tempSum += v; tempMax = Math.max(tempMax, v); }
  }
  return { temps, mean: tempSum / temps, tempMax, counts, statuses };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');

async function main() {
  console.log(`  Node ${process.version}, async/await + worker_threads, xchan ${xchan.version}`);
  const readings = new Chan(1024);
  const fan = mult(readings);
  const toStats = fan.tap(new Chan(1024));
  const toWorker = fan.tap(new Chan(1024));

  const t0 = process.hrtime.bigint();
  const worker = new Worker(workerSource, { eval: true, workerData: { modulePath, ch: toWorker } });
  const watched = new Promise((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const producer = native.ioThread(LIB, 'run_sensors', 'i(cii)', readings, SENSORS, PER_SENSOR);
  const stats = go(summarise, toStats);

  // Keep watch on the C producer: whichever is ready first wins.
  let ticks = 0, total;
  for (;;) {
    const r = await alts([producer, timeout(50)]);
    if (r.chan === producer) { total = r.value; break; }
    ticks++;
  }
  const s = await stats.take();
  const w = await watched;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await exited;

  console.log(`  C    run_sensors: ${SENSORS} pthreads put ${fmt(total)} readings into a Chan(1024),` +
    ' started with native.ioThread');
  console.log('  mult fans the channel out to a go task and a worker thread:');
  console.log(`         stats   (async, main thread) ${fmt(s.temps)} temperatures (mean ${s.mean.toFixed(1)} °C,` +
    ` max ${s.tempMax.toFixed(1)}), ${fmt(s.counts)} counts, ${fmt(s.statuses)} status lines`);
  console.log(`         watch   (worker, takeSync)   ${fmt(w.warm)} "warm" statuses, the first: '${w.first}'`);
  console.log(`  alts   [producer, timeout(50 ms)]: the timeout won ${ticks}×, then the producer answered ${fmt(total)}`);
  if (total !== SENSORS * PER_SENSOR || s.temps + s.counts + s.statuses !== total) {
    throw new Error(`readings lost: ${total} put, ${s.temps + s.counts + s.statuses} taken`);
  }
  console.log(`  rate   ${fmt(total)} readings in ${seconds.toFixed(2)} s = ${fmt(total / seconds)} msg/s` +
    ' (C threads → mult → async + worker)');
  console.log(`@@result ${total} ${seconds.toFixed(6)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
