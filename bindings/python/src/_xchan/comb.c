/*
 * comb.c — the core's combinators (xchan_combinators.h) for Python: pipe,
 * pipeline/pipeline_blocking/pipeline_async, mult, pub, mix, merge, split,
 * map, take, reduce, transduce, into, onto_chan, to_chan.
 *
 * Python callables passed to a combinator are called by its process (a go
 * task on a DISPATCH worker) with the GIL taken there; the binding keeps a
 * reference to them until the process's done channel closes (reduce and
 * transduce: until their result is delivered), then drops it on whatever
 * thread that happens.  An exception in a callback is reported as
 * unraisable and the value is treated as the core treats a failing callback
 * (filtered out, no topic, ...); reduce stops and closes its result.
 */
#include "xpy.h"

/* ---- lifetime helpers -------------------------------------------------- */
static void
drop_obj(PyObject *obj)
{
	PyGILState_STATE st;
	if (obj != NULL && xpy_gil_enter(&st)) {
		Py_DECREF(obj);
		PyGILState_Release(st);
	}
}

static void
release_cb(void *user, xchan_result *r)
{
	if (r != NULL)
		xchan_val_release(r->val);
	drop_obj(user);
}

int
xpy_release_when_closed(xchan_chan *done, PyObject *obj)
{
	Py_INCREF(obj);
	/* If the watch cannot be set up (out of memory), the process may
	 * still use obj: the reference is then kept for good. */
	return xchan_take_async(NULL, done, 0, release_cb, obj) == XCHAN_OK
	           ? 0
	           : -1;
}

static PyObject *
done_result(xchan_chan *done, PyObject *keep)
{
	if (keep != NULL)
		xpy_release_when_closed(done, keep);
	return xpy_chan_wrap(done, 0);
}

/* The result of a combinator taking `done=`: `result` itself, or, when the
 * caller asked for it (`want_done`), (result, done channel).  Steals
 * `result` and takes over the reference to `done` (released when not
 * wanted; NULL if the core was not asked for it). */
static PyObject *
with_done(PyObject *result, xchan_chan *done, int want_done)
{
	if (!want_done) {
		if (done != NULL)
			xchan_chan_release(done);
		return result;
	}
	if (result == NULL) {
		xchan_chan_release(done);
		return NULL;
	}
	PyObject *d = xpy_chan_wrap(done, 0);
	if (d == NULL) {
		Py_DECREF(result);
		return NULL;
	}
	PyObject *r = PyTuple_Pack(2, result, d);
	Py_DECREF(result);
	Py_DECREF(d);
	return r;
}

static int
chan_arg(PyObject *o, void *out)
{
	if (!XpyChan_Check(o)) {
		xpy_raise_arg_type("channel must be a Chan, got %.100s",
		    xpy_type_name(o));
		return 0;
	}
	*(xchan_chan **)out = ((XpyChan *)o)->ch;
	return 1;
}

static int
callable_arg(PyObject *o, void *out)
{
	if (!PyCallable_Check(o)) {
		PyErr_Format(PyExc_TypeError, "expected a callable, not %.100s",
		    Py_TYPE(o)->tp_name);
		return 0;
	}
	*(PyObject **)out = o;
	return 1;
}

/* A list of Chan -> array of xchan_chan* (PyMem). */
static xchan_chan **
chan_list(PyObject *seq, size_t *n, PyObject **keep)
{
	if (!PyList_Check(seq) && !PyTuple_Check(seq) &&
	    !PySequence_Check(seq)) {
		xpy_raise_arg_type("channels must be a sequence of Chan, got "
		                   "%.100s",
		    xpy_type_name(seq));
		return NULL;
	}
	PyObject *fast = PySequence_Fast(seq, "expected a sequence of Chan");
	if (fast == NULL)
		return NULL;
	Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
	xchan_chan **arr = PyMem_Calloc((size_t)len + 1, sizeof *arr);
	if (arr == NULL) {
		Py_DECREF(fast);
		PyErr_NoMemory();
		return NULL;
	}
	for (Py_ssize_t i = 0; i < len; i++)
		if (!chan_arg(PySequence_Fast_ITEMS(fast)[i], &arr[i])) {
			PyMem_Free(arr);
			Py_DECREF(fast);
			return NULL;
		}
	*n = (size_t)len;
	*keep = fast;
	return arr;
}

static PyObject *
err(int32_t rc, const char *what)
{
	return xpy_raise(rc, what);
}

/* ---- pipe -------------------------------------------------------------- */
static PyObject *
mod_pipe(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"frm", "to", "close", "done", NULL};
	PyObject *to_o;
	xchan_chan *from, *to, *done = NULL;
	int close = 1, want_done = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O|p$p:pipe", kwlist,
	        chan_arg, &from, &to_o, &close, &want_done) ||
	    !chan_arg(to_o, &to))
		return NULL;
	int32_t rc = xchan_pipe(want_done ? &done : NULL, from, to, close);
	if (rc != XCHAN_OK)
		return err(rc, "pipe");
	return with_done(Py_NewRef(to_o), done, want_done);
}

/* ---- pipelines --------------------------------------------------------- */
static int32_t
pipeline_factory(void *user, xchan_xform **out)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return XCHAN_ESHUTDOWN;
	PyObject *xf = PyTuple_GET_ITEM((PyObject *)user, 0);
	*out = xpy_xform_from(xf);
	int32_t rc = XCHAN_OK;
	if (*out == NULL) {
		PyErr_WriteUnraisable(xf);
		rc = XCHAN_EXFORM;
	}
	PyGILState_Release(st);
	return rc;
}

