// The interop test's Node side (tests/cross/run node).
//
//   XCHAN_NODE_MODULE=bindings/node node interop.js /path/to/libinterop.so
//
// Starts interop.c's `produce` on a native thread (native.thread) into a
// Chan made here, takes the 19 values with `await` and checks each one's JS
// type and content, in order (the sequence is in interop.c); does it again
// with a worker_thread taking them with `takeSync` (so every value also
// crosses into another isolate); then sends the
// returned sequence (items 0-16) to interop.c's `consume` on another native
// thread and prints its verdict.  JS has one number type, so an INT that fits
// 53 bits and a DOUBLE both arrive as `number`: the check is on the value
// (Object.is, so -0 and NaN count), and the int64 extremes must be bigints.
// Exit status 0 only when both directions match.
'use strict';
const path = require('node:path');
const assert = require('node:assert');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');

const modulePath = isMainThread
  ? path.resolve(process.env.XCHAN_NODE_MODULE || path.join(__dirname, '../../../bindings/node'))
  : workerData.modulePath;
const xchan = require(modulePath);
const { Chan, native } = xchan;

const TIMEOUT = 30000; // ms for any one take: a hang fails, it does not block CI
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UTF8_TEXT = 'h\u00e9llo \u20ac \u{1F642}';

const same = (want) => (v) => typeof v === typeof want && Object.is(v, want);
const buf = (bytes) => (v) => Buffer.isBuffer(v) && v.equals(Buffer.from(bytes));

const EXPECTED = [
  ['bool true', same(true)],
  ['bool false', same(false)],
  ['int 0', same(0)],
  ['int -1', same(-1)],
  ['int INT64_MIN (bigint)', same(INT64_MIN)],
  ['int INT64_MAX (bigint)', same(INT64_MAX)],
  ['double 1.5', same(1.5)],
  ['double -0.0', same(-0)],
  ['double 1e308', same(1e308)],
  ['double NaN', same(NaN)],
  ["string 'hello'", same('hello')],
  ['string multi-byte UTF-8', same(UTF8_TEXT)],
  ["string ''", same('')],
  ["string 'a\\0b'", same('a\0b')],
  ['bytes 00 ff 00 7f', buf([0, 0xff, 0, 0x7f])],
  ["bytes ''", buf([])],
  ['chan holding 42, then closed', async (v, take) =>
    v instanceof Chan && (await take(v)) === 42 && (await take(v)) === undefined],
  ["array [1, 'two', [3.5, [true]], <00>]", (v) => {
    try {
      assert.ok(Array.isArray(v) && v.length === 4);
      assert.ok(Object.is(v[0], 1) && v[1] === 'two');
      assert.ok(Array.isArray(v[2]) && v[2].length === 2 && v[2][0] === 3.5);
      assert.deepStrictEqual(v[2][1], [true]);
      assert.ok(buf([0])(v[3]));
      return true;
    } catch { return false; }
  }],
  ['array []', (v) => Array.isArray(v) && v.length === 0],
];

function returned() {
  const inner = new Chan(1);
  assert.ok(inner.offer(42));
  return [true, false, 0, -1, INT64_MIN, INT64_MAX, 1.5, -0, 1e308, NaN,
    'hello', UTF8_TEXT, '', 'a\0b', Buffer.from([0, 0xff, 0, 0x7f]), Buffer.alloc(0), inner];
}

const show = (v) => (typeof v === 'bigint' ? `${v}n` : Buffer.isBuffer(v) ? `<Buffer ${v.toString('hex')}>` :
  v instanceof Chan ? 'Chan' : JSON.stringify(v) ?? String(v));

// Takes the produced sequence from `out` with `take` (a Promise or a value)
// and returns what was wrong.
async function checkAll(out, take, who) {
  const failures = [];
  let i = 0;
  for (; i < EXPECTED.length; i++) {
    const [what, ok] = EXPECTED[i];
    const v = await take(out);
    if (v === undefined) { failures.push(`C->${who} item ${i} (${what}): channel closed early`); break; }
    if (!(await ok(v, take))) failures.push(`C->${who} item ${i} (${what}): got ${show(v)} (${typeof v})`);
  }
  if (i === EXPECTED.length) {
    const extra = await take(out);
    if (extra !== undefined) failures.push(`C->${who}: extra value after the sequence: ${show(extra)}`);
  }
  return failures;
}

// The worker's side: takeSync (blocking, as a worker may) on the Chan it
// was handed.
async function workerMain() {
  const failures = await checkAll(Chan.from(workerData.out), (ch) => ch.takeSync(TIMEOUT), 'node worker');
  parentPort.postMessage(failures);
}

async function main(lib) {
  const out = new Chan();
  const done = native.thread(lib, 'produce', 'v(c)', out);
  const failures = await checkAll(out, (ch) => ch.take(TIMEOUT), 'node');
  await done.take(TIMEOUT);
  console.log(`  C->node (await on the main thread): ${EXPECTED.length} values checked`);

  const toWorker = new Chan();
  const worker = new Worker(__filename, { workerData: { modulePath, out: toWorker } });
  const reported = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited (${code}) without a report`)));
  });
  const done2 = native.thread(lib, 'produce', 'v(c)', toWorker);
  failures.push(...(await reported));
  toWorker.close(); // lets the producer finish even if the worker stopped early
  await done2.take(TIMEOUT);
  console.log(`  C->node worker (takeSync): ${EXPECTED.length} values checked`);

  const back = new Chan();
  const verdict = native.thread(lib, 'consume', 's(c)', back);
  for (const v of returned()) await back.put(v, TIMEOUT);
  back.close();
  const answer = await verdict.take(TIMEOUT);
  console.log(`  node->C: consume says ${JSON.stringify(answer)}`);
  if (!(typeof answer === 'string' && answer.startsWith('ok '))) failures.push(`node->C: ${JSON.stringify(answer)}`);
  for (const f of failures) console.log(`  ${f}`);
  console.log(`node (${process.version}, xchan ${xchan.version}): ${failures.length ? 'FAIL' : 'PASS'}`);
  return failures.length ? 1 : 0;
}

if (!isMainThread) {
  workerMain().catch((e) => parentPort.postMessage([`worker: ${e && e.stack || e}`]));
} else if (process.argv.length !== 3) {
  console.error('usage: node interop.js LIBINTEROP.so');
  process.exit(2);
} else {
  main(process.argv[2]).then((rc) => { process.exitCode = rc; }, (e) => {
    console.log(`  error: ${e && e.stack || e}`);
    console.log('node: FAIL');
    process.exitCode = 1;
  });
}
