/*
 * timer.h — the one timer service: a thread and a 4-ary min-heap of entries
 * keyed by absolute deadline (monotonic ns).  Serves timeout channels,
 * deadlines of parked go tasks and of async alts.  Scales to 100k+ entries
 * (O(log n) add and cancel).
 *
 * Locks: one mutex guards the heap.  Callbacks run on the timer thread with
 * no lock held.  An entry is embedded in its owner; the owner must cancel it
 * (xchan__timer_cancel) before freeing it, unless it has fired.
 */
#ifndef XCHAN_TIMER_H
#define XCHAN_TIMER_H

#include <stdint.h>

typedef struct xchan__timer xchan__timer;
struct xchan__timer {
	int64_t deadline; /* absolute monotonic ns */
	uint32_t
	    index; /* heap slot + 1; 0 = not in the heap (guarded by the heap lock) */
	/* Set by the owner before add: fire this entry at xchan_shutdown
	 * (timeout channels, async deadlines) instead of dropping it (a
	 * parked go task's deadline: its executor is gone). */
	uint32_t fire_at_shutdown;
	uint64_t seq; /* tie-break: equal deadlines fire in insertion order */
	/* Runs on the timer thread, no lock held, after the entry left the
	 * heap.  The entry may be reused or freed from here on. */
	void (*fire)(xchan__timer *t);
};

/* Adds `t` (deadline and fire set by the caller).  Errors: XCHAN_ENOMEM,
 * XCHAN_ESHUTDOWN. */
int32_t xchan__timer_add(xchan__timer *t);

/* Removes `t` if it has not started firing.  Returns 1 if removed (fire will
 * never run), 0 if it already left the heap (fire ran or is running). */
int xchan__timer_cancel(xchan__timer *t);

/* Number of pending entries (tests). */
uint32_t xchan__timer_pending(void);

/* Stops the timer thread; later adds fail with XCHAN_ESHUTDOWN.  With
 * `complete`, pending entries marked fire_at_shutdown fire now, on the
 * calling thread, in deadline order, with xchan__timer_shutting_down()
 * true (the others are dropped).  Called by xchan_shutdown (complete) and
 * the atexit shutdown (not: no user code at exit). */
void xchan__timer_shutdown(int complete);

/* True while xchan__timer_shutdown fires the pending entries. */
int xchan__timer_shutting_down(void);

#endif
