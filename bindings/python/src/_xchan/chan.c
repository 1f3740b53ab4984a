/*
 * chan.c — xchan.Chan: a Python handle on one native channel.
 *
 * The object holds one channel reference; several Chan objects may wrap the
 * same native channel (a channel taken from a channel, or from a C
 * extension's capsule): they compare and hash equal.
 *
 * Blocking put/take release the GIL while they wait and, on the main thread,
 * wait with XCHAN_WAIT_EINTR so that Ctrl-C (any Python signal handler) runs
 * while a take is blocked: the handler's exception propagates and nothing
 * was transferred, so the value stays in the channel.
 *
 * On a thread that runs an asyncio loop, and inside a go on the dispatch
 * executor (go.c), put() and take() return awaitables instead of blocking
 * the loop or the dispatch thread (see aio.c).
 */
#include "xpy.h"

static unsigned long g_main_thread;
static PyObject *g_get_running_loop; /* asyncio.events._get_running_loop */

/* asyncio's C _get_running_loop, called directly when it is a METH_NOARGS
 * builtin (it is, in CPython): this check runs on every put/take. */
static PyCFunction g_grl_meth;
static PyObject *g_grl_self;

static int
loop_running_uncached(void)
{
	PyObject *loop = g_grl_meth ? g_grl_meth(g_grl_self, NULL)
	                            : PyObject_CallNoArgs(g_get_running_loop);
	if (loop == NULL) {
		PyErr_Clear();
		return 0;
	}
	int running = loop != Py_None;
	Py_DECREF(loop);
	return running;
}

#if PY_VERSION_HEX < 0x030C0000
/* CPython 3.11's asyncio keeps the running loop in the thread state's dict,
 * rewritten whenever a loop starts or stops on the thread.  Dict versions
 * are unique across all dicts, so (dict, version) unchanged means the
 * answer is unchanged: put/take then skip the lookup. */
static _Thread_local PyObject *tl_dict;
static _Thread_local uint64_t tl_version;
static _Thread_local int tl_running;

int
xpy_loop_running(void)
{
	PyObject *d = PyThreadState_GetDict();
	if (d != NULL && d == tl_dict &&
	    ((PyDictObject *)d)->ma_version_tag == tl_version)
		return tl_running;
	int running = loop_running_uncached();
	if (d != NULL) {
		tl_dict = d;
		tl_version = ((PyDictObject *)d)->ma_version_tag;
		tl_running = running;
	}
	return running;
}
#else
int
xpy_loop_running(void)
{
	return loop_running_uncached();
}
#endif

int
xpy_deadline(PyObject *timeout, xchan_deadline *out)
{
	if (timeout == NULL || timeout == Py_None) {
		*out = XCHAN_DEADLINE_NEVER;
		return 0;
	}
	double s = PyFloat_AsDouble(timeout);
	if (s == -1.0 && PyErr_Occurred()) {
		PyErr_Format(PyExc_TypeError,
		    "timeout must be a number of seconds or None, not %.100s",
		    Py_TYPE(timeout)->tp_name);
		return -1;
	}
	if (!(s >= 0) || s > 1e9) {
		PyErr_Format(PyExc_ValueError,
		    "timeout must be between 0 and 1e9 seconds, got %R",
		    timeout);
		return -1;
	}
	*out = xchan_deadline_in_ns((int64_t)(s * 1e9));
	return 0;
}

int
xpy_on_main_thread(void)
{
	return PyThread_get_thread_ident() == g_main_thread;
}

int32_t
xpy_wait_take(xchan_val *out, xchan_chan *ch, xchan_deadline dl,
    xchan_cancel *cancel)
{
	int eintr = xpy_on_main_thread() || cancel != NULL;
	xchan_wait_opts o = {sizeof o,
	    xpy_on_main_thread() ? XCHAN_WAIT_EINTR : 0u, cancel};
	for (;;) {
		int32_t rc;
		Py_BEGIN_ALLOW_THREADS rc = eintr
		                                ? xchan_take_ex(out, ch, dl, &o)
		                                : xchan_take(out, ch, dl);
		Py_END_ALLOW_THREADS if (rc != XCHAN_EINTR) return rc;
		if (PyErr_CheckSignals() < 0)
			return -1;
	}
}

