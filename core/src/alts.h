/*
 * alts.h — the engine shared by blocking alts (alts.c) and every async
 * operation (async.c): try each clause now; otherwise register one waiter
 * per clause under one sel.
 *
 * Registration never performs an operation: under each channel's lock it
 * either finds the channel ready (then the round is abandoned: the owner
 * cancels its own sel, withdraws what it registered and tries again, as
 * crossbeam's select does) or queues the waiter.  A counterpart that arrives
 * after a waiter is queued sees it and claims the sel.  So every completion
 * goes through exactly one successful claim of the sel.
 */
#ifndef XCHAN_ALTS_H
#define XCHAN_ALTS_H

#include "chan.h"

#define XCHAN__ALTS_MAX XCHAN_ALTS_MAX_CLAUSES /* public: xchan.h */

/* Validates clauses (before anything is tried). */
int32_t xchan__alts_check(const xchan_clause *cl, size_t n);

/* The order to try clauses in: array order with XCHAN_ALTS_PRIORITY, else a
 * uniformly random permutation from the thread's generator. */
void xchan__alts_order(uint32_t *order, size_t n, uint32_t flags);

/* Tries each clause once, in order.  True if one completed (res filled:
 * err OK/ECLOSED/ENOMEM, index, taken value). */
bool xchan__alts_try(const xchan_clause *cl, const uint32_t *order, size_t n,
    xchan_result *res);

enum { XCHAN__REG_OK = 0, XCHAN__REG_READY = 1, XCHAN__REG_LIMIT = 2 };

/* Registers waiters w[order[k]] for sel s (w[i] describes clause i).
 * *nreg receives how many (in order) were queued. */
int xchan__alts_register(xchan__sel *s, xchan__waiter *w,
    const xchan_clause *cl, const uint32_t *order, size_t n, size_t *nreg);

/* Called after the `round`-th (1, 2, ...) abandoned registration round of
 * one operation, before it tries again: the first retry is immediate (the
 * channel that was found ready usually completes it); rounds 2-7 wait a
 * random 1..2^(round-1) pauses; from the 8th a thread naps a random
 * 1..2^(round-8) us (at most ~1 ms) and a go task yields its worker, then
 * pauses a random 1..2^(round-2) times (at most 4096).  Two alts crossing the same
 * channels in opposite orders each find the other's waiter and abandon
 * together; the random wait breaks that lockstep.  Also counts rounds
 * (xchan__alts_get_stats). */
void xchan__alts_backoff(unsigned round);

typedef struct xchan__alts_stats {
	uint64_t abandoned;    /* abandoned registration rounds */
	uint64_t max_in_a_row; /* most abandoned rounds of one operation */
} xchan__alts_stats;
void xchan__alts_get_stats(xchan__alts_stats *out);

/* Withdraws the registered waiters (all but the one that fired, which its
 * claimer already unlinked). */
void xchan__alts_withdraw(xchan__waiter *w, const uint32_t *order, size_t nreg,
    int32_t fired);

#endif
