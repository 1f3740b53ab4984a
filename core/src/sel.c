/*
 * sel.c — waiting for a sel: threads spin then sleep on the sel's futex word;
 * go tasks park through task.h.  See sel.h for the state machine.
 *
 * Design notes
 * ------------
 * No lock of its own; a wait with a cancel token lists the sel on the token
 * (cancel.h, a leaf lock) for the duration of the wait.
 *
 * Every spin is bounded.  The only state an owner ever waits through without
 * sleeping is CLAIMED (a counterpart is writing the result, a few
 * instructions from DONE unless it was preempted):
 *  - a thread owner spins a little, yields a bounded number of times, then
 *    sleeps in growing naps (up to 1 ms) until DONE;
 *  - a task's park commit spins a little, then moves CLAIMED to
 *    CLAIMED_PARKED and stays parked: the claimer, which publishes DONE by
 *    exchange, sees CLAIMED_PARKED and wakes the task.  The claimer touches
 *    only the task (never the sel) after DONE, so a task that resumes on its
 *    own (commit saw DONE) never has its frame touched.
 *
 * Interruptions: a deadline (futex timeout or the task's timer), a cancel
 * token (cancel.c moves the sel to ABORTED) and, with XCHAN_WAIT_EINTR, a
 * signal interrupting a thread's futex sleep (the owner cancels its own
 * sel).  Each competes with claimers through the same CAS out of
 * WAITING/PARKED, so either the operation completed or nothing moved.
 */
#include "sel.h"

#include <time.h>

#include "async.h"
#include "cancel.h"
#include "platform/platform.h"

/* Spin before sleeping: a handoff that stays in shared memory costs
 * ~0.3-0.5 us on these VMs, a futex handoff ~10 us.  But a pause costs
 * ~25 ns here, so SEL_SPINS_MAX is ~5 us of a core, and when the
 * counterpart cannot run (more runnable threads than cores, or it shares
 * our core) every pause only delays the sleep that would let it run: the
 * profile of a cap-0 thread handoff on a loaded 2-core machine showed 62%
 * of the time in this spin.  So each thread adapts its spin, like glibc's
 * adaptive mutex: a wait that ended while spinning raises its budget, one
 * that had to sleep halves it, between SEL_SPINS_MIN (enough to catch a
 * counterpart running on another core right now) and SEL_SPINS_MAX. */
#define SEL_SPINS_MAX 200
#define SEL_SPINS_MIN 16
static _Thread_local uint32_t t_spins = SEL_SPINS_MAX;
/* Waiting through CLAIMED: pauses, then yields, then naps. */
#define CLAIMED_SPINS 64
#define CLAIMED_YIELDS 16

void
xchan__sel_finish(xchan__sel *s)
{
	switch (s->owner) {
	case XCHAN__OWNER_THREAD:
		/* Wake before DONE: the owner waits for DONE, so the frame
		 * holding `s` is alive until our final store. */
		if (s->claimed_parked)
			xchan__futex_wake(&s->state, 1);
		atomic_store_explicit(&s->state, XCHAN__SEL_DONE,
		    memory_order_release);
		break;
	case XCHAN__OWNER_TASK: {
		xchan__task *t = s->task;
		if (s->claimed_parked) {
			/* It sleeps until we wake it. */
			atomic_store_explicit(&s->state, XCHAN__SEL_DONE,
			    memory_order_release);
			xchan__task_wake(t);
			break;
		}
		/* Claimed before it parked: its park commit sees DONE and it
		 * resumes by itself, unless it gave up waiting for us and
		 * parked (CLAIMED_PARKED): then we wake it. */
		uint32_t prev = atomic_exchange_explicit(&s->state,
		    XCHAN__SEL_DONE, memory_order_acq_rel);
		if (prev == XCHAN__SEL_CLAIMED_PARKED)
			xchan__task_wake(t);
		break;
	}
	case XCHAN__OWNER_ASYNC:
		/* Async sels are finished by xchan__ctx_finish through
		 * xchan__op_completed (settle, then deliver). */
		XCHAN_ASSERT(0);
		break;
	}
}

