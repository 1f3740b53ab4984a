/*
 * aio.c — asyncio: awaitable put/take/alts, the per-loop Hub, and Op.
 *
 * Fast path: awaiting ch.take()/ch.put(v)/alts_async(...) first tries the
 * operation without waiting (poll/offer/alts with XCHAN_DEADLINE_POLL); if
 * it completes, the await finishes without suspending the task.
 *
 * Slow path (xchan/_aio.py drives it): the op is registered with the core in
 * notify mode (XCHAN_ASYNC_NOTIFY) with an Op as its user pointer.  The
 * completer, on any thread, calls op_notify, which pushes the Op on its
 * Hub's lock-free stack and, only if the stack was empty, writes the Hub's
 * eventfd.  The loop watches the eventfd (loop.add_reader); Hub.drain runs on
 * the loop thread, takes the whole stack, collects each result
 * (xchan_op_collect) and resolves the futures.  A burst of completions from
 * other threads thus costs one loop wake, not one call_soon_threadsafe each.
 *
 * Dispatch go path (go.c): inside a step of a go on the dispatch executor
 * (no loop running), a miss of the fast path returns a GoWait instead of
 * the slow path; go.c starts the awaitable's operation in the core's
 * callback form with XCHAN_ASYNC_DISPATCH (xpy_await_start_callback), and
 * the callback converts its result (xpy_await_convert) on a dispatch
 * thread, with the GIL, while the starting thread may still be returning
 * from the start call: after a successful start the starter no longer
 * touches the awaitable.
 *
 * Cancellation (Op.cancel, on the loop thread): xchan_op_cancel_ex either
 * cancels (a put's value comes back and is released) or hands over the
 * result that had completed but was not yet collected; _aio.py then returns
 * that result to the task and re-raises the cancellation at its next await.
 * No value is lost or delivered twice.
 *
 * Concurrency: the only state shared with other threads is Hub.head (a
 * Treiber stack: push by CAS, drain by exchange) and Op.claimed (exchanged
 * by the notifier and by a cancelling loop thread: whoever sets it first
 * decides who drops the Op's pending reference).  Everything else runs on
 * the loop thread with the GIL.  The Op holds a reference to itself from
 * registration until the drain (or the winning cancel) drops it, so the
 * notifier never touches freed memory.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xpy.h"

static PyObject *g_slow; /* xchan._aio._slow(awaitable) -> generator */

/* ---- Ready: an awaitable that is already complete ---------------------- */
typedef struct {
	PyObject_HEAD
	PyObject *value;
	int stop_async; /* raise StopAsyncIteration (async for is over) */
} XpyReady;

static void
ready_dealloc(XpyReady *self)
{
	Py_CLEAR(self->value);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *
xpy_iter_self(PyObject *self)
{
	return Py_NewRef(self);
}

PyObject *
xpy_iter_return(PyObject *v)
{
	/* StopIteration(v), built so that a tuple or exception value is
	 * returned as itself. */
	PyObject *stop = PyObject_CallOneArg(PyExc_StopIteration, v);
	Py_DECREF(v);
	if (stop != NULL) {
		PyErr_SetObject(PyExc_StopIteration, stop);
		Py_DECREF(stop);
	}
	return NULL;
}

PyObject *
xpy_iter_throw(PyObject *args)
{
	PyObject *typ, *val = NULL, *tb = NULL;
	if (!PyArg_UnpackTuple(args, "throw", 1, 3, &typ, &val, &tb))
		return NULL;
	if (PyExceptionInstance_Check(typ))
		PyErr_SetObject((PyObject *)Py_TYPE(typ), typ);
	else
		PyErr_SetObject(typ, val);
	return NULL;
}

static PyObject *
ready_next(XpyReady *self)
{
	if (self->stop_async) {
		self->stop_async = 0;
		PyErr_SetNone(PyExc_StopAsyncIteration);
		return NULL;
	}
	if (self->value == NULL)
		return NULL; /* exhausted */
	PyObject *v = self->value;
	self->value = NULL;
	return xpy_iter_return(v);
}

static PyObject *
ready_send(XpyReady *self, PyObject *arg)
{
	return ready_next(self);
}

static PyObject *
ready_throw(XpyReady *self, PyObject *args)
{
	Py_CLEAR(self->value);
	return xpy_iter_throw(args);
}

static PyObject *
ready_close(XpyReady *self, PyObject *unused)
{
	Py_CLEAR(self->value);
	Py_RETURN_NONE;
}

static PyMethodDef ready_methods[] = {{"send", (PyCFunction)ready_send, METH_O,
                                          NULL},
    {"throw", (PyCFunction)ready_throw, METH_VARARGS, NULL},
    {"close", (PyCFunction)ready_close, METH_NOARGS, NULL}, {NULL}};

static PyAsyncMethods ready_async = {.am_await = xpy_iter_self};

static PyTypeObject XpyReady_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._Ready",
    .tp_basicsize = sizeof(XpyReady),
    .tp_dealloc = (destructor)ready_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An awaitable whose operation completed without waiting.",
    .tp_as_async = &ready_async,
    .tp_iter = xpy_iter_self,
    .tp_iternext = (iternextfunc)ready_next,
    .tp_methods = ready_methods,
};

