/*
 * sched_test.c — liveness of the scheduler: no task is stranded behind a
 * worker stuck in a long item (the pool's monitor), the monitor costs
 * nothing while the pool is idle, and waits that must not spin do not.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "alts.h"
#include "common.h"
#include "exec.h"
#include "gosched.h"
#include "lock.h"
#include "platform/platform.h"
#include "pool.h"
#include "sel.h"
#include "testing/xchild.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

/* How long a stranded item may wait for another worker.  The monitor's
 * bound is ~2 x 5 ms; the margin is for a loaded CI machine (and TSan). */
#define RETAKE_DEADLINE_NS 2000000000LL
/* How long a stuck item blocks at most: the test fails long before. */
#define STUCK_LIMIT_NS 10000000000LL

static void
pool_wait_sleeping(xchan__pool *p, uint32_t n, int seconds)
{
	int64_t dl = xt_deadline_s(seconds);
	xchan__pool_stats s;
	do {
		xchan__pool_get_stats(p, &s);
	} while (s.sleeping < n && xchan_now() < dl && usleep(200) == 0);
}

/* ---- a worker stuck in a long item: its run-next and local items move ------------ */

static xchan__pool *g_pool;
static _Atomic uint32_t g_ran;     /* futex word: stranded items run */
static _Atomic int g_other_thread; /* they ran on another thread */
static pthread_t g_stuck_tid;
static _Atomic int64_t g_waited_ns;
static _Atomic long g_stuck_done;
static _Atomic uint32_t g_other_slept; /* the other worker was asleep */

static void
stranded_fn(void *arg)
{
	(void)arg;
	if (!pthread_equal(pthread_self(), g_stuck_tid))
		atomic_fetch_add(&g_other_thread, 1);
	atomic_fetch_add(&g_ran, 1);
	xchan__futex_wake(&g_ran, 1);
}

/* Blocks its worker (a futex wait, like a long C call) until `want` items
 * have run, for at most STUCK_LIMIT_NS. */
static void
block_until_ran(uint32_t want)
{
	int64_t t0 = xchan_now(), end = t0 + STUCK_LIMIT_NS;
	uint32_t v;
	while ((v = atomic_load(&g_ran)) < want && xchan_now() < end)
		xchan__futex_wait(&g_ran, v, end);
	atomic_store(&g_waited_ns, xchan_now() - t0);
}

static void
stuck_fn(void *arg)
{
	xchan__pool_node *nodes = arg;
	g_stuck_tid = pthread_self();
	/* The other worker sleeps: no spinning thief will come by. */
	pool_wait_sleeping(g_pool, 1, 10);
	xchan__pool_stats s;
	xchan__pool_get_stats(g_pool, &s);
	atomic_store(&g_other_slept, s.sleeping == 1);
	/* nodes[0] to run-next, then nodes[1] displaces it to the local
	 * queue: both wait for this item to end unless taken. */
	XCHECK_EQ(xchan__pool_push_next(g_pool, &nodes[0]), 1);
	XCHECK_EQ(xchan__pool_push_next(g_pool, &nodes[1]), 1);
	block_until_ran(2);
	atomic_fetch_add(&g_stuck_done, 1);
}

XTEST(stuck_worker_run_next_and_local_are_retaken)
{
	XREQUIRE(xchan__pool_new(&g_pool, 2, "xchan-st") == XCHAN_OK);
	xchan__pool_stats s;
	xchan__pool_get_stats(g_pool, &s);
	XCHECK_EQ(s.has_monitor, 1);
	pool_wait_sleeping(g_pool, 2, 10);
	atomic_store(&g_ran, 0);
	atomic_store(&g_other_thread, 0);
	xchan__pool_node nodes[2] = {{.fn = stranded_fn, .arg = NULL},
	    {.fn = stranded_fn, .arg = NULL}};
	XREQUIRE(xchan__pool_execute(g_pool, stuck_fn, nodes) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_stuck_done, 1, 30), 1);
	XCHECK_EQ(atomic_load(&g_other_slept), 1);
	XCHECK_EQ(atomic_load(&g_ran), 2);
	XCHECK_EQ(atomic_load(&g_other_thread), 2);
	int64_t waited = atomic_load(&g_waited_ns);
	fprintf(stderr, "  stranded items ran after %.2f ms\n", waited / 1e6);
	XCHECK(waited < RETAKE_DEADLINE_NS);
	xchan__pool_get_stats(g_pool, &s);
	XCHECK_EQ(s.retakes, 2);
	xchan__pool_stop_begin(g_pool, xchan_now() + 1000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(g_pool, -1), 1);
	xchan__pool_free(g_pool);
}

