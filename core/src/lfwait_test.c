/*
 * lfwait_test.c — blocking puts and takes on a channel with a lock-free
 * ring wait as plain waiters (lfwait.h): the ring's gates stay open while
 * they sleep, a counterpart wakes one of them, close keeps core.async's
 * rules (waiting puts survive it, waiting takes drain then get "closed"),
 * deadlines and cancel tokens withdraw them, and a mixed storm of threads,
 * go tasks, timed operations and alts moves every value exactly once.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "chan.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

static xchan_chan *
lf_chan(uint64_t cap)
{
	xchan_chan *ch;
	if (xchan_chan_make(&ch, XCHAN_BUF_FIXED, cap) != XCHAN_OK ||
	    !xchan__chan_lf_force(ch)) {
		fprintf(stderr, "lf_chan: no lock-free channel of %llu\n",
		    (unsigned long long)cap);
		abort();
	}
	return ch;
}

static xchan_chan_info
info_of(xchan_chan *ch)
{
	xchan_chan_info i = {.size = sizeof(i)};
	xchan_chan_info_get(&i, ch);
	return i;
}

static bool
gates_open(xchan_chan *ch)
{
	return xchan__lfring_gate_is_open(atomic_load(&ch->lf));
}

typedef struct op_arg {
	xchan_chan *ch;
	int64_t x;
	int32_t err;
	xchan_deadline deadline;
	xchan_cancel *token;
} op_arg;

static void *
taker(void *arg)
{
	op_arg *a = arg;
	xchan_val v;
	xchan_wait_opts o = {.size = sizeof(o), .cancel = a->token};
	a->err = xchan_take_ex(&v, a->ch,
	    a->deadline ? a->deadline : XCHAN_DEADLINE_NEVER,
	    a->token ? &o : NULL);
	a->x = a->err == XCHAN_OK ? xt_int(v) : -1;
	return NULL;
}

static void *
putter(void *arg)
{
	op_arg *a = arg;
	a->err = xchan_put(a->ch, xchan_val_int(a->x), XCHAN_DEADLINE_NEVER);
	return NULL;
}

XTEST(sleeping_taker_leaves_the_gates_open)
{
	xchan_chan *ch = lf_chan(4);
	XCHECK(gates_open(ch));
	op_arg a = {.ch = ch};
	xt_thread t;
	xt_start(&t, taker, &a);
	XREQUIRE(xt_wait_pending(ch, 1, 0, 5000));
	/* The old design closed the gates for as long as anyone waited. */
	XCHECK(gates_open(ch));
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(7)), XCHAN_OK);
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_OK);
	XCHECK_EQ(a.x, 7);
	XCHECK_EQ(info_of(ch).pending_takes, 0);
	XCHECK(gates_open(ch));
	xchan_chan_release(ch);
}

XTEST(sleeping_putter_leaves_the_gates_open_and_keeps_fifo)
{
	xchan_chan *ch = lf_chan(4);
	for (int64_t i = 1; i <= 4; i++)
		XCHECK_ERR(xchan_put(ch, xchan_val_int(i),
		               XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	op_arg a = {.ch = ch, .x = 5};
	xt_thread t;
	xt_start(&t, putter, &a);
	XREQUIRE(xt_wait_pending(ch, 1, 1, 5000));
	XCHECK(gates_open(ch));
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(99)), XCHAN_EAGAIN);
	for (int64_t want = 1; want <= 5; want++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_NEVER), XCHAN_OK);
		XCHECK_EQ(xt_int(v), want);
	}
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_OK);
	XCHECK_EQ(info_of(ch).count, 0);
	xchan_chan_release(ch);
}

