/*
 * go_test.c — go tasks, thread and io_thread with real channels: results,
 * parking at depth, 100,000 parked tasks, ping-pong on one core, a small
 * dispatch pool under a wake storm, factories, failure reports,
 * go-checking, shutdown and exit.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "coro.h"
#include "exec.h"
#include "gosched.h"
#include "pool.h"
#include "testing/xchild.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

#if defined(__SANITIZE_THREAD__)
#define SCALE 100 /* TSan: each fiber is a thread (8k at most), ~1 MiB each */
#elif defined(XCHAN_SANITIZER_BUILD)
#define SCALE 10 /* sanitizers make each fiber much heavier */
#else
#define SCALE 1
#endif

static int64_t
take_int_until(xchan_chan *ch, int32_t *err, xchan_deadline dl)
{
	xchan_val v;
	int64_t i = -1;
	*err = xchan_take(&v, ch, dl);
	if (*err == XCHAN_OK) {
		xchan_get_int(v, &i);
		xchan_val_release(v);
	}
	return i;
}

static int64_t
take_int(xchan_chan *ch, int32_t *err)
{
	return take_int_until(ch, err, xchan_deadline_in_ms(10000));
}

/* ---- results ------------------------------------------------------------------ */

static int32_t
answer(void *arg, xchan_val *out)
{
	(void)arg;
	*out = xchan_val_int(42);
	return XCHAN_OK;
}

static int32_t
nothing(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	return XCHAN_OK;
}

static int32_t
report_in_go(void *arg, xchan_val *out)
{
	*(int *)arg = xchan_in_go();
	*out = xchan_val_bool(1);
	return XCHAN_OK;
}

XTEST(go_result_then_close)
{
	xchan_chan *r;
	int32_t err;
	XREQUIRE(xchan_go(&r, answer, NULL, NULL) == XCHAN_OK);
	XCHECK_EQ(take_int(r, &err), 42);
	XCHECK_ERR(err, XCHAN_OK);
	take_int(r, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	xchan_chan_release(r);

	XREQUIRE(xchan_go(&r, nothing, NULL, NULL) == XCHAN_OK);
	take_int(r, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED); /* nil result: closed, no value */
	xchan_chan_release(r);

	int in = -1;
	XREQUIRE(xchan_go(&r, report_in_go, &in, NULL) == XCHAN_OK);
	take_int(r, &err);
	XCHECK_EQ(in, 1);
	XCHECK_EQ(xchan_in_go(), 0);
	xchan_chan_release(r);

	XCHECK_ERR(xchan_go(&r, NULL, NULL, NULL), XCHAN_EINVAL);
	xchan_go_opts bad = {.size = 4};
	XCHECK_ERR(xchan_go(&r, answer, NULL, &bad), XCHAN_EINVAL);
	/* No result channel wanted. */
	XCHECK_ERR(xchan_go(NULL, nothing, NULL, NULL), XCHAN_OK);
}

/* ---- parking three calls below the task body ------------------------------- */

static __attribute__((noinline)) int64_t
level3(xchan_chan *ch)
{
	int32_t err;
	int64_t v = take_int(ch, &err); /* parks here */
	return err == XCHAN_OK ? v : -1;
}

static __attribute__((noinline)) int64_t
level2(xchan_chan *ch)
{
	volatile char pad[512];
	pad[0] = 1;
	return level3(ch) + pad[0] - 1;
}

static __attribute__((noinline)) int64_t
level1(xchan_chan *ch)
{
	return level2(ch) * 2;
}

static int32_t
deep_body(void *arg, xchan_val *out)
{
	*out = xchan_val_int(level1(arg));
	return XCHAN_OK;
}

XTEST(park_at_depth)
{
	xchan_chan *ch, *r;
	int32_t err;
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_go(&r, deep_body, ch, NULL) == XCHAN_OK);
	/* The put meets the parked taker (a rendezvous). */
	XCHECK_ERR(xchan_put(ch, xchan_val_int(21),
	               xchan_deadline_in_ms(10000)),
	    XCHAN_OK);
	XCHECK_EQ(take_int(r, &err), 42);
	xchan_chan_release(r);
	xchan_chan_release(ch);
}

/* ---- 100,000 parked tasks ---------------------------------------------------------- */

/* Valgrind runs every test (ci/valgrind.py) about fifty times slower. */
static int
scale(void)
{
	return SCALE * (getenv("XCHAN_UNDER_VALGRIND") ? 100 : 1);
}

