/*
 * debugcheck.h — what a debug build catches of the header's "undefined"
 * cases: using a channel, a value, an async operation handle or a cancel
 * token after its last reference was released (which includes releasing it
 * twice).
 *
 * On when built with XCHAN_DEBUG_CHECKS (CMake option of that name; on by
 * default for CMAKE_BUILD_TYPE=Debug); otherwise every macro here is
 * nothing and xchan__retire is xchan__free.
 *
 *  - Channels, the records behind reference-kind values, async operations
 *    and cancel tokens keep a 32-bit reference count that is never 0 while a caller may legally hold one.
 *    Public entry points check it (one relaxed load) and abort with
 *    "xchan: FUNCTION: <what> 0x... used after its last reference was
 *    released (a double release, or a use after release)".
 *  - So that the count can still be read after the object died, a debug
 *    build retires objects into a quarantine instead of freeing them: the
 *    count stays 0, every other byte is overwritten with 0xDB, and the
 *    memory is freed only when 256 younger objects (or 4 MiB) followed it.
 *    Beyond that window a use after release may go unnoticed.  With
 *    allocation hooks (xchan_init) nothing is quarantined: the memory goes
 *    back to the application's allocator at once, as it expects.
 */
#ifndef XCHAN_DEBUGCHECK_H
#define XCHAN_DEBUGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#if defined(XCHAN_DEBUG_CHECKS)
#define XCHAN__DEBUG_CHECKS 1
#else
#define XCHAN__DEBUG_CHECKS 0
#endif

struct xchan_chan;

/* Abort unless `ch` (not NULL) is alive.  `fn`: the public function. */
void xchan__dbg_chan(const struct xchan_chan *ch, const char *fn);
/* Abort unless `v` (of a reference kind) is alive. */
void xchan__dbg_val(xchan_val v, const char *fn);
/* Abort if the count at `refs` of object `obj` (an async operation, a
 * cancel token: `what`) is 0. */
void xchan__dbg_count(const void *refs, const char *fn, const char *what,
    const void *obj);
/* Frees `p` (`size` bytes) after a while; its 32-bit count at `count_off`
 * is left 0 and the rest poisoned.  Without quarantine: xchan__free. */
void xchan__dbg_retire(void *p, size_t size, size_t count_off);

#if XCHAN__DEBUG_CHECKS
#define XCHAN__DBG_CHAN(ch)                                                    \
	do {                                                                   \
		if ((ch) != NULL)                                              \
			xchan__dbg_chan((ch), __func__);                       \
	} while (0)
#define XCHAN__DBG_VAL(v) xchan__dbg_val((v), __func__)
#define XCHAN__DBG_VAL_NAMED(v, fn) xchan__dbg_val((v), (fn))
#define XCHAN__DBG_CHAN_NAMED(ch, fn)                                          \
	do {                                                                   \
		if ((ch) != NULL)                                              \
			xchan__dbg_chan((ch), (fn));                           \
	} while (0)
#define XCHAN__DBG_COUNT(obj, field, what)                                     \
	do {                                                                   \
		if ((obj) != NULL)                                             \
			xchan__dbg_count(&(obj)->field, __func__, (what),      \
			    (obj));                                            \
	} while (0)
#else
#define XCHAN__DBG_CHAN(ch) ((void)0)
#define XCHAN__DBG_VAL(v) ((void)0)
#define XCHAN__DBG_VAL_NAMED(v, fn) ((void)0)
#define XCHAN__DBG_CHAN_NAMED(ch, fn) ((void)0)
#define XCHAN__DBG_COUNT(obj, field, what) ((void)0)
#endif

/* Frees an object whose death the checks must still see. */
static inline void
xchan__retire(void *p, size_t size, size_t count_off)
{
#if XCHAN__DEBUG_CHECKS
	xchan__dbg_retire(p, size, count_off);
#else
	(void)count_off;
	xchan__free(p, size);
#endif
}

#endif
