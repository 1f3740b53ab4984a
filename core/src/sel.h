/*
 * sel.h — how an operation waits: the "sel" (one per blocking, parking or
 * async operation, alts included) and its waiters (one per clause, queued on
 * a channel).
 *
 * Design notes
 * ------------
 * A sel moves through states by CAS (no lock of its own):
 *
 *   WAITING --owner sleeps/parks--> PARKED
 *   WAITING|PARKED --counterpart claims--> CLAIMED --result written--> DONE
 *   WAITING|PARKED --deadline or cancel--> CANCELED
 *
 * Exactly one CAS out of {WAITING, PARKED} succeeds, so exactly one clause of
 * an alts commits, and a cancel either wins (nothing transferred) or loses
 * (the operation completed).  This flag protocol replaces core.async's
 * per-handler locks: a counterpart only ever holds ONE channel lock (the
 * channel it operates on) while it claims, so two alts crossing the same
 * channels in opposite order cannot deadlock: there is no lock order between
 * channels to violate.
 *
 * Lifetime: waiters and blocking sels live on the owner's stack (or go task
 * stack, or inside an async op).  A waiter is touched by others only while it
 * is linked in a channel queue, under that channel's lock; the owner unlinks
 * its leftover waiters (under each lock) before its frame goes away.  The
 * claimer touches the sel until it publishes DONE:
 *  - thread owner: the claimer wakes the futex BEFORE storing DONE, and the
 *    owner waits for DONE (spinning through CLAIMED), so the claimer never
 *    touches a dead frame;
 *  - task owner: the task cannot run again until it is woken, and it is woken
 *    only after DONE (by the claimer, if it had parked; else by itself when
 *    the park commit sees the state changed);
 *  - async owner: the op is reference-counted.
 * User code never runs under a channel lock: claimers collect completed
 * sels in a local list and finish them after unlocking (chan.h,
 * xchan__ctx_finish): thread and task owners are woken first, then async
 * ops are settled (results stored, no user code), then callbacks run, on
 * the thread's own stack (never a go task's).
 *
 * Extra states: ABORTED (a cancel token fired; cancel.c) and CLAIMED_PARKED
 * (a task owner stopped waiting for a slow claimer and parked; the claimer's
 * DONE exchange sees it and wakes the task).  See sel.c for the bounded
 * waits.
 */
#ifndef XCHAN_SEL_H
#define XCHAN_SEL_H

#include "common.h"
#include "task.h"
#include "timer.h"

enum {
	XCHAN__SEL_WAITING = 0,
	XCHAN__SEL_PARKED = 1,
	XCHAN__SEL_CLAIMED = 2,
	XCHAN__SEL_DONE = 3,
	XCHAN__SEL_CANCELED = 4, /* deadline, async cancel, EINTR, shutdown */
	XCHAN__SEL_ABORTED = 5,  /* a cancel token fired */
	/* A task owner gave up waiting for a claimer stuck between CLAIMED
	 * and DONE and parked: the claimer must wake it (task owners only). */
	XCHAN__SEL_CLAIMED_PARKED = 6
};

enum { XCHAN__OWNER_THREAD = 0, XCHAN__OWNER_TASK = 1, XCHAN__OWNER_ASYNC = 2 };

typedef struct xchan__sel xchan__sel;
typedef struct xchan__waiter xchan__waiter;
struct xchan__op;

struct xchan__waiter {
	xchan__waiter *next, *prev; /* channel queue; under the channel lock */
	xchan__sel *sel;
	xchan_chan *chan;
	xchan_val val; /* put: the value offered (owned by the op) */
	int32_t index; /* the clause index reported on completion */
	uint8_t is_put;
	uint8_t linked; /* in the channel queue; under the channel lock (or,
	                   for a plain waiter, the lfwait lock: lfwait.h) */
	uint8_t plain;  /* listed as a plain waiter of a lock-free ring */
	uint8_t pad;
};

/* The two waiter lists (a channel's queues, a lock-free ring's plain
 * waiters: lfwait.h) are the same doubly linked FIFO; these keep its links
 * and `linked`, under whichever lock guards the list.  Counts are the
 * caller's: one list counts under its lock, the other atomically. */
static inline void
xchan__waiter_append(xchan__waiter **head, xchan__waiter **tail,
    xchan__waiter *w)
{
	w->next = NULL;
	w->prev = *tail;
	if (*tail)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
	w->linked = 1;
}

