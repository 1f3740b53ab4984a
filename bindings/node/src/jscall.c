/*
 * jscall.c — JS calls made on behalf of other threads, and the serving wait
 * that keeps a blocked JS thread answering them.
 *
 * Why.  JS functions (a channel's transform step, its onError, a
 * combinator's callback) can only run on the JS thread of the env that
 * owns them, but the core calls them from whichever thread moves the value:
 * a worker's putSync, a core go task, a C addon's pthread.  Such a caller
 * queues an xn_jscall on the owner env and waits; the owner runs it either
 * from its event loop (the env's threadsafe function) or, when that thread
 * is itself blocked in one of the addon's waits (takeSync, putSync,
 * altsSync, a JS call to another env, the close of a JS-transform
 * channel), from inside that wait.  So a worker blocked in takeSync still
 * runs the steps and callbacks of the channels and combinators it made.
 *
 * The serving wait (xn_serve_wait) sleeps on the env's condition variable,
 * which is signalled by (a) a new call queued for this env, (b) the
 * completion the wait is for (xn_serve_signal: the notifier of a notify-mode
 * op, or the end of a JS call this thread asked of another env), (c) the
 * env's cancel token firing (worker.terminate).  JS calls run inline there
 * with napi_call_function, which Node-API allows inside a native call; the
 * microtask queue does NOT run there (it cannot: the native call is itself
 * inside a microtask or a macrotask of this thread), so a call must not
 * need promise continuations of its own thread to finish.
 *
 * Locks and order.  xenv.wlock guards the call queue (calls_head/tail) and
 * calls_closed, and orders the signals on wcv (a waiter checks its
 * predicate under wlock before it sleeps, a signaller changes it under
 * wlock).  It is a leaf: nothing is taken while it is held, and no JS or
 * core code runs under it.  The registry lock of env.c (g_threads_lock) may
 * be held when wlock is taken (interrupts), never the reverse.  xenv.lock
 * (tsfn, alive) is never held together with wlock.
 *
 * Invariants.
 *  - A call is in at most one place: the queue of its env (owned by the
 *    queue), or being run (owned by the thread that popped it, always the
 *    env's JS thread), or finished.  Popping happens under wlock, one call
 *    at a time, so whichever of the event loop and a serving wait takes it
 *    runs it, exactly once, and a call queued while another runs (even
 *    from inside it) can run in a nested wait: no batch is held back.
 *  - A requester never returns before its call has run or was abandoned
 *    (the call lives on its stack); after finishing a call the runner
 *    touches neither the call nor its requester again: it reads what it
 *    needs first, and the reply channel has its own reference.
 *  - Once calls_closed is set (teardown, on the JS thread), nothing is
 *    queued any more and the queued calls are finished as not run.
 *  - A posted call (xn_jscall_post: callThread) has no waiter: its `done`
 *    runs once, after it ran or when it is abandoned, and frees it.
 *
 * Limits.  A waiting JS thread whose worker is terminated withdraws a call
 * that has not started (worker.terminate fires its token); but Node stops a
 * worker's own sub-workers (FreeEnvironment) before the env cleanup hook
 * that abandons its queue, and that stop fires no token: a sub-worker
 * blocked in a JS call to its parent at that moment would hold the join.
 * The worker pool therefore posts its results (callThread) instead of
 * waiting for them; a transform step or callback of a parent's channel run
 * from its own sub-worker during the parent's teardown is the remaining
 * case.
 *
 * Clones (clone.c) are such calls too: a taker asks the putting env to
 * serialize its object.  The answer comes only while the owner runs its
 * event loop or one of the addon's waits, so it is delayed while the owner
 * runs long synchronous JS, and never comes while the owner is blocked
 * outside the addon (Atomics.wait, a sync syscall, another addon's wait):
 * an owner blocked there for a taker that waits synchronously (poll,
 * takeSync) deadlocks both; a promise's clone is a posted call, and its
 * taker does not wait.  A serving
 * wait runs the queued calls before it returns, even when its own
 * completion is there: the take that ends a putter's putSync is often the
 * one whose clone the putter must answer, and a worker ending right after
 * its put would otherwise be gone first.  Its loop does not wake for calls
 * (the tsfn is unreferenced when idle), so index.js serves them at
 * 'beforeExit' too (serveCalls); a call that arrives after that is
 * abandoned at teardown (ERUNTIME).
 */
#include <stdio.h>
#include <stdlib.h>

#include "addon.h"

/* The env of this thread's JS environment (NULL on other threads). */
static _Thread_local xenv *tl_env;

xenv *
xn_current_env(void)
{
	return tl_env;
}

