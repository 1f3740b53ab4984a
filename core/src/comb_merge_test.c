/* comb_merge_test.c — split, map, merge (docs/semantics.md §4 cases 53-55). */
#include "comb_testutil.h"

static int32_t
is_even(void *user, xchan_val v)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(v, &i);
	return i % 2 == 0;
}

/* 53: routes by predicate; both outputs close. */
XTEST(split_routes_and_closes)
{
	xchan_chan *src = tu_range(0, 10), *t = NULL, *f = NULL, *done = NULL;
	xchan_chan_opts o = {0};
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 10;
	xchan_chan_opts o2 = o;
	XCHECK_ERR(xchan_split(&t, &f, &done, src, is_even, NULL, &o, &o2),
	    XCHAN_OK);
	tu_done(done); /* buffered outputs: the split finishes alone */
	int64_t ev[5] = {0, 2, 4, 6, 8}, od[5] = {1, 3, 5, 7, 9};
	XCHECK(tu_expect_seq(t, ev, 5));
	XCHECK(tu_expect_seq(f, od, 5));
	xchan_chan_release(t);
	xchan_chan_release(f);
	xchan_chan_release(src);
}

/* Unbuffered outputs: takers on both sides, in any order. */
XTEST(split_unbuffered)
{
	xchan_chan *src = tu_range(0, 4), *t = NULL, *f = NULL;
	XCHECK_ERR(xchan_split(&t, &f, NULL, src, is_even, NULL, NULL, NULL),
	    XCHAN_OK);
	TU_TAKE_EQ(t, 0);
	TU_TAKE_EQ(f, 1);
	TU_TAKE_EQ(t, 2);
	TU_TAKE_EQ(f, 3);
	TU_CLOSED(t);
	TU_CLOSED(f);
	xchan_chan_release(t);
	xchan_chan_release(f);
	xchan_chan_release(src);
}

static xchan_val
sum_n(void *user, const xchan_val *vals, size_t n)
{
	int *calls = user;
	(*calls)++;
	int64_t s = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t x = 0;
		xchan_get_int(vals[i], &x);
		s += x;
	}
	return xchan_val_int(s);
}

/* 54: zip-sums four channels to [0 4 8 12]. */
XTEST(map_zip_sums)
{
	xchan_chan *in[4];
	for (int i = 0; i < 4; i++)
		in[i] = tu_range(0, 4);
	int calls = 0;
	xchan_chan *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_map(&out, &done, in, 4, sum_n, &calls, NULL),
	    XCHAN_OK);
	int64_t want[4] = {0, 4, 8, 12};
	XCHECK(tu_expect_seq(out, want, 4));
	tu_done(done);
	XCHECK_EQ(calls, 4);
	xchan_chan_release(out);
	for (int i = 0; i < 4; i++)
		xchan_chan_release(in[i]);
}

/* 54, ASYNC-238: an empty channel vector gives a closed channel. */
XTEST(map_empty_inputs_closed)
{
	int calls = 0;
	xchan_chan *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_map(&out, &done, NULL, 0, sum_n, &calls, NULL),
	    XCHAN_OK);
	TU_CLOSED(out);
	tu_done(done);
	XCHECK_EQ(calls, 0);
	xchan_chan_release(out);
}

/* Closes as soon as any input closes. */
XTEST(map_closes_when_any_input_closes)
{
	xchan_chan *in[2] = {tu_range(0, 5), tu_range(10, 12)};
	int calls = 0;
	xchan_chan *out = NULL;
	XCHECK_ERR(xchan_map(&out, NULL, in, 2, sum_n, &calls, NULL), XCHAN_OK);
	int64_t want[2] = {10, 12};
	XCHECK(tu_expect_seq(out, want, 2));
	xchan_chan_release(out);
	xchan_chan_release(in[0]);
	xchan_chan_release(in[1]);
}

/* 55: each value arrives with the right multiplicity; the output closes. */
XTEST(merge_multiplicity_and_close)
{
	xchan_chan *in[3] = {tu_range(0, 10), tu_range(0, 10), tu_range(5, 15)};
	xchan_chan *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_merge(&out, &done, in, 3, NULL), XCHAN_OK);
	int64_t got[64];
	int32_t err;
	size_t n = tu_drain_ints(out, got, 64, &err);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	XCHECK_EQ(n, 30);
	int count[15] = {0};
	for (size_t i = 0; i < n && i < 64; i++)
		if (got[i] >= 0 && got[i] < 15)
			count[got[i]]++;
	for (int i = 0; i < 15; i++)
		XCHECK_EQ(count[i], (i < 5 ? 2 : i < 10 ? 3 : 1));
	tu_done(done);
	xchan_chan_release(out);
	for (int i = 0; i < 3; i++)
		xchan_chan_release(in[i]);
}

/* Values of one input keep their order through merge. */
XTEST(merge_keeps_per_input_order)
{
	xchan_chan *in[2] = {tu_range(0, 200), tu_range(1000, 1200)};
	xchan_chan_opts o = {0};
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 8;
	xchan_chan *out = NULL;
	XCHECK_ERR(xchan_merge(&out, NULL, in, 2, &o), XCHAN_OK);
	int64_t last_lo = -1, last_hi = 999, got[400];
	int32_t err;
	size_t n = tu_drain_ints(out, got, 400, &err);
	XCHECK_EQ(n, 400);
	for (size_t i = 0; i < n && i < 400; i++) {
		if (got[i] < 1000) {
			XCHECK(got[i] == last_lo + 1);
			last_lo = got[i];
		} else {
			XCHECK(got[i] == last_hi + 1);
			last_hi = got[i];
		}
	}
	xchan_chan_release(out);
	xchan_chan_release(in[0]);
	xchan_chan_release(in[1]);
}

XTEST(merge_empty_closed)
{
	xchan_chan *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_merge(&out, &done, NULL, 0, NULL), XCHAN_OK);
	TU_CLOSED(out);
	tu_done(done);
	xchan_chan_release(out);
}

XTEST_MAIN()
