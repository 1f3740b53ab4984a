/*
 * alts.c — alts: exactly one of several operations completes.
 *
 * Design notes
 * ------------
 * See alts.h for the engine and sel.h for the claim protocol.  Deadlock
 * freedom: no code path holds two channel locks at once (each clause is
 * tried / registered under its own channel's lock alone, and commits are a
 * CAS on the sel), so alts crossing the same channels in opposite orders
 * cannot deadlock.  Losing registrations are withdrawn before the call
 * returns (eagerly, unlike core.async).
 *
 * Livelock: a round is abandoned when registration finds a clause ready.
 * Two alts crossing the same channels in opposite orders can each find the
 * other's fresh waiter and abandon together, round after round; after the
 * first immediate retry, xchan__alts_backoff waits a random, growing number
 * of pauses (then yields) so that the two fall out of step.  Its counters
 * are global relaxed atomics, touched only on abandoned rounds.
 *
 * Random order: a per-thread xorshift64* generator seeded from the OS, or
 * by xchan_random_seed for tests; Fisher-Yates gives a uniform permutation.
 */
#include "alts.h"

#include <time.h>

#include "debugcheck.h"
#include "gosched.h"
#include "val.h"

static _Thread_local uint64_t t_rng;

void
xchan_random_seed(uint64_t seed)
{
	t_rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static inline uint64_t
rng_next(void)
{
	if (XCHAN_UNLIKELY(t_rng == 0))
		t_rng = xchan__random_seed();
	uint64_t x = t_rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t_rng = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- backoff between abandoned rounds ---------------------------------------- */

#define BACKOFF_SPIN_ROUNDS 6 /* rounds 2..7 spin up to 2, 4 ... 64 pauses */

static _Atomic uint64_t g_abandoned, g_max_in_a_row;

void
xchan__alts_backoff(unsigned round)
{
	atomic_fetch_add_explicit(&g_abandoned, 1, memory_order_relaxed);
	uint64_t max =
	    atomic_load_explicit(&g_max_in_a_row, memory_order_relaxed);
	while (round > max &&
	       !atomic_compare_exchange_weak_explicit(&g_max_in_a_row, &max,
	           round, memory_order_relaxed, memory_order_relaxed))
		;
	if (round <= 1)
		return;
	if (round <= BACKOFF_SPIN_ROUNDS + 1) {
		/* Random in [1, 2^(round-1)]: two parties backing off from
		 * each other leave at different times. */
		uint64_t span = 1ull << (round - 1);
		uint64_t n = 1 + (rng_next() >> 11) % span;
		for (uint64_t i = 0; i < n; i++)
			xchan__cpu_relax();
		return;
	}
	/* A long streak: a yield alone may return at once (an idle core)
	 * and keep the two in step, so the wait stays random and grows: a
	 * thread naps 1..2^(round-8) us (up to ~1 ms); a go task yields its
	 * worker, then pauses 1..2^(round-2) times (up to 4096). */
	if (xchan__task_current() != NULL) {
		xchan__task_yield();
		unsigned e = round - 2 < 12 ? round - 2 : 12;
		uint64_t n = 1 + (rng_next() >> 11) % (1ull << e);
		for (uint64_t i = 0; i < n; i++)
			xchan__cpu_relax();
	} else {
		unsigned k = round - 8 < 10 ? round - 8 : 10;
		uint64_t us = 1 + (rng_next() >> 11) % (1ull << k);
		struct timespec ts = {0, (long)(us * 1000)};
		nanosleep(&ts, NULL);
	}
}

void
xchan__alts_get_stats(xchan__alts_stats *out)
{
	out->abandoned =
	    atomic_load_explicit(&g_abandoned, memory_order_relaxed);
	out->max_in_a_row =
	    atomic_load_explicit(&g_max_in_a_row, memory_order_relaxed);
}

int32_t
xchan__alts_check(const xchan_clause *cl, size_t n)
{
	if (cl == NULL || n == 0 || n > XCHAN__ALTS_MAX)
		return XCHAN_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (cl[i].chan == NULL)
			return XCHAN_EINVAL;
		if (cl[i].op == XCHAN_ALT_PUT) {
			if (!xchan__val_kind_valid(cl[i].val))
				return XCHAN_EINVAL;
			if (cl[i].val.kind == XCHAN_NIL)
				return XCHAN_ENIL; /* ASYNC-255: before anything */
		} else if (cl[i].op != XCHAN_ALT_TAKE) {
			return XCHAN_EINVAL;
		}
	}
	if (xchan__forked())
		return XCHAN_EFORK;
	return XCHAN_OK;
}

void
xchan__alts_order(uint32_t *order, size_t n, uint32_t flags)
{
	for (size_t i = 0; i < n; i++)
		order[i] = (uint32_t)i;
	if (flags & XCHAN_ALTS_PRIORITY)
		return;
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)((rng_next() >> 11) % (i + 1));
		uint32_t t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

bool
xchan__alts_try(const xchan_clause *cl, const uint32_t *order, size_t n,
    xchan_result *res)
{
	for (size_t k = 0; k < n; k++) {
		uint32_t i = order[k];
		int32_t err;
		xchan_val v = xchan_val_nil();
		if (cl[i].op == XCHAN_ALT_PUT)
			err = xchan_offer(cl[i].chan, cl[i].val);
		else
			err = xchan_poll(&v, cl[i].chan);
		if (err == XCHAN_EAGAIN)
			continue;
		res->err = err;
		res->index = (int32_t)i;
		res->val = v;
		return true;
	}
	return false;
}

/* Under ch->lock: would the operation complete now?  No side effects but
 * unlinking dead waiters met on the way. */
static bool
peek_ready(xchan_chan *ch, bool is_put, xchan__sel *self)
{
	if (ch->closed && is_put)
		return true;
	if (ch->step) {
		/* A transform channel is ready only for what needs no step:
		 * a buffered value, or the end of a completed channel.  The
		 * rest (room for a put, queued puts for a take, a completion
		 * to run) is done by the step lock's holder after this
		 * waiter is queued (xchan__xform_kick): registration never
		 * waits for another thread's step. */
		return !is_put && (xchan__buf_count(ch) > 0 ||
		                      (ch->closed && ch->completed));
	}
	if (!is_put && (xchan__buf_count(ch) > 0 || ch->closed))
		return true;
	if (is_put && ch->buf_kind != XCHAN_BUF_NONE &&
	    (ch->buf_kind != XCHAN_BUF_FIXED || xchan__buf_count(ch) < ch->cap))
		return true;
	xchan__waitq *q = is_put ? &ch->takes : &ch->puts;
	for (xchan__waiter *w = q->head, *next; w; w = next) {
		next = w->next;
		if (w->sel == self)
			continue;
		if (xchan__sel_live(w->sel))
			return true;
		xchan__chan_unlink(ch, w);
	}
	return false;
}

int
xchan__alts_register(xchan__sel *s, xchan__waiter *w, const xchan_clause *cl,
    const uint32_t *order, size_t n, size_t *nreg)
{
	*nreg = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = order[k];
		xchan_chan *ch = cl[i].chan;
		bool is_put = cl[i].op == XCHAN_ALT_PUT;
		w[i] = (xchan__waiter) {.sel = s,
		    .chan = ch,
		    .index = (int32_t)i,
		    .is_put = is_put,
		    .val = is_put ? cl[i].val : xchan_val_nil()};
		xchan__chan_lock(ch);
		if (peek_ready(ch, is_put, s)) {
			xchan__chan_unlock(ch);
			return XCHAN__REG_READY;
		}
		if (!xchan__chan_may_queue(ch, is_put)) {
			xchan__chan_unlock(ch);
			return XCHAN__REG_LIMIT;
		}
		xchan__chan_enqueue(ch, &w[i]);
		xchan__chan_unlock(ch);
		(*nreg)++;
		if (ch->step)
			xchan__xform_kick(ch); /* it may be served by a step */
	}
	return XCHAN__REG_OK;
}

