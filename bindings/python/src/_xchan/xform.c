/*
 * xform.c — channel transforms from Python: the capsules xchan.xf builds
 * transducers from, and the error handlers.
 *
 * A transducer (xchan.xf) is a recipe; every channel (and every pipeline
 * element) gets a fresh xchan_xform from it, made by its _xchan_xform()
 * method as a capsule named "xchan.xform".  The capsule owns the transform
 * until xpy_xform_from hands it to the core (then it is marked consumed).
 *
 * Kinds: take and partition_all are the core's own transforms (no Python
 * runs in their steps); map, filter and the generic step (a Python function
 * returning the outputs, used for every other transducer) call Python.
 *
 * Steps run on whichever thread adds to the channel (a putter, a taker
 * pulling a pending put, close running the completion, a combinator's
 * task), with no channel lock held; they take the GIL with PyGILState_Ensure
 * (the binding never holds it while waiting to enter an operation on a
 * channel that may have a transform).  Once Python is exiting a step fails
 * instead of running Python, and destroy leaks the callables.
 */
#include "xpy.h"

static PyTypeObject *g_reduced_type; /* xchan.xf.Reduced (a list subclass) */

typedef struct {
	PyObject *fn;       /* map/filter fn, or the generic step */
	PyObject *complete; /* generic: called at close, or NULL */
} pystate;

static void
pystate_destroy(void *p)
{
	pystate *s = p;
	PyGILState_STATE st;
	if (xpy_gil_enter(&st)) {
		Py_XDECREF(s->fn);
		Py_XDECREF(s->complete);
		PyGILState_Release(st);
	}
	free(s); /* not PyMem: may run without the GIL */
}

/* The current Python exception as a HOST value for xchan_emit_fail. */
static xchan_val
exc_val(void)
{
	PyObject *v = xpy_fetch_exception();
	xchan_val e = xchan_val_nil();
	if (v == NULL)
		return xchan_val_int(XCHAN_EXFORM);
	if (xchan_val_host(&e, xpy_runtime_id, v) != XCHAN_OK) {
		Py_DECREF(v);
		return xchan_val_int(XCHAN_EXFORM);
	}
	return e; /* took over our reference to v */
}

static int32_t
fail(xchan_emit *out)
{
	xchan_emit_fail(out, exc_val());
	return XCHAN_STEP_FAILED;
}

static int32_t
emit_obj(xchan_emit *out, PyObject *o)
{
	xchan_val v;
	if (xpy_to_val(o, &v) < 0)
		return fail(out);
	return xchan_emit_push(out, v);
}

/* Emits every item of `outs` (a list/tuple or any iterable). */
static int32_t
emit_all(xchan_emit *out, PyObject *outs)
{
	PyObject *it = PyObject_GetIter(outs);
	if (it == NULL)
		return fail(out);
	int32_t rc = XCHAN_STEP_CONTINUE;
	PyObject *o;
	while (rc == XCHAN_STEP_CONTINUE && (o = PyIter_Next(it)) != NULL) {
		rc = emit_obj(out, o);
		Py_DECREF(o);
	}
	Py_DECREF(it);
	if (rc == XCHAN_STEP_CONTINUE && PyErr_Occurred())
		return fail(out);
	return rc;
}

#define ENTER_OR_FAIL(st, in, out)                                             \
	do {                                                                   \
		if (!xpy_gil_enter(&(st))) {                                   \
			xchan_val_release(in);                                 \
			xchan_emit_fail((out),                                 \
			    xchan_val_int(XCHAN_ESHUTDOWN));                   \
			return XCHAN_STEP_FAILED;                              \
		}                                                              \
	} while (0)

static int32_t
map_step(void *p, xchan_val in, xchan_emit *out)
{
	pystate *s = p;
	PyGILState_STATE st;
	ENTER_OR_FAIL(st, in, out);
	int32_t rc;
	PyObject *arg = xpy_from_val(in);
	PyObject *r = arg ? PyObject_CallOneArg(s->fn, arg) : NULL;
	Py_XDECREF(arg);
	rc = r ? emit_obj(out, r) : fail(out);
	Py_XDECREF(r);
	PyGILState_Release(st);
	return rc;
}