static PyObject *
pipeline_common(PyObject *args, PyObject *kw, int blocking)
{
	static char *kwlist[] = {"n", "to", "xf", "frm", "close", "ex_handler",
	    NULL};
	unsigned int n;
	xchan_chan *to, *from;
	PyObject *xf, *exh = Py_None;
	int close = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "IO&OO&|pO:pipeline", kwlist,
	        &n, chan_arg, &to, &xf, chan_arg, &from, &close, &exh))
		return NULL;
	if (n == 0) {
		xpy_raise(XCHAN_EINVAL, "pipeline needs n > 0");
		return NULL;
	}
	if (!PyObject_HasAttrString(xf, "_xchan_xform")) {
		PyErr_Format(PyExc_TypeError,
		    "xf must be a transducer from xchan.xf, not %.100s",
		    Py_TYPE(xf)->tp_name);
		return NULL;
	}
	if (exh != Py_None && !PyCallable_Check(exh)) {
		PyErr_SetString(PyExc_TypeError, "ex_handler must be callable");
		return NULL;
	}
	PyObject *keep = PyTuple_Pack(2, xf, exh);
	if (keep == NULL)
		return NULL;
	xchan_pipeline_opts opts = {sizeof opts};
	if (exh != Py_None) {
		opts.on_error = xpy_ex_handler;
		opts.on_error_user = exh;
	} else {
		opts.on_error = xpy_default_ex_handler;
	}
	xchan_chan *done = NULL;
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS rc =
	    (blocking ? xchan_pipeline_blocking : xchan_pipeline)(&done, n, to,
	        from, close, pipeline_factory, keep, &opts);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK)
	{
		Py_DECREF(keep);
		return err(rc, "pipeline");
	}
	PyObject *r = done_result(done, keep);
	Py_DECREF(keep);
	return r;
}

static PyObject *
mod_pipeline(PyObject *m, PyObject *args, PyObject *kw)
{
	return pipeline_common(args, kw, 0);
}

static PyObject *
mod_pipeline_blocking(PyObject *m, PyObject *args, PyObject *kw)
{
	return pipeline_common(args, kw, 1);
}

static void
pipeline_async_fn(void *user, xchan_val in, xchan_chan *result)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st)) {
		xchan_val_release(in);
		xchan_chan_close(result);
		xchan_chan_release(result);
		return;
	}
	PyObject *v = xpy_from_val(in);
	PyObject *res = xpy_chan_wrap(result, 0);
	PyObject *r = NULL;
	if (v != NULL && res != NULL)
		r = PyObject_CallFunctionObjArgs((PyObject *)user, v, res,
		    NULL);
	if (r == NULL) {
		PyErr_WriteUnraisable((PyObject *)user);
		if (res != NULL)
			xchan_chan_close(((XpyChan *)res)->ch);
	}
	Py_XDECREF(r);
	Py_XDECREF(v);
	Py_XDECREF(res);
	PyGILState_Release(st);
}

static PyObject *
mod_pipeline_async(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"n", "to", "af", "frm", "close", NULL};
	unsigned int n;
	xchan_chan *to, *from;
	PyObject *af;
	int close = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "IO&O&O&|p:pipeline_async",
	        kwlist, &n, chan_arg, &to, callable_arg, &af, chan_arg, &from,
	        &close))
		return NULL;
	if (n == 0) {
		xpy_raise(XCHAN_EINVAL, "pipeline needs n > 0");
		return NULL;
	}
	xchan_chan *done = NULL;
	int32_t rc = xchan_pipeline_async(&done, n, to, from, close,
	    pipeline_async_fn, af, NULL);
	if (rc != XCHAN_OK)
		return err(rc, "pipeline_async");
	return done_result(done, af);
}

/* ---- done channels of mult, pub, mix ------------------------------------
 * Each object keeps the core's done channel (closed when its process ends)
 * as a Chan in `done`, right after PyObject_HEAD, so one getter serves all. */
typedef struct {
	PyObject_HEAD
	PyObject *done;
} XpyWithDone;

static PyObject *
get_done(XpyWithDone *self, void *unused)
{
	return Py_NewRef(self->done ? self->done : Py_None);
}

static PyGetSetDef with_done_getset[] = {
    {"done", (getter)get_done, NULL,
        "A channel that closes when the combinator's process has ended.", NULL},
    {NULL}};

/* Ends the constructor of a mult, pub or mix, `rc` being what the core's
 * constructor returned: on an error drops the half-made self and raises
 * (`what` names the combinator); else wraps the core's done channel into
 * self->done (taking it over) and returns self. */
static PyObject *
finish_with_done(XpyWithDone *self, int32_t rc, xchan_chan *done,
    const char *what)
{
	if (rc != XCHAN_OK) {
		Py_DECREF(self);
		return err(rc, what);
	}
	if (done != NULL && (self->done = xpy_chan_wrap(done, 0)) == NULL) {
		Py_DECREF(self);
		return NULL;
	}
	return (PyObject *)self;
}

/* A new, zeroed mult or mix (`type`) made over the Chan `cho`: keeps it in
 * `chan` (right after `done`: both types start like XpyOverChan) so the
 * channel lives as long as the object; *ch is its core channel.  NULL with
 * an exception if cho is not a Chan. */
typedef struct {
	PyObject_HEAD
	PyObject *done;
	PyObject *chan;
} XpyOverChan;

