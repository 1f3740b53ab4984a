/*
 * cpool.h — a cached thread pool (the default MIXED and IO executors), as
 * Java's newCachedThreadPool: an item goes to an idle thread if there is
 * one, else a new thread is started for it; a thread idle for longer than
 * the idle timeout exits.  Threads are named "<prefix>-<N>", N from 1.
 * Blocking inside an item is expected: it only holds its own thread.
 */
#ifndef XCHAN_CPOOL_H
#define XCHAN_CPOOL_H

#include <stdint.h>

#include "xchan/xchan.h"

typedef struct xchan__cpool xchan__cpool;

/* `idle_ms` <= 0: the default (XCHAN_IDLE_TIMEOUT_MS from the environment,
 * else 60 s).  No thread starts before the first item.  Errors:
 * XCHAN_EINVAL, XCHAN_ENOMEM. */
int32_t xchan__cpool_new(xchan__cpool **out, const char *prefix,
    int64_t idle_ms);

/* Runs fn(arg) on an idle or new thread.  Errors: XCHAN_ENOMEM (no thread
 * exists and none could start), XCHAN_ESHUTDOWN. */
int32_t xchan__cpool_execute(xchan__cpool *p, xchan_task_fn fn, void *arg);

/* 1 if the calling thread belongs to a cached pool. */
int xchan__cpool_in_worker(void);

/* As xchan__pool_stop_begin / _wait (pool.h). */
void xchan__cpool_stop_begin(xchan__cpool *p, int64_t drain_deadline);
int xchan__cpool_stop_wait(xchan__cpool *p, int64_t join_deadline);
void xchan__cpool_free(xchan__cpool *p);

typedef struct xchan__cpool_stats {
	uint32_t threads; /* alive now */
	uint32_t idle;
	uint64_t started; /* threads started so far */
	uint64_t expired; /* threads that exited after the idle timeout */
} xchan__cpool_stats;
void xchan__cpool_get_stats(xchan__cpool *p, xchan__cpool_stats *out);

#endif
