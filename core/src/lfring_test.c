/*
 * lfring_test.c — the lock-free ring alone: FIFO across laps with
 * capacities that are not powers of two, full and empty edges, and an MPMC
 * run in which every value arrives exactly once.
 */
#include <sched.h>

#include "lfring.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

XTEST(fifo_full_empty_across_laps)
{
	uint64_t caps[] = {1, 3, 4, 5, 7, 100};
	for (size_t k = 0; k < sizeof(caps) / sizeof(caps[0]); k++) {
		xchan__lfring *r = xchan__lfring_new(caps[k]);
		XREQUIRE(r != NULL);
		int64_t next_in = 0, next_out = 0, bad = 0;
		for (int round = 0; round < 50; round++) {
			while (xchan__lfring_push(r, xchan_val_int(next_in)))
				next_in++;
			bad += xchan__lfring_count(r) != caps[k];
			/* drain a varying amount so laps wrap at every index */
			uint64_t n = 1 + (uint64_t)round % caps[k];
			for (uint64_t i = 0; i < n; i++) {
				xchan_val v;
				if (!xchan__lfring_pop(r, &v) ||
				    xt_int(v) != next_out++)
					bad++;
			}
		}
		xchan_val v;
		while (xchan__lfring_pop(r, &v))
			bad += xt_int(v) != next_out++;
		bad += xchan__lfring_count(r) != 0;
		bad += next_in != next_out;
		XCHECK_EQ(bad, 0);
		xchan__lfring_free(r);
	}
	XCHECK(xchan__lfring_new(0) == NULL);
	XCHECK(xchan__lfring_new(XCHAN__LFRING_MAX_CAP + 1) == NULL);
}

#define PRODUCERS 3
#define CONSUMERS 3
#define PER 200000
static xchan__lfring *g_ring;
static _Atomic int g_seen[PRODUCERS * PER];
static _Atomic int g_consumed;

static void *
producer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < PER; i++) {
		xchan_val v = xchan_val_int((int64_t)id * PER + i);
		while (!xchan__lfring_push(g_ring, v))
			sched_yield(); /* valgrind runs one thread at a time */
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	(void)arg;
	while (atomic_load(&g_consumed) < PRODUCERS * PER) {
		xchan_val v;
		if (xchan__lfring_pop(g_ring, &v)) {
			atomic_fetch_add(&g_seen[xt_int(v)], 1);
			atomic_fetch_add(&g_consumed, 1);
		} else {
			sched_yield();
		}
	}
	return NULL;
}

XTEST(mpmc_every_value_once)
{
	g_ring = xchan__lfring_new(6);
	xt_thread p[PRODUCERS], c[CONSUMERS];
	for (int i = 0; i < CONSUMERS; i++)
		xt_start(&c[i], consumer, NULL);
	for (int i = 0; i < PRODUCERS; i++)
		xt_start(&p[i], producer, (void *)(intptr_t)i);
	for (int i = 0; i < PRODUCERS; i++)
		xt_join(&p[i]);
	for (int i = 0; i < CONSUMERS; i++)
		xt_join(&c[i]);
	int bad = 0;
	for (int i = 0; i < PRODUCERS * PER; i++)
		bad += atomic_load(&g_seen[i]) != 1;
	XCHECK_EQ(bad, 0);
	XCHECK_EQ(xchan__lfring_count(g_ring), 0);
	xchan__lfring_free(g_ring);
}

XTEST_MAIN()
