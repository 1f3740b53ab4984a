/*
 * put_take.c — the uncontended cost of one put plus one take on a buffered
 * channel, in one thread: rounds of 1,000 puts then 1,000 takes on a fixed
 * buffer of 1,024 (the buffer stays in cache), and the same on a rendezvous
 * ping-pong is row pingpong_cap0 of xchan-bench.  Prints the median of 7
 * runs of 2,000,000 pairs.
 *
 *   build-bench/bench/c/xchan-put-take
 */
#include <stdio.h>
#include <stdlib.h>
#include <xchan/xchan.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int
main(void)
{
	enum { PAIRS = 2000000, BATCH = 1000, RUNS = 7 };
	double ns[RUNS];
	xchan_chan *ch;
	if (xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1024) != XCHAN_OK)
		return 1;
	for (int r = 0; r < RUNS; r++) {
		int64_t sum = 0, t0 = xchan_now();
		for (int i = 0; i < PAIRS / BATCH; i++) {
			for (int k = 0; k < BATCH; k++)
				if (xchan_put(ch, xchan_val_int(k), XCHAN_DEADLINE_NEVER) != XCHAN_OK)
					return 1;
			for (int k = 0; k < BATCH; k++) {
				xchan_val v;
				int64_t x;
				if (xchan_take(&v, ch, XCHAN_DEADLINE_NEVER) != XCHAN_OK ||
				    xchan_get_int(v, &x) != XCHAN_OK)
					return 1;
				sum += x;
			}
		}
		ns[r] = (double)(xchan_now() - t0) / PAIRS;
		if (sum != (int64_t)(PAIRS / BATCH) * BATCH * (BATCH - 1) / 2)
			return 1;
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp);
	printf("put+take on fixed(1024), one thread: median %.1f ns per pair "
	       "(min %.1f, max %.1f, %d runs of %d pairs)\n",
	    ns[RUNS / 2], ns[0], ns[RUNS - 1], RUNS, PAIRS);
	xchan_chan_release(ch);
	return 0;
}