XTEST(close_keeps_waiting_puts_and_ends_waiting_takes)
{
	xchan_chan *ch = lf_chan(4);
	for (int64_t i = 0; i < 4; i++)
		xchan_put(ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER);
	op_arg p[2] = {{.ch = ch, .x = 100}, {.ch = ch, .x = 101}};
	xt_thread pt[2];
	for (int i = 0; i < 2; i++)
		xt_start(&pt[i], putter, &p[i]);
	XREQUIRE(xt_wait_pending(ch, 2, 1, 5000));
	XCHECK_ERR(xchan_chan_close(ch), XCHAN_OK);
	XCHECK_EQ(info_of(ch).pending_puts, 2); /* they survive the close */
	XCHECK_ERR(xchan_put(ch, xchan_val_int(5), XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	int64_t sum = 0;
	int n = 0;
	xchan_val v;
	while (xchan_take(&v, ch, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		sum += xt_int(v);
		n++;
	}
	XCHECK_EQ(n, 6);
	XCHECK_EQ(sum, 0 + 1 + 2 + 3 + 100 + 101);
	for (int i = 0; i < 2; i++) {
		xt_join(&pt[i]);
		XCHECK_ERR(p[i].err, XCHAN_OK);
	}
	xchan_chan_release(ch);

	/* Waiting takes on an empty channel: "closed", threads and tasks. */
	ch = lf_chan(4);
	op_arg t[3] = {{.ch = ch}, {.ch = ch}, {.ch = ch}};
	xt_thread tt[3];
	for (int i = 0; i < 3; i++)
		xt_start(&tt[i], taker, &t[i]);
	XREQUIRE(xt_wait_pending(ch, 3, 0, 5000));
	XCHECK(gates_open(ch));
	xchan_chan_close(ch);
	for (int i = 0; i < 3; i++) {
		xt_join(&tt[i]);
		XCHECK_ERR(t[i].err, XCHAN_ECLOSED);
	}
	xchan_chan_release(ch);
}

static int32_t
task_take(void *arg, xchan_val *out)
{
	xchan_val v;
	int32_t err = xchan_take(&v, arg, XCHAN_DEADLINE_NEVER);
	*out = err == XCHAN_OK ? v : xchan_val_int(-(int64_t)err - 1000);
	return XCHAN_OK;
}

XTEST(go_tasks_park_as_plain_waiters)
{
	xchan_chan *ch = lf_chan(4);
	xchan_chan *r[3];
	for (int i = 0; i < 3; i++)
		XREQUIRE(xchan_go(&r[i], task_take, ch, NULL) == XCHAN_OK);
	XREQUIRE(xt_wait_pending(ch, 3, 0, 5000));
	XCHECK(gates_open(ch));
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	xchan_put(ch, xchan_val_int(2), XCHAN_DEADLINE_NEVER);
	xchan_chan_close(ch);
	int64_t sum = 0;
	int closed = 0;
	for (int i = 0; i < 3; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, r[i], XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
		int64_t x = xt_int(v);
		if (x == -(int64_t)XCHAN_ECLOSED - 1000)
			closed++;
		else
			sum += x;
		xchan_chan_release(r[i]);
	}
	XCHECK_EQ(sum, 3);
	XCHECK_EQ(closed, 1);
	xchan_chan_release(ch);
}

XTEST(deadline_and_cancel_withdraw_a_plain_waiter)
{
	xchan_chan *ch = lf_chan(4);
	op_arg a = {.ch = ch, .deadline = xchan_deadline_in_ms(30)};
	xt_thread t;
	xt_start(&t, taker, &a);
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_ETIMEDOUT);
	XCHECK_EQ(info_of(ch).pending_takes, 0);

	xchan_cancel *tok;
	XREQUIRE(xchan_cancel_new(&tok) == XCHAN_OK);
	op_arg c = {.ch = ch, .token = tok};
	xt_start(&t, taker, &c);
	XREQUIRE(xt_wait_pending(ch, 1, 0, 5000));
	xchan_cancel_fire(tok);
	xt_join(&t);
	XCHECK_ERR(c.err, XCHAN_ECANCELED);
	XCHECK_EQ(info_of(ch).pending_takes, 0);
	xchan_cancel_release(tok);
	/* Nothing was lost on the way: the channel still works. */
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(3)), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 3);
	xchan_chan_release(ch);
}

XTEST(pending_limit_counts_plain_waiters)
{
	xchan_chan *ch;
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 4,
	    .max_pending = 2};
	XREQUIRE(xchan_chan_new(&ch, &o) == XCHAN_OK);
	XREQUIRE(xchan__chan_lf_force(ch));
	op_arg t[2] = {{.ch = ch}, {.ch = ch}};
	xt_thread tt[2];
	for (int i = 0; i < 2; i++)
		xt_start(&tt[i], taker, &t[i]);
	XREQUIRE(xt_wait_pending(ch, 2, 0, 5000));
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, xchan_deadline_in_ms(1000)),
	    XCHAN_ELIMIT);
	xchan_chan_close(ch);
	for (int i = 0; i < 2; i++)
		xt_join(&tt[i]);
	xchan_chan_release(ch);
}

/* The storm: producers and consumers on threads and go tasks through a
 * cap-4 lock-free channel, so they sleep and wake all the time; some use
 * deadlines (and retry when they pass), some consumers use alts (which
 * queue in the channel's own queue and close the gates meanwhile), and a
 * thread keeps offering / polling nothing in between.  Every value arrives
 * exactly once, each producer's in order for the consumer that sees them. */
#define S_PROD 4 /* 2 threads, 2 tasks */
#define S_CONS 4 /* 2 threads, 2 tasks */
#define S_PER 30000
static xchan_chan *g_ch, *g_never;
static _Atomic int g_seen[S_PROD * S_PER];
static _Atomic int g_order_bad;
static _Atomic long g_timeouts;

