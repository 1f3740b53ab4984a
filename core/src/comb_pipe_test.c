/* comb_pipe_test.c — pipe and take_n (docs/semantics.md §4 case 52). */
#include "comb_testutil.h"

/* 52: every value is forwarded and the destination is closed. */
XTEST(pipe_forwards_and_closes)
{
	xchan_chan *from = tu_range(0, 10), *to = tu_chan(XCHAN_BUF_FIXED, 3);
	xchan_chan *done = NULL;
	XCHECK_ERR(xchan_pipe(&done, from, to, 1), XCHAN_OK);
	int64_t want[10];
	for (int i = 0; i < 10; i++)
		want[i] = i;
	XCHECK(tu_expect_seq(to, want, 10));
	tu_done(done);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* close? false: the destination stays open and writable. */
XTEST(pipe_no_close_leaves_open)
{
	xchan_chan *from = tu_range(0, 3), *to = tu_chan(XCHAN_BUF_FIXED, 10);
	xchan_chan *done = NULL;
	XCHECK_ERR(xchan_pipe(&done, from, to, 0), XCHAN_OK);
	tu_done(done);
	for (int i = 0; i < 3; i++)
		TU_TAKE_EQ(to, i);
	XCHECK_ERR(xchan_put(to, xchan_val_int(7), tu_dl()), XCHAN_OK);
	TU_TAKE_EQ(to, 7);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* A failed put (closed destination) stops the pipe; the source keeps the
 * rest. */
XTEST(pipe_stops_when_to_closed)
{
	xchan_chan *from = tu_chan(XCHAN_BUF_FIXED, 10),
	           *to = tu_chan(XCHAN_BUF_NONE, 0);
	for (int i = 0; i < 5; i++)
		XCHECK_ERR(xchan_put(from, xchan_val_int(i), tu_dl()),
		    XCHAN_OK);
	xchan_chan_close(to);
	xchan_chan *done = NULL;
	XCHECK_ERR(xchan_pipe(&done, from, to, 1), XCHAN_OK);
	tu_done(done);
	/* The pipe took exactly one value and released it. */
	for (int i = 1; i < 5; i++)
		TU_TAKE_EQ(from, i);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

XTEST(pipe_rejects_null)
{
	xchan_chan *a = tu_chan(XCHAN_BUF_NONE, 0), *done = (xchan_chan *)1;
	XCHECK_ERR(xchan_pipe(&done, NULL, a, 1), XCHAN_EINVAL);
	XCHECK(done == NULL);
	XCHECK_ERR(xchan_pipe(NULL, a, NULL, 1), XCHAN_EINVAL);
	xchan_chan_release(a);
}

/* core.async (take n ch): at most n values, then closed. */
XTEST(take_n_takes_n_then_closes)
{
	xchan_chan *src = tu_range(0, 10), *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_take_n(&out, &done, src, 3, NULL), XCHAN_OK);
	int64_t want[3] = {0, 1, 2};
	XCHECK(tu_expect_seq(out, want, 3));
	tu_done(done);
	TU_TAKE_EQ(src, 3); /* the rest stays in the source */
	xchan_chan_release(out);
	xchan_chan_release(src);
}

XTEST(take_n_source_closes_first)
{
	xchan_chan *src = tu_range(0, 2), *out = NULL;
	XCHECK_ERR(xchan_take_n(&out, NULL, src, 5, NULL), XCHAN_OK);
	int64_t want[2] = {0, 1};
	XCHECK(tu_expect_seq(out, want, 2));
	xchan_chan_release(out);
	xchan_chan_release(src);
}

XTEST(take_n_zero_is_closed)
{
	xchan_chan *src = tu_range(0, 2), *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_take_n(&out, &done, src, 0, NULL), XCHAN_OK);
	TU_CLOSED(out);
	tu_done(done);
	TU_TAKE_EQ(src, 0);
	xchan_chan_release(out);
	xchan_chan_release(src);
}

XTEST_MAIN()
