/*
 * chan.c — channels: creation, buffers, put/take/offer/poll, close, release,
 * introspection.  Transform channels branch to chan_xform.c; alts.c and
 * async.c reuse the locked try-functions here.
 *
 * Design notes: see chan.h (locks, invariants) and sel.h (wait protocol).
 * Every locked section leaves its side effects in an xchan__ctx, finished
 * after the unlock in the completion contract's order: waiters woken, async
 * ops settled, then user code (callbacks, value releases) on the thread's
 * own stack.  A blocking put/take/alts holds a reference to its channels
 * while it waits (taken under the lock as it queues), so releasing the
 * caller's last reference never frees a channel under its waiter.  Non-blocking calls only try the step lock (XCHAN_EAGAIN, or
 * xchan__xform_kick hands the work to its holder).
 * The buffered fast path is one lock acquire/release with no allocation:
 * the ring grows (doubling, up to the capacity) only while it fills for the
 * first time.
 */
#include <string.h>

#include "async.h"
#include "chan.h"
#include "debugcheck.h"
#include "log.h"
#include "task.h"
#include "timer.h"
#include "val.h"

static _Atomic uint64_t g_chan_ids;

/* Slow paths kept out of line, so the lock-free fast paths stay small. */
#define XCHAN_NOINLINE __attribute__((noinline))

/* Rings of up to this many slots live inside the channel's allocation. */
#define CHAN_INLINE_SLOTS 2

/* ---- waiter queues (under lock) ------------------------------------------ */

static inline xchan__waitq *
queue_of(xchan_chan *ch, bool is_put)
{
	return is_put ? &ch->puts : &ch->takes;
}

void
xchan__chan_enqueue(xchan_chan *ch, xchan__waiter *w)
{
	xchan__waitq *q = queue_of(ch, w->is_put);
	xchan__waiter_append(&q->head, &q->tail, w);
	q->n++;
}

void
xchan__chan_unlink(xchan_chan *ch, xchan__waiter *w)
{
	if (!w->linked)
		return;
	xchan__waitq *q = queue_of(ch, w->is_put);
	xchan__waiter_detach(&q->head, &q->tail, w);
	q->n--;
}

void
xchan__chan_withdraw(xchan__waiter *w)
{
	xchan_chan *ch = w->chan;
	xchan__chan_lock(ch);
	xchan__chan_unlink(ch, w);
	xchan__chan_unlock(ch);
}

/* Pops the first waiter whose sel this caller can claim, unlinking dead
 * ones on the way and skipping (not unlinking) `self`'s own waiters. */
xchan__waiter *
xchan__chan_pop(xchan_chan *ch, bool is_put, xchan__sel *self)
{
	xchan__waiter *w = queue_of(ch, is_put)->head;
	while (w) {
		xchan__waiter *next = w->next;
		if (w->sel != self) {
			xchan__chan_unlink(ch, w);
			if (xchan__sel_claim(w->sel))
				return w;
		}
		w = next;
	}
	return NULL;
}

bool
xchan__chan_may_queue(xchan_chan *ch, bool is_put)
{
	xchan__waitq *q = queue_of(ch, is_put);
	if (q->n < ch->max_pending)
		return true;
	/* Leftovers of finished alts do not count (core.async purges them
	 * too); ours are rare because alts withdraw eagerly. */
	for (xchan__waiter *w = q->head, *next; w; w = next) {
		next = w->next;
		if (!xchan__sel_live(w->sel))
			xchan__chan_unlink(ch, w);
	}
	return q->n < ch->max_pending;
}

/* ---- buffer (under lock) --------------------------------------------------- */

/* Rings of at least this many slots grow faster (ring_grow). */
#define RING_BIG 65536

static bool
ring_grow(xchan_chan *ch)
{
	uint64_t nslots = ch->slots ? ch->slots * 2 : 8;
	if (ch->slots >= RING_BIG && ch->count < ch->cap) {
		/* A big ring filling up grows 16x at a time, up to the
		 * capacity's power of two: each step copies every value and
		 * faults in fresh pages, and doubling from 64 Ki to 1 Mi slots
		 * touched twice the final ring (seq_bounded).  A large
		 * allocation is mapped lazily, so the reserve costs address
		 * space, not memory, until it is used. */
		uint64_t top = nslots;
		while (top < ch->cap)
			top *= 2;
		nslots = ch->slots * 16 < top ? ch->slots * 16 : top;
	}
	xchan_val *nr = xchan__alloc(nslots * sizeof(xchan_val));
	if (nr == NULL)
		return false;
	for (uint64_t i = 0; i < ch->count; i++)
		nr[i] = ch->ring[(ch->head + i) & (ch->slots - 1)];
	if (!ch->ring_inline)
		xchan__free(ch->ring, ch->slots * sizeof(xchan_val));
	ch->ring_inline = 0;
	ch->ring = nr;
	ch->slots = nslots;
	ch->head = 0;
	return true;
}

static inline bool
ring_push(xchan_chan *ch, xchan_val v)
{
	if (ch->lf) {
		/* A value added: one plain taker is owed a wake (paid by
		 * xchan__chan_lf_unlock). */
		if (!xchan__lfring_push_owned(ch->lf, v))
			return false;
		ch->lf->takew.owed++;
		return true;
	}
	if (XCHAN_UNLIKELY(ch->count == ch->slots) && !ring_grow(ch))
		return false;
	ch->ring[(ch->head + ch->count) & (ch->slots - 1)] = v;
	ch->count++;
	return true;
}

static inline xchan_val
ring_pop(xchan_chan *ch)
{
	if (ch->lf) {
		xchan_val v = xchan_val_nil();
		bool ok = xchan__lfring_pop_owned(ch->lf, &v);
		XCHAN_ASSERT(ok); /* callers checked the count under the lock */
		(void)ok;
		ch->lf->putw.owed++; /* room made: wake one plain putter */
		return v;
	}
	xchan_val v = ch->ring[ch->head];
	ch->head = (ch->head + 1) & (ch->slots - 1);
	ch->count--;
	return v;
}