#define NPARK (100000 / scale())
#define NPCHAN 1000

static _Atomic long g_parked_done;
static _Atomic long g_parked_sum;

static int32_t
park_body(void *arg, xchan_val *out)
{
	(void)out;
	int32_t err;
	int64_t v = take_int_until(arg, &err, XCHAN_DEADLINE_NEVER);
	if (err == XCHAN_OK)
		atomic_fetch_add(&g_parked_sum, (long)v);
	atomic_fetch_add(&g_parked_done, 1);
	return XCHAN_OK;
}

static long
rss_kib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, res = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &res) != 2)
			res = 0;
		fclose(f);
	}
	return res * (long)(sysconf(_SC_PAGESIZE) / 1024);
}

static long
pending_takes(xchan_chan **chs, int n)
{
	long sum = 0;
	for (int i = 0; i < n; i++) {
		xchan_chan_info info = {.size = sizeof(info)};
		if (xchan_chan_info_get(&info, chs[i]) == XCHAN_OK)
			sum += info.pending_takes;
	}
	return sum;
}

XTEST(hundred_thousand_parked)
{
	static xchan_chan *chs[NPCHAN];
	for (int i = 0; i < NPCHAN; i++)
		XREQUIRE(
		    xchan_chan_make(&chs[i], XCHAN_BUF_NONE, 0) == XCHAN_OK);
	atomic_store(&g_parked_done, 0);
	atomic_store(&g_parked_sum, 0);
	/* Warm the stack pool and the workers so RSS counts tasks only. */
	xchan_chan *r;
	XREQUIRE(xchan_go(&r, nothing, NULL, NULL) == XCHAN_OK);
	int32_t err;
	take_int(r, &err);
	xchan_chan_release(r);
	long rss0 = rss_kib();
	for (int i = 0; i < NPARK; i++) {
		if (xchan_go(NULL, park_body, chs[i % NPCHAN], NULL) !=
		    XCHAN_OK) {
			XCHECK(!"xchan_go failed");
			break;
		}
	}
	/* All parked: every task is registered as a pending take. */
	int64_t dl = xt_deadline_s(60);
	long pend;
	while ((pend = pending_takes(chs, NPCHAN)) < NPARK && xchan_now() < dl)
		usleep(2000);
	XCHECK_EQ(pend, NPARK);
	long rss1 = rss_kib();
	xchan__coro_stats cs;
	xchan__coro_get_stats(&cs);
	printf("parked %d go tasks: RSS +%ld KiB = %.2f KiB per parked task "
	       "(%llu slab + %llu own-mapping stacks of %llu KiB virtual each, "
	       "task record %zu B in its stack)\n",
	    NPARK, rss1 - rss0, (double)(rss1 - rss0) / NPARK,
	    (unsigned long long)cs.slab, (unsigned long long)cs.mapped,
	    (unsigned long long)(cs.stack_size / 1024), sizeof(xchan__task));
	fprintf(stderr, "  parked %d tasks: %.2f KiB RSS per parked task\n",
	    NPARK, (double)(rss1 - rss0) / NPARK);
	XCHECK_EQ(atomic_load(&g_parked_done), 0);
	for (int i = 0; i < NPARK; i++)
		XCHECK_ERR(xchan_put(chs[i % NPCHAN], xchan_val_int(1),
		               xchan_deadline_in_ms(30000)),
		    XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_parked_done, NPARK, 60), NPARK);
	XCHECK_EQ(atomic_load(&g_parked_sum), NPARK);
	for (int i = 0; i < NPCHAN; i++)
		xchan_chan_release(chs[i]);
	/* Every task struct was freed. */
	dl = xt_deadline_s(10);
	while (xchan__task_live() != 0 && xchan_now() < dl)
		usleep(1000);
	XCHECK_EQ(xchan__task_live(), 0);
}

/* ---- ping-pong over unbuffered channels ------------------------------------------- */

#define NPING (100000 / scale())

typedef struct pingpong {
	xchan_chan *ping, *pong;
} pingpong;

