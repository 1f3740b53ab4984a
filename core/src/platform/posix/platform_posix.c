/*
 * platform_posix.c — the Linux implementation of platform.h: futex, clock,
 * threads.  Other POSIX systems would supply their own file beside it.
 */
#include "platform/platform.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

int64_t
xchan__clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* +1 keeps the clock strictly positive so 0 can mean "poll". */
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec + 1;
}

static int
futex_wait_impl(_Atomic uint32_t *addr, uint32_t expected, int64_t deadline,
    int report_intr)
{
	struct timespec ts, *tsp = NULL;
	if (deadline >= 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time;
		 * our clock is that clock plus one nanosecond. */
		int64_t d = deadline - 1;
		if (d <= 0)
			return -1;
		ts.tv_sec = d / 1000000000LL;
		ts.tv_nsec = d % 1000000000LL;
		tsp = &ts;
	}
	long r = syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_BITSET_PRIVATE,
	    expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
	if (r == -1 && errno == ETIMEDOUT)
		return -1;
	if (r == -1 && errno == EINTR && report_intr)
		return -2;
	return 0;
}

int
xchan__futex_wait(_Atomic uint32_t *addr, uint32_t expected, int64_t deadline)
{
	return futex_wait_impl(addr, expected, deadline, 0);
}

int
xchan__futex_wait_intr(_Atomic uint32_t *addr, uint32_t expected,
    int64_t deadline)
{
	return futex_wait_impl(addr, expected, deadline, 1);
}

void
xchan__futex_wake(_Atomic uint32_t *addr, int32_t n)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL,
	    0);
}

void
xchan__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

void
xchan__thread_yield(void)
{
	sched_yield();
}

struct xchan__thread {
	pthread_t tid;
	void (*fn)(void *);
	void *arg;
	char name[16];
};

/* Every thread xchan starts runs here: the binding's thread_start hook is
 * the first thing it runs and thread_exit the last (xchan_init_params). */
static void *
thread_trampoline(void *p)
{
	struct xchan__thread *t = p;
	void (*start)(void *, const char *), (*exit_)(void *, const char *);
	void *user;
	size_t stack;
	xchan__thread_hooks(&start, &exit_, &user, &stack);
	if (start != NULL)
		start(user, t->name);
	if (t->name[0])
		pthread_setname_np(pthread_self(), t->name);
	t->fn(t->arg);
	if (exit_ != NULL)
		exit_(user, t->name);
	return NULL;
}

int
xchan__thread_start(xchan__thread **out, void (*fn)(void *), void *arg,
    const char *name)
{
	struct xchan__thread *t = xchan__zalloc(sizeof(*t));
	if (t == NULL)
		return XCHAN_ENOMEM;
	t->fn = fn;
	t->arg = arg;
	if (name)
		strncpy(t->name, name,
		    sizeof(t->name) - 1); /* Linux: 15 chars */
	void (*start)(void *, const char *), (*exit_)(void *, const char *);
	void *user;
	size_t stack;
	xchan__thread_hooks(&start, &exit_, &user, &stack);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	int rc = pthread_create(&t->tid, &attr, thread_trampoline, t);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		xchan__free(t, sizeof(*t));
		return XCHAN_ENOMEM;
	}
	*out = t;
	return XCHAN_OK;
}

void
xchan__thread_join(xchan__thread *t)
{
	pthread_join(t->tid, NULL);
	xchan__free(t, sizeof(*t));
}

void
xchan__thread_set_name(const char *name)
{
	char buf[16];
	strncpy(buf, name, sizeof(buf) - 1);
	buf[15] = 0;
	pthread_setname_np(pthread_self(), buf);
}

void
xchan__thread_precise_timers(void)
{
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

int
xchan__ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void
xchan__on_fork_child(void (*fn)(void))
{
	pthread_atfork(NULL, NULL, fn);
}

uint64_t
xchan__random_seed(void)
{
	uint64_t s = 0;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != sizeof(s))
		s = (uint64_t)xchan__clock_ns() ^ (uint64_t)(uintptr_t)&s;
	return s | 1;
}
