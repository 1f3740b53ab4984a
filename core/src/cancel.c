/*
 * cancel.c — cancel tokens: another thread stops blocking put/take/alts
 * calls made with the token (see cancel.h for the design).
 */
#include "cancel.h"

#include "debugcheck.h"
#include "lock.h"
#include "platform/platform.h"

struct xchan_cancel {
	xchan__lock lock;
	_Atomic uint32_t refs;
	_Atomic uint32_t fired;
	xchan__sel *head; /* waiting sels; under lock */
};

int32_t
xchan_cancel_new(xchan_cancel **out)
{
	if (out == NULL)
		return XCHAN_EINVAL;
	*out = NULL;
	xchan_cancel *c = xchan__zalloc(sizeof(*c));
	if (c == NULL)
		return XCHAN_ENOMEM;
	atomic_init(&c->refs, 1);
	*out = c;
	return XCHAN_OK;
}

/* Under c->lock: aborts `s` if it still waits and wakes its owner. */
static void
abort_sel(xchan__sel *s)
{
	uint32_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	while (st <= XCHAN__SEL_PARKED) {
		xchan__task *task = s->task;
		if (atomic_compare_exchange_weak_explicit(&s->state, &st,
		        XCHAN__SEL_ABORTED, memory_order_acq_rel,
		        memory_order_relaxed)) {
			if (st != XCHAN__SEL_PARKED)
				return; /* it will see ABORTED before sleeping */
			if (s->owner == XCHAN__OWNER_TASK)
				xchan__task_wake(task);
			else
				xchan__futex_wake(&s->state, 1);
			return;
		}
	}
}

int32_t
xchan_cancel_fire(xchan_cancel *c)
{
	XCHAN__DBG_COUNT(c, refs, "cancel token");
	if (c == NULL)
		return XCHAN_EINVAL;
	xchan__lock_acquire(&c->lock);
	atomic_store_explicit(&c->fired, 1, memory_order_release);
	for (xchan__sel *s = c->head; s; s = s->tok_next)
		abort_sel(s);
	xchan__lock_release(&c->lock);
	return XCHAN_OK;
}

int32_t
xchan_cancel_reset(xchan_cancel *c)
{
	XCHAN__DBG_COUNT(c, refs, "cancel token");
	if (c == NULL)
		return XCHAN_EINVAL;
	xchan__lock_acquire(&c->lock);
	atomic_store_explicit(&c->fired, 0, memory_order_release);
	xchan__lock_release(&c->lock);
	return XCHAN_OK;
}

int32_t
xchan_cancel_fired(const xchan_cancel *c)
{
	XCHAN__DBG_COUNT(c, refs, "cancel token");
	if (c == NULL)
		return -XCHAN_EINVAL;
	return (int32_t)atomic_load_explicit(&((xchan_cancel *)c)->fired,
	    memory_order_acquire);
}

void
xchan_cancel_release(xchan_cancel *c)
{
	XCHAN__DBG_COUNT(c, refs, "cancel token");
	if (c == NULL)
		return;
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		xchan__retire(c, sizeof(*c), offsetof(xchan_cancel, refs));
}

/* A waiting call holds a reference, so a token released by its owner
 * while calls wait with it stays valid until they leave. */
bool
xchan__cancel_enter(xchan__sel *s)
{
	xchan_cancel *c = s->token;
	xchan__lock_acquire(&c->lock);
	if (atomic_load_explicit(&c->fired, memory_order_relaxed)) {
		xchan__lock_release(&c->lock);
		return false;
	}
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	s->tok_prev = NULL;
	s->tok_next = c->head;
	if (c->head)
		c->head->tok_prev = s;
	c->head = s;
	xchan__lock_release(&c->lock);
	return true;
}

void
xchan__cancel_leave(xchan__sel *s)
{
	xchan_cancel *c = s->token;
	xchan__lock_acquire(&c->lock);
	if (s->tok_prev)
		s->tok_prev->tok_next = s->tok_next;
	else
		c->head = s->tok_next;
	if (s->tok_next)
		s->tok_next->tok_prev = s->tok_prev;
	xchan__lock_release(&c->lock);
	xchan_cancel_release(c);
}
