/*
 * chan_xform.c — the paths of a channel with a transform.
 *
 * Design notes
 * ------------
 * Locks: step_lock, then lock (chan.h).  Every function here that runs a
 * step or the error handler holds step_lock and NOT lock while it does:
 * transforms may be host code (a Python function, a JS callback), and host
 * code must never run under a channel lock.  step_lock serializes the steps,
 * so a transform's state needs no lock of its own, and values enter the
 * buffer in the order their steps ran.
 *
 * Why the decisions cannot go stale while lock is dropped around a step:
 * only step_lock holders add to the buffer of a transform channel or close
 * it, so "not closed, not full" seen under lock stays true until the
 * outputs are added (takers can only make more room).
 *
 * Completion (flush) runs once: at close if no puts are pending, else when
 * the refill that pulls the last pending put in finds the channel closed
 * (or a take finds it closed and drained: NEED_COMPLETE); `completed` is
 * set only after the flushed values are in the buffer, so a taker can never
 * see "closed, empty, completed" while a flush is still on its way.
 */
#include "chan.h"
#include "log.h"
#include "task.h"
#include "val.h"

/* ---- user code off go stacks ----------------------------------------------
 * A step, a completion and an error handler are user code (possibly a host
 * runtime's function): from a go task they run on the worker thread's own
 * stack (xchan__on_thread_stack), never on the task's small stack. */

typedef struct user_call {
	xchan_chan *ch;
	xchan_val in;
	xchan__outs *o;
	int32_t r;
	int what; /* 0 step, 1 finish, 2 error handler */
	xchan_error_handler h;
	xchan_val hr;
} user_call;

static void
run_user_call(void *arg)
{
	user_call *c = arg;
	switch (c->what) {
	case 0:
		c->r = xchan__xform_step(c->ch->step->xf, c->in, c->o);
		break;
	case 1:
		c->r = xchan__xform_finish(c->ch->step->xf, c->o);
		break;
	default:
		c->hr = c->h(c->ch->step->on_error_user, c->in);
		break;
	}
}

static void
user_call_run(user_call *c)
{
	if (xchan__task_current() == NULL)
		run_user_call(c);
	else
		xchan__on_thread_stack(run_user_call, c);
}

static int32_t
call_step(xchan_chan *ch, xchan_val v, xchan__outs *o)
{
	user_call c = {.ch = ch, .in = v, .o = o, .what = 0};
	user_call_run(&c);
	return c.r;
}

static int32_t
call_finish(xchan_chan *ch, xchan__outs *o)
{
	user_call c = {.ch = ch, .o = o, .what = 1};
	user_call_run(&c);
	return c.r;
}

/* After a failed step: the error handler's non-nil result joins the outputs
 * (it bypasses the transform, as in core.async). */
static void
handle_failure(xchan_chan *ch, xchan__outs *o)
{
	o->failed = 0;
	if (ch->step->on_error == NULL) {
		/* The default handler only reports: the error stays in `o`
		 * and is logged with no lock held (xchan__ctx_defer_outs). */
		return;
	}
	xchan_val err = o->error;
	o->error = xchan_val_nil();
	user_call c = {.ch = ch, .in = err, .what = 2, .h = ch->step->on_error};
	user_call_run(&c);
	xchan_val r = c.hr;
	if (r.kind != XCHAN_NIL)
		xchan__outs_push(o, r);
}

/* Under lock: moves the outputs into the buffer by its policy; what the
 * policy drops stays in `o` to be released after the unlock. */
static void
add_outputs(xchan_chan *ch, xchan__outs *o, xchan__ctx *cx)
{
	for (size_t i = 0; i < o->n; i++) {
		bool oom = false;
		xchan_val d = xchan__buf_add(ch, o->v[i], &oom);
		if (!oom)
			o->v[i] = d;
		/* on oom the value stays in o and is released (and
		 * reported) by xchan__outs_free after the unlock */
		else
			o->oom_dropped++;
	}
	xchan__chan_feed_takers(ch, cx);
}

/* Runs the step (step_lock held, lock not held), then takes lock and adds
 * the outputs.  Returns with lock held; true if the step stopped. */
static bool
feed(xchan_chan *ch, xchan_val v, xchan__outs *o, xchan__ctx *cx)
{
	int32_t r = call_step(ch, v, o);
	if (r == XCHAN_STEP_FAILED)
		handle_failure(ch, o);
	xchan__chan_lock(ch);
	add_outputs(ch, o, cx);
	return r == XCHAN_STEP_REDUCED;
}

/* Under lock: the transform stopped (core.async abort): close, and complete
 * every pending putter with OK; their values are discarded by their owners
 * (result.val). */
static void
abort_locked(xchan_chan *ch, xchan__ctx *cx)
{
	ch->closed = 1;
	xchan__waiter *w;
	while ((w = xchan__chan_pop(ch, true, NULL)) != NULL) {
		w->sel->result.err = XCHAN_OK;
		w->sel->result.index = w->index;
		w->sel->result.val = w->val;
		xchan__ctx_complete(cx, w->sel);
	}
}

/* The closed channel's tail: flush once if no puts are pending, then serve
 * and release the takers.  step_lock held, lock not held. */
static void
close_tail(xchan_chan *ch, xchan__ctx *cx)
{
	/* Settle what was claimed so far before the completion (user code)
	 * runs: it may cancel or collect those ops. */
	xchan__ctx_finish_waiters(cx);
	xchan__outs o;
	xchan__outs_init(&o);
	xchan__chan_lock(ch);
	if (!ch->completed && ch->puts.n == 0) {
		xchan__chan_unlock(ch);
		int32_t r = call_finish(ch, &o);
		if (r == XCHAN_STEP_FAILED)
			handle_failure(ch, &o);
		xchan__chan_lock(ch);
		add_outputs(ch, &o, cx);
		ch->completed = 1;
	}
	xchan__chan_feed_takers(ch, cx);
	if (ch->puts.n == 0)
		xchan__chan_release_takers(ch, cx);
	xchan__chan_unlock(ch);
	xchan__ctx_defer_outs(cx, &o); /* released after the step lock */
}

