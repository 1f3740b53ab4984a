/*
 * tasks.c — thread()/io_thread() on the core's executors, and the executor
 * factory (Python concurrent.futures executors as xchan executors).
 *
 * thread(fn, *args, **kw) runs fn on the core's MIXED executor (io_thread:
 * IO) and returns the task's result channel: it receives fn's return value
 * (None: no value; the channel just closes) and closes.  If fn raises, the
 * task fails as the core's tasks fail: its result channel closes without a
 * value and the task error hook gets (task name, exception).
 *
 * The task error hook: the binding installs its own core hook
 * (xchan_set_task_error_hook) at import.  The core calls it on the failing
 * task's thread right after the body returned its error; run_task leaves
 * the body's exception in a thread-local for it (tl_failure), so the
 * Python hook gets the very exception object.  A task of C code (native
 * workers, C extensions) has no Python exception: the hook gets the core
 * error's exception class instantiated with a message.  The Python hook is
 * set_task_error_hook(fn) (None: the default, which logs the failure with
 * its traceback on the "xchan" logger).  xchan.go (asyncio tasks) reports
 * through the same hook with _task_failed.
 *
 * The executor factory: set_executor_factory(f) makes the core ask f(name)
 * ("dispatch", "mixed", "io", "compute") once per workload; f returns a
 * concurrent.futures.Executor (its submit() runs the core's tasks) or None
 * (the core's default).  Tasks are submitted as _NativeTask objects whose
 * call releases the GIL and runs the core's C task.
 *
 * Threads: task bodies and executor hooks run on threads the core or the
 * executor owns; they take the GIL with PyGILState_Ensure and keep out of
 * Python once it is exiting (a task then fails with ESHUTDOWN; an executor
 * refuses new tasks).
 */
#include "xpy.h"

int xpy_python_executors;

typedef struct {
	PyObject *fn, *args, *kw;
} task_arg;

static void
task_arg_free(task_arg *t)
{
	Py_XDECREF(t->fn);
	Py_XDECREF(t->args);
	Py_XDECREF(t->kw);
	free(t);
}

/* The Python task error hook (NULL: the default, logging). */
static PyObject *g_task_hook;
/* The exception of the task that just failed on this thread, for the core
 * hook the core calls next on the same thread (owned; GIL). */
static _Thread_local PyObject *tl_failure;

/* The error code a failing body's exception stands for: an XchanError's
 * own code (a body may fail with ECLOSED, ETIMEDOUT, ...), else ETASK. */
static int32_t
failure_code(PyObject *exc)
{
	int32_t code = XCHAN_ETASK;
	if (exc != NULL && PyObject_IsInstance(exc, xpy_error_base) == 1) {
		PyObject *c = PyObject_GetAttrString(exc, "code");
		if (c != NULL && PyLong_Check(c)) {
			long v = PyLong_AsLong(c);
			if (v > 0 && v < XCHAN_ERR_COUNT_)
				code = (int32_t)v;
		}
		Py_XDECREF(c);
		PyErr_Clear();
	}
	return code;
}

/* The current exception: kept for the core's hook call; returns its code. */
static int32_t
stash_failure(void)
{
	PyObject *v = xpy_fetch_exception();
	int32_t code = failure_code(v);
	Py_XSETREF(tl_failure, v);
	return code;
}

