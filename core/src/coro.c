/*
 * coro.c — coroutine contexts and the stack pool.
 *
 * Design notes
 *  - Locks: `g_pool.lock` (a spinlock: its critical sections are a few
 *    loads and stores) guards the free list of stacks and the counters.  It
 *    is a leaf lock: nothing else is taken while it is held, and it is never
 *    held across a switch or a system call.
 *  - Invariants: every stack in the pool has the default mapping size, is
 *    unpoisoned (ASan) and is linked through a pointer stored in its top
 *    bytes; at most POOL_MAX stacks wait in the pool, the rest are unmapped.
 *    `mapped` counts guarded stacks in use plus pooled ones.
 *  - Where the kernel has guard regions (Linux 6.13+, MADV_GUARD_INSTALL:
 *    a page-table marker that faults like PROT_NONE but splits no VMA),
 *    every default-size stack is carved from a slab of SLAB_STACKS stacks
 *    in one mapping, each with a guard region as its lowest page: one VMA
 *    per 64 stacks, no budget, and a parked task's stack costs only the
 *    pages it touched (its top page).  Support is probed once and checked
 *    to be effective (platform: an emulator may accept and ignore it);
 *    XCHAN_STACK_GUARD_REGIONS=0 and valgrind turn it off.
 *  - Otherwise guard pages are mprotect'ed and cost two VMAs per stack,
 *    and Linux caps VMAs per process (vm.max_map_count, 65530: about 32k
 *    guarded stacks).  Beyond a budget (a quarter of the cap) default-size
 *    stacks are carved from slabs without guard pages: their lowest usable
 *    word holds a canary that the scheduler checks whenever a task
 *    switches out, so an overflow is reported (and aborts) instead of
 *    going unseen.  Stacks with a guard page carry no canary: writing it
 *    would make every parked task resident in a second page.
 *  - Slab stacks are never unmapped.  Freed ones go to `slab_free` (links
 *    in their top word, tagged with the stack's guard) while fewer than
 *    POOL_MAX wait there; beyond that they give every page back (madvise)
 *    and are noted in the `cold` array instead, so no page of theirs stays
 *    resident.  The array grows outside the lock (cold_reserve).
 *  - A switch saves the callee-saved registers on the old stack and its
 *    stack pointer in `from->sp` (assembly), or uses swapcontext (fallback).
 *    The sanitizer annotations bracket the raw switch: start_switch_fiber
 *    names the stack we go to, finish_switch_fiber runs on the stack we
 *    arrive on.
 */
#include "coro.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "platform/platform.h"

#if defined(XCHAN_CORO_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#if defined(XCHAN_CORO_TSAN)
#include <sanitizer/tsan_interface.h>
#endif
#if defined(XCHAN_CORO_VALGRIND)
#include <valgrind/valgrind.h>
#endif

#define POOL_MAX 1024
#define SLAB_STACKS 64
#define CANARY 0x78636861e5a4c0deULL

static struct {
	_Atomic uint32_t lock;
	void *free_list; /* top-of-stack links */
	uint64_t pooled;
	uint64_t mapped;
	uint64_t map_calls;
	uint64_t budget; /* guarded stacks allowed; 0 until computed */
	void *slab_free; /* free slab stacks: tagged links (slab_tag) */
	uint64_t slab_nfree;
	/* Free slab stacks beyond POOL_MAX, every page given back (the top
	 * one too: their links live here, not in them); tagged pointers. */
	void **cold;
	uint64_t ncold, cold_cap;
	uint64_t slab_total;
	uint64_t slab_unguarded;
	int regions; /* 0 unknown, 1 guard regions in use, -1 not */
} g_pool;

static void
pool_lock(void)
{
	for (int spins = 0;; spins++) {
		if (atomic_load_explicit(&g_pool.lock, memory_order_relaxed) ==
		        0 &&
		    atomic_exchange_explicit(&g_pool.lock, 1,
		        memory_order_acquire) == 0)
			return;
		if (spins < 64)
			xchan__cpu_relax();
		else
			xchan__thread_yield(); /* holder was preempted */
	}
}

static void
pool_unlock(void)
{
	atomic_store_explicit(&g_pool.lock, 0, memory_order_release);
}

