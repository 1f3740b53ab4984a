/*
 * addon.h — shared declarations of the xchan Node-API addon.
 *
 * One `xenv` per Node environment (the main thread and every worker that
 * loads xchan).  It owns:
 *  - the environment's host runtime id (objects put by this isolate come
 *    back as the very same objects here; other isolates of this addon get
 *    structured clones, clone.c; other runtimes get ERUNTIME);
 *  - ONE threadsafe function, the only way other threads wake this JS
 *    thread's event loop: completed async ops and host references to drop
 *    are pushed on two lock-free stacks, JS calls other threads ask of it
 *    on a queue (jscall.c), and the first push after a drain calls the tsfn;
 *  - the serving wait (wlock, wcv): while the JS thread blocks in one of the
 *    addon's waits it runs the queued JS calls itself (jscall.c);
 *  - the cancel token fired when the environment is terminated, which
 *    interrupts a takeSync/putSync/altsSync blocked in this worker;
 *  - JS helpers (error factory, Chan wrapper) held by references.
 *
 * Locks: xenv.lock (a mutex) guards `alive` and the tsfn pointer only; it
 * is held for the duration of a napi_call_threadsafe_function (which never
 * blocks: the queue is unbounded) and of the teardown switch.  It is a leaf
 * lock: nothing else is taken while it is held.  xenv.wlock guards the JS
 * call queue; also a leaf, never held with xenv.lock (jscall.c).  The lock-free stacks need
 * no lock.  Everything else in xenv is touched only on the JS thread.
 * The struct is reference-counted: host boxes, transforms and op records
 * hold references, so a foreign thread finding a dead environment still
 * reads valid memory (and then leaks nothing: it just frees its own part).
 */
#ifndef XCHAN_NODE_ADDON_H
#define XCHAN_NODE_ADDON_H

#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"

/* Reports a failed napi call as a JS exception and returns NULL/ret. */
#define NAPI_CALL_RET(env, call, ret)                                          \
	do {                                                                   \
		if ((call) != napi_ok) {                                       \
			xn_throw_last(env);                                    \
			return ret;                                            \
		}                                                              \
	} while (0)
#define NAPI_CALL(env, call) NAPI_CALL_RET(env, call, NULL)

typedef struct xn_node {
	struct xn_node *next;
} xn_node;

typedef struct xn_op xn_op;
typedef struct xn_jscall xn_jscall;

typedef struct xenv {
	atomic_int refs;
	napi_env env;
	pthread_t thread;
	pthread_mutex_t lock; /* guards alive and tsfn */
	bool alive;
	napi_threadsafe_function tsfn;
	atomic_int woken;             /* 1 while a tsfn call is queued */
	_Atomic(xn_node *) done_ops;  /* completed xn_op, newest first */
	_Atomic(xn_node *) dead_refs; /* host boxes to drop, newest first */
	_Atomic(xn_node *)
	    clones_done; /* clone.c: answered clones, newest first */
	uint32_t runtime_id;
	xchan_cancel *cancel; /* fired at teardown / worker.terminate */
	int32_t thread_id;    /* worker_threads.threadId */
	bool is_main;
	/* JS thread only: */
	uint32_t
	    pending;     /* promises not yet settled; >0 keeps the loop alive */
	xn_op *ops_head; /* every live op record (for teardown) */
	napi_ref make_error; /* (code, message) -> XchanError subclass */
	napi_ref wrap_chan;  /* (external) -> Chan */
	napi_ref report_xf;  /* (err, onError) -> value|undefined */
	napi_ref task_fail;  /* TaskFailure class, for instanceof */
	napi_ref
	    pending_sentinel; /* what tryPut/tryTake return for "not now" */
	/* JS calls other threads ask of this env (jscall.c).  wlock is a
	 * leaf lock guarding the fields below; wcv is where this env's JS
	 * thread sleeps while it is blocked in one of the addon's waits. */
	pthread_mutex_t wlock;
	pthread_cond_t wcv;
	xn_jscall *calls_head, *calls_tail; /* FIFO, under wlock */
	bool calls_closed;       /* teardown: no call is queued any more */
	napi_ref remote_handler; /* JS thread only: callThread's receiver */
	napi_ref serialize;      /* v8.serialize: (value) -> Buffer (clone.c) */
	napi_ref deserialize;    /* v8.deserialize: (Buffer) -> value */
} xenv;

/* A channel as JS sees it: the data of the external a Chan holds. */
#define XN_CHAN_MAGIC 0x78636831u
typedef struct xn_chan {
	uint32_t magic;
	uint32_t js_xform; /* 1: a transform runs JS code of `owner` */
	xchan_chan *ch;
	uint64_t id; /* xchan_chan_info.id */
} xn_chan;