PyObject *
xpy_ready(PyObject *value)
{
	if (value == NULL)
		return NULL;
	XpyReady *r = PyObject_New(XpyReady, &XpyReady_Type);
	if (r == NULL) {
		Py_DECREF(value);
		return NULL;
	}
	r->value = value;
	r->stop_async = 0;
	return (PyObject *)r;
}

/* An awaitable that raises StopAsyncIteration when awaited (raising it
 * from __await__ itself would not end an `async for`). */
static PyObject *
ready_stop_async(void)
{
	XpyReady *r = (XpyReady *)xpy_ready(Py_NewRef(Py_None));
	if (r != NULL)
		r->stop_async = 1;
	return (PyObject *)r;
}

/* ---- Hub --------------------------------------------------------------- */
typedef struct XpyOp XpyOp;
typedef struct {
	PyObject_HEAD
	int efd;
	_Atomic(XpyOp *) head;
	/* Loop-thread statistics (tests check the coalescing). */
	unsigned long long wakes, completions;
} XpyHub;

enum { OP_TAKE, OP_PUT, OP_ALTS };
enum { ST_PENDING, ST_DONE, ST_CANCELED };

struct XpyOp {
	PyObject_HEAD
	XpyOp *next; /* Hub stack link */
	XpyHub *hub;
	xchan_op *op;
	PyObject *fut;
	PyObject *chan; /* take/put: the Chan */
	int kind;
	int state;
	atomic_int claimed;
	xchan_val put_val; /* put: ours until it moves */
	xpy_clauses alts;  /* alts: the clauses and their put values */
	/* A result collected while the future was already cancelled, kept for
	 * cancel(): value, or exception (value NULL). */
	PyObject *result;
	PyObject *exc;
};

static PyTypeObject XpyHub_Type;
static PyTypeObject XpyOp_Type;

static PyObject *
hub_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	XpyHub *self = (XpyHub *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (self->efd < 0) {
		Py_DECREF(self);
		return PyErr_SetFromErrno(PyExc_OSError);
	}
	atomic_init(&self->head, NULL);
	return (PyObject *)self;
}

static void
hub_dealloc(XpyHub *self)
{
	if (self->efd >= 0)
		close(self->efd);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static void
hub_push(XpyHub *hub, XpyOp *op)
{
	XpyOp *head = atomic_load_explicit(&hub->head, memory_order_relaxed);
	do {
		op->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&hub->head, &head, op,
	    memory_order_release, memory_order_relaxed));
	if (head == NULL) {
		uint64_t one = 1;
		ssize_t n;
		do {
			n = write(hub->efd, &one, sizeof one);
		} while (n < 0 && errno == EINTR);
	}
}

/* The notifier: any thread, no lock held, no Python. */
static void
op_notify(void *user, xchan_result *unused)
{
	XpyOp *op = user;
	if (atomic_exchange_explicit(&op->claimed, 1, memory_order_acq_rel))
		return; /* a cancel already took the result */
	hub_push(op->hub, op);
}

/* Sets *value or *exc from a completed result of an operation of `kind`
 * (consumes its value; an alts' put values that did not move are released
 * from `alts`). */