static PyObject *
new_over_chan(PyTypeObject *type, PyObject *cho, xchan_chan **ch)
{
	if (!chan_arg(cho, ch))
		return NULL;
	XpyOverChan *self = (XpyOverChan *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	self->chan = Py_NewRef(cho);
	return (PyObject *)self;
}

/* ---- mult -------------------------------------------------------------- */
typedef struct {
	PyObject_HEAD
	PyObject *done;
	PyObject *chan; /* the source */
	xchan_mult *m;
} XpyMult;

static void
mult_dealloc(XpyMult *self)
{
	if (self->m != NULL)
		xchan_mult_release(self->m);
	Py_CLEAR(self->chan);
	Py_CLEAR(self->done);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
mult_tap(XpyMult *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"ch", "close", NULL};
	PyObject *cho;
	xchan_chan *ch;
	int close = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|p:tap", kwlist, &cho,
	        &close) ||
	    !chan_arg(cho, &ch))
		return NULL;
	int32_t rc = xchan_mult_tap(self->m, ch, close);
	return rc == XCHAN_OK ? Py_NewRef(cho) : err(rc, "tap");
}

static PyObject *
mult_untap(XpyMult *self, PyObject *cho)
{
	xchan_chan *ch;
	if (!chan_arg(cho, &ch))
		return NULL;
	int32_t rc = xchan_mult_untap(self->m, ch);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "untap");
}

static PyObject *
mult_untap_all(XpyMult *self, PyObject *unused)
{
	int32_t rc = xchan_mult_untap_all(self->m);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "untap_all");
}

static PyMethodDef mult_methods[] = {
    {"tap", (PyCFunction)(void (*)(void))mult_tap, METH_VARARGS | METH_KEYWORDS,
        "tap($self, ch, close=True)\n--\n\n"
        "Returns ch.  Copy every value of the source to "
        "ch (closed with the source if `close`)."},
    {"untap", (PyCFunction)mult_untap, METH_O,
        "untap($self, ch)\n--\n\nStop copying to ch."},
    {"untap_all", (PyCFunction)mult_untap_all, METH_NOARGS,
        "untap_all($self)\n--\n\nRemove every tap."},
    {NULL}};

static PyTypeObject XpyMult_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Mult",
    .tp_basicsize = sizeof(XpyMult),
    .tp_dealloc = (destructor)mult_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "mult(ch): every value taken from ch goes to every tap.  Each "
              "tap must accept a value before the next one is taken.",
    .tp_methods = mult_methods,
    .tp_getset = with_done_getset,
};

static PyObject *
mod_mult(PyObject *m, PyObject *cho)
{
	xchan_chan *ch;
	XpyMult *self = (XpyMult *)new_over_chan(&XpyMult_Type, cho, &ch);
	if (self == NULL)
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_mult_new(&self->m, &done, ch);
	return finish_with_done((XpyWithDone *)self, rc, done, "mult");
}

/* ---- pub --------------------------------------------------------------- */
typedef struct {
	PyObject_HEAD
	PyObject *done;
	xchan_pub *p;
	PyObject *fns; /* (topic_fn, buf_fn) */
} XpyPub;

static xchan_val
pub_topic(void *user, xchan_val v)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return xchan_val_nil();
	xchan_val out = xchan_val_nil();
	PyObject *fn = PyTuple_GET_ITEM((PyObject *)user, 0);
	PyObject *arg = xpy_from_val(xchan_val_retain(v));
	PyObject *r = arg ? PyObject_CallOneArg(fn, arg) : NULL;
	Py_XDECREF(arg);
	if (r == NULL || (r != Py_None && xpy_to_val(r, &out) < 0)) {
		PyErr_WriteUnraisable(fn);
		out = xchan_val_nil();
	}
	Py_XDECREF(r);
	PyGILState_Release(st);
	return out;
}

static int32_t
pub_buf(void *user, uint32_t *kind, uint64_t *cap, xchan_val topic)
{
	/* Called on the thread of Pub.sub, which holds the GIL. */
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return XCHAN_ESHUTDOWN;
	int32_t rc = XCHAN_OK;
	PyObject *fn = PyTuple_GET_ITEM((PyObject *)user, 1);
	*kind = XCHAN_BUF_NONE;
	*cap = 0;
	if (fn != Py_None) {
		PyObject *t = xpy_from_val(xchan_val_retain(topic));
		PyObject *b = t ? PyObject_CallOneArg(fn, t) : NULL;
		Py_XDECREF(t);
		xchan_chan_opts o;
		if (b == NULL || xpy_chan_opts(b, NULL, NULL, &o) < 0) {
			PyErr_WriteUnraisable(fn);
			rc = XCHAN_EINVAL;
		} else {
			*kind = o.buf_kind;
			*cap = o.capacity;
		}
		Py_XDECREF(b);
	}
	PyGILState_Release(st);
	return rc;
}

static void
pub_dealloc(XpyPub *self)
{
	if (self->p != NULL)
		xchan_pub_release(self->p);
	Py_CLEAR(self->fns);
	Py_CLEAR(self->done);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
pub_sub(XpyPub *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"topic", "ch", "close", NULL};
	PyObject *topic, *cho;
	xchan_chan *ch;
	int close = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|p:sub", kwlist, &topic,
	        &cho, &close) ||
	    !chan_arg(cho, &ch))
		return NULL;
	xchan_val t;
	if (xpy_to_val(topic, &t) < 0)
		return NULL;
	int32_t rc = xchan_pub_sub(self->p, t, ch, close);
	xchan_val_release(t);
	return rc == XCHAN_OK ? Py_NewRef(cho) : err(rc, "sub");
}

static PyObject *
pub_unsub(XpyPub *self, PyObject *args)
{
	PyObject *topic, *cho;
	xchan_chan *ch;
	if (!PyArg_ParseTuple(args, "OO:unsub", &topic, &cho) ||
	    !chan_arg(cho, &ch))
		return NULL;
	xchan_val t;
	if (xpy_to_val(topic, &t) < 0)
		return NULL;
	int32_t rc = xchan_pub_unsub(self->p, t, ch);
	xchan_val_release(t);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "unsub");
}

