/*
 * admission.c — pool jobs admitted by the core's executors (by proxy).
 *
 * Why.  XCHAN_EXECUTOR_FACTORY names a C factory for the core's executors.
 * JS runs only on JS threads, so a C executor cannot run a JS job itself;
 * when the variable is set, lib/pool.js runs each thread/ioThread/execute/
 * go(file) job on a worker pool but lets the core's executor for its
 * workload ADMIT it: the job is an xchan_execute on that executor, and the
 * task (on the executor's thread) starts the job with a JS call posted to
 * the env that owns the pool (xn_jscall_post), then, for MIXED, IO and
 * COMPUTE, holds the executor's thread until the job ends.  So the C
 * executor's concurrency, queueing and threads govern the job as they
 * would govern a C task.  A DISPATCH job (a go body: it parks, it holds no
 * thread) releases the thread once its start call has run.
 *
 * JS side (per env):
 *   setAdmissionStarter(fn)       fn(id, dropped) starts admitted job `id`
 *                                 (dropped: fails it, ESHUTDOWN)
 *   coreExecutorCheck(workload)   throws what xchan_executor_for answers
 *                                 (ELOAD naming XCHAN_EXECUTOR_FACTORY)
 *   admit(workload, holdUntilEnd, id)
 *                                 xchan_execute of the proxy task; throws
 *                                 the executor's refusal
 *   admissionEnd(id)              job `id` ended: its executor thread is free
 *   admissionReleaseAll()         before xchan_shutdown and at process
 *                                 exit: every thread held for this env's
 *                                 jobs is let go (the jobs' ends need this
 *                                 very thread, which will be blocked in the
 *                                 shutdown's join)
 *   admissionFailDropped()        after xchan_shutdown returned: the jobs of
 *                                 every env whose proxy task never ran (the
 *                                 core drops what is still queued after its
 *                                 drain) are started as dropped: the starter
 *                                 fails them with ESHUTDOWN
 *
 * Objects.  One `admission` per admitted job, reference-counted (atomic):
 * one reference for the proxy task, one for the env's list of jobs not yet
 * ended, one for the posted start call (dropped in its `done`, which runs
 * once whether it ran or was abandoned).  Its gate (lock, cv, open) is
 * what the proxy task waits on; opening is idempotent.  One `adm_env` per
 * env, touched only on that env's JS thread: the list, the starter.
 *
 * Queued jobs.  Until its proxy task runs, an admission is also on the
 * process-wide `g_queued` list (no reference of its own: the task's
 * reference keeps it alive while it is listed).  The proxy task takes it
 * off and marks it started; admissionFailDropped, after xchan_shutdown,
 * takes off the rest and marks them dropped (the core never runs a task
 * still queued once its drain is over, and a user executor may run it
 * late: then the task sees `dropped` and only lets go of its reference),
 * and posts their start calls, whose starter fails the job (ESHUTDOWN):
 * so the job's result Chan closes and its env's loop, kept alive until the
 * job starts, can end.  The task's reference of a dropped admission the
 * executor never runs is not returned (a few bytes per job dropped at
 * shutdown).
 *
 * Locks.  admission.lock guards `open` only; a leaf lock (nothing is taken
 * or called under it but the condition variable).  g_queued_lock guards
 * the g_queued list and each listed admission's `state`; a leaf lock too
 * (the start calls are posted after it is dropped).  The per-env list
 * needs no lock: it is touched only on the env's JS thread (admit, the
 * start call's run, admissionEnd, admissionReleaseAll, the env cleanup
 * hook).
 *
 * Teardown.  This file's env cleanup hook is registered after env.c's, so
 * it runs first (Node runs them in reverse order): it opens every gate of
 * the env's list (no proxy task waits on a dead env) and frees the adm_env.
 * Then env.c closes the call queue and abandons the start calls still
 * queued; their `done` opens the gate (the task returns) and touches only
 * the admission, never the freed adm_env.  A start call runs only while
 * the env lives, so `run` may read the adm_env.
 *
 * Limits (as for any JS call of another thread, jscall.c): an env whose
 * JS thread is busy in long JS starts its admitted jobs late; one blocked
 * outside the addon's waits (Atomics.wait) does not start them until it
 * returns.  A job that blocks on another job admitted by a one-thread
 * executor that it itself holds deadlocks, as a C task would.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addon.h"
#include "args.h"

typedef struct adm_env adm_env;

enum { ADM_QUEUED, ADM_STARTED, ADM_DROPPED }; /* under g_queued_lock */

