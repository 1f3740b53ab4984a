/*
 * stackguard.c — a go task that runs off the end of its stack is reported by
 * name instead of dying as an anonymous segmentation fault.
 *
 * Design notes
 *  - Every guarded go stack has a faulting page below it (coro.c: a guard
 *    region in a slab, or a PROT_NONE page), so an overflow faults there.  A fault is delivered on the faulting
 *    stack, which is exactly the one that has no room left: the handler
 *    runs on an alternate signal stack (sigaltstack), one per thread that
 *    runs go tasks, set up the first time the thread runs one.
 *  - The handler is process-wide (SIGSEGV and SIGBUS), installed once, the
 *    first time any thread runs a go task.  It recognises a guard-page hit
 *    by the fault address: inside the guard page of the go task the thread
 *    is running.  Then it writes one line naming the task and its stack size
 *    to stderr (write(2): async-signal-safe, no lock, no allocation), puts
 *    the default action back and returns, so the fault repeats and the
 *    process dies of SIGSEGV as it would have, only not silently.
 *  - Any other fault goes to the handler that was installed before ours
 *    (a host's: the JVM and others handle SIGSEGV themselves), or, if there
 *    was none, to the default action.  Our handler never swallows a fault.
 *  - Unguarded slab stacks (no guard regions and beyond the guard budget,
 *    coro.c) have no guard page; their canary, checked when a task
 *    switches out, reports them instead.
 *  - Off under sanitizer builds (ASan and TSan handle SIGSEGV and run their
 *    own alternate stacks) and when XCHAN_STACK_GUARD_HANDLER=0 is in the
 *    environment, for hosts that must own SIGSEGV outright.
 *  - Locks: installation is a once-only CAS; `g_alt_mu` (a leaf) guards
 *    the pool of alternate stacks, taken when a thread first runs a go
 *    task and when it exits (a pthread key's destructor), never in the
 *    handler.  The handler reads the thread's current task,
 *    which only this thread writes.
 */
#include "stackguard.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gosched.h"
#include "platform/platform.h"

#define ALT_STACK_SIZE (64 * 1024)

static struct sigaction g_old_segv, g_old_bus;
static _Atomic int g_state; /* 0 not yet, 1 installing, 2 on, 3 off */
static _Thread_local int t_altstack;
static pthread_key_t g_altstack_key; /* returns a thread's stack at exit */

/* Alternate stacks are pooled, never freed: a block goes back to the pool
 * when its thread exits and serves the next thread, and every block stays
 * reachable from `g_alt_all` (also in a fork child, where the threads that
 * held them are gone).  Their number is the peak number of threads that
 * ran go tasks at once. */
typedef struct alt_block {
	struct alt_block *next_all, *next_free;
	max_align_t align; /* the stack follows */
} alt_block;
static pthread_mutex_t g_alt_mu = PTHREAD_MUTEX_INITIALIZER;
static alt_block *g_alt_all, *g_alt_free;

static alt_block *
alt_get(void)
{
	pthread_mutex_lock(&g_alt_mu);
	alt_block *b = g_alt_free;
	if (b != NULL)
		g_alt_free = b->next_free;
	pthread_mutex_unlock(&g_alt_mu);
	if (b != NULL)
		return b;
	b = malloc(sizeof(*b) + ALT_STACK_SIZE);
	if (b == NULL)
		return NULL;
	pthread_mutex_lock(&g_alt_mu);
	b->next_all = g_alt_all;
	g_alt_all = b;
	pthread_mutex_unlock(&g_alt_mu);
	return b;
}

static void
alt_put(alt_block *b)
{
	pthread_mutex_lock(&g_alt_mu);
	b->next_free = g_alt_free;
	g_alt_free = b;
	pthread_mutex_unlock(&g_alt_mu);
}

/* ---- async-signal-safe formatting ------------------------------------- */