void
xchan__xform_put_step(xchan_chan *ch, xchan_val v, xchan__ctx *cx)
{
	xchan__chan_unlock(ch);
	xchan__outs o;
	xchan__outs_init(&o);
	bool stopped = feed(ch, v, &o, cx);
	if (stopped)
		abort_locked(ch, cx);
	xchan__chan_unlock(ch);
	if (stopped)
		close_tail(ch, cx);
	xchan__step_release(ch, cx);
	xchan__ctx_defer_outs(cx, &o);
}

/* Pulls pending puts through the step while there is room.  step_lock
 * held, lock not held. */
static void
refill_locked(xchan_chan *ch, xchan__ctx *cx)
{
	xchan__outs o;
	xchan__outs_init(&o);
	bool stopped = false;
	xchan__chan_lock(ch);
	while (ch->puts.n > 0 && (ch->buf_kind != XCHAN_BUF_FIXED ||
	                             xchan__buf_count(ch) < ch->cap)) {
		xchan__waiter *w = xchan__chan_pop(ch, true, NULL);
		if (w == NULL)
			break;
		xchan_val v = w->val;
		w->sel->result.err = XCHAN_OK;
		w->sel->result.index = w->index;
		w->sel->result.val = xchan_val_nil();
		xchan__ctx_complete(cx, w->sel);
		xchan__chan_unlock(ch);
		/* The putter need not wait for the step; an async putter's
		 * callback waits for the step lock's release (user code
		 * never runs under it). */
		xchan__ctx_finish_waiters(cx);
		xchan__ctx_defer_outs(cx,
		    &o); /* released after the step lock */
		stopped = feed(ch, v, &o, cx);
		if (stopped) {
			abort_locked(ch, cx);
			break;
		}
	}
	xchan__chan_unlock(ch);
	if (stopped)
		close_tail(ch, cx);
	xchan__ctx_defer_outs(cx, &o); /* released after the step lock */
}

/* Pulls pending puts in; a closed channel whose pending puts have now
 * drained completes at once (close_tail flushes only then), as after a
 * kick.  Until 2026-11-29 a blocking take left that completion to the next
 * take that found the channel empty (tests/fuzz found it). */
void
xchan__xform_refill(xchan_chan *ch)
{
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__step_acquire(ch);
	refill_locked(ch, &cx);
	xchan__chan_lock(ch);
	bool tail = ch->closed && !ch->completed && ch->puts.n == 0;
	xchan__chan_unlock(ch);
	if (tail)
		close_tail(ch, &cx);
	xchan__step_release(ch, &cx);
	xchan__ctx_finish(&cx);
}

void
xchan__xform_kick(xchan_chan *ch)
{
	atomic_store_explicit(&ch->step->owed, 1, memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
	if (!xchan__step_try_acquire(ch))
		return; /* the holder sees `owed` when it releases */
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__step_release(ch, &cx); /* does the owed work */
	xchan__ctx_finish(&cx);
}

void
xchan__xform_complete(xchan_chan *ch)
{
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__step_acquire(ch);
	close_tail(ch, &cx);
	xchan__step_release(ch, &cx);
	xchan__ctx_finish(&cx);
}

static _Thread_local char t_self_id;

void *
xchan__self_id(void)
{
	return &t_self_id;
}

void
xchan__step_release(xchan_chan *ch, xchan__ctx *cx)
{
	for (;;) {
		if (ch->step->close_pending) {
			ch->step->close_pending = 0;
			close_tail(ch, cx);
			continue;
		}
		if (atomic_exchange_explicit(&ch->step->owed, 0,
		        memory_order_seq_cst)) {
			/* Work a non-blocking call left (xchan__xform_kick):
			 * pending puts to pull in, a close to finish. */
			refill_locked(ch, cx);
			xchan__chan_lock(ch);
			bool tail = ch->closed;
			xchan__chan_unlock(ch);
			if (tail)
				close_tail(ch, cx);
			continue;
		}
		atomic_store_explicit(&ch->step->owner, NULL,
		    memory_order_relaxed);
		xchan__lock_release(&ch->step->lock);
		/* Dekker with xchan__xform_kick: either it sees the lock
		 * free, or we see its `owed`. */
		atomic_thread_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&ch->step->owed,
		        memory_order_seq_cst) ||
		    !xchan__step_try_acquire(ch))
			return;
	}
}

void
xchan__xform_close(xchan_chan *ch)
{
	if (atomic_load_explicit(&ch->step->owner, memory_order_relaxed) ==
	    xchan__self_id()) {
		/* From the channel's own step: record it; the step lock's
		 * release runs the tail. */
		xchan__chan_lock(ch);
		bool was_closed = ch->closed;
		ch->closed = 1;
		xchan__chan_unlock(ch);
		if (!was_closed)
			ch->step->close_pending = 1;
		return;
	}
	xchan__ctx cx;
	xchan__ctx_init(&cx);
	xchan__step_acquire(ch);
	xchan__chan_lock(ch);
	bool was_closed = ch->closed;
	ch->closed = 1;
	xchan__chan_unlock(ch);
	if (!was_closed)
		close_tail(ch, &cx);
	xchan__step_release(ch, &cx);
	xchan__ctx_finish(&cx);
}