typedef struct admission {
	xn_jscall call; /* first: the posted start call */
	atomic_int refs;
	int state;                       /* ADM_*, under g_queued_lock */
	struct admission *qprev, *qnext; /* g_queued, while ADM_QUEUED */
	pthread_mutex_t lock;            /* guards open */
	pthread_cond_t cv;
	bool open;              /* the gate: the proxy task may return */
	bool hold_until_end;    /* MIXED/IO/COMPUTE: the job holds the thread */
	double id;              /* the JS side's job id */
	xenv *e;                /* retained: the env that starts the job */
	adm_env *owner;         /* JS thread only, while e lives */
	struct admission *next; /* owner's list, JS thread only */
} admission;

struct adm_env {
	xenv *e;
	napi_ref starter; /* fn(id, dropped) */
	admission *list;  /* admitted, not ended */
};

/* Admissions whose proxy task has not run yet, of every env. */
static pthread_mutex_t g_queued_lock = PTHREAD_MUTEX_INITIALIZER;
static admission *g_queued;

/* Under g_queued_lock. */
static void
queued_unlink(admission *a)
{
	if (a->qprev != NULL)
		a->qprev->qnext = a->qnext;
	else
		g_queued = a->qnext;
	if (a->qnext != NULL)
		a->qnext->qprev = a->qprev;
	a->qprev = a->qnext = NULL;
}

static void
queued_add(admission *a)
{
	pthread_mutex_lock(&g_queued_lock);
	a->state = ADM_QUEUED;
	a->qprev = NULL;
	a->qnext = g_queued;
	if (g_queued != NULL)
		g_queued->qprev = a;
	g_queued = a;
	pthread_mutex_unlock(&g_queued_lock);
}

/* Takes a off g_queued with `state`; false if it was off already (its
 * task ran, or it was dropped). */
static bool
queued_take(admission *a, int state)
{
	pthread_mutex_lock(&g_queued_lock);
	bool was = a->state == ADM_QUEUED;
	if (was) {
		queued_unlink(a);
		a->state = state;
	}
	pthread_mutex_unlock(&g_queued_lock);
	return was;
}

static void
adm_release(admission *a)
{
	if (atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_cond_destroy(&a->cv);
	pthread_mutex_destroy(&a->lock);
	xenv_release(a->e);
	free(a);
}

static void
gate_open(admission *a)
{
	pthread_mutex_lock(&a->lock);
	a->open = true;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->lock);
}

/* Unlinks a from its owner's list and drops the list's reference (JS
 * thread); false if it was not there (ended already). */
static bool
list_remove(adm_env *s, admission *a)
{
	for (admission **p = &s->list; *p != NULL; p = &(*p)->next) {
		if (*p == a) {
			*p = a->next;
			gate_open(a);
			adm_release(a);
			return true;
		}
	}
	return false;
}

static void
release_all(adm_env *s)
{
	while (s->list != NULL)
		list_remove(s, s->list);
}

/* ---- the start call (the env's JS thread) ------------------------------- */

static void
run_start(napi_env env, xenv *e, xn_jscall *c)
{
	admission *a = (admission *)c;
	adm_env *s = a->owner;
	xn_pending_dec(e); /* the job now keeps the loop alive itself */
	napi_value fn = NULL, undef, argv[2], result;
	bool called = false;
	if (s->starter != NULL &&
	    napi_get_reference_value(env, s->starter, &fn) == napi_ok &&
	    fn != NULL) {
		bool dropped;
		pthread_mutex_lock(&g_queued_lock);
		dropped = a->state == ADM_DROPPED;
		pthread_mutex_unlock(&g_queued_lock);
		napi_get_undefined(env, &undef);
		napi_create_double(env, a->id, &argv[0]);
		napi_get_boolean(env, dropped, &argv[1]);
		called = napi_call_function(env, undef, fn, 2, argv, &result) ==
		         napi_ok;
	}
	if (!called) {
		/* No starter, or it threw (it catches its own errors): the job
		 * will never end, so it must not hold the thread. */
		xn_report_uncaught(env);
		list_remove(s, a);
	}
}

/* Once, after run_start ran or when the env abandoned the call (then
 * a->owner may be gone: not touched). */
static void
start_done(xn_jscall *c, bool ran)
{
	admission *a = (admission *)c;
	if (!ran || !a->hold_until_end)
		gate_open(a);
	adm_release(a);
}

/* ---- the proxy task (the core executor's thread) ------------------------ */

