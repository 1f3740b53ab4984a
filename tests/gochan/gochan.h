/*
 * gochan.h — the harness of the Go channel-test ports (tests/gochan).
 *
 * Each *_test.c here re-tells one program of Go's test/chan with xchan's C
 * API.  A program's body runs as a task, and so does every goroutine it
 * starts: as a go task (xchan_go: parking operations) in the "_go" test,
 * as an OS thread (xchan_thread: blocking operations) in the "_threads"
 * test.  GOCHAN_TESTS(body) registers both; the test thread waits for the
 * body with a deadline, so a hang fails the test instead of wedging CI.
 *
 * The helpers check every call (a failed check names the file and line and
 * fails the test; see testing/xtest.h).
 */
#ifndef XCHAN_GOCHAN_H
#define XCHAN_GOCHAN_H

#include <stdatomic.h>
#include <string.h>

#include "testing/xtest.h"
#include "testing/xthread.h"

#if defined(__SANITIZE_THREAD__) || defined(XCHAN_SANITIZER_BUILD)
#define GOCHAN_SANITIZED 1
#else
#define GOCHAN_SANITIZED 0
#endif

enum { GOCHAN_GO, GOCHAN_THREADS };
static int gochan_mode;

/* Tasks the program started, joined when the body returns. */
#define GOCHAN_MAX_TASKS 20000
static _Atomic(xchan_chan *) gochan_tasks[GOCHAN_MAX_TASKS];
static _Atomic int gochan_ntasks;

/* Starts fn(arg) as a goroutine: a go task or a thread, by the mode. */
static inline void
go_(xchan_go_fn fn, void *arg)
{
	xchan_chan *done = NULL;
	/* The slot first: the body must be slot 0 even if it starts tasks
	 * before xchan_go returns here. */
	int i = atomic_fetch_add(&gochan_ntasks, 1);
	int32_t err = gochan_mode == GOCHAN_GO
	                  ? xchan_go(&done, fn, arg, NULL)
	                  : xchan_thread(&done, fn, arg, NULL);
	XCHECK_ERR(err, XCHAN_OK);
	if (err != XCHAN_OK) { /* a closed stand-in, so joins do not wait */
		xchan_chan_make(&done, XCHAN_BUF_NONE, 0);
		xchan_chan_close(done);
	}
	if (i < GOCHAN_MAX_TASKS)
		atomic_store(&gochan_tasks[i], done);
	else
		xchan_chan_release(done);
}

/* Waits until task i finished (60 s at most); 0 if it did not. */
static inline int
join_task_(int i)
{
	xchan_chan *done;
	int64_t end = xt_deadline_s(60);
	/* go_ publishes the slot just after counting it. */
	while (
	    (done = atomic_load(&gochan_tasks[i])) == NULL && xchan_now() < end)
		xt_sleep_ms(1);
	if (done == NULL)
		return 0;
	xchan_val v;
	return xchan_take(&v, done, end) == XCHAN_ECLOSED;
}

static inline xchan_chan *
chan_(uint64_t cap)
{
	xchan_chan *c = NULL;
	XCHECK_ERR(xchan_chan_make(&c, cap ? XCHAN_BUF_FIXED : XCHAN_BUF_NONE,
	               cap),
	    XCHAN_OK);
	return c;
}

