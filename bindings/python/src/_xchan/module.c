/*
 * module.c — the xchan._xchan module: init, the CPython host runtime,
 * exceptions generated from the core's error list, the C API capsule.
 *
 * The runtime's hooks (retain/release of host values) may be called by the
 * core on any thread, holding no xchan lock.  They take the GIL with
 * PyGILState_Ensure.  Once Python began to exit (the atexit hook below ran,
 * or the interpreter is finalizing) they do nothing: a release then leaks
 * the object instead of touching a dying interpreter, and the runtime is
 * unregistered so the core stops calling them at all.
 */
#include <stdarg.h>

#include "xpy.h"

uint32_t xpy_runtime_id;
PyObject *xpy_error_base;
PyObject *xpy_bad_arg_type;
static PyObject *g_errors[XCHAN_ERR_COUNT_];
static atomic_int g_exiting;

#if PY_VERSION_HEX >= 0x030D0000
#define XPY_FINALIZING() Py_IsFinalizing()
#else
#define XPY_FINALIZING() _Py_IsFinalizing()
#endif

int
xpy_exiting(void)
{
	return atomic_load_explicit(&g_exiting, memory_order_acquire) ||
	       XPY_FINALIZING();
}

int
xpy_gil_enter(PyGILState_STATE *st)
{
	if (xpy_exiting())
		return 0;
	*st = PyGILState_Ensure();
	return 1;
}

int
xpy_hook_enter(xpy_hook *h)
{
	if (!xpy_gil_enter(&h->gil))
		return 0;
	PyErr_Fetch(&h->type, &h->value, &h->traceback);
	h->go = xpy_go_hide();
	return 1;
}

void
xpy_hook_leave(xpy_hook *h)
{
	xpy_go_restore(h->go);
	PyErr_Restore(h->type, h->value, h->traceback);
	PyGILState_Release(h->gil);
}

static void
rt_retain(void *user, void *obj)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return;
	Py_INCREF((PyObject *)obj);
	PyGILState_Release(st);
}

static void
rt_release(void *user, void *obj)
{
	PyGILState_STATE st;
	if (!xpy_gil_enter(&st))
		return; /* exiting: leak, never touch a dying interpreter */
	Py_DECREF((PyObject *)obj);
	PyGILState_Release(st);
}

/* ---- xchan's own threads ------------------------------------------------
 * Each thread the core starts (executor workers, the timer) gets one Python
 * thread state for its whole life, made by the thread_start hook and kept
 * without the GIL; PyGILState_Ensure then only takes the GIL there instead
 * of creating and destroying a thread state for every callback, step or
 * task.  thread_exit deletes it, unless Python is exiting (then it is left
 * to the dying interpreter). */
static _Thread_local PyThreadState *tl_tstate;
static _Thread_local PyGILState_STATE tl_gilstate;

static void
thread_started(void *user, const char *name)
{
	if (!xpy_gil_enter(&tl_gilstate))
		return;
	tl_tstate = PyEval_SaveThread();
}

static void
thread_exiting(void *user, const char *name)
{
	PyThreadState *ts = tl_tstate;
	tl_tstate = NULL;
	if (ts == NULL || xpy_exiting())
		return;
	PyEval_RestoreThread(ts);
	PyGILState_Release(tl_gilstate);
}

static void
init_core(void)
{
	xchan_init_params p;
	memset(&p, 0, sizeof p);
	p.size = sizeof p;
	p.thread_start = thread_started;
	p.thread_exit = thread_exiting;
	/* ESTATE: the core was already in use (imported again after a
	 * failed import); its threads then make thread states per call. */
	(void)xchan_init(&p);
}

/* ---- the core's diagnostics -> logging.getLogger("xchan") ---------------
 * Any thread, no xchan lock held, never a go stack (the hook's contract).
 * At exit the hook is removed, so late messages go to stderr. */
static void
log_hook(void *user, int32_t level, const char *msg)
{
	xpy_hook h;
	if (!xpy_hook_enter(&h)) {
		fprintf(stderr, "xchan: %s\n", msg);
		return;
	}
	int lvl = level == XCHAN_LOG_ERROR  ? 40
	          : level == XCHAN_LOG_WARN ? 30
	                                    : 20;
	PyObject *logging = PyImport_ImportModule("logging");
	PyObject *logger =
	    logging ? PyObject_CallMethod(logging, "getLogger", "s", "xchan")
	            : NULL;
	PyObject *r =
	    logger ? PyObject_CallMethod(logger, "log", "iss", lvl, "%s", msg)
	           : NULL;
	if (r == NULL) {
		PyErr_Clear();
		fprintf(stderr, "xchan: %s\n", msg);
	}
	Py_XDECREF(r);
	Py_XDECREF(logger);
	Py_XDECREF(logging);
	xpy_hook_leave(&h);
}

