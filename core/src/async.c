/*
 * async.c — put_async, take_async, alts_async and their op handles.
 *
 * Design notes
 * ------------
 * An op is one heap block: the sel, one waiter per clause, a copy of the
 * clauses, an optional deadline timer.  It is allocated only when the
 * operation must wait; an operation that completes at once calls back
 * inline (or dispatches) and allocates nothing (unless dispatched).
 *
 * References: one for the completion (dropped after the callback), one for
 * the caller's handle if one was asked for.  Channels of the clauses are
 * retained while the op is pending, so a pending op keeps them alive.
 *
 * Exactly-once: the op ends through exactly one successful transition of its
 * sel out of WAITING/PARKED: a counterpart's claim (-> DONE, then
 * xchan__op_completed), xchan_op_cancel's cancel, or the deadline timer's
 * cancel.  Whoever wins "terminates" the op.
 *
 * A counterpart may claim the op while the starting thread is still
 * registering its other clauses.  So ending has two parties, the registrar
 * and the terminator, each setting its bit in `phase`; the one that arrives
 * second does the work (withdraw the other waiters, stop the timer, release
 * the channels, call back with no lock held, drop the completion ref).  The
 * registrar holds its own reference while it registers.
 */
#include <string.h>

#include "alts.h"
#include "async.h"
#include "val.h"

struct xchan__op {
	_Atomic uint32_t refs;
	uint32_t flags;
	xchan_callback cb;
	void *user;
	size_t n;
	uint32_t single_put; /* put_async: hand the value back on failure */
	uint32_t timed;
	_Atomic uint32_t phase; /* PHASE_REGISTERED | PHASE_TERMINATED */
	size_t nreg;            /* waiters queued; written before REGISTERED */
	xchan__sel sel;
	xchan__timer timer;
	xchan_clause *cl;  /* n clauses, after the waiters */
	uint32_t *order;   /* n, after the clauses */
	xchan__waiter w[]; /* n waiters */
};

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
	if (atomic_fetch_sub_explicit(&op->refs, 1, memory_order_acq_rel) == 1)
		xchan__free(op, op_size(op->n));
}

/* ---- delivering a result ------------------------------------------------- */

typedef struct dispatch_job {
	xchan_callback cb;
	void *user;
	xchan_result res;
} dispatch_job;

static void
run_dispatch_job(void *arg)
{
	dispatch_job *j = arg;
	j->cb(j->user, &j->res);
	xchan__free(j, sizeof(*j));
}

/* Calls back inline, or on the dispatch executor with XCHAN_ASYNC_DISPATCH
 * (inline if that is impossible: the result must not be lost). */
static void
deliver(uint32_t flags, xchan_callback cb, void *user, xchan_result *res)
{
	if (flags & XCHAN_ASYNC_DISPATCH) {
		xchan_executor *ex;
		dispatch_job *j = xchan__alloc(sizeof(*j));
		if (j && xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH) ==
		             XCHAN_OK) {
			j->cb = cb;
			j->user = user;
			j->res = *res;
			if (xchan_execute(ex, run_dispatch_job, j) == XCHAN_OK)
				return;
		}
		xchan__free(j, sizeof(*j));
	}
	cb(user, res);
}

#define PHASE_REGISTERED 1u
#define PHASE_TERMINATED 2u

/* The end of an op, run by the second of registrar and terminator. */
static void
finish_op(struct xchan__op *op)
{
	xchan_result res = op->sel.result;
	xchan__alts_withdraw(op->w, op->order, op->nreg, res.index);
	if (op->timed)
		xchan__timer_cancel(&op->timer);
	if (op->single_put) {
		if (res.err == XCHAN_OK) {
			/* A stopping transform may hand back a discarded value. */
			xchan_val_release(res.val);
			res.val = xchan_val_nil();
		} else {
			res.val =
			    op->cl[0]
			        .val; /* not transferred: back to the caller */
		}
	} else if (res.index >= 0 && op->cl[res.index].op == XCHAN_ALT_PUT) {
		xchan_val_release(res.val);
		res.val = xchan_val_nil();
	}
	for (size_t i = 0; i < op->n; i++)
		xchan_chan_release(op->cl[i].chan);
	deliver(op->flags, op->cb, op->user, &res);
	op_unref(op);
}

/* The winner of the sel records the result; acq_rel on `phase` publishes
 * it (and nreg the other way). */
static void
terminate(struct xchan__op *op, xchan_result res)
{
	op->sel.result = res;
	if (atomic_fetch_or_explicit(&op->phase, PHASE_TERMINATED,
	        memory_order_acq_rel) &
	    PHASE_REGISTERED)
		finish_op(op);
}

