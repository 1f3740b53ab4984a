/*
 * select7_test.c — after Go's test/chan/select7.go: a value sent and
 * discarded by the receiver, for every pairing of three ways to receive
 * (take, a one-clause alts, an alts with an idle second channel) with three
 * ways to send (put, a one-clause alts, an alts with an idle second channel),
 * on a fresh unbuffered channel each time.  Every pairing must complete.
 */
#include "gochan.h"

static int32_t
recv_way(void *arg, xchan_val *res)
{
	xchan_chan **p = arg;
	xchan_chan *c = p[0];
	intptr_t way = (intptr_t)p[1];
	xchan_result r;
	if (way == 0) {
		recv_(c, NULL);
	} else if (way == 1) {
		xchan_clause cl[1] = {take_clause_(c)};
		XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	} else {
		xchan_chan *c2 = chan_(0);
		xchan_clause cl[2] = {take_clause_(c), take_clause_(c2)};
		XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
		XCHECK_EQ(r.index, 0);
		xchan_chan_release(c2);
	}
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
send_way(int way, intptr_t recv)
{
	xchan_chan *c = chan_(0);
	xchan_chan *p[2] = {c, (xchan_chan *)recv};
	go_(recv_way, p);
	sleep_(1); /* Go's runtime.Gosched(): let the receiver start */
	xchan_result r;
	if (way == 0) {
		send_(c, 1);
	} else if (way == 1) {
		xchan_clause cl[1] = {put_clause_(c, 1)};
		XCHECK_ERR(xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	} else {
		xchan_chan *c2 = chan_(0);
		xchan_clause cl[2] = {put_clause_(c, 1), put_clause_(c2, 1)};
		XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
		XCHECK_EQ(r.index, 0);
		xchan_chan_release(c2);
	}
	/* The receiver has the value; wait for it before `p` goes. */
	XCHECK(join_task_(atomic_load(&gochan_ntasks) - 1));
	xchan_chan_release(c);
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	for (intptr_t recv = 0; recv < 3; recv++)
		for (int send = 0; send < 3; send++)
			send_way(send, recv);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select7, program)

XTEST_MAIN()
