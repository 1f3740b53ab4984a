/*
 * log.c — xchan_set_log_hook and xchan__log (see log.h).
 *
 * Design notes
 *  - Locks: `g_lock` guards the (hook, user) pair so a message never sees
 *    one hook with another's user pointer.  It is a leaf lock held only to
 *    copy the pair; the hook runs after it is dropped, so a hook may call
 *    xchan (even xchan_set_log_hook).  A hook replaced while a message is
 *    being delivered may still receive that one message.
 *  - Code holding a transform's step lock uses xchan__log_later: the
 *    message waits in a small per-thread list (no lock, no allocation)
 *    until xchan__ctx_finish, after every lock is dropped, flushes it.
 *  - A message found on a go task's stack is formatted there and delivered
 *    on the worker thread's own stack (xchan__on_thread_stack), because a
 *    host hook (the JVM, CPython) must not run on a small coroutine stack.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>

#include "lock.h"
#include "task.h"

static xchan__lock g_lock;
static xchan_log_hook g_hook;
static void *g_user;
static _Atomic uint64_t g_count;

void
xchan_set_log_hook(xchan_log_hook hook, void *user)
{
	xchan__lock_acquire(&g_lock);
	g_hook = hook;
	g_user = user;
	xchan__lock_release(&g_lock);
}

uint64_t
xchan__log_count(void)
{
	return atomic_load_explicit(&g_count, memory_order_relaxed);
}

static void
deliver(int32_t level, const char *msg)
{
	xchan__lock_acquire(&g_lock);
	xchan_log_hook hook = g_hook;
	void *user = g_user;
	xchan__lock_release(&g_lock);
	if (hook != NULL)
		hook(user, level, msg);
	else
		fprintf(stderr, "xchan: %s\n", msg);
}

typedef struct message {
	int32_t level;
	const char *text;
} message;

static void
deliver_msg(void *arg)
{
	const message *m = arg;
	deliver(m->level, m->text);
}

#define PENDING_MAX 4
typedef struct pending {
	int32_t level;
	char text[248];
} pending;
_Thread_local int xchan__log_npending;
static _Thread_local pending t_pending[PENDING_MAX];
static _Thread_local int t_lost;

static void
log_now(int32_t level, const char *text)
{
	atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
	message m = {level, text};
	/* Inside a go task this switches to the worker's own stack for the
	 * hook and comes back (outside a task it just calls). */
	xchan__on_thread_stack(deliver_msg, &m);
}

void
xchan__log_flush_slow(void)
{
	/* Copied out first: a hook may log again (and append). */
	while (xchan__log_npending > 0 || t_lost > 0) {
		int n = xchan__log_npending, lost = t_lost;
		pending copy[PENDING_MAX];
		memcpy(copy, t_pending, (size_t)n * sizeof(pending));
		xchan__log_npending = 0;
		t_lost = 0;
		for (int i = 0; i < n; i++)
			log_now(copy[i].level, copy[i].text);
		if (lost > 0) {
			char buf[96];
			snprintf(buf, sizeof(buf),
			    "%d more messages were lost (too many at once)",
			    lost);
			log_now(XCHAN_LOG_ERROR, buf);
		}
	}
}

void
xchan__log_later(int32_t level, const char *fmt, ...)
{
	if (xchan__log_npending == PENDING_MAX) {
		t_lost++;
		return;
	}
	pending *p = &t_pending[xchan__log_npending];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
	p->level = level;
	/* Published after it is written: a signal handler never logs, so
	 * plain per-thread stores suffice. */
	xchan__log_npending++;
}

void
xchan__log(int32_t level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	xchan__log_flush(); /* in order: what waited goes first */
	log_now(level, buf);
}