static void
result_convert(int kind, xpy_clauses *alts, xchan_result *r, PyObject **value,
    PyObject **exc)
{
	PyObject *v = NULL;
	switch (kind) {
	case OP_TAKE:
		if (r->err == XCHAN_OK)
			v = xpy_from_val(r->val);
		else if (r->err == XCHAN_ECLOSED)
			v = Py_NewRef(Py_None);
		else
			xpy_raise(r->err, "take");
		break;
	case OP_PUT:
		if (r->err == XCHAN_OK) {
			v = Py_NewRef(Py_True);
		} else {
			/* The put did not happen: its value came back. */
			xchan_val_release(r->val);
			if (r->err == XCHAN_ECLOSED)
				v = Py_NewRef(Py_False);
			else
				xpy_raise(r->err, "put");
		}
		break;
	case OP_ALTS:
		if (r->index >= 0)
			v = xpy_alts_result(alts, r);
		else
			xpy_raise(r->err == XCHAN_EAGAIN ? XCHAN_ETIMEDOUT
			                                 : r->err,
			    "alts");
		xpy_clauses_free(alts, xpy_alts_winner(alts, r));
		break;
	}
	*value = v;
	*exc = NULL;
	if (v == NULL)
		*exc = xpy_fetch_exception();
}

static void
op_convert(XpyOp *op, xchan_result *r, PyObject **value, PyObject **exc)
{
	result_convert(op->kind, &op->alts, r, value, exc);
}

static int
fut_done(PyObject *fut)
{
	PyObject *d = PyObject_CallMethod(fut, "done", NULL);
	if (d == NULL)
		return -1;
	int r = PyObject_IsTrue(d);
	Py_DECREF(d);
	return r;
}

/* Resolves the future, or keeps the result for cancel() if the future was
 * cancelled meanwhile. */
static void
op_deliver(XpyOp *op, PyObject *value, PyObject *exc)
{
	int done = fut_done(op->fut);
	if (done != 0) {
		if (done < 0)
			PyErr_WriteUnraisable(op->fut);
		op->result = value;
		op->exc = exc;
		return;
	}
	/* OneArg: a tuple result (alts) must stay one argument. */
	static PyObject *set_result, *set_exception;
	if (set_result == NULL) {
		set_result = PyUnicode_InternFromString("set_result");
		set_exception = PyUnicode_InternFromString("set_exception");
	}
	PyObject *r = PyObject_CallMethodOneArg(op->fut,
	    value ? set_result : set_exception, value ? value : exc);
	if (r == NULL)
		PyErr_WriteUnraisable(op->fut);
	Py_XDECREF(r);
	Py_XDECREF(value);
	Py_XDECREF(exc);
}

static PyObject *
hub_drain(XpyHub *self, PyObject *unused)
{
	uint64_t cnt;
	while (read(self->efd, &cnt, sizeof cnt) < 0 && errno == EINTR)
		;
	XpyOp *list =
	    atomic_exchange_explicit(&self->head, NULL, memory_order_acquire);
	self->wakes++;
	XpyOp *fifo = NULL; /* the stack is LIFO: restore completion order */
	while (list != NULL) {
		XpyOp *next = list->next;
		list->next = fifo;
		fifo = list;
		list = next;
	}
	while (fifo != NULL) {
		XpyOp *op = fifo;
		fifo = op->next;
		op->next = NULL;
		self->completions++;
		if (op->state == ST_PENDING) {
			xchan_result r = {0, -1, {0, 0, 0}};
			int32_t rc = xchan_op_collect(op->op, &r);
			if (rc == XCHAN_OK) {
				PyObject *v, *e;
				op->state = ST_DONE;
				op_convert(op, &r, &v, &e);
				op_deliver(op, v, e);
			}
		}
		Py_DECREF(op); /* the pending reference */
	}
	Py_RETURN_NONE;
}

static PyObject *
hub_fileno(XpyHub *self, PyObject *unused)
{
	return PyLong_FromLong(self->efd);
}

static PyObject *
hub_stats(XpyHub *self, PyObject *unused)
{
	return Py_BuildValue("{s:K,s:K}", "wakes", self->wakes, "completions",
	    self->completions);
}

static PyMethodDef hub_methods[] = {
    {"stats", (PyCFunction)hub_stats, METH_NOARGS,
        "{'wakes': drains run, 'completions': ops they collected}"},
    {"drain", (PyCFunction)hub_drain, METH_NOARGS,
        "Collect every completed op and resolve its future (loop thread)."},
    {"fileno", (PyCFunction)hub_fileno, METH_NOARGS,
        "The eventfd the loop watches."},
    {NULL}};