/* Calls the Python hook (or the default) with (name, exc); GIL held. */
static void
report_failure(PyObject *name, PyObject *exc)
{
	PyObject *r;
	if (g_task_hook != NULL) {
		r = PyObject_CallFunctionObjArgs(g_task_hook, name, exc, NULL);
	} else {
		PyObject *logging = PyImport_ImportModule("logging");
		PyObject *logger = logging ? PyObject_CallMethod(logging,
		                                 "getLogger", "s", "xchan")
		                           : NULL;
		PyObject *meth =
		    logger ? PyObject_GetAttrString(logger, "error") : NULL;
		PyObject *args =
		    meth ? Py_BuildValue("(sO)", "task %r failed", name) : NULL;
		PyObject *kw =
		    args ? Py_BuildValue("{s:O}", "exc_info", exc) : NULL;
		r = kw ? PyObject_Call(meth, args, kw) : NULL;
		Py_XDECREF(kw);
		Py_XDECREF(args);
		Py_XDECREF(meth);
		Py_XDECREF(logger);
		Py_XDECREF(logging);
	}
	if (r == NULL)
		PyErr_WriteUnraisable(g_task_hook ? g_task_hook : Py_None);
	Py_XDECREF(r);
}

/* The core's task error hook: the task's thread, no xchan lock held. */
static void
core_task_failed(void *user, const char *task_name, int32_t err)
{
	xpy_hook h;
	if (!xpy_hook_enter(&h)) {
		fprintf(stderr, "xchan: task '%s' failed: %s\n",
		    task_name ? task_name : "?", xchan_err_name(err));
		return;
	}
	PyObject *exc = tl_failure;
	tl_failure = NULL;
	if (exc == NULL) /* a task of C code */
		exc = xpy_error_new(err, NULL);
	PyObject *name = PyUnicode_DecodeUTF8(task_name ? task_name : "?",
	    (Py_ssize_t)strlen(task_name ? task_name : "?"), "replace");
	if (exc != NULL && name != NULL)
		report_failure(name, exc);
	else
		PyErr_WriteUnraisable(Py_None);
	Py_XDECREF(name);
	Py_XDECREF(exc);
	xpy_hook_leave(&h);
}

static int32_t
run_task(void *arg, xchan_val *result)
{
	task_arg *t = arg;
	PyGILState_STATE st;
	*result = xchan_val_nil();
	if (!xpy_gil_enter(&st))
		return XCHAN_ESHUTDOWN; /* leaks t: Python is gone */
	int32_t rc = XCHAN_OK;
	PyObject *r = PyObject_Call(t->fn, t->args, t->kw);
	if (r == NULL) {
		rc = stash_failure();
	} else {
		if (r != Py_None && xpy_to_val(r, result) < 0)
			rc = stash_failure();
		Py_DECREF(r);
	}
	task_arg_free(t);
	PyGILState_Release(st);
	return rc;
}

typedef int32_t (
    *starter)(xchan_chan **, xchan_go_fn, void *, const xchan_go_opts *);

static PyObject *
start(starter fn_start, const char *what, PyObject *args, PyObject *kw)
{
	Py_ssize_t n = PyTuple_GET_SIZE(args);
	if (n < 1 || !PyCallable_Check(PyTuple_GET_ITEM(args, 0))) {
		PyErr_Format(PyExc_TypeError,
		    "%s(fn, *args, **kwargs) needs a callable first", what);
		return NULL;
	}
	task_arg *t = calloc(1, sizeof *t);
	if (t == NULL)
		return PyErr_NoMemory();
	t->fn = Py_NewRef(PyTuple_GET_ITEM(args, 0));
	t->args = PyTuple_GetSlice(args, 1, n);
	t->kw = kw ? PyDict_Copy(kw) : NULL;
	if (t->args == NULL || (kw && t->kw == NULL)) {
		task_arg_free(t);
		return NULL;
	}
	PyObject *name = PyObject_GetAttrString(t->fn, "__qualname__");
	const char *cname = NULL;
	if (name == NULL || !PyUnicode_Check(name))
		PyErr_Clear();
	else
		cname = PyUnicode_AsUTF8(name);
	if (cname == NULL)
		PyErr_Clear();
	xchan_go_opts opts = {sizeof opts, 0, cname, 0};
	xchan_chan *ch = NULL;
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS rc = fn_start(&ch, run_task, t, &opts);
	Py_END_ALLOW_THREADS Py_XDECREF(name);
	if (rc != XCHAN_OK) {
		task_arg_free(t);
		return xpy_raise(rc, what);
	}
	return xpy_chan_wrap(ch, 0);
}