static int32_t
filter_step(void *p, xchan_val in, xchan_emit *out)
{
	pystate *s = p;
	PyGILState_STATE st;
	ENTER_OR_FAIL(st, in, out);
	int32_t rc;
	PyObject *arg = xpy_from_val(xchan_val_retain(in));
	PyObject *r = arg ? PyObject_CallOneArg(s->fn, arg) : NULL;
	Py_XDECREF(arg);
	int keep = r ? PyObject_IsTrue(r) : -1;
	Py_XDECREF(r);
	if (keep < 0) {
		xchan_val_release(in);
		rc = fail(out);
	} else if (keep) {
		rc = xchan_emit_push(out, in);
	} else {
		xchan_val_release(in);
		rc = XCHAN_STEP_CONTINUE;
	}
	PyGILState_Release(st);
	return rc;
}

/* The generic step: fn(v) returns None (nothing), an iterable of outputs,
 * or a Reduced list (its outputs, then stop). */
static int32_t
outputs(xchan_emit *out, PyObject *r)
{
	if (r == NULL)
		return fail(out);
	int32_t rc = XCHAN_STEP_CONTINUE;
	if (r != Py_None)
		rc = emit_all(out, r);
	if (rc == XCHAN_STEP_CONTINUE && g_reduced_type != NULL &&
	    PyObject_TypeCheck(r, g_reduced_type))
		rc = XCHAN_STEP_REDUCED;
	Py_DECREF(r);
	return rc;
}

static int32_t
gen_step(void *p, xchan_val in, xchan_emit *out)
{
	pystate *s = p;
	PyGILState_STATE st;
	ENTER_OR_FAIL(st, in, out);
	PyObject *arg = xpy_from_val(in);
	int32_t rc = outputs(out, arg ? PyObject_CallOneArg(s->fn, arg) : NULL);
	Py_XDECREF(arg);
	PyGILState_Release(st);
	return rc;
}

static int32_t
gen_complete(void *p, xchan_emit *out)
{
	pystate *s = p;
	if (s->complete == NULL)
		return XCHAN_STEP_CONTINUE;
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return XCHAN_STEP_CONTINUE;
	int32_t rc = outputs(out, PyObject_CallNoArgs(s->complete));
	PyGILState_Release(st);
	return rc;
}

static int32_t
owner_step(void *p, xchan_val in, xchan_emit *out)
{
	return xchan_emit_push(out, in);
}

static const xchan_xform_vtbl map_vt = {sizeof(xchan_xform_vtbl), 0, map_step,
    NULL, pystate_destroy};
static const xchan_xform_vtbl filter_vt = {sizeof(xchan_xform_vtbl), 0,
    filter_step, NULL, pystate_destroy};
static const xchan_xform_vtbl gen_vt = {sizeof(xchan_xform_vtbl), 0, gen_step,
    gen_complete, pystate_destroy};
static const xchan_xform_vtbl owner_vt = {sizeof(xchan_xform_vtbl), 0,
    owner_step, NULL, pystate_destroy};

static xchan_xform *
make_py(const xchan_xform_vtbl *vt, PyObject *fn, PyObject *complete)
{
	pystate *s = calloc(1, sizeof *s);
	if (s == NULL) {
		PyErr_NoMemory();
		return NULL;
	}
	s->fn = Py_NewRef(fn);
	s->complete = Py_XNewRef(complete);
	xchan_xform *xf = NULL;
	int32_t rc = xchan_xform_new(&xf, vt, s); /* destroys s on error */
	if (rc != XCHAN_OK) {
		xpy_raise(rc, "xform");
		return NULL;
	}
	return xf;
}

xchan_xform *
xpy_xform_owner(PyObject *obj)
{
	return make_py(&owner_vt, obj, NULL);
}

