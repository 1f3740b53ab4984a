/*
 * exec.c — executors, workload resolution, the factory, shutdown.
 *
 * Design notes
 *  - Locks: `g.lock` guards the factory fields, `frozen`, the environment
 *    load and the list of executors.  It is never held while user code runs
 *    (a factory, an executor's execute or close) nor while threads are
 *    joined.
 *  - Resolution of a workload is a once-state per workload (`state[w]`:
 *    0 unresolved, 1 resolving, 2 done; futex word for waiters).  The
 *    resolving thread calls the factory with no lock held and publishes the
 *    executor with a release store in `cache[w]`; readers take the fast
 *    path with an acquire load.  A factory that asks for its own workload
 *    gets XCHAN_ESTATE instead of waiting for itself.
 *  - `frozen` is set by the first resolution: from then on the factory can
 *    no longer change (core.async memoizes executor-for the same way).
 *  - Shutdown: `g_shut` is set first (new work is refused), then every
 *    default pool is told to stop, then all are waited for, then user
 *    executors get their close, then the timer service stops.
 */
#include "exec.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "async.h"
#include "common.h"
#include "cpool.h"
#include "gosched.h"
#include "lock.h"
#include "log.h"
#include "platform/platform.h"
#include "timer.h"
#include "xchan/xchan_ext.h"

struct xchan_executor {
	const xchan_executor_vtbl *vt; /* NULL for the built-in pools */
	xchan_executor_vtbl vtc;       /* user executors: *vt, copied */
	void *self;
	xchan__pool *pool;   /* built-in fixed pool */
	xchan__cpool *cpool; /* built-in cached pool */
	int closed;          /* close already called (g.lock) */
	xchan_executor *next_all;
};

#define NWORKLOADS 4

static struct {
	xchan__lock lock;
	int frozen;
	int factory_set;
	xchan_executor_factory factory;
	void *factory_user;
	int env_done;
	int32_t env_err;
	char env_msg[1280];
	int atexit_done;
	xchan_executor *all; /* every executor, for close at shutdown */
	_Atomic(xchan_executor *) cache[NWORKLOADS];
	_Atomic uint32_t state[NWORKLOADS];
} g;

static _Atomic int g_shut;

/* Weak: a static link that never used a timer has no timer.o, and then no
 * timer thread to stop either. */
#pragma weak xchan__timer_shutdown
#pragma weak xchan__async_shutdown
static _Thread_local unsigned tls_resolving; /* bit per workload */

int
xchan__exec_shut_down(void)
{
	return atomic_load_explicit(&g_shut, memory_order_acquire);
}

xchan__pool *
xchan__exec_pool(const xchan_executor *ex)
{
	return ex != NULL ? ex->pool : NULL;
}

static void
remember(xchan_executor *e)
{
	xchan__lock_acquire(&g.lock);
	e->next_all = g.all;
	g.all = e;
	xchan__lock_release(&g.lock);
}

