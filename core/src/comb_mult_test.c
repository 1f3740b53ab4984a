/* comb_mult_test.c — mult, tap, untap (docs/semantics.md §4 cases 56-57). */
#include "comb_testutil.h"

/* 56: two buffered taps each get [0 1 2 3]. */
XTEST(mult_two_taps)
{
	xchan_chan *a = tu_chan(XCHAN_BUF_FIXED, 4),
	           *b = tu_chan(XCHAN_BUF_FIXED, 4);
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, &done, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, a, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, b, 1), XCHAN_OK);
	xchan_chan *r = tu_range(0, 4);
	XCHECK_ERR(xchan_pipe(NULL, r, src, 1), XCHAN_OK);
	int64_t want[4] = {0, 1, 2, 3};
	XCHECK(tu_expect_seq(a, want, 4));
	XCHECK(tu_expect_seq(b, want, 4));
	tu_done(done);
	xchan_mult_release(m);
	xchan_chan_release(r);
	xchan_chan_release(src);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* 57, ASYNC-127: every tap accepts an item before the next is sent; a
 * closed tap is removed. */
XTEST(mult_async_127)
{
	/* Tap before any value flows (core.async's test races here): the
	 * mult reads an unbuffered gate fed once the taps are in place. */
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *range = tu_range(1, 5);
	xchan_chan *t1 = tu_chan(XCHAN_BUF_NONE, 0),
	           *t2 = tu_chan(XCHAN_BUF_NONE, 0),
	           *t3 = tu_chan(XCHAN_BUF_NONE, 0);
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, NULL, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, t1, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, t2, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, t3, 1), XCHAN_OK);
	xchan_chan_close(t3);
	XCHECK_ERR(xchan_pipe(NULL, range, src, 1), XCHAN_OK);
	TU_TAKE_EQ(t1, 1);
	TU_EMPTY(t1); /* t-2 has not taken yet */
	TU_TAKE_EQ(t2, 1);
	TU_TAKE_EQ(t1, 2);
	TU_EMPTY(t1);
	TU_TAKE_EQ(t2, 2);
	TU_TAKE_EQ(t1, 3);
	TU_TAKE_EQ(t2, 3);
	TU_TAKE_EQ(t1, 4);
	TU_TAKE_EQ(t2, 4);
	TU_CLOSED(t1);
	TU_CLOSED(t2);
	xchan_mult_release(m);
	xchan_chan_release(range);
	xchan_chan_release(src);
	xchan_chan_release(t1);
	xchan_chan_release(t2);
	xchan_chan_release(t3);
}

/* A dropping tap never read does not stall a fixed one; a sliding tap keeps
 * the newest value. */
XTEST(mult_mixed_buffer_policies)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	xchan_chan *fixed = tu_chan(XCHAN_BUF_FIXED, 100);
	xchan_chan *drop = tu_chan(XCHAN_BUF_DROPPING, 1);
	xchan_chan *slide = tu_chan(XCHAN_BUF_SLIDING, 1);
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, &done, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, drop, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, fixed, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, slide, 1), XCHAN_OK);
	for (int i = 0; i < 50; i++)
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	tu_done(done); /* never waited on the unread taps */
	int64_t want[50];
	for (int i = 0; i < 50; i++)
		want[i] = i;
	XCHECK(tu_expect_seq(fixed, want, 50));
	int64_t first = 0, last = 49;
	XCHECK(tu_expect_seq(drop, &first, 1));
	XCHECK(tu_expect_seq(slide, &last, 1));
	xchan_mult_release(m);
	xchan_chan_release(src);
	xchan_chan_release(fixed);
	xchan_chan_release(drop);
	xchan_chan_release(slide);
}