static PyTypeObject XpyHub_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._Hub",
    .tp_basicsize = sizeof(XpyHub),
    .tp_dealloc = (destructor)hub_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "One per asyncio loop: where completions from any thread "
              "are collected, one loop wake per burst.",
    .tp_methods = hub_methods,
    .tp_new = hub_new,
};

/* ---- Op ---------------------------------------------------------------- */
static void
op_dealloc(XpyOp *self)
{
	if (self->op != NULL)
		xchan_op_release(self->op);
	xchan_val_release(self->put_val);
	xpy_clauses_free(&self->alts, -1);
	Py_CLEAR(self->hub);
	Py_CLEAR(self->fut);
	Py_CLEAR(self->chan);
	Py_CLEAR(self->result);
	Py_CLEAR(self->exc);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* cancel() -> (completed, value).  (False, None): the cancel won, nothing
 * was transferred.  (True, value): the op had completed; here is its
 * result (raised, if it is an exception). */
static PyObject *
op_cancel(XpyOp *self, PyObject *unused)
{
	PyObject *v = NULL, *e = NULL;
	if (self->state == ST_CANCELED)
		return Py_BuildValue("(OO)", Py_False, Py_None);
	if (self->state == ST_DONE) {
		v = self->result;
		e = self->exc;
		self->result = self->exc = NULL;
		if (v == NULL && e == NULL)
			return PyErr_Format(PyExc_RuntimeError,
			    "xchan: op result already delivered");
	} else {
		xchan_result r = {0, -1, {0, 0, 0}};
		int32_t rc = xchan_op_cancel_ex(self->op, &r);
		if (rc != XCHAN_OK)
			return xpy_raise(rc, "cancel");
		/* The notifier will not run from now on; if it has not
		 * pushed us, drop the pending reference here. */
		int pushed = atomic_exchange_explicit(&self->claimed, 1,
		    memory_order_acq_rel);
		if (r.err == XCHAN_ECANCELED) {
			self->state = ST_CANCELED;
			xchan_val_release(r.val); /* a put's value came back */
			xpy_clauses_free(&self->alts, -1);
			if (!pushed)
				Py_DECREF(self);
			return Py_BuildValue("(OO)", Py_False, Py_None);
		}
		self->state = ST_DONE;
		op_convert(self, &r, &v, &e);
		if (!pushed)
			Py_DECREF(self); /* the caller still holds us */
	}
	if (e != NULL) {
		PyErr_SetObject((PyObject *)Py_TYPE(e), e);
		Py_DECREF(e);
		return NULL;
	}
	PyObject *t = Py_BuildValue("(OO)", Py_True, v);
	Py_DECREF(v);
	return t;
}

static PyMethodDef op_methods[] = {
    {"cancel", (PyCFunction)op_cancel, METH_NOARGS,
        "cancel() -> (completed, value): cancel, or collect the result."},
    {NULL}};

static PyTypeObject XpyOp_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._Op",
    .tp_basicsize = sizeof(XpyOp),
    .tp_dealloc = (destructor)op_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A pending asynchronous channel operation.",
    .tp_methods = op_methods,
};

/* ---- the awaitables ---------------------------------------------------- */
typedef struct {
	PyObject_HEAD
	int kind;
	int started;
	int stop_on_close; /* take for __anext__ */
	XpyChan *chan;     /* take/put */
	xchan_val put_val; /* put */
	xpy_clauses alts;  /* alts */
	uint32_t alts_flags;
	xchan_deadline deadline; /* alts */
	PyObject *dflt;          /* alts default, or NULL */
} XpyAwait;

static PyTypeObject XpyAwait_Type;

static void
await_dealloc(XpyAwait *self)
{
	if (!self->started && !xpy_exiting()) {
		/* Like a coroutine never awaited: the operation never ran. */
		PyObject *t, *v, *tb;
		PyErr_Fetch(&t, &v, &tb);
		if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
		        "xchan %s was never awaited (on a thread running an "
		        "asyncio loop, put/take return awaitables: use await)",
		        self->kind == OP_TAKE  ? "take"
		        : self->kind == OP_PUT ? "put"
		                               : "alts_async") < 0)
			PyErr_WriteUnraisable((PyObject *)self);
		PyErr_Restore(t, v, tb);
	}
	xchan_val_release(self->put_val);
	xpy_clauses_free(&self->alts, -1);
	Py_CLEAR(self->chan);
	Py_CLEAR(self->dflt);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static XpyAwait *