xchan_val
xchan__buf_add(xchan_chan *ch, xchan_val v, bool *oom)
{
	switch (ch->buf_kind) {
	case XCHAN_BUF_DROPPING:
		if (ch->count >= ch->cap)
			return v;
		break;
	case XCHAN_BUF_SLIDING:
		if (ch->count >= ch->cap) {
			xchan_val old = ring_pop(ch);
			ring_push(ch, v); /* cannot fail: a slot was freed */
			return old;
		}
		break;
	case XCHAN_BUF_PROMISE:
		if (ch->count > 0)
			return v; /* the first value wins for ever */
		break;
	default:
		break;
	}
	if (!ring_push(ch, v))
		*oom = true;
	return xchan_val_nil();
}

static inline bool
buf_full(xchan_chan *ch)
{
	/* Only a fixed buffer (and no buffer) ever makes a put wait. */
	return ch->buf_kind == XCHAN_BUF_NONE ||
	       (ch->buf_kind == XCHAN_BUF_FIXED &&
	           xchan__buf_count(ch) >= ch->cap);
}

/* Takes the front value; a promise keeps it and hands out a copy. */
static inline xchan_val
buf_take(xchan_chan *ch)
{
	if (ch->buf_kind == XCHAN_BUF_PROMISE)
		return xchan_val_retain(ch->ring[ch->head]);
	return ring_pop(ch);
}

void
xchan__chan_feed_takers(xchan_chan *ch, xchan__ctx *cx)
{
	while (ch->takes.n > 0 && xchan__buf_count(ch) > 0) {
		xchan__waiter *w = xchan__chan_pop(ch, false, NULL);
		if (w == NULL)
			break;
		w->sel->result.err = XCHAN_OK;
		w->sel->result.index = w->index;
		w->sel->result.val = buf_take(ch);
		xchan__ctx_complete(cx, w->sel);
	}
}

void
xchan__chan_release_takers(xchan_chan *ch, xchan__ctx *cx)
{
	xchan__waiter *w;
	while ((w = xchan__chan_pop(ch, false, NULL)) != NULL) {
		w->sel->result.err = XCHAN_ECLOSED;
		w->sel->result.index = w->index;
		w->sel->result.val = xchan_val_nil();
		xchan__ctx_complete(cx, w->sel);
	}
}

static void
drop_value(xchan__ctx *cx, xchan_val v)
{
	if (v.kind == XCHAN_NIL)
		return;
	XCHAN_ASSERT(cx->ndrops < 4);
	cx->drops[cx->ndrops++] = v;
}

void
xchan__ctx_finish_waiters(xchan__ctx *cx)
{
	xchan__sel *s = cx->done;
	if (s == NULL)
		return;
	cx->done = NULL;
	cx->tail = &cx->done;
	/* Threads and tasks first: a slow callback must not delay them. */
	xchan__sel *async_head = NULL, **atail = &async_head;
	while (s) {
		xchan__sel *next = s->done_next; /* read before s may die */
		if (s->owner == XCHAN__OWNER_ASYNC) {
			*atail = s;
			atail = &s->done_next;
		} else {
			xchan__sel_finish(s);
		}
		s = next;
	}
	*atail = NULL;
	for (s = async_head; s;) {
		/* Read next first: when the op's registrar is still
		 * registering, it settles and frees the op itself. */
		xchan__sel *next = s->done_next;
		atomic_store_explicit(&s->state, XCHAN__SEL_DONE,
		    memory_order_release);
		xchan__op_completed(s->op, &cx->dl);
		s = next;
	}
}

struct xchan__late {
	xchan_val v;
	uint32_t log_error; /* an unhandled transform error: report it */
	uint32_t pad;
};

static void
log_transform_error(xchan_val error)
{
	const char *text;
	size_t len;
	if (xchan_get_string(error, &text, &len) == XCHAN_OK)
		xchan__log(XCHAN_LOG_ERROR, "transform failed: %.*s", (int)len,
		    text);
	else
		xchan__log(XCHAN_LOG_ERROR,
		    "transform failed (error value of kind %s)",
		    xchan_kind_name(error.kind));
}

static void
defer_value(xchan__ctx *cx, xchan_val v, uint32_t log_error)
{
	if (v.kind == XCHAN_NIL)
		return;
	if (cx->nlate == cx->late_cap) {
		uint32_t ncap = cx->late_cap ? cx->late_cap * 2 : 8;
		struct xchan__late *nl = xchan__alloc(ncap * sizeof(*nl));
		if (nl == NULL) {
			/* No room to defer: release now (a step lock may be
			 * held; better than a leak). */
			if (log_error)
				log_transform_error(v);
			xchan_val_release(v);
			return;
		}
		for (uint32_t i = 0; i < cx->nlate; i++)
			nl[i] = cx->late[i];
		xchan__free(cx->late, cx->late_cap * sizeof(*nl));
		cx->late = nl;
		cx->late_cap = ncap;
	}
	cx->late[cx->nlate++] = (struct xchan__late) {v, log_error, 0};
}

void
xchan__ctx_defer_outs(xchan__ctx *cx, xchan__outs *o)
{
	for (size_t i = 0; i < o->n; i++)
		defer_value(cx, o->v[i], 0);
	o->n = 0;
	defer_value(cx, o->error, 1);
	o->error = xchan_val_nil();
	cx->late_oom += o->oom_dropped;
	o->oom_dropped = 0;
	xchan__outs_free(o); /* storage only */
}

static void
run_user_phase(void *arg)
{
	xchan__ctx *cx = arg;
	xchan__deliver_all(&cx->dl);
	if (cx->ndrops) {
		xchan__vals_release(cx->drops, cx->ndrops);
		cx->ndrops = 0;
	}
	if (cx->late_cap) {
		for (uint32_t i = 0; i < cx->nlate; i++) {
			if (cx->late[i].log_error)
				log_transform_error(cx->late[i].v);
			xchan_val_release(cx->late[i].v);
		}
		xchan__free(cx->late, cx->late_cap * sizeof(*cx->late));
		cx->late = NULL;
		cx->nlate = cx->late_cap = 0;
	}
	if (cx->late_oom) {
		xchan__log(XCHAN_LOG_ERROR,
		    "out of memory: %u transform outputs dropped",
		    cx->late_oom);
		cx->late_oom = 0;
	}
}

