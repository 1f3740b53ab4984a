/*
 * async.c — put_async, take_async, alts_async, their op handles, notify
 * mode, cancel and cancel-or-collect.
 *
 * Design notes
 * ------------
 * An op is one heap block: the sel, one waiter per clause, a copy of the
 * clauses, an optional deadline timer.  It is allocated only when the
 * operation must wait (or in notify mode, where the op is how the result is
 * collected); an operation that completes at once calls back and allocates
 * nothing (unless dispatched).
 *
 * References: one for the completion (dropped after delivery), one for the
 * registrar while it registers, one for the caller's handle if one was asked
 * for.  Channels of the clauses are retained while the op is pending, so a
 * pending op keeps them alive; they are released at delivery, after the
 * callback, with no lock held.
 *
 * Ending an op has three steps:
 *  1. terminate: exactly one successful transition of the sel out of
 *     WAITING/PARKED (a counterpart's claim -> DONE, a cancel, the deadline
 *     timer, shutdown) decides the outcome.  A counterpart may claim the op
 *     while the starting thread still registers its other clauses, so the
 *     registrar and the terminator each set a bit in `phase`; the second to
 *     arrive settles.
 *  2. settle (no user code, no lock held but possibly a step lock): withdraw
 *     the other waiters, stop the timer, compute the final result, store it
 *     and set D_RESULT in `dstate`.  A claimer settles every async sel it
 *     claimed before it runs any user code (xchan__ctx_finish), so user code
 *     that cancels or collects an op completed by its own thread never waits.
 *  3. deliver (user code, no xchan lock, never on a go stack): the callback,
 *     or in notify mode the notifier, then the channel releases and the
 *     completion reference.
 *
 * Delivery CAS: `dstate` holds D_RESULT (result stored), D_TAKEN (the result
 * was moved out: the callback started, xchan_op_collect, or
 * xchan_op_cancel_ex), D_NOTIFIED (the notifier started, or was suppressed by
 * cancel_ex), D_CANCELED (a cancel won).  Setting D_TAKEN is a CAS, so
 * exactly one of {callback or collect, cancel_ex} gets the result.
 *
 * Locks: only g_pending.lock (a leaf), guarding the list of waiting ops that
 * xchan_shutdown completes.  No user code runs under any lock here.
 */
#include <string.h>
#include <time.h>

#include "alts.h"
#include "async.h"
#include "debugcheck.h"
#include "lock.h"
#include "platform/platform.h"
#include "task.h"
#include "timer.h"
#include "val.h"

#define D_RESULT 1u
#define D_TAKEN 2u
#define D_NOTIFIED 4u
#define D_CANCELED 8u

struct xchan__op {
	_Atomic uint32_t refs;
	uint32_t flags;
	xchan_callback cb;
	void *user;
	size_t n;
	uint32_t single_put; /* put_async: hand the value back on failure */
	uint32_t timed;
	_Atomic uint32_t phase;  /* PHASE_REGISTERED | PHASE_TERMINATED */
	_Atomic uint32_t dstate; /* D_* */
	/* Written by the terminator before `phase` (which publishes them). */
	uint32_t canceled;   /* a cancel won */
	uint32_t cancel_ex;  /* ... and it was cancel_ex: keep the result */
	uint32_t inline_cb;  /* deliver here even with XCHAN_ASYNC_DISPATCH */
	uint32_t chans_held; /* the clauses' channels are retained */
	size_t nreg;         /* waiters queued; written before REGISTERED */
	xchan_result final;  /* the settled result; valid once D_RESULT */
	struct xchan__op *dnext;         /* delivery list */
	struct xchan__op *pnext, *pprev; /* pending list; g_pending.lock */
	uint32_t listed;                 /* in the pending list */
	uint32_t pad;
	xchan__sel sel;
	xchan__timer timer;
	xchan_clause *cl;  /* n clauses, after the waiters */
	uint32_t *order;   /* n, after the clauses */
	xchan__waiter w[]; /* n waiters */
};

#define PHASE_REGISTERED 1u
#define PHASE_TERMINATED 2u

static size_t
op_size(size_t n)
{
	return sizeof(struct xchan__op) +
	       n * (sizeof(xchan__waiter) + sizeof(xchan_clause) +
	               sizeof(uint32_t));
}

