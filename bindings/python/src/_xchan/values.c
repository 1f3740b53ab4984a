/*
 * values.c — Python objects <-> xchan values (the mapping of
 * docs/bindings.md, shared by every binding).
 *
 *   bool -> BOOL, int (exactly int, fits int64) -> INT, float -> DOUBLE,
 *   str -> STRING carrying the str itself (C reads UTF-8, Python gets the
 *   very same object back), bytes -> BYTES likewise, Chan -> CHAN,
 *   Box -> the boxed value, anything else (also int beyond int64, str with
 *   lone surrogates, subclasses of the above) -> HOST of this runtime.
 *   None cannot be put (ENIL).
 *
 *   Back: scalars -> int/float/bool; STRING/BYTES -> the carried object if it
 *   is ours, else a new str/bytes; CHAN -> a Chan wrapping the same native
 *   channel; HOST -> the object (another runtime's: ERUNTIME); ARRAY -> list;
 *   BOX -> Box.
 *
 * No locks: everything here runs with the GIL held.
 */
#include "xpy.h"

/* ---- Box: a native value Python cannot represent (BOX) ---------------- */
typedef struct {
	PyObject_HEAD
	xchan_val v;
} XpyBox;

static void
box_dealloc(XpyBox *self)
{
	xchan_val v = self->v;
	self->v = xchan_val_nil();
	xchan_val_release(v);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
box_repr(XpyBox *self)
{
	void *p = NULL;
	xchan_get_box(self->v, &p);
	return PyUnicode_FromFormat("<xchan.Box %p>", p);
}

static void *
box_ptr(PyObject *o)
{
	void *p = NULL;
	xchan_get_box(((XpyBox *)o)->v, &p);
	return p;
}

static PyObject *
box_address(PyObject *self, void *unused)
{
	return PyLong_FromVoidPtr(box_ptr(self));
}

static Py_hash_t
box_hash(PyObject *self)
{
	return _Py_HashPointer(box_ptr(self));
}

/* Two Box objects are equal when they hold the same native pointer (a Box
 * taken from a channel is a new object for the value put). */
static PyObject *
box_richcompare(PyObject *a, PyObject *b, int op)
{
	if (!PyObject_TypeCheck(b, &XpyBox_Type) ||
	    (op != Py_EQ && op != Py_NE))
		Py_RETURN_NOTIMPLEMENTED;
	int eq = box_ptr(a) == box_ptr(b);
	return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

static PyGetSetDef box_getset[] = {{"address", box_address, NULL,
                                       "The native pointer, as an int (for "
                                       "ctypes or a C extension).",
                                       NULL},
    {NULL}};

PyTypeObject XpyBox_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Box",
    .tp_basicsize = sizeof(XpyBox),
    .tp_dealloc = (destructor)box_dealloc,
    .tp_repr = (reprfunc)box_repr,
    .tp_hash = box_hash,
    .tp_richcompare = box_richcompare,
    .tp_getset = box_getset,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An opaque native value (a C pointer with its destructor) put "
              "by C code.\n\nIt can be put back on a channel unchanged (C "
              "gets the same pointer); Python cannot look inside it.  Boxes "
              "holding the same pointer are equal.  The destructor runs "
              "once, when the last copy of the value (in channels or Box "
              "objects) is released.",
};

/* ---- Python -> value --------------------------------------------------- */
static int
host_val(PyObject *o, xchan_val *out)
{
	Py_INCREF(o);
	int32_t rc = xchan_val_host(out, xpy_runtime_id, o);
	if (rc != XCHAN_OK) {
		Py_DECREF(o);
		xpy_raise(rc, "cannot wrap a Python object");
		return -1;
	}
	return 0;
}

int
xpy_to_val(PyObject *o, xchan_val *out)
{
	int32_t rc;
	if (o == Py_None) {
		xpy_raise(XCHAN_ENIL, "None cannot be put on a channel (it "
		                      "means 'closed'); wrap it or use a "
		                      "sentinel");
		return -1;
	}
	PyTypeObject *t = Py_TYPE(o);
	if (t == &PyBool_Type) {
		*out = xchan_val_bool(o == Py_True);
		return 0;
	}
	if (t == &PyLong_Type) {
		int overflow = 0;
		long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (overflow != 0)
			return host_val(o,
			    out); /* beyond int64: C gets ETYPE */
		if (i == -1 && PyErr_Occurred())
			return -1;
		*out = xchan_val_int(i);
		return 0;
	}
	if (t == &PyFloat_Type) {
		*out = xchan_val_double(PyFloat_AS_DOUBLE(o));
		return 0;
	}
	if (t == &PyUnicode_Type) {
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(o, &len);
		if (s == NULL) {
			/* Lone surrogates: not UTF-8; carried as the object. */
			PyErr_Clear();
			return host_val(o, out);
		}
		Py_INCREF(o); /* taken over, also on error */
		rc = xchan_val_string_host(out, s, (size_t)len, xpy_runtime_id,
		    o);
		if (rc != XCHAN_OK) {
			xpy_raise(rc, "cannot make a string value");
			return -1;
		}
		return 0;
	}
	if (t == &PyBytes_Type) {
		const char *s = PyBytes_AS_STRING(o);
		size_t len = (size_t)PyBytes_GET_SIZE(o);
		Py_INCREF(o); /* taken over, also on error */
		rc = xchan_val_bytes_host(out, s, len, xpy_runtime_id, o);
		if (rc != XCHAN_OK) {
			xpy_raise(rc, "cannot make a bytes value");
			return -1;
		}
		return 0;
	}
	if (XpyChan_Check(o)) {
		rc = xchan_val_chan(out, ((XpyChan *)o)->ch);
		if (rc != XCHAN_OK) {
			xpy_raise(rc, "cannot make a channel value");
			return -1;
		}
		return 0;
	}
	if (t == &XpyBox_Type) {
		*out = xchan_val_retain(((XpyBox *)o)->v);
		return 0;
	}
	if (t == &PyList_Type) {
		/* A list is the core's ARRAY, which cannot hold nil. */
		for (Py_ssize_t i = 0; i < PyList_GET_SIZE(o); i++)
			if (PyList_GET_ITEM(o, i) == Py_None) {
				xpy_raise_fmt(XCHAN_EINVAL,
				    "a list put on a channel cannot hold None "
				    "(item %zd)",
				    i);
				return -1;
			}
	}
	return host_val(o, out);
}

/* ---- value -> Python --------------------------------------------------- */
static PyObject *
from_val_borrowed(xchan_val v)
{
	void *host = NULL;
	int32_t rc;
	switch (v.kind) {
	case XCHAN_NIL:
		Py_RETURN_NONE;
	case XCHAN_BOOL: {
		int32_t b = 0;
		xchan_get_bool(v, &b);
		return PyBool_FromLong(b);
	}
	case XCHAN_INT: {
		int64_t i = 0;
		xchan_get_int(v, &i);
		return PyLong_FromLongLong(i);
	}
	case XCHAN_DOUBLE: {
		double d = 0;
		xchan_get_double(v, &d);
		return PyFloat_FromDouble(d);
	}
	case XCHAN_STRING: {
		if (xchan_get_host(v, xpy_runtime_id, &host) == XCHAN_OK &&
		    host != NULL) {
			Py_INCREF((PyObject *)host);
			return (PyObject *)host;
		}
		const char *s = NULL;
		size_t len = 0;
		xchan_get_string(v, &s, &len);
		return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "strict");
	}
	case XCHAN_BYTES: {
		if (xchan_get_host(v, xpy_runtime_id, &host) == XCHAN_OK &&
		    host != NULL) {
			Py_INCREF((PyObject *)host);
			return (PyObject *)host;
		}
		const void *s = NULL;
		size_t len = 0;
		xchan_get_bytes(v, &s, &len);
		return PyBytes_FromStringAndSize(s, (Py_ssize_t)len);
	}
	case XCHAN_CHAN: {
		xchan_chan *ch = NULL;
		xchan_get_chan(v, &ch);
		return xpy_chan_wrap(xchan_chan_retain(ch), 1);
	}
	case XCHAN_HOST: {
		rc = xchan_get_host(v, xpy_runtime_id, &host);
		if (rc != XCHAN_OK)
			return xpy_raise(rc, "the value belongs to another "
			                     "runtime");
		PyObject *o = (PyObject *)host;
		Py_INCREF(o);
		return o;
	}
	case XCHAN_ARRAY: {
		const xchan_val *items = NULL;
		size_t n = 0;
		xchan_get_array(v, &items, &n);
		PyObject *list = PyList_New((Py_ssize_t)n);
		if (list == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			PyObject *it = from_val_borrowed(items[i]);
			if (it == NULL) {
				Py_DECREF(list);
				return NULL;
			}
			PyList_SET_ITEM(list, (Py_ssize_t)i, it);
		}
		return list;
	}
	case XCHAN_BOX: {
		XpyBox *b = PyObject_New(XpyBox, &XpyBox_Type);
		if (b == NULL)
			return NULL;
		b->v = xchan_val_retain(v);
		return (PyObject *)b;
	}
	default:
		return xpy_raise_fmt(XCHAN_ETYPE, "unknown value kind %u",
		    (unsigned)v.kind);
	}
}

PyObject *
xpy_from_val(xchan_val v)
{
	PyObject *o = from_val_borrowed(v);
	xchan_val_release(v);
	return o;
}

int
xpy_values_init(PyObject *m)
{
	if (PyType_Ready(&XpyBox_Type) < 0)
		return -1;
	Py_INCREF(&XpyBox_Type);
	return PyModule_AddObject(m, "Box", (PyObject *)&XpyBox_Type);
}