int32_t
xpy_wait_put(xchan_chan *ch, xchan_val v, xchan_deadline dl,
    xchan_cancel *cancel)
{
	int eintr = xpy_on_main_thread() || cancel != NULL;
	xchan_wait_opts o = {sizeof o,
	    xpy_on_main_thread() ? XCHAN_WAIT_EINTR : 0u, cancel};
	for (;;) {
		int32_t rc;
		Py_BEGIN_ALLOW_THREADS rc =
		    eintr ? xchan_put_ex(ch, v, dl, &o) : xchan_put(ch, v, dl);
		Py_END_ALLOW_THREADS if (rc != XCHAN_EINTR) return rc;
		if (PyErr_CheckSignals() < 0)
			return -1;
	}
}

/* ---- construction ------------------------------------------------------ */
PyObject *
xpy_chan_wrap(xchan_chan *ch, int may_xform)
{
	XpyChan *self = PyObject_New(XpyChan, &XpyChan_Type);
	if (self == NULL) {
		xchan_chan_release(ch);
		return NULL;
	}
	self->ch = ch;
	self->may_xform = may_xform;
	self->weakrefs = NULL;
	return (PyObject *)self;
}

int
xpy_chan_opts(PyObject *buf, PyObject *xform, PyObject *ex_handler,
    xchan_chan_opts *opts)
{
	memset(opts, 0, sizeof *opts);
	opts->size = sizeof *opts;
	if (buf == NULL || buf == Py_None) {
		opts->buf_kind = XCHAN_BUF_NONE;
	} else if (PyLong_Check(buf) && !PyBool_Check(buf)) {
		long long n = PyLong_AsLongLong(buf);
		if (n == -1 && PyErr_Occurred())
			return -1;
		if (n < 0) {
			xpy_raise_fmt(XCHAN_EINVAL,
			    "buffer size must be >= 0, got %lld", n);
			return -1;
		}
		opts->buf_kind = n == 0 ? XCHAN_BUF_NONE : XCHAN_BUF_FIXED;
		opts->capacity = (uint64_t)n;
	} else {
		PyObject *kind = PyObject_GetAttrString(buf, "_xchan_kind");
		PyObject *n = kind ? PyObject_GetAttrString(buf, "n") : NULL;
		if (kind == NULL || n == NULL) {
			Py_XDECREF(kind);
			PyErr_Format(PyExc_TypeError,
			    "buffer must be None, an int or a buffer from "
			    "xchan.buffer/dropping/sliding, not %.100s",
			    Py_TYPE(buf)->tp_name);
			return -1;
		}
		opts->buf_kind = (uint32_t)PyLong_AsUnsignedLong(kind);
		opts->capacity = PyLong_AsUnsignedLongLong(n);
		Py_DECREF(kind);
		Py_DECREF(n);
		if (PyErr_Occurred())
			return -1;
	}
	if (ex_handler != NULL && ex_handler != Py_None) {
		if (!PyCallable_Check(ex_handler)) {
			PyErr_SetString(PyExc_TypeError,
			    "ex_handler must be callable");
			return -1;
		}
		if (xform == NULL || xform == Py_None) {
			xpy_raise(XCHAN_EINVAL,
			    "ex_handler needs an xform (it handles the "
			    "transform's exceptions)");
			return -1;
		}
	}
	if (xform != NULL && xform != Py_None) {
		if (opts->buf_kind == XCHAN_BUF_NONE) {
			xpy_raise(XCHAN_EINVAL,
			    "a channel with an xform needs a buffer (as in "
			    "core.async)");
			return -1;
		}
		opts->xform = xpy_xform_from(xform);
		if (opts->xform == NULL)
			return -1;
		if (ex_handler != NULL && ex_handler != Py_None) {
			/* The handler lives as long as the transform: an
			 * owner transform last in the chain holds it (the
			 * core has no destructor for on_error_user). */
			xchan_xform *parts[2] = {opts->xform,
			    xpy_xform_owner(ex_handler)};
			if (parts[1] == NULL) {
				xchan_xform_free(parts[0]);
				opts->xform = NULL;
				return -1;
			}
			int32_t rc = xchan_xform_comp(&opts->xform, parts, 2);
			if (rc != XCHAN_OK) {
				opts->xform = NULL;
				xpy_raise(rc, "xform");
				return -1;
			}
			opts->on_error = xpy_ex_handler;
			opts->on_error_user = ex_handler;
		} else {
			opts->on_error = xpy_default_ex_handler;
		}
	}
	return 0;
}