static void
op_unref(struct xchan__op *op)
{
	if (atomic_fetch_sub_explicit(&op->refs, 1, memory_order_acq_rel) ==
	    1) {
		/* A result nobody collected (notify mode, handle released
		 * first): its value goes with the op instead of leaking.
		 * Every delivery leaves nil here. */
		xchan_val_release(op->final.val);
		xchan__retire(op, op_size(op->n),
		    offsetof(struct xchan__op, refs));
	}
}

/* ---- the pending list (for xchan_shutdown) ------------------------------- */

static struct {
	xchan__lock lock;
	struct xchan__op *head;
} g_pending;

static void
pending_add(struct xchan__op *op)
{
	xchan__lock_acquire(&g_pending.lock);
	op->pprev = NULL;
	op->pnext = g_pending.head;
	if (g_pending.head)
		g_pending.head->pprev = op;
	g_pending.head = op;
	op->listed = 1;
	xchan__lock_release(&g_pending.lock);
}

static void
pending_remove(struct xchan__op *op)
{
	xchan__lock_acquire(&g_pending.lock);
	if (op->listed) {
		if (op->pprev)
			op->pprev->pnext = op->pnext;
		else
			g_pending.head = op->pnext;
		if (op->pnext)
			op->pnext->pprev = op->pprev;
		op->listed = 0;
	}
	xchan__lock_release(&g_pending.lock);
}

/* ---- delivering a result ------------------------------------------------- */

static void
release_chans(struct xchan__op *op)
{
	if (!op->chans_held)
		return;
	op->chans_held = 0;
	for (size_t i = 0; i < op->n; i++)
		xchan_chan_release(op->cl[i].chan);
}

/* The notify bit a cancel_ex sets: it suppresses a notifier that has not
 * started, unless the op asked for XCHAN_ASYNC_NOTIFY_ALWAYS. */
static uint32_t
suppressed_notify(const struct xchan__op *op)
{
	return (op->flags & XCHAN_ASYNC_NOTIFY_ALWAYS) ? 0u : D_NOTIFIED;
}

/* Moves the result to the callback unless cancel_ex took it first. */
static void
run_callback(struct xchan__op *op)
{
	uint32_t st = atomic_load_explicit(&op->dstate, memory_order_acquire);
	while (!(st & D_TAKEN)) {
		if (atomic_compare_exchange_weak_explicit(&op->dstate, &st,
		        st | D_TAKEN, memory_order_acq_rel,
		        memory_order_acquire)) {
			xchan_result r = op->final;
			op->final.val = xchan_val_nil();
			op->cb(op->user, &r);
			return;
		}
	}
}

static void
run_dispatched(void *arg)
{
	struct xchan__op *op = arg;
	run_callback(op);
	release_chans(op);
	op_unref(op);
}

static void
deliver_one(struct xchan__op *op)
{
	if (op->flags & XCHAN_ASYNC_NOTIFY) {
		uint32_t prev = atomic_fetch_or_explicit(&op->dstate,
		    D_NOTIFIED, memory_order_acq_rel);
		if (!(prev & D_NOTIFIED))
			op->cb(op->user, NULL);
	} else if (!op->cancel_ex) {
		if ((op->flags & XCHAN_ASYNC_DISPATCH) && !op->inline_cb) {
			xchan_executor *ex;
			if (xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) ==
			        XCHAN_OK &&
			    xchan_execute(ex, run_dispatched, op) == XCHAN_OK)
				return; /* the job owns the completion ref */
		}
		run_callback(op); /* inline: the result must not be lost */
	}
	release_chans(op);
	op_unref(op);
}

static void
deliver_list(void *arg)
{
	xchan__deliveries *dl = arg;
	struct xchan__op *op = dl->head;
	while (op) {
		struct xchan__op *next = op->dnext; /* op may die */
		deliver_one(op);
		op = next;
	}
	xchan__deliveries_init(dl);
}

void
xchan__deliver_all(xchan__deliveries *dl)
{
	if (dl->head != NULL)
		xchan__on_thread_stack(deliver_list, dl);
}

/* ---- ending an op ---------------------------------------------------------- */

