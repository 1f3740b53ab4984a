/*
 * log.c — xchan_set_log_hook and xchan__log (see log.h).
 *
 * Design notes
 *  - Locks: `g_lock` guards the (hook, user) pair so a message never sees
 *    one hook with another's user pointer.  It is a leaf lock held only to
 *    copy the pair; the hook runs after it is dropped, so a hook may call
 *    xchan (even xchan_set_log_hook).  A hook replaced while a message is
 *    being delivered may still receive that one message.
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

void
xchan__log(int32_t level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed);
	message m = {level, buf};
	/* Inside a go task this switches to the worker's own stack for the
	 * hook and comes back (outside a task it just calls). */
	xchan__on_thread_stack(deliver_msg, &m);
}
