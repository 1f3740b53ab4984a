/*
 * lfring.c — the lock-free ring of fixed buffers (see lfring.h).
 */
#include "lfring.h"

#include "platform/platform.h"
#include "val.h"

xchan__lfring *
xchan__lfring_new(uint64_t cap)
{
	if (cap == 0 || cap > XCHAN__LFRING_MAX_CAP)
		return NULL;
	uint64_t one_lap = 1;
	while (one_lap < cap + 1)
		one_lap <<= 1;
	/* One block: the ring aligned to a cache line, then the slots. */
	size_t size = sizeof(xchan__lfring) + cap * sizeof(xchan__lfslot) +
	              XCHAN_CACHELINE;
	void *raw = xchan__alloc(size);
	if (raw == NULL)
		return NULL;
	uintptr_t at = ((uintptr_t)raw + XCHAN_CACHELINE - 1) &
	               ~(uintptr_t)(XCHAN_CACHELINE - 1);
	xchan__lfring *r = (xchan__lfring *)at;
	atomic_init(&r->tail, XCHAN__LF_GATE);
	atomic_init(&r->head, XCHAN__LF_GATE);
	r->cap = cap;
	r->one_lap = one_lap;
	r->slots = (xchan__lfslot *)(r + 1);
	r->raw = raw;
	r->raw_size = size;
	xchan__lfwait_init(&r->takew);
	xchan__lfwait_init(&r->putw);
	for (uint64_t i = 0; i < cap; i++) {
		atomic_init(&r->slots[i].stamp, i);
		r->slots[i].v = xchan_val_nil();
	}
	return r;
}

void
xchan__lfring_free(xchan__lfring *r)
{
	if (r == NULL)
		return;
	xchan_val v;
	while (xchan__lfring_pop_owned(r, &v))
		xchan_val_release(v);
	xchan__free(r->raw, r->raw_size);
}

/* Another thread claimed a slot and is a few instructions from publishing
 * it, unless it was preempted: spin a little, then give up the core. */
static inline void
wait_for_peer(unsigned *spins)
{
	if (++*spins < 64)
		xchan__cpu_relax();
	else
		xchan__thread_yield();
}

/* The position after `pos` (skipping to the next lap after the last slot). */
static inline uint64_t
next_pos(const xchan__lfring *r, uint64_t pos)
{
	uint64_t index = pos & (r->one_lap - 1);
	if (index + 1 < r->cap)
		return pos + 1;
	return ((pos & ~(r->one_lap - 1)) + r->one_lap) & XCHAN__LF_POS;
}

static int
push(xchan__lfring *r, xchan_val v, bool owned)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	unsigned spins = 0;
	for (;;) {
		uint64_t gate = tail & XCHAN__LF_GATE;
		if (gate && !owned)
			return XCHAN__LF_GATED;
		uint64_t pos = tail & XCHAN__LF_POS;
		xchan__lfslot *s = &r->slots[pos & (r->one_lap - 1)];
		uint64_t stamp =
		    atomic_load_explicit(&s->stamp, memory_order_acquire);
		if (pos == stamp) {
			/* A failed CAS reloads `tail`: a gate closed meanwhile
			 * shows up in it. */
			if (atomic_compare_exchange_weak_explicit(&r->tail,
			        &tail, next_pos(r, pos) | gate,
			        memory_order_seq_cst, memory_order_relaxed)) {
				s->v = v;
				atomic_store_explicit(&s->stamp, pos + 1,
				    memory_order_release);
				return XCHAN__LF_OK;
			}
		} else if (((stamp + r->one_lap) & XCHAN__LF_POS) == pos + 1) {
			/* The slot still holds last lap's value: full unless
			 * a consumer has moved on meanwhile. */
			atomic_thread_fence(memory_order_seq_cst);
			uint64_t head = atomic_load_explicit(&r->head,
			                    memory_order_relaxed) &
			                XCHAN__LF_POS;
			if (((head + r->one_lap) & XCHAN__LF_POS) == pos)
				return XCHAN__LF_FULL;
			wait_for_peer(&spins);
			tail = atomic_load_explicit(&r->tail,
			    memory_order_relaxed);
		} else {
			wait_for_peer(&spins);
			tail = atomic_load_explicit(&r->tail,
			    memory_order_relaxed);
		}
	}
}