/* Step 2 (see the design notes): no user code. */
static void
settle(struct xchan__op *op)
{
	xchan_result res = op->sel.result;
	xchan__alts_withdraw(op->w, op->order, op->nreg, res.index);
	if (op->timed)
		xchan__timer_cancel(&op->timer);
	pending_remove(op);
	if (op->single_put) {
		if (res.err == XCHAN_OK) {
			/* A stopping transform may hand back a discarded
			 * value: the caller's put completed, drop it. */
			xchan_val_release(res.val);
			res.val = xchan_val_nil();
		} else {
			/* not transferred: back to the caller */
			res.val = op->cl[0].val;
		}
	} else if (res.index >= 0 && op->cl[res.index].op == XCHAN_ALT_PUT) {
		xchan_val_release(res.val);
		res.val = xchan_val_nil();
	}
	op->final = res;
	uint32_t bits = D_RESULT;
	if (op->canceled)
		bits |= D_CANCELED;
	if (op->cancel_ex)
		bits |= D_TAKEN | suppressed_notify(op);
	atomic_fetch_or_explicit(&op->dstate, bits, memory_order_release);
}

static void
append(xchan__deliveries *dl, struct xchan__op *op)
{
	op->dnext = NULL;
	*dl->tail = op;
	dl->tail = &op->dnext;
}

/* The winner of the sel records the outcome; acq_rel on `phase` publishes
 * it (and nreg the other way). */
static void
terminate(struct xchan__op *op, xchan_result res, xchan__deliveries *dl)
{
	op->sel.result = res;
	if (atomic_fetch_or_explicit(&op->phase, PHASE_TERMINATED,
	        memory_order_acq_rel) &
	    PHASE_REGISTERED) {
		settle(op);
		append(dl, op);
	}
}

static void
registration_done(struct xchan__op *op, size_t nreg)
{
	op->nreg = nreg;
	if (atomic_fetch_or_explicit(&op->phase, PHASE_REGISTERED,
	        memory_order_acq_rel) &
	    PHASE_TERMINATED) {
		settle(op);
		xchan__deliveries dl;
		xchan__deliveries_init(&dl);
		append(&dl, op);
		xchan__deliver_all(&dl);
	}
	op_unref(op); /* the registrar's reference */
}

void
xchan__op_completed(struct xchan__op *op, xchan__deliveries *dl)
{
	terminate(op, op->sel.result, dl);
}

static void
op_timer_fire(xchan__timer *t)
{
	struct xchan__op *op =
	    (struct xchan__op *)((char *)t - offsetof(struct xchan__op, timer));
	if (!xchan__sel_cancel(&op->sel))
		return;
	xchan__deliveries dl;
	xchan__deliveries_init(&dl);
	int32_t err =
	    xchan__timer_shutting_down() ? XCHAN_ESHUTDOWN : XCHAN_ETIMEDOUT;
	terminate(op, (xchan_result) {err, -1, {0, 0, 0}}, &dl);
	xchan__deliver_all(&dl);
}

/* Waits until the op's result is stored.  Only called once the sel has
 * left WAITING/PARKED, so the settling thread is between its claim and its
 * settle, which runs no user code: short unless it was preempted. */
static void
wait_result(struct xchan__op *op)
{
	unsigned i = 0;
	long nap = 20000;
	while (!(atomic_load_explicit(&op->dstate, memory_order_acquire) &
	         D_RESULT)) {
		if (i < 64) {
			xchan__cpu_relax();
		} else if (i < 80) {
			xchan__thread_yield();
		} else {
			struct timespec ts = {0, nap};
			nanosleep(&ts, NULL);
			if (nap < 1000000)
				nap *= 2;
		}
		i++;
	}
}

int32_t
xchan_op_cancel(xchan_op *handle)
{
	XCHAN__DBG_COUNT((const struct xchan__op *)handle, refs,
	    "async operation");
	struct xchan__op *op = (struct xchan__op *)handle;
	if (op == NULL)
		return XCHAN_EINVAL;
	if (!xchan__sel_cancel(&op->sel))
		return XCHAN_EDONE;
	op->canceled = 1;
	op->inline_cb = 1; /* on this thread, before we return */
	xchan__deliveries dl;
	xchan__deliveries_init(&dl);
	terminate(op, (xchan_result) {XCHAN_ECANCELED, -1, {0, 0, 0}}, &dl);
	xchan__deliver_all(&dl);
	return XCHAN_OK;
}

