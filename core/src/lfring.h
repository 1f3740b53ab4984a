/*
 * lfring.h — the lock-free ring behind a fixed buffer (no transform).
 *
 * Design notes
 * ------------
 * A bounded MPMC array queue with one stamp per slot (crossbeam-channel's
 * array flavour, which takes any capacity): `tail` and `head` count
 * positions as (lap | index); a slot is writable when its stamp equals the
 * tail position, readable when it equals head + 1.  Producers only write
 * the tail line and the slot, consumers the head line and the slot, so a
 * producer and a consumer do not fight over one lock's cache line.
 *
 * The gate.  Bit 63 of `tail` and of `head` (XCHAN__LF_GATE) says "closed
 * to lock-free users".  The channel's lock holder closes both gates when it
 * needs the ring to agree with its waiter queues (chan.c), and opens them
 * again at unlock only while the channel is open and nobody waits.  A
 * lock-free push or pop reads its index word anyway, so seeing the gate
 * costs nothing; and because the gate lives in the word the operation CASes,
 * a lock-free attempt either claimed its slot before the gate closed (then
 * the lock holder sees the moved index and, at worst, waits for that slot's
 * stamp) or its CAS fails and it sees the gate.  No in-flight counter, no
 * flag word shared by both sides.
 *
 * Only the gate holder (the channel lock holder after xchan__lfring_gate
 * close) uses the *_owned operations; they ignore the gate and keep it set.
 *
 * Orders: the CASes on tail/head and the gate RMWs are seq_cst (they also
 * order the emptiness and fullness re-checks); a slot's value is published
 * by a release store of its stamp and read after an acquire load of it.
 * Positions are counted modulo 2^63 (XCHAN__LF_POS).
 */
#ifndef XCHAN_LFRING_H
#define XCHAN_LFRING_H

#include "common.h"
#include "lfwait.h"

#define XCHAN__LF_GATE (UINT64_C(1) << 63)
#define XCHAN__LF_POS (XCHAN__LF_GATE - 1)

typedef struct xchan__lfslot {
	_Atomic uint64_t stamp;
	xchan_val v;
} xchan__lfslot;

typedef struct xchan__lfring {
	_Atomic uint64_t tail; /* producer line */
	char pad0[XCHAN_CACHELINE - 8];
	_Atomic uint64_t head; /* consumer line */
	char pad1[XCHAN_CACHELINE - 8];
	/* Plain waiters (lfwait.h), each list on a line of its own: producers
	 * read takew.n after every push, consumers putw.n after every pop. */
	xchan__lfwaitq takew;
	char pad2[XCHAN_CACHELINE - sizeof(xchan__lfwaitq) % XCHAN_CACHELINE];
	xchan__lfwaitq putw;
	char pad3[XCHAN_CACHELINE - sizeof(xchan__lfwaitq) % XCHAN_CACHELINE];
	/* constant */
	uint64_t cap, one_lap;
	xchan__lfslot *slots;
	void *raw; /* the allocation (aligned inside) */
	size_t raw_size;
} xchan__lfring;

/* The largest capacity served by a lock-free ring (its slots are allocated
 * up front; larger buffers use the growable locked ring). */
#define XCHAN__LFRING_MAX_CAP 65536

/* Results of the lock-free operations. */
enum {
	XCHAN__LF_OK,    /* done */
	XCHAN__LF_FULL,  /* push: full; pop: empty (with the gate open) */
	XCHAN__LF_GATED, /* the gate is closed: use the lock */
};

/* A ring of `cap` slots with both gates closed (NULL: out of memory). */
xchan__lfring *xchan__lfring_new(uint64_t cap);
/* Frees the ring, releasing values still in it.  No concurrent users. */
void xchan__lfring_free(xchan__lfring *r);

/* Lock-free: appends `v` (moved on OK) / removes the oldest value. */
int xchan__lfring_push(xchan__lfring *r, xchan_val v);
int xchan__lfring_pop(xchan__lfring *r, xchan_val *out);

/* Gate holder only: the same, ignoring the gate.  False if full / empty. */
bool xchan__lfring_push_owned(xchan__lfring *r, xchan_val v);
bool xchan__lfring_pop_owned(xchan__lfring *r, xchan_val *out);

/* Closes both gates (no-op where closed already). */
void xchan__lfring_gate_close(xchan__lfring *r);
/* Opens both gates (the caller holds them). */
void xchan__lfring_gate_open(xchan__lfring *r);
/* Whether the gates are open (a hint unless the caller holds them). */
bool xchan__lfring_gate_is_open(xchan__lfring *r);

/* Ignoring the gate: whether a push would find room (is_put) / a pop a
 * value, judged from the index words alone (seq_cst loads: the probe of
 * lfwait.h's no-lost-wake-up pair).  A slot claimed but not yet published
 * counts as done. */
bool xchan__lfring_probe(xchan__lfring *r, bool is_put);

/* Number of values; exact for the gate holder. */
uint64_t xchan__lfring_count(xchan__lfring *r);

#endif