static void
registration_done(struct xchan__op *op, size_t nreg)
{
	op->nreg = nreg;
	if (atomic_fetch_or_explicit(&op->phase, PHASE_REGISTERED,
	        memory_order_acq_rel) &
	    PHASE_TERMINATED)
		finish_op(op);
	op_unref(op); /* the registrar's reference */
}

void
xchan__op_completed(struct xchan__op *op)
{
	terminate(op, op->sel.result);
}

static void
op_timer_fire(xchan__timer *t)
{
	struct xchan__op *op =
	    (struct xchan__op *)((char *)t - offsetof(struct xchan__op, timer));
	if (xchan__sel_cancel(&op->sel))
		terminate(op, (xchan_result) {XCHAN_ETIMEDOUT, -1, {0, 0, 0}});
}

int32_t
xchan_op_cancel(xchan_op *handle)
{
	struct xchan__op *op = (struct xchan__op *)handle;
	if (op == NULL)
		return XCHAN_EINVAL;
	if (!xchan__sel_cancel(&op->sel))
		return XCHAN_EDONE;
	terminate(op, (xchan_result) {XCHAN_ECANCELED, -1, {0, 0, 0}});
	return XCHAN_OK;
}

void
xchan_op_release(xchan_op *handle)
{
	if (handle)
		op_unref((struct xchan__op *)handle);
}

/* ---- starting --------------------------------------------------------------- */

static int32_t
start(xchan_op **out, const xchan_clause *cl, size_t n, uint32_t flags,
    xchan_deadline deadline, xchan_callback cb, void *user, bool single_put)
{
	if (out)
		*out = NULL;
	if (cb == NULL)
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
	for (;;) {
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
		atomic_init(&op->refs, out ? 3 : 2);
		atomic_init(&op->phase, 0);
		op->nreg = 0;
		op->flags = flags;
		op->cb = cb;
		op->user = user;
		op->n = n;
		op->single_put = single_put;
		op->timed = 0;
		xchan__sel_init(&op->sel);
		op->sel.owner = XCHAN__OWNER_ASYNC;
		op->sel.task = NULL;
		op->sel.op = op;
		for (size_t i = 0; i < n; i++)
			xchan_chan_retain(cl[i].chan);
		if (deadline != XCHAN_DEADLINE_NEVER) {
			/* Before registering: a completion stops the timer. */
			op->timer.deadline = deadline;
			op->timer.fire = op_timer_fire;
			op->timed = xchan__timer_add(&op->timer) == XCHAN_OK;
		}
		size_t nreg;
		int reg = xchan__alts_register(&op->sel, op->w, op->cl,
		    op->order, n, &nreg);
		if (reg != XCHAN__REG_OK && xchan__sel_cancel(&op->sel)) {
			xchan__alts_withdraw(op->w, op->order, nreg, -1);
			if (op->timed)
				xchan__timer_cancel(&op->timer);
			for (size_t i = 0; i < n; i++)
				xchan_chan_release(cl[i].chan);
			if (reg == XCHAN__REG_LIMIT) {
				xchan__free(op, op_size(n));
				return XCHAN_ELIMIT;
			}
			continue;
		}
		/* Pending, or already ended by a counterpart or the timer. */
		if (out)
			*out = (xchan_op *)op;
		registration_done(op, nreg);
		return XCHAN_OK;
	}
	xchan__free(op, op_size(n));
	if (single_put && res.err != XCHAN_OK)
		res.val =
		    cl[0].val; /* the value goes back through the callback */
	deliver(flags, cb, user, &res);
	return XCHAN_OK;
}

int32_t
xchan_put_async(xchan_op **out, xchan_chan *ch, xchan_val v, uint32_t flags,
    xchan_callback cb, void *user)
{
	xchan_clause c = {XCHAN_ALT_PUT, 0, ch, v};
	return start(out, &c, 1, flags | XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_NEVER, cb, user, true);
}

int32_t
xchan_take_async(xchan_op **out, xchan_chan *ch, uint32_t flags,
    xchan_callback cb, void *user)
{
	xchan_clause c = {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}};
	return start(out, &c, 1, flags | XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_NEVER, cb, user, false);
}

int32_t
xchan_alts_async(xchan_op **out, const xchan_clause *clauses, size_t n,
    uint32_t flags, xchan_deadline deadline, xchan_callback cb, void *user)
{
	return start(out, clauses, n, flags, deadline, cb, user, false);
}