await_new(int kind)
{
	XpyAwait *a = PyObject_New(XpyAwait, &XpyAwait_Type);
	if (a == NULL)
		return NULL;
	a->kind = kind;
	a->started = 0;
	a->stop_on_close = 0;
	a->chan = NULL;
	a->put_val = xchan_val_nil();
	memset(&a->alts, 0, sizeof a->alts);
	a->alts_flags = 0;
	a->deadline = XCHAN_DEADLINE_NEVER;
	a->dflt = NULL;
	return a;
}

PyObject *
xpy_take_awaitable(XpyChan *ch, int stop_on_close)
{
	XpyAwait *a = await_new(OP_TAKE);
	if (a == NULL)
		return NULL;
	a->chan = (XpyChan *)Py_NewRef((PyObject *)ch);
	a->stop_on_close = stop_on_close;
	return (PyObject *)a;
}

PyObject *
xpy_put_awaitable(XpyChan *ch, xchan_val v)
{
	XpyAwait *a = await_new(OP_PUT);
	if (a == NULL) {
		xchan_val_release(v);
		return NULL;
	}
	a->chan = (XpyChan *)Py_NewRef((PyObject *)ch);
	a->put_val = v;
	return (PyObject *)a;
}

static PyObject *
take_done(XpyAwait *self, PyObject *v)
{
	if (v == Py_None && self->stop_on_close) {
		Py_DECREF(v);
		return ready_stop_async();
	}
	return xpy_ready(v);
}

/* am_await: the fast path, else the slow path's generator. */
static PyObject *
await_await(XpyAwait *self)
{
	if (self->started) {
		PyErr_SetString(PyExc_RuntimeError,
		    "this xchan awaitable was already awaited");
		return NULL;
	}
	self->started = 1;
	int32_t rc;
	if (self->kind == OP_TAKE) {
		xchan_val v;
		XpyChan *c = self->chan;
		if (c->may_xform || xpy_python_executors) {
			Py_BEGIN_ALLOW_THREADS rc = xchan_poll(&v, c->ch);
			Py_END_ALLOW_THREADS
		} else {
			rc = xchan_poll(&v, c->ch);
		}
		if (rc == XCHAN_OK) {
			PyObject *o = xpy_from_val(v);
			return o ? take_done(self, o) : NULL;
		}
		if (rc == XCHAN_ECLOSED)
			return take_done(self, Py_NewRef(Py_None));
		if (rc != XCHAN_EAGAIN)
			return xpy_raise(rc, "take");
	} else if (self->kind == OP_PUT) {
		XpyChan *c = self->chan;
		if (c->may_xform || xpy_python_executors) {
			Py_BEGIN_ALLOW_THREADS rc =
			    xchan_offer(c->ch, self->put_val);
			Py_END_ALLOW_THREADS
		} else {
			rc = xchan_offer(c->ch, self->put_val);
		}
		if (rc == XCHAN_OK) {
			self->put_val = xchan_val_nil();
			return xpy_ready(Py_NewRef(Py_True));
		}
		if (rc == XCHAN_ECLOSED)
			return xpy_ready(Py_NewRef(Py_False));
		if (rc != XCHAN_EAGAIN)
			return xpy_raise(rc, "put");
	} else {
		xchan_result r = {0, -1, {0, 0, 0}};
		Py_BEGIN_ALLOW_THREADS rc = xchan_alts(&r, self->alts.clauses,
		    self->alts.n, self->alts_flags, XCHAN_DEADLINE_POLL);
		Py_END_ALLOW_THREADS if (r.index >= 0)
		{
			PyObject *res = xpy_alts_result(&self->alts, &r);
			xpy_clauses_free(&self->alts,
			    xpy_alts_winner(&self->alts, &r));
			return xpy_ready(res);
		}
		if (rc != XCHAN_EAGAIN)
			return xpy_raise(rc, "alts");
		if (self->dflt != NULL)
			return xpy_ready(PyTuple_Pack(2, self->dflt, Py_None));
	}
	/* A go on the dispatch executor (go.c) waits through its driver; an
	 * asyncio loop run inside its step (asyncio.run) still gets the
	 * asyncio slow path. */
	if (xpy_in_dispatch_go() && !xpy_loop_running())
		return xpy_go_wait_new((PyObject *)self);
	return PyObject_CallOneArg(g_slow, (PyObject *)self);
}

