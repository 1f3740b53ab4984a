/*
 * xchan_cross.c — a third-party CPython extension that shares channels with
 * the xchan binding through its function table (the capsule xchan._C_API),
 * never linking the core itself.  Built by bindings/python's test suite.
 *
 *   start_producers(chan_capsule, n, threads, close) -> handle
 *       `threads` pthreads each put n ints (thread t puts t*n .. t*n+n-1)
 *       with blocking puts; when all are done, the channel is closed if
 *       `close`.
 *   start_consumers(chan_capsule, threads) -> handle
 *       pthreads take until the channel is closed; they count ints (and sum
 *       them), strings (and their UTF-8 bytes), other kinds, and values that
 *       gave ETYPE when read as int (host objects, e.g. big Python ints).
 *   join(handle) -> (ints, int_sum, strings, string_bytes, others)
 *       waits (GIL released) for the threads of `handle`.
 *   put_samples(chan_capsule) -> None
 *       puts one value of each kind C can make: int, double, bool, string,
 *       bytes, an array [1, "two"] and a nested channel.
 *   put_box(chan_capsule, tag, timeout_ms=-1) -> None
 *       puts a BOX: a malloc'd copy of `tag` whose destructor frees it and
 *       counts (boxes_freed()).  Python takes it as an xchan.Box.
 *   box_tag(address) -> str
 *       the tag of a box this extension made (Box.address).
 *   put_foreign(chan_capsule, tag, timeout_ms=-1) -> None
 *       puts a HOST value of this extension's own runtime ("xchan_cross",
 *       registered on first use): Python taking it gets xchan.ERUNTIME.
 *       Its release hook counts (foreign_released()).
 *   boxes_freed() -> int, foreign_released() -> int
 *
 * Concurrency: each handle's counters are written only by its own threads
 * with atomics; join reads them after pthread_join.  The box and foreign
 * counters are atomics (destructors and release hooks run on any thread);
 * the runtime id is set once under the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"

static const xchan_api *api;

#define MAX_THREADS 64

typedef struct job {
	xchan_chan *ch;
	int threads;
	int64_t n;
	int close;
	pthread_t tid[MAX_THREADS];
	pthread_t closer;
	int has_closer;
	atomic_int_fast64_t ints, int_sum, strings, string_bytes, others;
	atomic_int next_index;
} job;

static void *
producer(void *arg)
{
	job *j = arg;
	int64_t t = atomic_fetch_add(&j->next_index, 1);
	for (int64_t i = 0; i < j->n; i++) {
		if (api->put(j->ch, api->val_int(t * j->n + i),
		        XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			break; /* closed */
	}
	return NULL;
}

static void *
closer(void *arg)
{
	job *j = arg;
	for (int i = 0; i < j->threads; i++)
		pthread_join(j->tid[i], NULL);
	if (j->close)
		api->chan_close(j->ch);
	return NULL;
}

