/*
 * goroutines_test.c — after Go's test/chan/goroutines.go: a chain of many
 * tasks, each passing one value from its right channel to its left; a value
 * sent in at the right end arrives at the left end, and every task ends.
 * 10,000 go tasks (as Go); 200 threads.
 */
#include "gochan.h"

#define MAXN 10000

static xchan_chan *chans[MAXN + 1];

static int32_t
f(void *arg, xchan_val *res)
{
	intptr_t i = (intptr_t)arg; /* left = chans[i], right = chans[i+1] */
	send_(chans[i], recv_(chans[i + 1], NULL));
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	int n = gochan_mode == GOCHAN_GO ? (GOCHAN_SANITIZED ? 1000 : MAXN)
	                                 : (GOCHAN_SANITIZED ? 50 : 200);
	for (int i = 0; i <= n; i++)
		chans[i] = chan_(0);
	for (intptr_t i = 0; i < n; i++)
		go_(f, (void *)i);
	send_(chans[n], 1);
	XCHECK_EQ(recv_(chans[0], NULL), 1);
	join_tasks_(); /* before the channels go */
	for (int i = 0; i <= n; i++)
		xchan_chan_release(chans[i]);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(goroutines, program)

XTEST_MAIN()