static PyObject *
chan_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"buf", "xform", "ex_handler", "max_pending",
	    NULL};
	PyObject *buf = Py_None, *xform = Py_None, *exh = Py_None;
	unsigned int max_pending = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO$I:Chan", kwlist, &buf,
	        &xform, &exh, &max_pending))
		return NULL;
	xchan_chan_opts opts;
	if (xpy_chan_opts(buf, xform, exh, &opts) < 0)
		return NULL;
	opts.max_pending = max_pending;
	xchan_chan *ch = NULL;
	int32_t rc = xchan_chan_new(&ch, &opts);
	if (rc != XCHAN_OK) {
		/* The transform (and the handler its owner part holds) was
		 * taken over and freed by the core. */
		return xpy_raise(rc, "cannot create the channel");
	}
	XpyChan *self = (XpyChan *)type->tp_alloc(type, 0);
	if (self == NULL) {
		xchan_chan_release(ch);
		return NULL;
	}
	self->ch = ch;
	self->may_xform = opts.xform != NULL;
	return (PyObject *)self;
}

static void
chan_dealloc(XpyChan *self)
{
	if (self->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)self);
	xchan_chan *ch = self->ch;
	self->ch = NULL;
	if (ch != NULL)
		xchan_chan_release(ch);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

/* ---- operations -------------------------------------------------------- */
/* (value, timeout=None) / (timeout=None) from a vectorcall: the common
 * positional forms without the generic parser. */
static int
parse_args(const char *fn, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames, int nvalue, PyObject **value, PyObject **timeout,
    PyObject **cancel)
{
	*timeout = Py_None;
	*cancel = Py_None;
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	if (nargs > nvalue + 1 || nargs < (nkw ? 0 : nvalue))
		goto bad;
	if (nvalue && nargs >= 1)
		*value = args[0];
	if (nargs > nvalue)
		*timeout = args[nvalue];
	for (Py_ssize_t i = 0; i < nkw; i++) {
		PyObject *k = PyTuple_GET_ITEM(kwnames, i);
		PyObject *v = args[nargs + i];
		if (PyUnicode_CompareWithASCIIString(k, "timeout") == 0 &&
		    nargs <= nvalue)
			*timeout = v;
		else if (PyUnicode_CompareWithASCIIString(k, "cancel") == 0)
			*cancel = v;
		else if (nvalue &&
		         PyUnicode_CompareWithASCIIString(k, "value") == 0 &&
		         nargs == 0)
			*value = v;
		else
			goto bad;
	}
	if (nvalue && *value == NULL)
		goto bad;
	return 0;
bad:
	PyErr_Format(PyExc_TypeError, "%s() takes %s", fn,
	    nvalue ? "(value, timeout=None, *, cancel=None)"
	           : "(timeout=None, *, cancel=None)");
	return -1;
}

/* 1 where put()/take() without a timeout return awaitables: on a thread
 * running an asyncio loop, and in a step of a go on the dispatch executor. */
static int
awaiting_context(void)
{
	return xpy_in_dispatch_go() || xpy_loop_running();
}

/* The timeout and cancel arguments of a blocking put/take (`what`) into
 * *dl and *cancel; -1 with an exception for a bad one, or for a cancel
 * token without a timeout on a loop thread (it would block the loop). */
