/*
 * chan.h — internal view of a channel, shared by chan.c, chan_xform.c,
 * alts.c, async.c and timeout.c.
 *
 * Design notes
 * ------------
 * Locks: `lock` guards every field below it except `refs` (atomic) and the
 * constant configuration.  `step_lock` (step->lock, in the transform
 * state: xchan__chan_step) serializes transform steps; it is
 * taken BEFORE `lock` (order: step_lock -> lock), and host code (a step, the
 * error handler) runs holding step_lock only; nothing else that is user
 * code runs under step_lock (async completions found while it is held are
 * delivered after its release).  No code path holds two channel locks at
 * once, so there is no inter-channel lock order.  step_owner records the
 * holder, so a close from inside its own step is recorded (close_pending)
 * instead of deadlocking; `owed` hands work from a non-blocking call to the
 * holder (xchan__xform_kick, xchan__step_release).
 *
 * Invariants (under `lock`), for the waiters of `puts` and `takes` (the
 * plain waiters of a lock-free ring are outside them: lfwait.h):
 *  - takers wait only when the buffer is empty (count == 0, or a promise
 *    without its value) and the channel is open;
 *  - puts wait only when the channel is unbuffered or a fixed buffer is full
 *    (count >= cap); a closed channel keeps its waiting puts;
 *  - after close no taker is queued; a closed channel accepts no new puts;
 *  - `count` may exceed `cap` only through an expanding transform.
 */
#ifndef XCHAN_CHAN_H
#define XCHAN_CHAN_H

#include "async.h"
#include "common.h"
#include "lfring.h"
#include "lock.h"
#include "sel.h"

typedef struct xchan__waitq {
	xchan__waiter *head, *tail;
	uint32_t n;
} xchan__waitq;

/* A transform channel's step state, allocated with the channel (at the
 * end of its allocation) only when it has a transform: an idle plain
 * channel does not pay for it. */
typedef struct xchan__chan_step {
	xchan_xform *xf;        /* the transform (constant) */
	xchan__lock lock;       /* the step lock */
	uint32_t close_pending; /* a step closed it; step lock holder only */
	/* The thread holding the step lock (xchan__self_id), so that a step
	 * closing its own channel is recognised; written by the holder. */
	_Atomic(void *) owner;
	/* Set by a non-blocking call that found work for the step lock's
	 * holder (pending puts to pull in, a close to finish) but could not
	 * take the lock; the holder does it before it releases. */
	_Atomic uint32_t owed;
	xchan_error_handler on_error;
	void *on_error_user;
} xchan__chan_step;

/* Laid out small (136 bytes on LP64, one 144-byte heap block): an idle
 * unbuffered channel costs that and nothing else.  What only some channels
 * need lives after the struct, in the same allocation: a timeout's timer
 * entry (`timed`), the inline ring of a one- or two-slot buffer, and a
 * transform's step state (`step`). */
struct xchan_chan {
	xchan__lock lock;
	uint8_t closed;      /* under lock */
	uint8_t completed;   /* transform completion done; under lock */
	uint8_t buf_kind;    /* constant */
	uint8_t ring_inline; /* ring is the inline area; under lock */
	uint64_t cap;        /* constant */
	xchan_val *ring;     /* slots entries, power of two; under lock */
	uint64_t slots, head, count;
	uint8_t
	    ring_allocated_inline; /* slots of the allocation's inline area */
	uint8_t lf_eligible;       /* may move to a lock-free ring (lf) */
	uint8_t
	    timed; /* a timeout channel: its timer entry follows (timeout.c) */
	uint32_t max_pending;
	xchan__waitq puts, takes;
	_Atomic uint32_t refs;
	uint32_t contended; /* contended lock acquisitions; under lock */
	/* The transform and its state (step->lock guards it); NULL without a
	 * transform, so `ch->step` is the test for one. */
	xchan__chan_step *step;
	uint64_t id;
	/* A fixed buffer (no transform, 4..65536 slots) whose lock is found
	 * contended moves its values to a lock-free ring, used without the
	 * lock while its gates are open: no waiter in `puts`/`takes`, open,
	 * no lock holder owning the ring (lfring.h).  Blocking puts and takes
	 * on such a channel wait as plain waiters of the ring (lfwait.h),
	 * which leave the gates open; only alts, async registrations and
	 * puts that survive a close queue in `puts`/`takes`.  `lf` is set
	 * once, under the lock, and never cleared; fast paths read it without
	 * the lock. */
	_Atomic(xchan__lfring *) lf;
};

