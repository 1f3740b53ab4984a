/*
 * lifetime_test.c — defects of issue 9 §8: the last reference of a channel
 * released while a blocking put/take/alts waits on it (thread or go task)
 * must not free it under the waiter; a transform that closes its own
 * channel (from its completion, or from a step during a put) must not
 * deadlock: the inner close is recorded and takes effect after the step.
 *
 * The allocation hooks record when the watched channel is freed, so the
 * use-after-free is visible in every build type, not only under ASan.
 */
#include <pthread.h>

#include "testing/xtest.h"
#include "testing/xthread.h"

static void *_Atomic g_watched;
static _Atomic int64_t g_freed_at;

static void *
hook_alloc(void *user, size_t size)
{
	(void)user;
	return malloc(size);
}

static void
hook_free(void *user, void *ptr, size_t size)
{
	(void)user;
	(void)size;
	if (ptr != NULL && ptr == atomic_load(&g_watched))
		atomic_store(&g_freed_at, xchan_now());
	free(ptr);
}

__attribute__((constructor)) static void
install_hooks(void)
{
	xchan_init_params p = {.size = sizeof(p),
	    .alloc = hook_alloc,
	    .free = hook_free};
	if (xchan_init(&p) != XCHAN_OK)
		fprintf(stderr, "lifetime_test: xchan_init failed\n");
}

typedef struct blocked {
	xchan_chan *ch;
	int op; /* 0 take, 1 put, 2 alts */
	int ms; /* how long the op waits */
	int32_t err;
	_Atomic int64_t deadline;
	_Atomic int done;
} blocked;

static int32_t
blocked_op(blocked *b)
{
	xchan_deadline dl = xchan_deadline_in_ms(b->ms);
	atomic_store(&b->deadline, dl);
	if (b->op == 0) {
		xchan_val v;
		return xchan_take(&v, b->ch, dl);
	}
	if (b->op == 1)
		return xchan_put(b->ch, xchan_val_int(1), dl);
	xchan_clause c[2] = {{XCHAN_ALT_TAKE, 0, b->ch, {0, 0, 0}},
	    {XCHAN_ALT_PUT, 0, b->ch, xchan_val_int(2)}};
	xchan_result r;
	return xchan_alts(&r, c, 2, 0, dl);
}

static void *
blocked_thread(void *arg)
{
	blocked *b = arg;
	b->err = blocked_op(b);
	atomic_store(&b->done, 1);
	return NULL;
}

