// Compiled by tsc --noEmit in test/types.test.js: the declarations describe
// the API as the README uses it.
import { Chan, alts, timeout, go, xf, dropping, sliding, promiseChan, errors, XchanError, mult, merge, pipeline, thread, setExecutorFactory, WorkerPool, buffer, altsAsync, Op, OpResult, setTaskErrorHook, inGo, pipe, CancelToken } from 'xchan';
import * as xchan from 'xchan';

async function main(): Promise<void> {
  const ch = new Chan<number>(10, { xform: xf.comp(xf.map((v: number) => v * 2), xf.take(5)) });
  const ok: boolean = await ch.put(1);
  const v: number | undefined = await ch.take({ timeout: 10 });
  const polled: number | undefined = ch.poll();
  ch.offer(2);
  for await (const x of ch) {
    const n: number = x;
    void n;
  }
  const d = new Chan<string>(dropping(3));
  const s = new Chan<string>(sliding(3));
  const p = promiseChan<string>();
  const r = await alts([d, [s, 'x'], timeout(5)], { priority: true, default: null });
  const idx: number = r.index;
  const res = go(async () => 42);
  const m = mult(d);
  m.tap(new Chan<string>(1));
  const merged: Chan<string> = merge([d, s, p]);
  const done: Chan<never> = pipeline(2, new Chan(1), xf.partitionAll(2), new Chan(1));
  setExecutorFactory((w) => (w === 'io' ? new WorkerPool({ size: 2 }) : null));
  const t: Chan<number> = thread<number>('./work.js', 'run', ch);
  try {
    ch.takeSync();
  } catch (e) {
    if (e instanceof errors.ESTATE || (e instanceof XchanError && e.code === 'ESTATE')) void e;
  }
  const shared = Chan.from<number>({ $xchan: ch.$xchan });
  const summed: Chan<number> = xchan.native.thread<number>('./libsensor.so', 'sum', 'i(c)', new Chan<number>());
  void summed;
  void [ok, v, polled, idx, res, merged, done, t, shared, xchan.version];
}
void main;

// The low-level API, buffers by name, done channels, the task error hook.
{
  const c = new Chan<number>(buffer('sliding', 2));
  const op: Op | undefined = c.takeAsync();
  if (op !== undefined && op.state === 'completed') {
    const r: OpResult = op.collect();
    console.log(r.code, r.index, r.value);
  }
  c.putAsync(1, (r: OpResult<boolean>) => console.log(r.code));
  altsAsync([c], { callback: (r) => console.log(r.index), timeout: 5 });
  const m: { result: Chan<number>; done: Chan<never> } = merge([c], undefined, { done: true });
  const p: Chan<number> = pipe(c, m.result);
  setTaskErrorHook((name: string, e: unknown) => console.log(name, e, inGo(), p));
  const tok = new CancelToken();
  void c.take({ cancel: tok, timeout: 5 });
  tok.fire();
}
