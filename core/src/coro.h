/*
 * coro.h — stackful coroutines: a stack (mmap'd, guard page below, pooled)
 * and a saved machine context, switched by hand-written assembly on x86-64
 * and aarch64 (platform/posix/switch_*.S), or by ucontext elsewhere and when
 * XCHAN_FORCE_UCONTEXT is defined (so the fallback is built and tested).
 *
 * A coroutine does not know about threads: the scheduler (gosched.c) switches
 * from a thread's own context to a task's coroutine and back.  A coroutine
 * may be resumed on a different thread from the one it last ran on; code
 * running in it must not keep the address of a thread-local variable across
 * a switch (see thread-local access in gosched.c).
 *
 * Under ASan and TSan every switch is announced to the sanitizer (fiber
 * API), so neither reports false positives for the foreign stacks.
 */
#ifndef XCHAN_CORO_H
#define XCHAN_CORO_H

#include <stddef.h>
#include <stdint.h>

#if defined(XCHAN_FORCE_UCONTEXT) ||                                           \
    !(defined(__x86_64__) || defined(__aarch64__))
#define XCHAN_CORO_UCONTEXT 1
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define XCHAN_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XCHAN_CORO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define XCHAN_CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XCHAN_CORO_TSAN 1
#endif
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#define XCHAN_CORO_VALGRIND 1
#endif
#endif

/* Default usable stack size (the guard page comes on top). */
#define XCHAN_CORO_DEFAULT_STACK ((size_t)64 * 1024)
/* Smallest stack accepted; smaller requests are rounded up. */
#define XCHAN_CORO_MIN_STACK ((size_t)16 * 1024)

typedef struct xchan__coro xchan__coro;
struct xchan__coro {
	void *sp;        /* saved stack pointer (assembly switch) */
	char *map;       /* mapping: guard page, then the usable stack */
	size_t map_size; /* whole mapping, guard included */
	uint8_t guarded; /* 1: the lowest page faults; 0: canary (coro.c) */
	uint8_t slab;    /* 1: carved from a slab, never unmapped */
	void (*fn)(void *);
	void *arg;
#if defined(XCHAN_CORO_VALGRIND)
	unsigned vg_stack; /* valgrind's id for the stack (0 outside it) */
#endif
#if defined(XCHAN_CORO_UCONTEXT)
	ucontext_t uc; /* about 1 KiB: the fallback pays for its generality */
#endif
#if defined(XCHAN_CORO_ASAN)
	void *asan_fake;      /* fake stack saved while switched out */
	const void *stack_lo; /* usable stack, for the annotations */
	size_t stack_len;
#endif
#if defined(XCHAN_CORO_TSAN)
	void *tsan_fiber;
	int tsan_own; /* 1: created by us, destroyed in fini */
#endif
};

/* Prepares `c` to run fn(arg) on a fresh stack of at least `stack_size`
 * bytes (0: the default) when first switched to.  fn must never return: it
 * ends with xchan__coro_exit.  Errors: XCHAN_ENOMEM. */
int32_t xchan__coro_init(xchan__coro *c, size_t stack_size, void (*fn)(void *),
    void *arg);

/* A stack taken by xchan__coro_stack_get, not yet given to a coroutine. */
typedef struct xchan__coro_stack {
	char *map;
	size_t map_size;
	char *top; /* the first frame starts below: the record, or the top */
	uint8_t guarded, slab;
} xchan__coro_stack;

/* Takes a stack of at least `stack_size` usable bytes (0: the default) and
 * reserves `reserve` bytes (at most a quarter of XCHAN_CORO_MIN_STACK) at
 * its top for a record that lives exactly as long as the stack: typically
 * the struct that holds the coroutine itself, which then shares the page
 * of the coroutine's first frames instead of costing an allocation.
 * *record gets its address (64-aligned; NULL when reserve is 0).
 * Errors: XCHAN_ENOMEM. */
int32_t xchan__coro_stack_get(xchan__coro_stack *s, size_t stack_size,
    size_t reserve, void **record);

/* Gives back a stack that no coroutine was prepared on. */
void xchan__coro_stack_put(const xchan__coro_stack *s);

/* Prepares `c` (which may live in the stack's record) to run fn(arg) on
 * the stack `s`, below its record.  On error the stack still belongs to
 * the caller (xchan__coro_stack_put).  Errors: XCHAN_ENOMEM. */
int32_t xchan__coro_init_on(xchan__coro *c, const xchan__coro_stack *s,
    void (*fn)(void *), void *arg);

/* Gives the stack back (to the pool, or to the OS).  `c` must not be
 * running, and must have exited or never have started.  `c` may live in
 * the stack's own record: it is not touched once the stack is given back. */
void xchan__coro_fini(xchan__coro *c);

/* Describes the calling thread's own stack as a coroutine, so that it can
 * be switched from and back to.  Once per thread. */
void xchan__coro_init_thread(xchan__coro *c);

/* Saves the current context in `from` and resumes `to`.  Returns when some
 * thread switches back to `from`. */
void xchan__coro_switch(xchan__coro *from, xchan__coro *to);

/* Last switch out of a finishing coroutine `from` (its stack may be reused
 * as soon as `to` runs). */
_Noreturn void xchan__coro_exit(xchan__coro *from, xchan__coro *to);

/* 0 if the stack's bottom canary is intact (always 0 for a stack with a
 * guard page).  A stack without a guard page (a slab stack on a kernel
 * without guard regions, beyond the budget) has a canary instead, so the
 * scheduler checks this every time a task switches out. */
int xchan__coro_overflowed(const xchan__coro *c);

/* Stack accounting, for tests and reports. */
typedef struct xchan__coro_stats {
	uint64_t mapped;         /* mprotect-guarded stacks (in use + pooled) */
	uint64_t slab;           /* slab stacks carved so far */
	uint64_t slab_unguarded; /* of which without a guard page (canary) */
	uint64_t slab_warm;      /* free slab stacks keeping their pages */
	uint64_t slab_cold;      /* free slab stacks with no page resident */
	int guard_regions;       /* 1: default stacks are slab stacks guarded by
	                      * guard regions; 0: not (yet) */
	uint64_t pooled;         /* stacks waiting in the pool */
	uint64_t map_calls;      /* mmap calls so far */
	uint64_t stack_size;     /* default usable size */
} xchan__coro_stats;
void xchan__coro_get_stats(xchan__coro_stats *out);

/* Unmaps every pooled stack (shutdown, tests). */
void xchan__coro_pool_drain(void);

/* Platform: map a stack of `size` bytes whose lowest `guard` bytes fault
 * on access; unmap it.  (platform/posix/stack_posix.c) */
void *xchan__stack_map(size_t size, size_t guard);
void xchan__stack_unmap(void *map, size_t size);
size_t xchan__page_size(void);
/* Drops the pages' contents and memory, keeping the mapping. */
void xchan__stack_release_pages(void *lo, size_t len);
/* How many guarded stacks the process can afford (VMA limit). */
uint64_t xchan__stack_guard_budget(void);
/* Makes [lo, lo+len) fault on access without a new mapping (a Linux guard
 * region, MADV_GUARD_INSTALL); 0 on success, -1 if unsupported. */
int xchan__stack_guard_region(void *lo, size_t len);
/* 1 if guard regions are supported AND effective here (checked, not just
 * accepted: an emulator may accept the advice and ignore it). */
int xchan__stack_guard_probe(void);

#endif
