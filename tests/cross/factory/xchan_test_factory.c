/*
 * xchan_test_factory.c — an executor factory for XCHAN_EXECUTOR_FACTORY,
 * shared by the tests of every language (libxchan_test_factory.so).
 *
 *   XCHAN_EXECUTOR_FACTORY=/path/libxchan_test_factory.so:xchan_test_factory
 *
 * It gives MIXED, IO and COMPUTE an executor of its own and returns NULL for
 * DISPATCH (so dispatch falls back to what MIXED resolves to, as the core
 * documents).  Its behaviour is chosen by the environment (SERIAL is read
 * when an executor is made, LOG at every execute):
 *   XCHAN_TEST_FACTORY_LOG=path  each execute appends "<workload>\n" to the
 *                                file (O_APPEND, one write per line), so a
 *                                test in any language counts the tasks the
 *                                factory ran;
 *   XCHAN_TEST_FACTORY_SERIAL=1  each workload's executor is ONE thread
 *                                running tasks in FIFO order (default: a new
 *                                thread per task);
 * and its threads are named "xtf-<workload>" so a test can see where a body
 * runs.  A second symbol, xchan_test_factory_defaults, returns NULL for
 * every workload: a factory is installed, but every executor is the
 * core's own default (its cached MIXED and IO pools, which xchan_shutdown
 * joins).
 *
 * Like every library loaded into a binding's process, it does not link
 * libxchan: a core linked statically into a binding is invisible to dlsym,
 * so the core hands an environment-named factory its function table as
 * `user` (xchan.h, xchan_set_executor_factory) and every call goes through
 * that table.
 *
 * Locks: each serial executor has one mutex guarding its queue (a leaf; no
 * xchan call is made under it).  Executors live until the process ends (the
 * core calls close at shutdown, which stops the serial thread after the
 * tasks already queued).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setname_np */
#endif
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xchan/xchan_ext.h"

#define TF_EXPORT __attribute__((visibility("default")))

typedef struct tf_task {
	xchan_task_fn fn;
	void *arg;
	struct tf_task *next;
} tf_task;

typedef struct tf_exec {
	const char *name; /* the workload's name */
	int serial;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	tf_task *head, *tail;
	int closed;
	int started;
} tf_exec;

static const char *
workload_name(uint32_t w)
{
	switch (w) {
	case XCHAN_WORKLOAD_MIXED:
		return "mixed";
	case XCHAN_WORKLOAD_IO:
		return "io";
	case XCHAN_WORKLOAD_COMPUTE:
		return "compute";
	default:
		return NULL;
	}
}

static void
log_execute(const tf_exec *x)
{
	const char *path = getenv("XCHAN_TEST_FACTORY_LOG");
	if (path == NULL || *path == 0)
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	char line[32];
	int n = snprintf(line, sizeof line, "%s\n", x->name);
	/* One write: lines of concurrent tasks never interleave. */
	if (write(fd, line, (size_t)n) != n)
		perror("xchan_test_factory: log");
	close(fd);
}

static void
name_thread(const tf_exec *x)
{
	char name[16];
	snprintf(name, sizeof name, "xtf-%s", x->name);
	pthread_setname_np(pthread_self(), name);
}

/* ---- a new thread per task ---- */

typedef struct {
	tf_exec *x;
	xchan_task_fn fn;
	void *arg;
} tf_one;

static void *
run_one(void *p)
{
	tf_one one = *(tf_one *)p;
	free(p);
	name_thread(one.x);
	one.fn(one.arg);
	return NULL;
}

/* ---- one thread, FIFO ---- */

static void *
run_serial(void *p)
{
	tf_exec *x = p;
	name_thread(x);
	pthread_mutex_lock(&x->lock);
	for (;;) {
		while (x->head == NULL && !x->closed)
			pthread_cond_wait(&x->cv, &x->lock);
		tf_task *t = x->head;
		if (t == NULL)
			break; /* closed and drained */
		x->head = t->next;
		if (x->head == NULL)
			x->tail = NULL;
		pthread_mutex_unlock(&x->lock);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&x->lock);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

static int32_t
start_thread(void *(*body)(void *), void *arg)
{
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &at, body, arg);
	pthread_attr_destroy(&at);
	return rc == 0 ? XCHAN_OK : XCHAN_ENOMEM;
}

static int32_t
tf_execute(void *self, xchan_task_fn fn, void *arg)
{
	tf_exec *x = self;
	if (!x->serial) {
		tf_one *one = malloc(sizeof *one);
		if (one == NULL)
			return XCHAN_ENOMEM;
		*one = (tf_one) {x, fn, arg};
		/* Logged before the task can run: whoever sees its effect
		 * also sees its line. */
		log_execute(x);
		int32_t rc = start_thread(run_one, one);
		if (rc != XCHAN_OK)
			free(one);
		return rc;
	}
	tf_task *t = malloc(sizeof *t);
	if (t == NULL)
		return XCHAN_ENOMEM;
	*t = (tf_task) {fn, arg, NULL};
	log_execute(x);
	pthread_mutex_lock(&x->lock);
	if (x->closed) {
		pthread_mutex_unlock(&x->lock);
		free(t);
		return XCHAN_ESHUTDOWN;
	}
	if (!x->started) {
		if (start_thread(run_serial, x) != XCHAN_OK) {
			pthread_mutex_unlock(&x->lock);
			free(t);
			return XCHAN_ENOMEM;
		}
		x->started = 1;
	}
	if (x->tail)
		x->tail->next = t;
	else
		x->head = t;
	x->tail = t;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->lock);
	return XCHAN_OK;
}

static void
tf_close(void *self)
{
	tf_exec *x = self;
	pthread_mutex_lock(&x->lock);
	x->closed = 1;
	pthread_cond_broadcast(&x->cv);
	pthread_mutex_unlock(&x->lock);
}

static const xchan_executor_vtbl tf_vtbl = {
    .size = sizeof(xchan_executor_vtbl),
    .execute = tf_execute,
    .close = tf_close,
};

/* The factory: `user` is the core's function table (the core passes it to
 * a factory named by XCHAN_EXECUTOR_FACTORY). */
TF_EXPORT xchan_executor *
xchan_test_factory(void *user, uint32_t workload)
{
	const xchan_api *api = user;
	const char *name = workload_name(workload);
	if (name == NULL || !XCHAN_API_HAS(api, executor_new))
		return NULL; /* DISPATCH (falls back to MIXED), or unknown */
	tf_exec *x = calloc(1, sizeof *x);
	if (x == NULL)
		return NULL;
	x->name = name;
	const char *serial = getenv("XCHAN_TEST_FACTORY_SERIAL");
	x->serial = serial != NULL && strcmp(serial, "1") == 0;
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cv, NULL);
	xchan_executor *ex = NULL;
	if (api->executor_new(&ex, &tf_vtbl, x) != XCHAN_OK) {
		free(x);
		return NULL;
	}
	return ex;
}

/* Every workload to the core's defaults (see the top of the file). */
TF_EXPORT xchan_executor *
xchan_test_factory_defaults(void *user, uint32_t workload)
{
	(void)user;
	(void)workload;
	return NULL;
}