/* ---- capsules ---------------------------------------------------------- */
static void
capsule_free(PyObject *cap)
{
	if (PyCapsule_GetContext(cap) != NULL)
		return; /* handed to the core */
	xchan_xform *xf = PyCapsule_GetPointer(cap, "xchan.xform");
	if (xf != NULL)
		xchan_xform_free(xf);
	else
		PyErr_Clear();
}

static PyObject *
wrap(xchan_xform *xf)
{
	if (xf == NULL)
		return NULL;
	PyObject *cap = PyCapsule_New(xf, "xchan.xform", capsule_free);
	if (cap == NULL)
		xchan_xform_free(xf);
	return cap;
}

/* Takes the transform out of a capsule (which then no longer owns it). */
static xchan_xform *
unwrap(PyObject *cap)
{
	if (!PyCapsule_IsValid(cap, "xchan.xform") ||
	    PyCapsule_GetContext(cap) != NULL) {
		PyErr_SetString(PyExc_TypeError,
		    "expected a fresh 'xchan.xform' capsule");
		return NULL;
	}
	xchan_xform *xf = PyCapsule_GetPointer(cap, "xchan.xform");
	PyCapsule_SetContext(cap, (void *)1);
	return xf;
}

xchan_xform *
xpy_xform_from(PyObject *xf)
{
	PyObject *cap = PyObject_CallMethod(xf, "_xchan_xform", NULL);
	if (cap == NULL) {
		if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
			    "xform must be a transducer from xchan.xf, not "
			    "%.100s",
			    Py_TYPE(xf)->tp_name);
		}
		return NULL;
	}
	xchan_xform *r = unwrap(cap);
	Py_DECREF(cap);
	return r;
}

static PyObject *
xf_callable(PyObject *fn, const xchan_xform_vtbl *vt)
{
	if (!PyCallable_Check(fn)) {
		PyErr_Format(PyExc_TypeError, "expected a callable, not %.100s",
		    Py_TYPE(fn)->tp_name);
		return NULL;
	}
	return wrap(make_py(vt, fn, NULL));
}

static PyObject *
mod_xf_map(PyObject *m, PyObject *fn)
{
	return xf_callable(fn, &map_vt);
}

static PyObject *
mod_xf_filter(PyObject *m, PyObject *fn)
{
	return xf_callable(fn, &filter_vt);
}

static PyObject *
mod_xf_step(PyObject *m, PyObject *args)
{
	PyObject *step, *complete = Py_None;
	if (!PyArg_ParseTuple(args, "O|O:_xf_step", &step, &complete))
		return NULL;
	if (!PyCallable_Check(step) ||
	    (complete != Py_None && !PyCallable_Check(complete))) {
		PyErr_SetString(PyExc_TypeError, "step/complete must be "
		                                 "callable");
		return NULL;
	}
	return wrap(
	    make_py(&gen_vt, step, complete == Py_None ? NULL : complete));
}

/* A core transform of one count, take(n) or partition_all(n): checks that
 * `arg` is an int > 0 (`what` names the transform in the error), then
 * makes it with `make`. */
static PyObject *
xf_counted(PyObject *arg, const char *what,
    int32_t (*make)(xchan_xform **out, uint64_t n))
{
	long long v = PyLong_AsLongLong(arg);
	if (v == -1 && PyErr_Occurred())
		return NULL;
	if (v <= 0)
		return xpy_raise_fmt(XCHAN_EINVAL, "%s needs n > 0, got %lld",
		    what, v);
	xchan_xform *xf = NULL;
	int32_t rc = make(&xf, (uint64_t)v);
	return rc == XCHAN_OK ? wrap(xf) : xpy_raise(rc, what);
}

static PyObject *
mod_xf_take(PyObject *m, PyObject *arg)
{
	return xf_counted(arg, "take", xchan_xform_take);
}

static PyObject *
mod_xf_partition_all(PyObject *m, PyObject *arg)
{
	return xf_counted(arg, "partition_all", xchan_xform_partition_all);
}

