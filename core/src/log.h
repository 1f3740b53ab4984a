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

/* Messages reported so far (process total; for tests). */
uint64_t xchan__log_count(void);

#endif
