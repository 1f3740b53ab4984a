'use strict';
// thread / ioThread and the executor factory, for Node.
//
// JS runs only on JS threads, so "run this on another thread" means a worker
// pool: thread(file, exportName, ...args) runs the function a module exports
// on a worker of the MIXED pool (ioThread: the IO pool) and returns a Chan that
// receives its (awaited) result and then closes, as core.async's thread does.
// Arguments and results are copied as postMessage copies them; a Chan crosses
// as the same native channel.  A thrown error closes the result Chan without
// a value and goes to the task error hook (setTaskErrorHook), as the core's
// failed tasks do.  setExecutorFactory(f) chooses the pool of each workload
// ('dispatch', 'mixed', 'io', 'compute'): f returns a WorkerPool, a size, or
// null for the default (os.availableParallelism() workers; for 'dispatch',
// the 'mixed' pool, as the core falls back).  execute(workload, file,
// exportName, ...args) runs a job on a workload's pool without a result.
//
// go(file, exportName, ...args) is a go task on the DISPATCH pool: an async
// body that shares a worker's event loop with other go bodies (at most one
// worker per CPU takes go bodies; a worker running a thread() job takes none,
// since it may block), as core.async's go blocks share the dispatch threads.
//
// Which pool a workload's jobs run on (poolFor), first that applies:
//  1. the pool setExecutorFactory's function returns for it;
//  2. when process.env.XCHAN_EXECUTOR_FACTORY is non-empty (the core's C
//     executor factory, "libfoo.so:symbol"), a CoreAdmittedPool: the job
//     runs on a worker as always, but BY PROXY of the core's executor for
//     the workload (xchan_executor_for, with the core's DISPATCH -> MIXED
//     fallback and defaults): each job is an xchan_execute whose task, on
//     the executor's thread, starts the job on this thread's pool and, for
//     mixed/io/compute, holds that thread until the job ends (a go body,
//     'dispatch', parks instead: the thread is let go once the job
//     started).  So the C executor's concurrency, queue and threads govern
//     the job as they would a C task.  A factory that cannot be loaded
//     throws ELOAD (naming the variable) from every execute/thread/
//     ioThread/go(file); a refused xchan_execute throws its error there;
//     a worker's env ending, shutdown() and process exit let go of the
//     threads its jobs hold, and a job the executor still held back when
//     shutdown() dropped its queue fails with ESHUTDOWN (src/admission.c);
//  3. the default pools below.
//
// A worker hands its job's outcome back with native.callThread: a JS call
// that this (the spawning) thread runs from its event loop, or at once if it
// is blocked in takeSync/putSync/altsSync (src/jscall.c), so a worker that
// blocks on the result of its own thread() still gets it.  The outcome
// travels as v8.serialize bytes (the copy postMessage would make).
const os = require('node:os');
const v8 = require('node:v8');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { Worker, threadId } = require('node:worker_threads');
const native = require('./native');
const { makeError, invalidArg, errors } = require('./errors');
const { Chan, reportTaskError, checkNotShutDown, onShutdown, beforeShutdown } = require('./chan');

const WORKER = path.join(__dirname, 'pool-worker.js');
// WorkerPool's methods for CoreAdmittedPool (not public API).
const kJob = Symbol('job');
const kSubmit = Symbol('submit');

function moduleUrl(file) {
  if (file instanceof URL) return file.href;
  if (typeof file !== 'string' || file === '') throw makeError('EINVAL', 'thread(file, exportName, ...args): file is a module path or URL');
  if (/^(file|data):/.test(file)) return file;
  return pathToFileURL(path.resolve(file)).href;
}

// A task's error as the worker posted it: an XchanError of the core's code
// again (its class and code are lost in the copy), or the copy with its code.
function revivedError({ error, code }) {
  if (typeof code !== 'string') return error;
  if (code in errors && error instanceof Error) {
    const e = makeError(code, error.message);
    e.stack = error.stack;
    return e;
  }
  if (error !== null && typeof error === 'object') error.code = code;
  return error;
}

