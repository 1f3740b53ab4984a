/*
 * contract_test.c — the completion contract (issue 9 §1, §2): no user code
 * under an xchan lock, thread and task waiters before async callbacks,
 * bounded spins, cancel callbacks inline on the canceller, no user code on a
 * go stack; notify mode, collect, cancel-or-collect and op state, with
 * storms that check every accepted value is received exactly once.
 */
#include <pthread.h>
#include <sched.h>

#include "sel.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

/* Time windows stretch under valgrind (it serializes threads). */
static int64_t
slow(int64_t ms)
{
	return getenv("XCHAN_UNDER_VALGRIND") ? ms * 5 : ms;
}

static xchan_val
identity(void *user, xchan_val in)
{
	(void)user;
	return xchan_val_retain(in);
}

/* A fixed(cap) channel running `xf` (the channel owns it); NULL on error. */
static xchan_chan *
fixed_with_xform(uint64_t cap, xchan_xform *xf)
{
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = cap,
	    .xform = xf};
	xchan_chan *ch = NULL;
	xchan_chan_new(&ch, &o);
	return ch;
}

static xchan_chan *
xform_chan(uint64_t cap)
{
	xchan_xform *xf = NULL;
	xchan_xform_map(&xf, identity, NULL);
	return fixed_with_xform(cap, xf);
}

/* ---- §1: a put_async callback pulled in by a take's refill -------------- */

typedef struct offer_back {
	xchan_chan *ch;
	_Atomic int done;
	_Atomic int offer_err;
} offer_back;

static void
offer_back_cb(void *user, xchan_result *r)
{
	offer_back *ob = user;
	(void)r;
	/* Offers back into the same transform channel: under its step lock
	 * this deadlocked. */
	atomic_store(&ob->offer_err, xchan_offer(ob->ch, xchan_val_int(3)));
	atomic_store(&ob->done, 1);
}

static void *
take_one(void *arg)
{
	xchan_val v;
	xchan_take(&v, arg, xchan_deadline_in_ms(5000));
	return NULL;
}

XTEST(refill_callback_runs_outside_step_lock)
{
	xchan_chan *ch = xform_chan(1);
	XREQUIRE(ch != NULL);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	offer_back ob = {.ch = ch};
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(2), 0, offer_back_cb,
	               &ob),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&ob.done), 0); /* pending: buffer full */
	xt_thread t;
	xt_start(&t, take_one, ch); /* takes 1, pulls 2 in: callback */
	XCHECK(xt_wait_flag(&ob.done, 3000));
	if (!atomic_load(&ob.done))
		return; /* deadlocked: leave the thread stuck */
	xt_join(&t);
	/* 2 is in the buffer (full), so the offer could not complete. */
	XCHECK_ERR(atomic_load(&ob.offer_err), XCHAN_EAGAIN);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 2);
	xchan_chan_release(ch);
}

/* ---- §1: close wakes blocked threads before running async callbacks ---- */

static void
slow_cb(void *user, xchan_result *r)
{
	(void)r;
	xt_sleep_ms(slow(400));
	atomic_store((_Atomic int *)user, 1);
}

typedef struct timed_take {
	xchan_chan *ch;
	int64_t returned_at;
	int32_t err;
} timed_take;

static void *
timed_take_fn(void *arg)
{
	timed_take *tt = arg;
	xchan_val v;
	tt->err = xchan_take(&v, tt->ch, xchan_deadline_in_ms(5000));
	tt->returned_at = xchan_now();
	return NULL;
}