static void
nap_ns(long ns)
{
	struct timespec ts = {0, ns};
	nanosleep(&ts, NULL);
}

/* A thread owner found its sel CLAIMED: wait (bounded spin, then yields,
 * then naps) until the claimer publishes DONE. */
static void
wait_claimed_thread(xchan__sel *s)
{
	unsigned i = 0;
	long nap = 20000;
	while (atomic_load_explicit(&s->state, memory_order_acquire) ==
	       XCHAN__SEL_CLAIMED) {
		if (i < CLAIMED_SPINS) {
			xchan__cpu_relax();
		} else if (i < CLAIMED_SPINS + CLAIMED_YIELDS) {
			xchan__thread_yield();
		} else {
			nap_ns(nap);
			if (nap < 1000000)
				nap *= 2;
		}
		i++;
	}
}

static int32_t
canceled_err(uint32_t st, int32_t reason)
{
	return st == XCHAN__SEL_ABORTED ? XCHAN_ECANCELED : reason;
}

static int32_t
wait_thread(xchan__sel *s, xchan_deadline deadline)
{
	uint32_t spins = t_spins;
	for (uint32_t i = 0; i < spins; i++) {
		uint32_t st =
		    atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == XCHAN__SEL_DONE) {
			/* Spinning paid: spin longer next time. */
			spins += spins / 2;
			t_spins = spins < SEL_SPINS_MAX ? spins : SEL_SPINS_MAX;
			return XCHAN_OK;
		}
		if (st == XCHAN__SEL_ABORTED)
			return XCHAN_ECANCELED;
		xchan__cpu_relax();
	}
	/* Spinning did not pay: spin less next time. */
	t_spins = spins / 2 > SEL_SPINS_MIN ? spins / 2 : SEL_SPINS_MIN;
	int64_t fdl = deadline == XCHAN_DEADLINE_NEVER ? -1 : deadline;
	bool intr = (s->wait_flags & XCHAN_WAIT_EINTR) != 0;
	int32_t reason = XCHAN_ETIMEDOUT; /* why the owner canceled */
	for (;;) {
		uint32_t st =
		    atomic_load_explicit(&s->state, memory_order_acquire);
		switch (st) {
		case XCHAN__SEL_DONE:
			return XCHAN_OK;
		case XCHAN__SEL_CANCELED:
		case XCHAN__SEL_ABORTED:
			return canceled_err(st, reason);
		case XCHAN__SEL_CLAIMED:
			wait_claimed_thread(s);
			break;
		case XCHAN__SEL_WAITING:
			atomic_compare_exchange_strong_explicit(&s->state, &st,
			    XCHAN__SEL_PARKED, memory_order_acq_rel,
			    memory_order_acquire);
			break;
		case XCHAN__SEL_PARKED: {
			int r = intr ? xchan__futex_wait_intr(&s->state,
			                   XCHAN__SEL_PARKED, fdl)
			             : xchan__futex_wait(&s->state,
			                   XCHAN__SEL_PARKED, fdl);
			if (r == -2) {
				reason = XCHAN_EINTR;
				xchan__sel_cancel(s);
			} else if (r < 0 ||
			           (fdl >= 0 && xchan__clock_ns() >= fdl)) {
				reason = XCHAN_ETIMEDOUT;
				xchan__sel_cancel(s);
			}
			break;
		}
		default:
			XCHAN_ASSERT(0);
			break;
		}
	}
}