static inline void
xchan__waiter_detach(xchan__waiter **head, xchan__waiter **tail,
    xchan__waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		*tail = w->prev;
	w->next = w->prev = NULL;
	w->linked = 0;
}

struct xchan__sel {
	_Atomic uint32_t state;
	uint32_t owner;          /* XCHAN__OWNER_* */
	uint32_t claimed_parked; /* written by the claimer: owner had parked */
	uint32_t pad;
	xchan_result result;   /* written by the claimer (or by the owner) */
	xchan__task *task;     /* TASK owner */
	struct xchan__op *op;  /* ASYNC owner */
	xchan__sel *done_next; /* claimer's local completion list */
	xchan__timer timer;    /* TASK owner with a deadline */
	/* Blocking calls made with xchan_wait_opts (else NULL / 0). */
	struct xchan_cancel *token;
	uint32_t wait_flags; /* XCHAN_WAIT_* */
	uint32_t pad2;
	xchan__sel *tok_next, *tok_prev; /* token's waiter list; token lock */
};

/* Prepares a sel for the calling context (thread or task). */
static inline void
xchan__sel_init(xchan__sel *s)
{
	atomic_store_explicit(&s->state, XCHAN__SEL_WAITING,
	    memory_order_relaxed);
	s->task = xchan__task_current();
	s->owner = s->task ? XCHAN__OWNER_TASK : XCHAN__OWNER_THREAD;
	s->claimed_parked = 0;
	s->result.err = XCHAN_OK;
	s->result.index = -1;
	s->result.val = xchan_val_nil();
	s->op = NULL;
	s->done_next = NULL;
	s->token = NULL;
	s->wait_flags = 0;
}

/* Claims `s` for completion.  Returns true if this caller won; it must then
 * fill s->result and pass s to xchan__sel_finish (after dropping locks). */
static inline bool
xchan__sel_claim(xchan__sel *s)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	while (st <= XCHAN__SEL_PARKED) {
		/* acq_rel: acquire the owner's writes (its waiter and value),
		 * release nothing yet; DONE publishes the result. */
		if (atomic_compare_exchange_weak_explicit(&s->state, &st,
		        XCHAN__SEL_CLAIMED, memory_order_acq_rel,
		        memory_order_relaxed)) {
			s->claimed_parked = (st == XCHAN__SEL_PARKED);
			return true;
		}
	}
	return false;
}

/* True while a counterpart could still claim `s`. */
static inline bool
xchan__sel_live(xchan__sel *s)
{
	return atomic_load_explicit(&s->state, memory_order_relaxed) <=
	       XCHAN__SEL_PARKED;
}

/* Publishes the result of a claimed sel and wakes its owner.  No lock held. */
void xchan__sel_finish(xchan__sel *s);

/* Finishes a list linked through done_next. */
static inline void
xchan__sel_finish_list(xchan__sel *s)
{
	while (s) {
		xchan__sel *next = s->done_next; /* read before s may die */
		xchan__sel_finish(s);
		s = next;
	}
}

/* The owner completes its own sel (it won the claim itself). */
static inline void
xchan__sel_self_done(xchan__sel *s)
{
	atomic_store_explicit(&s->state, XCHAN__SEL_DONE, memory_order_release);
}

/* Waits (thread: spin then futex; task: park) until the sel is DONE or the
 * deadline passes.  Returns XCHAN_OK when DONE (result filled), or, when the
 * sel was canceled (nothing transferred; the caller withdraws its waiters):
 * XCHAN_ETIMEDOUT (deadline), XCHAN_ECANCELED (s->token fired), XCHAN_EINTR
 * (XCHAN_WAIT_EINTR in s->wait_flags and a signal interrupted a thread's
 * sleep), or a task's deadline that could not be armed (XCHAN_ENOMEM,
 * XCHAN_ESHUTDOWN).  A sel may end CANCELED only through this call's owner, its
 * timer, or a token, so the reason is known here. */
int32_t xchan__sel_wait(xchan__sel *s, xchan_deadline deadline);

/* Cancels a sel from outside (async cancel).  True if the cancel won. */
static inline bool
xchan__sel_cancel(xchan__sel *s)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	while (st <= XCHAN__SEL_PARKED) {
		if (atomic_compare_exchange_weak_explicit(&s->state, &st,
		        XCHAN__SEL_CANCELED, memory_order_acq_rel,
		        memory_order_relaxed))
			return true;
	}
	return false;
}

#endif