XTEST(close_wakes_threads_before_callbacks)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	_Atomic int cb_done = 0;
	/* The async taker queues first: close reaches it first. */
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, slow_cb, &cb_done), XCHAN_OK);
	timed_take tt = {.ch = ch};
	xt_thread t;
	xt_start(&t, timed_take_fn, &tt);
	XREQUIRE(xt_wait_pending(ch, 2, 0, 3000));
	int64_t t0 = xchan_now();
	XCHECK_ERR(xchan_chan_close(ch), XCHAN_OK);
	xt_join(&t);
	XCHECK_ERR(tt.err, XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&cb_done), 1); /* ran during close */
	/* The thread was woken before the 400 ms callback started. */
	XCHECK((tt.returned_at - t0) < slow(200) * 1000000LL);
	xchan_chan_release(ch);
}

/* ---- §1: a task whose sel is CLAIMED does not spin its worker ----------- */

#define CLAIMED_TASKS 8
static xchan__sel *_Atomic g_claimed[CLAIMED_TASKS];
static _Atomic int g_claimed_n;
static _Atomic int g_bystander_ran;

static int32_t
claimed_waiter(void *arg, xchan_val *result)
{
	int i = (int)(intptr_t)arg;
	xchan__sel s;
	xchan__sel_init(&s);
	/* As if a counterpart had claimed it and was then preempted. */
	atomic_store(&s.state, XCHAN__SEL_CLAIMED);
	atomic_store(&g_claimed[i], &s);
	atomic_fetch_add(&g_claimed_n, 1);
	int32_t err = xchan__sel_wait(&s, XCHAN_DEADLINE_NEVER);
	*result = xchan_val_int(err == XCHAN_OK && xt_int(s.result.val) == i);
	return XCHAN_OK;
}

static int32_t
bystander(void *arg, xchan_val *result)
{
	(void)arg;
	atomic_store(&g_bystander_ran, 1);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

XTEST(claimed_task_parks_instead_of_spinning)
{
	xchan_chan *r[CLAIMED_TASKS];
	for (int i = 0; i < CLAIMED_TASKS; i++)
		XREQUIRE(xchan_go(&r[i], claimed_waiter, (void *)(intptr_t)i,
		             NULL) == XCHAN_OK);
	int64_t dl = xt_deadline_s(5);
	while (atomic_load(&g_claimed_n) < CLAIMED_TASKS && xchan_now() < dl)
		xt_sleep_ms(1);
	XREQUIRE(atomic_load(&g_claimed_n) == CLAIMED_TASKS);
	/* More claimed tasks than workers: spinning ones would starve this. */
	xchan_chan *b = NULL;
	XREQUIRE(xchan_go(&b, bystander, NULL, NULL) == XCHAN_OK);
	XCHECK(xt_wait_flag(&g_bystander_ran, slow(400)));
	/* The "claimer" now publishes the results. */
	for (int i = 0; i < CLAIMED_TASKS; i++) {
		xchan__sel *s = atomic_load(&g_claimed[i]);
		s->result.err = XCHAN_OK;
		s->result.index = 0;
		s->result.val = xchan_val_int(i);
		xchan__sel_finish(s);
	}
	for (int i = 0; i < CLAIMED_TASKS; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, r[i], xt_deadline_s(5)), XCHAN_OK);
		XCHECK_EQ(xt_int(v), 1);
		xchan_chan_release(r[i]);
	}
	xchan_val v;
	xchan_take(&v, b, xt_deadline_s(5));
	xchan_chan_release(b);
}

/* ---- §1: cancel with XCHAN_ASYNC_DISPATCH calls back on the canceller --- */

typedef struct where {
	_Atomic int ran;
	pthread_t thread;
	int32_t err;
	int in_go;
} where;

static void
where_cb(void *user, xchan_result *r)
{
	where *w = user;
	w->thread = pthread_self();
	w->err = r ? r->err : -1;
	w->in_go = xchan_in_go();
	xchan_val_release(r ? r->val : xchan_val_nil());
	atomic_store(&w->ran, 1);
}

