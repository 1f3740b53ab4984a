/*
 * nonblock_test.c — non-blocking means non-blocking (issue 9 §4): while
 * another thread is inside a transform step (holding the step lock),
 * offer, poll and alts with XCHAN_DEADLINE_POLL answer EAGAIN at once, and
 * async registration returns at once; the step lock's holder then does the
 * work they left (pulls the registered put in, serves the registered take).
 */
#include "testing/xtest.h"
#include "testing/xthread.h"

static _Atomic int g_in_step;
static _Atomic int g_release_step;

static int32_t
gated_step(void *state, xchan_val in, xchan_emit *out)
{
	(void)state;
	if (xt_int(in) == 100) {
		atomic_store(&g_in_step, 1);
		while (!atomic_load(&g_release_step))
			xt_sleep_ms(1);
	}
	return xchan_emit_push(out, in);
}

static void *
put_100(void *arg)
{
	xchan_put(arg, xchan_val_int(100), XCHAN_DEADLINE_NEVER);
	return NULL;
}

static void
rec_cb(void *user, xchan_result *r)
{
	xt_rec *x = user;
	x->err = r->err;
	x->val = r->val;
	atomic_fetch_add(&x->calls, 1);
}

/* Runs `call` and returns how long it took (ns). */
#define TIMED(call, out_err)                                                   \
	do {                                                                   \
		int64_t t0_ = xchan_now();                                     \
		out_err = (call);                                              \
		elapsed = xchan_now() - t0_;                                   \
	} while (0)

XTEST(nonblocking_calls_never_wait_for_a_step)
{
	static const xchan_xform_vtbl vt = {.size = sizeof(xchan_xform_vtbl),
	    .step = gated_step};
	xchan_xform *xf = NULL;
	XREQUIRE(xchan_xform_new(&xf, &vt, NULL) == XCHAN_OK);
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 4,
	    .xform = xf};
	xchan_chan *ch = NULL;
	XREQUIRE(xchan_chan_new(&ch, &o) == XCHAN_OK);
	xt_thread t;
	xt_start(&t, put_100, ch);
	XREQUIRE(xt_wait_flag(&g_in_step, 3000));
	/* The step holds for 500 ms (x5 under valgrind, which serializes
	 * threads). */
	int64_t scale = getenv("XCHAN_UNDER_VALGRIND") ? 5 : 1;
	const int64_t limit = scale * 100 * 1000000LL;
	int64_t elapsed;
	int32_t err;
	TIMED(xchan_offer(ch, xchan_val_int(1)), err);
	XCHECK_ERR(err, XCHAN_EAGAIN);
	XCHECK(elapsed < limit);
	xchan_val v;
	TIMED(xchan_poll(&v, ch), err);
	XCHECK_ERR(err, XCHAN_EAGAIN);
	XCHECK(elapsed < limit);
	xchan_clause c[2] = {{XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}},
	    {XCHAN_ALT_PUT, 0, ch, xchan_val_int(2)}};
	xchan_result r;
	TIMED(xchan_alts(&r, c, 2, 0, XCHAN_DEADLINE_POLL), err);
	XCHECK_ERR(err, XCHAN_EAGAIN);
	XCHECK(elapsed < limit);
	/* Async registration returns at once; the work waits for the step. */
	xt_rec put_rec = {0}, take_rec = {0};
	TIMED(xchan_put_async(NULL, ch, xchan_val_int(3), 0, rec_cb, &put_rec),
	    err);
	XCHECK_ERR(err, XCHAN_OK);
	XCHECK(elapsed < limit);
	TIMED(xchan_take_async(NULL, ch, 0, rec_cb, &take_rec), err);
	XCHECK_ERR(err, XCHAN_OK);
	XCHECK(elapsed < limit);
	XCHECK_EQ(atomic_load(&put_rec.calls), 0);
	XCHECK_EQ(atomic_load(&take_rec.calls), 0);
	xt_sleep_ms(scale * 500);
	atomic_store(&g_release_step, 1);
	xt_join(&t);
	/* The holder pulled the async put in and served the async take. */
	XCHECK(xt_wait_flag(&put_rec.calls, 3000));
	XCHECK_ERR(put_rec.err, XCHAN_OK);
	XCHECK(xt_wait_flag(&take_rec.calls, 3000));
	XCHECK_ERR(take_rec.err, XCHAN_OK);
	XCHECK_EQ(xt_int(take_rec.val), 100);
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 3);
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

XTEST_MAIN()
