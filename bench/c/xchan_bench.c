/*
 * xchan_bench.c — the xchan side of the benchmarks (bench/README.md).
 *
 *     xchan-bench ROW [--n N] [--cap C]
 *
 * Runs one row through the public API only (xchan.h): OS threads (pthreads)
 * on the blocking API for the "thr" rows, go tasks (xchan_go) for the "task"
 * rows.  Prints exactly one JSON line on stdout:
 *   {"row": ..., "impl": "xchan", "n": N, "cap": C, "ns_per_msg": x, "extra": {...}}
 * and exits non-zero if a check fails (a value lost, duplicated or out of
 * order, an unexpected error code): 1 for a failed check, 2 for bad usage,
 * 4 when the linked libxchan does not define a function the row needs yet.
 *
 * Built with XCHAN_BENCH_NO_WEAK (bench/c/CMakeLists.txt) every xchan
 * function is referenced normally and a missing one fails the link.  Without
 * it (how it was built while the core was being written) references are weak
 * and a row whose functions are missing exits 4 naming them.
 */
#define _GNU_SOURCE
#include <xchan/xchan.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef XCHAN_BENCH_NO_WEAK
#pragma weak xchan_version_string
#pragma weak xchan_err_name
#pragma weak xchan_shutdown
#pragma weak xchan_now
#pragma weak xchan_val_int
#pragma weak xchan_get_int
#pragma weak xchan_chan_make
#pragma weak xchan_chan_release
#pragma weak xchan_chan_close
#pragma weak xchan_put
#pragma weak xchan_take
#pragma weak xchan_offer
#pragma weak xchan_poll
#pragma weak xchan_alts
#pragma weak xchan_timeout
#pragma weak xchan_go
#endif

/* ---- small helpers ---------------------------------------------------- */

static const char *g_row = "?";

static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "xchan-bench: %s: FAILED: ", g_row);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *err_name(int32_t e)
{
	static _Thread_local char buf[32];
	if (xchan_err_name)
		return xchan_err_name(e);
	snprintf(buf, sizeof buf, "error %d", (int)e);
	return buf;
}

/* An xchan call that must return `want`. */
#define EXPECT(call, want)                                                     \
	do {                                                                   \
		int32_t e_ = (call);                                           \
		if (e_ != (want))                                              \
			fail("%s:%d: %s returned %s, expected %s", __FILE__,    \
			    __LINE__, #call, err_name(e_), err_name(want));    \
	} while (0)
#define OK(call) EXPECT(call, XCHAN_OK)

/* Exits with status 4 if any of the listed functions is not in the linked
 * library. */
#define NEED(...)                                                              \
	do {                                                                   \
		const struct {                                                 \
			const char *name;                                      \
			int have;                                              \
		} need_[] = {__VA_ARGS__};                                     \
		int missing_ = 0;                                              \
		for (size_t i_ = 0; i_ < sizeof need_ / sizeof need_[0]; i_++) \
			if (!need_[i_].have) {                                 \
				fprintf(stderr,                                \
				    "xchan-bench: %s: libxchan does not "     \
				    "define %s yet\n",                         \
				    g_row, need_[i_].name);                    \
				missing_ = 1;                                  \
			}                                                      \
		if (missing_)                                                  \
			exit(4);                                               \
	} while (0)
#define F(fn) {#fn, (fn) != NULL}
#define NEED_CORE                                                              \
	F(xchan_val_int), F(xchan_get_int), F(xchan_chan_make),                \
	    F(xchan_chan_release), F(xchan_chan_close), F(xchan_put),          \
	    F(xchan_take)

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t triangle(int64_t n) { return n * (n - 1) / 2; }

/* Worker p of k sends the values [lo, hi): together every value of 0..n-1
 * exactly once. */
static void part(int64_t n, int p, int k, int64_t *lo, int64_t *hi)
{
	*lo = n * p / k;
	*hi = n * (p + 1) / k;
}

static int64_t get_int(xchan_val v)
{
	int64_t x;
	OK(xchan_get_int(v, &x));
	return x;
}

static xchan_chan *make_chan(uint32_t kind, int64_t cap)
{
	xchan_chan *ch = NULL;
	if (kind == XCHAN_BUF_FIXED && cap == 0)
		kind = XCHAN_BUF_NONE;
	OK(xchan_chan_make(&ch, kind, (uint64_t)cap));
	return ch;
}

static void put(xchan_chan *ch, int64_t v)
{
	OK(xchan_put(ch, xchan_val_int(v), XCHAN_DEADLINE_NEVER));
}

/* Takes an int; returns 0 if the channel is closed and drained. */
static int take(xchan_chan *ch, int64_t *v)
{
	xchan_val x;
	int32_t e = xchan_take(&x, ch, XCHAN_DEADLINE_NEVER);
	if (e == XCHAN_ECLOSED)
		return 0;
	if (e != XCHAN_OK)
		fail("xchan_take returned %s", err_name(e));
	*v = get_int(x);
	return 1;
}

static pthread_t spawn_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, fn, arg);
	if (e != 0)
		fail("pthread_create: %s", strerror(e));
	return t;
}