XTEST(dispatch_cancel_calls_back_inline)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	where w = {0};
	xchan_op *op = NULL;
	XCHECK_ERR(xchan_put_async(&op, ch, xchan_val_int(1),
	               XCHAN_ASYNC_DISPATCH, where_cb, &w),
	    XCHAN_OK);
	XREQUIRE(op != NULL);
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_OK);
	XCHECK_EQ(atomic_load(&w.ran), 1); /* before cancel returned */
	XCHECK(pthread_equal(w.thread, pthread_self()));
	XCHECK_ERR(w.err, XCHAN_ECANCELED);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_CANCELED);
	xchan_op_release(op);
	xchan_chan_release(ch);
}

/* ---- §1: a go task completing an async op: callback off the go stack ---- */

static int32_t
put_seven(void *arg, xchan_val *result)
{
	*result = xchan_val_nil();
	return xchan_put(arg, xchan_val_int(7), xt_deadline_s(5));
}

XTEST(task_completion_calls_back_off_go_stack)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	where w = {0};
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, where_cb, &w), XCHAN_OK);
	xchan_chan *r = NULL;
	XREQUIRE(xchan_go(&r, put_seven, ch, NULL) == XCHAN_OK);
	XCHECK(xt_wait_flag(&w.ran, 3000));
	XCHECK_EQ(w.in_go, 0);
	XCHECK_ERR(w.err, XCHAN_OK);
	xchan_val v;
	xchan_take(&v, r, xt_deadline_s(5));
	xchan_chan_release(r);
	xchan_chan_release(ch);
}

/* ---- §1: transforms triggered by a go task run off its stack ------------ */

static _Atomic int g_step_in_go = -1;

static xchan_val
record_in_go(void *user, xchan_val in)
{
	(void)user;
	atomic_store(&g_step_in_go, xchan_in_go());
	return xchan_val_retain(in);
}

static int32_t
put_into(void *arg, xchan_val *result)
{
	*result = xchan_val_nil();
	return xchan_put(arg, xchan_val_int(1), xt_deadline_s(5));
}

XTEST(task_put_runs_step_off_go_stack)
{
	xchan_xform *xf = NULL;
	XREQUIRE(xchan_xform_map(&xf, record_in_go, NULL) == XCHAN_OK);
	xchan_chan *ch = fixed_with_xform(1, xf);
	XREQUIRE(ch != NULL);
	xchan_chan *r = NULL;
	XREQUIRE(xchan_go(&r, put_into, ch, NULL) == XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, xt_deadline_s(5)), XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&g_step_in_go), 0);
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
	xchan_chan_release(r);
	xchan_chan_release(ch);
}

/* ---- §1: a transform freed by a go task is destroyed off its stack ------- */

static _Atomic int g_destroy_in_go = -1;

static int32_t
pass_step(void *state, xchan_val in, xchan_emit *out)
{
	(void)state;
	return xchan_emit_push(out, in);
}

static void
record_destroy(void *state)
{
	(void)state;
	atomic_store(&g_destroy_in_go, xchan_in_go());
}

static int32_t
release_chan(void *arg, xchan_val *result)
{
	*result = xchan_val_nil();
	xchan_chan_release(arg);
	return XCHAN_OK;
}

XTEST(task_release_destroys_xform_off_go_stack)
{
	static const xchan_xform_vtbl vt = {sizeof(xchan_xform_vtbl), 0,
	    pass_step, NULL, record_destroy};
	xchan_xform *xf = NULL;
	XREQUIRE(xchan_xform_new(&xf, &vt, NULL) == XCHAN_OK);
	xchan_chan *ch = fixed_with_xform(1, xf);
	XREQUIRE(ch != NULL);
	xchan_chan *r = NULL;
	/* The task drops the only reference: it frees ch and its transform. */
	XREQUIRE(xchan_go(&r, release_chan, ch, NULL) == XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, xt_deadline_s(5)), XCHAN_ECLOSED);
	XCHECK_EQ(atomic_load(&g_destroy_in_go), 0);
	xchan_chan_release(r);
}

