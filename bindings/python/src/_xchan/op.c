/*
 * op.c — xchan.AsyncOp: an asynchronous put/take/alts started at once, in
 * the core's callback mode or notify mode, for code that runs its own loop
 * or wants core.async's put!/take! with a callback.
 *
 *   ch.take_async(callback)               callback mode
 *   ch.put_async(v, callback, dispatch=True)
 *   ch.take_async(notify=fn)              notify mode: fn(op), then collect
 *   xchan.alts_async(ops, callback=..., notify=..., ...)
 *
 * (Without callback and notify these calls return the plain awaitables of
 * aio.c, which are notify-mode operations inside.)
 *
 * Callback mode: callback(value, error) runs exactly once, where the core
 * runs callbacks (the caller's thread when the op completes during the
 * call, else the counterpart's, or the dispatch executor with
 * dispatch=True), with the GIL.  value is what awaiting would give (take:
 * the value or None when closed; put: True, or False when closed; alts:
 * (value, chan)); error is None, or the exception awaiting would raise
 * (ECANCELED after a winning cancel, ETIMEDOUT, ESHUTDOWN, ERUNTIME), and
 * then a put's value is the value handed back.  The start call returns the
 * AsyncOp, or None when the op completed during the call (the core hands
 * out no handle then) or handle=False was asked.
 *
 * Notify mode (XCHAN_ASYNC_NOTIFY): notify(op) runs once when the op has
 * completed, on the completing thread with the GIL; the result is then
 * fetched with op.collect().  Always an AsyncOp.
 *
 * The handle mirrors the core: state ("pending", "completed", "delivered",
 * "canceled"), collect(), cancel(), cancel_ex().
 *
 * Lifetime and concurrency: the core holds one reference to the AsyncOp
 * from a successful start until it calls the callback or notifier
 * (notify mode asks for XCHAN_ASYNC_NOTIFY_ALWAYS, so the notifier runs
 * exactly once in every case and drops it there).  In callback mode a
 * winning cancel_ex means the callback never runs: the canceller drops the
 * core's reference.  Everything else happens with the GIL: the callback,
 * the notifier, collect and cancel_ex take it, and `taken` (cancel_ex took
 * the result, so notify is not called) is read and written only under it.
 * The alts clauses (and their put values) live in the op until its result
 * is converted, which releases the put values that did not move.
 */
#include "xpy.h"

enum { K_TAKE, K_PUT, K_ALTS };

typedef struct {
	PyObject_HEAD
	xchan_op *op; /* NULL until the start call returns one */
	int kind;
	int notify_mode;
	int taken;          /* notify mode: cancel_ex took the result */
	PyObject *callback; /* callback mode */
	PyObject *notifier; /* notify mode */
	PyObject *put_obj;  /* put: the Python value (handed back on error) */
	PyObject *dflt;     /* alts: default (poll), or NULL */
	xpy_clauses alts;   /* alts: clauses until the result is converted */
} XpyAsyncOp;

static PyTypeObject XpyAsyncOp_Type;

static const char *
kind_name(int kind)
{
	return kind == K_TAKE  ? "take_async"
	       : kind == K_PUT ? "put_async"
	                       : "alts_async";
}

/* Converts a delivered result (consuming its value) into *value (what an
 * await gives) or *exc (what it raises).  Exactly one is set. */
static void
convert(XpyAsyncOp *self, xchan_result *r, PyObject **value, PyObject **exc)
{
	PyObject *v = NULL;
	*exc = NULL;
	switch (self->kind) {
	case K_TAKE:
		if (r->err == XCHAN_OK)
			v = xpy_from_val(r->val);
		else if (r->err == XCHAN_ECLOSED)
			v = Py_NewRef(Py_None);
		else
			*exc = xpy_error_new(r->err, "take_async");
		r->val = xchan_val_nil();
		break;
	case K_PUT:
		xchan_val_release(r->val); /* a value handed back: the
		                              Python object is put_obj */
		r->val = xchan_val_nil();
		if (r->err == XCHAN_OK || r->err == XCHAN_ECLOSED)
			v = PyBool_FromLong(r->err == XCHAN_OK);
		else
			*exc = xpy_error_new(r->err, "put_async");
		break;
	default:
		if (r->index >= 0)
			v = xpy_alts_result(&self->alts, r);
		else if (r->err == XCHAN_EAGAIN && self->dflt != NULL)
			v = PyTuple_Pack(2, self->dflt, Py_None);
		else
			*exc = xpy_error_new(r->err == XCHAN_EAGAIN
			                         ? XCHAN_ETIMEDOUT
			                         : r->err,
			    "alts_async");
		xchan_val_release(r->val);
		r->val = xchan_val_nil();
		xpy_clauses_free(&self->alts, xpy_alts_winner(&self->alts, r));
		break;
	}
	if (v == NULL && *exc == NULL)
		*exc = xpy_fetch_exception();
	*value = v;
}

