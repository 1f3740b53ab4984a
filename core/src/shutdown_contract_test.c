/*
 * shutdown_contract_test.c — xchan_shutdown completes what still waits
 * (issue 9 §6): a timeout channel made before shutdown closes at shutdown,
 * an alts_async deadline fires with XCHAN_ESHUTDOWN, async ops pending on
 * channels complete with XCHAN_ESHUTDOWN; afterwards a deadline that cannot
 * be kept is an error, never silently dropped.  One process: shutdown is
 * for good, so this is a single test.
 */
#include "testing/xtest.h"
#include "testing/xthread.h"

typedef struct rec {
	_Atomic int calls;
	int32_t err;
	int32_t index;
	xchan_val val;
} rec;

static void
rec_cb(void *user, xchan_result *r)
{
	rec *x = user;
	x->err = r->err;
	x->index = r->index;
	x->val = r->val;
	atomic_fetch_add(&x->calls, 1);
}

XTEST(shutdown_completes_pending_timers_and_ops)
{
	xchan_chan *to = NULL, *ch = NULL, *pc = NULL;
	XREQUIRE(xchan_timeout(&to, 60000) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&pc, XCHAN_BUF_NONE, 0) == XCHAN_OK);
	rec alts = {0}, take = {0}, put = {0};
	xchan_clause c = {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}};
	XCHECK_ERR(xchan_alts_async(NULL, &c, 1, 0, xchan_deadline_in_ms(60000),
	               rec_cb, &alts),
	    XCHAN_OK);
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, rec_cb, &take), XCHAN_OK);
	XCHECK_ERR(xchan_put_async(NULL, pc, xchan_val_int(7), 0, rec_cb, &put),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&alts.calls) + atomic_load(&take.calls) +
	              atomic_load(&put.calls),
	    0);
	int64_t t0 = xchan_now();
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
	XCHECK(xchan_now() - t0 < 5000 * 1000000LL);
	/* The timeout channel closed at shutdown, not in 60 s. */
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, to, XCHAN_DEADLINE_POLL), XCHAN_ECLOSED);
	/* The alts deadline fired with ESHUTDOWN; the others completed. */
	XCHECK_EQ(atomic_load(&alts.calls), 1);
	XCHECK_ERR(alts.err, XCHAN_ESHUTDOWN);
	XCHECK_EQ(alts.index, -1);
	XCHECK_EQ(atomic_load(&take.calls), 1);
	XCHECK_ERR(take.err, XCHAN_ESHUTDOWN);
	XCHECK_EQ(atomic_load(&put.calls), 1);
	XCHECK_ERR(put.err, XCHAN_ESHUTDOWN);
	XCHECK_EQ(xt_int(put.val), 7); /* the put value handed back */
	/* Nothing is left registered on the channels. */
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	XCHECK_EQ(xt_info(pc).pending_puts, 0);
	/* After shutdown a deadline cannot be kept: an error, no callback. */
	rec late = {0};
	XCHECK_ERR(xchan_alts_async(NULL, &c, 1, 0, xchan_deadline_in_ms(1000),
	               rec_cb, &late),
	    XCHAN_ESHUTDOWN);
	xchan_chan_release(to);
	xchan_chan *late_to = NULL;
	XCHECK_ERR(xchan_timeout(&late_to, 10), XCHAN_ESHUTDOWN);
	XCHECK(late_to == NULL);
	XCHECK_EQ(atomic_load(&late.calls), 0);
	/* Channels keep working from the caller's threads. */
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, rec_cb, &late), XCHAN_OK);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	XCHECK_EQ(atomic_load(&late.calls), 1);
	XCHECK_ERR(late.err, XCHAN_OK);
	xchan_chan_release(ch);
	xchan_chan_release(pc);
}

XTEST_MAIN()
