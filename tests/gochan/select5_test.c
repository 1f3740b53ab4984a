/*
 * select5_test.c — after Go's test/chan/select5.go, which generates every
 * shape of a select with one real operation: a receive from or a send to a
 * one-slot channel `c`, with or without a default, with or without a dummy
 * send and a dummy receive on a channel nobody uses, the real clause in
 * every position, in priority and in random order.  The real clause must
 * win with the right value every time.  The "nonblock" shapes have only the
 * dummy clauses and a default: they must take the default and leave x alone.
 */
#include "gochan.h"

static int64_t n = 1;
static long cases_run;

static void
one_shape(xchan_chan *c, xchan_chan *dummy, int send, int dflt, int dsend,
    int drecv, int pos, uint32_t flags)
{
	xchan_clause cl[3];
	int k = 0, real = -1;
	int extras[2] = {dsend, drecv};
	for (int slot = 0, e = 0; slot < 3; slot++) {
		if (slot == pos) {
			real = k;
			cl[k++] = send ? put_clause_(c, n) : take_clause_(c);
			continue;
		}
		while (e < 2 && !extras[e])
			e++;
		if (e < 2) {
			cl[k++] = e == 0 ? put_clause_(dummy, 1)
			                 : take_clause_(dummy);
			e++;
		}
	}
	if (!send)
		send_(c, n);
	xchan_result r;
	int32_t err = xchan_alts(&r, cl, (size_t)k, flags,
	    dflt ? XCHAN_DEADLINE_POLL : XCHAN_DEADLINE_NEVER);
	XCHECK_ERR(err, XCHAN_OK);
	XCHECK_EQ(r.index, real);
	int64_t x = 0;
	if (send)
		x = recv_(c, NULL);
	else if (err == XCHAN_OK)
		XCHECK_ERR(xchan_get_int(r.val, &x), XCHAN_OK);
	XCHECK_EQ(x, n);
	n++;
	cases_run++;
}

static void
nonblock_shape(xchan_chan *dummy, int mask, uint32_t flags)
{
	xchan_clause cl[2];
	int k = 0;
	if (mask & 1)
		cl[k++] = put_clause_(dummy, 1);
	if (mask & 2)
		cl[k++] = take_clause_(dummy);
	int64_t x = n;
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, (size_t)k, flags, XCHAN_DEADLINE_POLL),
	    XCHAN_EAGAIN);
	XCHECK_EQ(r.index, -1);
	XCHECK(r.val.kind == XCHAN_NIL);
	XCHECK_EQ(x, n);
	n++;
	cases_run++;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_chan *c = chan_(1), *dummy = chan_(0);
	n = 1;
	cases_run = 0;
	for (int send = 0; send < 2; send++)
		for (int dflt = 0; dflt < 2; dflt++)
			for (int dsend = 0; dsend < 2; dsend++)
				for (int drecv = 0; drecv < 2; drecv++)
					for (int pos = 0; pos <= dsend + drecv;
					     pos++)
						for (int pr = 0; pr < 2; pr++)
							one_shape(c, dummy,
							    send, dflt, dsend,
							    drecv, pos,
							    pr ? XCHAN_ALTS_PRIORITY
							       : 0);
	for (int mask = 1; mask < 4; mask++)
		for (int pr = 0; pr < 2; pr++)
			nonblock_shape(dummy, mask,
			    pr ? XCHAN_ALTS_PRIORITY : 0);
	fprintf(stderr, "  select5: %ld shapes\n", cases_run);
	XCHECK_EQ(cases_run, 2 * 2 * (1 + 2 + 2 + 3) * 2 + 6);
	xchan_chan_release(c);
	xchan_chan_release(dummy);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select5, program)

XTEST_MAIN()
