/*
 * sel.c — waiting for a sel: threads spin then sleep on the sel's futex word;
 * go tasks park through task.h.  See sel.h for the state machine.
 */
#include "sel.h"

#include "async.h"
#include "platform/platform.h"

/* Spin before sleeping: a handoff that stays in shared memory costs
 * ~0.3-0.5 us on these VMs, a futex handoff ~10 us. */
#define SEL_SPINS 200

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
		bool parked = s->claimed_parked;
		atomic_store_explicit(&s->state, XCHAN__SEL_DONE,
		    memory_order_release);
		/* If it had not parked yet, its park commit sees DONE and it
		 * resumes by itself; otherwise it sleeps until we wake it. */
		if (parked)
			xchan__task_wake(t);
		break;
	}
	case XCHAN__OWNER_ASYNC: {
		struct xchan__op *op = s->op;
		atomic_store_explicit(&s->state, XCHAN__SEL_DONE,
		    memory_order_release);
		xchan__op_completed(op);
		break;
	}
	}
}

static int32_t
wait_thread(xchan__sel *s, xchan_deadline deadline)
{
	for (int i = 0; i < SEL_SPINS; i++) {
		if (atomic_load_explicit(&s->state, memory_order_acquire) ==
		    XCHAN__SEL_DONE)
			return XCHAN_OK;
		xchan__cpu_relax();
	}
	int64_t fdl = deadline == XCHAN_DEADLINE_NEVER ? -1 : deadline;
	for (;;) {
		uint32_t st =
		    atomic_load_explicit(&s->state, memory_order_acquire);
		switch (st) {
		case XCHAN__SEL_DONE:
			return XCHAN_OK;
		case XCHAN__SEL_CANCELED:
			return XCHAN_ETIMEDOUT;
		case XCHAN__SEL_CLAIMED:
			/* The claimer is writing the result; it is a few
			 * instructions from DONE unless it was preempted. */
			xchan__thread_yield();
			break;
		case XCHAN__SEL_WAITING:
			atomic_compare_exchange_strong_explicit(&s->state, &st,
			    XCHAN__SEL_PARKED, memory_order_acq_rel,
			    memory_order_acquire);
			break;
		case XCHAN__SEL_PARKED:
			if (xchan__futex_wait(&s->state, XCHAN__SEL_PARKED,
			        fdl) < 0 ||
			    (fdl >= 0 && xchan__clock_ns() >= fdl)) {
				if (xchan__sel_cancel(s))
					return XCHAN_ETIMEDOUT;
			}
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
	/* Already claimed, done or canceled: resume now, once DONE is
	 * published (CLAIMED is a few instructions from DONE). */
	while (atomic_load_explicit(&s->state, memory_order_acquire) ==
	       XCHAN__SEL_CLAIMED)
		xchan__cpu_relax();
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
		if (xchan__timer_add(&s->timer) != XCHAN_OK) {
			/* No timer: fall back to an immediate timeout. */
			if (xchan__sel_cancel(s))
				return XCHAN_ETIMEDOUT;
			timed = false;
		}
	}
	xchan__task_park(task_park_commit, s);
	if (timed)
		xchan__timer_cancel(&s->timer); /* waits out a running fire */
	uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
	XCHAN_ASSERT(st == XCHAN__SEL_DONE || st == XCHAN__SEL_CANCELED);
	return st == XCHAN__SEL_DONE ? XCHAN_OK : XCHAN_ETIMEDOUT;
}

int32_t
xchan__sel_wait(xchan__sel *s, xchan_deadline deadline)
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