static PyObject *
pub_unsub_all(XpyPub *self, PyObject *args)
{
	PyObject *topic = Py_None;
	if (!PyArg_ParseTuple(args, "|O:unsub_all", &topic))
		return NULL;
	int32_t rc;
	if (topic == Py_None) {
		rc = xchan_pub_unsub_all(self->p);
	} else {
		xchan_val t;
		if (xpy_to_val(topic, &t) < 0)
			return NULL;
		rc = xchan_pub_unsub_topic(self->p, t);
		xchan_val_release(t);
	}
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "unsub_all");
}

static PyMethodDef pub_methods[] = {
    {"sub", (PyCFunction)(void (*)(void))pub_sub, METH_VARARGS | METH_KEYWORDS,
        "sub($self, topic, ch, close=True)\n--\n\n"
        "Returns ch.  Send values of `topic` to ch."},
    {"unsub", (PyCFunction)pub_unsub, METH_VARARGS,
        "unsub($self, topic, ch)\n--\n\nStop sending `topic` to ch."},
    {"unsub_all", (PyCFunction)pub_unsub_all, METH_VARARGS,
        "unsub_all($self, topic=None)\n--\n\nDrop the subscriptions of `topic` "
        "(all topics if None)."},
    {NULL}};

static PyTypeObject XpyPub_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Pub",
    .tp_basicsize = sizeof(XpyPub),
    .tp_dealloc = (destructor)pub_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "pub(ch, topic_fn, buf_fn=None): routes each value of ch to "
              "the subscribers of topic_fn(value).",
    .tp_methods = pub_methods,
    .tp_getset = with_done_getset,
};

static PyObject *
mod_pub(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"ch", "topic_fn", "buf_fn", NULL};
	xchan_chan *ch;
	PyObject *tf, *bf = Py_None;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|O:pub", kwlist,
	        chan_arg, &ch, callable_arg, &tf, &bf))
		return NULL;
	if (bf != Py_None && !PyCallable_Check(bf)) {
		PyErr_SetString(PyExc_TypeError, "buf_fn must be callable");
		return NULL;
	}
	XpyPub *self = PyObject_New(XpyPub, &XpyPub_Type);
	if (self == NULL)
		return NULL;
	self->p = NULL;
	self->done = NULL;
	self->fns = PyTuple_Pack(2, tf, bf);
	if (self->fns == NULL) {
		Py_DECREF(self);
		return NULL;
	}
	xchan_chan *done = NULL;
	int32_t rc = xchan_pub_new(&self->p, &done, ch, pub_topic, self->fns,
	    pub_buf, self->fns);
	if (rc == XCHAN_OK)
		xpy_release_when_closed(done, self->fns);
	return finish_with_done((XpyWithDone *)self, rc, done, "pub");
}

/* ---- mix --------------------------------------------------------------- */
typedef struct {
	PyObject_HEAD
	PyObject *done;
	PyObject *chan; /* the out channel */
	xchan_mix *m;
} XpyMix;

static void
mix_dealloc(XpyMix *self)
{
	if (self->m != NULL)
		xchan_mix_release(self->m);
	Py_CLEAR(self->chan);
	Py_CLEAR(self->done);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
mix_admix(XpyMix *self, PyObject *cho)
{
	xchan_chan *ch;
	if (!chan_arg(cho, &ch))
		return NULL;
	int32_t rc = xchan_mix_admix(self->m, ch);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "admix");
}

static PyObject *
mix_unmix(XpyMix *self, PyObject *cho)
{
	xchan_chan *ch;
	if (!chan_arg(cho, &ch))
		return NULL;
	int32_t rc = xchan_mix_unmix(self->m, ch);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "unmix");
}

static PyObject *
mix_unmix_all(XpyMix *self, PyObject *unused)
{
	int32_t rc = xchan_mix_unmix_all(self->m);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "unmix_all");
}

static const struct {
	const char *key;
	uint32_t bit;
} mix_keys[] = {{"mute", XCHAN_MIX_MUTE}, {"pause", XCHAN_MIX_PAUSE},
    {"solo", XCHAN_MIX_SOLO}};

static PyObject *
mix_toggle(XpyMix *self, PyObject *state)
{
	if (!PyDict_Check(state)) {
		PyErr_SetString(PyExc_TypeError,
		    "toggle needs a dict {Chan: {'mute'|'pause'|'solo': bool}}");
		return NULL;
	}
	Py_ssize_t n = PyDict_Size(state), pos = 0, i = 0;
	xchan_mix_toggle_entry *e = PyMem_Calloc((size_t)n + 1, sizeof *e);
	if (e == NULL)
		return PyErr_NoMemory();
	PyObject *k, *v;
	while (PyDict_Next(state, &pos, &k, &v)) {
		if (!chan_arg(k, &e[i].chan))
			goto bad;
		if (!PyDict_Check(v)) {
			PyErr_SetString(PyExc_TypeError,
			    "toggle: each value must be a dict of "
			    "'mute'/'pause'/'solo' -> bool");
			goto bad;
		}
		PyObject *ak, *av;
		Py_ssize_t apos = 0;
		while (PyDict_Next(v, &apos, &ak, &av)) {
			uint32_t bit = 0;
			for (size_t j = 0; j < 3; j++)
				if (PyUnicode_Check(ak) &&
				    PyUnicode_CompareWithASCIIString(ak,
				        mix_keys[j].key) == 0)
					bit = mix_keys[j].bit;
			if (bit == 0) {
				PyErr_Format(xpy_error_class(XCHAN_EINVAL),
				    "toggle: unknown attribute %R (mute, "
				    "pause, solo)",
				    ak);
				goto bad;
			}
			int on = PyObject_IsTrue(av);
			if (on < 0)
				goto bad;
			e[i].mask |= bit;
			if (on)
				e[i].flags |= bit;
		}
		i++;
	}
	int32_t rc = xchan_mix_toggle(self->m, e, (size_t)n);
	PyMem_Free(e);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "toggle");
