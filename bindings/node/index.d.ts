// Type declarations for xchan (Node binding).

/** Values a channel carries. null and undefined cannot be put (they mean "closed"). */
export type Value = NonNullable<unknown>;

export declare class BufferSpec {
  readonly bufKind: number;
  readonly capacity: number;
}
/** A fixed buffer of n (the same as passing n). */
export declare function buffer(n: number): BufferSpec;
/** A buffer by name, capacity n (absent/0 for unbuffered and promise); an unknown kind is EINVAL. */
export declare function buffer(kind: 'unbuffered' | 'none' | 'fixed' | 'dropping' | 'sliding' | 'promise', n?: number): BufferSpec;
/** When full, new values are dropped. */
export declare function dropping(n: number): BufferSpec;
/** When full, the oldest value is dropped. */
export declare function sliding(n: number): BufferSpec;

/** A transform descriptor made by the xf functions. */
export interface Xform {
  readonly type: string;
}
export declare namespace xf {
  function map<A, B>(f: (v: A) => B): Xform;
  function filter<A>(pred: (v: A) => unknown): Xform;
  function remove<A>(pred: (v: A) => unknown): Xform;
  function take(n: number): Xform;
  function partitionAll(n: number): Xform;
  function mapcat<A, B>(f: (v: A) => Iterable<B>): Xform;
  function drop(n: number): Xform;
  function takeWhile<A>(pred: (v: A) => unknown): Xform;
  function dropWhile<A>(pred: (v: A) => unknown): Xform;
  function keep<A, B>(f: (v: A) => B | null | undefined): Xform;
  function dedupe(): Xform;
  function partitionBy<A>(f: (v: A) => unknown): Xform;
  function comp(...xforms: Xform[]): Xform;
  /** The general form: make() returns a fresh state per channel. */
  function custom(make: () => {
    step(v: any, push: (out: Value) => boolean): unknown;
    complete?(push: (out: Value) => boolean): void;
  }): Xform;
}

export interface ChanOptions {
  /** A transform applied to every value added to the buffer (needs a buffer). */
  xform?: Xform;
  /** Receives what a failing step threw; a non-null result is added instead. */
  onError?: (err: unknown) => unknown;
  /** Most pending puts (and, separately, takes); default 1024. */
  maxPending?: number;
}

/** A timeout in ms, or { timeout, signal }. */
export type OpOptions = number | { timeout?: number; signal?: AbortSignal; cancel?: CancelToken };

export interface ChanInfo {
  buffer: 'none' | 'fixed' | 'dropping' | 'sliding' | 'promise';
  capacity: number;
  count: number;
  closed: boolean;
  pendingPuts: number;
  pendingTakes: number;
  maxPending: number;
  id: number;
}

/** What a Chan becomes when copied to a worker (workerData, postMessage). */
export interface SharedChan {
  readonly $xchan: string;
}

export declare class Chan<T = any> implements AsyncIterable<T>, SharedChan {
  constructor(buf?: number | BufferSpec, opts?: ChanOptions);
  readonly $xchan: string;
  /** Resolves true once delivered, false if the channel is closed. */
  put(v: T, opts?: OpOptions): Promise<boolean>;
  /**
   * Resolves the value, or undefined once the channel is closed and drained.
   * An object put by this isolate comes back as the very same object; one
   * put by another isolate (a worker, the main thread) arrives as a
   * structured clone (the copy postMessage makes: v8.serialize in the
   * putting isolate, v8.deserialize here; a new object each take).  When no
   * clone can be made (a function or symbol inside, or the putting isolate
   * has ended) it rejects with ERUNTIME saying why; error.value keeps the
   * value (put it back on a channel for its own isolate).  The promise
   * settles once the putting thread answered; this thread is not blocked
   * meanwhile (as with alts(); poll/takeSync/altsSync block for it): see
   * README "Objects and threads".
   */
  take(opts?: OpOptions): Promise<T | undefined>;
  offer(v: T): boolean;
  /** The value if one is ready now, else undefined; objects of another isolate as for take(). */
  poll(): T | undefined;
  close(): void;
  /** Worker threads only: blocks until done.  Objects of another isolate as for take(). */
  takeSync(opts?: number | { timeout?: number; cancel?: CancelToken }): T | undefined;
  putSync(v: T, opts?: number | { timeout?: number; cancel?: CancelToken }): boolean;
  sync(): Generator<T, void, undefined>;
  info(): ChanInfo;
  readonly closed: boolean;
  /** The native channel (xchan_chan *) as an external, for C addons. */
  handle(): object;
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** The low-level put (xchan_put_async): an Op, or undefined (callback mode: completed during the call, or handle: false). */
  putAsync(v: T, opts?: OpCallback<boolean> | LowOptions<boolean>): Op | undefined;
  /** The low-level take (xchan_take_async); as putAsync. */
  takeAsync(opts?: OpCallback<T> | LowOptions<T>): Op | undefined;
  static from<T = any>(x: Chan<T> | SharedChan | string): Chan<T>;
  static fromHandle<T = any>(external: object): Chan<T>;
}

