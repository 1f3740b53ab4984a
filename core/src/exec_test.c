/*
 * exec_test.c — executors and the scheduler without channels: the pools,
 * executor objects, and the park protocol of task.h driven by hand
 * (commit returning 0, a wake racing with commit, yields).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "cpool.h"
#include "exec.h"
#include "gosched.h"
#include "platform/platform.h"
#include "pool.h"
#include "testing/xchild.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

/* ---- executors ---------------------------------------------------------------- */

static _Atomic long g_ran;

static void
count_fn(void *arg)
{
	(void)arg;
	atomic_fetch_add(&g_ran, 1);
}

XTEST(workloads_resolve_once)
{
	xchan_executor *a, *b;
	for (uint32_t w = 0; w < 4; w++) {
		XCHECK_ERR(xchan_executor_for(&a, w), XCHAN_OK);
		XCHECK_ERR(xchan_executor_for(&b, w), XCHAN_OK);
		XCHECK(a == b);
	}
	XCHECK_ERR(xchan_executor_for(&a, 4), XCHAN_EINVAL);
	XCHECK_ERR(xchan_executor_for(NULL, 0), XCHAN_EINVAL);
	XCHECK_ERR(xchan_executor_for(&a, XCHAN_WORKLOAD_DISPATCH), XCHAN_OK);
	XCHECK(xchan__exec_pool(a) != NULL); /* the default fixed pool */
	XCHECK_ERR(xchan_executor_for(&b, XCHAN_WORKLOAD_MIXED), XCHAN_OK);
	XCHECK(xchan__exec_pool(b) == NULL); /* a cached pool */
	XCHECK_ERR(xchan_execute(NULL, count_fn, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_execute(a, NULL, NULL), XCHAN_EINVAL);
}

XTEST(execute_on_every_workload)
{
	atomic_store(&g_ran, 0);
	for (uint32_t w = 0; w < 4; w++) {
		xchan_executor *e;
		XREQUIRE(xchan_executor_for(&e, w) == XCHAN_OK);
		for (int i = 0; i < 2500; i++)
			XREQUIRE(xchan_execute(e, count_fn, NULL) == XCHAN_OK);
	}
	XCHECK_EQ(xt_wait_count(&g_ran, 10000, 30), 10000);
}

static int32_t
bad_execute(void *self, xchan_task_fn fn, void *arg)
{
	(void)self;
	(void)fn;
	(void)arg;
	return XCHAN_ENOMEM;
}

XTEST(executor_new_validates)
{
	xchan_executor *e;
	/* Static: a vtable must outlive its executor (close runs at exit). */
	static const xchan_executor_vtbl vt = {.size = sizeof(vt),
	    .execute = bad_execute};
	XCHECK_ERR(xchan_executor_new(NULL, &vt, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_executor_new(&e, NULL, NULL), XCHAN_EINVAL);
	xchan_executor_vtbl novt = {.size = sizeof(novt)};
	XCHECK_ERR(xchan_executor_new(&e, &novt, NULL), XCHAN_EINVAL);
	xchan_executor_vtbl small = {.size = 4, .execute = bad_execute};
	XCHECK_ERR(xchan_executor_new(&e, &small, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_executor_new(&e, &vt, NULL), XCHAN_OK);
	/* The executor's own error comes back. */
	XCHECK_ERR(xchan_execute(e, count_fn, NULL), XCHAN_ENOMEM);
}

/* ---- the cached pool ------------------------------------------------------------------- */

#define NBLOCK 8
static _Atomic long g_arrived;

static void
wait_for_all(void *arg)
{
	(void)arg;
	atomic_fetch_add(&g_arrived, 1);
	/* Returns only once every item runs at the same time: the pool
	 * must have grown to NBLOCK threads. */
	xt_wait_count(&g_arrived, NBLOCK, 20);
}

static void
name_fn(void *arg)
{
	pthread_getname_np(pthread_self(), arg, 16);
	atomic_fetch_add(&g_ran, 1);
}

XTEST(cached_pool_grows_names_and_expires)
{
	xchan__cpool *p;
	/* 100 ms idle timeout; under valgrind (and a loaded machine) an idle
	 * thread could expire between "all idle" and the next execute. */
	XREQUIRE(xchan__cpool_new(&p, "xchan-test",
	             getenv("XCHAN_UNDER_VALGRIND") ? 1000 : 100) == XCHAN_OK);
	atomic_store(&g_arrived, 0);
	for (int i = 0; i < NBLOCK; i++)
		XREQUIRE(
		    xchan__cpool_execute(p, wait_for_all, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_arrived, NBLOCK, 20), NBLOCK);
	xchan__cpool_stats s;
	xchan__cpool_get_stats(p, &s);
	XCHECK_EQ(s.started, NBLOCK);
	/* An idle thread is reused, not a new one started. */
	int64_t dl = xt_deadline_s(10);
	do {
		xchan__cpool_get_stats(p, &s);
	} while (s.idle < NBLOCK && xchan_now() < dl && usleep(1000) == 0);
	char name[16] = "";
	atomic_store(&g_ran, 0);
	XREQUIRE(xchan__cpool_execute(p, name_fn, name) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_ran, 1, 10), 1);
	XCHECK(strncmp(name, "xchan-test-", 11) == 0);
	xchan__cpool_get_stats(p, &s);
	XCHECK_EQ(s.started, NBLOCK);
	/* Idle threads exit after the idle timeout (100 ms here). */
	dl = xt_deadline_s(10);
	do {
		xchan__cpool_get_stats(p, &s);
	} while (s.threads > 0 && xchan_now() < dl && usleep(5000) == 0);
	XCHECK_EQ(s.threads, 0);
	XCHECK_EQ(s.expired, NBLOCK);
	/* And it grows again afterwards. */
	atomic_store(&g_ran, 0);
	XREQUIRE(xchan__cpool_execute(p, count_fn, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_ran, 1, 10), 1);
	xchan__cpool_stop_begin(p, xchan_now());
	XCHECK_EQ(xchan__cpool_stop_wait(p, -1), 1);
	XCHECK_ERR(xchan__cpool_execute(p, count_fn, NULL), XCHAN_ESHUTDOWN);
	xchan__cpool_free(p);
}

/* ---- the fixed pool ------------------------------------------------------------------- */

XTEST(fixed_pool_runs_and_stops)
{
	xchan__pool *p;
	XREQUIRE(xchan__pool_new(&p, 2, "xchan-tp") == XCHAN_OK);
	atomic_store(&g_ran, 0);
	for (int i = 0; i < 20000; i++)
		XREQUIRE(xchan__pool_execute(p, count_fn, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_ran, 20000, 30), 20000);
	XCHECK(!xchan__pool_is_worker(p));
	xchan__pool_stats s;
	xchan__pool_get_stats(p, &s);
	XCHECK_EQ(s.executed, 20000);
	XCHECK_EQ(s.nworkers, 2);
	/* A burst from a plain thread costs far fewer wakes than items. */
	XCHECK(s.futex_wakes < 2000);
	xchan__pool_stop_begin(p, xchan_now() + 1000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(p, -1), 1);
	XCHECK_ERR(xchan__pool_execute(p, count_fn, NULL), XCHAN_ESHUTDOWN);
	xchan__pool_free(p);
}

/* Woken nodes (push_front) run in the order they were woken, before nodes
 * queued normally; the one worker is held busy while they are queued. */
static _Atomic int g_hold;
static int g_order[8], g_norder;

static void
hold_fn(void *arg)
{
	(void)arg;
	while (atomic_load(&g_hold))
		xchan__thread_yield();
}

static void
record_fn(void *arg)
{
	g_order[g_norder++] = (int)(intptr_t)arg; /* one worker: no race */
}

XTEST(woken_nodes_run_first_in_wake_order)
{
	xchan__pool *p;
	XREQUIRE(xchan__pool_new(&p, 1, "xchan-to") == XCHAN_OK);
	atomic_store(&g_hold, 1);
	XREQUIRE(xchan__pool_execute(p, hold_fn, NULL) == XCHAN_OK);
	xchan__pool_node nodes[6];
	int kinds[6] = {0, 1, 1, 0, 1, 0}; /* 1: woken */
	for (int i = 0; i < 6; i++) {
		nodes[i] = (xchan__pool_node) {.fn = record_fn,
		    .arg = (void *)(intptr_t)i};
		if (kinds[i])
			XREQUIRE(
			    xchan__pool_push_front(p, &nodes[i]) == XCHAN_OK);
		else
			XREQUIRE(xchan__pool_push(p, &nodes[i]) == XCHAN_OK);
	}
	atomic_store(&g_hold, 0);
	xchan__pool_stop_begin(p, xchan_now() + 10000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(p, -1), 1);
	int want[6] = {1, 2, 4, 0, 3, 5};
	XCHECK_EQ(g_norder, 6);
	for (int i = 0; i < 6; i++)
		XCHECK_EQ(g_order[i], want[i]);
	xchan__pool_free(p);
}

/* ---- the park protocol, by hand ----------------------------------------------------------- */

static _Atomic long g_done;

static int
commit_now(void *arg)
{
	(void)arg;
	return 0; /* "the wake already happened" */
}

static void
body_commit_zero(xchan__task *t)
{
	(void)t;
	for (int i = 0; i < 100; i++)
		xchan__task_park(commit_now, NULL);
	atomic_fetch_add(&g_done, 1);
}

static int32_t
spawn(void (*body)(xchan__task *), void *arg)
{
	xchan__task *t;
	int32_t err = xchan__task_new(&t, NULL, 0, body);
	if (err != XCHAN_OK)
		return err;
	t->arg = arg;
	if ((err = xchan__task_start(t)) != XCHAN_OK)
		xchan__task_free(t);
	return err;
}

XTEST(commit_zero_resumes_at_once)
{
	atomic_store(&g_done, 0);
	XREQUIRE(spawn(body_commit_zero, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_done, 1, 10), 1);
}

/* A wake from another thread may arrive while commit is still running:
 * commit hands the task to a waker thread and dawdles before returning. */
static _Atomic(xchan__task *) g_handoff;

static int
commit_handoff(void *arg)
{
	atomic_store(&g_handoff, (xchan__task *)arg);
	for (volatile int i = 0; i < 200; i++)
		;
	return 1;
}

/* Valgrind serialises threads: the spinning waker then crawls. */
#define NRACE (getenv("XCHAN_UNDER_VALGRIND") ? 500 : 20000)

static void
body_race(xchan__task *t)
{
	for (int i = 0; i < NRACE; i++)
		xchan__task_park(commit_handoff, t);
	atomic_fetch_add(&g_done, 1);
}

static void *
waker_main(void *arg)
{
	(void)arg;
	int64_t dl = xt_deadline_s(60);
	for (long woken = 0; woken < NRACE && xchan_now() < dl;) {
		xchan__task *t = atomic_exchange(&g_handoff, NULL);
		if (t != NULL) {
			xchan__task_wake(t);
			woken++;
		} else {
			xchan__cpu_relax();
		}
	}
	return NULL;
}

XTEST(wake_racing_with_commit)
{
	atomic_store(&g_done, 0);
	pthread_t w;
	XREQUIRE(pthread_create(&w, NULL, waker_main, NULL) == 0);
	XREQUIRE(spawn(body_race, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_done, 1, 60), 1);
	pthread_join(w, NULL);
}

/* Tasks that only yield still let each other run (fairness of the queue
 * against the run-next slot). */
static _Atomic long g_yields;

static void
body_yield(xchan__task *t)
{
	(void)t;
	for (int i = 0; i < 1000; i++) {
		atomic_fetch_add(&g_yields, 1);
		xchan__task_yield();
	}
	atomic_fetch_add(&g_done, 1);
}

XTEST(yielding_tasks_all_progress)
{
	atomic_store(&g_done, 0);
	for (int i = 0; i < 50; i++)
		XREQUIRE(spawn(body_yield, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_done, 50, 60), 50);
	XCHECK_EQ(atomic_load(&g_yields), 50000);
	int64_t dl = xt_deadline_s(10);
	while (xchan__task_live() != 0 && xchan_now() < dl)
		usleep(1000);
	XCHECK_EQ(xchan__task_live(), 0);
}

/* ---- settings read from the environment ------------------------------------------------------ */

XTEST(child_dispatch_threads_env)
{
	XCHILD_ONLY();
	xchan_executor *e;
	XREQUIRE(xchan_executor_for(&e, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	xchan__pool_stats s;
	xchan__pool_get_stats(xchan__exec_pool(e), &s);
	XCHECK_EQ(s.nworkers, 3);
}

XTEST(dispatch_threads_env)
{
	char out[2048];
	int st = xchild_run("child_dispatch_threads_env",
	    "XCHAN_DISPATCH_THREADS=3", NULL, out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

static void
sleep_fn(void *arg)
{
	(void)arg;
	usleep(300000);
}

static void
quick_body(xchan__task *t)
{
	(void)t;
	usleep(300000); /* holds its worker: a blocking call */
	atomic_fetch_add(&g_done, 1);
}

XTEST(child_go_checking_env)
{
	XCHILD_ONLY();
	(void)sleep_fn;
	XREQUIRE(spawn(quick_body, NULL) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_done, 1, 10), 1);
}

XTEST(go_checking_env_reports)
{
	char out[4096];
	int st = xchild_run("child_go_checking_env", "XCHAN_GO_CHECKING=50",
	    NULL, out, sizeof(out));
	XCHECK(xchild_ok(st));
	XCHECK(strstr(out, "go-checking: task go-") != NULL);
	if (!xchild_ok(st) || strstr(out, "go-checking") == NULL)
		fprintf(stderr, "%s", out);
}

XTEST_MAIN()