static PyObject *
mod_xf_comp(PyObject *m, PyObject *caps)
{
	PyObject *seq = PySequence_Fast(caps, "_xf_comp needs a sequence");
	if (seq == NULL)
		return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	xchan_xform **parts = calloc((size_t)n + 1, sizeof *parts);
	if (parts == NULL) {
		Py_DECREF(seq);
		return PyErr_NoMemory();
	}
	for (Py_ssize_t i = 0; i < n; i++) {
		parts[i] = unwrap(PySequence_Fast_ITEMS(seq)[i]);
		if (parts[i] == NULL) {
			for (Py_ssize_t j = 0; j < i; j++)
				xchan_xform_free(parts[j]);
			free(parts);
			Py_DECREF(seq);
			return NULL;
		}
	}
	Py_DECREF(seq);
	xchan_xform *xf = NULL;
	int32_t rc = xchan_xform_comp(&xf, parts, (size_t)n); /* takes over */
	free(parts);
	return rc == XCHAN_OK ? wrap(xf) : xpy_raise(rc, "comp");
}

static PyObject *
mod_set_reduced(PyObject *m, PyObject *type)
{
	if (!PyType_Check(type)) {
		PyErr_SetString(PyExc_TypeError, "expected a type");
		return NULL;
	}
	Py_XSETREF(g_reduced_type, (PyTypeObject *)Py_NewRef(type));
	Py_RETURN_NONE;
}

/* ---- error handlers ---------------------------------------------------- */
xchan_val
xpy_ex_handler(void *user, xchan_val error)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st)) {
		xchan_val_release(error);
		return xchan_val_nil();
	}
	xchan_val out = xchan_val_nil();
	PyObject *e = xpy_from_val(error);
	if (e == NULL) { /* a failure value raises: hand it over as is */
		PyObject *t, *tb;
		PyErr_Fetch(&t, &e, &tb);
		PyErr_NormalizeException(&t, &e, &tb);
		Py_XDECREF(t);
		Py_XDECREF(tb);
	}
	PyObject *r = PyObject_CallOneArg((PyObject *)user, e ? e : Py_None);
	Py_XDECREF(e);
	if (r == NULL) {
		PyErr_WriteUnraisable((PyObject *)user);
	} else {
		if (r != Py_None && xpy_to_val(r, &out) < 0) {
			PyErr_WriteUnraisable((PyObject *)user);
			out = xchan_val_nil();
		}
		Py_DECREF(r);
	}
	PyGILState_Release(st);
	return out;
}

xchan_val
xpy_default_ex_handler(void *user, xchan_val error)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st)) {
		xchan_val_release(error);
		return xchan_val_nil();
	}
	void *host = NULL;
	if (error.kind == XCHAN_HOST &&
	    xchan_get_host(error, xpy_runtime_id, &host) == XCHAN_OK &&
	    PyExceptionInstance_Check((PyObject *)host)) {
		PyObject *exc = host;
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
		PyErr_WriteUnraisable(NULL);
	} else {
		PyErr_Format(xpy_error_base,
		    "channel transform failed (%s value)",
		    xchan_kind_name(error.kind));
		PyErr_WriteUnraisable(NULL);
	}
	xchan_val_release(error);
	PyGILState_Release(st);
	return xchan_val_nil();
}

static PyMethodDef xform_methods[] = {{"_xf_map", mod_xf_map, METH_O, NULL},
    {"_xf_filter", mod_xf_filter, METH_O, NULL},
    {"_xf_step", mod_xf_step, METH_VARARGS, NULL},
    {"_xf_take", mod_xf_take, METH_O, NULL},
    {"_xf_partition_all", mod_xf_partition_all, METH_O, NULL},
    {"_xf_comp", mod_xf_comp, METH_O, NULL},
    {"_set_reduced_type", mod_set_reduced, METH_O, NULL}, {NULL}};

int
xpy_xform_init(PyObject *m)
{
	return PyModule_AddFunctions(m, xform_methods);
}

PyObject *
xpy_reduced_type_obj(void)
{
	return (PyObject *)g_reduced_type;
}