static void *
consumer(void *arg)
{
	job *j = arg;
	for (;;) {
		xchan_val v;
		if (api->take(&v, j->ch, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			break; /* closed and drained */
		int64_t i;
		const char *s;
		size_t len;
		if (api->get_int(v, &i) == XCHAN_OK) {
			atomic_fetch_add(&j->ints, 1);
			atomic_fetch_add(&j->int_sum, i);
		} else if (api->get_string(v, &s, &len) == XCHAN_OK) {
			atomic_fetch_add(&j->strings, 1);
			atomic_fetch_add(&j->string_bytes, (int64_t)len);
		} else {
			atomic_fetch_add(&j->others, 1);
		}
		api->val_release(v); /* any thread may drop any value */
	}
	return NULL;
}

static xchan_chan *
chan_of(PyObject *cap)
{
	xchan_chan *ch = PyCapsule_GetPointer(cap, "xchan.chan");
	return ch ? api->chan_retain(ch) : NULL;
}

static void
job_free(PyObject *cap)
{
	job *j = PyCapsule_GetPointer(cap, "xchan_cross.job");
	if (j == NULL)
		return;
	api->chan_release(j->ch);
	free(j);
}

static PyObject *
start(PyObject *cap, int threads, int64_t n, int close, void *(*fn)(void *))
{
	if (threads < 1 || threads > MAX_THREADS) {
		PyErr_SetString(PyExc_ValueError, "threads must be 1..64");
		return NULL;
	}
	xchan_chan *ch = chan_of(cap);
	if (ch == NULL)
		return NULL;
	job *j = calloc(1, sizeof *j);
	if (j == NULL) {
		api->chan_release(ch);
		return PyErr_NoMemory();
	}
	j->ch = ch;
	j->threads = threads;
	j->n = n;
	j->close = close;
	PyObject *h = PyCapsule_New(j, "xchan_cross.job", job_free);
	if (h == NULL) {
		api->chan_release(ch);
		free(j);
		return NULL;
	}
	for (int i = 0; i < threads; i++)
		pthread_create(&j->tid[i], NULL, fn, j);
	if (fn == producer) {
		pthread_create(&j->closer, NULL, closer, j);
		j->has_closer = 1;
	}
	return h;
}

static PyObject *
start_producers(PyObject *m, PyObject *args)
{
	PyObject *cap;
	long long n;
	int threads, close = 1;
	if (!PyArg_ParseTuple(args, "OLi|p", &cap, &n, &threads, &close))
		return NULL;
	return start(cap, threads, n, close, producer);
}

static PyObject *
start_consumers(PyObject *m, PyObject *args)
{
	PyObject *cap;
	int threads;
	if (!PyArg_ParseTuple(args, "Oi", &cap, &threads))
		return NULL;
	return start(cap, threads, 0, 0, consumer);
}

static PyObject *
join(PyObject *m, PyObject *h)
{
	job *j = PyCapsule_GetPointer(h, "xchan_cross.job");
	if (j == NULL)
		return NULL;
	Py_BEGIN_ALLOW_THREADS if (j->has_closer)
	{
		pthread_join(j->closer, NULL);
	}
	else
	{
		for (int i = 0; i < j->threads; i++)
			pthread_join(j->tid[i], NULL);
	}
	Py_END_ALLOW_THREADS j->threads = 0;
	j->has_closer = 0;
	return Py_BuildValue("(LLLLL)", (long long)j->ints,
	    (long long)j->int_sum, (long long)j->strings,
	    (long long)j->string_bytes, (long long)j->others);
}

static PyObject *
put_samples(PyObject *m, PyObject *cap)
{
	xchan_chan *ch = chan_of(cap);
	if (ch == NULL)
		return NULL;
	xchan_val vals[7], items[2];
	vals[0] = api->val_int(-7);
	vals[1] = api->val_double(2.5);
	vals[2] = api->val_bool(1);
	api->val_string(&vals[3], "héllo", strlen("héllo"));
	api->val_bytes(&vals[4], "\0b", 2);
	items[0] = api->val_int(1);
	api->val_string(&items[1], "two", 3);
	api->val_array(&vals[5], items, 2);
	api->val_chan(&vals[6], ch);
	int32_t rc = XCHAN_OK;
	Py_BEGIN_ALLOW_THREADS for (int i = 0; i < 7; i++)
	{
		if (rc == XCHAN_OK)
			rc = api->put(ch, vals[i], XCHAN_DEADLINE_NEVER);
		if (rc != XCHAN_OK)
			api->val_release(vals[i]);
	}
	Py_END_ALLOW_THREADS api->chan_release(ch);
	if (rc != XCHAN_OK) {
		PyErr_Format(PyExc_RuntimeError, "put failed: %s",
		    api->err_name(rc));
		return NULL;
	}
	Py_RETURN_NONE;
}

/* ---- boxes and foreign host values ------------------------------------- */
static atomic_long boxes_freed_n, foreign_released_n;
static uint32_t foreign_rt;

static void
box_dtor(void *p)
{
	free(p);
	atomic_fetch_add(&boxes_freed_n, 1);
}

static void
foreign_release(void *user, void *obj)
{
	free(obj);
	atomic_fetch_add(&foreign_released_n, 1);
}

/* Puts `v` (consumed) with a deadline of timeout_ms (< 0: none). */
static PyObject *
put_val(PyObject *cap, xchan_val v, long long timeout_ms)
{
	xchan_chan *ch = chan_of(cap);
	if (ch == NULL) {
		api->val_release(v);
		return NULL;
	}
	xchan_deadline dl = timeout_ms < 0 ? XCHAN_DEADLINE_NEVER
	                                   : api->deadline_in_ms(timeout_ms);
	int32_t rc;
	Py_BEGIN_ALLOW_THREADS rc = api->put(ch, v, dl);
	Py_END_ALLOW_THREADS api->chan_release(ch);
	if (rc != XCHAN_OK) {
		api->val_release(v);
		PyErr_Format(PyExc_RuntimeError, "put failed: %s",
		    api->err_name(rc));
		return NULL;
	}
	Py_RETURN_NONE;
}

/* The (chan_capsule, tag, timeout_ms=-1) arguments of put_box and
 * put_foreign: returns a malloc'd copy of tag (the value's payload), or
 * NULL with an exception. */
static char *
tag_args(PyObject *args, PyObject **cap, long long *timeout_ms)
{
	const char *tag;
	*timeout_ms = -1;
	if (!PyArg_ParseTuple(args, "Os|L", cap, &tag, timeout_ms))
		return NULL;
	char *p = strdup(tag);
	if (p == NULL)
		PyErr_NoMemory();
	return p;
}

static PyObject *
put_box(PyObject *m, PyObject *args)
{
	PyObject *cap;
	long long timeout_ms;
	char *p = tag_args(args, &cap, &timeout_ms);
	if (p == NULL)
		return NULL;
	xchan_val v;
	if (api->val_box(&v, p, box_dtor) != XCHAN_OK) {
		free(p);
		return PyErr_NoMemory();
	}
	return put_val(cap, v, timeout_ms);
}

static PyObject *
box_tag(PyObject *m, PyObject *addr)
{
	void *p = PyLong_AsVoidPtr(addr);
	if (p == NULL) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_ValueError, "a NULL box");
		return NULL;
	}
	return PyUnicode_FromString(p);
}

