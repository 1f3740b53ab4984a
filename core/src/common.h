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
/* Marks the library as initialised (first use); later xchan_init fails. */
void xchan__ensure_init(void);

/* Test hook (alloc.c): when > 0, the calling thread's N-th following
 * allocation fails.  Only touched by tests. */
void xchan__fail_alloc_after(long n);

#endif