/* Values arriving with no taps are dropped; taps see later values. */
XTEST(mult_no_taps_drops)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0),
	           *a = tu_chan(XCHAN_BUF_FIXED, 4);
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, NULL, src), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(1), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(2), tu_dl()), XCHAN_OK);
	/* The mult has taken 2; it is dropped once the mult sees no taps. */
	XCHECK_ERR(xchan_mult_tap(m, a, 1), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(3), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(4), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	int64_t got[4];
	int32_t err;
	size_t n = tu_drain_ints(a, got, 4, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	/* 2 may or may not have been snapshotted before the tap. */
	XCHECK(n == 2 || n == 3);
	if (n >= 2) {
		XCHECK_EQ(got[n - 2], 3);
		XCHECK_EQ(got[n - 1], 4);
	}
	xchan_mult_release(m);
	xchan_chan_release(src);
	xchan_chan_release(a);
}

/* Untap stops delivery; close flags are honoured when the source closes;
 * tapping after the end closes the tap at once. */
XTEST(mult_untap_and_close_flags)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	xchan_chan *keep = tu_chan(XCHAN_BUF_FIXED, 10),
	           *gone = tu_chan(XCHAN_BUF_FIXED, 10),
	           *open = tu_chan(XCHAN_BUF_FIXED, 10);
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, &done, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, keep, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, gone, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, open, 0), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(1), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(gone, 1); /* the round of 1 has reached every tap */
	XCHECK_ERR(xchan_mult_untap(m, gone), XCHAN_OK);
	XCHECK_ERR(xchan_mult_untap(m, gone), XCHAN_OK); /* no-op */
	XCHECK_ERR(xchan_put(src, xchan_val_int(2), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	tu_done(done);
	int64_t w12[2] = {1, 2};
	XCHECK(tu_expect_seq(keep, w12, 2));
	TU_EMPTY(gone); /* untapped: not closed, got nothing more */
	TU_TAKE_EQ(open, 1);
	TU_TAKE_EQ(open, 2);
	TU_EMPTY(open); /* close flag 0: still open */
	xchan_chan *late = tu_chan(XCHAN_BUF_FIXED, 1);
	XCHECK_ERR(xchan_mult_tap(m, late, 1), XCHAN_OK);
	TU_CLOSED(late);
	xchan_mult_release(m);
	xchan_chan_release(src);
	xchan_chan_release(keep);
	xchan_chan_release(gone);
	xchan_chan_release(open);
	xchan_chan_release(late);
}

XTEST(mult_untap_all)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_NONE, 0),
	           *a = tu_chan(XCHAN_BUF_FIXED, 4),
	           *b = tu_chan(XCHAN_BUF_FIXED, 4), *done = NULL;
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, &done, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, a, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, b, 1), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(1), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(a, 1);
	TU_TAKE_EQ(b, 1);
	XCHECK_ERR(xchan_mult_untap_all(m), XCHAN_OK);
	XCHECK_ERR(xchan_put(src, xchan_val_int(2), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	tu_done(done);
	TU_EMPTY(a);
	TU_EMPTY(b);
	xchan_mult_release(m);
	xchan_chan_release(src);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* Reference values fan out by reference: each tap gets the same string. */
XTEST(mult_fans_out_strings)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 1), *taps[5];
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, NULL, src), XCHAN_OK);
	for (int i = 0; i < 5; i++) {
		taps[i] = tu_chan(XCHAN_BUF_FIXED, 2);
		XCHECK_ERR(xchan_mult_tap(m, taps[i], 1), XCHAN_OK);
	}
	XCHECK_ERR(xchan_put(src, tu_str("hello"), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	for (int i = 0; i < 5; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_take(&v, taps[i], tu_dl()), XCHAN_OK);
		const char *s = NULL;
		size_t len = 0;
		XCHECK_ERR(xchan_get_string(v, &s, &len), XCHAN_OK);
		XCHECK(len == 5 && s != NULL && memcmp(s, "hello", 5) == 0);
		xchan_val_release(v);
		TU_CLOSED(taps[i]);
		xchan_chan_release(taps[i]);
	}
	xchan_mult_release(m);
	xchan_chan_release(src);
}

/* Control calls race with the running mult: two threads tap and untap
 * their own dropping channels while 2000 values flow; a fixed tap still
 * gets every value in order. */
typedef struct churn {
	xchan_mult *m;
	_Atomic int *stop;
} churn;