bad:
	PyMem_Free(e);
	return NULL;
}

static PyObject *
mix_solo_mode(XpyMix *self, PyObject *mode)
{
	uint32_t md;
	if (PyUnicode_Check(mode) &&
	    PyUnicode_CompareWithASCIIString(mode, "mute") == 0)
		md = XCHAN_MIX_SOLO_MUTE;
	else if (PyUnicode_Check(mode) &&
	         PyUnicode_CompareWithASCIIString(mode, "pause") == 0)
		md = XCHAN_MIX_SOLO_PAUSE;
	else {
		PyErr_Format(xpy_error_class(XCHAN_EINVAL),
		    "solo_mode must be 'mute' or 'pause', not %R", mode);
		return NULL;
	}
	int32_t rc = xchan_mix_solo_mode(self->m, md);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : err(rc, "solo_mode");
}

static PyObject *
mix_get(XpyMix *self, PyObject *cho)
{
	xchan_chan *ch;
	if (!chan_arg(cho, &ch))
		return NULL;
	uint32_t f = 0;
	int32_t rc = xchan_mix_get(&f, self->m, ch);
	if (rc != XCHAN_OK)
		return err(rc, "mix state (not an input?)");
	return Py_BuildValue("{s:O,s:O,s:O}", "mute",
	    (f & XCHAN_MIX_MUTE) ? Py_True : Py_False, "pause",
	    (f & XCHAN_MIX_PAUSE) ? Py_True : Py_False, "solo",
	    (f & XCHAN_MIX_SOLO) ? Py_True : Py_False);
}

static PyMethodDef mix_methods[] = {
    {"admix", (PyCFunction)mix_admix, METH_O,
        "admix($self, ch)\n--\n\nAdd ch as an input."},
    {"unmix", (PyCFunction)mix_unmix, METH_O,
        "unmix($self, ch)\n--\n\nRemove input ch."},
    {"unmix_all", (PyCFunction)mix_unmix_all, METH_NOARGS,
        "unmix_all($self)\n--\n\nRemove every input."},
    {"toggle", (PyCFunction)mix_toggle, METH_O,
        "toggle($self, state)\n--\n\n"
        "state: {ch: {'mute': bool, 'pause': bool, 'solo': bool}}.\n"
        "Set input attributes atomically (inputs not yet mixed are added)."},
    {"solo_mode", (PyCFunction)mix_solo_mode, METH_O,
        "solo_mode($self, mode)\n--\n\nmode: 'mute' or 'pause'.  What non-solo inputs become while "
        "any input is solo."},
    {"state", (PyCFunction)mix_get, METH_O,
        "state($self, ch)\n--\n\nReturns {'mute': bool, 'pause': bool, 'solo': bool}."},
    {NULL}};

static PyTypeObject XpyMix_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Mix",
    .tp_basicsize = sizeof(XpyMix),
    .tp_dealloc = (destructor)mix_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "mix(out): values of its inputs go to out, with per-input "
              "mute/pause/solo.",
    .tp_methods = mix_methods,
    .tp_getset = with_done_getset,
};

static PyObject *
mod_mix(PyObject *m, PyObject *cho)
{
	xchan_chan *ch;
	XpyMix *self = (XpyMix *)new_over_chan(&XpyMix_Type, cho, &ch);
	if (self == NULL)
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_mix_new(&self->m, &done, ch);
	return finish_with_done((XpyWithDone *)self, rc, done, "mix");
}

/* ---- merge, split, map, take ------------------------------------------- */
static PyObject *
mod_merge(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"chans", "buf", "done", NULL};
	PyObject *chans, *buf = Py_None, *keep = NULL;
	int want_done = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O$p:merge", kwlist,
	        &chans, &buf, &want_done))
		return NULL;
	xchan_chan_opts o;
	if (xpy_chan_opts(buf, NULL, NULL, &o) < 0)
		return NULL;
	size_t n = 0;
	xchan_chan **arr = chan_list(chans, &n, &keep);
	if (arr == NULL)
		return NULL;
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_merge(&out, want_done ? &done : NULL, arr, n, &o);
	PyMem_Free(arr);
	Py_DECREF(keep);
	if (rc != XCHAN_OK)
		return err(rc, "merge");
	return with_done(xpy_chan_wrap(out, 0), done, want_done);
}

static int32_t
split_pred(void *user, xchan_val v)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return 0;
	PyObject *arg = xpy_from_val(xchan_val_retain(v));
	PyObject *r = arg ? PyObject_CallOneArg((PyObject *)user, arg) : NULL;
	Py_XDECREF(arg);
	int t = r ? PyObject_IsTrue(r) : -1;
	Py_XDECREF(r);
	if (t < 0) {
		PyErr_WriteUnraisable((PyObject *)user);
		t = 0;
	}
	PyGILState_Release(st);
	return t;
}