static PyObject *
mod_thread(PyObject *m, PyObject *args, PyObject *kw)
{
	return start(xchan_thread, "thread", args, kw);
}

static PyObject *
mod_io_thread(PyObject *m, PyObject *args, PyObject *kw)
{
	return start(xchan_io_thread, "io_thread", args, kw);
}

/* ---- executors backed by concurrent.futures ---------------------------- */
typedef struct {
	PyObject_HEAD
	xchan_task_fn fn;
	void *arg;
} XpyNativeTask;

static PyObject *
native_call(XpyNativeTask *self, PyObject *args, PyObject *kw)
{
	xchan_task_fn fn = self->fn;
	if (fn == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "task already ran");
		return NULL;
	}
	self->fn = NULL;
	Py_BEGIN_ALLOW_THREADS fn(self->arg);
	Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyTypeObject XpyNativeTask_Type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "xchan._xchan._NativeTask",
    .tp_basicsize = sizeof(XpyNativeTask),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_call = (ternaryfunc)native_call,
    .tp_doc = "A task of the xchan core, submitted to a Python executor.",
};

typedef struct {
	PyObject *executor;
	xchan_executor_vtbl vt;
} py_exec;

static int32_t
py_execute(void *self, xchan_task_fn fn, void *arg)
{
	py_exec *e = self;
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return XCHAN_ESHUTDOWN;
	int32_t rc = XCHAN_OK;
	XpyNativeTask *t = PyObject_New(XpyNativeTask, &XpyNativeTask_Type);
	if (t == NULL) {
		PyErr_Clear();
		rc = XCHAN_ENOMEM;
	} else {
		t->fn = fn;
		t->arg = arg;
		PyObject *f = PyObject_CallMethod(e->executor, "submit", "O",
		    (PyObject *)t);
		if (f == NULL) {
			/* e.g. "cannot schedule new futures after shutdown":
			 * the core then does not run the task. */
			PyErr_Clear();
			t->fn = NULL;
			rc = XCHAN_ESHUTDOWN;
		}
		Py_XDECREF(f);
		Py_DECREF(t);
	}
	PyGILState_Release(st);
	return rc;
}

static const char *
workload_name(uint32_t w)
{
	switch (w) {
	case XCHAN_WORKLOAD_DISPATCH:
		return "dispatch";
	case XCHAN_WORKLOAD_MIXED:
		return "mixed";
	case XCHAN_WORKLOAD_IO:
		return "io";
	case XCHAN_WORKLOAD_COMPUTE:
		return "compute";
	}
	return NULL;
}

static xchan_executor *
factory(void *user, uint32_t workload)
{
	const char *name = workload_name(workload);
	PyGILState_STATE st;
	if (name == NULL || !xpy_gil_enter(&st))
		return NULL;
	xchan_executor *ex = NULL;
	PyObject *r = PyObject_CallFunction((PyObject *)user, "s", name);
	if (r == NULL) {
		PyErr_WriteUnraisable((PyObject *)user);
	} else if (r != Py_None) {
		PyObject *submit = PyObject_GetAttrString(r, "submit");
		if (submit == NULL) {
			PyErr_Clear();
			PyErr_Format(PyExc_TypeError,
			    "executor factory returned %.100s for '%s': not "
			    "an executor (no submit) and not None",
			    Py_TYPE(r)->tp_name, name);
			PyErr_WriteUnraisable((PyObject *)user);
		} else {
			Py_DECREF(submit);
			/* Lives until the process ends: the core keeps the
			 * executor for good. */
			py_exec *e = calloc(1, sizeof *e);
			if (e != NULL) {
				e->executor = Py_NewRef(r);
				e->vt.size = sizeof e->vt;
				e->vt.execute = py_execute;
				if (xchan_executor_new(&ex, &e->vt, e) !=
				    XCHAN_OK) {
					Py_DECREF(e->executor);
					free(e);
					ex = NULL;
				}
			}
		}
	}
	Py_XDECREF(r);
	PyGILState_Release(st);
	return ex;
}