/* ---- §1: the log hook of an unhandled transform failure: no lock held ---- */

static xchan_chan *g_log_ch;
static _Atomic int g_log_calls;
static _Atomic int g_log_put_err = -1;

static void
log_hook_puts_back(void *user, int32_t level, const char *msg)
{
	(void)user;
	(void)level;
	if (strstr(msg, "transform failed") == NULL)
		return;
	/* A blocking put on the same transform channel: under its step lock
	 * this would wait for itself. */
	if (atomic_fetch_add(&g_log_calls, 1) == 0)
		atomic_store(&g_log_put_err,
		    xchan_put(g_log_ch, xchan_val_int(7), xt_deadline_s(2)));
}

static int32_t
fail_on_one(void *state, xchan_val in, xchan_emit *out)
{
	(void)state;
	if (xt_int(in) == 1) {
		xchan_val e = xchan_val_nil();
		xchan_val_string(&e, "one", 3);
		xchan_emit_fail(out, e);
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(out, in);
}

typedef struct put_call {
	xchan_chan *ch;
	_Atomic int done;
} put_call;

static void *
put_one(void *arg)
{
	put_call *pc = arg;
	xchan_put(pc->ch, xchan_val_int(1), xt_deadline_s(2));
	atomic_store(&pc->done, 1);
	return NULL;
}

XTEST(transform_failure_log_hook_runs_outside_step_lock)
{
	static const xchan_xform_vtbl vt = {.size = sizeof(xchan_xform_vtbl),
	    .step = fail_on_one};
	xchan_xform *xf = NULL;
	XREQUIRE(xchan_xform_new(&xf, &vt, NULL) == XCHAN_OK);
	g_log_ch = fixed_with_xform(2, xf);
	XREQUIRE(g_log_ch != NULL);
	xchan_set_log_hook(log_hook_puts_back, NULL);
	put_call pc = {.ch = g_log_ch};
	xt_thread t;
	xt_start(&t, put_one, &pc);
	XCHECK(xt_wait_flag(&pc.done, 3000));
	if (!atomic_load(&pc.done))
		return; /* deadlocked */
	xt_join(&t);
	xchan_set_log_hook(NULL, NULL);
	XCHECK_EQ(atomic_load(&g_log_calls), 1);
	XCHECK_ERR(atomic_load(&g_log_put_err), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, g_log_ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 7);
	xchan_chan_release(g_log_ch);
}

/* ---- §2: notify mode, collect, cancel_ex, state ------------------------- */

typedef struct bell {
	_Atomic int rings;
	_Atomic int null_result;
	_Atomic int in_go;
} bell;

static void
bell_cb(void *user, xchan_result *r)
{
	bell *b = user;
	if (r == NULL)
		atomic_fetch_add(&b->null_result, 1);
	if (xchan_in_go())
		atomic_fetch_add(&b->in_go, 1);
	atomic_fetch_add(&b->rings, 1);
}

XTEST(notify_collect_basics)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	bell b = {0};
	xchan_op *op = NULL;
	xchan_result res;
	/* Bad input. */
	XCHECK_ERR(xchan_take_async(NULL, ch, XCHAN_ASYNC_NOTIFY, bell_cb, &b),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_op_collect(NULL, &res), XCHAN_EINVAL);
	XCHECK_ERR(xchan_op_cancel_ex(NULL, &res), XCHAN_EINVAL);
	XCHECK_EQ(xchan_op_state_get(NULL), -XCHAN_EINVAL);
	/* Pending take, then a put completes it. */
	XCHECK_ERR(xchan_take_async(&op, ch, XCHAN_ASYNC_NOTIFY, bell_cb, &b),
	    XCHAN_OK);
	XREQUIRE(op != NULL);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_PENDING);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_EAGAIN);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(5), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&b.rings), 1);
	XCHECK_EQ(atomic_load(&b.null_result), 1);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_COMPLETED);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_OK);
	XCHECK_ERR(res.err, XCHAN_OK);
	XCHECK_EQ(xt_int(res.val), 5);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_DELIVERED);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_EDONE);
	XCHECK_ERR(xchan_op_cancel_ex(op, &res), XCHAN_EDONE);
	xchan_op_release(op);
	/* Completes at once: still an op to collect from. */
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(6)), XCHAN_OK);
	XCHECK_ERR(xchan_take_async(&op, ch, XCHAN_ASYNC_NOTIFY, bell_cb, &b),
	    XCHAN_OK);
	XREQUIRE(op != NULL);
	XCHECK_EQ(atomic_load(&b.rings), 2);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_OK);
	XCHECK_EQ(xt_int(res.val), 6);
	xchan_op_release(op);
	/* A callback-mode op cannot be collected. */
	XCHECK_ERR(xchan_take_async(&op, ch, 0, bell_cb, &b), XCHAN_OK);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_EINVAL);
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_OK);
	xchan_op_release(op);
	xchan_chan_release(ch);
}