static PyObject *
put_foreign(PyObject *m, PyObject *args)
{
	PyObject *cap;
	long long timeout_ms;
	char *p = tag_args(args, &cap, &timeout_ms);
	if (p == NULL)
		return NULL;
	if (foreign_rt == 0) {
		static const xchan_runtime rt = {
		    .size = sizeof(xchan_runtime),
		    .name = "xchan_cross",
		    .release = foreign_release,
		};
		int32_t rc = api->runtime_register(&foreign_rt, &rt);
		if (rc != XCHAN_OK) {
			free(p);
			PyErr_Format(PyExc_RuntimeError,
			    "runtime_register failed: %s", api->err_name(rc));
			return NULL;
		}
	}
	xchan_val v;
	int32_t rc = api->val_host(&v, foreign_rt, p); /* takes p over */
	if (rc != XCHAN_OK) {
		PyErr_Format(PyExc_RuntimeError, "val_host failed: %s",
		    api->err_name(rc));
		return NULL;
	}
	return put_val(cap, v, timeout_ms);
}

static PyObject *
boxes_freed(PyObject *m, PyObject *unused)
{
	return PyLong_FromLong(atomic_load(&boxes_freed_n));
}

static PyObject *
foreign_released(PyObject *m, PyObject *unused)
{
	return PyLong_FromLong(atomic_load(&foreign_released_n));
}

static PyMethodDef methods[] = {{"put_box", put_box, METH_VARARGS, NULL},
    {"box_tag", box_tag, METH_O, NULL},
    {"put_foreign", put_foreign, METH_VARARGS, NULL},
    {"boxes_freed", boxes_freed, METH_NOARGS, NULL},
    {"foreign_released", foreign_released, METH_NOARGS, NULL},
    {"start_producers", start_producers, METH_VARARGS, NULL},
    {"start_consumers", start_consumers, METH_VARARGS, NULL},
    {"join", join, METH_O, NULL}, {"put_samples", put_samples, METH_O, NULL},
    {NULL}};

static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "xchan_cross", NULL, -1,
    methods};

PyMODINIT_FUNC
PyInit_xchan_cross(void)
{
	api = PyCapsule_Import("xchan._C_API", 0);
	if (api == NULL)
		return NULL;
	if (!XCHAN_API_HAS(api, chan_close) ||
	    api->check_version(XCHAN_VERSION_NUMBER) != XCHAN_OK) {
		PyErr_Format(PyExc_ImportError,
		    "xchan_cross: the loaded xchan core (%d) does not fit the "
		    "headers it was built with (%d)",
		    (int)api->version, XCHAN_VERSION_NUMBER);
		return NULL;
	}
	return PyModule_Create(&def);
}