void
xchan__ctx_finish(xchan__ctx *cx)
{
	xchan__ctx_finish_waiters(cx);
	if (cx->dl.head != NULL || cx->ndrops || cx->late_cap || cx->late_oom)
		xchan__on_thread_stack(run_user_phase, cx);
	xchan__log_flush(); /* reports made under a step lock (log.h) */
}

/* ---- the locked algorithms (core.async's put/take, §2.2 and §2.3) -------- */

int32_t
xchan__chan_try_put(xchan_chan *ch, xchan_val v, xchan__ctx *cx,
    xchan__sel *self)
{
	if (ch->closed)
		return XCHAN_ECLOSED;
	if (ch->step)
		return buf_full(ch) ? XCHAN_EAGAIN : XCHAN__NEED_STEP;
	if (ch->takes.n > 0) {
		/* Takers wait only on an empty buffer: hand over directly. */
		if (ch->buf_kind == XCHAN_BUF_PROMISE) {
			bool oom = false;
			xchan__buf_add(ch, v, &oom);
			if (oom)
				return XCHAN_ENOMEM;
			xchan__chan_feed_takers(ch, cx);
			return XCHAN_OK;
		}
		xchan__waiter *w = xchan__chan_pop(ch, false, self);
		if (w) {
			w->sel->result.err = XCHAN_OK;
			w->sel->result.index = w->index;
			w->sel->result.val = v;
			xchan__ctx_complete(cx, w->sel);
			return XCHAN_OK;
		}
	}
	if (buf_full(ch))
		return XCHAN_EAGAIN;
	bool oom = false;
	drop_value(cx, xchan__buf_add(ch, v, &oom));
	return oom ? XCHAN_ENOMEM : XCHAN_OK;
}

/* Moves pending puts into the room a take just made (no transform). */
static void
refill_from_puts(xchan_chan *ch, xchan__ctx *cx)
{
	while (ch->puts.n > 0 && xchan__buf_count(ch) < ch->cap) {
		xchan__waiter *w = xchan__chan_pop(ch, true, NULL);
		if (w == NULL)
			break;
		bool oom = false;
		xchan__buf_add(ch, w->val, &oom); /* a slot is free */
		w->sel->result.err = XCHAN_OK;
		w->sel->result.index = w->index;
		w->sel->result.val = xchan_val_nil();
		xchan__ctx_complete(cx, w->sel);
	}
}

int32_t
xchan__chan_try_take(xchan_chan *ch, xchan_val *out, xchan__ctx *cx,
    xchan__sel *self)
{
	if (xchan__buf_count(ch) > 0) {
		*out = buf_take(ch);
		if (ch->puts.n > 0 && ch->buf_kind == XCHAN_BUF_FIXED) {
			if (ch->step)
				cx->need_refill = 1;
			else
				refill_from_puts(ch, cx);
		}
		return XCHAN_OK;
	}
	if (ch->puts.n > 0) {
		if (ch->step)
			return XCHAN__NEED_REFILL;
		xchan__waiter *w = xchan__chan_pop(ch, true, self);
		if (w) {
			*out = w->val;
			w->sel->result.err = XCHAN_OK;
			w->sel->result.index = w->index;
			w->sel->result.val = xchan_val_nil();
			xchan__ctx_complete(cx, w->sel);
			return XCHAN_OK;
		}
	}
	if (ch->closed) {
		if (ch->step && !ch->completed)
			return XCHAN__NEED_COMPLETE;
		return XCHAN_ECLOSED;
	}
	return XCHAN_EAGAIN;
}

/* A deadline that has passed (other than POLL) acts as POLL but reports
 * ETIMEDOUT. */
static inline bool
deadline_passed(xchan_deadline d)
{
	return d != XCHAN_DEADLINE_NEVER && d != XCHAN_DEADLINE_POLL &&
	       d <= xchan_now();
}

/* ---- the lock-free ring (lfring.h): fast paths and ownership ------------- */

/* Without the lock: only while the ring's gates are open (lfring.h): no
 * waiter in the channel's queues, open channel, no lock holder owning the
 * ring.  Returns XCHAN__LF_OK (done), XCHAN__LF_GATED (take the locked
 * path) or XCHAN__LF_FULL: the ring was full (empty) while the gate was
 * open, so a poll may answer EAGAIN at once (at that moment the channel was
 * open and no alts or async op waited on it).  `v`: the value to put, or
 * where a take stores.
 *
 * Before a blocking operation gives up and sleeps as a plain waiter (a
 * futex round trip for both sides), a thread retries like crossbeam's
 * backoff: spinning 1, 2 ... 32 pauses, then yielding the core, which on
 * an oversubscribed machine lets the other side make room.  Go tasks do
 * not (a yield would stall their worker); they park. */
#define LF_BACKOFF_SPIN_STEPS 6
#define LF_BACKOFF_STEPS 10

static inline int
lf_attempt(xchan_chan *ch, bool is_put, xchan_val *v)
{
	return is_put ? xchan__lfring_push(ch->lf, *v)
	              : xchan__lfring_pop(ch->lf, v);
}

static int
lf_op(xchan_chan *ch, bool is_put, xchan_val *v, xchan_deadline deadline)
{
	int res = lf_attempt(ch, is_put, v);
	if (res != XCHAN__LF_FULL || deadline == XCHAN_DEADLINE_POLL ||
	    xchan__task_current() != NULL)
		return res;
	for (unsigned step = 0; step < LF_BACKOFF_STEPS; step++) {
		if (step < LF_BACKOFF_SPIN_STEPS) {
			for (unsigned i = 0; i < (1u << step); i++)
				xchan__cpu_relax();
		} else {
			xchan__thread_yield();
		}
		res = lf_attempt(ch, is_put, v);
		if (res != XCHAN__LF_FULL)
			return res;
	}
	return res;
}

/* A pop made room and a plain putter sleeps: complete the first one by
 * pushing its value for it (core.async moves the oldest waiting put into
 * the room a take makes).  If a newcomer filled the room first, or a lock
 * holder closed the gate, it tries again itself.  The push added a value:
 * a sleeping taker is woken to try (a plain wake, so this never chains). */