/* ---- exceptions -------------------------------------------------------- */
PyObject *
xpy_error_class(int32_t err)
{
	return (err > 0 && err < XCHAN_ERR_COUNT_ && g_errors[err])
	           ? g_errors[err]
	           : xpy_error_base;
}

PyObject *
xpy_error_new(int32_t err, const char *what)
{
	return PyObject_CallFunction(xpy_error_class(err), "s",
	    what ? what : xchan_strerror(err));
}

PyObject *
xpy_fetch_exception(void)
{
	PyObject *t, *v, *tb;
	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	if (tb != NULL && v != NULL)
		PyException_SetTraceback(v, tb);
	Py_XDECREF(t);
	Py_XDECREF(tb);
	return v;
}

PyObject *
xpy_raise(int32_t err, const char *what)
{
	PyObject *cls = xpy_error_class(err);
	if (what != NULL)
		PyErr_Format(cls, "%s: %s", what, xchan_strerror(err));
	else
		PyErr_SetString(cls, xchan_strerror(err));
	return NULL;
}

PyObject *
xpy_raise_arg_type(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	PyOS_vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	PyErr_SetString(xpy_bad_arg_type, buf);
	return NULL;
}

const char *
xpy_type_name(PyObject *o)
{
	return o == Py_None ? "None" : Py_TYPE(o)->tp_name;
}

PyObject *
xpy_raise_fmt(int32_t err, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	PyOS_vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return xpy_raise(err, buf);
}

/* The Python builtin a core error also is, so that `except TimeoutError`
 * and friends work as a Python user expects. */
static PyObject *
builtin_base(const char *name)
{
	static const struct {
		const char *name;
		PyObject **base;
	} map[] = {
	    {"EINVAL", &PyExc_ValueError},
	    {"ENOMEM", &PyExc_MemoryError},
	    {"ETIMEDOUT", &PyExc_TimeoutError},
	    {"ENIL", &PyExc_TypeError},
	    {"ETYPE", &PyExc_TypeError},
	    {"ESTATE", &PyExc_RuntimeError},
	    {"ESHUTDOWN", &PyExc_RuntimeError},
	    {"EFORK", &PyExc_RuntimeError},
	    {"EVERSION", &PyExc_ImportError},
	    {"ELOAD", &PyExc_ImportError},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].name, name) == 0)
			return *map[i].base;
	return NULL;
}

static int
make_errors(PyObject *m)
{
	xpy_error_base = PyErr_NewExceptionWithDoc("xchan.XchanError",
	    "Base class of every error the xchan core reports.\n\n"
	    "Each core error name (ECLOSED, ETIMEDOUT, ...) has a subclass of\n"
	    "this name in the xchan module; `code` and `name` identify it.",
	    NULL, NULL);
	if (xpy_error_base == NULL)
		return -1;
	if (PyObject_SetAttrString(xpy_error_base, "code", Py_None) < 0 ||
	    PyObject_SetAttrString(xpy_error_base, "name", Py_None) < 0)
		return -1;
	Py_INCREF(xpy_error_base);
	if (PyModule_AddObject(m, "XchanError", xpy_error_base) < 0)
		return -1;
	PyObject *all = PyDict_New();
	if (all == NULL)
		return -1;
	for (int32_t e = 1; e < XCHAN_ERR_COUNT_; e++) {
		const char *name = xchan_err_name(e);
		char qual[64];
		PyOS_snprintf(qual, sizeof qual, "xchan.%s", name);
		PyObject *builtin = builtin_base(name);
		PyObject *bases = builtin
		                      ? PyTuple_Pack(2, xpy_error_base, builtin)
		                      : PyTuple_Pack(1, xpy_error_base);
		if (bases == NULL)
			return -1;
		PyObject *dict = Py_BuildValue("{s:i,s:s,s:s}", "code", e,
		    "name", name, "__doc__", xchan_strerror(e));
		if (dict == NULL) {
			Py_DECREF(bases);
			return -1;
		}
		PyObject *cls = PyErr_NewException(qual, bases, dict);
		Py_DECREF(bases);
		Py_DECREF(dict);
		if (cls == NULL)
			return -1;
		g_errors[e] = cls;
		Py_INCREF(cls);
		if (PyModule_AddObject(m, name, cls) < 0)
			return -1;
		PyObject *code = PyLong_FromLong(e);
		if (code == NULL || PyDict_SetItem(all, code, cls) < 0) {
			Py_XDECREF(code);
			return -1;
		}
		Py_DECREF(code);
	}
	if (PyModule_AddObject(m, "_errors_by_code", all) < 0)
		return -1;
	/* EINVAL for an argument of the wrong type: also a TypeError. */
	PyObject *bases =
	    PyTuple_Pack(2, g_errors[XCHAN_EINVAL], PyExc_TypeError);
	PyObject *dict = Py_BuildValue("{s:s}", "__doc__",
	    "An argument of the wrong type (a channel that is not a Chan, an "
	    "alts op that is neither a Chan nor a (Chan, value) pair): the "
	    "core's EINVAL, also a TypeError.");
	if (bases == NULL || dict == NULL) {
		Py_XDECREF(bases);
		Py_XDECREF(dict);
		return -1;
	}
	xpy_bad_arg_type =
	    PyErr_NewException("xchan.InvalidArgumentType", bases, dict);
	Py_DECREF(bases);
	Py_DECREF(dict);
	if (xpy_bad_arg_type == NULL)
		return -1;
	Py_INCREF(xpy_bad_arg_type);
	return PyModule_AddObject(m, "InvalidArgumentType", xpy_bad_arg_type);
}

