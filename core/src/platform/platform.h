/*
 * platform.h — what a port must supply.  The core uses nothing else from the
 * operating system.  The POSIX (Linux) port lives in platform/posix/.
 *
 * Fork policy: xchan does not work in a child created by fork(): its threads
 * are not there.  The child is detected (xchan__on_fork_child) and calls
 * that need xchan's state return XCHAN_EFORK (docs/lifecycle.md).
 */
#ifndef XCHAN_PLATFORM_H
#define XCHAN_PLATFORM_H

#include <stdatomic.h>
#include <stdint.h>

/* Monotonic nanoseconds (> 0). */
int64_t xchan__clock_ns(void);

/* Futex-style wait: if *addr == expected, sleep until woken, a spurious
 * wake, or the absolute deadline (monotonic ns; < 0: none).  Returns 0 when
 * woken (or the value differed), -1 on timeout. */
int xchan__futex_wait(_Atomic uint32_t *addr, uint32_t expected,
    int64_t deadline);
/* xchan__futex_wait that also reports a signal: -2 when the sleep was
 * interrupted (EINTR).  Not restarted: the caller decides. */
int xchan__futex_wait_intr(_Atomic uint32_t *addr, uint32_t expected,
    int64_t deadline);
/* Wakes up to n waiters on addr (n = INT32_MAX for all). */
void xchan__futex_wake(_Atomic uint32_t *addr, int32_t n);

/* CPU relaxation inside spin loops, and giving up the CPU. */
void xchan__cpu_relax(void);
void xchan__thread_yield(void);

/* Threads. */
typedef struct xchan__thread xchan__thread;
int xchan__thread_start(xchan__thread **out, void (*fn)(void *), void *arg,
    const char *name);
void xchan__thread_join(xchan__thread *t);
void xchan__thread_set_name(const char *name);
/* Asks the OS to wake the calling thread's timed sleeps on time rather than
 * batching them (Linux: a 1 ns timer slack instead of the default 50 us). */
void xchan__thread_precise_timers(void);
int xchan__ncpu(void);

/* Arranges for fn() to run in the child after every fork(). */
void xchan__on_fork_child(void (*fn)(void));

/* 64 random bits from the OS (for seeding). */
uint64_t xchan__random_seed(void);

#endif