static XCHAN_NOINLINE void
lf_serve_putter(xchan__lfring *r)
{
	xchan__waiter *w = xchan__lfwait_claim(&r->putw);
	if (w == NULL)
		return;
	xchan__sel *s = w->sel;
	bool done = xchan__lfring_push(r, w->val) == XCHAN__LF_OK;
	s->result.err = done ? XCHAN_OK : XCHAN__LF_RETRY;
	s->result.index = 0;
	s->result.val = xchan_val_nil();
	xchan__sel_finish(s); /* w may be gone from here on */
	if (done)
		xchan__lfwait_wake_one(&r->takew);
}

/* A push added a value and a plain taker sleeps: hand the first one a
 * value popped for it, or have it try again. */
static XCHAN_NOINLINE void
lf_serve_taker(xchan__lfring *r)
{
	xchan__waiter *w = xchan__lfwait_claim(&r->takew);
	if (w == NULL)
		return;
	xchan__sel *s = w->sel;
	xchan_val v = xchan_val_nil();
	bool done = xchan__lfring_pop(r, &v) == XCHAN__LF_OK;
	s->result.err = done ? XCHAN_OK : XCHAN__LF_RETRY;
	s->result.index = 0;
	s->result.val = v;
	xchan__sel_finish(s);
	if (done)
		xchan__lfwait_wake_one(&r->putw);
}

/* After a lock-free push (pop) succeeded: serve one plain taker (putter).
 * The counterpart's half of lfwait.h's Dekker pair: the push's seq_cst CAS
 * on the index word, then this seq_cst load; one load when nobody waits. */
static inline void
lf_wake_other(xchan__lfring *r, bool is_put)
{
	xchan__lfwaitq *q = is_put ? &r->takew : &r->putw;
	if (XCHAN_LIKELY(atomic_load(&q->n) == 0))
		return;
	if (is_put)
		lf_serve_taker(r);
	else
		lf_serve_putter(r);
}

void
xchan__chan_lf_exclusive(xchan_chan *ch)
{
	xchan__lfring_gate_close(ch->lf);
}

void
xchan__chan_lf_unlock(xchan_chan *ch)
{
	xchan__lfring *r = ch->lf;
	/* The gates were closed by our lock; reopen them only for a channel
	 * that is open with nobody in its queues (the lock-free paths neither
	 * hand over to queued waiters nor check for close).  Plain waiters do
	 * not keep them closed. */
	if (!ch->closed && ch->takes.n == 0 && ch->puts.n == 0)
		xchan__lfring_gate_open(r);
	uint32_t add_wakes = r->takew.owed, room_wakes = r->putw.owed;
	r->takew.owed = r->putw.owed = 0;
	xchan__lock_release(&ch->lock);
	/* One wake per value added / slot freed, as the lock-free paths do;
	 * the loads of `n` come after the seq_cst index moves of the owned
	 * operations, so the Dekker argument holds for them too. */
	while (add_wakes > 0 && xchan__lfwait_wake_one(&r->takew))
		add_wakes--;
	while (room_wakes > 0 && xchan__lfwait_wake_one(&r->putw))
		room_wakes--;
}

/* One locked attempt on a channel with a lock-free ring (its gate was
 * closed: a lock holder, a queued alts or async op, or close).  Returns
 * XCHAN_OK, XCHAN_ECLOSED or XCHAN_EAGAIN; a take's value in *v. */
static int32_t
lf_locked_try(xchan_chan *ch, bool is_put, xchan_val *v)
{
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__chan_lock(ch);
	int32_t err = is_put ? xchan__chan_try_put(ch, *v, &cx, NULL)
	                     : xchan__chan_try_take(ch, v, &cx, NULL);
	xchan__chan_unlock(ch);
	xchan__ctx_finish(&cx);
	return err;
}

/* The owner takes its plain waiter back (a wait that ended unclaimed). */
static void
lf_withdraw(xchan__lfwaitq *q, xchan__waiter *w)
{
	if (!xchan__lfwait_remove(q, w))
		xchan__chan_withdraw(w); /* close moved it to `puts` */
}

/* put / take / offer / poll on a channel with a lock-free ring, in
 * crossbeam's manner: try lock-free (with backoff); when the gate is
 * closed, try once under the lock; when the ring is full (empty), sleep as
 * a plain waiter, which leaves the gates open, and try again when woken.
 * A woken operation competes with newcomers (lfwait.h): the buffer stays
 * FIFO and each producer's values keep their order, but blocked puts
 * (takes) are not served strictly in arrival order (docs/core-design.md).
 * `v`: the value to put (the caller's again unless XCHAN_OK), or where a
 * take stores its value (nil on failure). */
static XCHAN_NOINLINE int32_t
lf_run(xchan_chan *ch, bool is_put, xchan_val *v, xchan_deadline deadline,
    const xchan_wait_opts *opts)
{
	xchan__lfring *r = ch->lf;
	xchan__lfwaitq *q = is_put ? &r->putw : &r->takew;
	xchan_val put_v = is_put ? *v : xchan_val_nil();
	for (;;) {
		int res = lf_op(ch, is_put, v, deadline);
		if (res == XCHAN__LF_OK) {
			lf_wake_other(r, is_put);
			return XCHAN_OK;
		}
		if (res == XCHAN__LF_GATED) {
			int32_t err = lf_locked_try(ch, is_put, v);
			if (err != XCHAN_EAGAIN)
				return err;
		}
		if (!is_put)
			*v = xchan_val_nil();
		if (deadline == XCHAN_DEADLINE_POLL)
			return XCHAN_EAGAIN;
		if (deadline_passed(deadline))
			return XCHAN_ETIMEDOUT;
		xchan__sel s;
		xchan__sel_init(&s);
		xchan__waiter w = {.sel = &s,
		    .chan = ch,
		    .val = put_v,
		    .index = 0,
		    .is_put = is_put};
		int add = xchan__lfwait_add(q, &w, ch->max_pending);
		if (add == XCHAN__LFW_LIMIT)
			return XCHAN_ELIMIT;
		if (add == XCHAN__LFW_CLOSED) {
			/* Closed since our attempt: the locked path answers
			 * (drains, or ECLOSED). */
			int32_t err = lf_locked_try(ch, is_put, v);
			if (err != XCHAN_EAGAIN)
				return err;
			continue; /* not reached: a closed channel answers */
		}
		/* A waiter keeps the channel alive (another thread may drop
		 * the caller's last reference while we sleep). */
		xchan_chan_retain(ch);
		/* Room (a value) appeared before our listing was seen: take
		 * ourselves back and try again, unless a wake or the close got
		 * to us first (then wait for it as usual). */
		if (xchan__lfring_probe(r, is_put) &&
		    xchan__lfwait_cancel(q, &w)) {
			xchan_chan_release(ch);
			continue;
		}
		xchan__sel_apply_opts(&s, opts);
		int32_t err = xchan__sel_wait(&s, deadline);
		if (err != XCHAN_OK) {
			/* Deadline, cancel or signal won: nothing moved and no
			 * wake was spent on us. */
			lf_withdraw(q, &w);
			xchan_chan_release(ch);
			return err;
		}
		xchan_chan_release(ch);
		if (s.result.err == XCHAN__LF_RETRY)
			continue;
		/* Served from the channel's queue of waiting puts after a
		 * close moved us there (core.async: it survives the close). */
		if (is_put)
			xchan_val_release(s.result.val);
		else
			*v = s.result.val;
		return s.result.err;
	}
}