static void
proxy_task(void *arg)
{
	admission *a = arg;
	if (!queued_take(a, ADM_STARTED)) {
		/* Dropped at shutdown: its start call was posted for it. */
		adm_release(a);
		return;
	}
	if (xn_jscall_post(a->e, &a->call) != XCHAN_OK) {
		/* The env is gone: nothing to start; `done` never runs. */
		adm_release(a);
	} else {
		pthread_mutex_lock(&a->lock);
		while (!a->open)
			pthread_cond_wait(&a->cv, &a->lock);
		pthread_mutex_unlock(&a->lock);
	}
	adm_release(a);
}

/* ---- JS functions -------------------------------------------------------- */

static const char *const workload_names[] = {"dispatch", "mixed", "io",
    "compute"};

/* Why the factory XCHAN_EXECUTOR_FACTORY names cannot be loaded, as the
 * core found it (it logs the loader's text once; the error every lookup
 * returns has only the code). */
static void
describe_unloadable(char *buf, size_t size, uint32_t workload)
{
	const char *spec = getenv("XCHAN_EXECUTOR_FACTORY");
	const char *colon = spec != NULL ? strrchr(spec, ':') : NULL;
	char why[768];
	if (spec == NULL || colon == NULL || colon == spec || colon[1] == 0) {
		snprintf(why, sizeof why, "it must be \"library:symbol\"");
	} else {
		char lib[512];
		size_t n = (size_t)(colon - spec);
		if (n >= sizeof lib)
			n = sizeof lib - 1;
		memcpy(lib, spec, n);
		lib[n] = 0;
		/* Loaded already (then the symbol is what failed)?  NOLOAD
		 * loads nothing and runs no code of the library. */
		void *h = dlopen(lib, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
		if (h != NULL) {
			dlerror();
			const char *err =
			    dlsym(h, colon + 1) == NULL ? dlerror() : NULL;
			snprintf(why, sizeof why,
			    "library \"%s\" has no symbol "
			    "\"%s\"%s%s",
			    lib, colon + 1, err ? ": " : "", err ? err : "");
			dlclose(h); /* NOLOAD's own reference */
		} else {
			snprintf(why, sizeof why,
			    "library \"%s\" cannot be loaded%s", lib,
			    access(lib, F_OK) != 0 && strchr(lib, '/') != NULL
			        ? " (no such file)"
			        : "");
		}
	}
	snprintf(buf, size,
	    "XCHAN_EXECUTOR_FACTORY=\"%s\" names an executor factory that "
	    "cannot be loaded: %s; no executor for the '%s' workload",
	    spec != NULL ? spec : "", why, workload_names[workload]);
}

/* The core's executor for the workload in argv (a number 0..3), or NULL
 * after throwing what xchan_executor_for answered. */
static xchan_executor *
core_executor(napi_env env, napi_value v, uint32_t *workload)
{
	if (napi_get_value_uint32(env, v, workload) != napi_ok ||
	    *workload > XCHAN_WORKLOAD_COMPUTE) {
		xn_throw(env, XCHAN_EINVAL, "admission: workload is 0..3");
		return NULL;
	}
	xchan_executor *ex = NULL;
	int32_t rc = xchan_executor_for(&ex, *workload);
	if (rc == XCHAN_OK)
		return ex;
	char msg[1536];
	if (rc == XCHAN_ELOAD)
		describe_unloadable(msg, sizeof msg, *workload);
	else
		snprintf(msg, sizeof msg,
		    "the core's executor for the '%s' workload: %s",
		    workload_names[*workload], xchan_strerror(rc));
	xn_throw(env, rc, msg);
	return NULL;
}

static adm_env *
state_of(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv)
{
	void *data = NULL;
	if (napi_get_cb_info(env, info, argc, argv, NULL, &data) != napi_ok) {
		xn_throw_last(env);
		return NULL;
	}
	return data;
}

static napi_value
js_set_starter(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value fn;
	adm_env *s = state_of(env, info, &argc, &fn);
	if (s == NULL)
		return NULL;
	napi_valuetype t = napi_undefined;
	if (argc >= 1)
		napi_typeof(env, fn, &t);
	if (t != napi_function) {
		xn_throw(env, XCHAN_EINVAL, "setAdmissionStarter(fn)");
		return NULL;
	}
	if (s->starter != NULL)
		napi_delete_reference(env, s->starter);
	s->starter = NULL;
	NAPI_CALL(env, napi_create_reference(env, fn, 1, &s->starter));
	return xn_undefined(env);
}

static napi_value
js_check(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value v;
	if (state_of(env, info, &argc, &v) == NULL)
		return NULL;
	uint32_t w;
	if (argc < 1 || core_executor(env, v, &w) == NULL)
		return NULL;
	return xn_undefined(env);
}

static napi_value
js_admit(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	adm_env *s = state_of(env, info, &argc, argv);
	if (s == NULL)
		return NULL;
	double id;
	uint32_t w;
	if (argc < 3 || napi_get_value_double(env, argv[2], &id) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL,
		    "admit(workload, holdUntilEnd, id)");
		return NULL;
	}
	xchan_executor *ex = core_executor(env, argv[0], &w);
	if (ex == NULL)
		return NULL;
	admission *a = calloc(1, sizeof *a);
	if (a == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	atomic_init(&a->refs, 3); /* task, list, start call */
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->hold_until_end = xn_flag(env, argv[1], true);
	a->id = id;
	a->e = s->e;
	xenv_retain(a->e);
	a->owner = s;
	a->call.run = run_start;
	a->call.done = start_done;
	queued_add(a);
	int32_t rc = xchan_execute(ex, proxy_task, a);
	if (rc != XCHAN_OK) {
		if (queued_take(a, ADM_STARTED)) { /* off g_queued: ours */
			atomic_store(&a->refs, 1);
			adm_release(a);
		} else {
			/* Another env's shutdown dropped it meanwhile and posted
			 * its start call, which now owns it: that call ends the
			 * job (the starter finds no job: this throw reports it)
			 * and drops the pending count taken here for it. */
			xn_pending_inc(s->e);
			atomic_store(&a->refs, 1);
		}
		char msg[160];
		snprintf(msg, sizeof msg,
		    "the core's '%s' executor refused the job: %s",
		    workload_names[w], xchan_strerror(rc));
		xn_throw(env, rc, msg);
		return NULL;
	}
	a->next = s->list;
	s->list = a;
	/* Until it starts, the admitted job keeps the loop alive (as a
	 * pending promise does). */
	xn_pending_inc(s->e);
	return xn_undefined(env);
}

static napi_value
js_end(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value v;
	adm_env *s = state_of(env, info, &argc, &v);
	double id;
	if (s == NULL)
		return NULL;
	if (argc < 1 || napi_get_value_double(env, v, &id) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL, "admissionEnd(id)");
		return NULL;
	}
	for (admission *a = s->list; a != NULL; a = a->next)
		if (a->id == id) {
			list_remove(s, a);
			break;
		}
	return xn_undefined(env);
}