/* ---- module functions -------------------------------------------------- */
static PyObject *
mod_at_exit(PyObject *m, PyObject *unused)
{
	/* From here on, hooks on foreign threads keep out of Python. */
	atomic_store_explicit(&g_exiting, 1, memory_order_release);
	xchan_set_log_hook(NULL, NULL); /* late messages: stderr */
	if (xpy_runtime_id != 0)
		xchan_runtime_unregister(xpy_runtime_id);
	Py_RETURN_NONE;
}

static PyObject *
mod_strerror(PyObject *m, PyObject *arg)
{
	long e = PyLong_AsLong(arg);
	if (e == -1 && PyErr_Occurred())
		return NULL;
	return Py_BuildValue("(ss)", xchan_err_name((int32_t)e),
	    xchan_strerror((int32_t)e));
}

static PyObject *
mod_check_version(PyObject *m, PyObject *args)
{
	int number = XCHAN_VERSION_NUMBER;
	if (!PyArg_ParseTuple(args, "|i:check_version", &number))
		return NULL;
	int32_t rc = xchan_check_version(number);
	if (rc != XCHAN_OK)
		return xpy_raise_fmt(rc,
		    "the loaded core %s cannot serve version number %d",
		    xchan_version_string(), number);
	Py_RETURN_NONE;
}

static PyObject *
mod_random_seed(PyObject *m, PyObject *arg)
{
	unsigned long long seed = PyLong_AsUnsignedLongLongMask(arg);
	if (seed == (unsigned long long)-1 && PyErr_Occurred())
		return NULL;
	xchan_random_seed(seed);
	Py_RETURN_NONE;
}

/* Set once xchan.shutdown() succeeded (GIL).  The core has no query for
 * "shut down", so a shutdown made by C code is not seen here: xchan.go,
 * which needs no core executor, then still starts. */
static int g_shut_down;

static PyObject *
mod_shutdown(PyObject *m, PyObject *unused)
{
	/* As the core refuses on its own threads (it would wait for itself):
	 * on a thread running an asyncio loop, the loop's tasks (xchan.go
	 * tasks, awaiting code) may be what the core's tasks wait for, and
	 * the loop cannot turn while this call blocks. */
	if (xpy_loop_running())
		return xpy_raise(XCHAN_ESTATE,
		    "shutdown() blocks until the core's threads are joined, "
		    "so not on a thread running an asyncio loop (its tasks may "
		    "be what they wait for): call it once the loop has ended, "
		    "or from another thread (loop.run_in_executor)");
	/* Inside a go on the dispatch executor it would wait for the very
	 * executor whose thread it holds. */
	if (xpy_in_dispatch_go())
		return xpy_raise(XCHAN_ESTATE,
		    "shutdown() blocks until the core's threads are joined, "
		    "so not inside a go (it holds a dispatch thread): call it "
		    "from a thread outside the go");
	/* Joins the core's threads, whose hooks take the GIL: release it. */
	PyThreadState *ts = PyEval_SaveThread();
	int32_t rc = xchan_shutdown();
	PyEval_RestoreThread(ts);
	if (rc != XCHAN_OK)
		return xpy_raise(rc, "shutdown");
	g_shut_down = 1;
	Py_RETURN_NONE;
}