/* The channel's transform, or NULL. */
static inline xchan_xform *
xchan__chan_xf(const xchan_chan *ch)
{
	return ch->step != NULL ? ch->step->xf : NULL;
}

/* A timeout channel's timer entry (it follows the struct), or NULL. */
static inline xchan__timer *
xchan__chan_timer(xchan_chan *ch)
{
	return ch->timed ? (xchan__timer *)(void *)(ch + 1) : NULL;
}

/* Tests: moves an eligible fixed buffer to its lock-free ring now, as
 * contention would.  True if the channel has one. */
bool xchan__chan_lf_force(xchan_chan *ch);
void xchan__chan_lf_exclusive(xchan_chan *ch);
void xchan__chan_lf_unlock(xchan_chan *ch);

/* The channel lock.  Every locked section goes through these: on a channel
 * with a lock-free ring they also take the ring over (and hand it back). */
static inline void
xchan__chan_lock(xchan_chan *ch)
{
	xchan__lock_acquire(&ch->lock);
	if (ch->lf)
		xchan__chan_lf_exclusive(ch);
}

static inline void
xchan__chan_unlock(xchan_chan *ch)
{
	if (ch->lf) {
		/* Hands the ring back, releases the lock, then wakes plain
		 * waiters for what the section added to / took from it. */
		xchan__chan_lf_unlock(ch);
		return;
	}
	xchan__lock_release(&ch->lock);
}

/* Values in the buffer.  Under the lock (exact: the ring is owned then). */
static inline uint64_t
xchan__buf_count(xchan_chan *ch)
{
	return ch->lf ? xchan__lfring_count(ch->lf) : ch->count;
}

/* Work a locked section leaves for after the unlock. */
typedef struct xchan__ctx {
	xchan__sel *done; /* claimed sels to finish (FIFO) */
	xchan__sel **tail;
	xchan_val drops[4]; /* values dropped by the buffer policy */
	uint32_t ndrops;
	uint32_t need_refill; /* xform: a take made room with puts pending */
	xchan__deliveries dl; /* settled async ops awaiting delivery */
	/* Values (and out-of-memory drop counts) a step-lock holder leaves
	 * for release after every lock: a release may call a host hook. */
	struct xchan__late *late;
	uint32_t nlate, late_cap;
	uint32_t late_oom;
} xchan__ctx;

static inline void
xchan__ctx_init(xchan__ctx *cx)
{
	cx->done = NULL;
	cx->tail = &cx->done;
	cx->ndrops = 0;
	cx->need_refill = 0;
	xchan__deliveries_init(&cx->dl);
	cx->late = NULL;
	cx->nlate = cx->late_cap = cx->late_oom = 0;
}

static inline void
xchan__ctx_complete(xchan__ctx *cx, xchan__sel *s)
{
	s->done_next = NULL;
	*cx->tail = s;
	cx->tail = &s->done_next;
}

/* Finishes claimed sels and releases dropped values, in this order: thread
 * and task waiters are woken first; then every claimed async op is settled
 * (its result stored, no user code); only then does user code run
 * (callbacks and notifiers, then value releases), on the thread's own stack
 * (never a go task's).  No xchan lock may be held. */
void xchan__ctx_finish(xchan__ctx *cx);
struct xchan__outs;
/* Moves what `o` still holds (dropped outputs, an error no handler took:
 * logged as "transform failed", its out-of-memory count) into cx, to be
 * released / reported by xchan__ctx_finish with no lock held; `o` is left
 * empty. */
void xchan__ctx_defer_outs(xchan__ctx *cx, struct xchan__outs *o);
/* The first two steps only (wake waiters, settle async ops): no user code,
 * so a step lock may be held.  The deliveries stay in cx->dl for a later
 * xchan__ctx_finish. */
void xchan__ctx_finish_waiters(xchan__ctx *cx);

/* Results of the locked try-functions besides xchan_err codes. */
#define XCHAN__NEED_STEP (-1) /* put: run the transform (step_lock held) */
#define XCHAN__NEED_REFILL                                                     \
	(-2) /* take: pull pending puts through the transform */
#define XCHAN__NEED_COMPLETE (-3) /* take: run the transform's completion */

/* Under ch->lock.  Try to complete a put / take now.  `self` is the caller's
 * own sel (alts), whose waiters are skipped; NULL for single operations.
 * Returns XCHAN_OK, XCHAN_EAGAIN (would wait), XCHAN_ECLOSED, or a NEED_*
 * code on transform channels.  On OK for a put the value moved. */
int32_t xchan__chan_try_put(xchan_chan *ch, xchan_val v, xchan__ctx *cx,
    xchan__sel *self);