static size_t
default_map_size(void)
{
	return XCHAN_CORO_DEFAULT_STACK + xchan__page_size();
}

static size_t
map_size_for(size_t stack_size)
{
	size_t page = xchan__page_size();
	if (stack_size == 0)
		stack_size = XCHAN_CORO_DEFAULT_STACK;
	if (stack_size < XCHAN_CORO_MIN_STACK)
		stack_size = XCHAN_CORO_MIN_STACK;
	/* A size near SIZE_MAX would wrap in the round-up below and map a
	 * tiny stack: refuse it (0 means "cannot be mapped"). */
	if (stack_size > SIZE_MAX / 2)
		return 0;
	stack_size = (stack_size + page - 1) & ~(page - 1);
	return stack_size + page;
}

/* The pool link lives in the top word of the stack: the stack is unused
 * while pooled, so no side allocation is needed. */
static void **
pool_link(void *map, size_t map_size)
{
	return (void **)((char *)map + map_size - sizeof(void *));
}

/* Slab free-list links carry the stack's guard in their low bit (stacks
 * are page-aligned): 1 guarded by a guard region, 0 canary only. */
static void *
slab_tag(void *map, int guarded)
{
	return (void *)((uintptr_t)map | (uintptr_t)(guarded != 0));
}

static void *
slab_untag(void *link, int *guarded)
{
	*guarded = (int)((uintptr_t)link & 1u);
	return (void *)((uintptr_t)link & ~(uintptr_t)1u);
}

/* Bytes kept free at the very top of a stack (before any record): the
 * pool link in the top word, and the canary of the unguarded slab stack
 * just above (canary_at) in the word below it. */
#define TOP_KEEP 64

/* The lowest usable byte.  A stack with a guard page starts one page up;
 * an unguarded slab stack uses its whole slot, the page a guard would take
 * included (no slack below it: an overflow reaches the canary at once). */
static char *
usable_lo(char *map, int guarded, int slab)
{
	return (slab && !guarded) ? map : map + xchan__page_size();
}

/* An unguarded slab stack's canary: the second-highest word of the slot
 * below it (in a slab's leading page for the first slot), right under
 * its own lowest byte.  That page is the neighbour's top page, resident
 * anyway while the neighbour runs or waits, so the canary costs no page
 * of its own; the neighbour's frames and record stay below TOP_KEEP. */
static uint64_t *
canary_at(char *map)
{
	return (uint64_t *)(map - 2 * sizeof(uint64_t));
}

/* Whether default stacks come from slabs guarded by guard regions: once
 * per process, unless XCHAN_STACK_GUARD_REGIONS=0 or under valgrind (it
 * reads syscall buffers itself and would fault on a guard page). */
static int
regions_enabled(void)
{
	pool_lock();
	int r = g_pool.regions;
	pool_unlock();
	if (r != 0)
		return r > 0;
	const char *e = getenv("XCHAN_STACK_GUARD_REGIONS");
	int on = !(e != NULL && e[0] == '0');
#if defined(XCHAN_CORO_VALGRIND)
	if (RUNNING_ON_VALGRIND)
		on = 0;
#endif
	if (on)
		on = xchan__stack_guard_probe();
	pool_lock();
	if (g_pool.regions == 0)
		g_pool.regions = on ? 1 : -1;
	r = g_pool.regions;
	pool_unlock();
	return r > 0;
}

/* A default-size stack carved from a slab of SLAB_STACKS (see the design
 * notes); `*guarded` says whether its lowest page is a guard region. */
