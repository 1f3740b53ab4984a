/*
 * wait_test.c — interruptible blocking waits (issue 9 §7): cancel tokens
 * shared by many waiters (threads and go tasks), XCHAN_WAIT_EINTR, and the
 * wait options' bad input.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "testing/xtest.h"
#include "testing/xthread.h"

typedef struct waiter_arg {
	xchan_chan *ch;
	xchan_wait_opts opts;
	int op; /* 0 take, 1 put, 2 alts take */
	_Atomic int done;
	int32_t err;
	xchan_val got;
} waiter_arg;

static int32_t
do_wait(waiter_arg *a)
{
	switch (a->op) {
	case 0:
		return xchan_take_ex(&a->got, a->ch, XCHAN_DEADLINE_NEVER,
		    &a->opts);
	case 1:
		return xchan_put_ex(a->ch, xchan_val_int(99),
		    XCHAN_DEADLINE_NEVER, &a->opts);
	default: {
		xchan_clause c = {XCHAN_ALT_TAKE, 0, a->ch, {0, 0, 0}};
		xchan_result r;
		int32_t e =
		    xchan_alts_ex(&r, &c, 1, 0, XCHAN_DEADLINE_NEVER, &a->opts);
		a->got = r.val;
		return e;
	}
	}
}

static void *
waiter_thread(void *arg)
{
	waiter_arg *a = arg;
	a->err = do_wait(a);
	atomic_store(&a->done, 1);
	return NULL;
}

static int32_t
waiter_task(void *arg, xchan_val *result)
{
	waiter_arg *a = arg;
	a->err = do_wait(a);
	atomic_store(&a->done, 1);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

/* A thread blocked in take is released by fire; the value put later is
 * still takeable (nothing was consumed). */
XTEST(token_fire_releases_blocked_take)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	xchan_cancel *tok = NULL;
	XREQUIRE(xchan_cancel_new(&tok) == XCHAN_OK);
	XCHECK_EQ(xchan_cancel_fired(tok), 0);
	waiter_arg a = {.ch = ch,
	    .opts = {sizeof(xchan_wait_opts), 0, tok},
	    .op = 0};
	xt_thread t;
	xt_start(&t, waiter_thread, &a);
	XREQUIRE(xt_wait_pending(ch, 1, 0, 3000));
	xt_sleep_ms(20); /* let it get past its spin into the futex */
	XCHECK_EQ(atomic_load(&a.done), 0);
	XCHECK_ERR(xchan_cancel_fire(tok), XCHAN_OK);
	XCHECK(xt_wait_flag(&a.done, 3000));
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_ECANCELED);
	XCHECK_EQ(a.got.kind, XCHAN_NIL);
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(5), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	/* Fired: later calls with the token are canceled at once. */
	xchan_val v;
	XCHECK_ERR(xchan_take_ex(&v, ch, XCHAN_DEADLINE_NEVER, &a.opts),
	    XCHAN_ECANCELED);
	XCHECK_ERR(xchan_cancel_reset(tok), XCHAN_OK);
	XCHECK_EQ(xchan_cancel_fired(tok), 0);
	XCHECK_ERR(xchan_take_ex(&v, ch, XCHAN_DEADLINE_NEVER, &a.opts),
	    XCHAN_OK);
	XCHECK_EQ(xt_int(v), 5);
	xchan_cancel_release(tok);
	xchan_chan_release(ch);
}

