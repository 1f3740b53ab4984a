/*
 * lfwait.c — plain waiters of a lock-free ring (see lfwait.h for the
 * design notes: the lock, the no-lost-wake-up argument, close).
 */
#include "lfwait.h"

void
xchan__lfwait_init(xchan__lfwaitq *q)
{
	atomic_init(&q->n, 0);
	atomic_init(&q->lock.state, 0);
	q->head = q->tail = NULL;
	q->closed = 0;
	q->owed = 0;
}

static void
unlink_locked(xchan__lfwaitq *q, xchan__waiter *w)
{
	xchan__waiter_detach(&q->head, &q->tail, w);
	/* seq_cst like the increment: only an upper bound matters to the
	 * lock-free readers, and they re-check under the lock. */
	atomic_fetch_sub(&q->n, 1);
}

int
xchan__lfwait_add(xchan__lfwaitq *q, xchan__waiter *w, uint32_t max_pending)
{
	xchan__lock_acquire(&q->lock);
	if (q->closed) {
		xchan__lock_release(&q->lock);
		return XCHAN__LFW_CLOSED;
	}
	if (atomic_load_explicit(&q->n, memory_order_relaxed) >= max_pending) {
		/* Owners that timed out unlink themselves promptly, but purge
		 * any still listed before refusing. */
		for (xchan__waiter *x = q->head, *next; x; x = next) {
			next = x->next;
			if (!xchan__sel_live(x->sel))
				unlink_locked(q, x);
		}
		if (atomic_load_explicit(&q->n, memory_order_relaxed) >=
		    max_pending) {
			xchan__lock_release(&q->lock);
			return XCHAN__LFW_LIMIT;
		}
	}
	xchan__waiter_append(&q->head, &q->tail, w);
	w->plain = 1;
	/* The waiter's half of the Dekker pair (lfwait.h): this increment,
	 * then its probe of the ring. */
	atomic_fetch_add(&q->n, 1);
	xchan__lock_release(&q->lock);
	return XCHAN__LFW_ADDED;
}

bool
xchan__lfwait_remove(xchan__lfwaitq *q, xchan__waiter *w)
{
	xchan__lock_acquire(&q->lock);
	bool here = w->plain;
	if (here && w->linked)
		unlink_locked(q, w);
	w->plain = 0;
	xchan__lock_release(&q->lock);
	return here;
}

bool
xchan__lfwait_cancel(xchan__lfwaitq *q, xchan__waiter *w)
{
	xchan__lock_acquire(&q->lock);
	bool back = w->plain && xchan__sel_cancel(w->sel);
	if (back) {
		if (w->linked)
			unlink_locked(q, w);
		w->plain = 0;
	}
	xchan__lock_release(&q->lock);
	return back;
}

xchan__waiter *
xchan__lfwait_claim_slow(xchan__lfwaitq *q)
{
	xchan__waiter *won = NULL;
	xchan__lock_acquire(&q->lock);
	while (q->head) {
		xchan__waiter *w = q->head;
		unlink_locked(q, w);
		/* A dead one (its deadline or cancel won) is dropped and the
		 * wake goes to the next. */
		if (xchan__sel_claim(w->sel)) {
			won = w;
			break;
		}
	}
	xchan__lock_release(&q->lock);
	return won;
}

bool
xchan__lfwait_wake_one_slow(xchan__lfwaitq *q)
{
	xchan__waiter *w = xchan__lfwait_claim_slow(q);
	if (w == NULL)
		return false;
	xchan__sel *won = w->sel;
	won->result.err = XCHAN__LF_RETRY;
	won->result.index = 0;
	won->result.val = xchan_val_nil();
	xchan__sel_finish(won);
	return true;
}

xchan__waiter *
xchan__lfwait_close(xchan__lfwaitq *q)
{
	xchan__waiter *live = NULL, **tail = &live;
	xchan__lock_acquire(&q->lock);
	q->closed = 1;
	while (q->head) {
		xchan__waiter *w = q->head;
		unlink_locked(q, w);
		w->plain = 0; /* its owner now withdraws from the channel */
		if (xchan__sel_live(w->sel)) {
			*tail = w;
			tail = &w->next;
		}
	}
	*tail = NULL;
	xchan__lock_release(&q->lock);
	return live;
}

uint32_t
xchan__lfwait_count(xchan__lfwaitq *q)
{
	uint32_t n = 0;
	xchan__lock_acquire(&q->lock);
	for (xchan__waiter *w = q->head; w; w = w->next)
		n += xchan__sel_live(w->sel);
	xchan__lock_release(&q->lock);
	return n;
}