static void
produce(int id)
{
	for (int i = 0; i < S_PER; i++) {
		xchan_val v = xchan_val_int((int64_t)id * S_PER + i);
		if (i % 5 == 0) {
			int32_t e;
			while (
			    (e = xchan_put(g_ch, v, xchan_deadline_in_ms(1))) ==
			    XCHAN_ETIMEDOUT)
				atomic_fetch_add(&g_timeouts, 1);
			if (e != XCHAN_OK)
				atomic_fetch_add(&g_order_bad, 1000);
		} else if (xchan_put(g_ch, v, XCHAN_DEADLINE_NEVER) !=
		           XCHAN_OK) {
			atomic_fetch_add(&g_order_bad, 1000);
		}
	}
}

static void
consume(int id)
{
	int64_t last[S_PROD];
	for (int i = 0; i < S_PROD; i++)
		last[i] = -1;
	for (unsigned k = 0;; k++) {
		xchan_val v = xchan_val_nil();
		int32_t err;
		if (id == 0 && k % 3 == 0) {
			xchan_clause cl[2] = {{.op = XCHAN_ALT_TAKE,
			                          .chan = g_never},
			    {.op = XCHAN_ALT_TAKE, .chan = g_ch}};
			xchan_result r;
			err = xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER);
			v = r.val;
		} else if (k % 4 == 1) {
			err = xchan_take(&v, g_ch, xchan_deadline_in_ms(1));
			if (err == XCHAN_ETIMEDOUT) {
				atomic_fetch_add(&g_timeouts, 1);
				continue;
			}
		} else {
			err = xchan_take(&v, g_ch, XCHAN_DEADLINE_NEVER);
		}
		if (err == XCHAN_ECLOSED)
			return;
		if (err != XCHAN_OK) {
			atomic_fetch_add(&g_order_bad, 1000);
			return;
		}
		int64_t x = xt_int(v);
		atomic_fetch_add(&g_seen[x], 1);
		if (x <= last[x / S_PER])
			atomic_fetch_add(&g_order_bad, 1);
		last[x / S_PER] = x;
	}
}

static void *
prod_thread(void *arg)
{
	produce((int)(intptr_t)arg);
	return NULL;
}

static void *
cons_thread(void *arg)
{
	consume((int)(intptr_t)arg);
	return NULL;
}

static int32_t
prod_task(void *arg, xchan_val *out)
{
	(void)out;
	produce((int)(intptr_t)arg);
	return XCHAN_OK;
}

static int32_t
cons_task(void *arg, xchan_val *out)
{
	(void)out;
	consume((int)(intptr_t)arg);
	return XCHAN_OK;
}

static void
join_task(xchan_chan *r)
{
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	xchan_chan_release(r);
}

XTEST(storm_threads_tasks_deadlines_alts_every_value_once)
{
	g_ch = lf_chan(4);
	XREQUIRE(xchan_chan_make(&g_never, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	xt_thread pt[2], ct[2];
	xchan_chan *pr[2], *cr[2];
	for (int i = 0; i < 2; i++) {
		xt_start(&ct[i], cons_thread, (void *)(intptr_t)i);
		XREQUIRE(xchan_go(&cr[i], cons_task, (void *)(intptr_t)(2 + i),
		             NULL) == XCHAN_OK);
	}
	for (int i = 0; i < 2; i++) {
		xt_start(&pt[i], prod_thread, (void *)(intptr_t)i);
		XREQUIRE(xchan_go(&pr[i], prod_task, (void *)(intptr_t)(2 + i),
		             NULL) == XCHAN_OK);
	}
	for (int i = 0; i < 2; i++) {
		xt_join(&pt[i]);
		join_task(pr[i]);
	}
	xchan_chan_close(g_ch);
	for (int i = 0; i < 2; i++) {
		xt_join(&ct[i]);
		join_task(cr[i]);
	}
	int lost = 0, dup = 0;
	for (int i = 0; i < S_PROD * S_PER; i++) {
		int n = atomic_load(&g_seen[i]);
		lost += n == 0;
		dup += n > 1;
	}
	printf("storm: %d values, %ld timed-out waits, lost %d, duplicated "
	       "%d\n",
	    S_PROD * S_PER, atomic_load(&g_timeouts), lost, dup);
	XCHECK_EQ(lost, 0);
	XCHECK_EQ(dup, 0);
	XCHECK_EQ(atomic_load(&g_order_bad), 0);
	xchan_chan_info i = info_of(g_ch);
	XCHECK_EQ(i.count, 0);
	XCHECK_EQ(i.pending_puts, 0);
	XCHECK_EQ(i.pending_takes, 0);
	xchan_chan_release(g_ch);
	xchan_chan_release(g_never);
}

XTEST_MAIN()