/* Returns the value, or raises the exception (consumes both). */
static PyObject *
give(PyObject *value, PyObject *exc)
{
	if (exc != NULL) {
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		Py_DECREF(exc);
		return NULL;
	}
	return value;
}

/* ---- the core's calls -------------------------------------------------- */
static void
op_callback(void *user, xchan_result *r)
{
	XpyAsyncOp *self = user;
	xpy_hook h;
	if (!xpy_hook_enter(&h)) {
		/* Python is exiting: leak the op, never touch the dying
		 * interpreter. */
		return;
	}
	PyObject *value, *exc;
	convert(self, r, &value, &exc);
	if (exc != NULL && value == NULL && self->kind == K_PUT)
		value = Py_NewRef(self->put_obj); /* handed back */
	PyObject *cb = self->callback;
	self->callback = NULL;
	PyObject *res = PyObject_CallFunctionObjArgs(cb,
	    value ? value : Py_None, exc ? exc : Py_None, NULL);
	if (res == NULL)
		PyErr_WriteUnraisable(cb);
	Py_XDECREF(res);
	Py_XDECREF(value);
	Py_XDECREF(exc);
	Py_DECREF(cb);
	Py_DECREF(self); /* the core's reference */
	xpy_hook_leave(&h);
}

static void
op_notified(void *user, xchan_result *unused)
{
	XpyAsyncOp *self = user;
	xpy_hook h;
	if (!xpy_hook_enter(&h))
		return; /* exiting: leak */
	if (!self->taken && self->notifier != NULL) {
		PyObject *res =
		    PyObject_CallOneArg(self->notifier, (PyObject *)self);
		if (res == NULL)
			PyErr_WriteUnraisable(self->notifier);
		Py_XDECREF(res);
	}
	Py_CLEAR(self->notifier);
	Py_DECREF(self); /* the core's reference */
	xpy_hook_leave(&h);
}

