/*
 * xpy.h — what the files of the xchan._xchan extension share.
 *
 * The extension is one CPython module over the xchan core (linked in
 * statically).  Files, one object each:
 *   module.c   module init, the host runtime (retain/release hooks),
 *              exceptions, version check, the C API capsule
 *   values.c   Python objects <-> xchan_val, the Box type
 *   chan.c     the Chan type (blocking and non-blocking operations)
 *   aio.c      asyncio: the per-loop Hub (one wake per burst) and Op
 *   alts.c     alts (blocking) and the alts clause parser
 *   tasks.c    thread/io_thread, the executor factory
 *   xform.c    transforms whose steps are Python callables
 *   comb.c     the core's combinators
 *   native.c   native workers (xchan_native_run) for xchan.native
 *   guard.c    methods that reject a wrong receiver with EINVAL
 *   op.c       AsyncOp: async operations with callbacks or notify mode
 *   go.c       xchan.go without asyncio: coroutines on the DISPATCH executor
 *
 * GIL rule: every call into the core that can wait, or that can run a
 * transform step (Python code, which needs the GIL) on another thread while
 * this one waits for that channel's step lock, is made with the GIL released.
 * Hooks the core calls on its own threads take the GIL with
 * PyGILState_Ensure, unless the interpreter is finalizing (then they leak
 * what they would have released, and skip what they would have run).
 */
#ifndef XPY_H
#define XPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdatomic.h>
#include <structmember.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"

/* ---- module.c ---- */
extern uint32_t xpy_runtime_id;
extern PyObject *xpy_error_base; /* xchan.XchanError */
/* 1 once Python began to exit: hooks on foreign threads must not enter it. */
int xpy_exiting(void);
/* Raises the exception of core error `err` (a subclass of XchanError);
 * returns NULL. `what` (may be NULL) prefixes the message. */
PyObject *xpy_raise(int32_t err, const char *what);
/* The exception class of core error `err` (XchanError if unknown). */
PyObject *xpy_error_class(int32_t err);
/* A new (not raised) exception of core error `err`, with `what` (NULL: the
 * core's text for err) as its message; NULL with an exception set. */
PyObject *xpy_error_new(int32_t err, const char *what);
/* The exception in flight, normalized, as an instance carrying its
 * traceback (cleared from the thread); NULL if none.  For code that hands
 * an exception on (to a future, a hook, a failure value) instead of
 * raising it. */
PyObject *xpy_fetch_exception(void);
PyObject *xpy_raise_fmt(int32_t err, const char *fmt, ...);
/* xchan.InvalidArgumentType: EINVAL that is also a TypeError, for an
 * argument of the wrong type (a channel that is not a Chan). */
extern PyObject *xpy_bad_arg_type;
PyObject *xpy_raise_arg_type(const char *fmt, ...);
/* "None" or the type's name, for messages. */
const char *xpy_type_name(PyObject *o);
/* Takes the GIL on any thread; 0 if Python is exiting (nothing taken). */
int xpy_gil_enter(PyGILState_STATE *st);
/* A hook of the core calling Python (a log message, an op's callback, a
 * task's failure): xpy_hook_enter takes the GIL like xpy_gil_enter and puts
 * aside the exception in flight on that thread, if any, so that the hook's
 * own calls neither see nor clobber it; xpy_hook_leave puts it back and
 * drops the GIL. */
typedef struct {
	PyGILState_STATE gil;
	PyObject *type, *value, *traceback;
	void *go; /* the dispatch go step hidden from the hook (go.c) */
} xpy_hook;
int xpy_hook_enter(xpy_hook *h);
void xpy_hook_leave(xpy_hook *h);

/* ---- values.c ---- */
/* A Python object as a value with one reference (owned by the caller).
 * 0 on success, -1 with an exception set (None raises ENIL). */
int xpy_to_val(PyObject *o, xchan_val *out);
/* Consumes `v` (always released) and returns the Python object, or NULL
 * with an exception (a value of another runtime: ERUNTIME). */
PyObject *xpy_from_val(xchan_val v);
extern PyTypeObject XpyBox_Type;
int xpy_values_init(PyObject *m);

/* ---- chan.c ---- */
typedef struct {
	PyObject_HEAD
	xchan_chan *ch;
	/* 0 only for channels this binding made without a transform: then
	 * offer/poll may run with the GIL held (no step can need it). */
	int may_xform;
	PyObject *weakrefs;
} XpyChan;
extern PyTypeObject XpyChan_Type;
#define XpyChan_Check(o) PyObject_TypeCheck((o), &XpyChan_Type)
/* Wraps `ch`, taking over one reference (released on failure). */
PyObject *xpy_chan_wrap(xchan_chan *ch, int may_xform);
/* Parses the buffer spec (None, int, Buffer) + xform + ex_handler into
 * opts; `opts->xform` is set last. */
int xpy_chan_opts(PyObject *buf, PyObject *xform, PyObject *ex_handler,
    xchan_chan_opts *opts);
int xpy_chan_init(PyObject *m);
/* 1 if an asyncio loop runs on this thread. */
int xpy_loop_running(void);
int xpy_on_main_thread(void);
/* Blocking wait helpers (GIL released, Ctrl-C aware). */
/* `cancel` may be NULL; a fired token makes them return XCHAN_ECANCELED. */
int32_t xpy_wait_take(xchan_val *out, xchan_chan *ch, xchan_deadline dl,
    xchan_cancel *cancel);
int32_t xpy_wait_put(xchan_chan *ch, xchan_val v, xchan_deadline dl,
    xchan_cancel *cancel);