static size_t
put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t
put_num(char *buf, size_t at, size_t cap, uint64_t v, unsigned base)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && n < (int)sizeof(tmp));
	while (n > 0 && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void
report_overflow(const xchan__task *t, const void *addr)
{
	char msg[320];
	size_t n = 0, cap = sizeof(msg);
	n = put_str(msg, n, cap, "xchan: go task ");
	n = put_str(msg, n, cap, t->name ? t->name : "?");
	n = put_str(msg, n, cap, " overflowed its ");
	n = put_num(msg, n, cap, (t->coro.map_size - xchan__page_size()) / 1024,
	    10);
	n = put_str(msg, n, cap, " KiB stack (guard page hit at 0x");
	n = put_num(msg, n, cap, (uint64_t)(uintptr_t)addr, 16);
	n = put_str(msg, n, cap,
	    "); raise xchan_go_opts.stack_size or recurse less\n");
	ssize_t w = write(2, msg, n);
	(void)w;
}

/* ---- the handler -------------------------------------------------------- */

static void
chain(int sig, siginfo_t *si, void *uc)
{
	const struct sigaction *old = sig == SIGBUS ? &g_old_bus : &g_old_segv;
	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* No one else handles it: the default action, when the faulting
	 * instruction runs again on return. */
	signal(sig, SIG_DFL);
}

static void
on_fault(int sig, siginfo_t *si, void *uc)
{
	const xchan__task *t = xchan__task_current();
	const char *addr = si != NULL ? (const char *)si->si_addr : NULL;
	if (t != NULL && t->coro.guarded && t->coro.map != NULL &&
	    addr >= t->coro.map && addr < t->coro.map + xchan__page_size()) {
		report_overflow(t, addr);
		signal(sig, SIG_DFL); /* dies of this fault on return */
		return;
	}
	chain(sig, si, uc);
}

/* ---- installation --------------------------------------------------------- */

static int
wanted(void)
{
#if defined(XCHAN_SANITIZER_BUILD)
	return 0;
#else
	const char *e = getenv("XCHAN_STACK_GUARD_HANDLER");
	return !(e != NULL && e[0] == '0');
#endif
}

/* At thread exit: stop using the alternate stack, then pool it. */
static void
release_altstack(void *block)
{
	stack_t ss;
	memset(&ss, 0, sizeof(ss));
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	alt_put(block);
}

static void
install_once(void)
{
	int s = atomic_load_explicit(&g_state, memory_order_acquire);
	if (s >= 2)
		return;
	int expect = 0;
	if (!atomic_compare_exchange_strong(&g_state, &expect, 1)) {
		/* Bounded spin: the installer may be preempted. */
		for (unsigned i = 0;
		     atomic_load_explicit(&g_state, memory_order_acquire) < 2;
		     i++) {
			if (i < 64)
				xchan__cpu_relax();
			else
				xchan__thread_yield();
		}
		return;
	}
	if (!wanted()) {
		atomic_store_explicit(&g_state, 3, memory_order_release);
		return;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (pthread_key_create(&g_altstack_key, release_altstack) != 0) {
		atomic_store_explicit(&g_state, 3, memory_order_release);
		return;
	}
	sigaction(SIGSEGV, &sa, &g_old_segv);
	sigaction(SIGBUS, &sa, &g_old_bus);
	atomic_store_explicit(&g_state, 2, memory_order_release);
}

void
xchan__stackguard_thread_init(void)
{
	if (t_altstack)
		return;
	t_altstack = 1;
	install_once();
	if (atomic_load_explicit(&g_state, memory_order_acquire) != 2)
		return;
	/* Keep an alternate stack the thread already has (a host's). */
	stack_t cur;
	if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) &&
	    cur.ss_size >= ALT_STACK_SIZE / 2)
		return;
	alt_block *b = alt_get(); /* back to the pool at the thread's exit */
	if (b == NULL)
		return;
	stack_t ss = {.ss_sp = b + 1, .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
	if (sigaltstack(&ss, NULL) != 0 ||
	    pthread_setspecific(g_altstack_key, b) != 0)
		release_altstack(b);
}