static int
pop(xchan__lfring *r, xchan_val *out, bool owned)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	unsigned spins = 0;
	for (;;) {
		uint64_t gate = head & XCHAN__LF_GATE;
		if (gate && !owned)
			return XCHAN__LF_GATED;
		uint64_t pos = head & XCHAN__LF_POS;
		xchan__lfslot *s = &r->slots[pos & (r->one_lap - 1)];
		uint64_t stamp =
		    atomic_load_explicit(&s->stamp, memory_order_acquire);
		if (pos + 1 == stamp) {
			if (atomic_compare_exchange_weak_explicit(&r->head,
			        &head, next_pos(r, pos) | gate,
			        memory_order_seq_cst, memory_order_relaxed)) {
				*out = s->v;
				atomic_store_explicit(&s->stamp,
				    (pos + r->one_lap) & XCHAN__LF_POS,
				    memory_order_release);
				return XCHAN__LF_OK;
			}
		} else if (stamp == pos) {
			/* Not written this lap: empty unless a producer has
			 * claimed it meanwhile. */
			atomic_thread_fence(memory_order_seq_cst);
			uint64_t tail = atomic_load_explicit(&r->tail,
			                    memory_order_relaxed) &
			                XCHAN__LF_POS;
			if (tail == pos)
				return XCHAN__LF_FULL;
			wait_for_peer(&spins);
			head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
		} else {
			wait_for_peer(&spins);
			head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
		}
	}
}

int
xchan__lfring_push(xchan__lfring *r, xchan_val v)
{
	return push(r, v, false);
}

int
xchan__lfring_pop(xchan__lfring *r, xchan_val *out)
{
	return pop(r, out, false);
}

bool
xchan__lfring_push_owned(xchan__lfring *r, xchan_val v)
{
	return push(r, v, true) == XCHAN__LF_OK;
}

bool
xchan__lfring_pop_owned(xchan__lfring *r, xchan_val *out)
{
	return pop(r, out, true) == XCHAN__LF_OK;
}

void
xchan__lfring_gate_close(xchan__lfring *r)
{
	/* Skip the RMW when closed already: while waiters exist the gates
	 * stay closed across many locked sections. */
	if (!(atomic_load_explicit(&r->tail, memory_order_relaxed) &
	        XCHAN__LF_GATE))
		atomic_fetch_or_explicit(&r->tail, XCHAN__LF_GATE,
		    memory_order_seq_cst);
	if (!(atomic_load_explicit(&r->head, memory_order_relaxed) &
	        XCHAN__LF_GATE))
		atomic_fetch_or_explicit(&r->head, XCHAN__LF_GATE,
		    memory_order_seq_cst);
}

void
xchan__lfring_gate_open(xchan__lfring *r)
{
	atomic_fetch_and_explicit(&r->tail, XCHAN__LF_POS,
	    memory_order_seq_cst);
	atomic_fetch_and_explicit(&r->head, XCHAN__LF_POS,
	    memory_order_seq_cst);
}

bool
xchan__lfring_gate_is_open(xchan__lfring *r)
{
	return !(atomic_load_explicit(&r->tail, memory_order_relaxed) &
	         XCHAN__LF_GATE);
}

bool
xchan__lfring_probe(xchan__lfring *r, bool is_put)
{
	uint64_t tail = atomic_load(&r->tail) & XCHAN__LF_POS;
	uint64_t head = atomic_load(&r->head) & XCHAN__LF_POS;
	if (is_put)
		return ((head + r->one_lap) & XCHAN__LF_POS) != tail;
	return head != tail;
}

uint64_t
xchan__lfring_count(xchan__lfring *r)
{
	for (;;) {
		uint64_t tail = atomic_load(&r->tail) & XCHAN__LF_POS;
		uint64_t head = atomic_load(&r->head) & XCHAN__LF_POS;
		if ((atomic_load(&r->tail) & XCHAN__LF_POS) != tail)
			continue;
		uint64_t hix = head & (r->one_lap - 1);
		uint64_t tix = tail & (r->one_lap - 1);
		if (hix < tix)
			return tix - hix;
		if (hix > tix)
			return r->cap - hix + tix;
		return tail == head ? 0 : r->cap;
	}
}