/* The extra object of the output line, built as text. */
static char g_extra[4096];
static void extra_add(const char *fmt, ...)
{
	size_t len = strlen(g_extra);
	va_list ap;
	if (len > 0 && len < sizeof g_extra - 1)
		g_extra[len++] = ',';
	va_start(ap, fmt);
	vsnprintf(g_extra + len, sizeof g_extra - len, fmt, ap);
	va_end(ap);
}
static void extra_counts(const char *key, const int64_t *c, int k)
{
	char buf[512];
	size_t len = 0;
	for (int i = 0; i < k; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%" PRId64,
		    i ? "," : "", c[i]);
	extra_add("\"%s\":[%s]", key, buf);
}

/* ---- rows: one thread ------------------------------------------------- */

static void row_seq(int64_t n, int64_t cap)
{
	NEED(NEED_CORE);
	if (cap < n)
		fail("seq rows need cap >= n (cap %" PRId64 ", n %" PRId64 ")", cap, n);
	xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
	for (int64_t i = 0; i < n; i++)
		put(ch, i);
	int64_t sum = 0, v;
	for (int64_t i = 0; i < n; i++) {
		if (!take(ch, &v))
			fail("channel closed early");
		sum += v;
	}
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	xchan_chan_release(ch);
}

/* A dropping or sliding buffer kept full: n puts that each drop a value. */
static void row_full(int64_t n, int64_t cap, uint32_t kind)
{
	NEED(NEED_CORE, F(xchan_poll));
	xchan_chan *ch = make_chan(kind, cap);
	for (int64_t i = 0; i < cap; i++)
		put(ch, i);
	for (int64_t i = 0; i < n; i++)
		OK(xchan_put(ch, xchan_val_int(cap + i), XCHAN_DEADLINE_NEVER));
	/* dropping keeps the first cap values, sliding the last cap */
	int64_t first = kind == XCHAN_BUF_DROPPING ? 0 : n;
	for (int64_t i = 0; i < cap; i++) {
		xchan_val x;
		OK(xchan_poll(&x, ch));
		if (get_int(x) != first + i)
			fail("kept %" PRId64 " want %" PRId64, get_int(x), first + i);
	}
	xchan_val x;
	EXPECT(xchan_poll(&x, ch), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

static void row_failed_poll(int64_t n, int64_t cap)
{
	NEED(NEED_CORE, F(xchan_poll));
	xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
	int64_t fails = 0;
	for (int64_t i = 0; i < n; i++) {
		xchan_val x;
		if (xchan_poll(&x, ch) == XCHAN_EAGAIN)
			fails++;
	}
	if (fails != n)
		fail("failed polls %" PRId64 " want %" PRId64, fails, n);
	xchan_chan_release(ch);
}

/* ---- rows: OS threads ------------------------------------------------- */

typedef struct {
	xchan_chan *ch;
	int64_t lo, hi;  /* producer: values to put */
	int64_t sum, count; /* consumer: what it got */
} pc_arg;

static void *producer_main(void *p)
{
	pc_arg *a = p;
	for (int64_t i = a->lo; i < a->hi; i++)
		put(a->ch, i);
	return NULL;
}

static void *consumer_main(void *p)
{
	pc_arg *a = p;
	int64_t v;
	while (take(a->ch, &v)) {
		a->sum += v;
		a->count++;
	}
	return NULL;
}

/* np producer and nc consumer threads on one channel; main closes it when
 * the producers are done, consumers take until closed and drained. */
static void row_prodcons_thr(int64_t n, int64_t cap, int np, int nc)
{
	NEED(NEED_CORE);
	xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
	pc_arg pa[8], ca[8];
	pthread_t pt[8], ct[8];
	memset(pa, 0, sizeof pa);
	memset(ca, 0, sizeof ca);
	for (int k = 0; k < nc; k++) {
		ca[k].ch = ch;
		ct[k] = spawn_thread(consumer_main, &ca[k]);
	}
	for (int p = 0; p < np; p++) {
		pa[p].ch = ch;
		part(n, p, np, &pa[p].lo, &pa[p].hi);
		pt[p] = spawn_thread(producer_main, &pa[p]);
	}
	for (int p = 0; p < np; p++)
		pthread_join(pt[p], NULL);
	OK(xchan_chan_close(ch));
	int64_t sum = 0, count = 0, per[8];
	for (int k = 0; k < nc; k++) {
		pthread_join(ct[k], NULL);
		sum += ca[k].sum;
		count += ca[k].count;
		per[k] = ca[k].count;
	}
	if (count != n)
		fail("received %" PRId64 " want %" PRId64, count, n);
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	if (nc > 1)
		extra_counts("per_consumer", per, nc);
	xchan_chan_release(ch);
}

typedef struct {
	xchan_chan *ping, *pong;
	int64_t rounds, sum;
} pp_arg;

static void ponger(pp_arg *a)
{
	int64_t v;
	while (take(a->ping, &v))
		put(a->pong, v + 1);
}

static void pinger(pp_arg *a)
{
	int64_t v;
	for (int64_t i = 0; i < a->rounds; i++) {
		put(a->ping, i);
		if (!take(a->pong, &v))
			fail("pong closed");
		a->sum += v;
	}
	OK(xchan_chan_close(a->ping));
}

static void *ponger_main(void *p)
{
	ponger(p);
	return NULL;
}

static void check_pingpong(const pp_arg *a)
{
	int64_t want = triangle(a->rounds) + a->rounds;
	if (a->sum != want)
		fail("sum %" PRId64 " want %" PRId64, a->sum, want);
}

static void row_pingpong_thr(int64_t rounds)
{
	NEED(NEED_CORE);
	pp_arg a = {make_chan(XCHAN_BUF_NONE, 0), make_chan(XCHAN_BUF_NONE, 0),
	    rounds, 0};
	pthread_t t = spawn_thread(ponger_main, &a);
	pinger(&a);
	pthread_join(t, NULL);
	check_pingpong(&a);
	xchan_chan_release(a.ping);
	xchan_chan_release(a.pong);
}

/* select_rx: 4 sender threads, each putting 0, 1, 2, ... on its own channel
 * until it is closed; the receiver does n alts over the 4 takes and checks
 * each channel's values arrive in order.  Then it closes the channels and
 * drains the pending puts so the senders see ECLOSED. */
typedef struct {
	xchan_chan *ch;
} rx_arg;

static void *rx_sender_main(void *p)
{
	rx_arg *a = p;
	for (int64_t v = 0;; v++) {
		int32_t e = xchan_put(a->ch, xchan_val_int(v), XCHAN_DEADLINE_NEVER);
		if (e == XCHAN_ECLOSED)
			return NULL;
		if (e != XCHAN_OK)
			fail("xchan_put returned %s", err_name(e));
	}
}

static void fairness(const char *key, const int64_t *counts, int k, int64_t n)
{
	int64_t total = 0, lo = counts[0], hi = counts[0];
	for (int i = 0; i < k; i++) {
		total += counts[i];
		lo = counts[i] < lo ? counts[i] : lo;
		hi = counts[i] > hi ? counts[i] : hi;
	}
	if (total != n)
		fail("%s: received %" PRId64 " want %" PRId64, key, total, n);
	double mean = (double)n / k;
	char name[64];
	extra_counts(key, counts, k);
	snprintf(name, sizeof name, "%s", key);
	extra_add("\"%s_spread\":%.4f", name, (double)(hi - lo) / mean);
	extra_add("\"%s_within_10pct\":%s", name,
	    (hi - mean <= 0.1 * mean && mean - lo <= 0.1 * mean) ? "true" : "false");
}

/* alts' own choice, without the scheduler: 4 full channels, one thread,
 * each alts takes from one and refills it at once. */
static void choice_probe(int64_t k)
{
	xchan_chan *chs[4];
	xchan_clause cl[4];
	int64_t counts[4] = {0};
	for (int i = 0; i < 4; i++) {
		chs[i] = make_chan(XCHAN_BUF_FIXED, 1);
		put(chs[i], i);
		cl[i] = (xchan_clause){XCHAN_ALT_TAKE, 0, chs[i], {0, 0, 0}};
	}
	for (int64_t j = 0; j < k; j++) {
		xchan_result r;
		OK(xchan_alts(&r, cl, 4, 0, XCHAN_DEADLINE_NEVER));
		if (r.index < 0 || r.index > 3 || get_int(r.val) != r.index)
			fail("alts chose clause %d value %" PRId64, r.index,
			    get_int(r.val));
		counts[r.index]++;
		OK(xchan_offer(chs[r.index], xchan_val_int(r.index)));
	}
	fairness("choice_counts", counts, 4, k);
	for (int i = 0; i < 4; i++)
		xchan_chan_release(chs[i]);
}

static void row_select_rx(int64_t n, int64_t cap)
{
	NEED(NEED_CORE, F(xchan_alts), F(xchan_offer));
	rx_arg a[4];
	pthread_t t[4];
	xchan_clause cl[4];
	for (int k = 0; k < 4; k++) {
		a[k].ch = make_chan(XCHAN_BUF_FIXED, cap);
		cl[k] = (xchan_clause){XCHAN_ALT_TAKE, 0, a[k].ch, {0, 0, 0}};
		t[k] = spawn_thread(rx_sender_main, &a[k]);
	}
	int64_t next[4] = {0};
	for (int64_t i = 0; i < n; i++) {
		xchan_result r;
		OK(xchan_alts(&r, cl, 4, 0, XCHAN_DEADLINE_NEVER));
		int64_t v = get_int(r.val);
		if (r.index < 0 || r.index > 3 || v != next[r.index])
			fail("clause %d: got %" PRId64 " want %" PRId64, r.index, v,
			    r.index >= 0 && r.index < 4 ? next[r.index] : -1);
		next[r.index]++;
	}
	for (int k = 0; k < 4; k++) {
		int64_t v;
		OK(xchan_chan_close(a[k].ch));
		while (take(a[k].ch, &v)) {
		}
	}
	for (int k = 0; k < 4; k++) {
		pthread_join(t[k], NULL);
		xchan_chan_release(a[k].ch);
	}
	fairness("per_channel", next, 4, n);
}

typedef struct {
	xchan_chan **chs;
	int64_t lo, hi, sum;
} both_arg;

static void *both_sender_main(void *p)
{
	both_arg *a = p;
	xchan_clause cl[4];
	for (int k = 0; k < 4; k++)
		cl[k] = (xchan_clause){XCHAN_ALT_PUT, 0, a->chs[k], {0, 0, 0}};
	for (int64_t v = a->lo; v < a->hi; v++) {
		xchan_result r;
		for (int k = 0; k < 4; k++)
			cl[k].val = xchan_val_int(v);
		OK(xchan_alts(&r, cl, 4, 0, XCHAN_DEADLINE_NEVER));
	}
	return NULL;
}

static void *both_receiver_main(void *p)
{
	both_arg *a = p;
	xchan_clause cl[4];
	for (int k = 0; k < 4; k++)
		cl[k] = (xchan_clause){XCHAN_ALT_TAKE, 0, a->chs[k], {0, 0, 0}};
	for (int64_t i = a->lo; i < a->hi; i++) {
		xchan_result r;
		OK(xchan_alts(&r, cl, 4, 0, XCHAN_DEADLINE_NEVER));
		a->sum += get_int(r.val);
	}
	return NULL;
}

static void row_select_both(int64_t n, int64_t cap)
{
	NEED(NEED_CORE, F(xchan_alts));
	xchan_chan *chs[4];
	both_arg sa[4], ra[4];
	pthread_t st[4], rt[4];
	for (int k = 0; k < 4; k++)
		chs[k] = make_chan(XCHAN_BUF_FIXED, cap);
	for (int p = 0; p < 4; p++) {
		sa[p] = (both_arg){chs, 0, 0, 0};
		part(n, p, 4, &sa[p].lo, &sa[p].hi);
		ra[p] = sa[p];
		rt[p] = spawn_thread(both_receiver_main, &ra[p]);
		st[p] = spawn_thread(both_sender_main, &sa[p]);
	}
	int64_t sum = 0;
	for (int p = 0; p < 4; p++) {
		pthread_join(st[p], NULL);
		pthread_join(rt[p], NULL);
		sum += ra[p].sum;
	}
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	for (int k = 0; k < 4; k++)
		xchan_chan_release(chs[k]);
}

/* ---- rows: go tasks ---------------------------------------------------- */

static xchan_chan *go(xchan_go_fn fn, void *arg)
{
	xchan_chan *res = NULL;
	OK(xchan_go(&res, fn, arg, NULL));
	return res;
}

/* Waits for a go task through its result channel: its value, or nil. */
static xchan_val await_task(xchan_chan *res)
{
	xchan_val v;
	int32_t e = xchan_take(&v, res, XCHAN_DEADLINE_NEVER);
	if (e != XCHAN_OK && e != XCHAN_ECLOSED)
		fail("taking a task's result returned %s", err_name(e));
	xchan_chan_release(res);
	return v;
}

static int32_t pinger_task(void *p, xchan_val *result)
{
	pinger(p);
	(void)result;
	return XCHAN_OK;
}

static int32_t ponger_task(void *p, xchan_val *result)
{
	ponger(p);
	(void)result;
	return XCHAN_OK;
}

static void row_pingpong_task(int64_t rounds)
{
	NEED(NEED_CORE, F(xchan_go));
	pp_arg a = {make_chan(XCHAN_BUF_NONE, 0), make_chan(XCHAN_BUF_NONE, 0),
	    rounds, 0};
	xchan_chan *r1 = go(ponger_task, &a);
	xchan_chan *r2 = go(pinger_task, &a);
	await_task(r2);
	await_task(r1);
	check_pingpong(&a);
	xchan_chan_release(a.ping);
	xchan_chan_release(a.pong);
}

typedef struct {
	pc_arg pc;
	atomic_int *live; /* producers still running; the last closes */
} pct_arg;

static int32_t producer_task(void *p, xchan_val *result)
{
	pct_arg *a = p;
	producer_main(&a->pc);
	if (atomic_fetch_sub(a->live, 1) == 1)
		OK(xchan_chan_close(a->pc.ch));
	(void)result;
	return XCHAN_OK;
}

static int32_t consumer_task(void *p, xchan_val *result)
{
	pct_arg *a = p;
	consumer_main(&a->pc);
	(void)result;
	return XCHAN_OK;
}

static void row_prodcons_task(int64_t n, int64_t cap)
{
	NEED(NEED_CORE, F(xchan_go));
	xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
	atomic_int live = 2;
	pct_arg pa[2], ca[2];
	xchan_chan *res[4];
	for (int k = 0; k < 2; k++) {
		memset(&ca[k], 0, sizeof ca[k]);
		ca[k].pc.ch = ch;
		res[k] = go(consumer_task, &ca[k]);
	}
	for (int p = 0; p < 2; p++) {
		memset(&pa[p], 0, sizeof pa[p]);
		pa[p].pc.ch = ch;
		pa[p].live = &live;
		part(n, p, 2, &pa[p].pc.lo, &pa[p].pc.hi);
		res[2 + p] = go(producer_task, &pa[p]);
	}
	for (int i = 0; i < 4; i++)
		await_task(res[i]);
	int64_t sum = ca[0].pc.sum + ca[1].pc.sum;
	int64_t count = ca[0].pc.count + ca[1].pc.count;
	if (count != n)
		fail("received %" PRId64 " want %" PRId64, count, n);
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	xchan_chan_release(ch);
}

/* alts_timeout_task, phase a: a producer task fills a channel; a consumer
 * task takes each value with an alts over {the channel, a fresh 1 h
 * timeout}, releasing the timeout (which cancels its timer) after each. */
typedef struct {
	xchan_chan *ch;
	int64_t n, sum;
} at_arg;

static int32_t at_producer(void *p, xchan_val *result)
{
	at_arg *a = p;
	for (int64_t i = 0; i < a->n; i++)
		put(a->ch, i);
	(void)result;
	return XCHAN_OK;
}

static int32_t at_consumer(void *p, xchan_val *result)
{
	at_arg *a = p;
	for (int64_t i = 0; i < a->n; i++) {
		xchan_chan *t = NULL;
		xchan_result r;
		OK(xchan_timeout(&t, 3600 * 1000));
		xchan_clause cl[2] = {{XCHAN_ALT_TAKE, 0, a->ch, {0, 0, 0}},
		    {XCHAN_ALT_TAKE, 0, t, {0, 0, 0}}};
		OK(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER));
		if (r.index != 0)
			fail("a 1 h timeout won an alts (clause %d)", r.index);
		a->sum += get_int(r.val);
		xchan_chan_release(t);
	}
	(void)result;
	return XCHAN_OK;
}

/* phase b: each task awaits a fresh 1 ms timeout and records how late it
 * woke up. */
typedef struct {
	int64_t *late;
	int64_t i;
} tm_arg;

static int32_t timer_task(void *p, xchan_val *result)
{
	tm_arg *a = p;
	xchan_chan *t = NULL;
	xchan_val v;
	int64_t start = xchan_now();
	OK(xchan_timeout(&t, 1));
	EXPECT(xchan_take(&v, t, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	a->late[a->i] = xchan_now() - start - 1000000;
	xchan_chan_release(t);
	(void)result;
	return XCHAN_OK;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

static double pct(const int64_t *sorted, int64_t k, double p)
{
	return (double)sorted[(int64_t)(p * (double)(k - 1))];
}

static int64_t row_alts_timeout_task(int64_t n, int64_t cap)
{
	NEED(NEED_CORE, F(xchan_go), F(xchan_alts), F(xchan_timeout), F(xchan_now));
	at_arg a = {make_chan(XCHAN_BUF_FIXED, cap), n, 0};
	int64_t t0 = now_ns();
	xchan_chan *rp = go(at_producer, &a);
	xchan_chan *rc = go(at_consumer, &a);
	await_task(rc);
	await_task(rp);
	int64_t elapsed = now_ns() - t0;
	if (a.sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, a.sum, triangle(n));
	xchan_chan_release(a.ch);

	int64_t k = n < 100000 ? n : 100000;
	int64_t *late = calloc((size_t)k, sizeof *late);
	tm_arg *args = calloc((size_t)k, sizeof *args);
	xchan_chan **res = calloc((size_t)k, sizeof *res);
	if (!late || !args || !res)
		fail("out of memory");
	int64_t tb = now_ns();
	for (int64_t i = 0; i < k; i++) {
		args[i] = (tm_arg){late, i};
		res[i] = go(timer_task, &args[i]);
	}
	for (int64_t i = 0; i < k; i++)
		await_task(res[i]);
	double phase_b = (double)(now_ns() - tb) / 1e9;
	qsort(late, (size_t)k, sizeof *late, cmp_i64);
	if (late[0] < 0)
		fail("a 1 ms timeout closed %" PRId64 " ns early", -late[0]);
	extra_add("\"timers\":%" PRId64, k);
	extra_add("\"timer_phase_s\":%.6f", phase_b);
	extra_add("\"late_p50_us\":%.3f", pct(late, k, 0.50) / 1e3);
	extra_add("\"late_p99_us\":%.3f", pct(late, k, 0.99) / 1e3);
	extra_add("\"late_max_us\":%.3f", (double)late[k - 1] / 1e3);
	free(late);
	free(args);
	free(res);
	return elapsed;
}

static int32_t spawn_task_fn(void *p, xchan_val *result)
{
	*result = xchan_val_int((int64_t)(intptr_t)p);
	return XCHAN_OK;
}

static void row_spawn_task(int64_t n)
{
	NEED(NEED_CORE, F(xchan_go));
	xchan_chan **res = calloc((size_t)n, sizeof *res);
	if (!res)
		fail("out of memory");
	for (int64_t i = 0; i < n; i++)
		res[i] = go(spawn_task_fn, (void *)(intptr_t)i);
	int64_t sum = 0;
	for (int64_t i = 0; i < n; i++) {
		xchan_val v = await_task(res[i]);
		if (v.kind != XCHAN_INT)
			fail("task %" PRId64 " gave no int result", i);
		sum += get_int(v);
	}
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	free(res);
}


/* ---- rows: binding floors, scale, memory ------------------------------- */

/* One thread, put then take on a fixed(cap) channel, n pairs: the C core
 * alone on the shape of the bindings' "put+take on one thread" rows. */
static void row_pair(int64_t n, int64_t cap)
{
	NEED(NEED_CORE);
	xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
	int64_t sum = 0, v;
	for (int64_t i = 0; i < n; i++) {
		put(ch, i);
		if (!take(ch, &v))
			fail("channel closed");
		sum += v;
	}
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	xchan_chan_release(ch);
}

/* Scale: w independent producer/consumer pairs, each on its own channel of
 * capacity cap, on OS threads or go tasks; n messages in all. */
static void row_scale(int64_t n, int64_t cap, int tasks, int w)
{
	if (tasks)
		NEED(NEED_CORE, F(xchan_go));
	else
		NEED(NEED_CORE);
	pct_arg *pa = calloc((size_t)w, sizeof *pa), *ca = calloc((size_t)w, sizeof *ca);
	atomic_int *live = calloc((size_t)w, sizeof *live);
	pthread_t *th = calloc((size_t)(2 * w), sizeof *th);
	xchan_chan **res = calloc((size_t)(2 * w), sizeof *res);
	if (!pa || !ca || !live || !th || !res)
		fail("out of memory");
	for (int k = 0; k < w; k++) {
		xchan_chan *ch = make_chan(XCHAN_BUF_FIXED, cap);
		atomic_init(&live[k], 1);
		ca[k].pc.ch = ch;
		pa[k].pc.ch = ch;
		pa[k].live = &live[k];
		part(n, k, w, &pa[k].pc.lo, &pa[k].pc.hi);
		if (tasks) {
			res[2 * k] = go(consumer_task, &ca[k]);
			res[2 * k + 1] = go(producer_task, &pa[k]);
		} else {
			th[2 * k] = spawn_thread(consumer_main, &ca[k].pc);
			th[2 * k + 1] = spawn_thread(producer_main, &pa[k].pc);
		}
	}
	for (int k = 0; k < w; k++) {
		if (tasks) {
			await_task(res[2 * k + 1]);
			await_task(res[2 * k]);
		} else {
			pthread_join(th[2 * k + 1], NULL);
			OK(xchan_chan_close(pa[k].pc.ch));
			pthread_join(th[2 * k], NULL);
		}
	}
	int64_t sum = 0, count = 0;
	for (int k = 0; k < w; k++) {
		sum += ca[k].pc.sum;
		count += ca[k].pc.count;
		xchan_chan_release(ca[k].pc.ch);
	}
	if (count != n)
		fail("received %" PRId64 " want %" PRId64, count, n);
	if (sum != triangle(n))
		fail("sum %" PRId64 " want %" PRId64, sum, triangle(n));
	extra_add("\"pairs\":%d", w);
	extra_add("\"on\":\"%s\"", tasks ? "go tasks" : "threads");
	free(pa);
	free(ca);
	free(live);
	free(th);
	free(res);
}

/* A memory field of /proc/self/status ("VmRSS", "VmHWM"), KiB; -1 if
 * unknown. */
static long proc_status_kib(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Current resident memory, KiB (VmRSS; -1 if unknown). */
static long vmrss_kib(void) { return proc_status_kib("VmRSS"); }

/* core.async's limit of 1024 pending takes per channel holds here too, so
 * the tasks park in groups of PARK_GROUP on one channel each. */
#define PARK_GROUP 1000

typedef struct {
	xchan_chan *block;
	atomic_long *started;
} park_arg;

static int32_t parked_task(void *p, xchan_val *result)
{
	park_arg *a = p;
	xchan_val v;
	atomic_fetch_add(a->started, 1);
	int32_t e = xchan_take(&v, a->block, XCHAN_DEADLINE_NEVER);
	if (e != XCHAN_ECLOSED)
		fail("a parked task's take returned %s, want ECLOSED", err_name(e));
	(void)result;
	return XCHAN_OK;
}

/* Memory: n go tasks parked on a take of one channel; RSS growth divided by
 * n (the tasks' stacks, their records and their result channels; the
 * channels they park on, one per PARK_GROUP tasks, are made before).  Returns
 * bytes per task; the tasks are then woken by a close and joined. */
static double row_mem_task(int64_t n)
{
	NEED(NEED_CORE, F(xchan_go));
	int64_t groups = (n + PARK_GROUP - 1) / PARK_GROUP;
	xchan_chan **res = calloc((size_t)n, sizeof *res);
	park_arg *a = calloc((size_t)groups, sizeof *a);
	if (!res || !a)
		fail("out of memory");
	atomic_long started = 0;
	for (int64_t g = 0; g < groups; g++)
		a[g] = (park_arg){make_chan(XCHAN_BUF_NONE, 0), &started};
	/* Warm-up, as Go's runtime is up before its count starts: one task
	 * parks and ends, so the executor's threads, the code's pages and the
	 * stack pool's first slab are not charged to the first 1,000 tasks. */
	atomic_long warm_started = 0;
	park_arg warm = {make_chan(XCHAN_BUF_NONE, 0), &warm_started};
	xchan_chan *warm_res = go(parked_task, &warm);
	while (atomic_load(&warm_started) < 1)
		sched_yield();
	OK(xchan_chan_close(warm.block));
	await_task(warm_res);
	xchan_chan_release(warm.block);
	long before = vmrss_kib();
	for (int64_t i = 0; i < n; i++)
		res[i] = go(parked_task, &a[i / PARK_GROUP]);
	/* every task has started; give the last ones time to reach the park */
	while (atomic_load(&started) < n)
		sched_yield();
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	long after = vmrss_kib();
	for (int64_t g = 0; g < groups; g++)
		OK(xchan_chan_close(a[g].block));
	for (int64_t i = 0; i < n; i++)
		await_task(res[i]);
	for (int64_t g = 0; g < groups; g++)
		xchan_chan_release(a[g].block);
	free(res);
	free(a);
	extra_add("\"rss_before_kib\":%ld", before);
	extra_add("\"rss_parked_kib\":%ld", after);
	extra_add("\"unit\":\"bytes per parked task\"");
	return (double)(after - before) * 1024.0 / (double)n;
}

/* Memory: n idle channels of capacity cap; RSS growth divided by n. */
static double row_mem_chan(int64_t n, int64_t cap)
{
	NEED(NEED_CORE);
	xchan_chan **chs = calloc((size_t)n, sizeof *chs);
	if (!chs)
		fail("out of memory");
	/* Warm-up: one channel made and released first, so the code's pages
	 * (faulted in by the first call) are not charged to the channels. */
	xchan_chan_release(make_chan(XCHAN_BUF_FIXED, cap));
	long before = vmrss_kib();
	for (int64_t i = 0; i < n; i++)
		chs[i] = make_chan(XCHAN_BUF_FIXED, cap);
	long after = vmrss_kib();
	for (int64_t i = 0; i < n; i++)
		xchan_chan_release(chs[i]);
	free(chs);
	extra_add("\"rss_before_kib\":%ld", before);
	extra_add("\"rss_made_kib\":%ld", after);
	extra_add("\"unit\":\"bytes per idle channel\"");
	return (double)(after - before) * 1024.0 / (double)n;
}

/* ---- main --------------------------------------------------------------- */

static const struct {
	const char *row;
	int64_t n, cap; /* defaults; cap -1 means n */
} ROWS[] = {
    {"seq_bounded", 1000000, -1},
    {"seq_unbounded", 1000000, -1},
    {"spsc_capN", 1000000, 1024},
    {"spsc_cap1", 1000000, 1},
    {"pingpong_cap0", 100000, 0},
    {"pingpong_task", 100000, 0},
    {"mpsc", 1000000, 1024},
    {"mpmc_capN", 1000000, 1024},
    {"mpmc_cap0", 1000000, 0},
    {"prodcons_task_cap0", 1000000, 0},
    {"prodcons_task_cap10", 1000000, 10},
    {"prodcons_task_cap100", 1000000, 100},
    {"select_rx", 1000000, 1},
    {"select_both", 1000000, 1},
    {"alts_timeout_task", 1000000, 1024},
    {"full_dropping", 10000000, 64},
    {"full_sliding", 10000000, 64},
    {"failed_poll", 10000000, 64},
    {"spawn_task", 100000, 0},
    {"pair_put_take", 1000000, 1024},
    {"mem_task", 100000, 0},
    {"mem_chan", 100000, 1},
};

static void usage(void)
{
	fprintf(stderr, "usage: xchan-bench ROW [--n N] [--cap C]\nrows:\n");
	for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++)
		fprintf(stderr, "  %s\n", ROWS[i].row);
	exit(2);
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

/* Peak resident memory of this process image, KiB (VmHWM; -1 if unknown).
 * Not getrusage: its ru_maxrss keeps the peak of the process that exec'd us. */
static long vmhwm_kib(void) { return proc_status_kib("VmHWM"); }

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *row = argv[1];
	int64_t n = -1, cap = -1;
	for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++)
		if (is(row, ROWS[i].row)) {
			n = ROWS[i].n;
			cap = ROWS[i].cap;
		}
	int scale_w = 0;
	char scale_on[8] = "";
	long scale_cap = -1;
	if (n < 0 && sscanf(row, "scale_%4[a-z]_cap%ld_w%d", scale_on, &scale_cap, &scale_w) == 3 &&
	    (is(scale_on, "thr") || is(scale_on, "task")) && scale_w >= 1 && scale_w <= 1024) {
		n = 1000000;
		cap = scale_cap;
	}
	if (n < 0) {
		fprintf(stderr, "xchan-bench: unknown row \"%s\"\n", row);
		usage();
	}
	g_row = row;
	int cap_set = 0;
	for (int i = 2; i < argc; i += 2) {
		char *end;
		if (i + 1 >= argc)
			usage();
		errno = 0;
		long long v = strtoll(argv[i + 1], &end, 10);
		if (errno || *end || v < 0)
			usage();
		if (is(argv[i], "--n"))
			n = v;
		else if (is(argv[i], "--cap")) {
			cap = v;
			cap_set = 1;
		} else
			usage();
	}
	if (n <= 0)
		usage();
	if (cap < 0 && !cap_set)
		cap = n;

	int64_t msgs = n, elapsed = 0;
	double per_item = -1; /* the memory rows: bytes per item instead of ns */
	int64_t t0 = now_ns();
	if (is(row, "seq_bounded") || is(row, "seq_unbounded"))
		row_seq(n, cap);
	else if (is(row, "spsc_capN") || is(row, "spsc_cap1"))
		row_prodcons_thr(n, cap, 1, 1);
	else if (is(row, "pingpong_cap0") || is(row, "pingpong_task")) {
		if (is(row, "pingpong_cap0"))
			row_pingpong_thr(n);
		else
			row_pingpong_task(n);
		msgs = 2 * n;
		extra_add("\"round_trips\":%" PRId64, n);
		extra_add("\"note\":\"ns_per_msg is one-way (round trip / 2)\"");
	} else if (is(row, "mpsc"))
		row_prodcons_thr(n, cap, 4, 1);
	else if (is(row, "mpmc_capN") || is(row, "mpmc_cap0"))
		row_prodcons_thr(n, cap, 4, 4);
	else if (strncmp(row, "prodcons_task", 13) == 0)
		row_prodcons_task(n, cap);
	else if (is(row, "select_rx"))
		row_select_rx(n, cap);
	else if (is(row, "select_both"))
		row_select_both(n, cap);
	else if (is(row, "alts_timeout_task"))
		elapsed = row_alts_timeout_task(n, cap);
	else if (is(row, "full_dropping"))
		row_full(n, cap, XCHAN_BUF_DROPPING);
	else if (is(row, "full_sliding"))
		row_full(n, cap, XCHAN_BUF_SLIDING);
	else if (is(row, "failed_poll"))
		row_failed_poll(n, cap);
	else if (is(row, "pair_put_take"))
		row_pair(n, cap);
	else if (scale_w > 0)
		row_scale(n, cap, is(scale_on, "task"), scale_w);
	else if (is(row, "mem_task"))
		per_item = row_mem_task(n);
	else if (is(row, "mem_chan"))
		per_item = row_mem_chan(n, cap);
	else if (is(row, "spawn_task")) {
		row_spawn_task(n);
		extra_add("\"note\":\"each task's result channel is taken\"");
	}
	if (elapsed == 0)
		elapsed = now_ns() - t0;
	if (is(row, "select_rx"))
		choice_probe(n < 100000 ? n : 100000); /* not timed */

	if (xchan_shutdown)
		OK(xchan_shutdown());
	extra_add("\"vmhwm_kib\":%ld", vmhwm_kib());
	extra_add("\"msgs\":%" PRId64, msgs);
	extra_add("\"elapsed_s\":%.9f", (double)elapsed / 1e9);
	if (xchan_version_string)
		extra_add("\"version\":\"%s\"", xchan_version_string());
	printf("{\"row\":\"%s\",\"impl\":\"xchan\",\"n\":%" PRId64
	       ",\"cap\":%" PRId64 ",\"ns_per_msg\":%.4f,\"extra\":{%s}}\n",
	    row, n, cap, per_item >= 0 ? per_item : (double)elapsed / (double)msgs,
	    g_extra);
	return 0;
}