/** A result of the low-level API: the core's error name, the alts clause (-1 none), the value taken or a put's value handed back. */
export interface OpResult<T = any> {
  code: string;
  index: number;
  value: T | undefined;
  /** code ERUNTIME: the error holding a value this isolate cannot read (a foreign runtime's object, or one of another isolate no clone could be made of). */
  error?: Error;
}
export type OpCallback<T = any> = (result: OpResult<T>) => void;
export interface LowOptions<T = any> {
  /** Callback mode (xchan's callback); without it the op is in notify mode. */
  callback?: OpCallback<T>;
  /** Notify mode: called on this thread once the op has completed (then collect()). */
  notify?: () => void;
  /** Callback mode: hand the result over on the core's dispatch executor (never inside the call). */
  dispatch?: boolean;
  /** false: no handle is returned (callback mode only). */
  handle?: boolean;
}
export interface AltsLowOptions<T = any> extends LowOptions<T> {
  priority?: boolean;
  timeout?: number;
  /** Present: XCHAN_DEADLINE_POLL (EAGAIN at once when nothing is ready). */
  default?: unknown;
}
/** A pending asynchronous operation (xchan_op). */
export declare class Op {
  private constructor();
  readonly state: 'pending' | 'completed' | 'delivered' | 'canceled';
  /** Notify mode: the result; throws EAGAIN (pending), EDONE (collected), EINVAL (callback mode). */
  collect(): OpResult;
  /** true: the cancel won; false: it had completed. */
  cancel(): boolean;
  /** Cancel-or-collect; throws EDONE when the result was already delivered. */
  cancelEx(): OpResult;
}
export declare function altsAsync(clauses: Clause<any>[], opts?: OpCallback | AltsLowOptions): Op | undefined;

/** The core's cancel token: fire() stops the ops made with { cancel: token } (ECANCELED) until reset(). */
export declare class CancelToken {
  constructor();
  readonly $xchanCancel: string;
  readonly fired: boolean;
  fire(): void;
  reset(): void;
  static from(x: CancelToken | { $xchanCancel: string } | string): CancelToken;
}
/** A BOX from C (a native pointer with its destructor), opaque to JS; putting it hands C the same pointer. */
export declare class Box {
  private constructor();
}
/** An ARRAY value C can read, made by tuple(items); it comes back from a channel as a new Array. */
export declare class Tuple {
  private constructor();
}
export declare function tuple(items: any[]): Tuple;

export declare function promiseChan<T = any>(opts?: ChanOptions): Chan<T>;
export declare function timeout(ms: number): Chan<never>;

export type Clause<T = any> = Chan<T> | [Chan<T>, T];
export interface AltsOptions<D = undefined> {
  priority?: boolean;
  default?: D;
  timeout?: number;
  signal?: AbortSignal;
  cancel?: CancelToken;
}
export interface AltsResult<T = any> {
  value: T | boolean | undefined;
  /** The clause's channel; undefined when the default was taken. */
  chan: Chan<T> | undefined;
  /** The clause's index; -1 for the default. */
  index: number;
}
export declare function alts<T = any>(clauses: Clause<T>[], opts?: AltsOptions<any>): Promise<AltsResult<T>>;
export declare function altsSync<T = any>(clauses: Clause<T>[], opts?: AltsOptions<any>): AltsResult<T>;

/** Runs fn on this thread; a Chan of its result (closed without a value if it threw: the error goes to the task error hook). */
export declare function go<R>(fn: (...args: any[]) => R | Promise<R>, ...args: any[]): Chan<R>;
export declare function go<R>(opts: { name?: string }, fn: (...args: any[]) => R | Promise<R>, ...args: any[]): Chan<R>;
/**
 * go(file, exportName, ...args): the async function a module exports, run as a
 * go task on the DISPATCH pool (JS workers whose event loops each carry many
 * go bodies), not on this thread: usable from a worker that then blocks.
 * Arguments and result are copied as for thread().
 */