static PyObject *
mod_split(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"pred", "ch", "true_buf", "false_buf", "done",
	    NULL};
	PyObject *pred, *tb = Py_None, *fb = Py_None;
	xchan_chan *ch;
	int want_done = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O&|OO$p:split", kwlist,
	        callable_arg, &pred, chan_arg, &ch, &tb, &fb, &want_done))
		return NULL;
	xchan_chan_opts to, fo;
	if (xpy_chan_opts(tb, NULL, NULL, &to) < 0 ||
	    xpy_chan_opts(fb, NULL, NULL, &fo) < 0)
		return NULL;
	xchan_chan *t = NULL, *f = NULL, *done = NULL;
	int32_t rc = xchan_split(&t, &f, &done, ch, split_pred, pred, &to, &fo);
	if (rc != XCHAN_OK)
		return err(rc, "split");
	xpy_release_when_closed(done, pred);
	PyObject *pt = xpy_chan_wrap(t, 0);
	PyObject *pf = xpy_chan_wrap(f, 0);
	PyObject *r = NULL;
	if (pt != NULL && pf != NULL)
		r = PyTuple_Pack(2, pt, pf);
	Py_XDECREF(pt);
	Py_XDECREF(pf);
	return with_done(r, done, want_done);
}

static xchan_val
map_fn(void *user, const xchan_val *vals, size_t n)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return xchan_val_nil();
	xchan_val out = xchan_val_nil();
	PyObject *args = PyTuple_New((Py_ssize_t)n);
	for (size_t i = 0; args != NULL && i < n; i++) {
		PyObject *a = xpy_from_val(xchan_val_retain(vals[i]));
		if (a == NULL) {
			Py_CLEAR(args);
			break;
		}
		PyTuple_SET_ITEM(args, (Py_ssize_t)i, a);
	}
	PyObject *r = args ? PyObject_Call((PyObject *)user, args, NULL) : NULL;
	Py_XDECREF(args);
	if (r == NULL || (r != Py_None && xpy_to_val(r, &out) < 0)) {
		PyErr_WriteUnraisable((PyObject *)user);
		out = xchan_val_nil();
	}
	Py_XDECREF(r);
	PyGILState_Release(st);
	return out;
}

static PyObject *
mod_map(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"f", "chans", "buf", "done", NULL};
	PyObject *f, *chans, *buf = Py_None, *keep = NULL;
	int want_done = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O|O$p:map", kwlist,
	        callable_arg, &f, &chans, &buf, &want_done))
		return NULL;
	xchan_chan_opts o;
	if (xpy_chan_opts(buf, NULL, NULL, &o) < 0)
		return NULL;
	size_t n = 0;
	xchan_chan **arr = chan_list(chans, &n, &keep);
	if (arr == NULL)
		return NULL;
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_map(&out, &done, arr, n, map_fn, f, &o);
	PyMem_Free(arr);
	Py_DECREF(keep);
	if (rc != XCHAN_OK)
		return err(rc, "map");
	if (done != NULL)
		xpy_release_when_closed(done, f);
	return with_done(xpy_chan_wrap(out, 0), done,
	    want_done && done != NULL);
}

static PyObject *
mod_take(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"n", "ch", "buf", "done", NULL};
	unsigned long long n;
	xchan_chan *ch;
	PyObject *buf = Py_None;
	int want_done = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "KO&|O$p:take", kwlist, &n,
	        chan_arg, &ch, &buf, &want_done))
		return NULL;
	xchan_chan_opts o;
	if (xpy_chan_opts(buf, NULL, NULL, &o) < 0)
		return NULL;
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_take_n(&out, want_done ? &done : NULL, ch, n, &o);
	if (rc != XCHAN_OK)
		return err(rc, "take");
	return with_done(xpy_chan_wrap(out, 0), done, want_done);
}

/* ---- reduce, transduce, into ------------------------------------------- */
extern PyObject *xpy_reduced_type_obj(void);

static int32_t
reduce_fn(void *user, xchan_val *out_acc, xchan_val acc, xchan_val in)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st)) {
		xchan_val_release(acc);
		xchan_val_release(in);
		return XCHAN_STEP_FAILED;
	}
	int32_t rc = XCHAN_STEP_CONTINUE;
	PyObject *f = PyTuple_GET_ITEM((PyObject *)user, 0);
	PyObject *a = xpy_from_val(acc);
	PyObject *v = a ? xpy_from_val(in) : (xchan_val_release(in), NULL);
	PyObject *r = v ? PyObject_CallFunctionObjArgs(f, a, v, NULL) : NULL;
	Py_XDECREF(a);
	Py_XDECREF(v);
	PyObject *red = xpy_reduced_type_obj();
	if (r != NULL && red != NULL &&
	    PyObject_TypeCheck(r, (PyTypeObject *)red)) {
		/* xf.reduced(x): stop with x */
		PyObject *x =
		    PyList_GET_SIZE(r) ? PyList_GET_ITEM(r, 0) : Py_None;
		Py_INCREF(x);
		Py_DECREF(r);
		r = x;
		rc = XCHAN_STEP_REDUCED;
	}
	if (r == NULL) {
		rc = XCHAN_STEP_FAILED;
		PyErr_WriteUnraisable(f);
	} else if (r != Py_None && xpy_to_val(r, out_acc) < 0) {
		rc = XCHAN_STEP_FAILED;
		PyErr_WriteUnraisable(f);
	}
	Py_XDECREF(r);
	PyGILState_Release(st);
	return rc;
}

/* Forwards the single result of `inner` to `outer` (then closes it) and
 * drops `keep`: reduce's callables live until the result is out. */
typedef struct {
	xchan_chan *outer;
	PyObject *keep;
} fwd;

static void
forward_cb(void *user, xchan_result *r)
{
	fwd *f = user;
	if (r->err == XCHAN_OK) {
		if (xchan_offer(f->outer, r->val) != XCHAN_OK)
			xchan_val_release(r->val);
	}
	xchan_chan_close(f->outer);
	xchan_chan_release(f->outer);
	drop_obj(f->keep);
	free(f);
}

