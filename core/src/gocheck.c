/*
 * gocheck.c — go-checking: a watchdog that reports go tasks holding their
 * thread (a dispatch worker) too long without parking.  core.async checks
 * only for blocking channel calls in a go block's first run; here every
 * slice of every task is watched, whatever makes it slow.
 *
 * Design notes
 *  - Every thread that runs slices while checking is on owns a `slot`
 *    (allocated once, listed in `g.slots`, reused after the thread exits
 *    through a tss destructor).  A slice sets the slot's task and start time
 *    when it begins and clears them when it ends, under the slot's lock.
 *  - The watchdog walks the slots every threshold/4; under a slot's lock it
 *    copies the name of a task over the threshold (the task cannot be freed
 *    meanwhile: the slice clears the slot before it frees a finished task),
 *    then calls the hook with no lock held.  Each slice is reported once.
 *  - Locks: `g.lock` guards the slot list, the hook and the threshold; a
 *    slot's lock guards its fields.  Order: g.lock, then a slot lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "common.h"
#include "exec.h"
#include "gosched.h"
#include "lock.h"
#include "log.h"
#include "platform/platform.h"

#define DEFAULT_THRESHOLD_MS 100

typedef struct slot slot;
struct slot {
	xchan__lock lock;
	xchan__task *task;
	int64_t start;
	int reported;
	int in_use;
	slot *next;
};

_Atomic int xchan__gocheck_enabled;

static struct {
	xchan__lock lock;
	slot *slots;
	int64_t threshold_ns;
	xchan_go_check_hook hook;
	void *user;
	xchan__thread *watchdog;
	_Atomic uint32_t kick; /* futex: bumped to wake the watchdog */
	_Atomic int stop;
	int env_read;
} g;

static _Thread_local slot *tls_slot;
static tss_t g_key;
static _Atomic int g_key_state; /* 0 none, 1 creating, 2 ready */

static void
slot_release(void *p)
{
	slot *s = p;
	xchan__lock_acquire(&s->lock);
	s->task = NULL;
	s->in_use = 0;
	xchan__lock_release(&s->lock);
}

static void
key_once(void)
{
	int zero = 0;
	if (atomic_compare_exchange_strong(&g_key_state, &zero, 1)) {
		tss_create(&g_key, slot_release);
		atomic_store(&g_key_state, 2);
	}
	while (atomic_load(&g_key_state) != 2)
		xchan__thread_yield();
}

static slot *
my_slot(void)
{
	slot *s = tls_slot;
	__asm__ __volatile__("" : "+r"(s));
	if (XCHAN_LIKELY(s != NULL))
		return s;
	key_once();
	xchan__lock_acquire(&g.lock);
	for (s = g.slots; s != NULL; s = s->next) {
		xchan__lock_acquire(&s->lock);
		int free_ = !s->in_use;
		if (free_)
			s->in_use = 1;
		xchan__lock_release(&s->lock);
		if (free_)
			break;
	}
	if (s == NULL && (s = xchan__zalloc(sizeof(*s))) != NULL) {
		s->in_use = 1;
		s->next = g.slots;
		g.slots = s;
	}
	xchan__lock_release(&g.lock);
	if (s != NULL) {
		tls_slot = s;
		tss_set(g_key, s);
	}
	return s;
}

void
xchan__gocheck_enter(xchan__task *t)
{
	slot *s = my_slot();
	if (s == NULL)
		return;
	int64_t now = xchan__clock_ns();
	xchan__lock_acquire(&s->lock);
	s->task = t;
	s->start = now;
	s->reported = 0;
	xchan__lock_release(&s->lock);
}

void
xchan__gocheck_leave(void)
{
	slot *s = tls_slot;
	__asm__ __volatile__("" : "+r"(s));
	if (s == NULL)
		return;
	xchan__lock_acquire(&s->lock);
	s->task = NULL;
	xchan__lock_release(&s->lock);
}

static void
default_hook(void *user, const char *name, int64_t held_ms)
{
	(void)user;
	xchan__log(XCHAN_LOG_WARN,
	    "go-checking: task %s has held its dispatch thread for %lld ms "
	    "without parking (blocking call in a go task?)",
	    name, (long long)held_ms);
}