/* A JS value held for another thread: a host object in a channel, or a JS
 * function of a transform.  Reference-counted by any thread; the napi_ref
 * is deleted on the env's JS thread (queued through dead_refs), or simply
 * forgotten when the env is gone (Node frees it with the env). */
typedef struct xn_ref {
	xn_node node; /* first: the dead_refs stack links through it */
	atomic_int refs;
	napi_ref ref;
	xenv *e;
	bool boxed; /* a primitive (symbol, wide bigint) held in {v} */
} xn_ref;
xn_ref *xn_ref_new(napi_env env, xenv *e, napi_value v);
void xn_ref_retain(xn_ref *r);
void xn_ref_release(xn_ref *r);
napi_value xn_ref_value(napi_env env, xn_ref *r);

/* An opaque value (a BOX from C, or a value this isolate cannot read). */
#define XN_OPAQUE_MAGIC 0x78636f70u
napi_value xn_opaque_new(napi_env env, xchan_val v); /* adopts v */

/* Live native objects of the addon, process-wide (leak tests read them
 * through liveCounts()). */
extern atomic_long xn_live_chans, xn_live_refs, xn_live_ops;
#define XN_COUNT(c, d)                                                         \
	atomic_fetch_add_explicit(&(c), (d), memory_order_relaxed)

/* env.c */
xenv *xn_env(napi_env env);
void xenv_retain(xenv *e);
void xenv_release(xenv *e);
/* Whether e is still alive (not torn down), read under e->lock (any
 * thread). */
bool xenv_alive(xenv *e);
/* Pushes `n` on one of e's stacks and wakes its JS thread (any thread);
 * false (nothing pushed) if the env is gone. */
bool xenv_push(xenv *e, _Atomic(xn_node *) *stack, xn_node *n);
void xn_pending_inc(xenv *e);
void xn_pending_dec(xenv *e);
napi_value xn_init_env(napi_env env, napi_value exports);
/* Fires the cancel token of the environment running worker `thread_id`
 * (any thread; remembered if that worker has not registered yet). */
void xn_interrupt_thread(int32_t thread_id);
void xn_interrupt_all_threads(void);
/* Whether `runtime_id` is (or was) the host runtime of an env of this addon
 * (any thread): its host values are xn_refs, whose objects other envs can
 * clone (clone.c).  Ids are never reused, so a gone env's id stays known. */
bool xn_runtime_is_ours(uint32_t runtime_id);

/* jscall.c: JS calls on behalf of other threads, and the serving wait.
 *
 * A request to run JS on env e's thread.  The requester embeds it (on its
 * stack: it waits until the call has run), sets `run`, and calls
 * xn_jscall_do.  `run` executes on e's JS thread, inside a handle scope,
 * exactly once: either from the event loop (the env's threadsafe function)
 * or from a wait of that thread blocked in the addon (xn_serve_wait).
 * `ran` tells the requester whether it ran (false: the env went away). */
struct xn_jscall {
	xn_jscall *next;
	void (*run)(napi_env env, xenv *e, xn_jscall *c);
	xchan_chan *reply; /* internal: a non-JS requester waits on it */
	void *waiter;      /* internal: a JS requester's wait */
	/* xn_jscall_post only: called once when c has run (ran) or was
	 * abandoned; it owns c from then on. */
	void (*done)(xn_jscall *c, bool ran);
	bool ran;
};
/* Runs c on e's JS thread and returns once it has run (XCHAN_OK), or
 * XCHAN_ERUNTIME when e is gone (c->run never ran), XCHAN_ENOMEM, or
 * XCHAN_ECANCELED when the caller is a JS thread being terminated and c had
 * not started (it never runs).  From
 * e's own thread it runs c at once.  While it waits, a go task parks, a
 * JS thread serves its own env's calls, any other thread blocks. */
int32_t xn_jscall_do(xenv *e, xn_jscall *c);
/* Queues c on e without waiting for it (c->run and c->done set; c lives
 * until c->done).  XCHAN_ERUNTIME when e is gone (c->done not called). */
int32_t xn_jscall_post(xenv *e, xn_jscall *c);
/* The env of the calling thread if it is a JS thread (NULL otherwise). */
xenv *xn_current_env(void);
/* Blocks the calling JS thread (e is its env) until *done is non-zero,
 * running the JS calls queued for e meanwhile.  `done` is set by
 * xn_serve_signal.  Returns XCHAN_OK, or XCHAN_ECANCELED as soon as e's
 * cancel token has fired (worker terminating) with *done still zero. */
int32_t xn_serve_wait(xenv *e, atomic_int *done);
/* As xn_serve_wait, but not interrupted by the cancel token. */
int32_t xn_serve_wait_until_done(xenv *e, atomic_int *done);
/* sync.c: runs an alts (clauses as xchan_alts_async takes them) to its end
 * on e's JS thread, serving e's calls meanwhile; *res gets the result
 * (res->err XCHAN_ECANCELED when `interruptible` and the env's token
 * fired first: nothing was transferred).  Returns XCHAN_OK, or the start
 * error (XCHAN_ELIMIT, XCHAN_ENOMEM, ...). */