static PyObject *
forward_result(xchan_chan *inner, PyObject *keep)
{
	xchan_chan *outer = NULL;
	int32_t rc = xchan_chan_make(&outer, XCHAN_BUF_FIXED, 1);
	if (rc != XCHAN_OK) {
		xchan_chan_release(inner);
		return err(rc, "reduce");
	}
	fwd *f = malloc(sizeof *f);
	if (f == NULL) {
		xchan_chan_release(inner);
		xchan_chan_release(outer);
		return PyErr_NoMemory();
	}
	f->outer = xchan_chan_retain(outer);
	f->keep = Py_NewRef(keep);
	rc = xchan_take_async(NULL, inner, 0, forward_cb, f);
	xchan_chan_release(inner);
	if (rc != XCHAN_OK) {
		xchan_chan_release(f->outer);
		Py_DECREF(f->keep);
		free(f);
		xchan_chan_release(outer);
		return err(rc, "reduce");
	}
	return xpy_chan_wrap(outer, 0);
}

static PyObject *
reduce_common(PyObject *f, PyObject *xf, PyObject *init, xchan_chan *ch)
{
	xchan_val iv = xchan_val_nil();
	if (init != Py_None && xpy_to_val(init, &iv) < 0)
		return NULL;
	PyObject *keep = PyTuple_Pack(1, f);
	if (keep == NULL) {
		xchan_val_release(iv);
		return NULL;
	}
	xchan_chan *out = NULL;
	int32_t rc;
	if (xf == NULL) {
		rc = xchan_reduce(&out, ch, reduce_fn, keep, iv);
	} else {
		xchan_xform *x = xpy_xform_from(xf);
		if (x == NULL) {
			xchan_val_release(iv);
			Py_DECREF(keep);
			return NULL;
		}
		rc = xchan_transduce(&out, ch, x, reduce_fn, keep, iv);
	}
	if (rc != XCHAN_OK) {
		Py_DECREF(keep);
		return err(rc, xf ? "transduce" : "reduce");
	}
	PyObject *r = forward_result(out, keep);
	Py_DECREF(keep);
	return r;
}

static PyObject *
mod_reduce(PyObject *m, PyObject *args)
{
	PyObject *f, *init;
	xchan_chan *ch;
	if (!PyArg_ParseTuple(args, "O&OO&:reduce", callable_arg, &f, &init,
	        chan_arg, &ch))
		return NULL;
	return reduce_common(f, NULL, init, ch);
}

static PyObject *
mod_transduce(PyObject *m, PyObject *args)
{
	PyObject *xf, *f, *init;
	xchan_chan *ch;
	if (!PyArg_ParseTuple(args, "OO&OO&:transduce", &xf, callable_arg, &f,
	        &init, chan_arg, &ch))
		return NULL;
	return reduce_common(f, xf, init, ch);
}

/* Items of a Python iterable as owned values (PyMem array). */
static xchan_val *
vals_of(PyObject *items, size_t *n)
{
	PyObject *fast = PySequence_Fast(items, "expected an iterable");
	if (fast == NULL)
		return NULL;
	Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
	xchan_val *vals = PyMem_Calloc((size_t)len + 1, sizeof *vals);
	if (vals == NULL) {
		Py_DECREF(fast);
		PyErr_NoMemory();
		return NULL;
	}
	for (Py_ssize_t i = 0; i < len; i++) {
		if (xpy_to_val(PySequence_Fast_ITEMS(fast)[i], &vals[i]) < 0) {
			for (Py_ssize_t j = 0; j < i; j++)
				xchan_val_release(vals[j]);
			PyMem_Free(vals);
			Py_DECREF(fast);
			return NULL;
		}
	}
	Py_DECREF(fast);
	*n = (size_t)len;
	return vals;
}

static PyObject *
mod_into(PyObject *m, PyObject *args)
{
	PyObject *coll;
	xchan_chan *ch;
	if (!PyArg_ParseTuple(args, "OO&:into", &coll, chan_arg, &ch))
		return NULL;
	/* As xchan_into: init None starts from an empty list; else a
	 * sequence (the core's ARRAY), anything else is ETYPE. */
	xchan_val init = xchan_val_nil();
	int32_t rc;
	if (coll != Py_None) {
		if (!PySequence_Check(coll) || PyUnicode_Check(coll) ||
		    PyBytes_Check(coll) || PyDict_Check(coll)) {
			xpy_raise_fmt(XCHAN_ETYPE,
			    "into needs None or a list to start from, not "
			    "%.100s",
			    Py_TYPE(coll)->tp_name);
			return NULL;
		}
		size_t n = 0;
		xchan_val *vals = vals_of(coll, &n);
		if (vals == NULL)
			return NULL;
		rc = xchan_val_array(&init, vals, n); /* takes the items */
		PyMem_Free(vals);
		if (rc != XCHAN_OK)
			return err(rc, "into");
	}
	xchan_chan *out = NULL;
	rc = xchan_into(&out, ch, init);
	return rc == XCHAN_OK ? xpy_chan_wrap(out, 0) : err(rc, "into");
}

/* ---- onto_chan, to_chan ------------------------------------------------ */
static PyObject *
mod_onto_chan(PyObject *m, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = {"ch", "coll", "close", NULL};
	xchan_chan *ch;
	PyObject *coll;
	int close = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "O&O|p:onto_chan", kwlist,
	        chan_arg, &ch, &coll, &close))
		return NULL;
	size_t n = 0;
	xchan_val *vals = vals_of(coll, &n);
	if (vals == NULL)
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_onto_chan(&done, ch, vals, n, close);
	PyMem_Free(vals);
	return rc == XCHAN_OK ? xpy_chan_wrap(done, 0) : err(rc, "onto_chan");
}

