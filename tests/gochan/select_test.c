/*
 * select_test.c — after Go's test/chan/select.go: a non-blocking alts with
 * two put clauses on one-slot channels completes each clause once, then
 * takes its default; a clause that fired is left out of the next round (Go
 * sets its channel to nil).  The values are 1 << round, so the two taken
 * values OR to 3; `counter` counts the values computed, 10 as in Go, where
 * every case's value is evaluated on every round.
 */
#include "gochan.h"

static unsigned counter, shift;

static int64_t
get_value(void)
{
	counter++;
	return (int64_t)1 << shift;
}

static int
send_both(xchan_chan *a, xchan_chan *b)
{
	int i = 0;
	for (;;) {
		xchan_clause cl[2];
		xchan_chan *which[2];
		int n = 0;
		int64_t va = get_value(), vb = get_value();
		if (a) {
			which[n] = a;
			cl[n++] = put_clause_(a, va);
		}
		if (b) {
			which[n] = b;
			cl[n++] = put_clause_(b, vb);
		}
		xchan_result r;
		int32_t err = n == 0 ? XCHAN_EAGAIN
		                     : xchan_alts(&r, cl, (size_t)n, 0,
		                           XCHAN_DEADLINE_POLL);
		if (err == XCHAN_EAGAIN)
			break; /* default */
		XCHECK_ERR(err, XCHAN_OK);
		i++;
		if (which[r.index] == a)
			a = NULL;
		else
			b = NULL;
		shift++;
	}
	return i;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	counter = shift = 0;
	xchan_chan *a = chan_(1), *b = chan_(1);
	XCHECK_EQ(send_both(a, b), 2);
	int64_t av = recv_(a, NULL), bv = recv_(b, NULL);
	XCHECK_EQ(av | bv, 3);
	XCHECK_EQ(send_both(a, NULL), 1);
	XCHECK_EQ(counter, 10);
	xchan_chan_release(a);
	xchan_chan_release(b);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select, program)

XTEST_MAIN()
