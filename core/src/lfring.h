/*
 * lfring.h — the lock-free ring behind a fixed buffer (no transform).
 *
 * Design notes
 * ------------
 * A bounded MPMC array queue with one stamp per slot (crossbeam-channel's
 * array flavour, which takes any capacity): `tail` and `head` count
 * positions as (lap | index); a slot is writable when its stamp equals the
 * tail, readable when it equals head + 1.  Producers only write the tail
 * line and the slot, consumers the head line and the slot, so a producer
 * and a consumer do not fight over one lock's cache line.
 *
 * The channel uses the ring without its lock only while it has no waiters
 * and is open (chan.c, "fast paths").  `pin` and `cin` count producers and
 * consumers inside such a lock-free attempt; a locked section raises the
 * channel's SLOW flag and then waits until both are zero, after which the
 * ring is touched only under the channel lock.  Fast paths increment their
 * counter (seq_cst) before reading the flags (seq_cst), and the locked side
 * stores the flag (seq_cst) before reading the counters: one of them always
 * sees the other.
 *
 * Orders: the CAS on tail/head is seq_cst (it also orders the emptiness and
 * fullness re-checks); the slot value is published by a release store of
 * the stamp and read after an acquire load of it.
 */
#ifndef XCHAN_LFRING_H
#define XCHAN_LFRING_H

#include "common.h"

typedef struct xchan__lfslot {
	_Atomic uint64_t stamp;
	xchan_val v;
} xchan__lfslot;

typedef struct xchan__lfring {
	/* producer line */
	_Atomic uint64_t tail;
	_Atomic uint32_t pin; /* producers inside a lock-free attempt */
	char pad0[XCHAN_CACHELINE - 12];
	/* consumer line */
	_Atomic uint64_t head;
	_Atomic uint32_t cin; /* consumers inside a lock-free attempt */
	char pad1[XCHAN_CACHELINE - 12];
	/* constant */
	uint64_t cap, one_lap;
	xchan__lfslot *slots;
	void *raw; /* the allocation (aligned inside) */
	size_t raw_size;
} xchan__lfring;

/* The largest capacity served by a lock-free ring (its slots are allocated
 * up front; larger buffers use the growable locked ring). */
#define XCHAN__LFRING_MAX_CAP 65536

/* A ring of `cap` slots (NULL: out of memory). */
xchan__lfring *xchan__lfring_new(uint64_t cap);
/* Frees the ring, releasing values still in it.  No concurrent users. */
void xchan__lfring_free(xchan__lfring *r);

/* Appends `v` (moved on success).  False if full. */
bool xchan__lfring_push(xchan__lfring *r, xchan_val v);
/* Removes the oldest value into *out.  False if empty. */
bool xchan__lfring_pop(xchan__lfring *r, xchan_val *out);
/* Number of values; exact when nobody else uses the ring. */
uint64_t xchan__lfring_count(xchan__lfring *r);

#endif