static int
wait_args(const char *what, PyObject *timeout, PyObject *cancelo,
    xchan_deadline *dl, xchan_cancel **cancel)
{
	if (xpy_deadline(timeout, dl) < 0 ||
	    xpy_cancel_arg(cancelo, cancel) < 0)
		return -1;
	if (*cancel != NULL && timeout == Py_None && awaiting_context()) {
		xpy_raise_fmt(XCHAN_EINVAL,
		    "%s(cancel=...) blocks: in a coroutine cancel the task",
		    what);
		return -1;
	}
	return 0;
}

/* Raises for a blocking put/take that did not complete: rc < 0 means the
 * wait was interrupted with an exception already set (Ctrl-C); a deadline
 * that passed (EAGAIN) raises a timeout.  Returns NULL. */
static PyObject *
wait_failed(int32_t rc, const char *what)
{
	if (rc < 0)
		return NULL;
	if (rc == XCHAN_EAGAIN)
		rc = XCHAN_ETIMEDOUT;
	return xpy_raise(rc, what);
}

static PyObject *
chan_put(XpyChan *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject *o = NULL, *timeout, *cancelo;
	if (parse_args("put", args, nargs, kwnames, 1, &o, &timeout, &cancelo) <
	    0)
		return NULL;
	xchan_deadline dl;
	xchan_cancel *cancel;
	if (wait_args("put", timeout, cancelo, &dl, &cancel) < 0)
		return NULL;
	xchan_val v;
	if (xpy_to_val(o, &v) < 0)
		return NULL;
	if (timeout == Py_None && awaiting_context())
		return xpy_put_awaitable(self, v);
	int32_t rc;
	/* With a token the core must see the call (a fired token wins). */
	if (cancel == NULL && !self->may_xform && !xpy_python_executors) {
		/* Without a transform no Python step can run: try at once
		 * with the GIL held, and release it only to wait. */
		rc = xchan_offer(self->ch, v);
		if (rc == XCHAN_OK)
			Py_RETURN_TRUE;
		if (rc == XCHAN_ECLOSED) {
			xchan_val_release(v);
			Py_RETURN_FALSE;
		}
	}
	rc = xpy_wait_put(self->ch, v, dl, cancel);
	if (rc == XCHAN_OK)
		Py_RETURN_TRUE;
	xchan_val_release(v); /* the put failed: still ours */
	if (rc == XCHAN_ECLOSED)
		Py_RETURN_FALSE;
	return wait_failed(rc, "put");
}

static PyObject *
chan_take(XpyChan *self, PyObject *const *args, Py_ssize_t nargs,
    PyObject *kwnames)
{
	PyObject *timeout, *cancelo;
	if (parse_args("take", args, nargs, kwnames, 0, NULL, &timeout,
	        &cancelo) < 0)
		return NULL;
	xchan_deadline dl;
	xchan_cancel *cancel;
	if (wait_args("take", timeout, cancelo, &dl, &cancel) < 0)
		return NULL;
	if (timeout == Py_None && awaiting_context())
		return xpy_take_awaitable(self, 0);
	xchan_val v;
	int32_t rc;
	if (cancel == NULL && !self->may_xform && !xpy_python_executors) {
		rc = xchan_poll(&v, self->ch);
		if (rc == XCHAN_OK)
			return xpy_from_val(v);
		if (rc == XCHAN_ECLOSED)
			Py_RETURN_NONE;
	}
	rc = xpy_wait_take(&v, self->ch, dl, cancel);
	if (rc == XCHAN_OK)
		return xpy_from_val(v);
	if (rc == XCHAN_ECLOSED)
		Py_RETURN_NONE;
	return wait_failed(rc, "take");
}

/* put_async(value, callback=None, *, notify=None, dispatch=False,
 * handle=True): the awaitable without callback/notify, else an AsyncOp. */
static PyObject *
chan_put_async(XpyChan *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"value", "callback", "notify", "dispatch",
	    "handle", NULL};
	xpy_async_args a = {.kind = 1,
	    .chan = (PyObject *)self,
	    .callback = Py_None,
	    .notify = Py_None,
	    .handle = 1};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$Opp:put_async", kwlist,
	        &a.value, &a.callback, &a.notify, &a.dispatch, &a.handle))
		return NULL;
	if (a.callback == Py_None && a.notify == Py_None) {
		if (a.dispatch || !a.handle)
			return xpy_raise(XCHAN_EINVAL,
			    "put_async: dispatch and handle need a callback");
		xchan_val v;
		if (xpy_to_val(a.value, &v) < 0)
			return NULL;
		return xpy_put_awaitable(self, v);
	}
	return xpy_async_start(&a);
}