/* The monitor parks while every worker sleeps (no periodic wake-ups of an
 * idle process), and comes back when work arrives. */
XTEST(monitor_parks_while_the_pool_is_idle)
{
	xchan__pool *p;
	XREQUIRE(xchan__pool_new(&p, 2, "xchan-id") == XCHAN_OK);
	pool_wait_sleeping(p, 2, 10);
	xchan__pool_stats s0, s1;
	/* Its next look sees everyone asleep and parks (<= 5 ms). */
	int64_t dl = xt_deadline_s(10);
	do {
		xchan__pool_get_stats(p, &s0);
		usleep(20000);
		xchan__pool_get_stats(p, &s1);
	} while (s1.monitor_looks != s0.monitor_looks && xchan_now() < dl);
	usleep(200000);
	xchan__pool_get_stats(p, &s1);
	fprintf(stderr, "  monitor looks while idle for 200 ms: %llu\n",
	    (unsigned long long)(s1.monitor_looks - s0.monitor_looks));
	/* Unparked it would look every 5 ms: 40 times. */
	XCHECK(s1.monitor_looks - s0.monitor_looks <= 1);
	/* Work wakes a worker, which unparks the monitor; it then keeps
	 * looking while that worker is busy. */
	atomic_store(&g_ran, 0);
	g_pool = p;
	xchan__pool_node nodes[2] = {{.fn = stranded_fn, .arg = NULL},
	    {.fn = stranded_fn, .arg = NULL}};
	atomic_store(&g_stuck_done, 0);
	XREQUIRE(xchan__pool_execute(p, stuck_fn, nodes) == XCHAN_OK);
	XCHECK_EQ(xt_wait_count(&g_stuck_done, 1, 30), 1);
	XCHECK_EQ(atomic_load(&g_ran), 2);
	xchan__pool_get_stats(p, &s1);
	XCHECK(s1.monitor_looks > s0.monitor_looks);
	xchan__pool_stop_begin(p, xchan_now() + 1000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(p, -1), 1);
	xchan__pool_free(p);
	/* A pool of one has nobody to hand work to: no monitor. */
	XREQUIRE(xchan__pool_new(&p, 1, "xchan-one") == XCHAN_OK);
	xchan__pool_get_stats(p, &s0);
	XCHECK_EQ(s0.has_monitor, 0);
	xchan__pool_stop_begin(p, xchan_now() + 1000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(p, -1), 1);
	xchan__pool_free(p);
}

/* ---- the same with go tasks: a task blocks its worker in a long C call right
 * after readying another task (which goes to that worker's run-next slot) -- */

typedef struct stuck_go {
	xchan_chan *ch;
	_Atomic uint32_t taken; /* futex word */
	pthread_t blocker;
	_Atomic int other_thread;
	_Atomic int64_t waited_ns;
} stuck_go;

static int32_t
readied_task(void *arg, xchan_val *out)
{
	(void)out;
	stuck_go *g = arg;
	xchan_val v;
	if (xchan_take(&v, g->ch, xchan_deadline_in_ms(30000)) != XCHAN_OK)
		return XCHAN_ETASK;
	if (!pthread_equal(pthread_self(), g->blocker))
		atomic_store(&g->other_thread, 1);
	atomic_store(&g->taken, 1);
	xchan__futex_wake(&g->taken, 1);
	return XCHAN_OK;
}

static int32_t
blocking_task(void *arg, xchan_val *out)
{
	(void)out;
	stuck_go *g = arg;
	g->blocker = pthread_self();
	/* Readies readied_task: the put completes its parked take, and the
	 * wake puts it in this worker's run-next slot. */
	if (xchan_put(g->ch, xchan_val_int(1), xchan_deadline_in_ms(30000)) !=
	    XCHAN_OK)
		return XCHAN_ETASK;
	/* A long C call that never parks: waits for the readied task. */
	int64_t t0 = xchan_now(), end = t0 + STUCK_LIMIT_NS;
	while (atomic_load(&g->taken) == 0 && xchan_now() < end)
		xchan__futex_wait(&g->taken, 0, end);
	atomic_store(&g->waited_ns, xchan_now() - t0);
	return XCHAN_OK;
}