XTEST(cancel_ex_hands_back_put_value)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	bell b = {0};
	xchan_op *op = NULL;
	xchan_val s;
	XREQUIRE(xchan_val_string(&s, "kept", 4) == XCHAN_OK);
	XCHECK_ERR(xchan_put_async(&op, ch, s, XCHAN_ASYNC_NOTIFY, bell_cb, &b),
	    XCHAN_OK);
	xchan_result res;
	XCHECK_ERR(xchan_op_cancel_ex(op, &res), XCHAN_OK);
	XCHECK_ERR(res.err, XCHAN_ECANCELED);
	XCHECK_EQ(res.index, -1);
	XCHECK(xchan_val_equal(res.val, s));
	xchan_val_release(res.val);
	XCHECK_EQ(atomic_load(&b.rings), 0); /* notifier suppressed */
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_CANCELED);
	XCHECK_ERR(xchan_op_cancel_ex(op, &res), XCHAN_EDONE);
	xchan_op_release(op);
	/* Callback mode: cancel_ex suppresses the callback too. */
	where w = {0};
	XCHECK_ERR(xchan_take_async(&op, ch, 0, where_cb, &w), XCHAN_OK);
	XCHECK_ERR(xchan_op_cancel_ex(op, &res), XCHAN_OK);
	XCHECK_ERR(res.err, XCHAN_ECANCELED);
	XCHECK_EQ(atomic_load(&w.ran), 0);
	xchan_op_release(op);
	xchan_chan_release(ch);
}

/* A completed but undelivered result: cancel_ex takes it. */
XTEST(cancel_ex_collects_completed_result)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	bell b = {0};
	xchan_op *op = NULL;
	XCHECK_ERR(xchan_take_async(&op, ch, XCHAN_ASYNC_NOTIFY, bell_cb, &b),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(9), xt_deadline_s(2)), XCHAN_OK);
	XCHECK_EQ(atomic_load(&b.rings), 1);
	xchan_result res;
	XCHECK_ERR(xchan_op_cancel_ex(op, &res), XCHAN_OK);
	XCHECK_ERR(res.err, XCHAN_OK);
	XCHECK_EQ(xt_int(res.val), 9);
	XCHECK_ERR(xchan_op_collect(op, &res), XCHAN_EDONE);
	XCHECK_EQ(xchan_op_state_get(op), XCHAN_OP_DELIVERED);
	xchan_op_release(op);
	xchan_chan_release(ch);
}

/* ---- §2: storms ----------------------------------------------------------- */

#define STORM_PRODUCERS 4
#define STORM_PER_MAX 3000
#define STORM_TOTAL_MAX (STORM_PRODUCERS * STORM_PER_MAX)
static int STORM_PER = STORM_PER_MAX; /* smaller under valgrind */
#define STORM_TOTAL (STORM_PRODUCERS * STORM_PER)
#define STORM_CONSUMERS 4