static napi_value
js_release_all(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	adm_env *s = state_of(env, info, &argc, NULL);
	if (s == NULL)
		return NULL;
	release_all(s);
	return xn_undefined(env);
}

static napi_value
js_fail_dropped(napi_env env, napi_callback_info info)
{
	size_t argc = 0;
	if (state_of(env, info, &argc, NULL) == NULL)
		return NULL;
	pthread_mutex_lock(&g_queued_lock);
	admission *dropped = g_queued;
	for (admission *a = g_queued; a != NULL; a = a->qnext)
		a->state = ADM_DROPPED;
	g_queued = NULL; /* the qnext links stay: our list now */
	pthread_mutex_unlock(&g_queued_lock);
	while (dropped != NULL) {
		admission *a = dropped;
		dropped = a->qnext;
		a->qprev = a->qnext = NULL;
		/* The start call's reference is the one it has anyway; a gone
		 * env (its `done` never runs) has no job left to fail. */
		if (xn_jscall_post(a->e, &a->call) != XCHAN_OK) {
			gate_open(a);
			adm_release(a);
		}
	}
	return xn_undefined(env);
}

static void
adm_env_cleanup(void *arg)
{
	adm_env *s = arg;
	release_all(s);
	/* The starter reference dies with the env (Node frees it). */
	xenv_release(s->e);
	free(s);
}

napi_status
xn_init_admission(napi_env env, napi_value exports)
{
	adm_env *s = calloc(1, sizeof *s);
	if (s == NULL)
		return napi_generic_failure;
	s->e = xn_env(env);
	xenv_retain(s->e);
	static const xn_fn_entry fns[] = {{"setAdmissionStarter",
	                                      js_set_starter},
	    {"coreExecutorCheck", js_check}, {"admit", js_admit},
	    {"admissionEnd", js_end}, {"admissionReleaseAll", js_release_all},
	    {"admissionFailDropped", js_fail_dropped}};
	napi_status st = napi_add_env_cleanup_hook(env, adm_env_cleanup, s);
	if (st != napi_ok) {
		xenv_release(s->e);
		free(s);
		return st;
	}
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		napi_value fn;
		st = napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].cb, s, &fn);
		if (st == napi_ok)
			st = napi_set_named_property(env, exports, fns[i].name,
			    fn);
		if (st != napi_ok)
			return st; /* the cleanup hook frees s */
	}
	return napi_ok;
}