/* ---- start ------------------------------------------------------------- */
PyObject *
xpy_async_start(const xpy_async_args *a)
{
	if (a->callback != Py_None && !PyCallable_Check(a->callback))
		return xpy_raise_arg_type("%s: callback must be callable, got "
		                          "%.100s",
		    kind_name(a->kind), xpy_type_name(a->callback));
	if (a->notify != Py_None && !PyCallable_Check(a->notify))
		return xpy_raise_arg_type("%s: notify must be callable, got "
		                          "%.100s",
		    kind_name(a->kind), xpy_type_name(a->notify));
	if ((a->callback == Py_None) == (a->notify == Py_None))
		return xpy_raise_fmt(XCHAN_EINVAL,
		    "%s: give a callback or notify (one of them)",
		    kind_name(a->kind));
	XpyAsyncOp *self = PyObject_New(XpyAsyncOp, &XpyAsyncOp_Type);
	if (self == NULL)
		return NULL;
	self->op = NULL;
	self->kind = a->kind;
	self->notify_mode = a->notify != Py_None;
	self->taken = 0;
	self->callback = self->notify_mode ? NULL : Py_NewRef(a->callback);
	self->notifier = self->notify_mode ? Py_NewRef(a->notify) : NULL;
	self->put_obj = a->kind == K_PUT ? Py_NewRef(a->value) : NULL;
	self->dflt = a->dflt ? Py_NewRef(a->dflt) : NULL;
	memset(&self->alts, 0, sizeof self->alts);

	xchan_val v = xchan_val_nil();
	if (a->kind == K_PUT && xpy_to_val(a->value, &v) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	if (a->kind == K_ALTS && xpy_clauses_parse(a->ops, &self->alts) < 0) {
		Py_DECREF(self);
		return NULL;
	}
	uint32_t flags = a->flags;
	xchan_callback fn = op_callback;
	if (self->notify_mode) {
		flags |= XCHAN_ASYNC_NOTIFY | XCHAN_ASYNC_NOTIFY_ALWAYS;
		fn = op_notified;
	} else if (a->dispatch) {
		flags |= XCHAN_ASYNC_DISPATCH;
	}
	xchan_op *xop = NULL;
	xchan_op **out = a->handle ? &xop : NULL;
	xchan_chan *ch = a->chan ? ((XpyChan *)a->chan)->ch : NULL;
	int32_t rc;
	Py_INCREF(self); /* the core's, dropped by the callback/notifier */
	Py_BEGIN_ALLOW_THREADS if (a->kind == K_TAKE) rc =
	    xchan_take_async(out, ch, flags, fn, self);
	else if (a->kind == K_PUT) rc =
	    xchan_put_async(out, ch, v, flags, fn, self);
	else rc = xchan_alts_async(out, self->alts.clauses, self->alts.n, flags,
	    a->deadline, fn, self);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK)
	{
		/* Never called back; the value stays ours. */
		xchan_val_release(v);
		Py_DECREF(self);
		Py_DECREF(self);
		return xpy_raise(rc, kind_name(a->kind));
	}
	if (xop == NULL) {
		/* Completed during the call (callback mode) or no handle
		 * wanted: the callback has the result. */
		Py_DECREF(self);
		Py_RETURN_NONE;
	}
	self->op = xop;
	return (PyObject *)self;
}

/* ---- the handle -------------------------------------------------------- */
static void
op_dealloc(XpyAsyncOp *self)
{
	if (self->alts.clauses != NULL) {
		/* A notify-mode alts nobody collected: the winner's put value
		 * moved; release the others. */
		xchan_result r = {0, -1, {0, 0, 0}};
		int32_t winner = -1;
		if (self->op != NULL &&
		    xchan_op_collect(self->op, &r) == XCHAN_OK) {
			winner = xpy_alts_winner(&self->alts, &r);
			xchan_val_release(r.val);
		}
		xpy_clauses_free(&self->alts, winner);
	}
	if (self->op != NULL)
		xchan_op_release(self->op);
	Py_CLEAR(self->callback);
	Py_CLEAR(self->notifier);
	Py_CLEAR(self->put_obj);
	Py_CLEAR(self->dflt);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
op_state(XpyAsyncOp *self, void *unused)
{
	static const char *names[] = {"pending", "completed", "delivered",
	    "canceled"};
	int32_t s = xchan_op_state_get(self->op);
	if (s < 0 || s > 3)
		return xpy_raise(s < 0 ? -s : XCHAN_EINTERNAL, "state");
	return PyUnicode_FromString(names[s]);
}

static PyObject *
op_collect(XpyAsyncOp *self, PyObject *unused)
{
	xchan_result r = {0, -1, {0, 0, 0}};
	int32_t rc = xchan_op_collect(self->op, &r);
	if (rc != XCHAN_OK)
		return xpy_raise(rc,
		    rc == XCHAN_EAGAIN   ? "collect: not completed yet"
		    : rc == XCHAN_EDONE  ? "collect: the result was already "
		                           "delivered"
		    : rc == XCHAN_EINVAL ? "collect: not a notify-mode op"
		                         : "collect");
	PyObject *value, *exc;
	convert(self, &r, &value, &exc);
	return give(value, exc);
}

static PyObject *
op_cancel(XpyAsyncOp *self, PyObject *unused)
{
	int32_t rc;
	/* A winning cancel runs the callback here, which takes the GIL. */
	Py_BEGIN_ALLOW_THREADS rc = xchan_op_cancel(self->op);
	Py_END_ALLOW_THREADS if (rc == XCHAN_OK) Py_RETURN_TRUE;
	if (rc == XCHAN_EDONE)
		Py_RETURN_FALSE;
	return xpy_raise(rc, "cancel");
}

static PyObject *
op_cancel_ex(XpyAsyncOp *self, PyObject *unused)
{
	xchan_result r = {0, -1, {0, 0, 0}};
	if (self->notify_mode)
		self->taken = 1; /* the notifier, if still to come, stays
		                    quiet */
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS rc = xchan_op_cancel_ex(self->op, &r);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK)
	{
		return xpy_raise(rc, rc == XCHAN_EDONE
		                         ? "cancel_ex: the result was already "
		                           "delivered"
		                         : "cancel_ex");
	}
	/* The callback will not run: its reference is ours to drop (notify
	 * mode: the notifier still runs, NOTIFY_ALWAYS, and drops it). */
	int drop = !self->notify_mode;
	PyObject *out;
	if (r.err == XCHAN_ECANCELED) {
		xchan_val_release(r.val);
		xpy_clauses_free(&self->alts, -1);
		out = Py_BuildValue("(OO)", Py_True,
		    self->kind == K_PUT ? self->put_obj : Py_None);
	} else {
		PyObject *value, *exc;
		convert(self, &r, &value, &exc);
		value = give(value, exc);
		out = value ? Py_BuildValue("(OO)", Py_False, value) : NULL;
		Py_XDECREF(value);
	}
	if (drop)
		Py_DECREF(self); /* the caller still holds one */
	return out;
}

