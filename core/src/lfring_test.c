/*
 * lfring_test.c — the lock-free ring alone: FIFO across laps with
 * capacities that are not powers of two, full and empty edges, the gate,
 * and an MPMC run (with a gate holder cutting in) in which every value
 * arrives exactly once.
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
		xchan__lfring_gate_open(r);
		int64_t next_in = 0, next_out = 0, bad = 0;
		for (int round = 0; round < 50; round++) {
			while (xchan__lfring_push(r, xchan_val_int(next_in)) ==
			       XCHAN__LF_OK)
				next_in++;
			bad += xchan__lfring_count(r) != caps[k];
			/* drain a varying amount so laps wrap at every index */
			uint64_t n = 1 + (uint64_t)round % caps[k];
			for (uint64_t i = 0; i < n; i++) {
				xchan_val v;
				if (xchan__lfring_pop(r, &v) != XCHAN__LF_OK ||
				    xt_int(v) != next_out++)
					bad++;
			}
		}
		xchan_val v;
		while (xchan__lfring_pop(r, &v) == XCHAN__LF_OK)
			bad += xt_int(v) != next_out++;
		bad += xchan__lfring_count(r) != 0;
		bad += next_in != next_out;
		XCHECK_EQ(bad, 0);
		xchan__lfring_free(r);
	}
	XCHECK(xchan__lfring_new(0) == NULL);
	XCHECK(xchan__lfring_new(XCHAN__LFRING_MAX_CAP + 1) == NULL);
}

XTEST(gate_sends_lock_free_users_away)
{
	xchan__lfring *r = xchan__lfring_new(4);
	XREQUIRE(r != NULL);
	xchan_val v;
	/* A new ring is closed until its first owner opens it. */
	XCHECK(!xchan__lfring_gate_is_open(r));
	XCHECK_EQ(xchan__lfring_push(r, xchan_val_int(1)), XCHAN__LF_GATED);
	XCHECK_EQ(xchan__lfring_pop(r, &v), XCHAN__LF_GATED);
	/* The holder works behind the closed gate... */
	XCHECK(xchan__lfring_push_owned(r, xchan_val_int(1)));
	XCHECK(xchan__lfring_push_owned(r, xchan_val_int(2)));
	XCHECK_EQ(xchan__lfring_count(r), 2);
	xchan__lfring_gate_open(r);
	XCHECK(xchan__lfring_gate_is_open(r));
	/* ...and everyone sees its work in order once it opens it. */
	XCHECK_EQ(xchan__lfring_push(r, xchan_val_int(3)), XCHAN__LF_OK);
	XCHECK_EQ(xchan__lfring_pop(r, &v), XCHAN__LF_OK);
	XCHECK_EQ(xt_int(v), 1);
	xchan__lfring_gate_close(r);
	xchan__lfring_gate_close(r); /* closing twice is harmless */
	XCHECK_EQ(xchan__lfring_push(r, xchan_val_int(4)), XCHAN__LF_GATED);
	XCHECK(xchan__lfring_pop_owned(r, &v));
	XCHECK_EQ(xt_int(v), 2);
	XCHECK(xchan__lfring_push_owned(r, xchan_val_int(4)));
	XCHECK(xchan__lfring_push_owned(r, xchan_val_int(5)));
	XCHECK(xchan__lfring_push_owned(r, xchan_val_int(6)));
	XCHECK(!xchan__lfring_push_owned(r, xchan_val_int(7))); /* full */
	xchan__lfring_gate_open(r);
	XCHECK_EQ(xchan__lfring_push(r, xchan_val_int(7)), XCHAN__LF_FULL);
	for (int64_t want = 3; want <= 6; want++) {
		XCHECK_EQ(xchan__lfring_pop(r, &v), XCHAN__LF_OK);
		XCHECK_EQ(xt_int(v), want);
	}
	XCHECK_EQ(xchan__lfring_pop(r, &v), XCHAN__LF_FULL); /* empty */
	xchan__lfring_free(r);
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
		while (xchan__lfring_push(g_ring, v) != XCHAN__LF_OK)
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
		if (xchan__lfring_pop(g_ring, &v) == XCHAN__LF_OK) {
			atomic_fetch_add(&g_seen[xt_int(v)], 1);
			atomic_fetch_add(&g_consumed, 1);
		} else {
			sched_yield();
		}
	}
	return NULL;
}

/* Plays the channel's lock holder: closes the gates, takes values out and
 * puts them back behind them, opens the gates; lock-free users that raced
 * with the close must neither lose nor duplicate a value. */
static _Atomic int g_stop_holder;
static _Atomic long g_holder_rounds;

static void *
gate_holder(void *arg)
{
	(void)arg;
	while (!atomic_load(&g_stop_holder)) {
		xchan__lfring_gate_close(g_ring);
		xchan_val held[3];
		int n = 0;
		while (n < 3 && xchan__lfring_pop_owned(g_ring, &held[n]))
			n++;
		for (int i = 0; i < n; i++)
			xchan__lfring_push_owned(g_ring, held[i]); /* room */
		atomic_fetch_add(&g_holder_rounds, 1);
		xchan__lfring_gate_open(g_ring);
		sched_yield();
	}
	return NULL;
}

XTEST(mpmc_every_value_once)
{
	g_ring = xchan__lfring_new(6);
	xchan__lfring_gate_open(g_ring);
	xt_thread p[PRODUCERS], c[CONSUMERS], holder;
	xt_start(&holder, gate_holder, NULL);
	for (int i = 0; i < CONSUMERS; i++)
		xt_start(&c[i], consumer, NULL);
	for (int i = 0; i < PRODUCERS; i++)
		xt_start(&p[i], producer, (void *)(intptr_t)i);
	for (int i = 0; i < PRODUCERS; i++)
		xt_join(&p[i]);
	for (int i = 0; i < CONSUMERS; i++)
		xt_join(&c[i]);
	atomic_store(&g_stop_holder, 1);
	xt_join(&holder);
	XCHECK(atomic_load(&g_holder_rounds) > 0);
	int bad = 0;
	for (int i = 0; i < PRODUCERS * PER; i++)
		bad += atomic_load(&g_seen[i]) != 1;
	XCHECK_EQ(bad, 0);
	XCHECK_EQ(xchan__lfring_count(g_ring), 0);
	xchan__lfring_free(g_ring);
}

XTEST_MAIN()
