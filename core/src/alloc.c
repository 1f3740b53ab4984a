/*
 * alloc.c — library initialisation (allocation hooks, thread hooks, flags),
 * fork detection, version and error tables.
 *
 * Design notes
 *  - `g_init_state` moves 0 (untouched) -> 1 (xchan_init is writing the
 *    parameters) -> 2 (initialised), or 0 -> 2 directly on first use.  Only
 *    the thread that won the CAS out of 0 writes the parameters, and it
 *    publishes them with a release store of 2; every reader of a parameter
 *    first sees 2 with an acquire load (xchan__ensure_init).  A concurrent
 *    xchan_init that loses the CAS touches nothing and returns
 *    XCHAN_ESTATE; first use that finds 1 waits (yielding) for the short
 *    copy to finish.  So there is exactly one set of hooks, ever.
 *  - Fork: a fork child handler (pthread_atfork), registered once by the winner,
 *    sets `xchan__g_forked` in a child.  The child has none of xchan's
 *    threads and may hold copies of locks taken by threads that no longer
 *    exist, so calls that need that state return XCHAN_EFORK (checked with
 *    one relaxed load) and releases leak instead of touching locks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "platform/platform.h"

static _Atomic int g_init_state;
static void *(*g_alloc)(void *, size_t);
static void (*g_free)(void *, void *, size_t);
static void *g_alloc_user;
static uint32_t g_flags;
static void (*g_thread_start)(void *, const char *);
static void (*g_thread_exit)(void *, const char *);
static void *g_thread_user;
static size_t g_thread_stack;
_Atomic int xchan__g_forked;
/* Tests: the calling thread's N-th allocation fails.  Per thread, so a
 * worker or the timer allocating meanwhile cannot take the failure meant
 * for the call under test. */
static _Thread_local long t_fail_after;

static void
on_fork_child(void)
{
	atomic_store_explicit(&xchan__g_forked, 1, memory_order_relaxed);
}

/* The winner's part of initialisation, before state 2 is published. */
static void
init_common(void)
{
	static _Atomic int registered; /* once, even across test resets */
	if (atomic_exchange(&registered, 1) == 0)
		xchan__on_fork_child(on_fork_child);
}

void
xchan__ensure_init(void)
{
	int st = atomic_load_explicit(&g_init_state, memory_order_acquire);
	if (XCHAN_LIKELY(st == 2))
		return;
	int expected = 0;
	if (atomic_compare_exchange_strong_explicit(&g_init_state, &expected, 1,
	        memory_order_acq_rel, memory_order_acquire)) {
		init_common();
		atomic_store_explicit(&g_init_state, 2, memory_order_release);
		return;
	}
	/* xchan_init (or another first use) is copying its parameters: a few
	 * stores, so wait by yielding. */
	while (atomic_load_explicit(&g_init_state, memory_order_acquire) != 2)
		xchan__thread_yield();
}

int32_t
xchan_init(const xchan_init_params *params)
{
	xchan_init_params p;
	if (params == NULL ||
	    !xchan__struct_in(&p, sizeof(p), params,
	        XCHAN__INIT_PARAMS_V1_SIZE) ||
	    (p.alloc == NULL) != (p.free == NULL) ||
	    (p.flags & ~XCHAN_INIT_NO_ATEXIT) != 0 ||
	    (p.thread_stack_size != 0 &&
	        (p.thread_stack_size < XCHAN__MIN_THREAD_STACK ||
	            p.thread_stack_size > XCHAN__MAX_THREAD_STACK)))
		return XCHAN_EINVAL;
	int expected = 0;
	if (!atomic_compare_exchange_strong_explicit(&g_init_state, &expected,
	        1, memory_order_acq_rel, memory_order_acquire))
		return xchan__forked() ? XCHAN_EFORK : XCHAN_ESTATE;
	g_alloc = p.alloc;
	g_free = p.free;
	g_alloc_user = p.alloc_user;
	g_flags = p.flags;
	g_thread_start = p.thread_start;
	g_thread_exit = p.thread_exit;
	g_thread_user = p.thread_hook_user;
	g_thread_stack = (size_t)p.thread_stack_size;
	init_common();
	atomic_store_explicit(&g_init_state, 2, memory_order_release);
	return XCHAN_OK;
}

