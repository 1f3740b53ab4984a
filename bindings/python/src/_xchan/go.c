/*
 * go.c — xchan.go where no asyncio loop runs: a coroutine as a go task on
 * the core's DISPATCH executor.
 *
 * core.async's go is a state machine resumed on the dispatch pool; a Python
 * coroutine is such a state machine.  The driver (XpyGo) runs one step,
 * coro.send(None) (or coro.throw(e)), on a thread of the executor that
 * xchan_executor_for(DISPATCH) gives (a factory's, or MIXED when the
 * factory returns None for dispatch, or the core's pool), with the GIL:
 *
 *   - the first step is an xchan_execute on that executor;
 *   - when the coroutine awaits an xchan awaitable (aio.c: ch.take(),
 *     ch.put(v), alts_async, a timeout's take ...) that cannot complete at
 *     once, the awaitable's iterator yields a GoWait to the driver instead
 *     of an asyncio future (aio.c checks xpy_in_dispatch_go()).  The driver
 *     starts the operation in the core's callback form with
 *     XCHAN_ASYNC_DISPATCH and returns: the step is over and the dispatch
 *     thread is free.  The completion runs go_resumed on the dispatch
 *     executor, which stores the result in the GoWait and runs the next
 *     step: the coroutine resumes inside the GoWait, which returns the
 *     result (or raises the error) at the `await`;
 *   - anything else the coroutine yields (an asyncio future, the bare yield
 *     of asyncio.sleep(0)) is thrown back into it as a TypeError, at its
 *     await, so the body can handle it;
 *   - the end: the return value (None: no value) is offered to the result
 *     channel (buffer 1), which is then closed; an exception closes it
 *     without a value and goes to the task error hook (tasks.c), except a
 *     CancelledError (the channel just closes), as for the asyncio go.
 *
 * While a step runs, tl_go names its go on that thread: xchan.in_go() is
 * then True, and Chan.put/take return awaitables instead of blocking.  The
 * core's hooks that call Python (callbacks, notifiers, log, task errors)
 * enter through xpy_hook_enter, which hides tl_go for their duration: an
 * op's callback that a go step's operation completes inline runs with
 * in_go() False, as the core's contract says of callbacks.
 *
 * Concurrency: at most one step of a go runs at a time (a step ends by
 * starting one operation, whose single completion starts the next), and a
 * step never touches the coroutine after it started that operation (the
 * next step may already run on another dispatch thread; the GIL orders
 * them).  Everything runs with the GIL.  References: the first step's job
 * owns one on the XpyGo; a pending operation's callback owns one on its
 * GoWait, which owns one on the XpyGo until the callback takes it.  A go
 * whose operation never completes stays parked, as a core go task does.
 * If Python is exiting (xchan's atexit hook ran) when a step would start,
 * the step is skipped and its references leak (never touch a dying
 * interpreter), but the result channel is closed, which needs no GIL: a
 * waiter sees the go end, as a thread() task refused at exit ends.  go()
 * itself then raises ESHUTDOWN.
 */
#include "xpy.h"

typedef struct {
	PyObject_HEAD
	PyObject *coro; /* NULL once it ended */
	PyObject *name; /* str: the task's name for the error hook */
	XpyChan *out;   /* the result channel (buffer 1) */
} XpyGo;

enum { W_NEW, W_WAITING, W_DONE };

typedef struct {
	PyObject_HEAD
	PyObject *aw; /* the aio.c awaitable whose operation this waits for */
	XpyGo *go;    /* set while the operation is pending */
	int state;
	PyObject *value, *exc; /* W_DONE: the result, or the error */
} XpyGoWait;

static PyTypeObject XpyGo_Type;
static PyTypeObject XpyGoWait_Type;

/* The go whose step runs on this thread (GIL held), else NULL. */
static _Thread_local XpyGo *tl_go;
static PyObject *g_cancelled_error; /* asyncio.CancelledError */

int
xpy_in_dispatch_go(void)
{
	return tl_go != NULL;
}

void *
xpy_go_hide(void)
{
	XpyGo *g = tl_go;
	tl_go = NULL;
	return g;
}

