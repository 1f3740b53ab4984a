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
	atomic_init(&r->tail, 0);
	atomic_init(&r->pin, 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->cin, 0);
	r->cap = cap;
	r->one_lap = one_lap;
	r->slots = (xchan__lfslot *)(r + 1);
	r->raw = raw;
	r->raw_size = size;
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
	while (xchan__lfring_pop(r, &v))
		xchan_val_release(v);
	xchan__free(r->raw, r->raw_size);
}

bool
xchan__lfring_push(xchan__lfring *r, xchan_val v)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	for (;;) {
		uint64_t index = tail & (r->one_lap - 1);
		uint64_t lap = tail & ~(r->one_lap - 1);
		xchan__lfslot *s = &r->slots[index];
		uint64_t stamp =
		    atomic_load_explicit(&s->stamp, memory_order_acquire);
		if (tail == stamp) {
			uint64_t next =
			    index + 1 < r->cap ? tail + 1 : lap + r->one_lap;
			if (atomic_compare_exchange_weak_explicit(&r->tail,
			        &tail, next, memory_order_seq_cst,
			        memory_order_relaxed)) {
				s->v = v;
				atomic_store_explicit(&s->stamp, tail + 1,
				    memory_order_release);
				return true;
			}
		} else if (stamp + r->one_lap == tail + 1) {
			/* The slot still holds last lap's value: full unless
			 * a consumer has moved on meanwhile. */
			atomic_thread_fence(memory_order_seq_cst);
			uint64_t head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
			if (head + r->one_lap == tail)
				return false;
			xchan__cpu_relax();
			tail = atomic_load_explicit(&r->tail,
			    memory_order_relaxed);
		} else {
			/* Another producer is mid-write: it is a few
			 * instructions from done. */
			xchan__cpu_relax();
			tail = atomic_load_explicit(&r->tail,
			    memory_order_relaxed);
		}
	}
}

bool
xchan__lfring_pop(xchan__lfring *r, xchan_val *out)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	for (;;) {
		uint64_t index = head & (r->one_lap - 1);
		uint64_t lap = head & ~(r->one_lap - 1);
		xchan__lfslot *s = &r->slots[index];
		uint64_t stamp =
		    atomic_load_explicit(&s->stamp, memory_order_acquire);
		if (head + 1 == stamp) {
			uint64_t next =
			    index + 1 < r->cap ? head + 1 : lap + r->one_lap;
			if (atomic_compare_exchange_weak_explicit(&r->head,
			        &head, next, memory_order_seq_cst,
			        memory_order_relaxed)) {
				*out = s->v;
				atomic_store_explicit(&s->stamp,
				    head + r->one_lap, memory_order_release);
				return true;
			}
		} else if (stamp == head) {
			atomic_thread_fence(memory_order_seq_cst);
			uint64_t tail = atomic_load_explicit(&r->tail,
			    memory_order_relaxed);
			if (tail == head)
				return false;
			xchan__cpu_relax();
			head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
		} else {
			xchan__cpu_relax();
			head = atomic_load_explicit(&r->head,
			    memory_order_relaxed);
		}
	}
}

uint64_t
xchan__lfring_count(xchan__lfring *r)
{
	for (;;) {
		uint64_t tail = atomic_load(&r->tail);
		uint64_t head = atomic_load(&r->head);
		if (atomic_load(&r->tail) != tail)
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