int32_t
xchan_op_cancel_ex(xchan_op *handle, xchan_result *out)
{
	XCHAN__DBG_COUNT((const struct xchan__op *)handle, refs,
	    "async operation");
	struct xchan__op *op = (struct xchan__op *)handle;
	if (op == NULL || out == NULL)
		return XCHAN_EINVAL;
	*out = (xchan_result) {XCHAN_EDONE, -1, {0, 0, 0}};
	if (xchan__sel_cancel(&op->sel)) {
		op->canceled = 1;
		op->cancel_ex = 1;
		xchan__deliveries dl;
		xchan__deliveries_init(&dl);
		terminate(op, (xchan_result) {XCHAN_ECANCELED, -1, {0, 0, 0}},
		    &dl);
		wait_result(op);
		*out = op->final;
		op->final.val = xchan_val_nil();
		xchan__deliver_all(&dl); /* channel releases only */
		return XCHAN_OK;
	}
	/* Lost: the operation completed (or is completing). */
	wait_result(op);
	uint32_t st = atomic_load_explicit(&op->dstate, memory_order_acquire);
	while (!(st & D_TAKEN)) {
		if (atomic_compare_exchange_weak_explicit(&op->dstate, &st,
		        st | D_TAKEN | suppressed_notify(op),
		        memory_order_acq_rel, memory_order_acquire)) {
			*out = op->final;
			op->final.val = xchan_val_nil();
			return XCHAN_OK;
		}
	}
	return XCHAN_EDONE;
}

int32_t
xchan_op_collect(xchan_op *handle, xchan_result *out)
{
	XCHAN__DBG_COUNT((const struct xchan__op *)handle, refs,
	    "async operation");
	struct xchan__op *op = (struct xchan__op *)handle;
	if (out != NULL)
		*out = (xchan_result) {XCHAN_EAGAIN, -1, {0, 0, 0}};
	if (op == NULL || out == NULL || !(op->flags & XCHAN_ASYNC_NOTIFY))
		return XCHAN_EINVAL;
	uint32_t st = atomic_load_explicit(&op->dstate, memory_order_acquire);
	if (!(st & D_RESULT))
		return XCHAN_EAGAIN;
	while (!(st & D_TAKEN)) {
		if (atomic_compare_exchange_weak_explicit(&op->dstate, &st,
		        st | D_TAKEN, memory_order_acq_rel,
		        memory_order_acquire)) {
			*out = op->final;
			op->final.val = xchan_val_nil();
			return XCHAN_OK;
		}
	}
	out->err = XCHAN_EDONE;
	return XCHAN_EDONE;
}

int32_t
xchan_op_state_get(const xchan_op *handle)
{
	XCHAN__DBG_COUNT((const struct xchan__op *)handle, refs,
	    "async operation");
	const struct xchan__op *op = (const struct xchan__op *)handle;
	if (op == NULL)
		return -XCHAN_EINVAL;
	uint32_t st = atomic_load_explicit(&((struct xchan__op *)op)->dstate,
	    memory_order_acquire);
	if (!(st & D_RESULT))
		return XCHAN_OP_PENDING;
	if (st & D_CANCELED)
		return XCHAN_OP_CANCELED;
	if (st & D_TAKEN)
		return XCHAN_OP_DELIVERED;
	return XCHAN_OP_COMPLETED;
}

void
xchan_op_release(xchan_op *handle)
{
	XCHAN__DBG_COUNT((const struct xchan__op *)handle, refs,
	    "async operation");
	if (handle)
		op_unref((struct xchan__op *)handle);
}