// Jobs of every pool of this thread in flight: id -> finish(outcome).
const inFlight = new Map();
let nextJobId = 1;
native.setRemoteHandler((bytes) => {
  let msg;
  try {
    msg = v8.deserialize(bytes);
  } catch (e) {
    process.emitWarning(`xchan: a pool result could not be read: ${e && e.message}`, { type: 'XchanWarning' });
    return;
  }
  const finish = inFlight.get(msg.id);
  if (finish) finish(msg);
});

class WorkerPool {
  #size;
  #name;
  #idle = []; // workers with no job
  #all = new Set(); // w.jobs: its jobs; w.goOnly: they are all go bodies
  #queue = [];
  #closed = false;

  /**
   * A pool of at most `size` workers (started on demand, unref'd while
   * idle); size Infinity makes a cached pool that grows with demand.
   */
  constructor({ size = os.availableParallelism(), name = 'xchan-pool' } = {}) {
    if (!(Number.isSafeInteger(size) || size === Infinity) || size < 1) throw makeError('EINVAL', 'WorkerPool: size must be an integer >= 1 or Infinity');
    this.#size = size;
    this.#name = name;
  }

  get size() {
    return this.#size;
  }

  /**
   * Runs exportName of module file with args on a worker; a Chan of the
   * result.  run({ name }, file, exportName, ...args) names the task (for the
   * task error hook; default "<file URL>#<exportName>").
   */
  run(file, exportName = 'default', ...args) {
    const job = this[kJob](file, exportName, ...args);
    this[kSubmit](job);
    return job.out;
  }