XTEST(child_go_task_readied_by_blocked_worker_runs_elsewhere)
{
	XCHILD_ONLY();
	xchan_executor *ex;
	XREQUIRE(xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) == XCHAN_OK);
	xchan__pool *pool = xchan__exec_pool(ex);
	XREQUIRE(pool != NULL);
	static stuck_go g;
	XREQUIRE(xchan_chan_make(&g.ch, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	xchan_chan *r1, *r2;
	XREQUIRE(xchan_go(&r1, readied_task, &g, NULL) == XCHAN_OK);
	XCHECK(xt_wait_pending(g.ch, 1, 0, 10000));
	pool_wait_sleeping(pool, 2, 10);
	XREQUIRE(xchan_go(&r2, blocking_task, &g, NULL) == XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r2, xchan_deadline_in_ms(30000)),
	    XCHAN_ECLOSED);
	XCHECK_ERR(xchan_take(&v, r1, xchan_deadline_in_ms(30000)),
	    XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&g.taken), 1);
	XCHECK_EQ(atomic_load(&g.other_thread), 1);
	int64_t waited = atomic_load(&g.waited_ns);
	fprintf(stderr, "  readied task ran after %.2f ms\n", waited / 1e6);
	XCHECK(waited < RETAKE_DEADLINE_NS);
	xchan_chan_release(r1);
	xchan_chan_release(r2);
	xchan_chan_release(g.ch);
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
}

XTEST(go_task_readied_by_blocked_worker_runs_elsewhere)
{
	char out[4096];
	int st =
	    xchild_run("child_go_task_readied_by_blocked_worker_runs_elsewhere",
	        "XCHAN_DISPATCH_THREADS=2", NULL, out, sizeof(out));
	fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

/* ---- symmetric crossing alts back off between abandoned rounds ------------------- */

/* Two parties run alts {put a, take b} and {put b, take a} (priority
 * order) in lockstep: each registers its put, then finds the other's put
 * waiter on the channel it wants to take from, and abandons its round.
 * Without a backoff both retry at once and can keep abandoning together;
 * with it, the streak of abandoned rounds of one alts stays short. */
#define CROSS_ROUNDS 20000
static xchan_chan *g_cross[2];
static _Atomic int g_cross_go; /* start line */
static _Atomic long g_cross_fail;

static void
cross_rounds(int side)
{
	for (int i = 0; i < CROSS_ROUNDS; i++) {
		xchan_clause cl[2] = {{XCHAN_ALT_PUT, 0, g_cross[side],
		                          xchan_val_int(i)},
		    {XCHAN_ALT_TAKE, 0, g_cross[!side], {0, 0, 0}}};
		xchan_result r;
		if (xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY,
		        xchan_deadline_in_ms(10000)) != XCHAN_OK)
			atomic_fetch_add(&g_cross_fail, 1);
	}
}

static void *
cross_thread(void *arg)
{
	while (!atomic_load(&g_cross_go))
		xchan__cpu_relax();
	cross_rounds((int)(intptr_t)arg);
	return NULL;
}

static int32_t
cross_task(void *arg, xchan_val *out)
{
	(void)out;
	cross_rounds((int)(intptr_t)arg);
	return XCHAN_OK;
}

static void
cross_report(const char *how, const xchan__alts_stats *a,
    const xchan__alts_stats *b)
{
	fprintf(stderr,
	    "  %s: %d crossings per side, %llu abandoned rounds, at most "
	    "%llu in a row\n",
	    how, CROSS_ROUNDS,
	    (unsigned long long)(b->abandoned - a->abandoned),
	    (unsigned long long)b->max_in_a_row);
}

/* Most abandoned rounds one alts may see.  With the backoff a streak ends
 * within a few rounds (measured: <= 12 over 10 runs on 2 loaded cores); in
 * lockstep without it, streaks of hundreds were seen. */
#define CROSS_MAX_IN_A_ROW 64

