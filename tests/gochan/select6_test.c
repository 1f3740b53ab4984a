/*
 * select6_test.c — after Go's test/chan/select6.go (Go issue 2075): an alts
 * that loses on channel c1 (it completes on c2) must leave c1's queue of
 * waiting receivers intact, so that both later sends on c1 find a receiver.
 */
#include "gochan.h"

static xchan_chan *c1, *c2, *c3;

static int32_t
recv_c1(void *arg, xchan_val *res)
{
	(void)arg;
	recv_(c1, NULL);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
select_then_recv(void *arg, xchan_val *res)
{
	(void)arg;
	xchan_clause cl[2] = {take_clause_(c1), take_clause_(c2)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_EQ(r.index, 1); /* c1 is never sent on before c3 is */
	send_(c3, 1);
	recv_(c1, NULL);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
send_c2(void *arg, xchan_val *res)
{
	(void)arg;
	send_(c2, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	c1 = chan_(0);
	c2 = chan_(0);
	c3 = chan_(0);
	go_(recv_c1, NULL);
	go_(select_then_recv, NULL);
	go_(send_c2, NULL);
	recv_(c3, NULL);
	send_(c1, 1);
	send_(c1, 1);
	xchan_chan_release(c1);
	xchan_chan_release(c2);
	xchan_chan_release(c3);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select6, program)

XTEST_MAIN()