static int32_t
pinger(void *arg, xchan_val *out)
{
	pingpong *pp = arg;
	int32_t err;
	int64_t last = -1;
	for (int64_t i = 0; i < NPING; i++) {
		if (xchan_put(pp->ping, xchan_val_int(i),
		        XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			return XCHAN_ETASK;
		last = take_int(pp->pong, &err);
		if (err != XCHAN_OK || last != i + 1)
			return XCHAN_ETASK;
	}
	*out = xchan_val_int(last);
	return XCHAN_OK;
}

static int32_t
ponger(void *arg, xchan_val *out)
{
	pingpong *pp = arg;
	(void)out;
	for (int64_t i = 0; i < NPING; i++) {
		int32_t err;
		int64_t v = take_int(pp->ping, &err);
		if (err != XCHAN_OK)
			return err;
		if (xchan_put(pp->pong, xchan_val_int(v + 1),
		        XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			return XCHAN_ETASK;
	}
	return XCHAN_OK;
}

XTEST(ping_pong_unbuffered)
{
	pingpong pp;
	XREQUIRE(xchan_chan_make(&pp.ping, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&pp.pong, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	xchan_executor *ex;
	XREQUIRE(xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	xchan__pool *pool = xchan__exec_pool(ex);
	xchan__pool_stats s0, s1;
	if (pool)
		xchan__pool_get_stats(pool, &s0);
	int64_t t0 = xchan_now();
	xchan_chan *r1, *r2;
	XREQUIRE(xchan_go(&r2, ponger, &pp, NULL) == XCHAN_OK);
	XREQUIRE(xchan_go(&r1, pinger, &pp, NULL) == XCHAN_OK);
	int32_t err;
	XCHECK_EQ(take_int(r1, &err), NPING);
	take_int(r2, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	int64_t t1 = xchan_now();
	if (pool) {
		xchan__pool_get_stats(pool, &s1);
		uint64_t wakes = s1.futex_wakes - s0.futex_wakes;
		fprintf(stderr,
		    "  %d round trips: %.0f ns each, %llu worker futex wakes\n",
		    NPING, (double)(t1 - t0) / NPING,
		    (unsigned long long)wakes);
		/* A wake per message would be 2 * NPING. */
		XCHECK(wakes < (uint64_t)NPING / 10);
	}
	xchan_chan_release(r1);
	xchan_chan_release(r2);
	xchan_chan_release(pp.ping);
	xchan_chan_release(pp.pong);
}

/* ---- two dispatch workers, 1,000 parked on one channel ------------------------------ */

#define NONE_CH 1000
static _Atomic long g_one_done, g_one_sum;

static int32_t
one_taker(void *arg, xchan_val *out)
{
	(void)out;
	int32_t err;
	int64_t v = take_int_until(arg, &err, XCHAN_DEADLINE_NEVER);
	if (err == XCHAN_OK)
		atomic_fetch_add(&g_one_sum, (long)v);
	atomic_fetch_add(&g_one_done, 1);
	return XCHAN_OK;
}

static int32_t
one_producer(void *arg, xchan_val *out)
{
	(void)out;
	for (int i = 1; i <= NONE_CH; i++)
		if (xchan_put(arg, xchan_val_int(i),
		        xchan_deadline_in_ms(20000)) != XCHAN_OK)
			return XCHAN_ETASK;
	return XCHAN_OK;
}

static void
one_channel_round(int producer_in_go)
{
	xchan_chan *ch;
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	atomic_store(&g_one_done, 0);
	atomic_store(&g_one_sum, 0);
	for (int i = 0; i < NONE_CH; i++)
		XREQUIRE(xchan_go(NULL, one_taker, ch, NULL) == XCHAN_OK);
	xchan_chan_info info = {.size = sizeof(info)};
	int64_t dl = xt_deadline_s(30);
	do {
		xchan_chan_info_get(&info, ch);
	} while (info.pending_takes < NONE_CH && xchan_now() < dl &&
	         usleep(1000) == 0);
	XCHECK_EQ(info.pending_takes, NONE_CH);
	if (producer_in_go) {
		xchan_chan *r;
		int32_t err;
		XREQUIRE(xchan_go(&r, one_producer, ch, NULL) == XCHAN_OK);
		take_int(r, &err);
		XCHECK_ERR(err, XCHAN_ECLOSED);
		xchan_chan_release(r);
	} else {
		xchan_val dummy;
		XCHECK_ERR(one_producer(ch, &dummy), XCHAN_OK);
	}
	XCHECK_EQ(xt_wait_count(&g_one_done, NONE_CH, 30), NONE_CH);
	XCHECK_EQ(atomic_load(&g_one_sum), (long)NONE_CH * (NONE_CH + 1) / 2);
	xchan_chan_release(ch);
}

XTEST(child_two_workers_one_channel)
{
	XCHILD_ONLY();
	xchan_executor *ex;
	XREQUIRE(xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	xchan__pool_stats s;
	XREQUIRE(xchan__exec_pool(ex) != NULL);
	xchan__pool_get_stats(xchan__exec_pool(ex), &s);
	XCHECK_EQ(s.nworkers, 2);
	one_channel_round(0); /* producer: this plain thread */
	one_channel_round(1); /* producer: a go task */
	/* Nobody is left blocked: both workers go idle. */
	int64_t dl = xt_deadline_s(10);
	do {
		xchan__pool_get_stats(xchan__exec_pool(ex), &s);
	} while (s.sleeping != 2 && xchan_now() < dl && usleep(1000) == 0);
	XCHECK_EQ(s.sleeping, 2);
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
}

XTEST(two_workers_one_channel)
{
	char out[4096];
	int st = xchild_run("child_two_workers_one_channel",
	    "XCHAN_DISPATCH_THREADS=2", NULL, out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

/* ---- failing tasks and the error hook ------------------------------------------------ */

static char g_failed_name[64];
static int32_t g_failed_err;
static _Atomic long g_failed_calls;

static void
record_failure(void *user, const char *name, int32_t err)
{
	(void)user;
	snprintf(g_failed_name, sizeof(g_failed_name), "%s", name);
	g_failed_err = err;
	atomic_fetch_add(&g_failed_calls, 1);
}

static int32_t
failer(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	return XCHAN_ETASK;
}

XTEST(failing_task_closes_and_reports)
{
	xchan_set_task_error_hook(record_failure, NULL);
	xchan_go_opts o = {.size = sizeof(o), .name = "failer-task"};
	xchan_chan *r;
	int32_t err;
	long before = atomic_load(&g_failed_calls);
	XREQUIRE(xchan_go(&r, failer, NULL, &o) == XCHAN_OK);
	take_int(r, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&g_failed_calls),
	    before + 1); /* before the close */
	XCHECK(strcmp(g_failed_name, "failer-task") == 0);
	XCHECK_ERR(g_failed_err, XCHAN_ETASK);
	xchan_chan_release(r);

	o.name = "failing-thread";
	XREQUIRE(xchan_thread(&r, failer, NULL, &o) == XCHAN_OK);
	take_int(r, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	XCHECK(strcmp(g_failed_name, "failing-thread") == 0);
	xchan_chan_release(r);

	/* A default name names the task too. */
	XREQUIRE(xchan_go(&r, failer, NULL, NULL) == XCHAN_OK);
	take_int(r, &err);
	XCHECK(strncmp(g_failed_name, "go-", 3) == 0);
	xchan_chan_release(r);
	xchan_set_task_error_hook(NULL, NULL);
}

static _Atomic int g_ran_without_stack;

static int32_t
must_not_run(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	atomic_store(&g_ran_without_stack, 1);
	return XCHAN_OK;
}

/* The stack is mapped when a task first runs: a stack the system cannot map
 * (1 PiB) fails the task then, through the hook, without running it. */
XTEST(unmappable_stack_fails_task_at_start)
{
	xchan_set_task_error_hook(record_failure, NULL);
	xchan_go_opts o = {.size = sizeof(o),
	    .name = "huge-stack",
	    .stack_size = UINT64_C(1) << 50};
	xchan_chan *r;
	int32_t err;
	long before = atomic_load(&g_failed_calls);
	XREQUIRE(xchan_go(&r, must_not_run, NULL, &o) == XCHAN_OK);
	take_int(r, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&g_failed_calls), before + 1);
	XCHECK(strcmp(g_failed_name, "huge-stack") == 0);
	XCHECK_ERR(g_failed_err, XCHAN_ENOMEM);
	XCHECK_EQ(atomic_load(&g_ran_without_stack), 0);
	xchan_chan_release(r);
	xchan_set_task_error_hook(NULL, NULL);
}

/* ---- thread and io_thread ------------------------------------------------------------- */

static int32_t
name_of_thread(void *arg, xchan_val *out)
{
	char name[32] = "";
	pthread_getname_np(pthread_self(), name, sizeof(name));
	usleep(1000); /* blocking is fine here */
	return xchan_val_string(out, name, strlen(name));
}

static int
thread_name_is(int io, const char *prefix)
{
	xchan_chan *r;
	xchan_val v;
	int ok = 0;
	int32_t err = io ? xchan_io_thread(&r, name_of_thread, NULL, NULL)
	                 : xchan_thread(&r, name_of_thread, NULL, NULL);
	if (err != XCHAN_OK)
		return 0;
	if (xchan_take(&v, r, xchan_deadline_in_ms(10000)) == XCHAN_OK) {
		const char *s;
		size_t n;
		if (xchan_get_string(v, &s, &n) == XCHAN_OK)
			ok = strncmp(s, prefix, strlen(prefix)) == 0;
		xchan_val_release(v);
	}
	xchan_chan_release(r);
	return ok;
}

XTEST(thread_and_io_thread)
{
	XCHECK(thread_name_is(0, "xchan-mixed-"));
	XCHECK(thread_name_is(1, "xchan-io-"));
}

/* Blocking operations chain across two io-threads (core.async io-thread-tests). */
static int32_t
io_relay(void *arg, xchan_val *out)
{
	xchan_chan **chs = arg;
	xchan_val v;
	int32_t err = xchan_take(&v, chs[0], xchan_deadline_in_ms(10000));
	if (err != XCHAN_OK)
		return err;
	*out = v;
	return xchan_put(chs[1], xchan_val_retain(v),
	    xchan_deadline_in_ms(10000));
}

XTEST(io_threads_chain_blocking_ops)
{
	xchan_chan *a, *b, *c, *r1, *r2;
	XREQUIRE(xchan_chan_make(&a, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&b, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&c, XCHAN_BUF_FIXED, 1) == XCHAN_OK);
	xchan_chan *ab[2] = {a, b}, *bc[2] = {b, c};
	XREQUIRE(xchan_io_thread(&r2, io_relay, bc, NULL) == XCHAN_OK);
	XREQUIRE(xchan_io_thread(&r1, io_relay, ab, NULL) == XCHAN_OK);
	XCHECK_ERR(xchan_put(a, xchan_val_int(7), xchan_deadline_in_ms(10000)),
	    XCHAN_OK);
	int32_t err;
	XCHECK_EQ(take_int(c, &err), 7);
	XCHECK_EQ(take_int(r1, &err), 7);
	XCHECK_EQ(take_int(r2, &err), 7);
	xchan_chan_release(r1);
	xchan_chan_release(r2);
	xchan_chan_release(a);
	xchan_chan_release(b);
	xchan_chan_release(c);
}

/* ---- go-checking ------------------------------------------------------------------------- */

static char g_slow_name[64];
static _Atomic long g_slow_calls;

static void
record_slow(void *user, const char *name, int64_t held_ms)
{
	(void)user;
	if (held_ms >= 40 && atomic_load(&g_slow_calls) == 0)
		snprintf(g_slow_name, sizeof(g_slow_name), "%s", name);
	atomic_fetch_add(&g_slow_calls, 1);
}

static int32_t
sleepy(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	/* A blocking call in a go task: holds the worker. */
	int64_t dl = xchan_now() + 2000000000LL;
	while (atomic_load(&g_slow_calls) == 0 && xchan_now() < dl)
		usleep(5000);
	return XCHAN_OK;
}

XTEST(go_checking_names_blocking_task)
{
	XREQUIRE(xchan_set_go_checking(40, record_slow, NULL) == XCHAN_OK);
	xchan_go_opts o = {.size = sizeof(o), .name = "sleepy-task"};
	xchan_chan *r;
	int32_t err;
	XREQUIRE(xchan_go(&r, sleepy, NULL, &o) == XCHAN_OK);
	take_int(r, &err);
	XCHECK(atomic_load(&g_slow_calls) >= 1);
	XCHECK(strcmp(g_slow_name, "sleepy-task") == 0);
	xchan_chan_release(r);
	/* Well-behaved tasks are not reported. */
	long calls = atomic_load(&g_slow_calls);
	XREQUIRE(xchan_go(&r, answer, NULL, NULL) == XCHAN_OK);
	take_int(r, &err);
	xchan_chan_release(r);
	XCHECK_EQ(atomic_load(&g_slow_calls), calls);
	XCHECK_ERR(xchan_set_go_checking(0, NULL, NULL), XCHAN_OK);
}

/* ---- custom executors through the factory ------------------------------------------------ */

typedef struct myexec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct {
		xchan_task_fn fn;
		void *arg;
	} q[4096];
	unsigned head, tail;
	_Atomic long executed;
	pthread_t thread;
	int stop;
	_Atomic int closed;
} myexec;

static void *
myexec_main(void *p)
{
	myexec *m = p;
	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (m->head == m->tail && !m->stop)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->head == m->tail)
			break;
		xchan_task_fn fn = m->q[m->head % 4096].fn;
		void *arg = m->q[m->head % 4096].arg;
		m->head++;
		pthread_mutex_unlock(&m->mu);
		fn(arg);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

static int32_t
myexec_execute(void *self, xchan_task_fn fn, void *arg)
{
	myexec *m = self;
	pthread_mutex_lock(&m->mu);
	if (m->tail - m->head >= 4096 || m->stop) {
		pthread_mutex_unlock(&m->mu);
		return XCHAN_ENOMEM;
	}
	m->q[m->tail % 4096].fn = fn;
	m->q[m->tail % 4096].arg = arg;
	m->tail++;
	atomic_fetch_add(&m->executed, 1);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return XCHAN_OK;
}

static void
myexec_close(void *self)
{
	myexec *m = self;
	pthread_mutex_lock(&m->mu);
	m->stop = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	atomic_store(&m->closed, 1);
}

static const xchan_executor_vtbl myexec_vt = {
    .size = sizeof(xchan_executor_vtbl),
    .execute = myexec_execute,
    .close = myexec_close,
};

static myexec g_my = {.mu = PTHREAD_MUTEX_INITIALIZER,
    .cv = PTHREAD_COND_INITIALIZER};
static xchan_executor *g_my_ex;
static uint32_t g_my_workload; /* which workload the factory serves */
static _Atomic long g_factory_calls[4];

static xchan_executor *
my_factory(void *user, uint32_t workload)
{
	XCHECK(user == &g_my);
	if (workload < 4)
		atomic_fetch_add(&g_factory_calls[workload], 1);
	return workload == g_my_workload ? g_my_ex : NULL;
}

#define NGATE 20

static int32_t
which_thread(void *arg, xchan_val *out)
{
	/* Each take registers before the task switches out, so a put that
	 * sees it may still complete it without a park; twenty rounds make a
	 * real park (a resume through execute()) certain. */
	for (int i = 0; i < NGATE; i++) {
		xchan_val v;
		int32_t err = xchan_take(&v, arg, xchan_deadline_in_ms(10000));
		if (err != XCHAN_OK)
			return err;
		xchan_val_release(v);
	}
	*out = xchan_val_bool(pthread_equal(pthread_self(), g_my.thread));
	return XCHAN_OK;
}

static void
factory_child(uint32_t workload)
{
	g_my_workload = workload;
	XREQUIRE(pthread_create(&g_my.thread, NULL, myexec_main, &g_my) == 0);
	XREQUIRE(xchan_executor_new(&g_my_ex, &myexec_vt, &g_my) == XCHAN_OK);
	XREQUIRE(xchan_set_executor_factory(my_factory, &g_my) == XCHAN_OK);
	XCHECK_ERR(xchan_set_executor_factory(my_factory, &g_my), XCHAN_ESTATE);
	xchan_chan *r, *gate;
	xchan_val v;
	XREQUIRE(xchan_chan_make(&gate, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_go(&r, which_thread, gate, NULL) == XCHAN_OK);
	for (int i = 0; i < NGATE; i++) {
		xchan_chan_info info = {.size = sizeof(info)};
		int64_t dl = xt_deadline_s(10);
		do {
			xchan_chan_info_get(&info, gate);
		} while (info.pending_takes == 0 && xchan_now() < dl &&
		         usleep(1000) == 0);
		XCHECK_ERR(xchan_put(gate, xchan_val_int(1),
		               xchan_deadline_in_ms(10000)),
		    XCHAN_OK);
	}
	xchan_chan_release(gate);
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	int32_t on_mine = 0;
	xchan_get_bool(v, &on_mine);
	XCHECK_EQ(on_mine, 1);
	xchan_chan_release(r);
	/* The first slice and the resume after the park: two executes. */
	XCHECK(atomic_load(&g_my.executed) >= 2);
	xchan_executor *e;
	XCHECK_ERR(xchan_executor_for(&e, XCHAN_WORKLOAD_DISPATCH), XCHAN_OK);
	XCHECK(e == g_my_ex);
	XCHECK_EQ(atomic_load(&g_factory_calls[XCHAN_WORKLOAD_DISPATCH]), 1);
	XCHECK_EQ(atomic_load(&g_factory_calls[XCHAN_WORKLOAD_MIXED]),
	    workload == XCHAN_WORKLOAD_MIXED ? 1 : 0);
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
	XCHECK_EQ(atomic_load(&g_my.closed), 1);
	XCHECK_ERR(xchan_go(&r, answer, NULL, NULL), XCHAN_ESHUTDOWN);
}

XTEST(child_factory_dispatch)
{
	XCHILD_ONLY();
	factory_child(XCHAN_WORKLOAD_DISPATCH);
}

XTEST(child_factory_nil_dispatch_uses_mixed)
{
	XCHILD_ONLY();
	factory_child(XCHAN_WORKLOAD_MIXED);
}

XTEST(factory_executor_sees_tasks)
{
	char out[4096];
	int st =
	    xchild_run("child_factory_dispatch", NULL, NULL, out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
	st = xchild_run("child_factory_nil_dispatch_uses_mixed", NULL, NULL,
	    out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

XTEST(factory_after_first_use_is_estate)
{
	xchan_executor *e;
	XREQUIRE(xchan_executor_for(&e, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	XCHECK_ERR(xchan_set_executor_factory(my_factory, NULL), XCHAN_ESTATE);
}

/* ---- the factory named by the environment -------------------------------------------------- */

XTEST(child_env_factory_fails)
{
	XCHILD_ONLY();
	xchan_executor *e;
	XCHECK_ERR(xchan_executor_for(&e, XCHAN_WORKLOAD_IO), XCHAN_ELOAD);
	XCHECK_ERR(xchan_executor_for(&e, XCHAN_WORKLOAD_DISPATCH),
	    XCHAN_ELOAD);
	xchan_chan *r;
	XCHECK_ERR(xchan_go(&r, answer, NULL, NULL), XCHAN_ELOAD);
}

XTEST(env_factory_bad_library_is_eload)
{
	char out[8192];
	int st = xchild_run("child_env_factory_fails",
	    "XCHAN_EXECUTOR_FACTORY=/nonexistent/libnope.so:nope_factory", NULL,
	    out, sizeof(out));
	XCHECK(xchild_ok(st));
	XCHECK(strstr(out, "/nonexistent/libnope.so") != NULL);
	XCHECK(strstr(out, "nope_factory") != NULL);
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	/* A library that loads but lacks the symbol. */
	st = xchild_run("child_env_factory_fails",
	    "XCHAN_EXECUTOR_FACTORY=libc.so.6:xchan_no_such_factory", NULL, out,
	    sizeof(out));
	XCHECK(xchild_ok(st));
	XCHECK(strstr(out, "libc.so.6") != NULL);
	XCHECK(strstr(out, "xchan_no_such_factory") != NULL);
}

#ifdef XCHAN_TEST_FACTORY_LIB
/* A factory library named by the environment reaches this (statically
 * linked) core through the function table it gets as `user`: its executors
 * run thread, io_thread and (DISPATCH falling back to MIXED) go tasks. */
static int
count_lines(const char *path, const char *word)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	char line[64];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, word, strlen(word)) == 0 &&
		    line[strlen(word)] == '\n')
			n++;
	fclose(f);
	return n;
}

static int32_t
go_thread_name(void *arg, xchan_val *out)
{
	(void)arg;
	char name[32] = "";
	pthread_getname_np(pthread_self(), name, sizeof(name));
	return xchan_val_string(out, name, strlen(name));
}

static int
task_ran_on(int kind, const char *want)
{
	xchan_chan *r = NULL;
	int32_t rc = kind == 0 ? xchan_go(&r, go_thread_name, NULL, NULL)
	             : kind == 1
	                 ? xchan_thread(&r, name_of_thread, NULL, NULL)
	                 : xchan_io_thread(&r, name_of_thread, NULL, NULL);
	if (rc != XCHAN_OK)
		return 0;
	xchan_val v;
	int ok = xchan_take(&v, r, xchan_deadline_in_ms(10000)) == XCHAN_OK;
	const char *s;
	size_t n;
	ok = ok && xchan_get_string(v, &s, &n) == XCHAN_OK &&
	     n == strlen(want) && memcmp(s, want, n) == 0;
	if (!ok)
		fprintf(stderr, "task kind %d: expected thread %s\n", kind,
		    want);
	xchan_val_release(v);
	xchan_chan_release(r);
	return ok;
}

XTEST(child_env_factory_runs_tasks)
{
	XCHILD_ONLY();
	const char *log = getenv("XCHAN_TEST_FACTORY_LOG");
	XREQUIRE(log != NULL);
	xchan_executor *d, *m;
	XREQUIRE(xchan_executor_for(&d, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	XREQUIRE(xchan_executor_for(&m, XCHAN_WORKLOAD_MIXED) == XCHAN_OK);
	XCHECK(d == m); /* the factory's NULL for DISPATCH: MIXED's */
	XCHECK(task_ran_on(1, "xtf-mixed"));
	XCHECK(task_ran_on(2, "xtf-io"));
	XCHECK(task_ran_on(0, "xtf-mixed"));
	XCHECK(count_lines(log, "mixed") >= 2);
	XCHECK(count_lines(log, "io") >= 1);
}

XTEST(env_factory_from_a_library_runs_tasks)
{
	char out[8192], logenv[128];
	snprintf(logenv, sizeof(logenv),
	    "XCHAN_TEST_FACTORY_LOG=/tmp/xchan-go_test-factory-%d.log",
	    (int)getpid());
	unlink(logenv + strlen("XCHAN_TEST_FACTORY_LOG="));
	int st = xchild_run("child_env_factory_runs_tasks",
	    "XCHAN_EXECUTOR_FACTORY=" XCHAN_TEST_FACTORY_LIB
	    ":xchan_test_factory",
	    logenv, out, sizeof(out));
	XCHECK(xchild_ok(st));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	unlink(logenv + strlen("XCHAN_TEST_FACTORY_LOG="));
}
#endif

/* ---- shutdown and exit ------------------------------------------------------------------------ */

static int32_t
try_shutdown(void *arg, xchan_val *out)
{
	(void)arg;
	*out = xchan_val_int(xchan_shutdown());
	return XCHAN_OK;
}

XTEST(child_shutdown)
{
	XCHILD_ONLY();
	xchan_chan *r;
	int32_t err;
	XREQUIRE(xchan_go(&r, try_shutdown, NULL, NULL) == XCHAN_OK);
	XCHECK_EQ(take_int(r, &err), XCHAN_ESTATE);
	xchan_chan_release(r);
	XREQUIRE(xchan_thread(&r, try_shutdown, NULL, NULL) == XCHAN_OK);
	XCHECK_EQ(take_int(r, &err), XCHAN_ESTATE);
	xchan_chan_release(r);
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
	XCHECK_ERR(xchan_go(&r, answer, NULL, NULL), XCHAN_ESHUTDOWN);
	XCHECK_ERR(xchan_thread(&r, answer, NULL, NULL), XCHAN_ESHUTDOWN);
	xchan_executor *e;
	XCHECK_ERR(xchan_executor_for(&e, XCHAN_WORKLOAD_MIXED),
	    XCHAN_ESHUTDOWN);
	/* Channels stay usable from our own threads. */
	xchan_chan *ch;
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1) == XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_POLL),
	    XCHAN_OK);
	XCHECK_EQ(take_int(ch, &err), 1);
	xchan_chan_release(ch);
}

/* Returns from main with a task parked for ever and a thread task busy:
 * the process must still exit promptly. */
static int32_t
park_forever(void *arg, xchan_val *out)
{
	(void)out;
	int32_t err;
	take_int_until(arg, &err, XCHAN_DEADLINE_NEVER);
	return XCHAN_OK;
}

static int32_t
busy_thread(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	usleep(50000);
	return XCHAN_OK;
}

XTEST(child_exit_with_work_left)
{
	XCHILD_ONLY();
	static xchan_chan *ch;
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_go(NULL, park_forever, ch, NULL) == XCHAN_OK);
	XREQUIRE(xchan_thread(NULL, busy_thread, NULL, NULL) == XCHAN_OK);
	XREQUIRE(xchan_io_thread(NULL, busy_thread, NULL, NULL) == XCHAN_OK);
	/* main returns after this test; atexit runs the shutdown. */
}

XTEST(shutdown_and_exit)
{
	char out[4096];
	int st = xchild_run("child_shutdown", NULL, NULL, out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
	int64_t t0 = xchan_now();
	st = xchild_run("child_exit_with_work_left", NULL, NULL, out,
	    sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
	/* Bounded: well under the harness's hang alarm. */
	XCHECK(xchan_now() - t0 < 10 * 1000000000LL);
}

XTEST_MAIN()