/* After this many contended acquisitions a fixed buffer moves to the
 * lock-free ring: uncontended, the locked ring is cheaper (two atomics per
 * operation instead of three); contended, the ring is ~4x faster. */
#define LF_UPGRADE_AFTER 64

/* Under the lock, no lock-free ring yet: move the values into one.  A new
 * ring's gates are closed, so fast paths stay off until the unlock opens
 * them. */
static void
lf_upgrade(xchan_chan *ch)
{
	xchan__lfring *r = xchan__lfring_new(ch->cap);
	if (r == NULL) {
		ch->lf_eligible = 0; /* stay locked; do not retry every time */
		return;
	}
	while (ch->count > 0)
		xchan__lfring_push_owned(r, ring_pop(ch));
	if (!ch->ring_inline)
		xchan__free(ch->ring, ch->slots * sizeof(xchan_val));
	ch->ring = NULL;
	ch->slots = 0;
	ch->head = 0;
	ch->ring_inline = 0;
	atomic_store_explicit(&ch->lf, r, memory_order_seq_cst);
}

bool
xchan__chan_lf_force(xchan_chan *ch)
{
	xchan__chan_lock(ch);
	if (ch->lf_eligible && ch->lf == NULL)
		lf_upgrade(ch);
	bool lf = ch->lf != NULL;
	xchan__chan_unlock(ch);
	return lf;
}

/* The lock for put and take, counting contention on eligible buffers. */
static inline void
chan_lock_counting(xchan_chan *ch)
{
	if (XCHAN_UNLIKELY(!xchan__lock_try(&ch->lock))) {
		xchan__lock_slow(&ch->lock);
		if (ch->lf_eligible && ch->lf == NULL &&
		    ++ch->contended >= LF_UPGRADE_AFTER)
			lf_upgrade(ch);
	}
	if (ch->lf)
		xchan__chan_lf_exclusive(ch);
}

/* ---- public operations ----------------------------------------------------- */

static inline int32_t
check_put_args(xchan_chan *ch, xchan_val v)
{
	if (ch == NULL || !xchan__val_kind_valid(v))
		return XCHAN_EINVAL;
	if (v.kind == XCHAN_NIL)
		return XCHAN_ENIL;
	if (xchan__forked())
		return XCHAN_EFORK;
	return XCHAN_OK;
}

/* Validates wait options: NULL, or a struct of at least the first
 * version's size with known flags.  XCHAN_ECANCELED if its token fired. */
int32_t
xchan__wait_opts_check(const xchan_wait_opts *opts)
{
	if (opts == NULL)
		return XCHAN_OK;
	if (opts->size < XCHAN__WAIT_OPTS_V1_SIZE ||
	    (opts->flags & ~(uint32_t)XCHAN_WAIT_EINTR) != 0)
		return XCHAN_EINVAL;
	if (opts->cancel != NULL && xchan_cancel_fired(opts->cancel) == 1)
		return XCHAN_ECANCELED;
	return XCHAN_OK;
}

void
xchan__sel_apply_opts(xchan__sel *s, const xchan_wait_opts *opts)
{
	if (opts == NULL)
		return;
	s->token = opts->cancel;
	s->wait_flags = opts->flags;
}

