/*
 * doubleselect_test.c — after Go's test/chan/doubleselect.go: one sender
 * offers each counter value to four unbuffered channels in one alts; four
 * forwarders copy them to one channel; the receiver checks that every value
 * arrives exactly once (two clauses of one alts must never both complete).
 */
#include "gochan.h"

#define ITERATIONS (GOCHAN_SANITIZED ? 5000 : 20000)

static xchan_chan *c[4], *cmux, *muxdone;

static int32_t
sender(void *arg, xchan_val *res)
{
	(void)arg;
	for (int64_t i = 0; i < ITERATIONS; i++) {
		xchan_clause cl[4];
		for (int k = 0; k < 4; k++)
			cl[k] = put_clause_(c[k], i);
		xchan_result r;
		XCHECK_ERR(xchan_alts(&r, cl, 4, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	}
	for (int k = 0; k < 4; k++)
		xchan_chan_close(c[k]);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

/* Forwards until its input closes, then reports. */
static int32_t
mux(void *arg, xchan_val *res)
{
	xchan_chan *in = arg;
	int ok;
	for (;;) {
		int64_t v = recv_(in, &ok);
		if (!ok)
			break;
		send_(cmux, v);
	}
	send_(muxdone, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
closer(void *arg, xchan_val *res)
{
	(void)arg;
	for (int k = 0; k < 4; k++)
		recv_(muxdone, NULL);
	xchan_chan_close(cmux);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	for (int k = 0; k < 4; k++)
		c[k] = chan_(0);
	cmux = chan_(0);
	muxdone = chan_(0);
	go_(sender, NULL);
	for (int k = 0; k < 4; k++)
		go_(mux, c[k]);
	go_(closer, NULL);
	unsigned char *seen = calloc(ITERATIONS, 1);
	long got = 0, dup = 0;
	int ok;
	for (;;) {
		int64_t v = recv_(cmux, &ok);
		if (!ok)
			break;
		XCHECK(v >= 0 && v < ITERATIONS);
		if (v >= 0 && v < ITERATIONS) {
			dup += seen[v];
			seen[v] = 1;
		}
		got++;
	}
	XCHECK_EQ(dup, 0);
	XCHECK_EQ(got, ITERATIONS);
	free(seen);
	for (int k = 0; k < 4; k++)
		xchan_chan_release(c[k]);
	xchan_chan_release(cmux);
	xchan_chan_release(muxdone);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(doubleselect, program)

XTEST_MAIN()
