/*
 * common.h — internal helpers shared by every core file: allocation through
 * the hooks, assertions, branch hints, cache-line size.  Not public.
 */
#ifndef XCHAN_COMMON_H
#define XCHAN_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xchan/xchan.h"

#define XCHAN_CACHELINE 64
#define XCHAN_LIKELY(x) __builtin_expect(!!(x), 1)
#define XCHAN_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Assertions stay on in debug and CI builds (XCHAN_ASSERTS defined by CMake
 * for every build type but Release). */
#if defined(XCHAN_ASSERTS)
#define XCHAN_ASSERT(c)                                                        \
	do {                                                                   \
		if (XCHAN_UNLIKELY(!(c)))                                      \
			xchan__panic(__FILE__, __LINE__, #c);                  \
	} while (0)
#else
#define XCHAN_ASSERT(c) ((void)0)
#endif

_Noreturn void xchan__panic(const char *file, int line, const char *what);

/* Allocation: every core allocation goes through the hooks set by
 * xchan_init (alloc.c).  Sizes are passed back to free. */
void *xchan__alloc(size_t size);
void *xchan__zalloc(size_t size);
void xchan__free(void *p, size_t size);
/* True when xchan_init installed allocation hooks (debugcheck.c). */
bool xchan__alloc_hooked(void);
/* Marks the library as initialised (first use); later xchan_init fails. */
void xchan__ensure_init(void);

/* Fork detection (alloc.c): true in a child process created by fork()
 * after xchan was initialised in its parent.  Calls that need xchan's
 * threads or state then return XCHAN_EFORK. */
extern _Atomic int xchan__g_forked;
static inline bool
xchan__forked(void)
{
	return XCHAN_UNLIKELY(
	    atomic_load_explicit(&xchan__g_forked, memory_order_relaxed));
}

/* xchan_init_params.flags as initialised (0 by default). */
uint32_t xchan__init_flags(void);

/* Thread hooks and stack size from xchan_init (alloc.c), used by every
 * thread xchan starts (platform). */
#define XCHAN__DEFAULT_THREAD_STACK ((size_t)1 << 20)
#define XCHAN__MIN_THREAD_STACK ((uint64_t)64 << 10)
#define XCHAN__MAX_THREAD_STACK ((uint64_t)1 << 30)
void xchan__thread_hooks(void (**start)(void *, const char *),
    void (**exit_)(void *, const char *), void **user, size_t *stack_size);

/* ---- growable structs (docs/api-stability.md) -------------------------------
 * Each public struct that starts with `uint32_t size` is accepted at any size
 * from its first version's on; the library reads only the fields that fit
 * and treats the rest as zero.  The first versions' sizes: */
#define XCHAN__END_OF(type, field)                                             \
	(offsetof(type, field) + sizeof(((type *)0)->field))
#define XCHAN__INIT_PARAMS_V1_SIZE XCHAN__END_OF(xchan_init_params, alloc_user)
#define XCHAN__RUNTIME_V1_SIZE XCHAN__END_OF(xchan_runtime, user)
#define XCHAN__CHAN_OPTS_V1_SIZE XCHAN__END_OF(xchan_chan_opts, reserved)
#define XCHAN__CHAN_INFO_V1_SIZE XCHAN__END_OF(xchan_chan_info, id)
#define XCHAN__GO_OPTS_V1_SIZE XCHAN__END_OF(xchan_go_opts, stack_size)
#define XCHAN__XFORM_VTBL_V1_SIZE XCHAN__END_OF(xchan_xform_vtbl, destroy)
/* `close` was optional by size from the start. */
#define XCHAN__EXECUTOR_VTBL_V1_SIZE XCHAN__END_OF(xchan_executor_vtbl, execute)
#define XCHAN__PIPELINE_OPTS_V1_SIZE                                           \
	XCHAN__END_OF(xchan_pipeline_opts, executor)
#define XCHAN__WAIT_OPTS_V1_SIZE XCHAN__END_OF(xchan_wait_opts, cancel)

/* Copies the caller's struct `src` (its first `size` bytes, at most
 * dst_size) into `dst`, zeroing the rest: a struct from an older header
 * reads as the current one with the new fields at their defaults.  False
 * (dst untouched) if its size is below `min_size`. */
static inline bool
xchan__struct_in(void *dst, size_t dst_size, const void *src, size_t min_size)
{
	uint32_t size;
	memcpy(&size, src, sizeof(size));
	if (size < min_size)
		return false;
	size_t n = size < dst_size ? size : dst_size;
	memcpy(dst, src, n);
	memset((char *)dst + n, 0, dst_size - n);
	return true;
}

/* Test hook (alloc.c): forgets the initialisation, so that a test can race
 * xchan_init against first use again.  Only with no other xchan activity
 * and nothing allocated through the hooks still alive. */
void xchan__init_reset_for_test(void);

/* Test hook (alloc.c): when > 0, the calling thread's N-th following
 * allocation fails.  Only touched by tests. */
void xchan__fail_alloc_after(long n);

#endif
