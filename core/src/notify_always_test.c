/*
 * notify_always_test.c — XCHAN_ASYNC_NOTIFY_ALWAYS: the notifier runs
 * exactly once in every case, also when xchan_op_cancel_ex wins or takes a
 * completed result before the notifier started, so a binding can free its
 * per-operation record in the notification alone.  Without the flag a
 * winning cancel_ex suppresses the notifier (checked too, so the flag is
 * what makes the difference).
 */
#include <stdatomic.h>

#include "testing/xtest.h"
#include "testing/xthread.h"

static _Atomic int g_notified;

static void
notifier(void *u, xchan_result *r)
{
	(void)u;
	XCHECK(r == NULL);
	atomic_fetch_add(&g_notified, 1);
}

static xchan_op *
pending_take(xchan_chan *c, uint32_t flags)
{
	xchan_op *op = NULL;
	XCHECK_ERR(xchan_take_async(&op, c, XCHAN_ASYNC_NOTIFY | flags,
	               notifier, NULL),
	    XCHAN_OK);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_PENDING);
	return op;
}

XTEST(winning_cancel_ex_still_notifies_once)
{
	xchan_chan *c;
	xchan_result r;
	XCHECK_ERR(xchan_chan_make(&c, XCHAN_BUF_NONE, 0), XCHAN_OK);

	atomic_store(&g_notified, 0);
	xchan_op *op = pending_take(c, 0);
	XCHECK_ERR(xchan_op_cancel_ex(op, &r), XCHAN_OK);
	XCHECK_ERR(r.err, XCHAN_ECANCELED);
	XCHECK_EQ(atomic_load(&g_notified), 0); /* default: suppressed */
	xchan_op_release(op);

	atomic_store(&g_notified, 0);
	op = pending_take(c, XCHAN_ASYNC_NOTIFY_ALWAYS);
	XCHECK_ERR(xchan_op_cancel_ex(op, &r), XCHAN_OK);
	XCHECK_ERR(r.err, XCHAN_ECANCELED);
	XCHECK_EQ(atomic_load(&g_notified), 1); /* on this thread, once */
	XCHECK_ERR(xchan_op_collect(op, &r), XCHAN_EDONE);
	xchan_op_release(op);
	XCHECK_EQ(atomic_load(&g_notified), 1);
	xchan_chan_release(c);
}

XTEST(cancel_ex_after_completion_still_notifies_once)
{
	xchan_chan *c;
	xchan_result r;
	XCHECK_ERR(xchan_chan_make(&c, XCHAN_BUF_FIXED, 1), XCHAN_OK);
	atomic_store(&g_notified, 0);
	XCHECK_ERR(xchan_put(c, xchan_val_int(7), XCHAN_DEADLINE_POLL),
	    XCHAN_OK);
	xchan_op *op = NULL;
	XCHECK_ERR(xchan_take_async(&op, c,
	               XCHAN_ASYNC_NOTIFY | XCHAN_ASYNC_NOTIFY_ALWAYS, notifier,
	               NULL),
	    XCHAN_OK);
	/* Completed during the call: notified there. */
	XCHECK_EQ(atomic_load(&g_notified), 1);
	XCHECK_ERR(xchan_op_cancel_ex(op, &r), XCHAN_OK);
	XCHECK_ERR(r.err, XCHAN_OK);
	int64_t x = 0;
	XCHECK_ERR(xchan_get_int(r.val, &x), XCHAN_OK);
	XCHECK_EQ(x, 7);
	XCHECK_EQ(atomic_load(&g_notified), 1);
	xchan_op_release(op);
	xchan_chan_release(c);
}

/* Many takes raced by a putter thread and cancel_ex on this one: every op
 * is notified exactly once, and every value put is either collected by
 * cancel_ex or still in the channel. */
typedef struct race {
	xchan_chan *c;
	int n;
} race;

static void *
putter(void *arg)
{
	race *rc = arg;
	for (int i = 0; i < rc->n; i++)
		XCHECK_ERR(xchan_put(rc->c, xchan_val_int(i),
		               xchan_deadline_in_ms(10000)),
		    XCHAN_OK);
	return NULL;
}

XTEST(race_every_op_notified_exactly_once)
{
	enum { N = 2000 };
	race rc;
	XCHECK_ERR(xchan_chan_make(&rc.c, XCHAN_BUF_FIXED, 4), XCHAN_OK);
	rc.n = N;
	atomic_store(&g_notified, 0);
	xt_thread t;
	xt_start(&t, putter, &rc);
	int got = 0, ops = 0;
	while (got < N) {
		xchan_op *op = NULL;
		xchan_result r;
		XCHECK_ERR(xchan_take_async(&op, rc.c,
		               XCHAN_ASYNC_NOTIFY | XCHAN_ASYNC_NOTIFY_ALWAYS,
		               notifier, NULL),
		    XCHAN_OK);
		ops++;
		XCHECK_ERR(xchan_op_cancel_ex(op, &r), XCHAN_OK);
		if (r.err == XCHAN_OK) {
			int64_t x = -1;
			XCHECK_ERR(xchan_get_int(r.val, &x), XCHAN_OK);
			XCHECK_EQ(x, got);
			got++;
		} else {
			XCHECK_ERR(r.err, XCHAN_ECANCELED);
		}
		xchan_op_release(op);
	}
	xt_join(&t);
	/* Every notifier has run by now: a cancel_ex that lost waited for
	 * the result, and the completer notifies right after storing it;
	 * give that last delivery a deadline rather than a sleep. */
	int64_t dl = xt_deadline_s(5);
	while (atomic_load(&g_notified) < ops && xchan_now() < dl)
		xt_sleep_ms(1);
	XCHECK_EQ(atomic_load(&g_notified), ops);
	xchan_chan_release(rc.c);
}

XTEST_MAIN()