export declare function go<R = any>(file: string | URL, exportName: string, ...args: any[]): Chan<R>;
export declare function go<R = any>(opts: { name?: string }, file: string | URL, exportName: string, ...args: any[]): Chan<R>;
/** fn(name, error) for every failed go/thread/ioThread body; null: the default (a process warning). */
export declare function setTaskErrorHook(fn: ((name: string, error: unknown) => void) | null): void;
/** true inside a go body. */
export declare function inGo(): boolean;
/** xchan_shutdown (ESTATE inside a go body). */
export declare function shutdown(): void;

export declare class XchanError extends Error {
  code: string;
  errno?: number;
}
export type ErrorCode =
  | 'EINVAL' | 'ENOMEM' | 'ECLOSED' | 'ETIMEDOUT' | 'EAGAIN' | 'ECANCELED' | 'ELIMIT' | 'ENIL'
  | 'ERUNTIME' | 'EDONE' | 'ESTATE' | 'EVERSION' | 'ELOAD' | 'EXFORM' | 'ETYPE' | 'ESHUTDOWN'
  | 'ETASK' | 'EINTERNAL' | 'EINTR' | 'EFORK';
export declare const errors: Readonly<Record<ErrorCode, typeof XchanError>>;
export declare const codes: Readonly<Record<ErrorCode, number>>;

// ---- combinators ----
export declare function pipe<T>(from: Chan<T>, to: Chan<T>, close?: boolean): Chan<T>;
export declare function pipe<T>(from: Chan<T>, to: Chan<T>, close: boolean | undefined, opts: { done: true }): { result: Chan<T>; done: Chan<never> };
export declare class Mult<T = any> {
  readonly done: Chan<never>;
  tap(ch: Chan<T>, close?: boolean): Chan<T>;
  untap(ch: Chan<T>): void;
  untapAll(): void;
}
export declare function mult<T>(src: Chan<T>): Mult<T>;
export declare function tap<T>(m: Mult<T>, ch: Chan<T>, close?: boolean): Chan<T>;
export declare function untap<T>(m: Mult<T>, ch: Chan<T>): void;
export declare function untapAll<T>(m: Mult<T>): void;
export interface MixState {
  mute?: boolean;
  pause?: boolean;
  solo?: boolean;
}
export declare class Mix<T = any> {
  readonly done: Chan<never>;
  admix(ch: Chan<T>): void;
  unmix(ch: Chan<T>): void;
  unmixAll(): void;
  soloMode(mode: 'mute' | 'pause'): void;
  toggle(states: Iterable<[Chan<T>, MixState]>): void;
  state(ch: Chan<T>): Required<MixState>;
}
export declare function mix<T>(out: Chan<T>): Mix<T>;
export declare function merge<T>(chans: Chan<T>[], buf?: number | BufferSpec): Chan<T>;
export declare function merge<T>(chans: Chan<T>[], buf: number | BufferSpec | undefined, opts: { done: true }): { result: Chan<T>; done: Chan<never> };
export declare function take<T>(n: number, ch: Chan<T>, buf?: number | BufferSpec): Chan<T>;
export declare function into<T>(init: T[], ch: Chan<T>): Chan<T[]>;
export declare function into<T>(ch: Chan<T>): Chan<T[]>;
export declare function ontoChan<T>(ch: Chan<T>, values: Iterable<T>, close?: boolean): Chan<never>;
export declare function toChan<T>(values: Iterable<T>): Chan<T>;
export declare function map<R>(f: (...vals: any[]) => R, chans: Chan[], buf?: number | BufferSpec): Chan<R>;
export declare function split<T>(pred: (v: T) => unknown, ch: Chan<T>, tBuf?: number | BufferSpec, fBuf?: number | BufferSpec): [Chan<T>, Chan<T>];
export declare function split<T>(pred: (v: T) => unknown, ch: Chan<T>, tBuf: number | BufferSpec | undefined, fBuf: number | BufferSpec | undefined, opts: { done: true }): { result: [Chan<T>, Chan<T>]; done: Chan<never> };
export declare class Reduced<A> {
  readonly value: A;
}
export declare function reduced<A>(v: A): Reduced<A>;
export declare function reduce<A, T>(f: (acc: A, v: T) => A | Reduced<A>, init: A, ch: Chan<T>): Chan<A>;
export declare function transduce<A, T>(xform: Xform, f: (acc: A, v: any) => A | Reduced<A>, init: A, ch: Chan<T>): Chan<A>;
export declare class Pub<T = any> {
  readonly done: Chan<never>;
  sub(topic: unknown, ch: Chan<T>, close?: boolean): Chan<T>;
  unsub(topic: unknown, ch: Chan<T>): void;
  unsubAll(topic?: unknown): void;
}
export declare function pub<T>(src: Chan<T>, topicFn: (v: T) => unknown, bufFn?: (topic: unknown) => number | BufferSpec | undefined): Pub<T>;
export declare function sub<T>(p: Pub<T>, topic: unknown, ch: Chan<T>, close?: boolean): Chan<T>;
export declare function unsub<T>(p: Pub<T>, topic: unknown, ch: Chan<T>): void;
export declare function unsubAll<T>(p: Pub<T>, topic?: unknown): void;
export declare function pipeline(n: number, to: Chan, xform: Xform, from: Chan, close?: boolean, exHandler?: (err: unknown) => unknown): Chan<never>;
export declare function pipelineBlocking(n: number, to: Chan, xform: Xform, from: Chan, close?: boolean, exHandler?: (err: unknown) => unknown): Chan<never>;
export declare function pipelineAsync<T>(n: number, to: Chan, af: (v: T, result: Chan) => void, from: Chan<T>, close?: boolean): Chan<never>;

