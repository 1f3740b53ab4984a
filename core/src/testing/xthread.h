/*
 * xthread.h — small helpers for tests: run a function on a new thread,
 * count callbacks, sleep.
 */
#ifndef XCHAN_XTHREAD_H
#define XCHAN_XTHREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "xchan/xchan.h"

typedef struct xt_thread {
	pthread_t tid;
} xt_thread;

static inline void
xt_start(xt_thread *t, void *(*fn)(void *), void *arg)
{
	pthread_create(&t->tid, NULL, fn, arg);
}

static inline void
xt_join(xt_thread *t)
{
	pthread_join(t->tid, NULL);
}

static inline void
xt_sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Waits until *flag becomes non-zero or `ms` pass; returns the flag. */
static inline int
xt_wait_flag(_Atomic int *flag, int64_t ms)
{
	int64_t end = xchan_now() + ms * 1000000;
	while (!atomic_load(flag) && xchan_now() < end)
		xt_sleep_ms(1);
	return atomic_load(flag);
}

/* The absolute deadline `s` seconds from now. */
static inline int64_t
xt_deadline_s(int s)
{
	return xchan_now() + (int64_t)s * 1000000000LL;
}

/* Waits until *v >= want or `seconds` pass; returns the last value. */
static inline long
xt_wait_count(_Atomic long *v, long want, int seconds)
{
	int64_t dl = xt_deadline_s(seconds);
	long got;
	while ((got = atomic_load(v)) < want && xchan_now() < dl)
		xt_sleep_ms(1);
	return got;
}

/* Waits until the channel has `n` pending takes (or puts) or `ms` pass. */
static inline int
xt_wait_pending(xchan_chan *ch, uint32_t n, int puts, int64_t ms)
{
	int64_t end = xchan_now() + ms * 1000000;
	for (;;) {
		xchan_chan_info info = {.size = sizeof(info)};
		xchan_chan_info_get(&info, ch);
		if ((puts ? info.pending_puts : info.pending_takes) >= n)
			return 1;
		if (xchan_now() >= end)
			return 0;
		xt_sleep_ms(1);
	}
}

static inline xchan_chan_info
xt_info(xchan_chan *ch)
{
	xchan_chan_info info = {.size = sizeof(info)};
	xchan_chan_info_get(&info, ch);
	return info;
}

static inline int64_t
xt_int(xchan_val v)
{
	int64_t i = -999999;
	xchan_get_int(v, &i);
	return i;
}

/* A callback recorder. */
typedef struct xt_rec {
	_Atomic int calls;
	int32_t err;
	int32_t index;
	xchan_val val;
	pthread_t thread;
} xt_rec;

static inline void
xt_record(void *user, xchan_result *r)
{
	xt_rec *rec = user;
	rec->err = r->err;
	rec->index = r->index;
	rec->val = r->val;
	rec->thread = pthread_self();
	atomic_fetch_add(&rec->calls, 1);
}

#endif
