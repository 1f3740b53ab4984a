/*
 * cancel.c — xchan.Cancel, a cancellation token (the core's xchan_cancel).
 *
 * Pass it as `cancel=` to Chan.put, Chan.take or xchan.alts: firing it makes
 * every call waiting with it (on any thread) return at once with
 * xchan.ECANCELED, nothing transferred, and every later call with it too,
 * until reset().  The token is the core's: thread-safe, no lock here.
 */
#include "xpy.h"

typedef struct {
	PyObject_HEAD
	xchan_cancel *c;
} XpyCancel;

static PyTypeObject XpyCancel_Type;

static PyObject *
cancel_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
	if (!PyArg_ParseTuple(args, ":Cancel") ||
	    (kw != NULL && PyDict_GET_SIZE(kw) > 0)) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_TypeError,
			    "Cancel() takes no arguments");
		return NULL;
	}
	XpyCancel *self = (XpyCancel *)type->tp_alloc(type, 0);
	if (self == NULL)
		return NULL;
	int32_t rc = xchan_cancel_new(&self->c);
	if (rc != XCHAN_OK) {
		Py_DECREF(self);
		return xpy_raise(rc, "Cancel");
	}
	return (PyObject *)self;
}

static void
cancel_dealloc(XpyCancel *self)
{
	if (self->c != NULL)
		xchan_cancel_release(self->c); /* waiters hold their own ref */
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
cancel_fire(XpyCancel *self, PyObject *unused)
{
	int32_t rc = xchan_cancel_fire(self->c);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : xpy_raise(rc, "fire");
}

static PyObject *
cancel_reset(XpyCancel *self, PyObject *unused)
{
	int32_t rc = xchan_cancel_reset(self->c);
	return rc == XCHAN_OK ? Py_NewRef(Py_None) : xpy_raise(rc, "reset");
}

static PyObject *
cancel_fired(XpyCancel *self, void *unused)
{
	return PyBool_FromLong(xchan_cancel_fired(self->c) > 0);
}

static PyMethodDef cancel_methods[] = {
    {"fire", (PyCFunction)cancel_fire, METH_NOARGS,
        "fire($self)\n--\n\nEvery call waiting with this token, and every "
        "later one, raises xchan.ECANCELED (nothing transferred)."},
    {"reset", (PyCFunction)cancel_reset, METH_NOARGS,
        "reset($self)\n--\n\nUn-fire: later calls wait again."},
    {NULL}};

static PyGetSetDef cancel_getset[] = {{"fired", (getter)cancel_fired, NULL,
                                          "True once fired (until reset).",
                                          NULL},
    {NULL}};

static PyTypeObject XpyCancel_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan.Cancel",
    .tp_basicsize = sizeof(XpyCancel),
    .tp_dealloc = (destructor)cancel_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Cancel(): a token for put/take/alts(cancel=...); fire() "
              "makes the calls waiting with it raise xchan.ECANCELED.",
    .tp_methods = cancel_methods,
    .tp_getset = cancel_getset,
    .tp_new = cancel_new,
};

int
xpy_cancel_arg(PyObject *o, xchan_cancel **out)
{
	*out = NULL;
	if (o == NULL || o == Py_None)
		return 0;
	if (!PyObject_TypeCheck(o, &XpyCancel_Type)) {
		xpy_raise_fmt(XCHAN_ETYPE,
		    "cancel must be an xchan.Cancel or "
		    "None, not %.100s",
		    Py_TYPE(o)->tp_name);
		return -1;
	}
	*out = ((XpyCancel *)o)->c;
	return 0;
}

int
xpy_cancel_init(PyObject *m)
{
	if (PyType_Ready(&XpyCancel_Type) < 0)
		return -1;
	Py_INCREF(&XpyCancel_Type);
	if (PyModule_AddObject(m, "Cancel", (PyObject *)&XpyCancel_Type) < 0) {
		Py_DECREF(&XpyCancel_Type);
		return -1;
	}
	return 0;
}