int32_t xchan__chan_try_take(xchan_chan *ch, xchan_val *out, xchan__ctx *cx,
    xchan__sel *self);

/* Under ch->lock: whether another waiter of this direction may queue
 * (purging dead ones first), then queue / unlink. */
bool xchan__chan_may_queue(xchan_chan *ch, bool is_put);
void xchan__chan_enqueue(xchan_chan *ch, xchan__waiter *w);
void xchan__chan_unlink(xchan_chan *ch, xchan__waiter *w);

/* Under ch->lock: pops the first waiter of a direction whose sel the caller
 * claims (unlinking dead ones, skipping `self`'s); NULL if none. */
xchan__waiter *xchan__chan_pop(xchan_chan *ch, bool is_put, xchan__sel *self);

/* Unlinks `w` if still queued (takes and drops the lock). */
void xchan__chan_withdraw(xchan__waiter *w);

/* Transform paths (chan_xform.c).  put_step: called with step_lock and
 * lock held after try_put said NEED_STEP; returns with both dropped.
 * refill / complete: take and drop the locks themselves. */
void xchan__xform_put_step(xchan_chan *ch, xchan_val v, xchan__ctx *cx);
void xchan__xform_refill(xchan_chan *ch);
void xchan__xform_complete(xchan_chan *ch);
/* Non-blocking: has the step lock's holder (or this thread, if the lock is
 * free) pull pending puts in and finish a close.  Runs steps only if the
 * step lock was free, never waits for it. */
void xchan__xform_kick(xchan_chan *ch);
/* close of a transform channel (locks itself).  From inside one of the
 * channel's own steps (or its completion or error handler) the close is
 * recorded and takes effect when the step lock is released: a no-op for
 * the caller, as in core.async, instead of a self-deadlock. */
void xchan__xform_close(xchan_chan *ch);

/* An address unique to the calling thread. */
void *xchan__self_id(void);

/* The step lock: acquire records the owner; release first runs a close
 * recorded by a step (its tail goes to `cx`, finished by the caller). */
static inline void
xchan__step_acquire(xchan_chan *ch)
{
	xchan__lock_acquire(&ch->step->lock);
	atomic_store_explicit(&ch->step->owner, xchan__self_id(),
	    memory_order_relaxed);
}
void xchan__step_release(xchan_chan *ch, xchan__ctx *cx);
/* Takes the step lock only if it is free (non-blocking calls). */
static inline bool
xchan__step_try_acquire(xchan_chan *ch)
{
	if (!xchan__lock_try(&ch->step->lock))
		return false;
	atomic_store_explicit(&ch->step->owner, xchan__self_id(),
	    memory_order_relaxed);
	return true;
}

/* Wait options (chan.c): validation (XCHAN_EINVAL, or XCHAN_ECANCELED if
 * the token already fired) and copying them into a sel. */
int32_t xchan__wait_opts_check(const xchan_wait_opts *opts);
void xchan__sel_apply_opts(xchan__sel *s, const xchan_wait_opts *opts);

/* Under lock: hands buffered values to waiting takers. */
void xchan__chan_feed_takers(xchan_chan *ch, xchan__ctx *cx);
/* Under lock: gives every remaining taker ECLOSED (after feeding). */
void xchan__chan_release_takers(xchan_chan *ch, xchan__ctx *cx);
/* Under lock: adds to the buffer by its policy (no full check); returns a
 * value the policy dropped (nil if none), or sets *oom. */
xchan_val xchan__buf_add(xchan_chan *ch, xchan_val v, bool *oom);

/* Channel allocation with room for `extra` trailing bytes (timeouts). */
int32_t xchan__chan_alloc(xchan_chan **out, const xchan_chan_opts *opts,
    size_t extra);
/* Takes a reference only if the channel is still alive (refs > 0). */
bool xchan__chan_try_retain(xchan_chan *ch);

/* Transform internals (xform.c). */
typedef struct xchan__outs {
	xchan_val *v;
	size_t n, cap;
	xchan_val inline_v[8];
	int failed;
	uint32_t oom_dropped; /* outputs dropped for lack of memory (logged
	                         by xchan__outs_free, after the unlock) */
	xchan_val error;
} xchan__outs;
void xchan__outs_init(xchan__outs *o);
void xchan__outs_free(xchan__outs *o); /* releases remaining values */
int32_t xchan__xform_step(xchan_xform *xf, xchan_val in, xchan__outs *o);
int32_t xchan__xform_finish(xchan_xform *xf, xchan__outs *o);
int32_t xchan__outs_push(xchan__outs *o, xchan_val v);

#endif
