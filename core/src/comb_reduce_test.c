/* comb_reduce_test.c — reduce, transduce, into (docs/semantics.md §4 cases 29, 61). */
#include "comb_testutil.h"

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

/* Stops (reduced) once the sum reaches *limit. */
static int32_t
sum_until(void *user, xchan_val *out, xchan_val acc, xchan_val in)
{
	int64_t a = 0, b = 0, limit = *(int64_t *)user;
	xchan_get_int(acc, &a);
	xchan_get_int(in, &b);
	*out = xchan_val_int(a + b);
	return a + b >= limit ? XCHAN_STEP_REDUCED : XCHAN_STEP_CONTINUE;
}

static int64_t
result_int(xchan_chan *res, int32_t want_err)
{
	int32_t err;
	int64_t v = tu_take_int(res, &err);
	XCHECK_ERR(err, want_err);
	TU_CLOSED(res);
	xchan_chan_release(res);
	return v;
}

/* 61: empty gives init; sum gives 45. */
XTEST(reduce_empty_and_sum)
{
	xchan_chan *e = tu_range(0, 0), *r = NULL;
	XCHECK_ERR(xchan_reduce(&r, e, sum_step, NULL, xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 0);
	xchan_chan *s = tu_range(0, 10);
	XCHECK_ERR(xchan_reduce(&r, s, sum_step, NULL, xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 45);
	xchan_chan_release(e);
	xchan_chan_release(s);
}

/* 61: reduced short-circuits; the source is left with the rest. */
XTEST(reduce_reduced_short_circuits)
{
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 20), *r = NULL;
	for (int i = 1; i <= 10; i++)
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	/* The source stays open: only the early stop can end the reduce. */
	int64_t limit = 10; /* 1+2+3+4 */
	XCHECK_ERR(xchan_reduce(&r, src, sum_until, &limit, xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 10);
	TU_TAKE_EQ(src, 5);
	xchan_chan_release(src);
}

/* A nil init with an empty source: the result channel just closes. */
XTEST(reduce_nil_result_closes)
{
	xchan_chan *e = tu_range(0, 0), *r = NULL;
	XCHECK_ERR(xchan_reduce(&r, e, sum_step, NULL, xchan_val_nil()),
	    XCHAN_OK);
	TU_CLOSED(r);
	xchan_chan_release(r);
	xchan_chan_release(e);
	XCHECK_ERR(xchan_reduce(&r, NULL, sum_step, NULL, xchan_val_nil()),
	    XCHAN_EINVAL);
	XCHECK(r == NULL);
}

static xchan_val
inc(void *user, xchan_val in)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(in, &i);
	return xchan_val_int(i + 1);
}

/* 29: transduce (map inc) over range 5, summed: 1+..+5 = 15. */
XTEST(transduce_map_inc)
{
	xchan_xform *xf = NULL;
	XCHECK_ERR(xchan_xform_map(&xf, inc, NULL), XCHAN_OK);
	xchan_chan *src = tu_range(0, 5), *r = NULL;
	XCHECK_ERR(xchan_transduce(&r, src, xf, sum_step, NULL,
	               xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 15);
	xchan_chan_release(src);
}

/* An early-terminating transform (take 3) ends the reduce with the source
 * still open. */
XTEST(transduce_take_stops_early)
{
	xchan_xform *xf = NULL;
	XCHECK_ERR(xchan_xform_take(&xf, 3), XCHAN_OK);
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 10), *r = NULL;
	for (int i = 1; i <= 6; i++)
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	XCHECK_ERR(xchan_transduce(&r, src, xf, sum_step, NULL,
	               xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 6);
	TU_TAKE_EQ(src, 4);
	xchan_chan_release(src);
}

/* Counts array items and sums their ints into the accumulator. */
static int32_t
sum_arrays(void *user, xchan_val *out, xchan_val acc, xchan_val in)
{
	int64_t a = 0;
	xchan_get_int(acc, &a);
	const xchan_val *items = NULL;
	size_t n = 0;
	if (xchan_get_array(in, &items, &n) == XCHAN_OK)
		a = a * 100 + (int64_t)n;
	xchan_val_release(in);
	*out = xchan_val_int(a);
	(void)user;
	return XCHAN_STEP_CONTINUE;
}

/* The transform's completion runs when the source closes (partition_all
 * flushes its last batch): batches of 3, 3, 1 -> 30301. */
XTEST(transduce_completion_flushes)
{
	xchan_xform *xf = NULL;
	XCHECK_ERR(xchan_xform_partition_all(&xf, 3), XCHAN_OK);
	xchan_chan *src = tu_range(0, 7), *r = NULL;
	XCHECK_ERR(xchan_transduce(&r, src, xf, sum_arrays, NULL,
	               xchan_val_int(0)),
	    XCHAN_OK);
	XCHECK_EQ(result_int(r, XCHAN_OK), 30301);
	xchan_chan_release(src);
}

static void
expect_array(xchan_chan *r, const int64_t *want, size_t n)
{
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, tu_dl()), XCHAN_OK);
	const xchan_val *items = NULL;
	size_t k = 0;
	XCHECK_ERR(xchan_get_array(v, &items, &k), XCHAN_OK);
	XCHECK_EQ(k, n);
	for (size_t i = 0; i < k && i < n; i++) {
		int64_t x = -1;
		xchan_get_int(items[i], &x);
		XCHECK_EQ(x, want[i]);
	}
	xchan_val_release(v);
	TU_CLOSED(r);
	xchan_chan_release(r);
}

/* into: one ARRAY value, init's items first. */
XTEST(into_collects_array)
{
	xchan_chan *src = tu_range(0, 5), *r = NULL;
	XCHECK_ERR(xchan_into(&r, src, xchan_val_nil()), XCHAN_OK);
	int64_t w[5] = {0, 1, 2, 3, 4};
	expect_array(r, w, 5);
	xchan_chan_release(src);

	xchan_val init_items[2] = {xchan_val_int(-2), xchan_val_int(-1)};
	xchan_val init;
	XCHECK_ERR(xchan_val_array(&init, init_items, 2), XCHAN_OK);
	src = tu_range(0, 3);
	XCHECK_ERR(xchan_into(&r, src, init), XCHAN_OK);
	int64_t w2[5] = {-2, -1, 0, 1, 2};
	expect_array(r, w2, 5);
	xchan_chan_release(src);

	src = tu_range(0, 0);
	XCHECK_ERR(xchan_into(&r, src, xchan_val_nil()), XCHAN_OK);
	expect_array(r, NULL, 0);
	XCHECK_ERR(xchan_into(&r, src, xchan_val_int(3)), XCHAN_ETYPE);
	xchan_chan_release(src);
}

XTEST_MAIN()