void
xn_jscall_env_init(xenv *e)
{
	pthread_mutex_init(&e->wlock, NULL);
	pthread_cond_init(&e->wcv, NULL);
	e->calls_head = e->calls_tail = NULL;
	e->calls_closed = false;
	tl_env = e;
}

void
xn_jscall_env_destroy(xenv *e)
{
	pthread_cond_destroy(&e->wcv);
	pthread_mutex_destroy(&e->wlock);
}

/* Under wlock. */
static xn_jscall *
pop_locked(xenv *e)
{
	xn_jscall *c = e->calls_head;
	if (c != NULL) {
		e->calls_head = c->next;
		if (e->calls_head == NULL)
			e->calls_tail = NULL;
		c->next = NULL;
	}
	return c;
}

/* Tells the requester that c is finished (ran or not).  After this, c may
 * be gone. */
static void
finish(xn_jscall *c, bool ran, xenv *waiter, atomic_int *done)
{
	c->ran = ran;
	if (c->done != NULL) {
		c->done(c, ran); /* a posted call: nobody waits */
		return;
	}
	if (waiter != NULL) {
		xn_serve_signal(waiter, done);
		return;
	}
	xchan_chan *reply = c->reply;
	xchan_offer(reply, xchan_val_int(ran ? 0 : XCHAN_ERUNTIME));
	xchan_chan_release(reply); /* the queue's reference */
}

/* What a requester that is a JS thread waits on (instead of a reply
 * channel): its env and a flag, kept beside the call. */
typedef struct js_waiter {
	xn_jscall *call;
	xenv *env;
	atomic_int done;
} js_waiter;

/* A call's requester, when it is a JS thread (then it has no reply
 * channel). */
static js_waiter *
waiter_of(xn_jscall *c)
{
	return c->reply == NULL ? (js_waiter *)c->waiter : NULL;
}

static void
run_one(xenv *e, xn_jscall *c)
{
	js_waiter *w = waiter_of(c);
	napi_env env = e->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	c->run(env, e, c);
	bool pending = false;
	if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
		/* A run function reports its own errors; one that escaped
		 * cannot propagate into the waiting thread. */
		napi_value exc;
		napi_get_and_clear_last_exception(env, &exc);
		fprintf(stderr, "xchan: an exception escaped a JS call made "
		                "for another thread; ignored\n");
	}
	napi_close_handle_scope(env, scope);
	if (w != NULL)
		finish(c, true, w->env, &w->done);
	else
		finish(c, true, NULL, NULL);
}

static void
abandon(xn_jscall *c)
{
	js_waiter *w = waiter_of(c);
	if (w != NULL)
		finish(c, false, w->env, &w->done);
	else
		finish(c, false, NULL, NULL);
}

void
xn_jscall_drain(xenv *e)
{
	for (;;) {
		pthread_mutex_lock(&e->wlock);
		xn_jscall *c = pop_locked(e);
		pthread_mutex_unlock(&e->wlock);
		if (c == NULL)
			return;
		run_one(e, c);
	}
}

void
xn_jscall_env_close(xenv *e)
{
	pthread_mutex_lock(&e->wlock);
	e->calls_closed = true;
	xn_jscall *list = e->calls_head;
	e->calls_head = e->calls_tail = NULL;
	pthread_mutex_unlock(&e->wlock);
	while (list != NULL) {
		xn_jscall *next = list->next;
		abandon(list);
		list = next;
	}
	if (tl_env == e)
		tl_env = NULL;
}

void
xn_serve_signal(xenv *e, atomic_int *done)
{
	pthread_mutex_lock(&e->wlock);
	atomic_store_explicit(done, 1, memory_order_release);
	pthread_cond_signal(&e->wcv);
	pthread_mutex_unlock(&e->wlock);
}

static int32_t
serve_wait(xenv *e, atomic_int *done, bool interruptible)
{
	int32_t rc = XCHAN_OK;
	pthread_mutex_lock(&e->wlock);
	for (;;) {
		/* Calls first, also when the wait is over: the completion that
		 * ends it may be the very take whose taker now asks us to clone
		 * the value (clone.c); answering before returning to JS means a
		 * worker that ends right after its put still answers. */
		xn_jscall *c = pop_locked(e);
		if (c != NULL) {
			pthread_mutex_unlock(&e->wlock);
			run_one(e, c);
			pthread_mutex_lock(&e->wlock);
			continue;
		}
		if (atomic_load_explicit(done, memory_order_acquire))
			break;
		if (interruptible && e->cancel != NULL &&
		    xchan_cancel_fired(e->cancel) > 0) {
			rc = XCHAN_ECANCELED;
			break;
		}
		pthread_cond_wait(&e->wcv, &e->wlock);
	}
	pthread_mutex_unlock(&e->wlock);
	return rc;
}

