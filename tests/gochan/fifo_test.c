/*
 * fifo_test.c — after Go's test/chan/fifo.go: a buffered channel is a FIFO,
 * and so is an unbuffered one: a daisy chain of tasks, each waiting for its
 * predecessor's token before it takes from the shared channel, must see the
 * values in the order they were sent.
 */
#include "gochan.h"

#define N 10

static int32_t
asynch_fifo(void)
{
	xchan_chan *ch = chan_(N);
	for (int64_t i = 0; i < N; i++)
		send_(ch, i);
	for (int64_t i = 0; i < N; i++)
		XCHECK_EQ(recv_(ch, NULL), i);
	xchan_chan_release(ch);
	return XCHAN_OK;
}

typedef struct chain_link {
	xchan_chan *ch, *in, *out;
	int64_t val;
} chain_link;

static int32_t
chain(void *arg, xchan_val *res)
{
	chain_link *l = arg;
	recv_(l->in, NULL);
	XCHECK_EQ(recv_(l->ch, NULL), l->val);
	send_(l->out, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	asynch_fifo();
	static chain_link links[N];
	xchan_chan *ch = chan_(0), *in = chan_(0), *start = in;
	xchan_chan *all[N + 1];
	all[0] = in;
	for (int i = 0; i < N; i++) {
		xchan_chan *out = chan_(0);
		all[i + 1] = out;
		links[i] = (chain_link) {ch, in, out, i};
		go_(chain, &links[i]);
		in = out;
	}
	send_(start, 0);
	for (int64_t i = 0; i < N; i++)
		send_(ch, i);
	recv_(in, NULL);
	for (int i = 0; i <= N; i++)
		xchan_chan_release(all[i]);
	xchan_chan_release(ch);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(fifo, program)

XTEST_MAIN()