void
xchan__async_shutdown(void)
{
	for (;;) {
		xchan__lock_acquire(&g_pending.lock);
		struct xchan__op *op = g_pending.head;
		if (op == NULL) {
			xchan__lock_release(&g_pending.lock);
			return;
		}
		g_pending.head = op->pnext;
		if (op->pnext)
			op->pnext->pprev = NULL;
		op->listed = 0;
		/* Decided under the lock: a listed op is not settled, so it
		 * is alive; if our cancel wins, nobody else terminates it and
		 * its completion reference keeps it alive until we deliver.
		 * If it loses, we never touch the op again. */
		bool won = xchan__sel_cancel(&op->sel);
		xchan__lock_release(&g_pending.lock);
		if (won) {
			xchan__deliveries dl;
			xchan__deliveries_init(&dl);
			terminate(op,
			    (xchan_result) {XCHAN_ESHUTDOWN, -1, {0, 0, 0}},
			    &dl);
			xchan__deliver_all(&dl);
		}
	}
}

/* ---- starting --------------------------------------------------------------- */

typedef struct immediate {
	xchan_callback cb;
	void *user;
	xchan_result res;
} immediate;

static void
run_immediate(void *arg)
{
	immediate *im = arg;
	im->cb(im->user, &im->res);
}

static void
run_immediate_job(void *arg)
{
	run_immediate(arg);
	xchan__free(arg, sizeof(immediate));
}

/* A result known during the start call (no op): calls back on this
 * thread's stack, or on the dispatch executor with XCHAN_ASYNC_DISPATCH
 * (here if that is impossible: the result must not be lost). */
static void
deliver_immediate(uint32_t flags, xchan_callback cb, void *user,
    xchan_result res)
{
	if (flags & XCHAN_ASYNC_DISPATCH) {
		xchan_executor *ex;
		immediate *j = xchan__alloc(sizeof(*j));
		if (j && xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) ==
		             XCHAN_OK) {
			*j = (immediate) {cb, user, res};
			if (xchan_execute(ex, run_immediate_job, j) == XCHAN_OK)
				return;
		}
		xchan__free(j, sizeof(*j));
	}
	immediate im = {cb, user, res};
	xchan__on_thread_stack(run_immediate, &im);
}

static void
op_setup(struct xchan__op *op, size_t n, uint32_t flags, xchan_callback cb,
    void *user, bool single_put, uint32_t refs)
{
	atomic_init(&op->refs, refs);
	atomic_init(&op->phase, 0);
	atomic_init(&op->dstate, 0);
	op->nreg = 0;
	op->flags = flags;
	op->cb = cb;
	op->user = user;
	op->n = n;
	op->single_put = single_put;
	op->timed = 0;
	op->canceled = op->cancel_ex = op->inline_cb = 0;
	op->chans_held = 0;
	op->listed = 0;
	op->final = (xchan_result) {XCHAN_OK, -1, {0, 0, 0}};
	xchan__sel_init(&op->sel);
	op->sel.owner = XCHAN__OWNER_ASYNC;
	op->sel.task = NULL;
	op->sel.op = op;
}