static PyObject *
mod_to_chan(PyObject *m, PyObject *coll)
{
	size_t n = 0;
	xchan_val *vals = vals_of(coll, &n);
	if (vals == NULL)
		return NULL;
	xchan_chan *out = NULL;
	int32_t rc = xchan_to_chan(&out, vals, n);
	PyMem_Free(vals);
	return rc == XCHAN_OK ? xpy_chan_wrap(out, 0) : err(rc, "to_chan");
}

#define KW METH_VARARGS | METH_KEYWORDS
#define F(fn) (PyCFunction)(void (*)(void))(fn)
static PyMethodDef comb_methods[] = {
    {"pipe", F(mod_pipe), KW,
        "pipe(frm, to, close=True, *, done=False)\n--\n\n"
        "Returns to, or (to, done) with done=True.\n"
        "Copy every value of frm to to; close to when frm closes if close.\n"
        "done: a channel that closes when the copying has ended (frm closed\n"
        "and drained, or to closed)."},
    {"pipeline", F(mod_pipeline), KW,
        "pipeline(n, to, xf, frm, close=True, ex_handler=None)\n--\n\n"
        "Returns Chan.\n"
        "Transform values of frm with the transducer xf, n at a time in\n"
        "parallel on the COMPUTE executor, keeping their order, onto to.\n"
        "Returns a channel that closes when the pipeline is done."},
    {"pipeline_blocking", F(mod_pipeline_blocking), KW,
        "pipeline_blocking(n, to, xf, frm, close=True, ex_handler=None)\n"
        "--\n\nAs pipeline, on the MIXED executor (steps may block)."},
    {"pipeline_async", F(mod_pipeline_async), KW,
        "pipeline_async(n, to, af, frm, close=True)\n--\n\n"
        "Returns Chan.\n"
        "af(value, result) must return at once, arrange for its outputs to\n"
        "be put on `result` (a Chan) and then close it.  Order is kept."},
    {"mult", mod_mult, METH_O,
        "mult(ch)\n--\n\n"
        "Returns Mult.  A mult of ch: use .tap(ch)/.untap(ch)."},
    {"pub", F(mod_pub), KW,
        "pub(ch, topic_fn, buf_fn=None)\n--\n\n"
        "Returns Pub.\n"
        "Route values of ch by topic_fn(value): .sub(topic, ch)."},
    {"mix", mod_mix, METH_O,
        "mix(out)\n--\n\n"
        "Returns Mix.  A mix writing to out: .admix(ch), .toggle()."},
    {"merge", F(mod_merge), KW,
        "merge(chans, buf=None, *, done=False)\n--\n\n"
        "Returns Chan, or (Chan, done) with done=True.\n"
        "A channel with every value of chans; closes when all have closed.\n"
        "done: a channel that closes when the merging process has ended."},
    {"split", F(mod_split), KW,
        "split(pred, ch, true_buf=None, false_buf=None, *, done=False)\n"
        "--\n\n"
        "Returns (Chan, Chan), or ((Chan, Chan), done) with done=True.\n"
        "Values of ch for which pred is true go to the first channel, the\n"
        "others to the second.  done: a channel that closes when the\n"
        "splitting process has ended (both outputs are then closed)."},
    {"map", F(mod_map), KW,
        "map(f, chans, buf=None, *, done=False)\n--\n\n"
        "Returns Chan, or (Chan, done) with done=True.\n"
        "Take one value of each channel, put f(*values); closes as soon as\n"
        "any input closes.  done closes when the process has ended."},
    {"take", F(mod_take), KW,
        "take(n, ch, buf=None, *, done=False)\n--\n\n"
        "Returns Chan, or (Chan, done) with done=True.\n"
        "At most n values of ch, then the channel closes.  done closes when\n"
        "the process has ended."},
    {"reduce", mod_reduce, METH_VARARGS,
        "reduce(f, init, ch)\n--\n\n"
        "Returns Chan.\n"
        "f(acc, v) over every value of ch; the channel receives the result\n"
        "when ch closes (xf.reduced(x) stops early with x)."},
    {"transduce", mod_transduce, METH_VARARGS,
        "transduce(xf, f, init, ch)\n--\n\n"
        "Returns Chan.\n"
        "reduce over the outputs of transducer xf applied to ch."},
    {"into", mod_into, METH_VARARGS,
        "into(coll, ch)\n--\n\n"
        "Returns Chan.\n"
        "A channel receiving list(coll) + every value of ch, once ch closes."},
    {"onto_chan", F(mod_onto_chan), KW,
        "onto_chan(ch, coll, close=True)\n--\n\n"
        "Returns Chan.\n"
        "Put the items of coll on ch (then close it if close); returns a\n"
        "channel that closes when done."},
    {"to_chan", mod_to_chan, METH_O,
        "to_chan(coll)\n--\n\n"
        "Returns Chan.  A channel yielding the items of coll, "
        "then closing."},
    {NULL}};

int
xpy_comb_init(PyObject *m)
{
	if (PyType_Ready(&XpyMult_Type) < 0 || PyType_Ready(&XpyPub_Type) < 0 ||
	    PyType_Ready(&XpyMix_Type) < 0)
		return -1;
	Py_INCREF(&XpyMult_Type);
	Py_INCREF(&XpyPub_Type);
	Py_INCREF(&XpyMix_Type);
	if (PyModule_AddObject(m, "Mult", (PyObject *)&XpyMult_Type) < 0 ||
	    PyModule_AddObject(m, "Pub", (PyObject *)&XpyPub_Type) < 0 ||
	    PyModule_AddObject(m, "Mix", (PyObject *)&XpyMix_Type) < 0)
		return -1;
	return PyModule_AddFunctions(m, comb_methods);
}
