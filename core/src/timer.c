/*
 * timer.c — the one timer service (see timer.h).
 *
 * Design notes
 * ------------
 * One thread, started at the first add, sleeps on `g_wake` (a futex word
 * bumped on every add that becomes the earliest deadline) until the heap's
 * earliest deadline.  The heap is 4-ary (shallower than binary: fewer cache
 * misses per sift at 100k entries), keyed by (deadline, seq).
 *
 * Lock: g_lock guards the heap, every entry's `index`, g_firing and the
 * thread state.  Callbacks run with g_lock dropped.  Cancel is synchronous:
 * if the entry is firing right now, cancel waits until its callback has
 * returned (unless called from that callback's own thread), so an owner may
 * free the entry as soon as cancel returns.
 *
 * Fires never come early: an entry fires only when the clock has reached its
 * deadline.
 */
#include "timer.h"

#include <time.h>

#include "common.h"
#include "lock.h"
#include "platform/platform.h"

static xchan__lock g_lock;
static xchan__timer **g_heap;
static uint32_t g_n, g_slots;
static uint64_t g_seq;
static xchan__timer *g_firing;  /* entry whose callback runs now */
static _Atomic uint32_t g_wake; /* futex word: bumped to wake the thread */
static xchan__thread *g_thread;
static bool g_started, g_stopping, g_shut;
static _Thread_local bool t_is_timer_thread;

static inline bool
earlier(const xchan__timer *a, const xchan__timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

static inline void
heap_set(uint32_t i, xchan__timer *t)
{
	g_heap[i] = t;
	t->index = i + 1;
}

static void
sift_up(uint32_t i)
{
	xchan__timer *t = g_heap[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 4;
		if (!earlier(t, g_heap[parent]))
			break;
		heap_set(i, g_heap[parent]);
		i = parent;
	}
	heap_set(i, t);
}

static void
sift_down(uint32_t i)
{
	xchan__timer *t = g_heap[i];
	for (;;) {
		uint32_t first = 4 * i + 1, best = i;
		xchan__timer *bt = t;
		for (uint32_t c = first; c < first + 4 && c < g_n; c++) {
			if (earlier(g_heap[c], bt)) {
				best = c;
				bt = g_heap[c];
			}
		}
		if (best == i)
			break;
		heap_set(i, bt);
		i = best;
	}
	heap_set(i, t);
}

static void
heap_remove_at(uint32_t i)
{
	xchan__timer *t = g_heap[i];
	t->index = 0;
	g_n--;
	if (i == g_n)
		return;
	xchan__timer *last = g_heap[g_n];
	heap_set(i, last);
	if (i > 0 && earlier(last, g_heap[(i - 1) / 4]))
		sift_up(i);
	else
		sift_down(i);
}

static void
timer_thread(void *arg)
{
	(void)arg;
	t_is_timer_thread = true;
	/* Every timed sleep here ends in a fire: 50 us of default slack
	 * would be the median lateness of every timeout. */
	xchan__thread_precise_timers();
	xchan__lock_acquire(&g_lock);
	while (!g_stopping) {
		int64_t now = xchan__clock_ns();
		if (g_n > 0 && g_heap[0]->deadline <= now) {
			xchan__timer *t = g_heap[0];
			heap_remove_at(0);
			g_firing = t;
			xchan__lock_release(&g_lock);
			t->fire(t);
			xchan__lock_acquire(&g_lock);
			g_firing = NULL;
			continue;
		}
		int64_t until = g_n > 0 ? g_heap[0]->deadline : -1;
		uint32_t seen =
		    atomic_load_explicit(&g_wake, memory_order_relaxed);
		xchan__lock_release(&g_lock);
		xchan__futex_wait(&g_wake, seen, until);
		xchan__lock_acquire(&g_lock);
	}
	xchan__lock_release(&g_lock);
}

static void
wake_thread(void)
{
	atomic_fetch_add_explicit(&g_wake, 1, memory_order_relaxed);
	xchan__futex_wake(&g_wake, 1);
}

int32_t
xchan__timer_add(xchan__timer *t)
{
	xchan__lock_acquire(&g_lock);
	if (g_shut) {
		xchan__lock_release(&g_lock);
		return XCHAN_ESHUTDOWN;
	}
	if (g_n == g_slots) {
		uint32_t ns = g_slots ? g_slots * 2 : 256;
		xchan__timer **nh = xchan__alloc(ns * sizeof(*nh));
		if (nh == NULL) {
			xchan__lock_release(&g_lock);
			return XCHAN_ENOMEM;
		}
		for (uint32_t i = 0; i < g_n; i++)
			nh[i] = g_heap[i];
		xchan__free(g_heap, g_slots * sizeof(*g_heap));
		g_heap = nh;
		g_slots = ns;
	}
	if (!g_started) {
		if (xchan__thread_start(&g_thread, timer_thread, NULL,
		        "xchan-timer") != XCHAN_OK) {
			xchan__lock_release(&g_lock);
			return XCHAN_ENOMEM;
		}
		g_started = true;
	}
	t->seq = ++g_seq;
	heap_set(g_n, t);
	g_n++;
	sift_up(g_n - 1);
	bool first = g_heap[0] == t;
	xchan__lock_release(&g_lock);
	if (first)
		wake_thread();
	return XCHAN_OK;
}

int
xchan__timer_cancel(xchan__timer *t)
{
	xchan__lock_acquire(&g_lock);
	if (t->index != 0) {
		heap_remove_at(t->index - 1);
		xchan__lock_release(&g_lock);
		return 1;
	}
	/* Already out of the heap: wait out a callback in flight (yields,
	 * then naps: a callback may run user code). */
	for (unsigned i = 0; g_firing == t && !t_is_timer_thread; i++) {
		xchan__lock_release(&g_lock);
		if (i < 16) {
			xchan__thread_yield();
		} else {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
		xchan__lock_acquire(&g_lock);
	}
	xchan__lock_release(&g_lock);
	return 0;
}

uint32_t
xchan__timer_pending(void)
{
	xchan__lock_acquire(&g_lock);
	uint32_t n = g_n;
	xchan__lock_release(&g_lock);
	return n;
}

static _Atomic int g_completing;

int
xchan__timer_shutting_down(void)
{
	return atomic_load_explicit(&g_completing, memory_order_acquire);
}

void
xchan__timer_shutdown(int complete)
{
	xchan__lock_acquire(&g_lock);
	g_shut = true;
	g_stopping = true;
	xchan__thread *th = g_started ? g_thread : NULL;
	g_started = false;
	xchan__lock_release(&g_lock);
	if (th) {
		wake_thread();
		xchan__thread_join(th);
	}
	if (!complete)
		return;
	/* The thread is gone: fire what is left here, as it would have
	 * (entry out of the heap, g_firing set, no lock held). */
	atomic_store_explicit(&g_completing, 1, memory_order_release);
	bool was_timer_thread = t_is_timer_thread;
	t_is_timer_thread = true; /* a fire may cancel its own entry */
	xchan__lock_acquire(&g_lock);
	while (g_n > 0) {
		xchan__timer *t = g_heap[0];
		heap_remove_at(0);
		if (!t->fire_at_shutdown)
			continue;
		g_firing = t;
		xchan__lock_release(&g_lock);
		t->fire(t);
		xchan__lock_acquire(&g_lock);
		g_firing = NULL;
	}
	xchan__lock_release(&g_lock);
	t_is_timer_thread = was_timer_thread;
	atomic_store_explicit(&g_completing, 0, memory_order_release);
}