int32_t xn_alts_serving(xenv *e, xchan_result *res, const xchan_clause *cl,
    size_t n, uint32_t flags, xchan_deadline deadline, bool interruptible);
/* Sets *done and wakes e's serving wait (any thread). */
void xn_serve_signal(xenv *e, atomic_int *done);
/* Runs the calls queued for e (its JS thread, from the event loop). */
void xn_jscall_drain(xenv *e);
/* env.c hooks */
void xn_jscall_env_init(xenv *e);
void xn_jscall_env_close(xenv *e); /* teardown: fails queued calls */
void xn_jscall_env_destroy(xenv *e);
/* Wakes e's JS thread: its event loop, and its serving wait if blocked. */
void xenv_wake(xenv *e);
/* Closes ch from e's JS thread without waiting on the channel's step lock
 * with the thread stopped (a foreign step may hold it while it waits for a
 * JS call of this env): the close runs on a core thread while this thread
 * serves its calls. */
int32_t xn_close_serving(xenv *e, xchan_chan *ch);

/* xform.c */
typedef struct xn_errh xn_errh;
/* A transform's error handler state (on_error: a function, nullish or NULL),
 * with one reference for the caller; NULL (thrown) on bad input. */
xn_errh *xn_errh_new(napi_env env, xenv *e, napi_value on_error);
void xn_errh_release(xn_errh *h);
/* Builds a transform from an xf descriptor whose JS steps report to h;
 * *js tells whether it runs JS.  NULL (thrown) on bad input. */
xchan_xform *xn_build_xform_errh(napi_env env, xenv *e, napi_value desc,
    xn_errh *h, bool *js);
/* The error handler of channels and pipelines with JS steps (user: h). */
xchan_val xn_on_error(void *user, xchan_val error);

/* comb.c: a buffer spec ({bufKind, capacity} or nullish) as channel
 * options; returns NULL for nullish (unbuffered); *ok = false (thrown) on
 * bad input. */
const xchan_chan_opts *xn_buf_opts(napi_env env, napi_value spec,
    xchan_chan_opts *o, bool *ok);
/* An array of Chans as a calloc'd array of their channels (borrowed; the
 * caller frees it), *n its length; NULL (thrown: EINVAL `not_array` when
 * arr is no array) on bad input. */
xchan_chan **xn_chan_array(napi_env env, napi_value arr, const char *not_array,
    size_t *n);
/* What mult, mix and pub return: [handle, done], the handle an external of
 * obj that fin releases when collected; on failure fin(env, obj, NULL)
 * releases it now, done is released and NULL returned (thrown). */
napi_value xn_handle_and_done(napi_env env, void *obj, napi_finalize fin,
    xchan_chan *done);
/* A pipeline's leading arguments (n, to, _, from) of function `what`:
 * false (thrown) unless n >= 1 and to and from are Chans. */
bool xn_pipeline_args(napi_env env, const napi_value *argv, const char *what,
    uint32_t *n, xn_chan **to, xn_chan **from);

/* errors.c */
void xn_throw_last(napi_env env);
/* A JS exception pending on this thread that cannot propagate (a callback
 * run for the core or another thread): reported as uncaught, as the event
 * loop reports a throwing callback.  Nothing pending: nothing happens. */
void xn_report_uncaught(napi_env env);
/* Throws the XchanError subclass for `err` with `msg` (NULL: the core's). */
void xn_throw(napi_env env, int32_t err, const char *msg);
napi_value xn_error(napi_env env, int32_t err, const char *msg);
/* Argument checking helpers: throw and return false. */
bool xn_arg_chan(napi_env env, napi_value v, xn_chan **out);

/* value.c */
/* JS value -> xchan value owning one reference.  Throws and returns false
 * (ENIL for null/undefined). */
bool xn_to_val(napi_env env, xenv *e, napi_value v, xchan_val *out);
/* xchan value (moved) -> JS value; on error (a host object of another
 * runtime) throws ERUNTIME whose .value keeps the value, returns NULL. */
napi_value xn_from_val(napi_env env, xenv *e, xchan_val v);
/* As xn_from_val, but returns the error object in *err instead of throwing. */
napi_value xn_from_val_or_error(napi_env env, xenv *e, xchan_val v,
    napi_value *err);
napi_value xn_wrap_chan(napi_env env, xenv *e, xchan_chan *ch); /* adopts */
void xn_host_runtime_init(void);
extern const xchan_runtime xn_runtime_hooks;
void xn_drain_dead_refs(xenv *e);

