/*
 * guard.c — methods that reject a receiver of the wrong type with the
 * binding's EINVAL.
 *
 * CPython checks the receiver of a C method itself: `Chan.take(None)`
 * raises a plain TypeError ("descriptor 'take' for 'xchan.Chan' objects
 * doesn't apply to a 'NoneType' object") before the binding runs.  The core
 * answers a NULL channel with XCHAN_EINVAL, and the binding promises the
 * same for every channel argument: xchan.InvalidArgumentType (EINVAL, also a
 * TypeError).  xpy_guard_methods replaces each instance method of a type by
 * a guard: a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR, so `ch.take()`
 * is still called without a bound-method object) that checks the receiver,
 * then calls the original descriptor.  Attribute access (`__doc__`,
 * `__text_signature__`, `__name__`, ...) is forwarded to the original, so
 * help() and inspect.signature() see the method as before.
 *
 * Concurrency: none of its own; a guard is immutable once made (GIL).
 */
#include "xpy.h"

typedef struct {
	PyObject_HEAD
	PyObject *descr;    /* the original method_descriptor */
	PyMethodDef *def;   /* its C function */
	PyTypeObject *type; /* the receiver's type */
	const char *what;   /* the receiver, for messages ("channel") */
	vectorcallfunc vectorcall;
} XpyGuard;

static PyTypeObject XpyGuard_Type;

/* METH_FASTCALL | METH_KEYWORDS (PyCFunctionFastWithKeywords, named with a
 * leading underscore before Python 3.13). */
typedef PyObject *(
    *fast_kw_fn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);

static PyObject *
guard_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
    PyObject *kwnames)
{
	XpyGuard *g = (XpyGuard *)self;
	Py_ssize_t n = PyVectorcall_NARGS(nargsf);
	if (n < 1 || !PyObject_TypeCheck(args[0], g->type)) {
		PyObject *name = PyObject_GetAttrString(g->descr, "__name__");
		const char *dot = strrchr(g->type->tp_name, '.');
		const char *tname = dot ? dot + 1 : g->type->tp_name;
		xpy_raise_arg_type("%s.%s: the %s must be a %s, got %.100s",
		    tname,
		    name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name)
		                                  : "?",
		    g->what, tname, n < 1 ? "nothing" : xpy_type_name(args[0]));
		Py_XDECREF(name);
		return NULL;
	}
	/* The common calling conventions straight to the C function (one
	 * dispatch, not two); the others through the original descriptor,
	 * which also makes the argument-count errors. */
	PyMethodDef *d = g->def;
	int flags = d->ml_flags & ~METH_COEXIST;
	Py_ssize_t nk = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	if (flags == METH_NOARGS && n == 1 && nk == 0)
		return d->ml_meth(args[0], NULL);
	if (flags == METH_O && n == 2 && nk == 0)
		return d->ml_meth(args[0], args[1]);
	if (flags == (METH_FASTCALL | METH_KEYWORDS))
		return ((fast_kw_fn)(void (*)(void))d->ml_meth)(args[0],
		    args + 1, n - 1, kwnames);
	return PyObject_Vectorcall(g->descr, args, nargsf, kwnames);
}

static PyObject *
guard_get(PyObject *self, PyObject *obj, PyObject *type)
{
	XpyGuard *g = (XpyGuard *)self;
	if (obj == NULL)
		return Py_NewRef(self); /* Chan.take: the guard itself */
	return Py_TYPE(g->descr)->tp_descr_get(g->descr, obj, type);
}

static PyObject *
guard_getattro(PyObject *self, PyObject *name)
{
	return PyObject_GetAttr(((XpyGuard *)self)->descr, name);
}

static PyObject *
guard_repr(PyObject *self)
{
	return PyObject_Repr(((XpyGuard *)self)->descr);
}

static void
guard_dealloc(PyObject *self)
{
	Py_CLEAR(((XpyGuard *)self)->descr);
	Py_TYPE(self)->tp_free(self);
}

static PyTypeObject XpyGuard_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._GuardedMethod",
    .tp_basicsize = sizeof(XpyGuard),
    .tp_dealloc = guard_dealloc,
    .tp_repr = guard_repr,
    .tp_call = PyVectorcall_Call,
    .tp_getattro = guard_getattro,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_METHOD_DESCRIPTOR |
                Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A method that rejects a receiver of the wrong type with "
              "xchan.InvalidArgumentType.",
    .tp_vectorcall_offset = offsetof(XpyGuard, vectorcall),
    .tp_descr_get = guard_get,
};

int
xpy_guard_methods(PyTypeObject *type, const char *what)
{
	if (PyType_Ready(&XpyGuard_Type) < 0) /* once; then a no-op */
		return -1;
	for (PyMethodDef *m = type->tp_methods; m && m->ml_name; m++) {
		if (m->ml_flags & (METH_CLASS | METH_STATIC))
			continue;
		PyObject *descr =
		    PyDict_GetItemString(type->tp_dict, m->ml_name);
		if (descr == NULL ||
		    !PyObject_TypeCheck(descr, &PyMethodDescr_Type))
			continue;
		XpyGuard *g = PyObject_New(XpyGuard, &XpyGuard_Type);
		if (g == NULL)
			return -1;
		g->descr = Py_NewRef(descr);
		g->def = m;
		g->type = type;
		g->what = what;
		g->vectorcall = guard_vectorcall;
		int rc = PyDict_SetItemString(type->tp_dict, m->ml_name,
		    (PyObject *)g);
		Py_DECREF(g);
		if (rc < 0)
			return -1;
	}
	PyType_Modified(type);
	return 0;
}