void
xpy_go_restore(void *g)
{
	tl_go = g;
}

/* ---- GoWait: the await inside the coroutine ----------------------------- */
PyObject *
xpy_go_wait_new(PyObject *aw)
{
	XpyGoWait *w = PyObject_New(XpyGoWait, &XpyGoWait_Type);
	if (w == NULL)
		return NULL;
	w->aw = Py_NewRef(aw);
	w->go = NULL;
	w->state = W_NEW;
	w->value = w->exc = NULL;
	return (PyObject *)w;
}

static void
wait_dealloc(XpyGoWait *self)
{
	Py_CLEAR(self->aw);
	Py_CLEAR(self->go);
	Py_CLEAR(self->value);
	Py_CLEAR(self->exc);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* First call: yields itself to the driver.  After the driver resumed the
 * coroutine: returns the result (StopIteration) or raises the error. */
static PyObject *
wait_next(XpyGoWait *self)
{
	if (self->state == W_NEW) {
		self->state = W_WAITING;
		return Py_NewRef((PyObject *)self);
	}
	if (self->state != W_DONE) {
		PyErr_SetString(PyExc_RuntimeError,
		    "xchan: a go's operation was resumed before it completed "
		    "(the coroutine is driven by something other than "
		    "xchan.go)");
		return NULL;
	}
	PyObject *e = self->exc, *v = self->value;
	self->exc = self->value = NULL;
	if (e != NULL) {
		Py_XDECREF(v);
		PyErr_SetObject((PyObject *)Py_TYPE(e), e);
		Py_DECREF(e);
		return NULL;
	}
	if (v == NULL)
		return NULL; /* exhausted */
	if (v == Py_None && xpy_await_stop_on_close(self->aw)) {
		Py_DECREF(v);
		PyErr_SetNone(PyExc_StopAsyncIteration);
		return NULL;
	}
	return xpy_iter_return(v); /* a tuple (alts) stays one value */
}

static PyObject *
wait_send(XpyGoWait *self, PyObject *arg)
{
	return wait_next(self);
}

static PyObject *
wait_throw(XpyGoWait *self, PyObject *args)
{
	return xpy_iter_throw(args);
}

static PyObject *
wait_close(XpyGoWait *self, PyObject *unused)
{
	Py_RETURN_NONE;
}

static PyMethodDef wait_methods[] = {{"send", (PyCFunction)wait_send, METH_O,
                                         NULL},
    {"throw", (PyCFunction)wait_throw, METH_VARARGS, NULL},
    {"close", (PyCFunction)wait_close, METH_NOARGS, NULL}, {NULL}};

static PyTypeObject XpyGoWait_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._GoWait",
    .tp_basicsize = sizeof(XpyGoWait),
    .tp_dealloc = (destructor)wait_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An xchan operation a go on the dispatch executor waits for.",
    .tp_iter = xpy_iter_self,
    .tp_iternext = (iternextfunc)wait_next,
    .tp_methods = wait_methods,
};

/* ---- the driver -------------------------------------------------------- */
static void go_run(XpyGo *g, PyObject *exc);

/* The end of a go: `result` (owned, may be None) to the result channel,
 * then close it. */
static void
go_finish(XpyGo *g, PyObject *result)
{
	xchan_val v = xchan_val_nil();
	PyObject *failure = NULL;
	if (result != Py_None && xpy_to_val(result, &v) < 0)
		failure = xpy_fetch_exception();
	Py_DECREF(result);
	xchan_chan *ch = g->out->ch;
	Py_BEGIN_ALLOW_THREADS;
	if (failure == NULL && v.kind != XCHAN_NIL &&
	    xchan_offer(ch, v) != XCHAN_OK)
		xchan_val_release(v); /* closed by someone else: dropped */
	xchan_chan_close(ch);
	Py_END_ALLOW_THREADS;
	if (failure != NULL) {
		xpy_task_failed(g->name, failure);
		Py_DECREF(failure);
	}
}

