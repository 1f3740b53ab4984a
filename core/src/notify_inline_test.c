/*
 * notify_inline_test.c — a notify-mode op that completes during its start
 * call (found by tests/fuzz): xchan_op_cancel must answer XCHAN_EDONE (the
 * result is there to collect), and once xchan_op_cancel_ex has taken the
 * result, xchan_op_collect must answer XCHAN_EDONE.  And a result nobody
 * collected is released with the op's last handle, not leaked.
 */
#include "testing/xtest.h"

static int g_dtor_runs, g_notified;

static void
dtor(void *p)
{
	(void)p;
	g_dtor_runs++;
}

static void
notifier(void *u, xchan_result *r)
{
	(void)u;
	(void)r;
	g_notified++;
}

/* A fixed(1) channel holding one box, and a notify take that completes
 * inline on it. */
static xchan_op *
completed_take(xchan_chan **c)
{
	xchan_val v;
	xchan_op *op = NULL;
	XCHECK_ERR(xchan_chan_make(c, XCHAN_BUF_FIXED, 1), XCHAN_OK);
	XCHECK_ERR(xchan_val_box(&v, &g_dtor_runs, dtor), XCHAN_OK);
	XCHECK_ERR(xchan_put(*c, v, XCHAN_DEADLINE_POLL), XCHAN_OK);
	XCHECK_ERR(xchan_take_async(&op, *c, XCHAN_ASYNC_NOTIFY, notifier,
	               NULL),
	    XCHAN_OK);
	XCHECK(op != NULL);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_COMPLETED);
	return op;
}

XTEST(cancel_after_inline_completion_is_edone)
{
	xchan_chan *c;
	xchan_result r;
	g_dtor_runs = g_notified = 0;
	xchan_op *op = completed_take(&c);
	XCHECK_EQ(g_notified, 1);
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_EDONE);
	XCHECK_ERR(xchan_op_collect(op, &r), XCHAN_OK);
	XCHECK_ERR(r.err, XCHAN_OK);
	XCHECK_EQ(r.val.kind, XCHAN_BOX);
	xchan_val_release(r.val);
	xchan_op_release(op);
	xchan_chan_release(c);
	XCHECK_EQ(g_dtor_runs, 1);
}

XTEST(collect_after_cancel_ex_took_the_result_is_edone)
{
	xchan_chan *c;
	xchan_result r;
	g_dtor_runs = g_notified = 0;
	xchan_op *op = completed_take(&c);
	XCHECK_ERR(xchan_op_cancel_ex(op, &r), XCHAN_OK);
	XCHECK_ERR(r.err, XCHAN_OK); /* the completed result, not a cancel */
	XCHECK_EQ(r.val.kind, XCHAN_BOX);
	xchan_val_release(r.val);
	XCHECK_ERR(xchan_op_collect(op, &r), XCHAN_EDONE);
	XCHECK_EQ(r.val.kind, XCHAN_NIL);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_DELIVERED);
	xchan_op_release(op);
	xchan_chan_release(c);
	XCHECK_EQ(g_dtor_runs, 1);
}

XTEST(uncollected_result_is_released_with_the_handle)
{
	xchan_chan *c;
	g_dtor_runs = g_notified = 0;
	xchan_op *op = completed_take(&c); /* a value waits in the op */
	xchan_op_release(op);
	XCHECK_EQ(g_dtor_runs, 1);
	/* The same for a put canceled in notify mode: its value comes back
	 * in the result, which nobody collects. */
	xchan_val v;
	XCHECK_ERR(xchan_val_box(&v, &g_dtor_runs, dtor), XCHAN_OK);
	XCHECK_ERR(xchan_put_async(&op, c, v, XCHAN_ASYNC_NOTIFY, notifier,
	               NULL),
	    XCHAN_OK); /* the buffer is empty: completes at once */
	xchan_val w;
	XCHECK_ERR(xchan_val_box(&w, &g_dtor_runs, dtor), XCHAN_OK);
	xchan_op *op2 = NULL;
	XCHECK_ERR(xchan_put_async(&op2, c, w, XCHAN_ASYNC_NOTIFY, notifier,
	               NULL),
	    XCHAN_OK); /* full: pending */
	XCHECK_ERR(xchan_op_cancel(op2), XCHAN_OK);
	xchan_op_release(op2);
	XCHECK_EQ(g_dtor_runs, 2); /* w came back, uncollected, released */
	xchan_op_release(op);
	xchan_chan_release(c); /* v was in the buffer */
	XCHECK_EQ(g_dtor_runs, 3);
}

XTEST_MAIN()