/* ---- for the dispatch go driver (go.c) ---------------------------------- */
int32_t
xpy_await_start_callback(PyObject *o, xchan_callback cb, void *user)
{
	XpyAwait *self = (XpyAwait *)o;
	const uint32_t flags = XCHAN_ASYNC_DISPATCH;
	/* The value moves to the core now: the callback may run on another
	 * thread before this call returns. */
	xchan_val v = self->put_val;
	self->put_val = xchan_val_nil();
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS;
	if (self->kind == OP_TAKE)
		rc = xchan_take_async(NULL, self->chan->ch, flags, cb, user);
	else if (self->kind == OP_PUT)
		rc = xchan_put_async(NULL, self->chan->ch, v, flags, cb, user);
	else
		rc = xchan_alts_async(NULL, self->alts.clauses, self->alts.n,
		    self->alts_flags | flags, self->deadline, cb, user);
	Py_END_ALLOW_THREADS;
	if (rc != XCHAN_OK)
		self->put_val = v; /* never called back: still ours */
	return rc;
}

void
xpy_await_convert(PyObject *o, xchan_result *r, PyObject **value,
    PyObject **exc)
{
	XpyAwait *self = (XpyAwait *)o;
	result_convert(self->kind, &self->alts, r, value, exc);
}

int
xpy_await_stop_on_close(PyObject *o)
{
	return ((XpyAwait *)o)->stop_on_close;
}

/* _start(hub, fut) -> Op: registers the op in notify mode. */
static PyObject *
await_start(XpyAwait *self, PyObject *args)
{
	PyObject *hub, *fut;
	if (!PyArg_ParseTuple(args, "O!O:_start", &XpyHub_Type, &hub, &fut))
		return NULL;
	XpyOp *op = PyObject_New(XpyOp, &XpyOp_Type);
	if (op == NULL)
		return NULL;
	op->next = NULL;
	op->hub = (XpyHub *)Py_NewRef(hub);
	op->op = NULL;
	op->fut = Py_NewRef(fut);
	op->chan = self->chan ? Py_NewRef((PyObject *)self->chan) : NULL;
	op->kind = self->kind;
	op->state = ST_PENDING;
	atomic_init(&op->claimed, 0);
	op->put_val = xchan_val_nil();
	memset(&op->alts, 0, sizeof op->alts);
	op->result = op->exc = NULL;

	Py_INCREF(op); /* the pending reference, dropped by drain/cancel */
	int32_t rc;
	uint32_t flags = XCHAN_ASYNC_NOTIFY;
	xchan_op *xop = NULL;
	if (self->kind == OP_TAKE) {
		Py_BEGIN_ALLOW_THREADS rc = xchan_take_async(&xop,
		    self->chan->ch, flags, op_notify, op);
		Py_END_ALLOW_THREADS
	} else if (self->kind == OP_PUT) {
		/* The op keeps the value until it moves or comes back. */
		op->put_val = self->put_val;
		self->put_val = xchan_val_nil();
		Py_BEGIN_ALLOW_THREADS rc = xchan_put_async(&xop,
		    self->chan->ch, op->put_val, flags, op_notify, op);
		Py_END_ALLOW_THREADS
	} else {
		op->alts = self->alts;
		memset(&self->alts, 0, sizeof self->alts);
		Py_BEGIN_ALLOW_THREADS rc = xchan_alts_async(&xop,
		    op->alts.clauses, op->alts.n, self->alts_flags | flags,
		    self->deadline, op_notify, op);
		Py_END_ALLOW_THREADS
	}
	op->op = xop;
	if (rc == XCHAN_OK)
		op->put_val = xchan_val_nil(); /* now the core's, until it
						* moves or comes back in the
						* result */
	if (rc != XCHAN_OK) {
		Py_DECREF(op); /* the notifier never runs */
		Py_DECREF(op);
		return xpy_raise(rc, self->kind == OP_TAKE  ? "take"
		                     : self->kind == OP_PUT ? "put"
		                                            : "alts");
	}
	if (xop == NULL) {
		Py_DECREF(op);
		Py_DECREF(op);
		return xpy_raise(XCHAN_EINTERNAL,
		    "notify-mode op completed without a handle");
	}
	return (PyObject *)op;
}