static int32_t
churn_run(void *arg, xchan_val *result)
{
	churn *c = arg;
	*result = xchan_val_nil();
	xchan_chan *mine[4];
	for (int i = 0; i < 4; i++)
		xchan_chan_make(&mine[i], XCHAN_BUF_DROPPING, 1);
	for (int k = 0; !atomic_load(c->stop); k++) {
		xchan_mult_tap(c->m, mine[k % 4], k % 2);
		if (k % 3 == 0)
			xchan_mult_untap(c->m, mine[(k + 1) % 4]);
		if (k % 50 == 0)
			xchan_mult_untap(c->m, mine[k % 4]);
	}
	for (int i = 0; i < 4; i++) {
		xchan_mult_untap(c->m, mine[i]);
		xchan_chan_release(mine[i]);
	}
	return XCHAN_OK;
}

XTEST(mult_concurrent_tap_untap)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 16),
	           *all = tu_chan(XCHAN_BUF_FIXED, 16), *done = NULL,
	           *t[2] = {NULL, NULL};
	xchan_mult *m = NULL;
	XCHECK_ERR(xchan_mult_new(&m, &done, src), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, all, 1), XCHAN_OK);
	_Atomic int stop = 0;
	churn c = {m, &stop};
	for (int i = 0; i < 2; i++)
		XCHECK_ERR(xchan_thread(&t[i], churn_run, &c, NULL), XCHAN_OK);
	xchan_val *v = calloc(2000, sizeof(xchan_val));
	for (int i = 0; i < 2000; i++)
		v[i] = xchan_val_int(i);
	XCHECK_ERR(xchan_onto_chan(NULL, src, v, 2000, 1), XCHAN_OK);
	free(v);
	int64_t *want = calloc(2000, sizeof(int64_t));
	for (int i = 0; i < 2000; i++)
		want[i] = i;
	XCHECK(tu_expect_seq(all, want, 2000));
	free(want);
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		tu_done(t[i]);
	tu_done(done);
	xchan_mult_release(m);
	xchan_chan_release(src);
	xchan_chan_release(all);
}

static xchan_val
inc1(void *user, xchan_val in)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(in, &i);
	return xchan_val_int(i + 1);
}

static int32_t
inc1_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_map(out, inc1, NULL);
}

static int32_t
sum_step(void *user, xchan_val *out, xchan_val acc, xchan_val in)
{
	(void)user;
	int64_t a = 0, b = 0;
	xchan_get_int(acc, &a);
	xchan_get_int(in, &b);
	*out = xchan_val_int(a + b);
	return XCHAN_STEP_CONTINUE;
}

/* Composition: to_chan -> pipeline(inc) -> mult -> two taps, one of them
 * merged with a second range -> reduce.  Nothing is lost or duplicated. */
XTEST(mult_composes_with_pipeline_merge_reduce)
{
	xchan_chan *src = tu_range(0, 1000),
	           *piped = tu_chan(XCHAN_BUF_FIXED, 8);
	xchan_mult *m = NULL;
	xchan_chan *a = tu_chan(XCHAN_BUF_FIXED, 4),
	           *b = tu_chan(XCHAN_BUF_NONE, 0);
	XCHECK_ERR(xchan_mult_new(&m, NULL, piped), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, a, 1), XCHAN_OK);
	XCHECK_ERR(xchan_mult_tap(m, b, 1), XCHAN_OK);
	/* Start the flow only once the taps are in place. */
	XCHECK_ERR(xchan_pipeline(NULL, 4, piped, src, 1, inc1_factory, NULL,
	               NULL),
	    XCHAN_OK);
	xchan_chan *extra = tu_range(0, 100), *ins[2] = {b, extra},
	           *merged = NULL;
	XCHECK_ERR(xchan_merge(&merged, NULL, ins, 2, NULL), XCHAN_OK);
	xchan_chan *ra = NULL, *rb = NULL;
	XCHECK_ERR(xchan_reduce(&ra, a, sum_step, NULL, xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_ERR(xchan_reduce(&rb, merged, sum_step, NULL, xchan_val_int(0)),
	    XCHAN_OK);
	int32_t err;
	XCHECK_EQ(tu_take_int(ra, &err), 500500); /* 1 + .. + 1000 */
	XCHECK_EQ(tu_take_int(rb, &err), 500500 + 4950);
	xchan_chan_release(ra);
	xchan_chan_release(rb);
	xchan_chan_release(merged);
	xchan_chan_release(extra);
	xchan_mult_release(m);
	xchan_chan_release(a);
	xchan_chan_release(b);
	xchan_chan_release(piped);
	xchan_chan_release(src);
}

XTEST_MAIN()