typedef struct storm {
	xchan_chan *ch;
	_Atomic uint32_t seen[STORM_TOTAL_MAX];
	_Atomic long received;
	_Atomic long dup;
	_Atomic long bad;
	_Atomic long producers_done;
} storm;

static storm g_storm;

/* One doorbell per party: the notifier rings it (never blocks). */
static void
doorbell_cb(void *user, xchan_result *r)
{
	(void)r;
	xchan_offer(user, xchan_val_int(1));
}

static xchan_chan *
new_doorbell(void)
{
	xchan_chan *d = NULL;
	xchan_chan_make(&d, XCHAN_BUF_DROPPING, 1);
	return d;
}

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
record(storm *st, xchan_val v)
{
	if (v.kind != XCHAN_INT || xt_int(v) < 0 || xt_int(v) >= STORM_TOTAL) {
		atomic_fetch_add(&st->bad, 1);
		return;
	}
	if (atomic_fetch_add(&st->seen[xt_int(v)], 1) != 0)
		atomic_fetch_add(&st->dup, 1);
	atomic_fetch_add(&st->received, 1);
}

/* Waits for the op by doorbell and collects; returns its result. */
static xchan_result
await_op(xchan_op *op, xchan_chan *bell_ch)
{
	xchan_result res;
	for (;;) {
		int32_t e = xchan_op_collect(op, &res);
		if (e == XCHAN_OK)
			return res;
		if (e != XCHAN_EAGAIN) {
			res.err = e;
			return res;
		}
		xchan_val d;
		xchan_take(&d, bell_ch, xchan_deadline_in_ms(20));
	}
}

static void
produce(storm *st, int p, uint64_t seed)
{
	xchan_chan *bell_ch = new_doorbell();
	for (int k = 0; k < STORM_PER;) {
		int64_t id = (int64_t)p * STORM_PER + k;
		xchan_op *op = NULL;
		int32_t e = xchan_put_async(&op, st->ch, xchan_val_int(id),
		    XCHAN_ASYNC_NOTIFY, doorbell_cb, bell_ch);
		if (e != XCHAN_OK) {
			atomic_fetch_add(&st->bad, 1);
			break;
		}
		xchan_result res;
		if (rnd(&seed) & 1) {
			e = xchan_op_cancel_ex(op, &res);
			if (e != XCHAN_OK)
				atomic_fetch_add(&st->bad, 1);
		} else {
			res = await_op(op, bell_ch);
		}
		xchan_op_release(op);
		if (res.err == XCHAN_OK)
			k++; /* accepted */
		else if (res.err == XCHAN_ECANCELED &&
		         res.val.kind == XCHAN_INT && xt_int(res.val) == id)
			continue; /* handed back: put it again */
		else {
			atomic_fetch_add(&st->bad, 1);
			k++;
		}
	}
	xchan_chan_release(bell_ch);
	atomic_fetch_add(&st->producers_done, 1);
}

static void
consume(storm *st, uint64_t seed)
{
	xchan_chan *bell_ch = new_doorbell();
	while (atomic_load(&st->received) < STORM_TOTAL) {
		xchan_op *op = NULL;
		if (xchan_take_async(&op, st->ch, XCHAN_ASYNC_NOTIFY,
		        doorbell_cb, bell_ch) != XCHAN_OK) {
			atomic_fetch_add(&st->bad, 1);
			break;
		}
		xchan_result res;
		if (rnd(&seed) % 3 == 0) {
			if (xchan_op_cancel_ex(op, &res) != XCHAN_OK)
				atomic_fetch_add(&st->bad, 1);
		} else {
			/* Wait, but give up (cancel-or-collect) when all is
			 * received so the storm can end. */
			for (;;) {
				int32_t e = xchan_op_collect(op, &res);
				if (e == XCHAN_OK)
					break;
				if (atomic_load(&st->received) >= STORM_TOTAL) {
					if (xchan_op_cancel_ex(op, &res) !=
					    XCHAN_OK)
						atomic_fetch_add(&st->bad, 1);
					break;
				}
				xchan_val d;
				xchan_take(&d, bell_ch,
				    xchan_deadline_in_ms(20));
			}
		}
		xchan_op_release(op);
		if (res.err == XCHAN_OK)
			record(st, res.val);
		else if (res.err != XCHAN_ECANCELED)
			atomic_fetch_add(&st->bad, 1);
	}
	xchan_chan_release(bell_ch);
}