static void *
slab_get(size_t map_size, int want_guard, int *guarded)
{
	pool_lock();
	void *m = NULL;
	if (g_pool.slab_free != NULL) {
		m = slab_untag(g_pool.slab_free, guarded);
		g_pool.slab_free = *pool_link(m, map_size);
		g_pool.slab_nfree--;
	} else if (g_pool.ncold > 0) {
		m = slab_untag(g_pool.cold[--g_pool.ncold], guarded);
	}
	pool_unlock();
	if (m != NULL)
		return m;
	/* A leading page holds the first slot's canary (unguarded slabs). */
	size_t page = xchan__page_size();
	char *lead = xchan__stack_map(page + map_size * SLAB_STACKS, 0);
	if (lead == NULL)
		return NULL;
	char *slab = lead + page;
	/* One mapping, one VMA: the guard regions live in the page tables.
	 * A slot whose region could not be installed keeps a canary. */
	uint64_t guards = 0;
	for (int i = 0; want_guard && i < SLAB_STACKS; i++)
		if (xchan__stack_guard_region(slab + (size_t)i * map_size,
		        xchan__page_size()) == 0)
			guards |= (uint64_t)1 << i;
#if defined(XCHAN_CORO_ASAN)
	/* Only the usable parts: LSan must never read a guard region. */
	for (int i = 0; i < SLAB_STACKS; i++) {
		int g = (int)((guards >> i) & 1u);
		char *s = slab + (size_t)i * map_size, *lo = usable_lo(s, g, 1);
		__lsan_register_root_region(lo, (size_t)(s + map_size - lo));
	}
#endif
	pool_lock();
	for (int i = 1; i < SLAB_STACKS; i++) {
		char *s = slab + (size_t)i * map_size;
		*pool_link(s, map_size) = g_pool.slab_free;
		g_pool.slab_free = slab_tag(s, (int)((guards >> i) & 1u));
		g_pool.slab_nfree++;
	}
	g_pool.slab_total += SLAB_STACKS;
	for (int i = 0; i < SLAB_STACKS; i++)
		g_pool.slab_unguarded += !((guards >> i) & 1u);
	pool_unlock();
	*guarded = (int)(guards & 1u);
	return slab;
}

/* Room for one more cold stack; the lock is held on entry and on return
 * (dropped while allocating).  0 if there is none (out of memory). */
static int
cold_reserve(void)
{
	while (g_pool.ncold == g_pool.cold_cap) {
		uint64_t cap = g_pool.cold_cap ? g_pool.cold_cap * 2 : POOL_MAX;
		pool_unlock();
		void **a = xchan__alloc(cap * sizeof(void *));
		pool_lock();
		if (a == NULL)
			return 0;
		if (g_pool.cold_cap >= cap) { /* another thread grew it */
			pool_unlock();
			xchan__free(a, cap * sizeof(void *));
			pool_lock();
			continue;
		}
		if (g_pool.ncold > 0)
			memcpy(a, g_pool.cold, g_pool.ncold * sizeof(void *));
		void **old = g_pool.cold;
		uint64_t old_cap = g_pool.cold_cap;
		g_pool.cold = a;
		g_pool.cold_cap = cap;
		if (old != NULL) {
			pool_unlock();
			xchan__free(old, old_cap * sizeof(void *));
			pool_lock();
		}
	}
	return 1;
}

static void
slab_put(void *map, size_t map_size, int guarded)
{
	size_t page = xchan__page_size();
	pool_lock();
	if (g_pool.slab_nfree < POOL_MAX) {
		*pool_link(map, map_size) = g_pool.slab_free;
		g_pool.slab_free = slab_tag(map, guarded);
		g_pool.slab_nfree++;
		pool_unlock();
		return;
	}
	pool_unlock();
	/* Enough kept warm: this one gives every page back, so a burst of
	 * tasks leaves no resident memory behind once they end.  Except, on
	 * an unguarded slab, its top page: the canary of the stack above,
	 * which may be in use, lives there. */
	char *lo = usable_lo(map, guarded, 1);
	size_t keep = guarded ? 0 : page;
	xchan__stack_release_pages(lo,
	    (size_t)((char *)map + map_size - lo) - keep);
	pool_lock();
	if (cold_reserve()) {
		g_pool.cold[g_pool.ncold++] = slab_tag(map, guarded);
	} else {
		/* No room to note it: keep it on the warm list (its link
		 * makes its top page resident again). */
		*pool_link(map, map_size) = g_pool.slab_free;
		g_pool.slab_free = slab_tag(map, guarded);
		g_pool.slab_nfree++;
	}
	pool_unlock();
}

/* Returns the stack, whether its lowest page faults, and whether it is a
 * slab stack. */
