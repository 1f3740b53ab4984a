/*
 * alts.c — alts: wait on several channel operations, exactly one of which
 * completes (core.async alts!!).
 *
 * ops is a sequence whose items are a Chan (take from it) or a pair
 * (Chan, value) (put value on it).  The result is (value, chan): for a take,
 * the value taken (None if that channel is closed); for a put, True (or
 * False if the channel was closed).  With `default` given and nothing ready
 * at once, the result is (default, None) (core.async :default).
 *
 * The clause array owns the put values until the operation ends; those of
 * clauses that did not win stay ours and are released here.
 */
#include "xpy.h"

int
xpy_clauses_parse(PyObject *ops, xpy_clauses *out)
{
	memset(out, 0, sizeof *out);
	PyObject *list = PySequence_List(ops);
	if (list == NULL) {
		PyErr_Clear();
		xpy_raise_arg_type("alts needs a sequence of Chan (take) or "
		                   "(Chan, value) (put) items, got %.100s",
		    xpy_type_name(ops));
		return -1;
	}
	Py_ssize_t n = PyList_GET_SIZE(list);
	if (n == 0) {
		Py_DECREF(list);
		xpy_raise(XCHAN_EINVAL, "alts needs at least one op");
		return -1;
	}
	out->clauses = PyMem_Calloc((size_t)n, sizeof(xchan_clause));
	out->chans = PyMem_Calloc((size_t)n, sizeof(PyObject *));
	out->keep = list;
	if (out->clauses == NULL || out->chans == NULL) {
		xpy_clauses_free(out, -1);
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *it = PyList_GET_ITEM(list, i);
		xchan_clause *c = &out->clauses[i];
		if (XpyChan_Check(it)) {
			c->op = XCHAN_ALT_TAKE;
			c->chan = ((XpyChan *)it)->ch;
			out->chans[i] = it;
		} else if (PyTuple_Check(it) && PyTuple_GET_SIZE(it) == 2 &&
		           XpyChan_Check(PyTuple_GET_ITEM(it, 0))) {
			PyObject *ch = PyTuple_GET_ITEM(it, 0);
			if (xpy_to_val(PyTuple_GET_ITEM(it, 1), &c->val) < 0) {
				out->n = (size_t)i;
				xpy_clauses_free(out, -1);
				return -1;
			}
			c->op = XCHAN_ALT_PUT;
			c->chan = ((XpyChan *)ch)->ch;
			out->chans[i] = ch;
		} else if (PyTuple_Check(it) && PyTuple_GET_SIZE(it) == 2) {
			out->n = (size_t)i;
			xpy_clauses_free(out, -1);
			xpy_raise_arg_type("alts op %zd: a put's channel must "
			                   "be a Chan, got %.100s",
			    i, xpy_type_name(PyTuple_GET_ITEM(it, 0)));
			return -1;
		} else {
			out->n = (size_t)i;
			xpy_clauses_free(out, -1);
			xpy_raise_arg_type("alts op %zd must be a Chan (take) "
			                   "or a (Chan, value) tuple (put), "
			                   "got %.100s",
			    i, xpy_type_name(it));
			return -1;
		}
	}
	out->n = (size_t)n;
	return 0;
}

void
xpy_clauses_free(xpy_clauses *c, int32_t winner)
{
	if (c->clauses != NULL) {
		for (size_t i = 0; i < c->n; i++) {
			xchan_clause *cl = &c->clauses[i];
			if (cl->op == XCHAN_ALT_PUT && (int32_t)i != winner)
				xchan_val_release(cl->val);
			cl->val = xchan_val_nil();
		}
		PyMem_Free(c->clauses);
	}
	PyMem_Free(c->chans);
	Py_CLEAR(c->keep);
	c->clauses = NULL;
	c->chans = NULL;
	c->n = 0;
}