XTEST(child_crossing_alts_back_off_threads)
{
	XCHILD_ONLY();
	xchan__alts_stats a, b;
	xchan__alts_get_stats(&a);
	for (int k = 0; k < 2; k++)
		XREQUIRE(xchan_chan_make(&g_cross[k], XCHAN_BUF_NONE, 0) ==
		         XCHAN_OK);
	xt_thread t0, t1;
	xt_start(&t0, cross_thread, (void *)0);
	xt_start(&t1, cross_thread, (void *)1);
	atomic_store(&g_cross_go, 1);
	xt_join(&t0);
	xt_join(&t1);
	xchan__alts_get_stats(&b);
	cross_report("threads", &a, &b);
	XCHECK_EQ(atomic_load(&g_cross_fail), 0);
	XCHECK(b.max_in_a_row <= CROSS_MAX_IN_A_ROW);
	for (int k = 0; k < 2; k++)
		xchan_chan_release(g_cross[k]);
}

XTEST(child_crossing_alts_back_off_tasks)
{
	XCHILD_ONLY();
	xchan__alts_stats a, b;
	xchan__alts_get_stats(&a);
	for (int k = 0; k < 2; k++)
		XREQUIRE(xchan_chan_make(&g_cross[k], XCHAN_BUF_NONE, 0) ==
		         XCHAN_OK);
	xchan_chan *r[2];
	for (int k = 0; k < 2; k++)
		XREQUIRE(xchan_go(&r[k], cross_task, (void *)(intptr_t)k,
		             NULL) == XCHAN_OK);
	for (int k = 0; k < 2; k++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, r[k], xchan_deadline_in_ms(60000)),
		    XCHAN_ECLOSED);
		xchan_chan_release(r[k]);
	}
	xchan__alts_get_stats(&b);
	cross_report("go tasks", &a, &b);
	XCHECK_EQ(atomic_load(&g_cross_fail), 0);
	XCHECK(b.max_in_a_row <= CROSS_MAX_IN_A_ROW);
	for (int k = 0; k < 2; k++)
		xchan_chan_release(g_cross[k]);
}

/* The same crossing with a wide window: 64 never-ready take clauses
 * between each side's put and its take of the other's channel, so both
 * register their put long before either looks at the other's channel, and
 * a failed round costs both the same time: the strongest lockstep. */
#define WIDE_DUMMIES 64
#define WIDE_ROUNDS 2000
static xchan_chan *g_dummy[2][WIDE_DUMMIES];

static void *
wide_cross_thread(void *arg)
{
	int side = (int)(intptr_t)arg;
	xchan_clause cl[WIDE_DUMMIES + 2];
	while (!atomic_load(&g_cross_go))
		xchan__cpu_relax();
	for (int i = 0; i < WIDE_ROUNDS; i++) {
		cl[0] = (xchan_clause) {XCHAN_ALT_PUT, 0, g_cross[side],
		    xchan_val_int(i)};
		for (int k = 0; k < WIDE_DUMMIES; k++)
			cl[1 + k] = (xchan_clause) {XCHAN_ALT_TAKE, 0,
			    g_dummy[side][k], {0, 0, 0}};
		cl[WIDE_DUMMIES + 1] = (xchan_clause) {XCHAN_ALT_TAKE, 0,
		    g_cross[!side], {0, 0, 0}};
		xchan_result r;
		if (xchan_alts(&r, cl, WIDE_DUMMIES + 2, XCHAN_ALTS_PRIORITY,
		        xchan_deadline_in_ms(10000)) != XCHAN_OK)
			atomic_fetch_add(&g_cross_fail, 1);
	}
	return NULL;
}

XTEST(child_wide_crossing_alts_back_off)
{
	XCHILD_ONLY();
	for (int k = 0; k < 2; k++) {
		XREQUIRE(xchan_chan_make(&g_cross[k], XCHAN_BUF_NONE, 0) ==
		         XCHAN_OK);
		for (int j = 0; j < WIDE_DUMMIES; j++)
			XREQUIRE(xchan_chan_make(&g_dummy[k][j], XCHAN_BUF_NONE,
			             0) == XCHAN_OK);
	}
	xchan__alts_stats a, b;
	xchan__alts_get_stats(&a);
	xt_thread t0, t1;
	xt_start(&t0, wide_cross_thread, (void *)0);
	xt_start(&t1, wide_cross_thread, (void *)1);
	atomic_store(&g_cross_go, 1);
	xt_join(&t0);
	xt_join(&t1);
	xchan__alts_get_stats(&b);
	fprintf(stderr,
	    "  wide window: %d crossings per side, %llu abandoned rounds, at "
	    "most %llu in a row\n",
	    WIDE_ROUNDS, (unsigned long long)(b.abandoned - a.abandoned),
	    (unsigned long long)b.max_in_a_row);
	XCHECK_EQ(atomic_load(&g_cross_fail), 0);
	XCHECK(b.max_in_a_row <= CROSS_MAX_IN_A_ROW);
	for (int k = 0; k < 2; k++) {
		xchan_chan_release(g_cross[k]);
		for (int j = 0; j < WIDE_DUMMIES; j++)
			xchan_chan_release(g_dummy[k][j]);
	}
}