static void *
stack_get(size_t map_size, int *guarded, int *slab)
{
	*guarded = 1;
	*slab = 0;
	if (map_size == default_map_size()) {
		if (regions_enabled()) {
			*slab = 1;
			return slab_get(map_size, 1, guarded);
		}
		pool_lock();
		if (g_pool.budget == 0) {
			pool_unlock();
			uint64_t b = xchan__stack_guard_budget();
			pool_lock();
			g_pool.budget = b;
		}
		void *m = g_pool.free_list;
		if (m != NULL) {
			g_pool.free_list = *pool_link(m, map_size);
			g_pool.pooled--;
		}
		int over = m == NULL && g_pool.mapped >= g_pool.budget;
		pool_unlock();
		if (m != NULL)
			return m;
		if (over) {
			*slab = 1;
			return slab_get(map_size, 0, guarded);
		}
	}
	void *m = xchan__stack_map(map_size, xchan__page_size());
	if (m == NULL)
		return NULL;
#if defined(XCHAN_CORO_ASAN)
	/* A parked task may be referenced only from its own stack (a waiter
	 * record there); LSan must scan stacks to see it is not leaked. */
	__lsan_register_root_region((char *)m + xchan__page_size(),
	    map_size - xchan__page_size());
#endif
	pool_lock();
	g_pool.mapped++;
	g_pool.map_calls++;
	pool_unlock();
	return m;
}

static void
stack_unmap(void *map, size_t map_size)
{
#if defined(XCHAN_CORO_ASAN)
	__lsan_unregister_root_region((char *)map + xchan__page_size(),
	    map_size - xchan__page_size());
#endif
	xchan__stack_unmap(map, map_size);
}

static void
stack_put(void *map, size_t map_size, int guarded, int slab)
{
#if defined(XCHAN_CORO_ASAN)
	/* Frames of a coroutine that never returned leave redzones poisoned;
	 * the next user of the stack must start clean. */
	char *lo = usable_lo(map, guarded, slab);
	ASAN_UNPOISON_MEMORY_REGION(lo, (size_t)((char *)map + map_size - lo));
#endif
	if (slab) {
		slab_put(map, map_size, guarded);
		return;
	}
	pool_lock();
	if (map_size == default_map_size() && g_pool.pooled < POOL_MAX) {
		*pool_link(map, map_size) = g_pool.free_list;
		g_pool.free_list = map;
		g_pool.pooled++;
		map = NULL;
	} else {
		g_pool.mapped--;
	}
	pool_unlock();
	if (map != NULL)
		stack_unmap(map, map_size);
}

void
xchan__coro_pool_drain(void)
{
	size_t ms = default_map_size();
	pool_lock();
	void *m = g_pool.free_list;
	g_pool.free_list = NULL;
	g_pool.mapped -= g_pool.pooled;
	g_pool.pooled = 0;
	pool_unlock();
	while (m != NULL) {
		void *next = *pool_link(m, ms);
		stack_unmap(m, ms);
		m = next;
	}
}

void
xchan__coro_get_stats(xchan__coro_stats *out)
{
	pool_lock();
	out->mapped = g_pool.mapped;
	out->pooled = g_pool.pooled;
	out->map_calls = g_pool.map_calls;
	out->slab = g_pool.slab_total;
	out->slab_unguarded = g_pool.slab_unguarded;
	out->slab_warm = g_pool.slab_nfree;
	out->slab_cold = g_pool.ncold;
	out->guard_regions = g_pool.regions > 0;
	pool_unlock();
	out->stack_size = XCHAN_CORO_DEFAULT_STACK;
}

/* ---- sanitizer annotations ------------------------------------------------ */

static inline void
san_before(xchan__coro *from, xchan__coro *to, int exiting)
{
#if defined(XCHAN_CORO_ASAN)
	__sanitizer_start_switch_fiber(exiting ? NULL : &from->asan_fake,
	    to->stack_lo, to->stack_len);
#endif
#if defined(XCHAN_CORO_TSAN)
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
	(void)from;
	(void)to;
	(void)exiting;
}

static inline void
san_after(xchan__coro *self)
{
#if defined(XCHAN_CORO_ASAN)
	__sanitizer_finish_switch_fiber(self->asan_fake, NULL, NULL);
#endif
	(void)self;
}