static PyObject *
chan_take_async(XpyChan *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"callback", "notify", "dispatch", "handle",
	    NULL};
	xpy_async_args a = {.kind = 0,
	    .chan = (PyObject *)self,
	    .callback = Py_None,
	    .notify = Py_None,
	    .handle = 1};
	if (!PyArg_ParseTupleAndKeywords(args, kw, "|O$Opp:take_async", kwlist,
	        &a.callback, &a.notify, &a.dispatch, &a.handle))
		return NULL;
	if (a.callback == Py_None && a.notify == Py_None) {
		if (a.dispatch || !a.handle)
			return xpy_raise(XCHAN_EINVAL,
			    "take_async: dispatch and handle need a callback");
		return xpy_take_awaitable(self, 0);
	}
	return xpy_async_start(&a);
}

static PyObject *
chan_offer(XpyChan *self, PyObject *o)
{
	xchan_val v;
	if (xpy_to_val(o, &v) < 0)
		return NULL;
	int32_t rc;
	if (self->may_xform || xpy_python_executors) {
		Py_BEGIN_ALLOW_THREADS rc = xchan_offer(self->ch, v);
		Py_END_ALLOW_THREADS
	} else {
		rc = xchan_offer(self->ch, v);
	}
	if (rc == XCHAN_OK)
		Py_RETURN_TRUE;
	xchan_val_release(v);
	if (rc == XCHAN_EAGAIN || rc == XCHAN_ECLOSED)
		Py_RETURN_FALSE;
	return xpy_raise(rc, "offer");
}

static PyObject *
chan_poll(XpyChan *self, PyObject *unused)
{
	xchan_val v;
	int32_t rc;
	if (self->may_xform || xpy_python_executors) {
		Py_BEGIN_ALLOW_THREADS rc = xchan_poll(&v, self->ch);
		Py_END_ALLOW_THREADS
	} else {
		rc = xchan_poll(&v, self->ch);
	}
	if (rc == XCHAN_OK)
		return xpy_from_val(v);
	if (rc == XCHAN_EAGAIN || rc == XCHAN_ECLOSED)
		Py_RETURN_NONE;
	return xpy_raise(rc, "poll");
}

static PyObject *
chan_close(XpyChan *self, PyObject *unused)
{
	int32_t rc;
	/* close may run the transform's completion (Python code). */
	Py_BEGIN_ALLOW_THREADS rc = xchan_chan_close(self->ch);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK) return xpy_raise(rc, "close");
	Py_RETURN_NONE;
}

static int
get_info(XpyChan *self, xchan_chan_info *info)
{
	memset(info, 0, sizeof *info);
	info->size = sizeof *info;
	int32_t rc = xchan_chan_info_get(info, self->ch);
	if (rc != XCHAN_OK) {
		xpy_raise(rc, "info");
		return -1;
	}
	return 0;
}

static const char *
buf_name(uint32_t kind)
{
	switch (kind) {
	case XCHAN_BUF_NONE:
		return "unbuffered";
	case XCHAN_BUF_FIXED:
		return "fixed";
	case XCHAN_BUF_DROPPING:
		return "dropping";
	case XCHAN_BUF_SLIDING:
		return "sliding";
	case XCHAN_BUF_PROMISE:
		return "promise";
	}
	return "unknown";
}

static PyObject *
chan_info(XpyChan *self, PyObject *unused)
{
	xchan_chan_info i;
	if (get_info(self, &i) < 0)
		return NULL;
	return Py_BuildValue("{s:s,s:K,s:K,s:O,s:I,s:I,s:I,s:K}", "buffer",
	    buf_name(i.buf_kind), "capacity", (unsigned long long)i.capacity,
	    "count", (unsigned long long)i.count, "closed",
	    i.closed ? Py_True : Py_False, "pending_puts", i.pending_puts,
	    "pending_takes", i.pending_takes, "max_pending", i.max_pending,
	    "id", (unsigned long long)i.id);
}

