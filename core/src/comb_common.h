/*
 * comb_common.h — helpers shared by the combinators (comb_*.c): a small
 * futex mutex, starting a go task with a name and handing its result channel
 * out as the "done" channel, making output channels from options.
 *
 * The combinators use only the public API of xchan.h for channels and tasks
 * (so they behave exactly as a binding's own code would); from the core they
 * borrow only the allocation hooks (common.h) and the futex (platform.h).
 *
 * Lock rule for every combinator: a combinator's mutex guards only its own
 * bookkeeping (tap lists, topic tables, mix state).  No channel operation and
 * no user callback ever runs while it is held: closing a channel or
 * completing a put may run other callbacks on this thread, which may take
 * the same mutex.
 */
#ifndef XCHAN_COMB_COMMON_H
#define XCHAN_COMB_COMMON_H

#include "common.h"
#include "platform/platform.h"

/* A three-state futex mutex (0 free, 1 locked, 2 locked with waiters).
 * Acquire/release orderings come from the CAS/exchange in lock and the
 * exchange in unlock, which is what makes it visible to TSan too. */
typedef struct comb_mutex {
	_Atomic uint32_t state;
} comb_mutex;

static inline void
comb_mutex_lock(comb_mutex *m)
{
	uint32_t c = 0;
	if (atomic_compare_exchange_strong_explicit(&m->state, &c, 1,
	        memory_order_acquire, memory_order_relaxed))
		return;
	for (int i = 0; i < 64; i++) {
		xchan__cpu_relax();
		c = 0;
		if (atomic_compare_exchange_weak_explicit(&m->state, &c, 1,
		        memory_order_acquire, memory_order_relaxed))
			return;
	}
	c = atomic_exchange_explicit(&m->state, 2, memory_order_acquire);
	while (c != 0) {
		xchan__futex_wait(&m->state, 2, -1);
		c = atomic_exchange_explicit(&m->state, 2,
		    memory_order_acquire);
	}
}

static inline void
comb_mutex_unlock(comb_mutex *m)
{
	if (atomic_exchange_explicit(&m->state, 0, memory_order_release) == 2)
		xchan__futex_wake(&m->state, 1);
}

/* Starts fn(arg) as a go task named `name`.  On success the task's result
 * channel goes to *out_done when out_done is not NULL (else it is
 * released).  Returns the xchan_go error otherwise (fn never runs). */
int32_t xchan__comb_go(xchan_chan **out_done, xchan_go_fn fn, void *arg,
    const char *name);

/* Creates a channel from optional options (NULL: unbuffered). */
int32_t xchan__comb_chan(xchan_chan **out, const xchan_chan_opts *opts);

/* Frees a transform inside options the caller gave us, when we fail before
 * handing the options to xchan_chan_new (the header promises the transform
 * is taken over even on error). */
void xchan__comb_opts_drop(const xchan_chan_opts *opts);

/* A closed unbuffered channel (done channels of processes that ended before
 * they started, e.g. merge of nothing). */
int32_t xchan__comb_closed_chan(xchan_chan **out);

/* Releases `n` values. */
void xchan__comb_release_vals(xchan_val *vals, size_t n);

#endif