static int32_t
put_impl(xchan_chan *ch, xchan_val v, xchan_deadline deadline,
    const xchan_wait_opts *opts)
{
	int32_t err = check_put_args(ch, v);
	if (err != XCHAN_OK)
		return err;
	xchan__lfring *r = ch->lf;
	if (r != NULL) {
		/* The fast path inline: one push, one load of the takers'
		 * count; everything else in lf_run. */
		if (XCHAN_LIKELY(xchan__lfring_push(r, v) == XCHAN__LF_OK)) {
			lf_wake_other(r, true);
			return XCHAN_OK;
		}
		return lf_run(ch, true, &v, deadline, opts);
	}
	bool xf = ch->step != NULL;
	if (xf) {
		/* Non-blocking calls never wait for another thread's step. */
		if (deadline == XCHAN_DEADLINE_POLL) {
			if (!xchan__step_try_acquire(ch))
				return XCHAN_EAGAIN;
		} else {
			xchan__step_acquire(ch);
		}
	}
	chan_lock_counting(ch);
	if (XCHAN_UNLIKELY(ch->lf)) {
		/* It has just moved to the lock-free ring. */
		xchan__chan_unlock(ch);
		return lf_run(ch, true, &v, deadline, opts);
	}
	/* Fast paths: nobody waiting and room in the ring, or a full dropping /
	 * sliding buffer (the policy drops a value; released after unlock). */
	if (XCHAN_LIKELY(!xf && !ch->closed && ch->takes.n == 0)) {
		if (XCHAN_LIKELY(ch->buf_kind == XCHAN_BUF_FIXED && !ch->lf &&
		                 ch->count < ch->cap &&
		                 ch->count < ch->slots)) {
			ch->ring[(ch->head + ch->count) & (ch->slots - 1)] = v;
			ch->count++;
			xchan__chan_unlock(ch);
			return XCHAN_OK;
		}
		if (ch->count >= ch->cap &&
		    (ch->buf_kind == XCHAN_BUF_DROPPING ||
		        ch->buf_kind == XCHAN_BUF_SLIDING)) {
			xchan_val dropped = v;
			if (ch->buf_kind == XCHAN_BUF_SLIDING) {
				dropped = ring_pop(ch);
				ch->ring[(ch->head + ch->count) &
				         (ch->slots - 1)] = v;
				ch->count++;
			}
			xchan__chan_unlock(ch);
			if (XCHAN_UNLIKELY(xchan__val_is_ref(dropped)))
				xchan_val_release(dropped);
			return XCHAN_OK;
		}
	}
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	err = xchan__chan_try_put(ch, v, &cx, NULL);
	if (err == XCHAN__NEED_STEP) {
		xchan__xform_put_step(ch, v, &cx); /* drops both locks */
		xchan__ctx_finish(&cx);
		return XCHAN_OK;
	}
	if (err != XCHAN_EAGAIN || deadline == XCHAN_DEADLINE_POLL ||
	    deadline_passed(deadline)) {
		xchan__chan_unlock(ch);
		if (xf)
			xchan__step_release(ch, &cx);
		xchan__ctx_finish(&cx);
		if (err == XCHAN_EAGAIN && deadline != XCHAN_DEADLINE_POLL)
			err = XCHAN_ETIMEDOUT;
		return err;
	}
	if (!xchan__chan_may_queue(ch, true)) {
		xchan__chan_unlock(ch);
		if (xf)
			xchan__step_release(ch, &cx);
		xchan__ctx_finish(&cx);
		return XCHAN_ELIMIT;
	}
	xchan__sel s;
	xchan__sel_init(&s);
	xchan__sel_apply_opts(&s, opts);
	xchan__waiter w = {.sel = &s,
	    .chan = ch,
	    .val = v,
	    .index = 0,
	    .is_put = 1};
	/* A waiter keeps the channel alive: another thread may release the
	 * caller's last reference while we wait (and a dead waiter may be
	 * purged from the queue by others before we withdraw it). */
	xchan_chan_retain(ch);
	xchan__chan_enqueue(ch, &w);
	xchan__chan_unlock(ch);
	if (xf)
		xchan__step_release(ch, &cx);
	xchan__ctx_finish(&cx);
	err = xchan__sel_wait(&s, deadline);
	if (err != XCHAN_OK) {
		/* Timed out, canceled or interrupted: nothing transferred,
		 * v is the caller's. */
		xchan__chan_withdraw(&w);
		xchan_chan_release(ch);
		return err;
	}
	xchan_chan_release(ch);
	/* A transform that stopped the channel discards queued values. */
	xchan_val_release(s.result.val);
	return s.result.err;
}

int32_t
xchan_put(xchan_chan *ch, xchan_val v, xchan_deadline deadline)
{
	XCHAN__DBG_CHAN(ch);
	XCHAN__DBG_VAL(v);
	return put_impl(ch, v, deadline, NULL);
}

int32_t
xchan_put_ex(xchan_chan *ch, xchan_val v, xchan_deadline deadline,
    const xchan_wait_opts *opts)
{
	XCHAN__DBG_CHAN(ch);
	XCHAN__DBG_VAL(v);
	int32_t err = xchan__wait_opts_check(opts);
	if (err != XCHAN_OK)
		return err;
	return put_impl(ch, v, deadline, opts);
}

int32_t
xchan_offer(xchan_chan *ch, xchan_val v)
{
	XCHAN__DBG_CHAN(ch);
	XCHAN__DBG_VAL(v);
	return xchan_put(ch, v, XCHAN_DEADLINE_POLL);
}

/* Take with the transform detours, entered with the lock held; returns
 * with the lock dropped unless it returns XCHAN_EAGAIN (then it is held).
 * `nonblock` (poll): never waits for the step lock; the work a step must do
 * is handed to its holder (xchan__xform_kick) and the answer is EAGAIN if
 * it was not done at once. */
static int32_t
take_locked(xchan_chan *ch, xchan_val *out, xchan__ctx *cx, xchan__sel *self,
    bool nonblock)
{
	bool kicked = false;
	for (;;) {
		int32_t err = xchan__chan_try_take(ch, out, cx, self);
		if (err == XCHAN_EAGAIN)
			return err;
		if (nonblock && (err == XCHAN__NEED_REFILL ||
		                    err == XCHAN__NEED_COMPLETE)) {
			if (kicked)
				return XCHAN_EAGAIN; /* lock held */
			kicked = true;
			xchan__chan_unlock(ch);
			xchan__xform_kick(ch);
			xchan__chan_lock(ch);
			continue;
		}
		xchan__chan_unlock(ch);
		if (err == XCHAN__NEED_REFILL)
			xchan__xform_refill(ch);
		else if (err == XCHAN__NEED_COMPLETE)
			xchan__xform_complete(ch);
		else
			return err;
		xchan__chan_lock(ch);
	}
}