static PyObject *
chan_closed(XpyChan *self, void *unused)
{
	xchan_chan_info i;
	if (get_info(self, &i) < 0)
		return NULL;
	return PyBool_FromLong(i.closed);
}

static void
capsule_release(PyObject *cap)
{
	xchan_chan *ch = PyCapsule_GetPointer(cap, "xchan.chan");
	if (ch != NULL)
		xchan_chan_release(ch);
	else
		PyErr_Clear();
}

static PyObject *
chan_capsule(XpyChan *self, PyObject *unused)
{
	xchan_chan *ch = xchan_chan_retain(self->ch);
	PyObject *cap = PyCapsule_New(ch, "xchan.chan", capsule_release);
	if (cap == NULL)
		xchan_chan_release(ch);
	return cap;
}

static PyObject *
chan_from_capsule(PyTypeObject *type, PyObject *cap)
{
	if (!PyCapsule_IsValid(cap, "xchan.chan")) {
		PyErr_SetString(PyExc_TypeError,
		    "expected a capsule named 'xchan.chan' (from "
		    "Chan.capsule() or a C extension)");
		return NULL;
	}
	xchan_chan *ch = PyCapsule_GetPointer(cap, "xchan.chan");
	return xpy_chan_wrap(xchan_chan_retain(ch), 1);
}

static PyObject *
chan_repr(XpyChan *self)
{
	xchan_chan_info i;
	if (get_info(self, &i) < 0)
		return NULL;
	if (i.buf_kind == XCHAN_BUF_FIXED || i.buf_kind == XCHAN_BUF_DROPPING ||
	    i.buf_kind == XCHAN_BUF_SLIDING)
		return PyUnicode_FromFormat("<xchan.Chan #%llu %s(%llu) "
		                            "count=%llu%s>",
		    (unsigned long long)i.id, buf_name(i.buf_kind),
		    (unsigned long long)i.capacity, (unsigned long long)i.count,
		    i.closed ? " closed" : "");
	return PyUnicode_FromFormat("<xchan.Chan #%llu %s%s>",
	    (unsigned long long)i.id, buf_name(i.buf_kind),
	    i.closed ? " closed" : "");
}

static Py_hash_t
chan_hash(XpyChan *self)
{
	return _Py_HashPointer(self->ch);
}

