/*
 * park_test.c — channel operations parked inside go tasks: deadlines (the
 * timer wakes the task), alts with timeouts, close waking parked takers,
 * and a mixed crowd of timed takers that must neither lose nor duplicate a
 * value.  Also: an alts never matches its own clauses.
 */
#include <unistd.h>

#include "testing/xtest.h"
#include "testing/xthread.h"

#define DL(ms) xchan_deadline_in_ms(ms)

static int64_t
go_result(xchan_chan *r)
{
	xchan_val v;
	int32_t e = xchan_take(&v, r, DL(10000));
	xchan_chan_release(r);
	return e == XCHAN_OK ? xt_int(v) : -1000 - e;
}

static int32_t
timed_take(void *arg, xchan_val *out)
{
	xchan_chan *ch = arg;
	if (!xchan_in_go())
		return XCHAN_ESTATE;
	int64_t t0 = xchan_now();
	xchan_val v;
	int32_t e = xchan_take(&v, ch, DL(20));
	int64_t waited = xchan_now() - t0;
	*out = xchan_val_int(
	    e == XCHAN_ETIMEDOUT && waited >= 20 * 1000000LL ? 1 : -e);
	return XCHAN_OK;
}

XTEST(go_take_deadline)
{
	xchan_chan *ch, *r;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	XCHECK(!xchan_in_go());
	XCHECK_ERR(xchan_go(&r, timed_take, ch, NULL), XCHAN_OK);
	XCHECK_EQ(go_result(r), 1);
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	xchan_chan_release(ch);
}

static int32_t
timed_put_full(void *arg, xchan_val *out)
{
	xchan_chan *ch = arg;
	xchan_val s;
	xchan_val_string(&s, "mine", 4);
	int32_t e = xchan_put(ch, s, DL(15));
	/* on timeout the value is still ours */
	if (e == XCHAN_ETIMEDOUT)
		xchan_val_release(s);
	*out = xchan_val_int(e);
	return XCHAN_OK;
}

XTEST(go_put_deadline)
{
	xchan_chan *ch, *r;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	xchan_offer(ch, xchan_val_int(0));
	xchan_go(&r, timed_put_full, ch, NULL);
	XCHECK_EQ(go_result(r), XCHAN_ETIMEDOUT);
	XCHECK_EQ(xt_info(ch).pending_puts, 0);
	xchan_chan_release(ch);
}

static int32_t
alts_with_timeout(void *arg, xchan_val *out)
{
	xchan_chan **chs = arg;
	xchan_chan *t;
	xchan_timeout(&t, 10);
	xchan_clause cl[] = {{XCHAN_ALT_TAKE, 0, chs[0], {0, 0, 0}},
	    {XCHAN_ALT_TAKE, 0, chs[1], {0, 0, 0}},
	    {XCHAN_ALT_TAKE, 0, t, {0, 0, 0}}};
	xchan_result r;
	int32_t e = xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_NEVER);
	xchan_chan_release(t);
	int32_t e2 = xchan_alts(&r, cl, 2, 0, DL(10));
	*out = xchan_val_int(
	    e == XCHAN_ECLOSED && r.index == -1 && e2 == XCHAN_ETIMEDOUT ? 1
	                                                                 : 0);
	return XCHAN_OK;
}

XTEST(go_alts_timeouts)
{
	xchan_chan *chs[2], *r;
	xchan_chan_make(&chs[0], XCHAN_BUF_NONE, 0);
	xchan_chan_make(&chs[1], XCHAN_BUF_FIXED, 1);
	xchan_go(&r, alts_with_timeout, chs, NULL);
	XCHECK_EQ(go_result(r), 1);
	XCHECK_EQ(xt_info(chs[0]).pending_takes + xt_info(chs[1]).pending_takes,
	    0);
	xchan_chan_release(chs[0]);
	xchan_chan_release(chs[1]);
}

static int32_t
take_until_closed(void *arg, xchan_val *out)
{
	xchan_val v;
	*out = xchan_val_int(xchan_take(&v, arg, DL(10000)));
	return XCHAN_OK;
}

XTEST(go_parked_take_woken_by_close)
{
	xchan_chan *ch, *r[50];
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	for (int i = 0; i < 50; i++)
		xchan_go(&r[i], take_until_closed, ch, NULL);
	XCHECK(xt_wait_pending(ch, 50, 0, 5000));
	xchan_chan_close(ch);
	int closed = 0;
	for (int i = 0; i < 50; i++)
		closed += go_result(r[i]) == XCHAN_ECLOSED;
	XCHECK_EQ(closed, 50);
	xchan_chan_release(ch);
}

/* A crowd of go tasks taking with random short deadlines while a thread
 * puts with deadlines: every value whose put succeeded is taken exactly
 * once, by a task or by the final drain. */