int32_t
xn_serve_wait(xenv *e, atomic_int *done)
{
	return serve_wait(e, done, true);
}

int32_t
xn_serve_wait_until_done(xenv *e, atomic_int *done)
{
	return serve_wait(e, done, false);
}

/* Unlinks c from e's queue if it is still there (not yet popped). */
static bool
withdraw(xenv *e, xn_jscall *c)
{
	bool found = false;
	pthread_mutex_lock(&e->wlock);
	xn_jscall *prev = NULL;
	for (xn_jscall *x = e->calls_head; x != NULL; prev = x, x = x->next) {
		if (x != c)
			continue;
		if (prev != NULL)
			prev->next = x->next;
		else
			e->calls_head = x->next;
		if (e->calls_tail == x)
			e->calls_tail = prev;
		found = true;
		break;
	}
	pthread_mutex_unlock(&e->wlock);
	return found;
}

/* Appends c to e's queue and wakes e; false if e is closed. */
static bool
enqueue(xenv *e, xn_jscall *c)
{
	pthread_mutex_lock(&e->wlock);
	bool closed = e->calls_closed;
	if (!closed) {
		if (e->calls_tail != NULL)
			e->calls_tail->next = c;
		else
			e->calls_head = c;
		e->calls_tail = c;
		pthread_cond_signal(&e->wcv);
	}
	pthread_mutex_unlock(&e->wlock);
	if (!closed)
		xenv_wake(e);
	return !closed;
}

/* Clears what the queue and the waits fill in, before c is queued (the
 * requester's run and done stay). */
static void
call_clear(xn_jscall *c)
{
	c->next = NULL;
	c->ran = false;
	c->reply = NULL;
	c->waiter = NULL;
}

int32_t
xn_jscall_post(xenv *e, xn_jscall *c)
{
	call_clear(c);
	return enqueue(e, c) ? XCHAN_OK : XCHAN_ERUNTIME;
}

int32_t
xn_jscall_do(xenv *e, xn_jscall *c)
{
	call_clear(c);
	c->done = NULL;
	xenv *me = tl_env;
	if (me == e) {
		/* Already on the owner's thread (alive: tl_env is cleared at
		 * teardown). */
		napi_handle_scope scope;
		napi_open_handle_scope(e->env, &scope);
		c->run(e->env, e, c);
		napi_close_handle_scope(e->env, scope);
		c->ran = true;
		return XCHAN_OK;
	}
	js_waiter w = {c, me, 0};
	if (me != NULL) {
		c->waiter = &w;
	} else {
		int32_t rc = xchan_chan_make(&c->reply, XCHAN_BUF_FIXED, 1);
		if (rc != XCHAN_OK)
			return rc;
		xchan_chan_retain(c->reply); /* the queue's reference */
	}
	if (!enqueue(e, c)) {
		if (c->reply != NULL) {
			xchan_chan_release(c->reply);
			xchan_chan_release(c->reply);
		}
		return XCHAN_ERUNTIME;
	}
	if (me != NULL) {
		/* A JS thread: keep serving our own env while the other one
		 * runs the call (it may need one of ours to get there).  If
		 * this thread is being terminated, a call still queued is
		 * withdrawn (it never runs); one already running is waited
		 * for, since it lives on this stack. */
		if (serve_wait(me, &w.done, true) == XCHAN_ECANCELED &&
		    withdraw(e, c))
			return XCHAN_ECANCELED;
		serve_wait(me, &w.done, false);
	} else {
		/* A go task parks here; another thread blocks. */
		xchan_val v;
		if (xchan_take(&v, c->reply, XCHAN_DEADLINE_NEVER) == XCHAN_OK)
			xchan_val_release(v);
		xchan_chan_release(c->reply);
	}
	return c->ran ? XCHAN_OK : XCHAN_ERUNTIME;
}

/* ---- closing a JS-transform channel from its own thread ------------------ */

static int32_t
close_job(void *arg, xchan_val *result)
{
	xchan_chan_close(arg);
	xchan_chan_release(arg);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

int32_t
xn_close_serving(xenv *e, xchan_chan *ch)
{
	xchan_chan *done = NULL;
	xchan_chan_retain(ch);
	if (xchan_thread(&done, close_job, ch, NULL) != XCHAN_OK) {
		xchan_chan_release(ch);
		return xchan_chan_close(ch);
	}
	xchan_clause cl = {XCHAN_ALT_TAKE, 0, done, {0}};
	xchan_result res;
	int32_t rc = xn_alts_serving(e, &res, &cl, 1, XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_NEVER, false);
	if (rc == XCHAN_OK)
		xchan_val_release(res.val);
	xchan_chan_release(done);
	return XCHAN_OK;
}