/* ---- cancel.c ---- */
/* The token of an xchan.Cancel `o` (NULL for None or NULL); -1 with ETYPE
 * for anything else. */
int xpy_cancel_arg(PyObject *o, xchan_cancel **out);
int xpy_cancel_init(PyObject *m);
/* seconds (None: never) -> deadline; -1 on a bad argument. */
int xpy_deadline(PyObject *timeout, xchan_deadline *out);

/* ---- aio.c ---- */
int xpy_aio_init(PyObject *m);
/* The awaitables returned by Chan.take()/put() on a loop thread. */
PyObject *xpy_take_awaitable(XpyChan *ch, int stop_on_close);
PyObject *xpy_put_awaitable(XpyChan *ch, xchan_val v);
/* An awaitable that completes at once with `value` (stolen). */
PyObject *xpy_ready(PyObject *value);
/* The iterator protocol of the awaitables here and in go.c: end the
 * iteration returning `v` (stolen; a tuple or exception stays one value);
 * raise what throw(typ[, val[, tb]]) was given.  Both return NULL. */
PyObject *xpy_iter_return(PyObject *v);
PyObject *xpy_iter_throw(PyObject *args);
PyObject *xpy_iter_self(PyObject *self);
/* For the dispatch go driver (go.c), on an awaitable of aio.c: starts its
 * operation in callback form on the dispatch executor (the GIL is released
 * during the call; the callback may run before it returns); converts a
 * result of it as awaiting would (*value or *exc, exactly one); tells
 * whether a None result ends an `async for`. */
int32_t xpy_await_start_callback(PyObject *aw, xchan_callback cb, void *user);
void xpy_await_convert(PyObject *aw, xchan_result *r, PyObject **value,
    PyObject **exc);
int xpy_await_stop_on_close(PyObject *aw);

/* ---- go.c ---- */
int xpy_go_init(PyObject *m);
/* 1 while a step of a go on the dispatch executor runs on this thread. */
int xpy_in_dispatch_go(void);
/* The awaiting iterator of an aio.c awaitable inside such a step. */
PyObject *xpy_go_wait_new(PyObject *aw);
/* Hide the running go's step from code the core calls back (hooks),
 * and restore it. */
void *xpy_go_hide(void);
void xpy_go_restore(void *go);

/* ---- alts.c ---- */
typedef struct {
	size_t n;
	xchan_clause *clauses;
	PyObject **chans; /* borrowed from the ops list; the wrapper objects */
	PyObject *keep;   /* the list itself (strong) */
} xpy_clauses;
int xpy_clauses_parse(PyObject *ops, xpy_clauses *out);
/* Releases put values of clauses that did not win (index != winner). */
void xpy_clauses_free(xpy_clauses *c, int32_t winner);
/* The Python result of an alts: (value, chan), or (default, None). */
PyObject *xpy_alts_result(xpy_clauses *c, xchan_result *r);
int xpy_alts_init(PyObject *m);
/* The clause index whose put value moved (won with OK), else -1. */
int32_t xpy_alts_winner(xpy_clauses *c, xchan_result *r);

/* ---- tasks.c / xform.c / comb.c ---- */
int xpy_tasks_init(PyObject *m);
/* 1 once Python executors run core tasks: then even offer/poll release the
 * GIL (an executor hook may need it while the core holds a lock). */
extern int xpy_python_executors;
/* A transform from a Python transducer object (its `_xchan_xform()` method
 * returns a capsule with an xchan_xform*); NULL with an exception. */
xchan_xform *xpy_xform_from(PyObject *xf);
int xpy_xform_init(PyObject *m);
/* A pass-through transform that owns a reference to `obj` (for objects the
 * core keeps a borrowed pointer to, like a channel's error handler). */
xchan_xform *xpy_xform_owner(PyObject *obj);
int xpy_comb_init(PyObject *m);
/* The error handler for channels with a Python ex_handler. */
xchan_val xpy_ex_handler(void *user, xchan_val error);
/* Reports a failed task (go, thread) to the task error hook; GIL held. */
void xpy_task_failed(PyObject *name, PyObject *exc);
/* The default error handler: reports the failure as unraisable. */
xchan_val xpy_default_ex_handler(void *user, xchan_val error);
/* Drops `obj` (a strong reference) when `done` closes (done: borrowed). */
int xpy_release_when_closed(xchan_chan *done, PyObject *obj);

/* ---- op.c ---- */
/* The arguments of an AsyncOp start (callback or notify mode). */
typedef struct {
	int kind;                /* 0 take, 1 put, 2 alts */
	PyObject *chan;          /* take/put: an XpyChan */
	PyObject *value;         /* put */
	PyObject *ops;           /* alts: the ops sequence */
	uint32_t flags;          /* alts: XCHAN_ALTS_PRIORITY */
	xchan_deadline deadline; /* alts */
	PyObject *dflt;          /* alts: the default, or NULL */
	PyObject *callback;      /* Py_None when absent */
	PyObject *notify;        /* Py_None when absent */
	int dispatch;
	int handle;
} xpy_async_args;
/* Starts the op; returns the AsyncOp, or None (callback mode: completed
 * during the call, or handle=False). */
PyObject *xpy_async_start(const xpy_async_args *a);
int xpy_op_init(PyObject *m);

/* ---- guard.c ---- */
/* Replaces the instance methods of the ready `type` by guards that raise
 * xchan.InvalidArgumentType for a receiver that is not a `type` (`what`
 * names it in the message: "channel"). */
int xpy_guard_methods(PyTypeObject *type, const char *what);

/* ---- native.c ---- */
/* _native_run and the WORKLOAD_* constants (xchan.native). */
int xpy_native_init(PyObject *m);

#endif