/* ---- execute: a job on a workload's executor ---------------------------- */
static int
workload_of(PyObject *name)
{
	static const char *names[] = {"dispatch", "mixed", "io", "compute"};
	if (PyUnicode_Check(name))
		for (int w = 0; w < 4; w++)
			if (PyUnicode_CompareWithASCIIString(name, names[w]) ==
			    0)
				return w;
	return -1;
}

static void
run_job(void *arg)
{
	task_arg *t = arg;
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return; /* leaks t: Python is gone */
	PyObject *r = PyObject_Call(t->fn, t->args, t->kw);
	if (r == NULL)
		PyErr_WriteUnraisable(t->fn);
	Py_XDECREF(r);
	task_arg_free(t);
	PyGILState_Release(st);
}

static PyObject *
mod_execute(PyObject *m, PyObject *args, PyObject *kw)
{
	Py_ssize_t n = PyTuple_GET_SIZE(args);
	if (n < 2)
		return xpy_raise_arg_type("execute(workload, fn, *args, "
		                          "**kwargs) needs a workload and a "
		                          "callable");
	PyObject *wl = PyTuple_GET_ITEM(args, 0);
	PyObject *fn = PyTuple_GET_ITEM(args, 1);
	int w = workload_of(wl);
	if (w < 0) {
		PyObject *r = PyObject_Repr(wl);
		xpy_raise_fmt(XCHAN_EINVAL,
		    "execute: unknown workload %.60s (dispatch, mixed, io, "
		    "compute)",
		    r ? PyUnicode_AsUTF8(r) : "?");
		Py_XDECREF(r);
		return NULL;
	}
	if (!PyCallable_Check(fn))
		return xpy_raise_arg_type("execute: fn must be callable, got "
		                          "%.100s",
		    xpy_type_name(fn));
	xchan_executor *ex = NULL;
	int32_t rc;
	/* Resolving may call a Python factory (it takes the GIL). */
	Py_BEGIN_ALLOW_THREADS rc = xchan_executor_for(&ex, (uint32_t)w);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK) return xpy_raise(rc,
	    "execute: no executor for the workload");
	task_arg *t = calloc(1, sizeof *t);
	if (t == NULL)
		return PyErr_NoMemory();
	t->fn = Py_NewRef(fn);
	t->args = PyTuple_GetSlice(args, 2, n);
	t->kw = kw ? PyDict_Copy(kw) : NULL;
	if (t->args == NULL || (kw && t->kw == NULL)) {
		task_arg_free(t);
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS rc = xchan_execute(ex, run_job, t);
	Py_END_ALLOW_THREADS if (rc != XCHAN_OK)
	{
		task_arg_free(t);
		return xpy_raise(rc, "execute");
	}
	Py_RETURN_NONE;
}

static PyObject *
mod_set_executor_factory(PyObject *m, PyObject *fn)
{
	if (!PyCallable_Check(fn)) {
		PyErr_SetString(PyExc_TypeError,
		    "set_executor_factory needs a callable taking a workload "
		    "name");
		return NULL;
	}
	Py_INCREF(fn); /* kept for good: the core may call it any time */
	int32_t rc = xchan_set_executor_factory(factory, fn);
	if (rc != XCHAN_OK) {
		Py_DECREF(fn);
		return xpy_raise(rc, "set_executor_factory (allowed once, "
		                     "before any executor is used)");
	}
	xpy_python_executors = 1;
	Py_RETURN_NONE;
}