static int32_t
blocked_task(void *arg, xchan_val *result)
{
	blocked *b = arg;
	b->err = blocked_op(b);
	atomic_store(&b->done, 1);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

/* One round: returns 0 when the waiter's deadline passed before it was seen
 * waiting (a loaded machine), so the caller retries with a longer one. */
static int
release_under_waiter_once(int op, int in_task, int ms)
{
	xchan_chan *ch = NULL;
	if (xchan_chan_make(&ch, XCHAN_BUF_NONE, 0) != XCHAN_OK) {
		XCHECK(!"xchan_chan_make failed");
		return 1; /* counted as a failure; no retry */
	}
	atomic_store(&g_watched, ch);
	atomic_store(&g_freed_at, 0);
	blocked b = {.ch = ch, .op = op, .ms = ms};
	xt_thread t;
	xchan_chan *r = NULL;
	if (in_task) {
		if (xchan_go(&r, blocked_task, &b, NULL) != XCHAN_OK) {
			XCHECK(!"xchan_go failed");
			xchan_chan_release(ch);
			return 1;
		}
	} else
		xt_start(&t, blocked_thread, &b);
	int seen = xt_wait_pending(ch, 1, op == 1, ms + 3000);
	if (seen && atomic_load(&b.done)) /* it left before we looked */
		seen = 0;
	xchan_chan_release(ch); /* the last user reference */
	XCHECK(xt_wait_flag(&b.done, ms + 3000));
	if (in_task) {
		xchan_val v;
		xchan_take(&v, r, xt_deadline_s(3));
		xchan_chan_release(r);
	} else {
		xt_join(&t);
	}
	XCHECK_ERR(b.err, XCHAN_ETIMEDOUT);
	int64_t freed = atomic_load(&g_freed_at);
	atomic_store(&g_watched, NULL);
	if (!seen)
		return 0;
	/* Freed in the end, by the waiter leaving at its deadline, not by
	 * the release while it waited. */
	XCHECK(freed != 0);
	XCHECK(freed >= atomic_load(&b.deadline));
	return 1;
}

static void
release_under_waiter(int op, int in_task)
{
	int ms = 300;
	while (!release_under_waiter_once(op, in_task, ms) && ms < 20000)
		ms *= 4;
	XCHECK(ms < 20000);
}

XTEST(release_last_ref_under_thread_take)
{
	release_under_waiter(0, 0);
}

XTEST(release_last_ref_under_thread_put)
{
	release_under_waiter(1, 0);
}

XTEST(release_last_ref_under_thread_alts)
{
	release_under_waiter(2, 0);
}

XTEST(release_last_ref_under_task_take)
{
	release_under_waiter(0, 1);
}

XTEST(release_last_ref_under_task_put)
{
	release_under_waiter(1, 1);
}

XTEST(release_last_ref_under_task_alts)
{
	release_under_waiter(2, 1);
}

/* ---- a transform that closes its own channel ------------------------------ */

typedef struct self_closer {
	xchan_chan *ch;
	int close_in_step;     /* close when the step sees 42 */
	int close_in_complete; /* close from the completion */
	_Atomic int completions;
} self_closer;

static int32_t
sc_step(void *state, xchan_val in, xchan_emit *out)
{
	self_closer *sc = state;
	int64_t i = xt_int(in);
	if (sc->close_in_step && i == 42)
		XCHECK_ERR(xchan_chan_close(sc->ch), XCHAN_OK);
	return xchan_emit_push(out, in);
}

static int32_t
sc_complete(void *state, xchan_emit *out)
{
	self_closer *sc = state;
	atomic_fetch_add(&sc->completions, 1);
	if (sc->close_in_complete)
		XCHECK_ERR(xchan_chan_close(sc->ch), XCHAN_OK);
	return xchan_emit_push(out, xchan_val_int(-1));
}

static xchan_chan *
self_closing_chan(self_closer *sc)
{
	static const xchan_xform_vtbl vt = {.size = sizeof(xchan_xform_vtbl),
	    .step = sc_step,
	    .complete = sc_complete};
	xchan_xform *xf = NULL;
	if (xchan_xform_new(&xf, &vt, sc) != XCHAN_OK)
		return NULL;
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 4,
	    .xform = xf};
	xchan_chan *ch = NULL;
	xchan_chan_new(&ch, &o);
	sc->ch = ch;
	return ch;
}

typedef struct call {
	xchan_chan *ch;
	int what; /* 0 close, 1 put 42 */
	int32_t err;
	_Atomic int done;
} call;

static void *
call_thread(void *arg)
{
	call *c = arg;
	c->err = c->what == 0 ? xchan_chan_close(c->ch)
	                      : xchan_put(c->ch, xchan_val_int(42),
	                            XCHAN_DEADLINE_NEVER);
	atomic_store(&c->done, 1);
	return NULL;
}

XTEST(completion_closing_own_channel_does_not_deadlock)
{
	self_closer sc = {.close_in_complete = 1};
	xchan_chan *ch = self_closing_chan(&sc);
	XREQUIRE(ch != NULL);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	call c = {.ch = ch, .what = 0};
	xt_thread t;
	xt_start(&t, call_thread, &c);
	XCHECK(xt_wait_flag(&c.done, 3000));
	if (!atomic_load(&c.done))
		return; /* deadlocked */
	xt_join(&t);
	XCHECK_ERR(c.err, XCHAN_OK);
	XCHECK_EQ(atomic_load(&sc.completions), 1);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 1);
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
	XCHECK_EQ(xt_int(v), -1);
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

XTEST(step_closing_own_channel_during_put_does_not_deadlock)
{
	self_closer sc = {.close_in_step = 1};
	xchan_chan *ch = self_closing_chan(&sc);
	XREQUIRE(ch != NULL);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	call c = {.ch = ch, .what = 1};
	xt_thread t;
	xt_start(&t, call_thread, &c);
	XCHECK(xt_wait_flag(&c.done, 3000));
	if (!atomic_load(&c.done))
		return; /* deadlocked */
	xt_join(&t);
	/* The put was accepted before its step closed the channel. */
	XCHECK_ERR(c.err, XCHAN_OK);
	XCHECK_EQ(xt_info(ch).closed, 1);
	XCHECK_EQ(atomic_load(&sc.completions), 1);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(2), XCHAN_DEADLINE_POLL),
	    XCHAN_ECLOSED);
	xchan_val v;
	int64_t want[] = {1, 42, -1};
	for (int i = 0; i < 3; i++) {
		XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
		XCHECK_EQ(xt_int(v), want[i]);
	}
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

XTEST_MAIN()
