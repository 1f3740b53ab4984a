/*
 * select4_test.c — after Go's test/chan/select4.go: an alts whose first
 * clause cannot complete and whose second can delivers the second clause's
 * value, and the first clause's receiver is not touched.
 */
#include "gochan.h"

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_chan *c = chan_(1), *c1 = chan_(0);
	send_(c, 42);
	xchan_clause cl[2] = {take_clause_(c1), take_clause_(c)};
	xchan_result r = {0, 0, xchan_val_nil()};
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_EQ(r.index, 1);
	int64_t x = 0;
	XCHECK_ERR(xchan_get_int(r.val, &x), XCHAN_OK);
	XCHECK_EQ(x, 42);
	xchan_chan_info info = xt_info(c1);
	XCHECK_EQ(info.pending_takes, 0); /* the losing clause withdrew */
	xchan_chan_release(c);
	xchan_chan_release(c1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select4, program)

XTEST_MAIN()