/* First code to run on a fresh stack. */
static _Noreturn void
coro_start(xchan__coro *c)
{
#if defined(XCHAN_CORO_ASAN)
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	c->fn(c->arg);
	xchan__panic(__FILE__, __LINE__, "coroutine function returned");
}

/* ---- the raw switch --------------------------------------------------------- */

#if defined(XCHAN_CORO_UCONTEXT)

static void
uc_entry(unsigned hi, unsigned lo)
{
	uintptr_t p = ((uintptr_t)hi << 32) | (uintptr_t)lo;
	coro_start((xchan__coro *)p);
}

static int
ctx_prepare(xchan__coro *c, char *lo, size_t len)
{
	if (getcontext(&c->uc) != 0)
		return -1;
	c->uc.uc_stack.ss_sp = lo;
	c->uc.uc_stack.ss_size = len;
	c->uc.uc_link = NULL;
	uintptr_t p = (uintptr_t)c;
	makecontext(&c->uc, (void (*)(void))uc_entry, 2, (unsigned)(p >> 32),
	    (unsigned)(p & 0xffffffffu));
	return 0;
}

static inline void
ctx_switch(xchan__coro *from, xchan__coro *to)
{
	swapcontext(&from->uc, &to->uc);
}

static inline _Noreturn void
ctx_jump(xchan__coro *to)
{
	setcontext(&to->uc);
	xchan__panic(__FILE__, __LINE__, "setcontext failed");
}

#else /* assembly */

void xchan__ctx_switch(void **save_sp, void *new_sp);
void xchan__ctx_entry(void);

static int
ctx_prepare(xchan__coro *c, char *lo, size_t len)
{
	uintptr_t top = ((uintptr_t)lo + len) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)top;
#if defined(__x86_64__)
	*--sp = (uint64_t)(uintptr_t)xchan__ctx_entry; /* return address */
	*--sp = 0;                                     /* rbp */
	*--sp = 0;                                     /* rbx */
	*--sp = (uint64_t)(uintptr_t)c;                /* r12: arg */
	*--sp = (uint64_t)(uintptr_t)coro_start;       /* r13: fn */
	*--sp = 0;                                     /* r14 */
	*--sp = 0;                                     /* r15 */
	*--sp = 0x1F80u | ((uint64_t)0x037Fu << 32);   /* mxcsr, x87 cw */
#elif defined(__aarch64__)
	sp -= 20; /* 160 bytes */
	memset(sp, 0, 160);
	sp[0] = (uint64_t)(uintptr_t)c;                 /* x19: arg */
	sp[1] = (uint64_t)(uintptr_t)coro_start;        /* x20: fn */
	sp[11] = (uint64_t)(uintptr_t)xchan__ctx_entry; /* x30 */
#endif
	c->sp = sp;
	return 0;
}

static inline void
ctx_switch(xchan__coro *from, xchan__coro *to)
{
	xchan__ctx_switch(&from->sp, to->sp);
}

static inline _Noreturn void
ctx_jump(xchan__coro *to)
{
	void *dead;
	xchan__ctx_switch(&dead, to->sp);
	__builtin_unreachable();
}

#endif

/* ---- public (internal) API --------------------------------------------------- */

int32_t
xchan__coro_stack_get(xchan__coro_stack *s, size_t stack_size, size_t reserve,
    void **record)
{
	memset(s, 0, sizeof(*s));
	if (record != NULL)
		*record = NULL;
	size_t ms = map_size_for(stack_size);
	if (ms == 0 || reserve > XCHAN_CORO_MIN_STACK / 4)
		return XCHAN_ENOMEM;
	int guarded, slab;
	char *m = stack_get(ms, &guarded, &slab);
	if (m == NULL)
		return XCHAN_ENOMEM;
	s->map = m;
	s->map_size = ms;
	s->guarded = (uint8_t)guarded;
	s->slab = (uint8_t)slab;
	/* The record sits just below the kept top bytes, 64-aligned; the
	 * first frame starts below it, in the same page. */
	uintptr_t hi = (uintptr_t)m + ms - TOP_KEEP;
	s->top =
	    reserve ? (char *)((hi - reserve) & ~(uintptr_t)63) : (char *)hi;
	if (record != NULL && reserve)
		*record = s->top;
	return XCHAN_OK;
}

