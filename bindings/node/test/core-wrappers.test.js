'use strict';
// The thin wrappers over the core: checkVersion, randomSeed, and the
// combinator edge cases whose answer is the core's (map of no inputs, into
// with a non-array init, ontoChan onto a channel with a JS transform).
const test = require('node:test');
const assert = require('node:assert/strict');
const x = require('..');
const { Chan, xf, sliding } = x;

async function drain(ch) {
  const out = [];
  for await (const v of ch) out.push(v);
  return out;
}

test('checkVersion: the addon header passes; another major or a newer minor is EVERSION', () => {
  x.checkVersion();
  assert.throws(() => x.checkVersion(990000), { code: 'EVERSION' });
  assert.throws(() => x.checkVersion(9900), { code: 'EVERSION' });
  assert.throws(() => x.checkVersion(-1), { code: 'EVERSION' });
  assert.throws(() => x.checkVersion('1'), { code: 'EINVAL' });
});

test('randomSeed: the same seed gives the same alts choices on this thread', async () => {
  // Both clauses are ready, so alts chooses at once on this thread.
  const run = async () => {
    const a = new Chan(1);
    const b = new Chan(1);
    const picks = [];
    for (let i = 0; i < 64; i++) {
      a.offer(1);
      b.offer(2);
      const r = await x.alts([a, b]);
      picks.push(r.chan === a ? 'a' : 'b');
      (r.chan === a ? b : a).poll();
    }
    return picks.join('');
  };
  x.randomSeed(7);
  const first = await run();
  x.randomSeed(7n);
  assert.equal(await run(), first);
  assert.ok(first.includes('a') && first.includes('b'), `both clauses chosen: ${first}`);
  assert.throws(() => x.randomSeed(-1), { code: 'EINVAL' });
  assert.throws(() => x.randomSeed(1.5), { code: 'EINVAL' });
  assert.throws(() => x.randomSeed(2n ** 64n), { code: 'EINVAL' });
});

test('map of no channels is closed at once', async () => {
  let called = false;
  const out = x.map(() => {
    called = true;
    return 0;
  }, []);
  assert.equal(await out.take(), undefined);
  assert.equal(called, false);
});

test('into with an init that is not an array is ETYPE (the core decides)', () => {
  assert.throws(() => x.into(5, new Chan()), { code: 'ETYPE' });
  assert.throws(() => x.into('ab', new Chan()), { code: 'ETYPE' });
});

test('xf.take(0) is EINVAL, as the core take transform', () => {
  assert.throws(() => xf.take(0), { code: 'EINVAL' });
  assert.throws(() => new Chan(1, { xform: xf.comp(xf.map((v) => v), xf.take(0)) }), { code: 'EINVAL' });
});

test('ontoChan onto a channel with a JS transform runs every step (none lost)', async () => {
  const c = new Chan(5, { xform: xf.filter((v) => v % 2 === 0) });
  const d = x.ontoChan(c, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(await drain(c), [2, 4, 6]);
  assert.equal(await d.take(), undefined);

  const comp = new Chan(10, { xform: xf.comp(xf.filter((v) => v % 2 === 1), xf.map((v) => v * 2), xf.map((v) => v + 1)) });
  await x.ontoChan(comp, [1, 2, 3, 4, 5]).take();
  assert.deepEqual(await drain(comp), [3, 7, 11]);

  const s = new Chan(sliding(2), { xform: xf.map((v) => v + 1) });
  assert.equal(await x.ontoChan(s, [1, 2, 3, 4]).take(), undefined);
  assert.deepEqual(await drain(s), [4, 5]);
});

test('ontoChan with a JS transform: close=false leaves it open; a closed channel ends it; a null value is ENIL, as the core', async () => {
  const c = new Chan(5, { xform: xf.map((v) => v * 10) });
  await x.ontoChan(c, [1, 2], false).take();
  assert.equal(c.closed, false);
  assert.deepEqual([c.poll(), c.poll()], [10, 20]);
  c.close();
  assert.equal(await x.ontoChan(c, [3]).take(), undefined);
  assert.equal(c.poll(), undefined);
  assert.throws(() => x.ontoChan(new Chan(1, { xform: xf.map((v) => v) }), [1, null]), { code: 'ENIL' });
  assert.throws(() => x.ontoChan([], [1]), { code: 'EINVAL' });
});