/* One token shared by thread and task waiters of put, take and alts. */
XTEST(token_shared_by_many_waiters)
{
	xchan_chan *tc = NULL, *pc = NULL;
	xchan_chan_make(&tc, XCHAN_BUF_NONE, 0);
	xchan_chan_make(&pc, XCHAN_BUF_NONE, 0);
	xchan_cancel *tok = NULL;
	XREQUIRE(xchan_cancel_new(&tok) == XCHAN_OK);
	enum { N = 6 };
	waiter_arg a[N];
	xt_thread th[N];
	xchan_chan *r[N];
	for (int i = 0; i < N; i++) {
		int op = i % 3;
		a[i] = (waiter_arg) {.ch = op == 1 ? pc : tc,
		    .opts = {sizeof(xchan_wait_opts), 0, tok},
		    .op = op};
		r[i] = NULL;
		if (i < N / 2)
			xt_start(&th[i], waiter_thread, &a[i]);
		else
			XREQUIRE(xchan_go(&r[i], waiter_task, &a[i], NULL) ==
			         XCHAN_OK);
	}
	/* takes and alts wait on tc (4), puts on pc (2) */
	XREQUIRE(xt_wait_pending(tc, 4, 0, 3000));
	XREQUIRE(xt_wait_pending(pc, 2, 1, 3000));
	/* The token can be released by its creator while calls wait. */
	XCHECK_ERR(xchan_cancel_fire(tok), XCHAN_OK);
	xchan_cancel_release(tok);
	for (int i = 0; i < N; i++) {
		XCHECK(xt_wait_flag(&a[i].done, 3000));
		XCHECK_ERR(a[i].err, XCHAN_ECANCELED);
		if (i < N / 2)
			xt_join(&th[i]);
		else {
			xchan_val v;
			xchan_take(&v, r[i], xt_deadline_s(3));
			xchan_chan_release(r[i]);
		}
	}
	XCHECK_EQ(xt_info(tc).pending_takes, 0);
	XCHECK_EQ(xt_info(pc).pending_puts, 0);
	xchan_chan_release(tc);
	xchan_chan_release(pc);
}

static _Atomic int g_signals;

static void
on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_signals, 1);
}

/* A signal (handler without SA_RESTART) interrupts a thread blocked in
 * take_ex with XCHAN_WAIT_EINTR: XCHAN_EINTR, nothing taken; without the
 * flag the wait goes on. */
XTEST(wait_eintr_returns_on_signal)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART */
	XREQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	waiter_arg a = {.ch = ch,
	    .opts = {sizeof(xchan_wait_opts), XCHAN_WAIT_EINTR, NULL},
	    .op = 0};
	xt_thread t;
	xt_start(&t, waiter_thread, &a);
	XREQUIRE(xt_wait_pending(ch, 1, 0, 3000));
	/* Signal until it returns (the first may land before the sleep). */
	int64_t dl = xt_deadline_s(5);
	while (!atomic_load(&a.done) && xchan_now() < dl) {
		pthread_kill(t.tid, SIGUSR1);
		xt_sleep_ms(20);
	}
	XCHECK_EQ(atomic_load(&a.done), 1);
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_EINTR);
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	/* Without XCHAN_WAIT_EINTR a signal does not end the wait. */
	waiter_arg b = {.ch = ch,
	    .opts = {sizeof(xchan_wait_opts), 0, NULL},
	    .op = 0};
	xt_start(&t, waiter_thread, &b);
	XREQUIRE(xt_wait_pending(ch, 1, 0, 3000));
	for (int i = 0; i < 5; i++) {
		pthread_kill(t.tid, SIGUSR1);
		xt_sleep_ms(10);
	}
	XCHECK_EQ(atomic_load(&b.done), 0);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(8), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK(xt_wait_flag(&b.done, 3000));
	xt_join(&t);
	XCHECK_ERR(b.err, XCHAN_OK);
	XCHECK_EQ(xt_int(b.got), 8);
	XCHECK(atomic_load(&g_signals) >= 1);
	xchan_chan_release(ch);
}

XTEST(wait_opts_bad_input)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	xchan_val v;
	xchan_wait_opts small = {4, 0, NULL};
	xchan_wait_opts badflag = {sizeof(xchan_wait_opts), 0x80, NULL};
	XCHECK_ERR(xchan_take_ex(&v, ch, XCHAN_DEADLINE_POLL, &small),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_put_ex(ch, xchan_val_int(1), XCHAN_DEADLINE_POLL,
	               &badflag),
	    XCHAN_EINVAL);
	xchan_clause c = {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}};
	xchan_result r;
	XCHECK_ERR(xchan_alts_ex(&r, &c, 1, 0, XCHAN_DEADLINE_POLL, &small),
	    XCHAN_EINVAL);
	/* NULL options: the plain calls. */
	XCHECK_ERR(xchan_put_ex(ch, xchan_val_int(1), XCHAN_DEADLINE_POLL,
	               NULL),
	    XCHAN_OK);
	XCHECK_ERR(xchan_take_ex(&v, ch, XCHAN_DEADLINE_POLL, NULL), XCHAN_OK);
	XCHECK_ERR(xchan_cancel_new(NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_cancel_fire(NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_cancel_reset(NULL), XCHAN_EINVAL);
	XCHECK_EQ(xchan_cancel_fired(NULL), -XCHAN_EINVAL);
	xchan_cancel_release(NULL);
	xchan_chan_release(ch);
}

XTEST_MAIN()