static void *
producer_thread(void *arg)
{
	int p = (int)(intptr_t)arg;
	produce(&g_storm, p, 0x1234567ull + (uint64_t)p * 77);
	return NULL;
}

static void *
consumer_thread(void *arg)
{
	consume(&g_storm, 0x9876543ull + (uint64_t)(intptr_t)arg * 31);
	return NULL;
}

static int32_t
producer_task(void *arg, xchan_val *result)
{
	int p = (int)(intptr_t)arg;
	produce(&g_storm, p, 0xabcdefull + (uint64_t)p * 13);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
consumer_task(void *arg, xchan_val *result)
{
	consume(&g_storm, 0x5555ull + (uint64_t)(intptr_t)arg * 7);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

static void
run_storm(uint32_t kind, uint64_t cap)
{
	storm *st = &g_storm;
	memset(st, 0, sizeof(*st));
	STORM_PER = getenv("XCHAN_UNDER_VALGRIND") ? 200 : STORM_PER_MAX;
	xchan_chan_make(&st->ch, kind, cap);
	xt_thread pt[STORM_PRODUCERS / 2], ct[STORM_CONSUMERS / 2];
	xchan_chan *pr[STORM_PRODUCERS / 2], *cr[STORM_CONSUMERS / 2];
	/* Half the producers and consumers are threads, half go tasks. */
	for (int i = 0; i < STORM_PRODUCERS / 2; i++) {
		xt_start(&pt[i], producer_thread, (void *)(intptr_t)i);
		xchan_go(&pr[i], producer_task,
		    (void *)(intptr_t)(i + STORM_PRODUCERS / 2), NULL);
	}
	for (int i = 0; i < STORM_CONSUMERS / 2; i++) {
		xt_start(&ct[i], consumer_thread, (void *)(intptr_t)i);
		xchan_go(&cr[i], consumer_task, (void *)(intptr_t)i, NULL);
	}
	for (int i = 0; i < STORM_PRODUCERS / 2; i++) {
		xt_join(&pt[i]);
		xchan_val v;
		xchan_take(&v, pr[i], xt_deadline_s(60));
		xchan_chan_release(pr[i]);
	}
	for (int i = 0; i < STORM_CONSUMERS / 2; i++) {
		xt_join(&ct[i]);
		xchan_val v;
		xchan_take(&v, cr[i], xt_deadline_s(60));
		xchan_chan_release(cr[i]);
	}
	XCHECK_EQ(atomic_load(&st->bad), 0);
	XCHECK_EQ(atomic_load(&st->dup), 0);
	XCHECK_EQ(atomic_load(&st->received), STORM_TOTAL);
	long missing = 0;
	for (int i = 0; i < STORM_TOTAL; i++)
		missing += atomic_load(&st->seen[i]) != 1;
	XCHECK_EQ(missing, 0);
	xchan_chan_info info = {.size = sizeof(info)};
	xchan_chan_info_get(&info, st->ch);
	XCHECK_EQ(info.count, 0);
	xchan_chan_release(st->ch);
}

XTEST(storm_unbuffered_exactly_once)
{
	run_storm(XCHAN_BUF_NONE, 0);
}

XTEST(storm_buffered_exactly_once)
{
	run_storm(XCHAN_BUF_FIXED, 4);
}

XTEST_MAIN()
