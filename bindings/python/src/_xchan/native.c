/*
 * native.c — xchan._xchan._native_run: the core's native workers
 * (xchan_native_run, xchan_ext.h) for Python.  xchan/native.py wraps it as
 * xchan.native.go / thread / io_thread.
 *
 * The arguments are converted with xpy_to_val (the binding's one value
 * mapping) and released after the call: xchan_native_run retains what the
 * task keeps.  On an error the same arguments go to xchan_native_check for
 * the message naming the problem, raised as the error's XchanError subclass.
 * No lock of its own; the GIL is released around the core calls (the
 * library may load, its constructors running on this thread).
 */
#include "xpy.h"

#define NATIVE_MSG_SIZE 512

static void
release_vals(xchan_val *vals, Py_ssize_t n)
{
	for (Py_ssize_t i = 0; i < n; i++)
		xchan_val_release(vals[i]);
}

static PyObject *
native_run(PyObject *self, PyObject *args)
{
	unsigned int workload;
	const char *lib, *symbol, *signature;
	PyObject *fargs;
	if (!PyArg_ParseTuple(args, "IsssO!:_native_run", &workload, &lib,
	        &symbol, &signature, &PyTuple_Type, &fargs))
		return NULL;
	Py_ssize_t n = PyTuple_GET_SIZE(fargs);
	if (n > XCHAN_NATIVE_MAX_ARGS) {
		return xpy_raise_fmt(XCHAN_EINVAL,
		    "%s: at most %d arguments, got %zd", symbol,
		    XCHAN_NATIVE_MAX_ARGS, n);
	}
	xchan_val vals[XCHAN_NATIVE_MAX_ARGS];
	for (Py_ssize_t i = 0; i < n; i++) {
		if (xpy_to_val(PyTuple_GET_ITEM(fargs, i), &vals[i]) < 0) {
			release_vals(vals, i);
			return NULL;
		}
	}
	xchan_chan *result = NULL;
	char msg[NATIVE_MSG_SIZE];
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS rc = xchan_native_run(&result, workload, lib,
	    symbol, signature, vals, (size_t)n, NULL);
	if (rc != XCHAN_OK && xchan_native_check(msg, sizeof msg, lib, symbol,
	                          signature, vals, (size_t)n) == XCHAN_OK)
		snprintf(msg, sizeof msg, "%s: cannot start", symbol);
	Py_END_ALLOW_THREADS release_vals(vals, n);
	if (rc != XCHAN_OK)
		return xpy_raise(rc, msg);
	return xpy_chan_wrap(result, 0);
}

static PyMethodDef native_methods[] = {
    {"_native_run", native_run, METH_VARARGS,
        "_native_run(workload, lib, symbol, signature, args_tuple) -> Chan\n"
        "--\n\n"
        "Runs `symbol` of shared library `lib` through libffi on the core's "
        "executor `workload`; see xchan.native."},
    {NULL}};

int
xpy_native_init(PyObject *m)
{
	if (PyModule_AddIntConstant(m, "WORKLOAD_DISPATCH",
	        XCHAN_WORKLOAD_DISPATCH) < 0 ||
	    PyModule_AddIntConstant(m, "WORKLOAD_MIXED", XCHAN_WORKLOAD_MIXED) <
	        0 ||
	    PyModule_AddIntConstant(m, "WORKLOAD_IO", XCHAN_WORKLOAD_IO) < 0)
		return -1;
	return PyModule_AddFunctions(m, native_methods);
}
