/* comb_onto_test.c — to_chan, onto_chan (docs/semantics.md §4 cases 62-63). */
#include "comb_testutil.h"

static void
fill_range(xchan_val *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = xchan_val_int((int64_t)i);
}

/* 62: every variant gives the range (small: no task; large: a task). */
XTEST(to_chan_gives_range)
{
	static const size_t sizes[] = {10, 100, 101, 250};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		xchan_val *v = calloc(n, sizeof(xchan_val));
		int64_t *want = calloc(n, sizeof(int64_t));
		fill_range(v, n);
		for (size_t i = 0; i < n; i++)
			want[i] = (int64_t)i;
		xchan_chan *ch = NULL;
		XCHECK_ERR(xchan_to_chan(&ch, v, n), XCHAN_OK);
		xchan_chan_info info = {0};
		info.size = sizeof(info);
		XCHECK_ERR(xchan_chan_info_get(&info, ch), XCHAN_OK);
		XCHECK_EQ(info.capacity, n < 100 ? n : 100);
		XCHECK(tu_expect_seq(ch, want, n));
		xchan_chan_release(ch);
		free(v);
		free(want);
	}
	xchan_chan *e = NULL;
	XCHECK_ERR(xchan_to_chan(&e, NULL, 0), XCHAN_OK);
	TU_CLOSED(e);
	xchan_chan_release(e);
}

XTEST(to_chan_rejects_nil)
{
	xchan_val v[2] = {tu_str("x"), xchan_val_nil()};
	xchan_chan *ch = (xchan_chan *)1;
	XCHECK_ERR(xchan_to_chan(&ch, v, 2), XCHAN_ENIL); /* releases "x" */
	XCHECK(ch == NULL);
}

/* 63: onto chan(10) with close; without close the channel stays open. */
XTEST(onto_chan_fills_and_closes)
{
	xchan_val v[10];
	int64_t want[10];
	fill_range(v, 10);
	for (int i = 0; i < 10; i++)
		want[i] = i;
	xchan_chan *ch = tu_chan(XCHAN_BUF_FIXED, 10), *done = NULL;
	XCHECK_ERR(xchan_onto_chan(&done, ch, v, 10, 1), XCHAN_OK);
	tu_done(done);
	XCHECK(tu_expect_seq(ch, want, 10));
	xchan_chan_release(ch);

	fill_range(v, 10);
	ch = tu_chan(XCHAN_BUF_FIXED, 10);
	XCHECK_ERR(xchan_onto_chan(&done, ch, v, 10, 0), XCHAN_OK);
	tu_done(done);
	for (int i = 0; i < 10; i++)
		TU_TAKE_EQ(ch, i);
	TU_EMPTY(ch);
	xchan_chan_release(ch);
}

/* Onto an unbuffered channel with a slow reader; onto a closed channel the
 * values are released (ASan/LSan check the strings are freed). */
XTEST(onto_chan_unbuffered_and_closed)
{
	xchan_val v[3] = {xchan_val_int(1), xchan_val_int(2), xchan_val_int(3)};
	xchan_chan *ch = tu_chan(XCHAN_BUF_NONE, 0), *done = NULL;
	XCHECK_ERR(xchan_onto_chan(&done, ch, v, 3, 1), XCHAN_OK);
	int64_t w[3] = {1, 2, 3};
	XCHECK(tu_expect_seq(ch, w, 3));
	tu_done(done);
	xchan_chan_release(ch);

	xchan_val s[3] = {tu_str("a"), tu_str("b"), tu_str("c")};
	ch = tu_chan(XCHAN_BUF_FIXED, 1);
	xchan_chan_close(ch);
	XCHECK_ERR(xchan_onto_chan(&done, ch, s, 3, 1), XCHAN_OK);
	tu_done(done);
	TU_CLOSED(ch);
	xchan_chan_release(ch);
}

XTEST_MAIN()