void
xchan__coro_stack_put(const xchan__coro_stack *s)
{
	if (s->map != NULL)
		stack_put(s->map, s->map_size, s->guarded, s->slab);
}

int32_t
xchan__coro_init_on(xchan__coro *c, const xchan__coro_stack *s,
    void (*fn)(void *), void *arg)
{
	memset(c, 0, sizeof(*c));
	char *m = s->map;
	char *lo = usable_lo(m, s->guarded, s->slab);
	c->map = m;
	c->map_size = s->map_size;
	c->guarded = s->guarded;
	c->slab = s->slab;
	/* Only a stack without a guard page needs the canary (only slab
	 * stacks lack one); a guarded stack gets none, so nothing is written
	 * at its bottom and a parked task keeps one resident page. */
	if (!s->guarded)
		*canary_at(m) = CANARY;
	c->fn = fn;
	c->arg = arg;
	size_t len = (size_t)(s->top - lo);
	if (ctx_prepare(c, lo, len) != 0) {
		c->map = NULL;
		return XCHAN_ENOMEM;
	}
#if defined(XCHAN_CORO_ASAN)
	c->stack_lo = lo;
	c->stack_len = len;
#endif
#if defined(XCHAN_CORO_TSAN)
	c->tsan_fiber = __tsan_create_fiber(0);
	c->tsan_own = 1;
#endif
#if defined(XCHAN_CORO_VALGRIND)
	/* Tells memcheck that jumps onto this range are stack switches. */
	c->vg_stack = VALGRIND_STACK_REGISTER(lo, s->top);
#endif
	return XCHAN_OK;
}

int32_t
xchan__coro_init(xchan__coro *c, size_t stack_size, void (*fn)(void *),
    void *arg)
{
	xchan__coro_stack s;
	memset(c, 0, sizeof(*c));
	int32_t err = xchan__coro_stack_get(&s, stack_size, 0, NULL);
	if (err != XCHAN_OK)
		return err;
	err = xchan__coro_init_on(c, &s, fn, arg);
	if (err != XCHAN_OK)
		xchan__coro_stack_put(&s);
	return err;
}

void
xchan__coro_fini(xchan__coro *c)
{
#if defined(XCHAN_CORO_VALGRIND)
	if (c->map != NULL)
		VALGRIND_STACK_DEREGISTER(c->vg_stack);
#endif
#if defined(XCHAN_CORO_TSAN)
	if (c->tsan_own && c->tsan_fiber != NULL)
		__tsan_destroy_fiber(c->tsan_fiber);
	c->tsan_fiber = NULL;
#endif
	/* `c` may live in the stack it describes (a record reserved at its
	 * top): read it, forget it, and only then give the stack back, after
	 * which another thread may reuse that memory at once. */
	xchan__coro_stack s = {.map = c->map,
	    .map_size = c->map_size,
	    .guarded = c->guarded,
	    .slab = c->slab};
	c->map = NULL;
	xchan__coro_stack_put(&s);
}

int
xchan__coro_overflowed(const xchan__coro *c)
{
	return c->map != NULL && !c->guarded && *canary_at(c->map) != CANARY;
}

void
xchan__coro_init_thread(xchan__coro *c)
{
	memset(c, 0, sizeof(*c));
#if defined(XCHAN_CORO_ASAN)
	pthread_attr_t a;
	void *lo = NULL;
	size_t len = 0;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstack(&a, &lo, &len);
		pthread_attr_destroy(&a);
	}
	c->stack_lo = lo;
	c->stack_len = len;
#endif
#if defined(XCHAN_CORO_TSAN)
	c->tsan_fiber = __tsan_get_current_fiber();
	c->tsan_own = 0;
#endif
}

void
xchan__coro_switch(xchan__coro *from, xchan__coro *to)
{
	san_before(from, to, 0);
	ctx_switch(from, to);
	san_after(from);
}

_Noreturn void
xchan__coro_exit(xchan__coro *from, xchan__coro *to)
{
	san_before(from, to, 1);
	ctx_jump(to);
}
