/*
 * lock.c — the contended path of xchan__lock (see lock.h).
 */
#include "lock.h"

/* Spin long enough to cover a short critical section on the other core
 * (a few hundred ns), not so long that a preempted holder burns our slice. */
#define LOCK_SPINS 100

void
xchan__lock_slow(xchan__lock *l)
{
	for (int i = 0; i < LOCK_SPINS; i++) {
		uint32_t s =
		    atomic_load_explicit(&l->state, memory_order_relaxed);
		if (s == 0) {
			if (atomic_compare_exchange_weak_explicit(&l->state, &s,
			        1, memory_order_acquire, memory_order_relaxed))
				return;
		} else if (s == 2) {
			break; /* others already sleep: join them */
		}
		xchan__cpu_relax();
	}
	/* Mark "held, maybe waiters" whenever we take it from here on, so the
	 * releaser always wakes the next sleeper. */
	while (
	    atomic_exchange_explicit(&l->state, 2, memory_order_acquire) != 0)
		xchan__futex_wait(&l->state, 2, -1);
}