static PyObject *
chan_richcompare(PyObject *a, PyObject *b, int op)
{
	if (!XpyChan_Check(a) || !XpyChan_Check(b) ||
	    (op != Py_EQ && op != Py_NE))
		Py_RETURN_NOTIMPLEMENTED;
	int eq = ((XpyChan *)a)->ch == ((XpyChan *)b)->ch;
	return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyObject *
chan_iter(PyObject *self)
{
	Py_INCREF(self);
	return self;
}

static PyObject *
chan_next(XpyChan *self)
{
	xchan_val v;
	int32_t rc = xpy_wait_take(&v, self->ch, XCHAN_DEADLINE_NEVER, NULL);
	if (rc == XCHAN_OK)
		return xpy_from_val(v);
	if (rc == XCHAN_ECLOSED)
		return NULL; /* StopIteration */
	if (rc < 0)
		return NULL;
	return xpy_raise(rc, "take");
}

static PyObject *
chan_anext(XpyChan *self)
{
	return xpy_take_awaitable(self, 1);
}

static PyMethodDef chan_methods[] = {
    {"put", (PyCFunction)(void (*)(void))chan_put,
        METH_FASTCALL | METH_KEYWORDS,
        "put($self, value, timeout=None, *, cancel=None)\n--\n\n"
        "Returns bool.\n"
        "Put `value` on the channel, waiting (GIL released) for room or a\n"
        "taker.  True once delivered, False if the channel is closed.\n"
        "`timeout` in seconds raises xchan.ETIMEDOUT when it passes (nothing\n"
        "was put).  None raises xchan.ENIL.  `cancel`: an xchan.Cancel\n"
        "whose fire() makes the wait raise xchan.ECANCELED.\n\n"
        "On a thread running an asyncio loop (and no timeout), returns an\n"
        "awaitable instead: `await ch.put(v)`."},
    {"take", (PyCFunction)(void (*)(void))chan_take,
        METH_FASTCALL | METH_KEYWORDS,
        "take($self, timeout=None, *, cancel=None)\n--\n\n"
        "Returns value or None.\n"
        "Take a value, waiting (GIL released) until one is there.  None when\n"
        "the channel is closed and drained.  Ctrl-C interrupts the wait on\n"
        "the main thread (KeyboardInterrupt; nothing is taken).  `timeout`\n"
        "in seconds raises xchan.ETIMEDOUT; a fired `cancel` token\n"
        "(xchan.Cancel) xchan.ECANCELED.\n\n"
        "On a thread running an asyncio loop (and no timeout), returns an\n"
        "awaitable instead: `await ch.take()`."},
    {"put_async", (PyCFunction)(void (*)(void))chan_put_async,
        METH_VARARGS | METH_KEYWORDS,
        "put_async($self, value, callback=None, *, notify=None,\n"
        "          dispatch=False, handle=True)\n--\n\n"
        "Returns awaitable bool, or AsyncOp or None.\n"
        "Without callback/notify: the awaitable form of put(), wherever it\n"
        "is called.  With callback: core.async put! -- the put starts now\n"
        "and callback(result, error) runs once it completes (result True,\n"
        "or False if closed; on an error such as ECANCELED, result is the\n"
        "value handed back), on the thread that completes it (this one if\n"
        "it completes at once; dispatch=True: the dispatch executor), with\n"
        "the GIL.  Returns the AsyncOp, or None when it completed during\n"
        "the call or handle=False.  With notify: notify mode, notify(op)\n"
        "runs once the op completed; collect the result with op.collect()."},
    {"take_async", (PyCFunction)(void (*)(void))chan_take_async,
        METH_VARARGS | METH_KEYWORDS,
        "take_async($self, callback=None, *, notify=None, dispatch=False,\n"
        "           handle=True)\n--\n\n"
        "Returns awaitable value, or AsyncOp or None.\n"
        "Without callback/notify: the awaitable form of take(), wherever it\n"
        "is called.  With callback: core.async take! -- callback(value,\n"
        "error) with the value (None: closed), as put_async.  With notify:\n"
        "notify mode (see put_async and xchan.AsyncOp)."},
    {"offer", (PyCFunction)chan_offer, METH_O,
        "offer($self, value)\n--\n\n"
        "Returns bool.\n"
        "Put only if that can happen now (core.async offer!).  Never waits."},
    {"poll", (PyCFunction)chan_poll, METH_NOARGS,
        "poll($self)\n--\n\n"
        "Returns value or None.\n"
        "Take only if a value is ready now (core.async poll!).  Never waits."},
    {"close", (PyCFunction)chan_close, METH_NOARGS,
        "close($self)\n--\n\n"
        "Returns None.\n"
        "Close the channel.  Buffered values stay takeable; later puts give\n"
        "False; takers get None once it is drained.  Idempotent."},
    {"info", (PyCFunction)chan_info, METH_NOARGS,
        "info($self)\n--\n\n"
        "Returns dict.\n"
        "A snapshot: buffer kind, capacity, count, closed, pending puts and\n"
        "takes, id."},
    {"capsule", (PyCFunction)chan_capsule, METH_NOARGS,
        "capsule($self)\n--\n\n"
        "Returns PyCapsule.\n"
        "The native channel for a C extension: a capsule named 'xchan.chan'\n"
        "holding an `xchan_chan *` with its own reference (released with the\n"
        "capsule; call xchan_chan_retain through the function table to keep\n"
        "it longer)."},
    {"from_capsule", (PyCFunction)chan_from_capsule, METH_O | METH_CLASS,
        "from_capsule($cls, capsule)\n--\n\n"
        "Returns Chan.\n"
        "Wrap a native channel handed out by a C extension as an\n"
        "'xchan.chan' capsule (a new reference is taken)."},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS,
        "Chan[T] for type annotations."},
    {NULL}};