XTEST(crossing_alts_back_off)
{
	char out[4096];
	int st = xchild_run("child_crossing_alts_back_off_threads", NULL, NULL,
	    out, sizeof(out));
	fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
	st = xchild_run("child_crossing_alts_back_off_tasks",
	    "XCHAN_DISPATCH_THREADS=2", NULL, out, sizeof(out));
	fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
	st = xchild_run("child_wide_crossing_alts_back_off", NULL, NULL, out,
	    sizeof(out));
	fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

/* The backoff itself: the first retry does not wait; later ones wait
 * longer and longer; from the 8th round a go task yields its worker, so a
 * task queued behind it runs (one worker: a spin would keep it out). */
static _Atomic int g_bystander_ran;

static int32_t
bystander_task(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	atomic_store(&g_bystander_ran, 1);
	return XCHAN_OK;
}

static int32_t
backoff_task(void *arg, xchan_val *out)
{
	(void)arg;
	xchan_chan *r;
	if (xchan_go(&r, bystander_task, NULL, NULL) != XCHAN_OK)
		return XCHAN_ETASK;
	xchan_chan_release(r);
	/* bystander sits in this worker's run-next slot. */
	for (unsigned round = 1; round <= 7; round++)
		xchan__alts_backoff(round); /* spins only */
	int before = atomic_load(&g_bystander_ran);
	xchan__alts_backoff(8); /* yields */
	int after = atomic_load(&g_bystander_ran);
	*out = xchan_val_int(before * 10 + after);
	return XCHAN_OK;
}

XTEST(child_alts_backoff_yields_a_go_task)
{
	XCHILD_ONLY();
	xchan_chan *r;
	XREQUIRE(xchan_go(&r, backoff_task, NULL, NULL) == XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(30000)), XCHAN_OK);
	int64_t got = -1;
	xchan_get_int(v, &got);
	XCHECK_EQ(got, 1); /* not run while spinning, run during the yield */
	xchan_chan_release(r);
}

