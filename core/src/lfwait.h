/*
 * lfwait.h — the plain waiters of a lock-free ring (crossbeam-channel's
 * SyncWaker): blocking puts that found the ring full and blocking takes
 * that found it empty, asleep until a counterpart makes room / adds a value
 * and wakes one of them to try again.
 *
 * Design notes
 * ------------
 * Unlike the channel's own waiter queues (chan.h), these lists do NOT close
 * the ring's gates: while plain waiters sleep, every other put and take
 * still uses the ring without the channel lock.  A plain waiter is an
 * ordinary sel with one waiter (sel.h), so threads spin-then-futex and go
 * tasks park exactly as for any other wait, and deadlines, cancel tokens
 * and EINTR work unchanged.
 *
 * Lock: `lock` guards head/tail and each listed waiter's next/prev/linked/
 * plain fields.  It is a leaf: taken alone, or inside the channel lock
 * (order: channel lock -> lfwait lock), never the other way round.
 *
 * No lost wake-up (Dekker, both sides seq_cst): a waiter increments `n`
 * (seq_cst, under the lock) and then probes the ring (seq_cst loads of its
 * index words, xchan__lfring_probe); a counterpart moves an index word
 * (a seq_cst CAS) and then loads `n` (seq_cst).  In the single total order
 * one of the two comes first, so either the waiter sees the room / value
 * and does not sleep, or the counterpart sees `n > 0` and wakes someone.
 * A counterpart that loads `n == 0` pays exactly that one load.
 *
 * A wake claims the first live waiter's sel (the usual CAS out of
 * WAITING/PARKED).  The lock-free paths (chan.c) then try to complete its
 * operation for it, in the room (with the value) their own operation just
 * made: a pop pushes the first waiting put's value, a push pops a value
 * for the first waiting take, as core.async moves the oldest waiting put
 * into the buffer.  If a newcomer got there first, or in any other wake
 * (a lock holder's), the waiter gets XCHAN__LF_RETRY and tries again from
 * the start, registering again if it loses.  A waiter whose deadline or
 * cancel won the CAS was not claimed, so the wake passes to the next one:
 * no wake is ever spent on an operation that neither completes nor tries
 * again.
 *
 * Close moves the plain putters into the channel's queue of waiting puts
 * (core.async: puts waiting at close survive it) and wakes every plain
 * taker to try again (on the locked path, which drains the buffer and then
 * answers "closed"); `closed` then refuses new registrations.
 */
#ifndef XCHAN_LFWAIT_H
#define XCHAN_LFWAIT_H

#include "common.h"
#include "lock.h"
#include "sel.h"

/* The result a wake gives a plain waiter's sel: "try again". */
#define XCHAN__LF_RETRY (-16)

typedef struct xchan__lfwaitq {
	_Atomic uint32_t n; /* listed waiters (live or not); read lock-free */
	xchan__lock lock;
	xchan__waiter *head, *tail; /* under lock */
	uint32_t closed;            /* under lock: the channel closed */
	/* Wakes owed by the channel lock's holder: values it added (takers'
	 * list) or room it made (putters' list) on the ring; under the
	 * channel lock, paid after its release. */
	uint32_t owed;
} xchan__lfwaitq;

void xchan__lfwait_init(xchan__lfwaitq *q);

/* Results of xchan__lfwait_add. */
enum {
	XCHAN__LFW_ADDED,
	XCHAN__LFW_LIMIT,  /* max_pending live waiters listed already */
	XCHAN__LFW_CLOSED, /* the channel is closed: use the locked path */
};

/* Lists `w` (its sel WAITING, owned by the caller) at the tail. */
int xchan__lfwait_add(xchan__lfwaitq *q, xchan__waiter *w,
    uint32_t max_pending);

/* The owner takes `w` back after its wait ended without a claim (or before
 * sleeping).  False if close moved it to the channel's own queue (then the
 * caller withdraws it there, xchan__chan_withdraw). */
bool xchan__lfwait_remove(xchan__lfwaitq *q, xchan__waiter *w);

/* The owner's probe found room (a value) right after listing `w`: takes it
 * back and cancels its sel, unless a wake or the close got there first
 * (then the owner waits as usual: for the wake's DONE, or, moved by close,
 * as a waiting put that survives the close).  True if taken back. */
bool xchan__lfwait_cancel(xchan__lfwaitq *q, xchan__waiter *w);

/* Unlinks the first live waiter and claims its sel (dead ones met on the
 * way are dropped); NULL if none.  The caller completes it: fills the
 * sel's result (XCHAN__LF_RETRY, or the completed operation) and calls
 * xchan__sel_finish, with no lock held. */
xchan__waiter *xchan__lfwait_claim_slow(xchan__lfwaitq *q);

static inline xchan__waiter *
xchan__lfwait_claim(xchan__lfwaitq *q)
{
	if (XCHAN_LIKELY(atomic_load(&q->n) == 0))
		return NULL;
	return xchan__lfwait_claim_slow(q);
}

/* Wakes one live waiter to try again.  False if there was none.  No lock
 * may be held but the caller's own channel lock... none at all is best. */
bool xchan__lfwait_wake_one_slow(xchan__lfwaitq *q);

static inline bool
xchan__lfwait_wake_one(xchan__lfwaitq *q)
{
	if (XCHAN_LIKELY(atomic_load(&q->n) == 0))
		return false;
	return xchan__lfwait_wake_one_slow(q);
}

/* Close, under the channel lock: marks the list closed and unlinks every
 * waiter; returns the live ones (linked through `next`), the dead ones are
 * dropped (their owners find them unlinked). */
xchan__waiter *xchan__lfwait_close(xchan__lfwaitq *q);

/* Live waiters listed (introspection). */
uint32_t xchan__lfwait_count(xchan__lfwaitq *q);

#endif
