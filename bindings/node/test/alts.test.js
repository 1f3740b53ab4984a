'use strict';
// alts: one clause completes; priority, default, put clauses, closed channels.
const test = require('node:test');
const assert = require('node:assert/strict');
const { Chan, alts, timeout, errors } = require('..');

test('alts takes from whichever channel is ready', async () => {
  const a = new Chan(1);
  const b = new Chan(1);
  const p = alts([a, b]);
  await b.put('B');
  const r = await p;
  assert.equal(r.value, 'B');
  assert.equal(r.chan, b);
  assert.equal(r.index, 1);
  assert.equal(a.info().pendingTakes, 0, 'the losing registration is withdrawn');
});

test('priority: the first ready clause in order wins', async () => {
  const a = new Chan(1);
  const b = new Chan(1);
  for (let i = 0; i < 50; i++) {
    a.offer(1);
    b.offer(2);
    const r = await alts([b, a], { priority: true });
    assert.equal(r.value, 2);
    assert.equal(a.poll(), 1);
  }
});

test('without priority the choice is uniformly random', async () => {
  const a = new Chan(1);
  const b = new Chan(1);
  let firsts = 0;
  const N = 2000;
  for (let i = 0; i < N; i++) {
    a.offer(1);
    b.offer(2);
    if ((await alts([a, b])).chan === a) firsts++;
    a.poll();
    b.poll();
  }
  // Binomial(2000, 0.5): mean 1000, sd ~22; 6 sd is a safe window.
  assert.ok(Math.abs(firsts - N / 2) < 135, `first clause won ${firsts} of ${N}`);
});

test('default: nothing ready -> the default, nothing registered', async () => {
  const a = new Chan();
  const r = await alts([a, [a, 1]], { default: 'nope' });
  assert.deepEqual(r, { value: 'nope', chan: undefined, index: -1 });
  assert.equal(a.info().pendingTakes + a.info().pendingPuts, 0);
  a.offer; // unused
  const b = new Chan(1);
  b.offer('ready');
  assert.equal((await alts([b], { default: 'nope' })).value, 'ready');
});

test('put clauses: true when delivered, false on a closed channel', async () => {
  const a = new Chan(1);
  const r = await alts([[a, 'v']]);
  assert.deepEqual([r.value, r.index, r.chan === a], [true, 0, true]);
  assert.equal(a.poll(), 'v');
  a.close();
  const c = await alts([[a, 'w']]);
  assert.equal(c.value, false);
});

test('a put clause whose value was not chosen stays out of the channel', async () => {
  const full = new Chan(1);
  full.offer('x');
  const ready = new Chan(1);
  ready.offer('r');
  const r = await alts([[full, 'never'], ready], { priority: true });
  assert.equal(r.value, 'r');
  assert.equal(full.poll(), 'x');
  assert.equal(full.poll(), undefined);
});

test('a closed channel completes a take clause with undefined', async () => {
  const a = new Chan();
  a.close();
  const r = await alts([a, new Chan()]);
  assert.equal(r.value, undefined);
  assert.equal(r.chan, a);
});

test('timeout(ms) as a clause, and the timeout option', async () => {
  const never = new Chan();
  const t = timeout(20);
  const r = await alts([never, t]);
  assert.equal(r.chan, t);
  await assert.rejects(alts([never], { timeout: 10 }), errors.ETIMEDOUT);
  assert.equal(never.info().pendingTakes, 0);
});

test('pending alts: the other side completes it from a later put', async () => {
  const a = new Chan();
  const b = new Chan();
  const p = alts([a, [b, 'to-b']]);
  assert.equal(await b.take(), 'to-b');
  const r = await p;
  assert.deepEqual([r.value, r.chan === b], [true, true]);
  assert.equal(a.info().pendingTakes, 0);
});

test('aborting alts: canceled, or its completed result is kept', async () => {
  const a = new Chan(1);
  const ac = new AbortController();
  const p = alts([a, [new Chan(), 'p']], { signal: ac.signal });
  ac.abort();
  await assert.rejects(p, errors.ECANCELED);
  assert.equal(a.info().pendingTakes, 0);
});

test('bad clauses are rejected with a reason', async () => {
  await assert.rejects(alts([]), errors.EINVAL);
  await assert.rejects(alts([42]), (e) => e.code === 'EINVAL' && /clause 0/.test(e.message));
  await assert.rejects(alts([[new Chan(), undefined]]), errors.ENIL);
});