static PyGetSetDef chan_getset[] = {{"closed", (getter)chan_closed, NULL,
                                        "True once the channel is closed.",
                                        NULL},
    {NULL}};

static PyAsyncMethods chan_as_async = {
    .am_aiter = chan_iter,
    .am_anext = (unaryfunc)chan_anext,
};

PyTypeObject XpyChan_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Chan",
    .tp_basicsize = sizeof(XpyChan),
    .tp_dealloc = (destructor)chan_dealloc,
    .tp_repr = (reprfunc)chan_repr,
    .tp_hash = (hashfunc)chan_hash,
    .tp_richcompare = chan_richcompare,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Chan(buf=None, xform=None, ex_handler=None, *, max_pending=0)\n"
              "--\n\n"
              "A core.async channel.\n\n"
              "buf: None or 0 (unbuffered: a put waits for a taker), n (a\n"
              "fixed buffer of n), xchan.dropping(n) or xchan.sliding(n).\n"
              "xform: a transducer from xchan.xf (needs a buffer); ex_handler\n"
              "gets the exception a transform step raised and returns a value\n"
              "to put in its place, or None.  max_pending bounds waiting puts\n"
              "and takes (default 1024; beyond it: xchan.ELIMIT).\n\n"
              "Threads: put/take block (GIL released).  asyncio: `await\n"
              "ch.put(v)`, `await ch.take()`, `async for v in ch`.  Iteration\n"
              "(`for v in ch`) takes until the channel is closed and drained.\n"
              "Values: any object but None; an object put comes back as the\n"
              "very same object.",
    .tp_weaklistoffset = offsetof(XpyChan, weakrefs),
    .tp_iter = chan_iter,
    .tp_iternext = (iternextfunc)chan_next,
    .tp_as_async = &chan_as_async,
    .tp_methods = chan_methods,
    .tp_getset = chan_getset,
    .tp_new = chan_new,
};

static PyObject *
mod_timeout(PyObject *m, PyObject *arg)
{
	long long ms = PyLong_AsLongLong(arg);
	if (ms == -1 && PyErr_Occurred())
		return NULL;
	/* ms <= 0 is the core's: the channel closes on the timer's next pass. */
	xchan_chan *ch = NULL;
	int32_t rc = xchan_timeout(&ch, ms);
	if (rc != XCHAN_OK)
		return xpy_raise(rc, "timeout");
	return xpy_chan_wrap(ch, 0);
}

static PyMethodDef chan_module_methods[] = {
    {"timeout", mod_timeout, METH_O,
        "timeout(ms)\n--\n\n"
        "Returns Chan.\n"
        "A channel that closes `ms` milliseconds from now (for alts)."},
    {NULL}};

int
xpy_chan_init(PyObject *m)
{
	if (PyType_Ready(&XpyChan_Type) < 0 ||
	    xpy_guard_methods(&XpyChan_Type, "channel") < 0)
		return -1;
	Py_INCREF(&XpyChan_Type);
	if (PyModule_AddObject(m, "Chan", (PyObject *)&XpyChan_Type) < 0)
		return -1;
	if (PyModule_AddFunctions(m, chan_module_methods) < 0)
		return -1;
	PyObject *threading = PyImport_ImportModule("threading");
	if (threading == NULL)
		return -1;
	PyObject *mt = PyObject_CallMethod(threading, "main_thread", NULL);
	Py_DECREF(threading);
	if (mt == NULL)
		return -1;
	PyObject *ident = PyObject_GetAttrString(mt, "ident");
	Py_DECREF(mt);
	if (ident == NULL)
		return -1;
	g_main_thread = PyLong_AsUnsignedLong(ident);
	Py_DECREF(ident);
	PyObject *events = PyImport_ImportModule("asyncio.events");
	if (events == NULL)
		return -1;
	g_get_running_loop =
	    PyObject_GetAttrString(events, "_get_running_loop");
	Py_DECREF(events);
	return g_get_running_loop ? 0 : -1;
}