  // The job of run()'s arguments (checked; not started).
  [kJob](file, exportName = 'default', ...args) {
    let name;
    let goBody = false;
    if (file !== null && typeof file === 'object' && !(file instanceof URL)) {
      ({ name } = file);
      goBody = file.go === true;
      if (name !== undefined && typeof name !== 'string') throw invalidArg('thread({ name }, ...): name must be a string');
      [file, exportName = 'default', ...args] = [exportName, ...args];
    }
    if (this.#closed) throw makeError('ESHUTDOWN', 'this WorkerPool is closed');
    if (typeof exportName !== 'string') throw makeError('EINVAL', 'thread(file, exportName, ...args): exportName is a string');
    const url = moduleUrl(file);
    return { id: nextJobId++, url, fn: exportName, args, out: new Chan(1), go: goBody, name: name === undefined ? `${url}#${exportName}` : name, onEnd: null };
  }

  // Queues a job of kJob; its onEnd (if any) runs once it has ended.
  [kSubmit](job) {
    if (this.#closed) throw makeError('ESHUTDOWN', 'this WorkerPool is closed');
    this.#queue.push(job);
    this.#dispatch();
  }

  /** Stops the workers (running tasks are terminated; their result channels close). */
  async close() {
    this.#closed = true;
    const all = [...this.#all];
    await Promise.all(all.map((w) => w.terminate()));
  }

  #dispatch() {
    for (let i = 0; i < this.#queue.length; ) {
      const job = this.#queue[i];
      const w = job.go ? this.#goWorker() : this.#freeWorker();
      if (w === undefined) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#start(w, job);
    }
  }

  #freeWorker() {
    let w = this.#idle.pop();
    if (w === undefined && this.#all.size < this.#size) w = this.#spawn();
    return w;
  }

  // The worker for a go body: an idle one, a new one while fewer than one
  // per CPU run go bodies, else the least loaded of those.
  #goWorker() {
    const goWorkers = [...this.#all].filter((w) => w.goOnly && w.jobs.size > 0);
    const limit = Math.min(this.#size, os.availableParallelism());
    if (goWorkers.length < limit) {
      const w = this.#freeWorker();
      if (w !== undefined) return w;
    }
    let best;
    for (const w of goWorkers) if (best === undefined || w.jobs.size < best.jobs.size) best = w;
    return best;
  }

  #start(w, job) {
    if (w.jobs.size === 0) w.goOnly = job.go;
    else if (!job.go) w.goOnly = false;
    w.jobs.add(job);
    inFlight.set(job.id, (msg) => this.#finish(w, job, msg));
    w.ref();
    try {
      w.postMessage({ id: job.id, url: job.url, fn: job.fn, args: job.args, reply: threadId, go: job.go, name: job.name });
    } catch (err) {
      this.#finish(w, job, { ok: false, error: err });
    }
  }

  #spawn() {
    const w = new Worker(WORKER, { name: this.#name });
    w.jobs = new Set();
    w.goOnly = false;
    this.#all.add(w);
    w.on('error', (err) => {
      for (const job of [...w.jobs]) this.#finish(w, job, { ok: false, error: err }, true);
    });
    w.on('exit', () => {
      this.#all.delete(w);
      this.#idle = this.#idle.filter((x) => x !== w);
      for (const job of [...w.jobs]) this.#finish(w, job, { ok: false, error: makeError('ETASK', 'the worker exited') }, true);
      if (!this.#closed) this.#dispatch();
    });
    return w;
  }

  #finish(w, job, msg, dead = false) {
    if (!inFlight.delete(job.id)) return; // already finished
    w.jobs.delete(job);
    if (msg.ok && msg.value && typeof msg.value === 'object' && typeof msg.value.$xchan === 'string') {
      try {
        msg = { ok: true, value: Chan.from(msg.value) };
      } catch (error) {
        msg = { ok: false, error }; // the worker released it before this thread adopted it
      }
    }
    if (msg.ok) {
      const v = msg.value;
      if (v !== undefined && v !== null) job.out.offer(v);
      job.out.close();
    } else {
      job.out.close();
      reportTaskError(job.name, revivedError(msg));
    }
    if (job.onEnd) job.onEnd();
    if (!dead) {
      if (w.jobs.size === 0) {
        w.unref();
        this.#idle.push(w);
      }
      this.#dispatch();
    }
  }
}

// The core's workload numbers (xchan.h: XCHAN_WORKLOAD_*).
const CORE_WORKLOAD = { dispatch: 0, mixed: 1, io: 2, compute: 3 };

// Jobs the core's executors admitted whose start call has not run yet:
// admission id -> start().  src/admission.c calls the starter on this thread.
const admitted = new Map();
let nextAdmission = 1;
// dropped: shutdown() came first, and the core dropped the job's task
// unrun: the job fails with ESHUTDOWN, as a job refused then would.
native.setAdmissionStarter((id, dropped) => {
  const start = admitted.get(id);
  admitted.delete(id);
  if (start) start(dropped);
  else native.admissionEnd(id); // nothing to run: let the thread go
});

/**
 * The pool of a workload when XCHAN_EXECUTOR_FACTORY names a C factory:
 * jobs run on workers of a pool of its own (cached: it never holds a job
 * back), but each is ADMITTED by the core's executor for the workload
 * (src/admission.c): an xchan_execute whose task starts the job on this
 * thread and, except for 'dispatch', holds the executor's thread until the
 * job ends.  So the C executor's concurrency and queueing decide when jobs
 * run, as they decide for C tasks.
 */
class CoreAdmittedPool {
  #workload;
  #workers;
  #closed = false;

  constructor(workload) {
    native.coreExecutorCheck(CORE_WORKLOAD[workload]); // ELOAD, named
    this.#workload = workload;
    this.#workers = new WorkerPool({ name: `xchan-${workload}`, size: Infinity });
  }

  get size() {
    return Infinity;
  }

  run(...runArgs) {
    if (this.#closed) throw makeError('ESHUTDOWN', `the ${this.#workload} pool is closed`);
    const job = this.#workers[kJob](...runArgs);
    const id = nextAdmission++;
    admitted.set(id, (dropped) => {
      job.onEnd = () => native.admissionEnd(id);
      try {
        if (dropped) throw makeError('ESHUTDOWN', `xchan was shut down before the core's '${this.#workload}' executor started this job`);
        this.#workers[kSubmit](job);
      } catch (err) {
        // Shut down while the executor held the job back.
        job.out.close();
        reportTaskError(job.name, err);
        native.admissionEnd(id);
      }
    });
    try {
      native.admit(CORE_WORKLOAD[this.#workload], this.#workload !== 'dispatch', id);
    } catch (err) {
      admitted.delete(id);
      throw err;
    }
    return job.out;
  }

  close() {
    this.#closed = true;
    return this.#workers.close();
  }
}

const WORKLOADS = ['dispatch', 'mixed', 'io', 'compute'];
let factory = null;
const pools = new Map();

/** setExecutorFactory(f): f(workload) -> WorkerPool | size | null, for 'mixed', 'io', 'compute'. */
function setExecutorFactory(f) {
  if (f !== null && typeof f !== 'function') throw makeError('EINVAL', 'setExecutorFactory(f): f is a function or null');
  if (pools.size > 0) throw makeError('ESTATE', 'setExecutorFactory must be called before the first thread()/ioThread()');
  factory = f;
}

function poolFor(workload) {
  if (!WORKLOADS.includes(workload)) throw makeError('EINVAL', `unknown workload ${JSON.stringify(workload)} (one of ${WORKLOADS.join(', ')})`);
  checkNotShutDown(workload);
  let p = pools.get(workload);
  if (p) return p;
  let r = factory ? factory(workload) : null;
  if (typeof r === 'number') r = new WorkerPool({ size: r, name: `xchan-${workload}` });
  if (r !== null && r !== undefined && !(r instanceof WorkerPool)) {
    throw makeError('EINVAL', 'the executor factory returns a WorkerPool, a size, or null');
  }
  // Without a JS pool: with XCHAN_EXECUTOR_FACTORY set, the core's
  // executors admit the jobs (it throws ELOAD when the factory cannot be
  // loaded; nothing is cached then, so every call throws it).  Otherwise
  // the defaults are the core's: MIXED and IO are cached pools that grow on
  // demand (a blocked body never holds back another), COMPUTE a fixed pool
  // of one worker per CPU, DISPATCH what MIXED resolves to.
  if (r) p = r;
  else if (process.env.XCHAN_EXECUTOR_FACTORY) p = new CoreAdmittedPool(workload);
  else if (workload === 'dispatch') p = poolFor('mixed');
  else p = new WorkerPool({ name: `xchan-${workload}`, size: workload === 'compute' ? os.availableParallelism() : Infinity });
  pools.set(workload, p);
  return p;
}

/**
 * execute(workload, file, exportName, ...args): runs exportName of module
 * file on the pool of workload ('dispatch', 'mixed', 'io', 'compute'), as
 * xchan_execute does, with no result channel (a failure goes to the task
 * error hook).  An unknown workload is EINVAL; after shutdown() ESHUTDOWN.
 */
function execute(workload, file, exportName, ...args) {
  poolFor(workload).run(file, exportName, ...args);
}

// Before xchan_shutdown joins the core's threads: the ones held for this
// thread's jobs are let go (those jobs end through this very thread, which
// is about to block in the join); the pools then stop.
beforeShutdown.push(() => native.admissionReleaseAll());
// And at exit (process.exit runs no env cleanup before the core's atexit
// join, which would wait for them up to its bound).
process.on('exit', () => native.admissionReleaseAll());
onShutdown.push(() => {
  for (const p of new Set(pools.values())) p.close();
  // xchan_shutdown has returned: a job whose task the core's executor has
  // not run by now was dropped (any thread's): it fails, or its result
  // Chan would never close and its thread's loop never end.
  native.admissionFailDropped();
});

/**
 * go(file, exportName, ...args) (through chan.js's go): runs the async
 * function a module exports as a go task on the DISPATCH pool; a Chan of its
 * result, as go(asyncFn).  For a thread that blocks: its own go(asyncFn)
 * bodies continue only when it stops blocking.
 */
const goFile = (name, file, exportName, ...args) =>
  poolFor('dispatch').run({ name, go: true }, file, exportName, ...args);

/** Runs exportName of module file on the MIXED pool; a Chan of the result. */
const thread = (file, exportName, ...args) => poolFor('mixed').run(file, exportName, ...args);
/** The same on the IO pool. */
const ioThread = (file, exportName, ...args) => poolFor('io').run(file, exportName, ...args);

module.exports = { WorkerPool, setExecutorFactory, thread, ioThread, poolFor, execute, goFile };