static PyObject *
mod_set_task_error_hook(PyObject *m, PyObject *fn)
{
	if (fn != Py_None && !PyCallable_Check(fn))
		return xpy_raise_arg_type(
		    "set_task_error_hook needs a callable "
		    "(name, exception) or None, got %.100s",
		    xpy_type_name(fn));
	Py_XSETREF(g_task_hook, fn == Py_None ? NULL : Py_NewRef(fn));
	Py_RETURN_NONE;
}

void
xpy_task_failed(PyObject *name, PyObject *exc)
{
	report_failure(name, exc);
}

static PyObject *
mod_task_failed(PyObject *m, PyObject *args)
{
	PyObject *name, *exc;
	if (!PyArg_ParseTuple(args, "OO:_task_failed", &name, &exc))
		return NULL;
	report_failure(name, exc);
	Py_RETURN_NONE;
}

static PyMethodDef task_methods[] = {
    {"execute", (PyCFunction)(void (*)(void))mod_execute,
        METH_VARARGS | METH_KEYWORDS,
        "execute(workload, fn, *args, **kwargs)\n--\n\n"
        "Returns None.\n"
        "Run fn(*args, **kwargs) on the executor of `workload` ('dispatch',\n"
        "'mixed', 'io' or 'compute'; the factory's, or the core's default),\n"
        "as C's xchan_execute: fire and forget (an exception in fn is\n"
        "reported as unraisable).  Raises EINVAL for an unknown workload,\n"
        "ELOAD when XCHAN_EXECUTOR_FACTORY names a library or symbol that\n"
        "cannot be loaded, ESHUTDOWN after shutdown()."},
    {"set_task_error_hook", mod_set_task_error_hook, METH_O,
        "set_task_error_hook(hook)\n--\n\n"
        "Returns None.\n"
        "hook(name, exception) is called when the body of a go, thread or\n"
        "io_thread task (or of a C task, e.g. xchan.native) fails; the\n"
        "task's result channel then closes without a value.  name is the\n"
        "task's name (thread/io_thread: fn.__qualname__; go: name= or the\n"
        "coroutine's __qualname__); exception is what the body raised (for a\n"
        "C task, the core error's exception).  It runs on the failing\n"
        "task's thread (go: the loop's), with the GIL.  None restores the\n"
        "default: the failure is logged with its traceback on the 'xchan'\n"
        "logger.  An exception in the hook is reported as unraisable."},
    {"_task_failed", mod_task_failed, METH_VARARGS,
        "_task_failed(name, exc): report a failed task to the hook."},
    {"thread", (PyCFunction)(void (*)(void))mod_thread,
        METH_VARARGS | METH_KEYWORDS,
        "thread(fn, *args, **kwargs)\n--\n\n"
        "Returns Chan.\n"
        "Run fn(*args, **kwargs) on the core's MIXED executor (an OS thread,\n"
        "blocking is fine).  Returns a channel that receives the result\n"
        "(nothing if it is None) and closes.  If fn raises, the channel\n"
        "closes without a value and the task error hook gets\n"
        "(fn.__qualname__, the exception): see set_task_error_hook."},
    {"io_thread", (PyCFunction)(void (*)(void))mod_io_thread,
        METH_VARARGS | METH_KEYWORDS,
        "io_thread(fn, *args, **kwargs)\n--\n\n"
        "Returns Chan.\n"
        "As thread(), on the core's IO executor."},
    {"set_executor_factory", mod_set_executor_factory, METH_O,
        "set_executor_factory(factory)\n--\n\n"
        "Returns None.\n"
        "factory(workload) -> concurrent.futures.Executor or None, for\n"
        "workload in 'dispatch', 'mixed', 'io', 'compute'; called at most\n"
        "once per workload, when the core first needs it.  Allowed once,\n"
        "before any executor is used (else xchan.ESTATE)."},
    {NULL}};

int
xpy_tasks_init(PyObject *m)
{
	if (PyType_Ready(&XpyNativeTask_Type) < 0)
		return -1;
	xchan_set_task_error_hook(core_task_failed, NULL);
	return PyModule_AddFunctions(m, task_methods);
}