int32_t
xchan_executor_new(xchan_executor **out, const xchan_executor_vtbl *vt,
    void *self)
{
	xchan_executor_vtbl v;
	if (out == NULL || vt == NULL ||
	    !xchan__struct_in(&v, sizeof(v), vt,
	        XCHAN__EXECUTOR_VTBL_V1_SIZE) ||
	    v.execute == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	xchan_executor *e = xchan__zalloc(sizeof(*e));
	if (e == NULL)
		return XCHAN_ENOMEM;
	/* A copy: the caller's vtable may be an older, smaller struct. */
	e->vtc = v;
	e->vt = &e->vtc;
	e->self = self;
	remember(e);
	*out = e;
	return XCHAN_OK;
}

int32_t
xchan_execute(xchan_executor *ex, xchan_task_fn fn, void *arg)
{
	if (ex == NULL || fn == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	if (ex->pool != NULL)
		return xchan__pool_execute(ex->pool, fn, arg);
	if (ex->cpool != NULL)
		return xchan__cpool_execute(ex->cpool, fn, arg);
	if (xchan__exec_shut_down())
		return XCHAN_ESHUTDOWN;
	return ex->vt->execute(ex->self, fn, arg);
}

/* ---- defaults ---------------------------------------------------------------- */

static int
env_int(const char *name, int dflt)
{
	const char *s = getenv(name);
	if (s == NULL || *s == 0)
		return dflt;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end != 0 || v <= 0 || v > 4096) {
		xchan__log(XCHAN_LOG_WARN, "ignoring %s=\"%s\" (want 1..4096)",
		    name, s);
		return dflt;
	}
	return (int)v;
}

static int32_t
make_default(xchan_executor **out, uint32_t w)
{
	xchan_executor *e = xchan__zalloc(sizeof(*e));
	if (e == NULL)
		return XCHAN_ENOMEM;
	int32_t err;
	switch (w) {
	case XCHAN_WORKLOAD_DISPATCH:
		err = xchan__pool_new(&e->pool,
		    env_int("XCHAN_DISPATCH_THREADS", xchan__ncpu()),
		    "xchan-disp");
		break;
	case XCHAN_WORKLOAD_COMPUTE:
		err = xchan__pool_new(&e->pool,
		    env_int("XCHAN_COMPUTE_THREADS", xchan__ncpu()),
		    "xchan-comp");
		break;
	case XCHAN_WORKLOAD_MIXED:
		err = xchan__cpool_new(&e->cpool, "xchan-mixed", 0);
		break;
	default:
		err = xchan__cpool_new(&e->cpool, "xchan-io", 0);
		break;
	}
	if (err != XCHAN_OK) {
		xchan__free(e, sizeof(*e));
		return err;
	}
	remember(e);
	*out = e;
	return XCHAN_OK;
}

/* ---- the factory --------------------------------------------------------------- */

int32_t
xchan_set_executor_factory(xchan_executor_factory f, void *user)
{
	int32_t err = XCHAN_OK;
	xchan__lock_acquire(&g.lock);
	if (g.frozen || g.factory_set || xchan__exec_shut_down())
		err = XCHAN_ESTATE;
	else {
		g.factory = f;
		g.factory_user = user;
		g.factory_set = 1;
	}
	xchan__lock_release(&g.lock);
	return err;
}

/* XCHAN_EXECUTOR_FACTORY="library:symbol" (g.lock held; a problem is
 * described in g.env_msg and logged once the lock is dropped). */
static void
load_env_factory(void)
{
	g.env_done = 1;
	const char *spec = getenv("XCHAN_EXECUTOR_FACTORY");
	if (spec == NULL || *spec == 0)
		return;
	char buf[1024];
	const char *colon = strrchr(spec, ':');
	if (colon == NULL || colon == spec || colon[1] == 0 ||
	    (size_t)(colon - spec) >= sizeof(buf)) {
		snprintf(g.env_msg, sizeof(g.env_msg),
		    "XCHAN_EXECUTOR_FACTORY=\"%s\" must be \"library:symbol\"",
		    spec);
		g.env_err = XCHAN_ELOAD;
		return;
	}
	memcpy(buf, spec, (size_t)(colon - spec));
	buf[colon - spec] = 0;
	const char *sym = colon + 1;
	void *h = dlopen(buf, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();
		snprintf(g.env_msg, sizeof(g.env_msg),
		    "XCHAN_EXECUTOR_FACTORY: cannot load library \"%s\" "
		    "(for symbol \"%s\"): %s",
		    buf, sym, why ? why : "unknown error");
		g.env_err = XCHAN_ELOAD;
		return;
	}
	dlerror();
	void *fp = dlsym(h, sym);
	if (fp == NULL) {
		const char *why = dlerror();
		snprintf(g.env_msg, sizeof(g.env_msg),
		    "XCHAN_EXECUTOR_FACTORY: no symbol \"%s\" in library "
		    "\"%s\": %s",
		    sym, buf, why ? why : "symbol is NULL");
		g.env_err = XCHAN_ELOAD;
		return; /* the library stays loaded: dlclose may run its code */
	}
	/* POSIX guarantees data and function pointers convert for dlsym. */
	xchan_executor_factory f;
	memcpy(&f, &fp, sizeof(f));
	g.factory = f;
	/* The factory's user is the function table: a library named here is
	 * dlopen'ed RTLD_LOCAL and cannot see a core linked statically into a
	 * binding (Python, Node, Java all do), so the table is its only way
	 * to call this very core (xchan_executor_new...). */
	g.factory_user = (void *)(uintptr_t)xchan_get_api();
	g.factory_set = 1;
}

static void at_exit(void);

/* Freezes the factory and finds it; returns the env error if any. */
static int32_t
freeze(xchan_executor_factory *f, void **user)
{
	xchan__lock_acquire(&g.lock);
	g.frozen = 1;
	if (!g.factory_set && !g.env_done)
		load_env_factory();
	/* XCHAN_INIT_NO_ATEXIT: the host shuts down itself (or not). */
	int reg =
	    !g.atexit_done && !(xchan__init_flags() & XCHAN_INIT_NO_ATEXIT);
	g.atexit_done = 1;
	*f = g.factory_set ? g.factory : NULL;
	*user = g.factory_user;
	int32_t err = g.env_err;
	char msg[sizeof(g.env_msg)];
	memcpy(msg, g.env_msg, sizeof(msg));
	g.env_msg[0] = 0;
	xchan__lock_release(&g.lock);
	if (msg[0])
		xchan__log(XCHAN_LOG_ERROR, "%s", msg);
	if (reg)
		atexit(at_exit);
	return err;
}

static int32_t resolve(xchan_executor **out, uint32_t w);

static int32_t
resolve_slow(xchan_executor **out, uint32_t w)
{
	xchan_executor_factory f;
	void *user;
	int32_t err = freeze(&f, &user);
	if (err != XCHAN_OK)
		return err;
	uint32_t zero = 0;
	if (!atomic_compare_exchange_strong(&g.state[w], &zero, 1)) {
		if (tls_resolving & (1u << w))
			return XCHAN_ESTATE; /* the factory asked for itself */
		while (atomic_load(&g.state[w]) == 1)
			xchan__futex_wait(&g.state[w], 1, -1);
		goto done;
	}
	tls_resolving |= 1u << w;
	xchan_executor *e = f != NULL ? f(user, w) : NULL;
	if (e == NULL && f != NULL && w == XCHAN_WORKLOAD_DISPATCH) {
		/* core.async: a factory's nil for dispatch means "whatever
		 * mixed resolves to". */
		err = resolve(&e, XCHAN_WORKLOAD_MIXED);
	} else if (e == NULL) {
		err = make_default(&e, w);
	}
	tls_resolving &= ~(1u << w);
	if (err != XCHAN_OK) {
		atomic_store(&g.state[w], 0); /* a later call may retry */
		xchan__futex_wake(&g.state[w], INT32_MAX);
		return err;
	}
	atomic_store_explicit(&g.cache[w], e, memory_order_release);
	atomic_store(&g.state[w], 2);
	xchan__futex_wake(&g.state[w], INT32_MAX);
done:
	*out = atomic_load_explicit(&g.cache[w], memory_order_acquire);
	return *out != NULL ? XCHAN_OK : XCHAN_ENOMEM;
}

static int32_t
resolve(xchan_executor **out, uint32_t w)
{
	xchan_executor *e =
	    atomic_load_explicit(&g.cache[w], memory_order_acquire);
	if (XCHAN_LIKELY(e != NULL)) {
		*out = e;
		return XCHAN_OK;
	}
	return resolve_slow(out, w);
}

int32_t
xchan_executor_for(xchan_executor **out, uint32_t workload)
{
	if (out == NULL || workload >= NWORKLOADS)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	if (xchan__exec_shut_down())
		return XCHAN_ESHUTDOWN;
	return resolve(out, workload);
}

/* ---- shutdown -------------------------------------------------------------------- */

static int
on_xchan_thread(void)
{
	return xchan__pool_in_worker() || xchan__cpool_in_worker() ||
	       xchan__task_current() != NULL;
}

/* explicit: drain queued work for up to a second, then wait for running
 * work without limit (the header promises the threads are joined).  At
 * exit: drain briefly, wait a bounded time, and leave anything still
 * running alone rather than hang the process. */
static int32_t
shutdown_impl(int at_exit_path)
{
	int first = 0;
	xchan__lock_acquire(&g.lock);
	if (!atomic_load(&g_shut)) {
		atomic_store_explicit(&g_shut, 1, memory_order_release);
		g.frozen = 1;
		first = 1;
	}
	xchan_executor *all = g.all;
	xchan__lock_release(&g.lock);
	if (!first)
		return XCHAN_OK;
	int64_t now = xchan__clock_ns();
	int64_t drain = now + (at_exit_path ? 100000000LL : 1000000000LL);
	int64_t join = at_exit_path ? now + 500000000LL : -1;
	xchan__gocheck_shutdown();
	for (xchan_executor *e = all; e; e = e->next_all) {
		if (e->pool)
			xchan__pool_stop_begin(e->pool, drain);
		if (e->cpool)
			xchan__cpool_stop_begin(e->cpool, drain);
	}
	int joined = 1;
	if (!(at_exit_path && on_xchan_thread())) {
		for (xchan_executor *e = all; e; e = e->next_all) {
			if (e->pool)
				joined &= xchan__pool_stop_wait(e->pool, join);
			if (e->cpool)
				joined &=
				    xchan__cpool_stop_wait(e->cpool, join);
		}
	} else {
		joined = 0;
	}
	for (xchan_executor *e = all; e; e = e->next_all) {
		if (e->vt != NULL && e->vt->close != NULL && !e->closed) {
			e->closed = 1;
			e->vt->close(e->self);
		}
	}
	if (joined) {
		/* Explicit shutdown completes what still waits: timers that
		 * close timeout channels or end async deadlines fire now, and
		 * pending async ops complete with XCHAN_ESHUTDOWN.  Not at
		 * exit: no user code runs while the process exits. */
		if (xchan__timer_shutdown != NULL)
			xchan__timer_shutdown(!at_exit_path);
		if (!at_exit_path && xchan__async_shutdown != NULL)
			xchan__async_shutdown();
		xchan__coro_pool_drain();
	}
	/* Executor objects stay allocated: late callers from threads the
	 * application owns still get XCHAN_ESHUTDOWN from them. */
	return XCHAN_OK;
}

int32_t
xchan_shutdown(void)
{
	if (xchan__forked())
		return XCHAN_EFORK;
	if (on_xchan_thread())
		return XCHAN_ESTATE;
	return shutdown_impl(0);
}

static void
at_exit(void)
{
	/* A forked child has none of the threads to stop (joining them would
	 * hang). */
	if (xchan__forked())
		return;
	shutdown_impl(1);
}
