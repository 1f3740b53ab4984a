/*
 * exec.h — executor objects (a vtable and its self), the default executor
 * for each workload, the executor factory (set from C or named by the
 * XCHAN_EXECUTOR_FACTORY environment variable) and library shutdown.
 */
#ifndef XCHAN_EXEC_H
#define XCHAN_EXEC_H

#include "pool.h"
#include "xchan/xchan.h"

/* The default fixed pool behind `ex`, or NULL if `ex` is anything else. */
xchan__pool *xchan__exec_pool(const xchan_executor *ex);

/* 1 once xchan_shutdown has started. */
int xchan__exec_shut_down(void);

#endif