/* The coroutine raised (the exception is set). */
static void
go_fail(XpyGo *g)
{
	PyObject *exc = xpy_fetch_exception();
	xchan_chan *ch = g->out->ch;
	Py_BEGIN_ALLOW_THREADS;
	xchan_chan_close(ch);
	Py_END_ALLOW_THREADS;
	if (exc != NULL && PyObject_IsInstance(exc, g_cancelled_error) != 1) {
		PyErr_Clear();
		xpy_task_failed(g->name, exc);
	}
	PyErr_Clear();
	Py_XDECREF(exc);
}

/* Python is exiting: the step cannot run.  Ends the go for its waiters
 * (closing needs no GIL; the XpyGo and its channel stay referenced, so
 * leak rather than touch the interpreter). */
static void
go_abandon(XpyGo *g)
{
	fprintf(stderr, "xchan: a go on the dispatch executor was ended "
	                "unfinished: Python is exiting\n");
	xchan_chan_close(g->out->ch);
}

/* The awaited operation completed (on the dispatch executor): store its
 * result in the GoWait and run the go's next step. */
static void
go_resumed(void *user, xchan_result *r)
{
	XpyGoWait *w = user;
	xpy_hook h;
	if (!xpy_hook_enter(&h)) {
		go_abandon(w->go); /* exiting: leak */
		return;
	}
	xpy_await_convert(w->aw, r, &w->value, &w->exc);
	w->state = W_DONE;
	XpyGo *g = w->go;
	w->go = NULL;
	go_run(g, NULL);
	Py_DECREF(g);
	Py_DECREF(w); /* the callback's */
	xpy_hook_leave(&h);
}

/* Starts the operation `w` waits for; 0, or -1 with an exception. */
static int
go_wait_start(XpyGoWait *w, XpyGo *g)
{
	w->go = (XpyGo *)Py_NewRef((PyObject *)g);
	Py_INCREF(w); /* the callback's */
	int32_t rc = xpy_await_start_callback(w->aw, go_resumed, w);
	if (rc != XCHAN_OK) {
		Py_CLEAR(w->go);
		Py_DECREF(w);
		xpy_raise(rc, "go: await");
		return -1;
	}
	return 0;
}

static PyObject *str_throw;

/* coro.throw(exc) as PyIter_Send reports it (consumes exc). */
static PySendResult
go_throw(PyObject *coro, PyObject *exc, PyObject **out)
{
	*out = PyObject_CallMethodOneArg(coro, str_throw, exc);
	Py_DECREF(exc);
	if (*out != NULL)
		return PYGEN_NEXT;
	if (!PyErr_ExceptionMatches(PyExc_StopIteration))
		return PYGEN_ERROR;
	PyObject *stop = xpy_fetch_exception();
	*out = stop ? PyObject_GetAttrString(stop, "value") : NULL;
	Py_XDECREF(stop);
	return *out ? PYGEN_RETURN : PYGEN_ERROR;
}

/* Runs steps of `g` until it waits for an xchan operation or ends.  `exc`
 * (owned, may be NULL) is thrown in instead of sending None.  GIL held. */
static void
go_run(XpyGo *g, PyObject *exc)
{
	if (g->coro == NULL) {
		Py_XDECREF(exc);
		return;
	}
	for (;;) {
		PyObject *y = NULL;
		XpyGo *outer = tl_go;
		tl_go = g;
		PySendResult r = exc != NULL
		                     ? go_throw(g->coro, exc, &y)
		                     : PyIter_Send(g->coro, Py_None, &y);
		exc = NULL;
		tl_go = outer;
		if (r == PYGEN_RETURN) {
			Py_CLEAR(g->coro);
			go_finish(g, y);
			return;
		}
		if (r == PYGEN_ERROR) {
			Py_CLEAR(g->coro);
			go_fail(g);
			return;
		}
		if (Py_IS_TYPE(y, &XpyGoWait_Type) &&
		    ((XpyGoWait *)y)->state == W_WAITING &&
		    ((XpyGoWait *)y)->go == NULL) {
			int started = go_wait_start((XpyGoWait *)y, g) == 0;
			/* After a start the next step may already run on
			 * another thread: `g->coro` is not ours any more. */
			Py_DECREF(y);
			if (started)
				return;
			exc = xpy_fetch_exception();
			continue;
		}
		PyErr_Format(PyExc_TypeError,
		    "a go on the dispatch executor can await only xchan "
		    "operations (it got %.100s); run it on an asyncio loop to "
		    "await asyncio objects",
		    y == Py_None ? "a bare yield, e.g. asyncio.sleep(0)"
		                 : Py_TYPE(y)->tp_name);
		Py_DECREF(y);
		exc = xpy_fetch_exception();
	}
}