// ---- threads ----
export declare class WorkerPool {
  constructor(opts?: { size?: number; name?: string });
  readonly size: number;
  run<R = any>(file: string | URL, exportName?: string, ...args: any[]): Chan<R>;
  run<R = any>(opts: { name?: string }, file: string | URL, exportName?: string, ...args: any[]): Chan<R>;
  close(): Promise<void>;
}
export type Workload = 'dispatch' | 'mixed' | 'io' | 'compute';
/**
 * Runs a module's export on a workload's pool with no result (xchan_execute).
 * A workload's pool is the one setExecutorFactory's function returns; else,
 * when the environment variable XCHAN_EXECUTOR_FACTORY names the core's C
 * executor factory, a pool whose jobs the core's executor for the workload
 * admits (each job holds one of its threads until it ends; a go body only
 * until it started), so an unloadable factory throws ELOAD here and from
 * thread, ioThread and go(file); else the default pools.
 */
export declare function execute(workload: Workload, file: string | URL, exportName?: string, ...args: any[]): void;
/** Chooses each workload's pool (once, before the first job): a WorkerPool, a size, or null for the next choice (see execute). */
export declare function setExecutorFactory(f: ((workload: Workload) => WorkerPool | number | null | undefined) | null): void;
export declare function thread<R = any>(file: string | URL, exportName?: string, ...args: any[]): Chan<R>;
export declare function thread<R = any>(opts: { name?: string }, file: string | URL, exportName?: string, ...args: any[]): Chan<R>;
export declare function ioThread<R = any>(file: string | URL, exportName?: string, ...args: any[]): Chan<R>;

// ---- C addons ----
/** The core's function table (const xchan_api *) as an external. */
export declare function api(): object;
/** Directory with xchan/xchan.h, xchan/xchan_ext.h and xchan_node.h. */
export declare const includeDir: string;
export declare const version: string;
/** Throws EVERSION unless the loaded core serves header version headerNumber (default: the addon's). */
export declare function checkVersion(headerNumber?: number): void;
/** Seeds the calling thread's generator that alts uses to pick among ready clauses. */
export declare function randomSeed(seed: number | bigint): void;
export declare const coreVersion: string;

// ---- native workers ----
/**
 * A function of a plain shared library run through libffi on the core's
 * executors (xchan_native_run). `signature` is a return letter then the
 * argument letters in parentheses, e.g. 'v(ci)' = void f(xchan_chan *, int64_t):
 * i integer (number | bigint), d number, b boolean, s string, p opaque box,
 * c Chan; v (return only) void. The Chan receives the return value, then
 * closes. Throws ELOAD (library/symbol), EINVAL (signature, count) or ETYPE
 * (argument type) before anything runs.
 */
export declare namespace native {
  /** As a go task: parks on channel ops; must not block in the OS. */
  function go<R = any>(lib: string | URL, symbol: string, signature: string, ...args: any[]): Chan<R>;
  /** On the core's thread executor (core.async thread). */
  function thread<R = any>(lib: string | URL, symbol: string, signature: string, ...args: any[]): Chan<R>;
  /** On the core's IO executor (core.async io-thread). */
  function ioThread<R = any>(lib: string | URL, symbol: string, signature: string, ...args: any[]): Chan<R>;
}