uint32_t
xchan__init_flags(void)
{
	xchan__ensure_init();
	return g_flags;
}

void
xchan__thread_hooks(void (**start)(void *, const char *),
    void (**exit_)(void *, const char *), void **user, size_t *stack_size)
{
	xchan__ensure_init();
	*start = g_thread_start;
	*exit_ = g_thread_exit;
	*user = g_thread_user;
	*stack_size =
	    g_thread_stack != 0 ? g_thread_stack : XCHAN__DEFAULT_THREAD_STACK;
}

void
xchan__init_reset_for_test(void)
{
	g_alloc = NULL;
	g_free = NULL;
	g_alloc_user = NULL;
	g_flags = 0;
	g_thread_start = NULL;
	g_thread_exit = NULL;
	g_thread_user = NULL;
	g_thread_stack = 0;
	atomic_store(&g_init_state, 0);
}

void
xchan__fail_alloc_after(long n)
{
	t_fail_after = n;
}

void *
xchan__alloc(size_t size)
{
	xchan__ensure_init();
	if (XCHAN_UNLIKELY(t_fail_after > 0)) {
		if (--t_fail_after == 0)
			return NULL;
	}
	if (g_alloc)
		return g_alloc(g_alloc_user, size);
	return malloc(size);
}

void *
xchan__zalloc(size_t size)
{
	void *p = xchan__alloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

bool
xchan__alloc_hooked(void)
{
	return g_free != NULL;
}

void
xchan__free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (g_free)
		g_free(g_alloc_user, p, size);
	else
		free(p);
}

_Noreturn void
xchan__panic(const char *file, int line, const char *what)
{
	fprintf(stderr, "xchan: assertion failed at %s:%d: %s\n", file, line,
	    what);
	abort();
}

/* ---- versions ---------------------------------------------------------- */

#define XCHAN_STR2_(x) #x
#define XCHAN_STR_(x) XCHAN_STR2_(x)

int32_t
xchan_version_number(void)
{
	return XCHAN_VERSION_NUMBER;
}

const char *
xchan_version_string(void)
{
	return XCHAN_STR_(XCHAN_VERSION_MAJOR) "." XCHAN_STR_(
	    XCHAN_VERSION_MINOR) "." XCHAN_STR_(XCHAN_VERSION_PATCH);
}

int32_t
xchan_check_version(int32_t header_number)
{
	/* A version number is never negative: C's truncating division would
	 * give -1 / 10000 == 0, a "major 0" match. */
	if (header_number < 0)
		return XCHAN_EVERSION;
	if (header_number / 10000 != XCHAN_VERSION_MAJOR)
		return XCHAN_EVERSION;
	if ((header_number / 100) % 100 > XCHAN_VERSION_MINOR)
		return XCHAN_EVERSION;
	return XCHAN_OK;
}

/* ---- errors -------------------------------------------------------------- */

const char *
xchan_strerror(int32_t err)
{
	switch (err) {
#define XCHAN_ERR_MSG_(name, num, msg)                                         \
	case num:                                                              \
		return msg;
		XCHAN_ERRORS(XCHAN_ERR_MSG_)
#undef XCHAN_ERR_MSG_
	default:
		return "unknown error";
	}
}

const char *
xchan_err_name(int32_t err)
{
	switch (err) {
#define XCHAN_ERR_NAME_(name, num, msg)                                        \
	case num:                                                              \
		return #name;
		XCHAN_ERRORS(XCHAN_ERR_NAME_)
#undef XCHAN_ERR_NAME_
	default:
		return "EUNKNOWN";
	}
}