static PyMethodDef await_methods[] = {
    {"_start", (PyCFunction)await_start, METH_VARARGS,
        "Register the op with the loop's hub (slow path)."},
    {NULL}};

static PyMemberDef await_members[] = {{"_stop_on_close", T_INT,
                                          offsetof(XpyAwait, stop_on_close),
                                          READONLY, NULL},
    {NULL}};

static PyAsyncMethods await_async = {.am_await = (unaryfunc)await_await};

static PyTypeObject XpyAwait_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._Await",
    .tp_basicsize = sizeof(XpyAwait),
    .tp_dealloc = (destructor)await_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An awaitable channel operation (put, take or alts); it starts "
              "when awaited.",
    .tp_as_async = &await_async,
    .tp_methods = await_methods,
    .tp_members = await_members,
};

static PyObject *
mod_alts_async(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"ops", "priority", "default", "timeout",
	    "callback", "notify", "dispatch", "handle", NULL};
	PyObject *ops, *dflt = NULL, *timeout = Py_None;
	PyObject *callback = Py_None, *notify = Py_None;
	int priority = 0, dispatch = 0, handle = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$pOOOOpp:alts_async",
	        kwlist, &ops, &priority, &dflt, &timeout, &callback, &notify,
	        &dispatch, &handle))
		return NULL;
	if (callback != Py_None || notify != Py_None) {
		xpy_async_args a = {.kind = 2,
		    .ops = ops,
		    .flags = priority ? XCHAN_ALTS_PRIORITY : 0,
		    .deadline = XCHAN_DEADLINE_POLL,
		    .dflt = dflt,
		    .callback = callback,
		    .notify = notify,
		    .dispatch = dispatch,
		    .handle = handle};
		if (dflt == NULL && xpy_deadline(timeout, &a.deadline) < 0)
			return NULL;
		return xpy_async_start(&a);
	}
	if (dispatch || !handle)
		return xpy_raise(XCHAN_EINVAL,
		    "alts_async: dispatch and handle need a callback");
	XpyAwait *a = await_new(OP_ALTS);
	if (a == NULL)
		return NULL;
	if (xpy_deadline(timeout, &a->deadline) < 0 ||
	    xpy_clauses_parse(ops, &a->alts) < 0) {
		Py_DECREF(a);
		return NULL;
	}
	a->alts_flags = priority ? XCHAN_ALTS_PRIORITY : 0;
	a->dflt = Py_XNewRef(dflt);
	return (PyObject *)a;
}

static PyMethodDef aio_methods[] = {
    {"alts_async", (PyCFunction)(void (*)(void))mod_alts_async,
        METH_VARARGS | METH_KEYWORDS,
        "alts_async(ops, *, priority=False, default=..., timeout=None,\n"
        "           callback=None, notify=None, dispatch=False, handle=True)\n"
        "--\n\n"
        "The awaitable form of alts(): `await xchan.alts_async([...])`.\n"
        "Completes without suspending when an op is ready at once.\n"
        "With callback or notify: starts now and returns an AsyncOp (or\n"
        "None), as Chan.take_async; the result is (value, chan)."},
    {NULL}};

static PyObject *
mod_set_slow(PyObject *m, PyObject *fn)
{
	Py_XSETREF(g_slow, Py_NewRef(fn));
	Py_RETURN_NONE;
}

static PyMethodDef aio_private[] = {
    {"_set_slow_path", mod_set_slow, METH_O,
        "Install xchan._aio._slow (called by the package at import)."},
    {NULL}};

int
xpy_aio_init(PyObject *m)
{
	if (PyType_Ready(&XpyReady_Type) < 0 ||
	    PyType_Ready(&XpyHub_Type) < 0 || PyType_Ready(&XpyOp_Type) < 0 ||
	    PyType_Ready(&XpyAwait_Type) < 0)
		return -1;
	Py_INCREF(&XpyHub_Type);
	if (PyModule_AddObject(m, "_Hub", (PyObject *)&XpyHub_Type) < 0)
		return -1;
	if (PyModule_AddFunctions(m, aio_private) < 0)
		return -1;
	return PyModule_AddFunctions(m, aio_methods);
}