/* Park commit, run by the scheduler after the task switched out. */
static int
task_park_commit(void *arg)
{
	xchan__sel *s = arg;
	uint32_t st = XCHAN__SEL_WAITING;
	if (atomic_compare_exchange_strong_explicit(&s->state, &st,
	        XCHAN__SEL_PARKED, memory_order_acq_rel, memory_order_acquire))
		return 1;
	/* Already claimed, done or canceled.  CLAIMED is a few instructions
	 * from DONE: spin a little, then park and let the claimer wake us. */
	for (unsigned i = 0; i < CLAIMED_SPINS; i++) {
		if (atomic_load_explicit(&s->state, memory_order_acquire) !=
		    XCHAN__SEL_CLAIMED)
			return 0;
		xchan__cpu_relax();
	}
	st = XCHAN__SEL_CLAIMED;
	if (atomic_compare_exchange_strong_explicit(&s->state, &st,
	        XCHAN__SEL_CLAIMED_PARKED, memory_order_acq_rel,
	        memory_order_acquire))
		return 1; /* the claimer's DONE exchange sees it and wakes us */
	return 0;
}

/* Deadline of a parked task: cancel the sel and wake the task if it had
 * parked.  Reads `task` before the CAS: after it the task may run. */
static void
task_timer_fire(xchan__timer *t)
{
	xchan__sel *s = (xchan__sel *)((char *)t - offsetof(xchan__sel, timer));
	xchan__task *task = s->task;
	uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	while (st <= XCHAN__SEL_PARKED) {
		if (atomic_compare_exchange_weak_explicit(&s->state, &st,
		        XCHAN__SEL_CANCELED, memory_order_acq_rel,
		        memory_order_relaxed)) {
			if (st == XCHAN__SEL_PARKED)
				xchan__task_wake(task);
			return;
		}
	}
}

static int32_t
wait_task(xchan__sel *s, xchan_deadline deadline)
{
	bool timed = deadline != XCHAN_DEADLINE_NEVER;
	if (timed) {
		s->timer.deadline = deadline;
		s->timer.fire = task_timer_fire;
		s->timer.fire_at_shutdown = 0;
		int32_t err = xchan__timer_add(&s->timer);
		if (err != XCHAN_OK) {
			/* No timer: the deadline cannot be kept.  Say so
			 * (ENOMEM, ESHUTDOWN) rather than time out early. */
			if (xchan__sel_cancel(s))
				return err;
			timed = false;
		}
	}
	xchan__task_park(task_park_commit, s);
	if (timed)
		xchan__timer_cancel(&s->timer); /* waits out a running fire */
	uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
	XCHAN_ASSERT(st == XCHAN__SEL_DONE || st == XCHAN__SEL_CANCELED ||
	             st == XCHAN__SEL_ABORTED);
	if (st == XCHAN__SEL_DONE)
		return XCHAN_OK;
	return canceled_err(st, XCHAN_ETIMEDOUT);
}

static int32_t
wait_any(xchan__sel *s, xchan_deadline deadline)
{
	if (deadline != XCHAN_DEADLINE_NEVER && deadline <= xchan__clock_ns()) {
		/* Already past: one last chance for a claimer in flight. */
		if (xchan__sel_cancel(s))
			return XCHAN_ETIMEDOUT;
	}
	if (s->owner == XCHAN__OWNER_TASK)
		return wait_task(s, deadline);
	return wait_thread(s, deadline);
}

int32_t
xchan__sel_wait(xchan__sel *s, xchan_deadline deadline)
{
	if (s->token == NULL)
		return wait_any(s, deadline);
	if (!xchan__cancel_enter(s)) {
		/* Fired before we waited: abort unless a claimer won. */
		uint32_t st = XCHAN__SEL_WAITING;
		if (atomic_compare_exchange_strong_explicit(&s->state, &st,
		        XCHAN__SEL_ABORTED, memory_order_acq_rel,
		        memory_order_acquire))
			return XCHAN_ECANCELED;
		s->token = NULL; /* not listed */
		return wait_any(s, XCHAN_DEADLINE_NEVER);
	}
	int32_t err = wait_any(s, deadline);
	xchan__cancel_leave(s);
	return err;
}
