/*
 * log.h — the library's one diagnostic channel (xchan_set_log_hook).
 *
 * Every message the library reports (a transform failure without an error
 * handler, a value dropped for lack of memory, a failed task without a task
 * error hook, a bad environment setting) goes through xchan__log: to the
 * user's hook if one is set, else to stderr prefixed "xchan: ".  Call it
 * with no xchan lock held.  Inside a go task the hook runs on the worker
 * thread's own stack (never on the go stack).
 */
#ifndef XCHAN_LOG_H
#define XCHAN_LOG_H

#include "common.h"

void xchan__log(int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* For code that holds a transform's step lock (user code must not run
 * there): keeps the message on this thread until xchan__log_flush, which
 * xchan__ctx_finish calls once every lock is dropped (and any later
 * xchan__log on this thread delivers it first).  At most a few messages
 * wait; beyond them a count of the ones lost is delivered instead. */
void xchan__log_later(int32_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

extern _Thread_local int xchan__log_npending;
void xchan__log_flush_slow(void);
static inline void
xchan__log_flush(void)
{
	if (XCHAN_UNLIKELY(xchan__log_npending != 0))
		xchan__log_flush_slow();
}

/* Messages reported so far (process total; for tests). */
uint64_t xchan__log_count(void);

#endif