#define CROWD 400
#define CROWD_VALS 4000
static _Atomic int crowd_taken[CROWD_VALS];
static _Atomic int crowd_put[CROWD_VALS];
static xchan_chan *crowd_ch;
static _Atomic int crowd_stop;

static int32_t
crowd_task(void *arg, xchan_val *out)
{
	uint64_t x = (uint64_t)(uintptr_t)arg * 2654435761u + 1;
	while (!atomic_load(&crowd_stop)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		xchan_val v;
		int32_t e = xchan_take(&v, crowd_ch,
		    xchan_now() + (int64_t)(x % 3000) * 1000);
		if (e == XCHAN_OK)
			atomic_fetch_add(&crowd_taken[xt_int(v)], 1);
		else if (e == XCHAN_ECLOSED)
			break;
	}
	*out = xchan_val_nil();
	return XCHAN_OK;
}

XTEST(go_crowd_timed_takes)
{
	xchan_chan_make(&crowd_ch, XCHAN_BUF_FIXED, 4);
	xchan_chan *r[CROWD];
	for (int i = 0; i < CROWD; i++)
		xchan_go(&r[i], crowd_task, (void *)(intptr_t)i, NULL);
	for (int i = 0; i < CROWD_VALS; i++) {
		if (xchan_put(crowd_ch, xchan_val_int(i),
		        xchan_now() + (int64_t)(i % 5) * 200000) == XCHAN_OK)
			atomic_store(&crowd_put[i], 1);
	}
	atomic_store(&crowd_stop, 1);
	xchan_chan_close(crowd_ch);
	for (int i = 0; i < CROWD; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, r[i], DL(10000)), XCHAN_ECLOSED);
		xchan_chan_release(r[i]);
	}
	xchan_val v;
	while (xchan_poll(&v, crowd_ch) == XCHAN_OK)
		atomic_fetch_add(&crowd_taken[xt_int(v)], 1);
	int bad = 0, puts = 0;
	for (int i = 0; i < CROWD_VALS; i++) {
		puts += atomic_load(&crowd_put[i]);
		bad +=
		    atomic_load(&crowd_taken[i]) != atomic_load(&crowd_put[i]);
	}
	fprintf(stderr, "  %d of %d puts succeeded\n", puts, CROWD_VALS);
	XCHECK_EQ(bad, 0);
	XCHECK(puts > 0);
	xchan_chan_release(crowd_ch);
}

/* An alts with a put and a take on the same unbuffered channel does not
 * meet itself: with no other party it times out. */
XTEST(alts_does_not_match_itself)
{
	xchan_chan *ch;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	xchan_clause cl[] = {{XCHAN_ALT_PUT, 0, ch, {XCHAN_INT, 0, 5}},
	    {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}}};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, DL(20)), XCHAN_ETIMEDOUT);
	XCHECK_EQ(xt_info(ch).pending_puts + xt_info(ch).pending_takes, 0);
	xchan_chan_release(ch);
}

/* A go task that spawns many CPU-bound go tasks gets them spread over the
 * dispatch workers (a worker keeps displaced tasks local only while they are
 * few): at least two of them run at the same time.  Each task spins until it
 * has seen a second one running, or 2 s pass (then the check fails). */
static _Atomic int fan_running, fan_most;

static int32_t
fan_worker(void *arg, xchan_val *out)
{
	(void)arg;
	int now = atomic_fetch_add(&fan_running, 1) + 1;
	int most = atomic_load(&fan_most);
	while (now > most &&
	       !atomic_compare_exchange_weak(&fan_most, &most, now)) {
	}
	int64_t end = xchan_now() + 2000 * 1000000LL;
	while (atomic_load(&fan_most) < 2 && xchan_now() < end) {
	}
	atomic_fetch_sub(&fan_running, 1);
	*out = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
fan_out(void *arg, xchan_val *out)
{
	(void)arg;
	xchan_chan *r[8];
	for (int i = 0; i < 8; i++)
		xchan_go(&r[i], fan_worker, NULL, NULL);
	for (int i = 0; i < 8; i++) {
		xchan_val v;
		xchan_take(&v, r[i], DL(30000));
		xchan_chan_release(r[i]);
	}
	*out = xchan_val_nil();
	return XCHAN_OK;
}

XTEST(go_fan_out_runs_in_parallel)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    getenv("XCHAN_DISPATCH_THREADS"))
		return; /* needs two dispatch workers */
	xchan_chan *r;
	XCHECK_ERR(xchan_go(&r, fan_out, NULL, NULL), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, DL(60000)), XCHAN_ECLOSED);
	xchan_chan_release(r);
	XCHECK(atomic_load(&fan_most) >= 2);
}

XTEST_MAIN()