void
xchan__alts_withdraw(xchan__waiter *w, const uint32_t *order, size_t nreg,
    int32_t fired)
{
	for (size_t k = 0; k < nreg; k++) {
		uint32_t i = order[k];
		if ((int32_t)i != fired)
			xchan__chan_withdraw(&w[i]);
	}
}

/* A claimed (DONE) sel's put clause may carry a value a stopping transform
 * discarded; it is released here, on the owner's thread. */
static void
settle_result(xchan_result *out, const xchan__sel *s, const xchan_clause *cl)
{
	*out = s->result;
	if (out->index >= 0 && cl[out->index].op == XCHAN_ALT_PUT) {
		xchan_val_release(out->val);
		out->val = xchan_val_nil();
	}
}

#define ALTS_STACK 8

static void
release_chans(const xchan_clause *cl, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xchan_chan_release(cl[i].chan);
}

static int32_t
alts_impl(xchan_result *out, const xchan_clause *cl, size_t n, uint32_t flags,
    xchan_deadline deadline, const xchan_wait_opts *opts)
{
	if (out == NULL)
		return XCHAN_EINVAL;
	for (size_t i = 0;
	     XCHAN__DEBUG_CHECKS && cl != NULL && i < n && i <= XCHAN__ALTS_MAX;
	     i++) {
		XCHAN__DBG_CHAN_NAMED(cl[i].chan, "xchan_alts");
		if (cl[i].op == XCHAN_ALT_PUT)
			XCHAN__DBG_VAL_NAMED(cl[i].val, "xchan_alts");
	}
	out->err = XCHAN_EINVAL;
	out->index = -1;
	out->val = xchan_val_nil();
	int32_t err = xchan__alts_check(cl, n);
	if (err == XCHAN_OK)
		err = xchan__wait_opts_check(opts);
	if (err != XCHAN_OK)
		return out->err = err;
	uint32_t order_stack[ALTS_STACK];
	xchan__waiter w_stack[ALTS_STACK];
	uint32_t *order = order_stack;
	xchan__waiter *w = w_stack;
	if (n > ALTS_STACK) {
		order = xchan__alloc(n * sizeof(*order));
		w = xchan__alloc(n * sizeof(*w));
		if (order == NULL || w == NULL) {
			err = XCHAN_ENOMEM;
			goto done;
		}
	}
	xchan__alts_order(order, n, flags);
	for (unsigned round = 0;;) {
		if (xchan__alts_try(cl, order, n, out)) {
			err = out->err;
			goto done;
		}
		if (deadline == XCHAN_DEADLINE_POLL) {
			err = XCHAN_EAGAIN;
			goto done;
		}
		if (deadline != XCHAN_DEADLINE_NEVER &&
		    deadline <= xchan_now()) {
			err = XCHAN_ETIMEDOUT;
			goto done;
		}
		xchan__sel s;
		xchan__sel_init(&s);
		size_t nreg;
		/* Waiters keep their channels alive: another thread may drop
		 * the caller's last reference while we wait. */
		for (size_t i = 0; i < n; i++)
			xchan_chan_retain(cl[i].chan);
		int reg = xchan__alts_register(&s, w, cl, order, n, &nreg);
		if (reg != XCHAN__REG_OK && xchan__sel_cancel(&s)) {
			xchan__alts_withdraw(w, order, nreg, -1);
			release_chans(cl, n);
			if (reg == XCHAN__REG_LIMIT) {
				err = XCHAN_ELIMIT;
				goto done;
			}
			/* Something became ready: try again (after a
			 * random wait if this keeps happening). */
			xchan__alts_backoff(++round);
			continue;
		}
		/* Registered (or already claimed by a counterpart).  The
		 * options apply only to a real wait. */
		if (reg == XCHAN__REG_OK)
			xchan__sel_apply_opts(&s, opts);
		err = xchan__sel_wait(&s,
		    reg == XCHAN__REG_OK ? deadline : XCHAN_DEADLINE_NEVER);
		if (err != XCHAN_OK) {
			xchan__alts_withdraw(w, order, nreg, -1);
			release_chans(cl, n);
			goto done;
		}
		xchan__alts_withdraw(w, order, nreg, s.result.index);
		release_chans(cl, n);
		settle_result(out, &s, cl);
		err = out->err;
		goto done;
	}
done:
	if (n > ALTS_STACK) {
		xchan__free(order, n * sizeof(*order));
		xchan__free(w, n * sizeof(*w));
	}
	if (err == XCHAN_EAGAIN || err == XCHAN_ETIMEDOUT ||
	    err == XCHAN_ELIMIT || err == XCHAN_ENOMEM ||
	    err == XCHAN_ECANCELED || err == XCHAN_EINTR) {
		out->index = -1;
		out->val = xchan_val_nil();
	}
	out->err = err;
	return err;
}

int32_t
xchan_alts(xchan_result *out, const xchan_clause *cl, size_t n, uint32_t flags,
    xchan_deadline deadline)
{
	return alts_impl(out, cl, n, flags, deadline, NULL);
}

int32_t
xchan_alts_ex(xchan_result *out, const xchan_clause *cl, size_t n,
    uint32_t flags, xchan_deadline deadline, const xchan_wait_opts *opts)
{
	return alts_impl(out, cl, n, flags, deadline, opts);
}