PyObject *
xpy_alts_result(xpy_clauses *c, xchan_result *r)
{
	if (r->index < 0 || (size_t)r->index >= c->n) {
		xchan_val_release(r->val);
		r->val = xchan_val_nil();
		return xpy_raise(r->err ? r->err : XCHAN_EINTERNAL, "alts");
	}
	PyObject *chan = c->chans[r->index];
	PyObject *v;
	if (c->clauses[r->index].op == XCHAN_ALT_PUT) {
		v = PyBool_FromLong(r->err == XCHAN_OK);
		/* A put that did not happen hands nothing back here: the
		 * clause still holds the value (released by clauses_free). */
	} else if (r->err == XCHAN_OK) {
		v = xpy_from_val(r->val);
		r->val = xchan_val_nil();
		if (v == NULL)
			return NULL;
	} else if (r->err == XCHAN_ECLOSED) {
		v = Py_NewRef(Py_None);
	} else {
		return xpy_raise(r->err, "alts");
	}
	PyObject *t = PyTuple_Pack(2, v, chan);
	Py_DECREF(v);
	return t;
}

/* An alts put whose value moved must not be released by clauses_free. */
static int32_t
winner_of(xpy_clauses *c, xchan_result *r)
{
	if (r->index >= 0 && (size_t)r->index < c->n &&
	    c->clauses[r->index].op == XCHAN_ALT_PUT && r->err == XCHAN_OK)
		return r->index;
	return -1;
}

static PyObject *
mod_alts(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"ops", "priority", "default", "timeout",
	    "cancel", NULL};
	PyObject *ops, *dflt = NULL, *timeout = Py_None, *cancelo = Py_None;
	int priority = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|$pOOO:alts", kwlist, &ops,
	        &priority, &dflt, &timeout, &cancelo))
		return NULL;
	xchan_deadline dl;
	xchan_cancel *cancel;
	if (xpy_deadline(timeout, &dl) < 0 ||
	    xpy_cancel_arg(cancelo, &cancel) < 0)
		return NULL;
	if (dflt != NULL)
		dl = XCHAN_DEADLINE_POLL;
	xpy_clauses c;
	if (xpy_clauses_parse(ops, &c) < 0)
		return NULL;
	uint32_t flags = priority ? XCHAN_ALTS_PRIORITY : 0;
	xchan_result r = {0, -1, {0, 0, 0}};
	int32_t rc;
	int sig = dl != XCHAN_DEADLINE_POLL && xpy_on_main_thread();
	int eintr = sig || cancel != NULL;
	xchan_wait_opts o = {sizeof o, sig ? XCHAN_WAIT_EINTR : 0u, cancel};
	for (;;) {
		Py_BEGIN_ALLOW_THREADS rc =
		    eintr ? xchan_alts_ex(&r, c.clauses, c.n, flags, dl, &o)
		          : xchan_alts(&r, c.clauses, c.n, flags, dl);
		Py_END_ALLOW_THREADS if (rc != XCHAN_EINTR) break;
		if (PyErr_CheckSignals() < 0) {
			xpy_clauses_free(&c, -1);
			return NULL;
		}
	}
	PyObject *res;
	if (rc == XCHAN_EAGAIN && dflt != NULL) {
		res = PyTuple_Pack(2, dflt, Py_None);
	} else if (r.index >= 0) {
		res = xpy_alts_result(&c, &r);
	} else {
		res = xpy_raise(rc == XCHAN_EAGAIN ? XCHAN_ETIMEDOUT : rc,
		    "alts");
	}
	xpy_clauses_free(&c, winner_of(&c, &r));
	return res;
}

int32_t
xpy_alts_winner(xpy_clauses *c, xchan_result *r)
{
	return winner_of(c, r);
}

static PyMethodDef alts_methods[] = {
    {"alts", (PyCFunction)(void (*)(void))mod_alts,
        METH_VARARGS | METH_KEYWORDS,
        "alts(ops, *, priority=False, default=..., timeout=None, "
        "cancel=None)\n--\n\n"
        "Wait (GIL released) until exactly one of `ops` completes.\n\n"
        "ops: items are a Chan (take from it) or (Chan, value) (put value).\n"
        "Returns (value, chan): the value taken (None: that channel is\n"
        "closed) or, for a put, True (False: the channel was closed).\n"
        "priority: try ops in order instead of a random order.  default:\n"
        "if nothing is ready at once, return (default, None) without\n"
        "waiting.  timeout: seconds, then xchan.ETIMEDOUT.  cancel: an\n"
        "xchan.Cancel whose fire() makes it raise xchan.ECANCELED."},
    {NULL}};

int
xpy_alts_init(PyObject *m)
{
	return PyModule_AddFunctions(m, alts_methods);
}