/* clone.c: a host value of another env of this addon (v.aux one of
 * xn_runtime_is_ours), taken on e's JS thread, as a structured clone made
 * in e's isolate: the owner env v8.serialize's its object on its own thread
 * (a JS call, jscall.c), e v8.deserialize's the bytes.  Returns the new
 * object (v released), or NULL with `why` (of size n) saying why no clone
 * could be made (the owner env has gone, the object is not cloneable, ...):
 * then v is untouched, for the caller's ERUNTIME error to keep.  Never
 * leaves an exception pending. */
napi_value xn_clone_foreign(napi_env env, xenv *e, xchan_val v, char *why,
    size_t n);
/* A promise's value without blocking e's thread: when v (itself, or an item
 * of an array) is a JS object of another env of this addon, starts asking
 * the owners for their serializations (posted JS calls) and returns true:
 * it took over v and settles `deferred` (resolved with the value, or
 * rejected with its ERUNTIME error) from e's event loop once every owner
 * answered (xn_drain_clones), keeping the loop alive meanwhile.  `alts`
 * non-NULL: the promise is an alts', resolved with {value, index, chan}
 * (chan: alts->chans[index] when chans is not NULL).  False (nothing done,
 * v untouched) when there is nothing to clone or the request cannot be
 * made (out of memory): convert v now. */
typedef struct xn_alts_result {
	int32_t index;
	napi_value chans; /* the clauses' Chans, or NULL */
} xn_alts_result;
bool xn_clone_settle_later(napi_env env, xenv *e, xchan_val v,
    napi_deferred deferred, const xn_alts_result *alts);
/* A quick test before xn_clone_settle_later: false when v surely holds no
 * object of another env (the common case costs no more than this). */
static inline bool
xn_may_need_clone(const xenv *e, xchan_val v)
{
	return (v.kind == XCHAN_HOST && v.aux != e->runtime_id) ||
	       v.kind == XCHAN_ARRAY;
}
/* Settles the promises whose clones were answered (e's JS thread, from its
 * event loop); once e is no longer alive (teardown) it only frees them. */
void xn_drain_clones(xenv *e);

/* chan.c */
napi_value xn_chan_external(napi_env env, xchan_chan *ch); /* adopts */
/* What a function creating channel ch (the core call returned rc) returns:
 * its external (adopts ch), or NULL after throwing rc. */
napi_value xn_chan_or_throw(napi_env env, int32_t rc, xchan_chan *ch);
void xn_chan_registry_add(xn_chan *c);
xn_chan *xn_chan_from_external(napi_env env, napi_value v);

/* > 0 while this thread runs a core call made by the addon: a notifier
 * running inside it (the op was completed by this JS thread) only records
 * the completion, and the addon function settles it when the call returns
 * (xn_drain_local).  Outside (e.g. another addon calling the core on this
 * thread) the notifier wakes the loop as from any other thread. */
extern _Thread_local int xn_in_core;
#define XN_CORE(call) (xn_in_core++, xn__core_done(call))
static inline int32_t
xn__core_done(int32_t rc)
{
	xn_in_core--;
	return rc;
}

/* async.c */
void xn_drain_ops(xenv *e);
/* After a core call on the JS thread: settles, now, the ops that call
 * completed (their notifiers ran on this thread), instead of waiting for
 * the event-loop turn the threadsafe function would cost. */
static inline void
xn_drain_local(xenv *e)
{
	if (atomic_load_explicit(&e->done_ops, memory_order_relaxed) != NULL)
		xn_drain_ops(e);
}
void xn_cancel_all_ops(xenv *e);

/* Module sections: each adds its functions to `exports`. */
napi_status xn_init_chan(napi_env env, napi_value exports);
napi_status xn_init_async(napi_env env, napi_value exports);
napi_status xn_init_sync(napi_env env, napi_value exports);
napi_status xn_init_xform(napi_env env, napi_value exports);
napi_status xn_init_comb(napi_env env, napi_value exports);
napi_status xn_init_jscomb(napi_env env, napi_value exports);
napi_status xn_init_native_run(napi_env env, napi_value exports);
napi_status xn_init_admission(napi_env env, napi_value exports);

/* Helper: exports[name] = function(cb). */
napi_status xn_export_fn(napi_env env, napi_value exports, const char *name,
    napi_callback cb);
/* A section's table of functions: exports[fns[i].name] = fns[i].cb for each
 * of its n entries (xn_export_fn), stopping at the first failure. */
typedef struct xn_fn_entry {
	const char *name;
	napi_callback cb;
} xn_fn_entry;
napi_status xn_export_fns(napi_env env, napi_value exports,
    const xn_fn_entry *fns, size_t n);
#define XN_EXPORT_TABLE(env, exports, fns)                                     \
	xn_export_fns((env), (exports), (fns), sizeof(fns) / sizeof((fns)[0]))

#endif