static int32_t
take_impl(xchan_val *out, xchan_chan *ch, xchan_deadline deadline,
    const xchan_wait_opts *opts)
{
	if (out == NULL || ch == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked()) {
		*out = xchan_val_nil();
		return XCHAN_EFORK;
	}
	xchan__lfring *r = ch->lf;
	if (r != NULL) {
		if (XCHAN_LIKELY(xchan__lfring_pop(r, out) == XCHAN__LF_OK)) {
			lf_wake_other(r, false);
			return XCHAN_OK;
		}
		return lf_run(ch, false, out, deadline, opts);
	}
	chan_lock_counting(ch);
	if (XCHAN_UNLIKELY(ch->lf)) {
		xchan__chan_unlock(ch);
		return lf_run(ch, false, out, deadline, opts);
	}
	/* Fast path: a buffered value and no put waiting to refill. */
	if (XCHAN_LIKELY(ch->buf_kind == XCHAN_BUF_FIXED && !ch->lf &&
	                 ch->count > 0 && ch->puts.n == 0)) {
		*out = ring_pop(ch);
		xchan__chan_unlock(ch);
		return XCHAN_OK;
	}
	*out = xchan_val_nil();
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	bool nonblock = deadline == XCHAN_DEADLINE_POLL;
	int32_t err = take_locked(ch, out, &cx, NULL, nonblock);
	if (err != XCHAN_EAGAIN) {
		xchan__ctx_finish(&cx);
		if (cx.need_refill) {
			if (nonblock)
				xchan__xform_kick(ch);
			else
				xchan__xform_refill(ch);
		}
		return err;
	}
	if (deadline == XCHAN_DEADLINE_POLL || deadline_passed(deadline)) {
		xchan__chan_unlock(ch);
		return deadline == XCHAN_DEADLINE_POLL ? XCHAN_EAGAIN
		                                       : XCHAN_ETIMEDOUT;
	}
	if (!xchan__chan_may_queue(ch, false)) {
		xchan__chan_unlock(ch);
		return XCHAN_ELIMIT;
	}
	xchan__sel s;
	xchan__sel_init(&s);
	xchan__sel_apply_opts(&s, opts);
	xchan__waiter w = {.sel = &s, .chan = ch, .index = 0, .is_put = 0};
	xchan_chan_retain(ch); /* a waiter keeps the channel alive */
	xchan__chan_enqueue(ch, &w);
	xchan__chan_unlock(ch);
	err = xchan__sel_wait(&s, deadline);
	if (err != XCHAN_OK) {
		xchan__chan_withdraw(&w);
		xchan_chan_release(ch);
		return err;
	}
	xchan_chan_release(ch);
	*out = s.result.val;
	return s.result.err;
}

int32_t
xchan_take(xchan_val *out, xchan_chan *ch, xchan_deadline deadline)
{
	XCHAN__DBG_CHAN(ch);
	return take_impl(out, ch, deadline, NULL);
}

int32_t
xchan_take_ex(xchan_val *out, xchan_chan *ch, xchan_deadline deadline,
    const xchan_wait_opts *opts)
{
	XCHAN__DBG_CHAN(ch);
	if (out != NULL)
		*out = xchan_val_nil();
	int32_t err = xchan__wait_opts_check(opts);
	if (err != XCHAN_OK)
		return err;
	return take_impl(out, ch, deadline, opts);
}

int32_t
xchan_poll(xchan_val *out, xchan_chan *ch)
{
	XCHAN__DBG_CHAN(ch);
	return xchan_take(out, ch, XCHAN_DEADLINE_POLL);
}

/* Close, under the lock, of a channel with a lock-free ring: its plain
 * putters become waiting puts that survive the close (core.async), its
 * plain takers are woken to try again (they drain the buffer on the locked
 * path, then get ECLOSED). */
static void
lf_close_waiters(xchan_chan *ch, xchan__ctx *cx)
{
	xchan__lfring *r = ch->lf;
	for (xchan__waiter *w = xchan__lfwait_close(&r->putw), *next; w;
	     w = next) {
		next = w->next;
		xchan__chan_enqueue(ch, w);
	}
	for (xchan__waiter *w = xchan__lfwait_close(&r->takew), *next; w;
	     w = next) {
		next = w->next;
		if (!xchan__sel_claim(w->sel))
			continue; /* its deadline or cancel won */
		w->sel->result.err = XCHAN__LF_RETRY;
		w->sel->result.index = 0;
		w->sel->result.val = xchan_val_nil();
		xchan__ctx_complete(cx, w->sel);
	}
}

int32_t
xchan_chan_close(xchan_chan *ch)
{
	XCHAN__DBG_CHAN(ch);
	if (ch == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	if (ch->step) {
		xchan__xform_close(ch);
		return XCHAN_OK;
	}
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__chan_lock(ch);
	if (!ch->closed) {
		ch->closed = 1;
		xchan__chan_release_takers(ch, &cx);
		if (ch->lf)
			lf_close_waiters(ch, &cx);
	}
	xchan__chan_unlock(ch);
	xchan__ctx_finish(&cx);
	return XCHAN_OK;
}

/* ---- lifecycle --------------------------------------------------------------- */

int32_t
xchan__chan_alloc(xchan_chan **out, const xchan_chan_opts *opts, size_t extra)
{
	/* The options are read through a copy, so a struct from an older
	 * header (smaller `size`) reads with its new fields at zero.  The
	 * xform is taken over whenever the struct reaches its field, even if
	 * it is too small to accept. */
	xchan_chan_opts o = {.size = sizeof(o)};
	xchan_xform *xf = NULL;
	if (opts != NULL && opts->size >= XCHAN__END_OF(xchan_chan_opts, xform))
		xf = opts->xform;
	int32_t err = XCHAN_EINVAL;
	if (out == NULL)
		goto fail;
	*out = NULL;
	if (opts != NULL &&
	    !xchan__struct_in(&o, sizeof(o), opts, XCHAN__CHAN_OPTS_V1_SIZE))
		goto fail;
	opts = &o;
	if (xchan__forked()) {
		err = XCHAN_EFORK;
		goto fail;
	}
	if (opts->buf_kind > XCHAN_BUF_PROMISE)
		goto fail;
	bool sized = opts->buf_kind == XCHAN_BUF_FIXED ||
	             opts->buf_kind == XCHAN_BUF_DROPPING ||
	             opts->buf_kind == XCHAN_BUF_SLIDING;
	if (sized ? opts->capacity == 0 : opts->capacity != 0)
		goto fail;
	if (sized && opts->capacity > (UINT64_MAX >> 8))
		goto fail;
	if (xf && opts->buf_kind == XCHAN_BUF_NONE)
		goto fail; /* core.async: an xform needs a buffer */
	err = XCHAN_ENOMEM;
	uint64_t cap = opts->buf_kind == XCHAN_BUF_PROMISE ? 1 : opts->capacity;
	/* Start small; a huge capacity costs memory only when used.  A small
	 * ring lives in the channel's own allocation (one malloc for a promise
	 * or a go task's result channel). */
	uint64_t slots = 0;
	if (cap > 0) {
		/* 1 or 2 inline slots: exactly the capacity (a go task's
		 * result channel and a promise take one, 16 bytes). */
		slots = cap <= CHAN_INLINE_SLOTS ? cap : 8;
		while (slots < cap && slots < 1024)
			slots *= 2;
	}
	/* A fixed buffer of 4..65536 slots without a transform may move to
	 * the lock-free ring once contended (smaller ones are result channels
	 * and promises, never contended enough to matter). */
	bool lf_eligible = opts->buf_kind == XCHAN_BUF_FIXED && xf == NULL &&
	                   cap >= 4 && cap <= XCHAN__LFRING_MAX_CAP;
	bool inline_ring = slots > 0 && slots <= CHAN_INLINE_SLOTS;
	size_t inline_bytes = inline_ring ? slots * sizeof(xchan_val) : 0;
	size_t step_bytes = xf ? sizeof(xchan__chan_step) : 0;
	xchan_chan *ch =
	    xchan__zalloc(sizeof(*ch) + extra + inline_bytes + step_bytes);
	if (ch == NULL)
		goto fail;
	if (xf) {
		ch->step = (xchan__chan_step *)((char *)ch + sizeof(*ch) +
		                                extra + inline_bytes);
		ch->step->xf = xf;
		ch->step->on_error = opts->on_error;
		ch->step->on_error_user = opts->on_error_user;
	}
	ch->buf_kind = opts->buf_kind;
	ch->cap = cap;
	if (inline_ring) {
		ch->ring = (xchan_val *)((char *)ch + sizeof(*ch) + extra);
		ch->ring_inline = 1;
		ch->ring_allocated_inline = (uint8_t)slots;
	} else if (slots > 0) {
		ch->ring = xchan__alloc(slots * sizeof(xchan_val));
		if (ch->ring == NULL) {
			xchan__free(ch, sizeof(*ch) + extra + step_bytes);
			goto fail;
		}
	}
	ch->slots = slots;
	ch->lf_eligible = lf_eligible;
	ch->max_pending =
	    opts->max_pending ? opts->max_pending : XCHAN_DEFAULT_MAX_PENDING;
	atomic_init(&ch->refs, 1);
	ch->id =
	    atomic_fetch_add_explicit(&g_chan_ids, 1, memory_order_relaxed) + 1;
	*out = ch;
	return XCHAN_OK;
fail:
	if (xf)
		xchan_xform_free(xf); /* taken over even on error */
	return err;
}

int32_t
xchan_chan_new(xchan_chan **out, const xchan_chan_opts *opts)
{
	return xchan__chan_alloc(out, opts, 0);
}

int32_t
xchan_chan_make(xchan_chan **out, uint32_t buf_kind, uint64_t capacity)
{
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = buf_kind,
	    .capacity = capacity};
	return xchan__chan_alloc(out, &o, 0);
}