/* The first step, an xchan_execute job on the dispatch executor. */
static void
go_first(void *arg)
{
	XpyGo *g = arg;
	xpy_hook h;
	if (!xpy_hook_enter(&h)) {
		go_abandon(g); /* exiting: leak */
		return;
	}
	go_run(g, NULL);
	Py_DECREF(g); /* the job's */
	xpy_hook_leave(&h);
}

static void
go_dealloc(XpyGo *self)
{
	Py_CLEAR(self->coro);
	Py_CLEAR(self->name);
	Py_CLEAR(self->out);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject XpyGo_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._Go",
    .tp_basicsize = sizeof(XpyGo),
    .tp_dealloc = (destructor)go_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A coroutine run as a go task on the dispatch executor.",
};

/* _go_dispatch(coro, name, out): starts the go; raises on a refusal (the
 * coroutine is then not run). */
static PyObject *
mod_go_dispatch(PyObject *m, PyObject *args)
{
	PyObject *coro, *name, *out;
	if (!PyArg_ParseTuple(args, "OUO!:_go_dispatch", &coro, &name,
	        &XpyChan_Type, &out))
		return NULL;
	if (!PyObject_HasAttr(coro, str_throw) ||
	    !PyObject_HasAttrString(coro, "send"))
		return xpy_raise_arg_type("go: a coroutine was expected, got "
		                          "%.100s",
		    xpy_type_name(coro));
	/* After xchan's atexit hook no step could run. */
	if (xpy_exiting())
		return xpy_raise(XCHAN_ESHUTDOWN, "go: Python is exiting");
	xchan_executor *ex = NULL;
	int32_t rc;
	/* Resolving may call a Python factory (it takes the GIL). */
	Py_BEGIN_ALLOW_THREADS;
	rc = xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH);
	Py_END_ALLOW_THREADS;
	if (rc != XCHAN_OK)
		return xpy_raise(rc, "go: no dispatch executor");
	XpyGo *g = PyObject_New(XpyGo, &XpyGo_Type);
	if (g == NULL)
		return NULL;
	g->coro = Py_NewRef(coro);
	g->name = Py_NewRef(name);
	g->out = (XpyChan *)Py_NewRef(out);
	Py_INCREF(g); /* the job's */
	Py_BEGIN_ALLOW_THREADS;
	rc = xchan_execute(ex, go_first, g);
	Py_END_ALLOW_THREADS;
	if (rc != XCHAN_OK) {
		Py_DECREF(g); /* never run */
		Py_DECREF(g);
		return xpy_raise(rc, "go");
	}
	Py_DECREF(g);
	Py_RETURN_NONE;
}

static PyMethodDef go_methods[] = {
    {"_go_dispatch", mod_go_dispatch, METH_VARARGS,
        "_go_dispatch(coro, name, out): run coro as a go task on the "
        "dispatch executor; its result goes to `out`, which then closes "
        "(xchan.go calls it where no asyncio loop runs)."},
    {NULL}};

int
xpy_go_init(PyObject *m)
{
	if (PyType_Ready(&XpyGo_Type) < 0 || PyType_Ready(&XpyGoWait_Type) < 0)
		return -1;
	str_throw = PyUnicode_InternFromString("throw");
	PyObject *aio = PyImport_ImportModule("asyncio");
	if (str_throw == NULL || aio == NULL)
		return -1;
	g_cancelled_error = PyObject_GetAttrString(aio, "CancelledError");
	Py_DECREF(aio);
	if (g_cancelled_error == NULL)
		return -1;
	return PyModule_AddFunctions(m, go_methods);
}
