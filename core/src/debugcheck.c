/*
 * debugcheck.c — the debug build's use-after-release checks and their
 * quarantine (see debugcheck.h).
 *
 * Design notes
 *  - Lock: `g_q.lock`, a leaf lock guarding the quarantine ring; the only
 *    call made under it is none: an evicted object is freed after release.
 *  - Only objects allocated with malloc (no allocation hooks at the time)
 *    are quarantined, and they are freed with free(), so a test that
 *    installs hooks later (xchan__reset_for_tests) never receives them.
 *  - The checks read the count with a relaxed load: they look for a count
 *    that is 0, which no legal caller can see (it holds a reference).
 */
#include "debugcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "lock.h"

#define QUARANTINE_MAX 256
#define QUARANTINE_BYTES (4u << 20)
#define POISON 0xDB

static struct {
	xchan__lock lock;
	struct {
		void *p;
		size_t size;
	} ring[QUARANTINE_MAX];
	unsigned head, n;
	size_t bytes;
} g_q;

static _Noreturn void
dead_object(const char *fn, const char *what, const void *obj)
{
	fprintf(stderr,
	    "xchan: %s: %s %p used after its last reference was released "
	    "(a double release, or a use after release); aborting\n",
	    fn, what, obj);
	fflush(stderr);
	abort();
}

void
xchan__dbg_chan(const xchan_chan *ch, const char *fn)
{
	if (atomic_load_explicit(&((xchan_chan *)ch)->refs,
	        memory_order_relaxed) == 0)
		dead_object(fn, "channel", ch);
}

void
xchan__dbg_val(xchan_val v, const char *fn)
{
	if (v.kind < XCHAN_STRING || v.kind > XCHAN_ARRAY || v.bits == 0)
		return;
	void *rec = (void *)(uintptr_t)v.bits;
	if (v.kind == XCHAN_CHAN) {
		if (atomic_load_explicit(&((xchan_chan *)rec)->refs,
		        memory_order_relaxed) == 0)
			dead_object(fn, "channel value", rec);
		return;
	}
	/* Every value record starts with its 32-bit count (val.c). */
	if (atomic_load_explicit((_Atomic uint32_t *)rec,
	        memory_order_relaxed) == 0)
		dead_object(fn, xchan_kind_name(v.kind), rec);
}

void
xchan__dbg_count(const void *refs, const char *fn, const char *what,
    const void *obj)
{
	if (atomic_load_explicit((_Atomic uint32_t *)refs,
	        memory_order_relaxed) == 0)
		dead_object(fn, what, obj);
}

void
xchan__dbg_retire(void *p, size_t size, size_t count_off)
{
	if (p == NULL)
		return;
	if (xchan__alloc_hooked() || size > QUARANTINE_BYTES / 4) {
		xchan__free(p, size);
		return;
	}
	unsigned char *b = p;
	memset(b, POISON, count_off);
	memset(b + count_off + sizeof(uint32_t), POISON,
	    size - count_off - sizeof(uint32_t));
	atomic_store_explicit((_Atomic uint32_t *)(b + count_off), 0,
	    memory_order_relaxed);
	void *evict[QUARANTINE_MAX];
	unsigned nevict = 0;
	xchan__lock_acquire(&g_q.lock);
	while (g_q.n > 0 && (g_q.n == QUARANTINE_MAX ||
	                        g_q.bytes + size > QUARANTINE_BYTES)) {
		unsigned old =
		    (g_q.head + QUARANTINE_MAX - g_q.n) % QUARANTINE_MAX;
		evict[nevict++] = g_q.ring[old].p;
		g_q.bytes -= g_q.ring[old].size;
		g_q.n--;
	}
	g_q.ring[g_q.head].p = p;
	g_q.ring[g_q.head].size = size;
	g_q.head = (g_q.head + 1) % QUARANTINE_MAX;
	g_q.n++;
	g_q.bytes += size;
	xchan__lock_release(&g_q.lock);
	for (unsigned i = 0; i < nevict; i++)
		free(evict[i]);
}
