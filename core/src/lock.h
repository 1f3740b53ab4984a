/*
 * lock.h — the core's mutex: one CAS to take it uncontended, one exchange to
 * drop it; contended waiters spin briefly, then sleep on a futex.
 *
 * States: 0 free, 1 held, 2 held and somebody may sleep on it (Drepper,
 * "Futexes are tricky", mutex 3).  Acquire/release orderings make the lock a
 * proper critical section; TSan understands the atomics.
 */
#ifndef XCHAN_LOCK_H
#define XCHAN_LOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"

typedef struct xchan__lock {
	_Atomic uint32_t state;
} xchan__lock;

void xchan__lock_slow(xchan__lock *l);

static inline void
xchan__lock_acquire(xchan__lock *l)
{
	uint32_t free_ = 0;
	if (__builtin_expect(atomic_compare_exchange_weak_explicit(&l->state,
	                         &free_, 1, memory_order_acquire,
	                         memory_order_relaxed),
	        1))
		return;
	xchan__lock_slow(l);
}

/* Takes the lock only if it is free.  True if taken. */
static inline bool
xchan__lock_try(xchan__lock *l)
{
	uint32_t free_ = 0;
	return atomic_compare_exchange_strong_explicit(&l->state, &free_, 1,
	    memory_order_acquire, memory_order_relaxed);
}

static inline void
xchan__lock_release(xchan__lock *l)
{
	if (__builtin_expect(atomic_exchange_explicit(&l->state, 0,
	                         memory_order_release) == 2,
	        0))
		xchan__futex_wake(&l->state, 1);
}

#endif