/* c <- i, which must succeed. */
static inline void
send_(xchan_chan *c, int64_t i)
{
	XCHECK_ERR(xchan_put(c, xchan_val_int(i), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
}

/* x, ok := <-c for ints: returns the value, sets *ok (NULL: must be ok). */
static inline int64_t
recv_(xchan_chan *c, int *ok)
{
	xchan_val v;
	int64_t i = 0;
	int32_t err = xchan_take(&v, c, XCHAN_DEADLINE_NEVER);
	if (ok)
		*ok = err == XCHAN_OK;
	else
		XCHECK_ERR(err, XCHAN_OK);
	if (err == XCHAN_OK) {
		XCHECK_ERR(xchan_get_int(v, &i), XCHAN_OK);
		xchan_val_release(v);
	}
	return i;
}

/* A put clause of alts. */
static inline xchan_clause
put_clause_(xchan_chan *c, int64_t i)
{
	xchan_clause cl = {XCHAN_ALT_PUT, 0, c, xchan_val_int(i)};
	return cl;
}

static inline xchan_clause
take_clause_(xchan_chan *c)
{
	xchan_clause cl = {XCHAN_ALT_TAKE, 0, c, {0, 0, 0}};
	return cl;
}

/* Sleeps `ms` the way a goroutine does: by waiting on a timeout channel,
 * which parks a go task instead of holding its worker. */
static inline void
sleep_(int64_t ms)
{
	xchan_chan *t = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_timeout(&t, ms), XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, t, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	xchan_chan_release(t);
}

/* Programs whose goroutines run for ever in Go (generators, filters) stop
 * here on a `quit` channel that the body closes at the end: every send and
 * receive of theirs is an alts with a take on quit.  (Closing their data
 * channels would not do: pending puts survive close, as in core.async.)
 * gochan_run makes it and releases it after every task ended; what those
 * tasks share is released by `gochan_after`, which it calls then. */
static xchan_chan *gochan_quit;
static void (*gochan_after)(void);

/* c <- i, or 0 once quit is closed. */
static inline int
send_q(xchan_chan *c, int64_t i)
{
	xchan_clause cl[2] = {put_clause_(c, i), take_clause_(gochan_quit)};
	xchan_result r;
	xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY, XCHAN_DEADLINE_NEVER);
	return r.index == 0 && r.err == XCHAN_OK;
}

/* *i = <-c, or 0 once quit is closed (or c is). */
static inline int
recv_q(xchan_chan *c, int64_t *i)
{
	xchan_clause cl[2] = {take_clause_(c), take_clause_(gochan_quit)};
	xchan_result r;
	xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY, XCHAN_DEADLINE_NEVER);
	if (r.index != 0 || r.err != XCHAN_OK)
		return 0;
	XCHECK_ERR(xchan_get_int(r.val, i), XCHAN_OK);
	return 1;
}

/* Waits for every task but the body (before releasing what they use). */
static inline void
join_tasks_(void)
{
	int n = atomic_load(&gochan_ntasks);
	for (int i = 1; i < n && i < GOCHAN_MAX_TASKS; i++)
		XCHECK(join_task_(i));
}

/* Runs the program body as a task of the mode and waits for it and every
 * task it started (60 s at most each). */
static inline void
gochan_run(int mode, xchan_go_fn body, void *arg)
{
	gochan_mode = mode;
	gochan_after = NULL;
	gochan_quit = chan_(0);
	atomic_store(&gochan_ntasks, 0);
	for (int i = 0; i < GOCHAN_MAX_TASKS; i++)
		atomic_store(&gochan_tasks[i], NULL);
	go_(body, arg);
	XCHECK(join_task_(0));
	/* Every task, also those started by tasks after the body ended (so
	 * the count is read again each round). */
	for (int i = 0; i < atomic_load(&gochan_ntasks) && i < GOCHAN_MAX_TASKS;
	     i++) {
		XCHECK(join_task_(i));
		xchan_chan_release(atomic_load(&gochan_tasks[i]));
	}
	if (gochan_after != NULL)
		gochan_after();
	xchan_chan_release(gochan_quit);
	gochan_quit = NULL;
}

/* Registers <name>_go and <name>_threads running `body(NULL)`. */
#define GOCHAN_TESTS(name, body)                                               \
	XTEST(name##_go)                                                       \
	{                                                                      \
		gochan_run(GOCHAN_GO, body, NULL);                             \
	}                                                                      \
	XTEST(name##_threads)                                                  \
	{                                                                      \
		gochan_run(GOCHAN_THREADS, body, NULL);                        \
	}

#endif