static void
scan(int64_t threshold)
{
	int64_t now = xchan__clock_ns();
	xchan__lock_acquire(&g.lock);
	xchan_go_check_hook hook = g.hook ? g.hook : default_hook;
	void *user = g.user;
	for (slot *s = g.slots; s != NULL; s = s->next) {
		char name[128];
		int64_t held = 0;
		xchan__lock_acquire(&s->lock);
		int hit = s->task != NULL && !s->reported &&
		          now - s->start > threshold;
		if (hit) {
			s->reported = 1;
			held = (now - s->start) / 1000000;
			snprintf(name, sizeof(name), "%s",
			    xchan__task_name(s->task));
		}
		xchan__lock_release(&s->lock);
		if (hit) {
			/* The hook is user code: no lock of ours around it. */
			xchan__lock_release(&g.lock);
			hook(user, name, held);
			xchan__lock_acquire(&g.lock);
		}
	}
	xchan__lock_release(&g.lock);
}

static void
watchdog_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&g.stop)) {
		uint32_t k = atomic_load(&g.kick);
		xchan__lock_acquire(&g.lock);
		int64_t th = g.threshold_ns;
		xchan__lock_release(&g.lock);
		int64_t period = th > 0 ? th / 4 : 100000000LL;
		if (period < 1000000)
			period = 1000000;
		if (period > 1000000000LL)
			period = 1000000000LL;
		if (th > 0)
			scan(th);
		xchan__futex_wait(&g.kick, k, xchan__clock_ns() + period);
	}
}

int32_t
xchan_set_go_checking(int64_t threshold_ms, xchan_go_check_hook hook,
    void *user)
{
	if (xchan__exec_shut_down())
		return XCHAN_ESHUTDOWN;
	int32_t err = XCHAN_OK;
	xchan__lock_acquire(&g.lock);
	g.env_read = 1; /* an explicit call wins over the environment */
	g.hook = hook;
	g.user = user;
	/* Saturate: a huge threshold must not wrap to a tiny one. */
	g.threshold_ns = threshold_ms <= 0 ? 0
	                 : threshold_ms > INT64_MAX / 1000000
	                     ? INT64_MAX
	                     : threshold_ms * 1000000;
	if (threshold_ms > 0 && g.watchdog == NULL && !atomic_load(&g.stop))
		err = xchan__thread_start(&g.watchdog, watchdog_main, NULL,
		    "xchan-gocheck");
	atomic_store(&xchan__gocheck_enabled,
	    threshold_ms > 0 && err == XCHAN_OK);
	xchan__lock_release(&g.lock);
	atomic_fetch_add(&g.kick, 1);
	xchan__futex_wake(&g.kick, 1);
	return err;
}

void
xchan__gocheck_env_once(void)
{
	static _Atomic int done;
	if (XCHAN_LIKELY(atomic_load_explicit(&done, memory_order_relaxed)))
		return;
	xchan__lock_acquire(&g.lock);
	int read = g.env_read;
	g.env_read = 1;
	xchan__lock_release(&g.lock);
	atomic_store(&done, 1);
	if (read)
		return;
	const char *s = getenv("XCHAN_GO_CHECKING");
	if (s == NULL || *s == 0 || strcmp(s, "0") == 0)
		return;
	long long ms = atoll(s);
	if (ms <= 1)
		ms = DEFAULT_THRESHOLD_MS; /* "1" means "on" */
	xchan_set_go_checking(ms, NULL, NULL);
}

void
xchan__gocheck_shutdown(void)
{
	xchan__lock_acquire(&g.lock);
	atomic_store(&g.stop, 1);
	atomic_store(&xchan__gocheck_enabled, 0);
	xchan__thread *w = g.watchdog;
	g.watchdog = NULL;
	xchan__lock_release(&g.lock);
	atomic_fetch_add(&g.kick, 1);
	xchan__futex_wake(&g.kick, 1);
	if (w != NULL)
		xchan__thread_join(w);
}