static PyObject *
op_repr(XpyAsyncOp *self)
{
	PyObject *st = op_state(self, NULL);
	if (st == NULL)
		return NULL;
	PyObject *r = PyUnicode_FromFormat("<xchan.AsyncOp %s %s %U>",
	    kind_name(self->kind), self->notify_mode ? "notify" : "callback",
	    st);
	Py_DECREF(st);
	return r;
}

static PyMethodDef op_methods[] = {
    {"collect", (PyCFunction)op_collect, METH_NOARGS,
        "collect($self)\n--\n\n"
        "Notify mode: the result, now (what awaiting would give; its error\n"
        "raised).  xchan.EAGAIN if the op has not completed, xchan.EDONE if\n"
        "the result was already collected or taken by cancel_ex(),\n"
        "xchan.EINVAL for a callback-mode op."},
    {"cancel", (PyCFunction)op_cancel, METH_NOARGS,
        "cancel($self)\n--\n\n"
        "Returns bool.\n"
        "Cancel the op: True if the cancel won (nothing was transferred;\n"
        "the callback gets ECANCELED, on this thread, before this returns;\n"
        "in notify mode collect() raises ECANCELED), False if the op had\n"
        "already completed (its result is delivered as usual)."},
    {"cancel_ex", (PyCFunction)op_cancel_ex, METH_NOARGS,
        "cancel_ex($self)\n--\n\n"
        "Returns (canceled, result).\n"
        "Cancel-or-collect, never losing a value: (True, v) when the cancel\n"
        "won (v: a put's value handed back, else None); (False, result) when\n"
        "the op had completed and its result was not yet delivered: it is\n"
        "handed over here (an error result is raised) and the callback or\n"
        "notify is not called.  xchan.EDONE when the result was already\n"
        "delivered."},
    {NULL}};

static PyGetSetDef op_getset[] = {{"state", (getter)op_state, NULL,
                                      "'pending', 'completed' (not yet "
                                      "delivered), 'delivered' or "
                                      "'canceled': a snapshot.",
                                      NULL},
    {NULL}};

static PyTypeObject XpyAsyncOp_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.AsyncOp",
    .tp_basicsize = sizeof(XpyAsyncOp),
    .tp_dealloc = (destructor)op_dealloc,
    .tp_repr = (reprfunc)op_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A started asynchronous put/take/alts (callback or notify "
              "mode): see Chan.take_async.",
    .tp_methods = op_methods,
    .tp_getset = op_getset,
};

int
xpy_op_init(PyObject *m)
{
	if (PyType_Ready(&XpyAsyncOp_Type) < 0 ||
	    xpy_guard_methods(&XpyAsyncOp_Type, "op") < 0)
		return -1;
	Py_INCREF(&XpyAsyncOp_Type);
	return PyModule_AddObject(m, "AsyncOp", (PyObject *)&XpyAsyncOp_Type);
}