static PyObject *
mod_is_shut_down(PyObject *m, PyObject *unused)
{
	return PyBool_FromLong(g_shut_down);
}

static PyObject *
mod_in_go(PyObject *m, PyObject *unused)
{
	return PyBool_FromLong(xchan_in_go() || xpy_in_dispatch_go());
}

static PyMethodDef module_methods[] = {
    {"in_go", mod_in_go, METH_NOARGS,
        "in_go() -> bool: True inside a go task of the core's dispatch "
        "executor: a C go task (e.g. xchan.native.go) or the body of an "
        "xchan.go started where no asyncio loop runs (xchan.go's asyncio "
        "tasks are not).  Callbacks and notifiers never run inside one."},
    {"check_version", mod_check_version, METH_VARARGS,
        "check_version(number=this binding's) -> None; raises EVERSION "
        "unless the loaded core can serve a program built for `number`."},
    {"random_seed", mod_random_seed, METH_O,
        "random_seed(seed): seeds the calling thread's generator of alts' "
        "order (for tests: the same seed gives the same choices)."},
    {"shutdown", mod_shutdown, METH_NOARGS,
        "shutdown(): stops the core's executors and timer and completes "
        "what still waits with ESHUTDOWN; new tasks (thread, io_thread, "
        "go, native), execute, timeouts and deadlines then raise "
        "ESHUTDOWN.  Raises ESTATE on an xchan thread and on a thread "
        "running an asyncio loop (inside a coroutine)."},
    {"_is_shut_down", mod_is_shut_down, METH_NOARGS,
        "True once xchan.shutdown() succeeded."},
    {"_at_exit", mod_at_exit, METH_NOARGS,
        "Called by atexit: stop calling into Python from foreign threads."},
    {"_strerror", mod_strerror, METH_O,
        "(name, message) of a core error code."},
    {NULL}};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "xchan._xchan",
    .m_doc = "The native part of xchan (see the xchan package).",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
check_version(void)
{
	int32_t rc = xchan_check_version(XCHAN_VERSION_NUMBER);
	if (rc != XCHAN_OK) {
		PyErr_Format(PyExc_ImportError,
		    "xchan: the loaded core is version %s but the binding was "
		    "built for %d.%d.%d",
		    xchan_version_string(), XCHAN_VERSION_MAJOR,
		    XCHAN_VERSION_MINOR, XCHAN_VERSION_PATCH);
		return -1;
	}
	return 0;
}

PyMODINIT_FUNC
PyInit__xchan(void)
{
	if (check_version() < 0)
		return NULL;
	init_core();
	xchan_set_log_hook(log_hook, NULL);
	PyObject *m = PyModule_Create(&module_def);
	if (m == NULL)
		return NULL;
	static const xchan_runtime rt = {
	    .size = sizeof(xchan_runtime),
	    .name = "cpython",
	    .retain = rt_retain,
	    .release = rt_release,
	};
	int32_t rc = xchan_runtime_register(&xpy_runtime_id, &rt);
	if (rc != XCHAN_OK) {
		xpy_raise(rc, "cannot register the Python runtime with xchan");
		goto fail;
	}
	if (make_errors(m) < 0 || xpy_values_init(m) < 0 ||
	    xpy_chan_init(m) < 0 || xpy_aio_init(m) < 0 || xpy_op_init(m) < 0 ||
	    xpy_alts_init(m) < 0 || xpy_tasks_init(m) < 0 ||
	    xpy_xform_init(m) < 0 || xpy_comb_init(m) < 0 ||
	    xpy_native_init(m) < 0 || xpy_cancel_init(m) < 0 ||
	    xpy_go_init(m) < 0)
		goto fail;
	PyObject *cap =
	    PyCapsule_New((void *)xchan_get_api(), "xchan._C_API", NULL);
	if (cap == NULL || PyModule_AddObject(m, "_C_API", cap) < 0)
		goto fail;
	if (PyModule_AddStringConstant(m, "core_version",
	        xchan_version_string()) < 0 ||
	    PyModule_AddIntConstant(m, "runtime_id", xpy_runtime_id) < 0 ||
	    PyModule_AddIntConstant(m, "VERSION_NUMBER", XCHAN_VERSION_NUMBER) <
	        0)
		goto fail;
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
