'use strict';
// thread / ioThread and the executor factory, for Node.
//
// JS runs only on JS threads, so "run this on another thread" means a worker
// pool: thread(file, exportName, ...args) runs the function a module exports
// on a worker of the MIXED pool (ioThread: the IO pool) and returns a Chan that
// receives its (awaited) result and then closes, as core.async's thread does.
// Arguments and results are copied as postMessage copies them; a Chan crosses
// as the same native channel.  A thrown error arrives as a rejection of take()
// with ETASK (error.cause is the original).  setExecutorFactory(f) chooses the
// pool of each workload ('mixed', 'io', 'compute'): f returns a WorkerPool, a
// size, or null for the default (os.availableParallelism() workers).
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { Worker } = require('node:worker_threads');
const { makeError } = require('./errors');
const { Chan, taskFailure } = require('./chan');

const WORKER = path.join(__dirname, 'pool-worker.js');

function moduleUrl(file) {
  if (file instanceof URL) return file.href;
  if (typeof file !== 'string' || file === '') throw makeError('EINVAL', 'thread(file, exportName, ...args): file is a module path or URL');
  if (/^(file|data):/.test(file)) return file;
  return pathToFileURL(path.resolve(file)).href;
}

class WorkerPool {
  #size;
  #name;
  #idle = [];
  #all = new Set();
  #queue = [];
  #jobs = new Map(); // id -> job
  #nextId = 1;
  #closed = false;

  /** A pool of at most `size` workers (started on demand, unref'd while idle). */
  constructor({ size = os.availableParallelism(), name = 'xchan-pool' } = {}) {
    if (!Number.isSafeInteger(size) || size < 1) throw makeError('EINVAL', 'WorkerPool: size must be an integer >= 1');
    this.#size = size;
    this.#name = name;
  }

  get size() {
    return this.#size;
  }

  /** Runs exportName of module `file` with args on a worker; a Chan of the result. */
  run(file, exportName = 'default', ...args) {
    if (this.#closed) throw makeError('ESHUTDOWN', 'this WorkerPool is closed');
    if (typeof exportName !== 'string') throw makeError('EINVAL', 'thread(file, exportName, ...args): exportName is a string');
    const out = new Chan(1);
    const job = { id: this.#nextId++, url: moduleUrl(file), fn: exportName, args, out };
    this.#queue.push(job);
    this.#dispatch();
    return out;
  }

  /** Stops the workers (running tasks are terminated; their result channels close). */
  async close() {
    this.#closed = true;
    const all = [...this.#all];
    await Promise.all(all.map((w) => w.terminate()));
  }

  #dispatch() {
    while (this.#queue.length > 0) {
      let w = this.#idle.pop();
      if (w === undefined) {
        if (this.#all.size >= this.#size) return;
        w = this.#spawn();
      }
      const job = this.#queue.shift();
      w.job = job;
      this.#jobs.set(job.id, job);
      w.ref();
      try {
        w.postMessage({ id: job.id, url: job.url, fn: job.fn, args: job.args });
      } catch (err) {
        this.#finish(w, job, { ok: false, error: err });
      }
    }
  }

  #spawn() {
    const w = new Worker(WORKER, { name: this.#name });
    this.#all.add(w);
    w.on('message', (msg) => {
      const job = this.#jobs.get(msg.id);
      if (job) this.#finish(w, job, msg);
    });
    w.on('error', (err) => {
      if (w.job) this.#finish(w, w.job, { ok: false, error: err }, true);
    });
    w.on('exit', () => {
      this.#all.delete(w);
      this.#idle = this.#idle.filter((x) => x !== w);
      if (w.job) this.#finish(w, w.job, { ok: false, error: makeError('ETASK', 'the worker exited') }, true);
      if (!this.#closed) this.#dispatch();
    });
    return w;
  }

  #finish(w, job, msg, dead = false) {
    this.#jobs.delete(job.id);
    w.job = undefined;
    if (msg.ok) {
      let v = msg.value;
      if (v && typeof v === 'object' && typeof v.$xchan === 'string') v = Chan.from(v);
      if (v !== undefined && v !== null) job.out.offer(v);
    } else {
      job.out.offer(taskFailure(msg.error, `${job.url}#${job.fn}`));
    }
    job.out.close();
    if (!dead) {
      w.unref();
      this.#idle.push(w);
      this.#dispatch();
    }
  }
}

const WORKLOADS = ['mixed', 'io', 'compute'];
let factory = null;
const pools = new Map();

/** setExecutorFactory(f): f(workload) -> WorkerPool | size | null, for 'mixed', 'io', 'compute'. */
function setExecutorFactory(f) {
  if (f !== null && typeof f !== 'function') throw makeError('EINVAL', 'setExecutorFactory(f): f is a function or null');
  if (pools.size > 0) throw makeError('ESTATE', 'setExecutorFactory must be called before the first thread()/ioThread()');
  factory = f;
}

function poolFor(workload) {
  if (!WORKLOADS.includes(workload)) throw makeError('EINVAL', `unknown workload ${workload}`);
  let p = pools.get(workload);
  if (p) return p;
  let r = factory ? factory(workload) : null;
  if (typeof r === 'number') r = new WorkerPool({ size: r, name: `xchan-${workload}` });
  if (r !== null && r !== undefined && !(r instanceof WorkerPool)) {
    throw makeError('EINVAL', 'the executor factory returns a WorkerPool, a size, or null');
  }
  p = r || new WorkerPool({ name: `xchan-${workload}` });
  pools.set(workload, p);
  return p;
}

/** Runs exportName of module file on the MIXED pool; a Chan of the result. */
const thread = (file, exportName, ...args) => poolFor('mixed').run(file, exportName, ...args);
/** The same on the IO pool. */
const ioThread = (file, exportName, ...args) => poolFor('io').run(file, exportName, ...args);

module.exports = { WorkerPool, setExecutorFactory, thread, ioThread, poolFor };