xchan_chan *
xchan_chan_retain(xchan_chan *ch)
{
	XCHAN__DBG_CHAN(ch);
	if (ch)
		atomic_fetch_add_explicit(&ch->refs, 1, memory_order_relaxed);
	return ch;
}

bool
xchan__chan_try_retain(xchan_chan *ch)
{
	uint32_t r = atomic_load_explicit(&ch->refs, memory_order_relaxed);
	while (r > 0) {
		if (atomic_compare_exchange_weak_explicit(&ch->refs, &r, r + 1,
		        memory_order_acquire, memory_order_relaxed))
			return true;
	}
	return false;
}

void
xchan_chan_release(xchan_chan *ch)
{
	if (ch == NULL)
		return;
	XCHAN__DBG_CHAN(ch);
	if (atomic_fetch_sub_explicit(&ch->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* After fork the channel's locks may be held by threads that do not
	 * exist here: leak it rather than touch them. */
	if (xchan__forked())
		return;
	/* Last reference: nobody can operate on it any more (waiters hold
	 * references while they wait).  A pending timeout must not fire into
	 * freed memory. */
	size_t extra = 0;
	if (ch->timed) {
		xchan__timer_cancel(xchan__chan_timer(ch));
		extra = sizeof(xchan__timer);
	}
	XCHAN_ASSERT(ch->puts.n == 0 && ch->takes.n == 0);
	XCHAN_ASSERT(ch->lf == NULL || (atomic_load(&ch->lf->putw.n) == 0 &&
	                                   atomic_load(&ch->lf->takew.n) == 0));
	xchan__lfring_free(ch->lf); /* releases what it holds */
	for (uint64_t i = 0; i < ch->count; i++)
		xchan_val_release(ch->ring[(ch->head + i) & (ch->slots - 1)]);
	if (!ch->ring_inline)
		xchan__free(ch->ring, ch->slots * sizeof(xchan_val));
	if (ch->step)
		xchan_xform_free(ch->step->xf);
	/* The allocation: the channel, its timer entry, the inline ring area
	 * (kept even after the ring grew out of it), then the step state. */
	if (ch->ring_allocated_inline)
		extra += ch->ring_allocated_inline * sizeof(xchan_val);
	if (ch->step)
		extra += sizeof(xchan__chan_step);
	xchan__retire(ch, sizeof(*ch) + extra, offsetof(xchan_chan, refs));
}

int32_t
xchan_chan_info_get(xchan_chan_info *out, xchan_chan *ch)
{
	XCHAN__DBG_CHAN(ch);
	if (out == NULL || ch == NULL || out->size < XCHAN__CHAN_INFO_V1_SIZE)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	/* Filled in a full-size copy; only the caller's `size` bytes are
	 * written back (an older caller's struct is smaller). */
	xchan_chan_info i = {.size = out->size};
	xchan__chan_lock(ch);
	i.buf_kind = ch->buf_kind;
	i.capacity = ch->buf_kind == XCHAN_BUF_PROMISE ? 0 : ch->cap;
	i.count = xchan__buf_count(ch);
	i.closed = ch->closed;
	i.pending_puts = ch->puts.n;
	i.pending_takes = ch->takes.n;
	if (ch->lf) {
		/* Plain waiters of the lock-free ring are waiting too. */
		i.pending_puts += xchan__lfwait_count(&ch->lf->putw);
		i.pending_takes += xchan__lfwait_count(&ch->lf->takew);
	}
	i.max_pending = ch->max_pending;
	i.id = ch->id;
	xchan__chan_unlock(ch);
	memcpy(out, &i, out->size < sizeof(i) ? out->size : sizeof(i));
	return XCHAN_OK;
}