static int32_t
start(xchan_op **out, const xchan_clause *cl, size_t n, uint32_t flags,
    xchan_deadline deadline, xchan_callback cb, void *user, bool single_put)
{
	if (out)
		*out = NULL;
	bool notify = (flags & XCHAN_ASYNC_NOTIFY) != 0;
	if (cb == NULL || (notify && out == NULL))
		return XCHAN_EINVAL;
	int32_t err = xchan__alts_check(cl, n);
	if (err != XCHAN_OK)
		return err;
	struct xchan__op *op = xchan__alloc(op_size(n));
	if (op == NULL)
		return XCHAN_ENOMEM;
	op->cl = (xchan_clause *)&op->w[n];
	op->order = (uint32_t *)&op->cl[n];
	memcpy(op->cl, cl, n * sizeof(*cl));
	xchan__alts_order(op->order, n, flags);
	xchan_result res;
	for (unsigned round = 0;;) {
		if (xchan__alts_try(op->cl, op->order, n, &res))
			break;
		if (deadline == XCHAN_DEADLINE_POLL ||
		    (deadline != XCHAN_DEADLINE_NEVER &&
		        deadline <= xchan_now())) {
			res = (xchan_result) {deadline == XCHAN_DEADLINE_POLL
			                          ? XCHAN_EAGAIN
			                          : XCHAN_ETIMEDOUT,
			    -1, {0, 0, 0}};
			break;
		}
		/* Must wait: set the op up before any counterpart can see it. */
		/* completion + registrar (+ the caller's handle) */
		op_setup(op, n, flags, cb, user, single_put, out ? 3 : 2);
		for (size_t i = 0; i < n; i++)
			xchan_chan_retain(cl[i].chan);
		op->chans_held = 1;
		if (deadline != XCHAN_DEADLINE_NEVER) {
			/* Before registering: a completion stops the timer. */
			op->timer.deadline = deadline;
			op->timer.fire = op_timer_fire;
			op->timer.fire_at_shutdown = 1;
			err = xchan__timer_add(&op->timer);
			if (err != XCHAN_OK) {
				/* Never silently: without a timer the deadline
				 * could not be kept. */
				op->chans_held = 0;
				for (size_t i = 0; i < n; i++)
					xchan_chan_release(cl[i].chan);
				xchan__free(op, op_size(n));
				return err;
			}
			op->timed = 1;
		}
		pending_add(op);
		size_t nreg;
		int reg = xchan__alts_register(&op->sel, op->w, op->cl,
		    op->order, n, &nreg);
		if (reg != XCHAN__REG_OK && xchan__sel_cancel(&op->sel)) {
			xchan__alts_withdraw(op->w, op->order, nreg, -1);
			if (op->timed)
				xchan__timer_cancel(&op->timer);
			pending_remove(op);
			op->chans_held = 0;
			for (size_t i = 0; i < n; i++)
				xchan_chan_release(cl[i].chan);
			if (reg == XCHAN__REG_LIMIT) {
				xchan__free(op, op_size(n));
				return XCHAN_ELIMIT;
			}
			xchan__alts_backoff(++round);
			continue;
		}
		/* Pending, or already ended by a counterpart or the timer. */
		if (out)
			*out = (xchan_op *)op;
		registration_done(op, nreg);
		return XCHAN_OK;
	}
	if (single_put && res.err != XCHAN_OK)
		res.val =
		    cl[0].val; /* the value goes back through the callback */
	if (notify) {
		/* The op is how the result is collected: keep it, settled. */
		op_setup(op, n, flags, cb, user, single_put, 2);
		/* Already ended: a cancel must lose (EDONE), and cancel_ex
		 * must take the result as a collect would. */
		atomic_store_explicit(&op->sel.state, XCHAN__SEL_DONE,
		    memory_order_relaxed);
		op->final = res;
		atomic_store_explicit(&op->dstate, D_RESULT,
		    memory_order_release);
		*out = (xchan_op *)op;
		xchan__deliveries dl;
		xchan__deliveries_init(&dl);
		append(&dl, op);
		xchan__deliver_all(&dl);
		return XCHAN_OK;
	}
	xchan__free(op, op_size(n));
	deliver_immediate(flags, cb, user, res);
	return XCHAN_OK;
}

int32_t
xchan_put_async(xchan_op **out, xchan_chan *ch, xchan_val v, uint32_t flags,
    xchan_callback cb, void *user)
{
	XCHAN__DBG_CHAN(ch);
	XCHAN__DBG_VAL(v);
	xchan_clause c = {XCHAN_ALT_PUT, 0, ch, v};
	return start(out, &c, 1, flags | XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_NEVER, cb, user, true);
}

int32_t
xchan_take_async(xchan_op **out, xchan_chan *ch, uint32_t flags,
    xchan_callback cb, void *user)
{
	XCHAN__DBG_CHAN(ch);
	xchan_clause c = {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}};
	return start(out, &c, 1, flags | XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_NEVER, cb, user, false);
}

int32_t
xchan_alts_async(xchan_op **out, const xchan_clause *clauses, size_t n,
    uint32_t flags, xchan_deadline deadline, xchan_callback cb, void *user)
{
	for (size_t i = 0; XCHAN__DEBUG_CHECKS && clauses != NULL && i < n &&
	                   i <= XCHAN_ALTS_MAX_CLAUSES;
	     i++) {
		XCHAN__DBG_CHAN(clauses[i].chan);
		if (clauses[i].op == XCHAN_ALT_PUT)
			XCHAN__DBG_VAL(clauses[i].val);
	}
	return start(out, clauses, n, flags, deadline, cb, user, false);
}