XTEST(alts_backoff_grows_then_yields)
{
	xchan__alts_stats a, b;
	xchan__alts_get_stats(&a);
	/* Round 1 costs nothing but the count; round 7 waits up to 64
	 * pauses (random, so take the longest of a few). */
	int64_t t0 = xchan_now();
	for (int i = 0; i < 1000; i++)
		xchan__alts_backoff(1);
	int64_t first = xchan_now() - t0;
	xchan__alts_get_stats(&b);
	XCHECK_EQ(b.abandoned - a.abandoned, 1000);
	XCHECK(b.max_in_a_row >= 1);
	int64_t longest = 0;
	for (int i = 0; i < 1000; i++) {
		int64_t s = xchan_now();
		xchan__alts_backoff(7);
		int64_t d = xchan_now() - s;
		if (d > longest)
			longest = d;
	}
	fprintf(stderr, "  1000 first retries: %lld ns; longest 7th: %lld ns\n",
	    (long long)first, (long long)longest);
	char out[4096];
	int st = xchild_run("child_alts_backoff_yields_a_go_task",
	    "XCHAN_DISPATCH_THREADS=1", NULL, out, sizeof(out));
	fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

/* ---- every spin is bounded: a waiter held up for long sleeps ------------------------ */

/* How long the other side holds things up, and the CPU a bounded waiter may
 * burn meanwhile (an unbounded spin would burn all of HOLD_NS). */
#define HOLD_NS 300000000LL
#define WAITER_CPU_MAX_NS 60000000LL

static int64_t
thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static xchan__lock g_held;
static _Atomic int64_t g_waiter_cpu;
static _Atomic int g_waiter_started;

static void *
lock_waiter(void *arg)
{
	(void)arg;
	int64_t c0 = thread_cpu_ns();
	atomic_store(&g_waiter_started, 1);
	xchan__lock_acquire(&g_held);
	atomic_store(&g_waiter_cpu, thread_cpu_ns() - c0);
	xchan__lock_release(&g_held);
	return NULL;
}

XTEST(lock_waiter_sleeps_behind_a_long_holder)
{
	xchan__lock_acquire(&g_held);
	xt_thread t;
	xt_start(&t, lock_waiter, NULL);
	while (!atomic_load(&g_waiter_started))
		usleep(100);
	struct timespec hold = {0, HOLD_NS};
	nanosleep(&hold, NULL);
	xchan__lock_release(&g_held);
	xt_join(&t);
	int64_t cpu = atomic_load(&g_waiter_cpu);
	fprintf(stderr, "  waiter CPU over a %lld ms hold: %.2f ms\n",
	    HOLD_NS / 1000000, cpu / 1e6);
	XCHECK(cpu < WAITER_CPU_MAX_NS);
}

/* A thread whose operation was claimed by a counterpart that then stalls
 * (preempted between CLAIMED and DONE) spins, yields, then naps. */
static xchan__sel g_claimed_sel;
static _Atomic int32_t g_claimed_err = -1;

static void *
claimed_waiter(void *arg)
{
	(void)arg;
	int64_t c0 = thread_cpu_ns();
	atomic_store(&g_waiter_started, 1);
	int32_t err = xchan__sel_wait(&g_claimed_sel, XCHAN_DEADLINE_NEVER);
	atomic_store(&g_waiter_cpu, thread_cpu_ns() - c0);
	atomic_store(&g_claimed_err, err);
	return NULL;
}

XTEST(claimed_sel_waiter_naps_behind_a_stalled_claimer)
{
	memset(&g_claimed_sel, 0, sizeof(g_claimed_sel));
	xchan__sel_init(&g_claimed_sel);
	uint32_t st = XCHAN__SEL_WAITING;
	XREQUIRE(atomic_compare_exchange_strong(&g_claimed_sel.state, &st,
	    XCHAN__SEL_CLAIMED));
	atomic_store(&g_waiter_started, 0);
	xt_thread t;
	xt_start(&t, claimed_waiter, NULL);
	while (!atomic_load(&g_waiter_started))
		usleep(100);
	struct timespec hold = {0, HOLD_NS};
	nanosleep(&hold, NULL);
	g_claimed_sel.result = (xchan_result) {XCHAN_OK, 0, {0, 0, 0}};
	xchan__sel_finish(&g_claimed_sel);
	xt_join(&t);
	XCHECK_ERR(atomic_load(&g_claimed_err), XCHAN_OK);
	int64_t cpu = atomic_load(&g_waiter_cpu);
	fprintf(stderr, "  waiter CPU over a %lld ms stalled claim: %.2f ms\n",
	    HOLD_NS / 1000000, cpu / 1e6);
	XCHECK(cpu < WAITER_CPU_MAX_NS);
}

/* Idle workers spin about 20 us, then sleep: an idle pool costs no CPU. */
XTEST(idle_pool_workers_sleep)
{
	xchan__pool *p;
	XREQUIRE(xchan__pool_new(&p, 2, "xchan-idle") == XCHAN_OK);
	atomic_store(&g_ran, 0);
	xchan__pool_node n = {.fn = stranded_fn, .arg = NULL};
	XREQUIRE(xchan__pool_push(p, &n) == XCHAN_OK);
	pool_wait_sleeping(p, 2, 10);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	struct timespec hold = {0, HOLD_NS};
	nanosleep(&hold, NULL);
	getrusage(RUSAGE_SELF, &r1);
	int64_t cpu =
	    ((int64_t)(r1.ru_utime.tv_sec + r1.ru_stime.tv_sec) -
	        (int64_t)(r0.ru_utime.tv_sec + r0.ru_stime.tv_sec)) *
	        1000000000LL +
	    ((int64_t)(r1.ru_utime.tv_usec + r1.ru_stime.tv_usec) -
	        (int64_t)(r0.ru_utime.tv_usec + r0.ru_stime.tv_usec)) *
	        1000LL;
	fprintf(stderr,
	    "  process CPU over %lld ms with an idle pool: %.2f ms\n",
	    HOLD_NS / 1000000, cpu / 1e6);
	XCHECK(cpu < WAITER_CPU_MAX_NS);
	xchan__pool_stop_begin(p, xchan_now() + 1000000000LL);
	XCHECK_EQ(xchan__pool_stop_wait(p, -1), 1);
	xchan__pool_free(p);
}

XTEST_MAIN()
