/*
 * runtime.c — host runtimes: registration, unregistration, and handing host
 * objects back to their runtime exactly once.
 *
 * Design notes
 *  - Ids count up from 1 and are never reused, so a stale id can never name
 *    a newer runtime.  There is no cap on how many runtimes a process
 *    registers over its life (Node workers and Python subinterpreters come
 *    and go); only the registered ones are in the table.
 *  - Locks: `g_lock` guards the table (an array of registered records,
 *    sorted by id because ids only grow).  It is a leaf lock: no hook, no
 *    allocation hook and no other xchan lock is ever taken under it except
 *    the allocation hooks while growing the table (allowed by the header).
 *  - A record is reference-counted: one reference for the registration,
 *    one per live value carrying one of its objects.  So a value never
 *    points at freed memory, even after unregister.
 *  - Release hooks run with no lock held, and on a thread's own stack even
 *    when a go task drops the last copy (xchan__on_thread_stack).  `inflight` counts release hooks
 *    running (or about to decide whether to run); `alive` is cleared by
 *    unregister, which then waits until no hook of that runtime is running
 *    on another thread.  After unregister returns, the runtime is never
 *    called again: a value dropped later leaks its object on purpose
 *    (counted in g_leaked, and reported once through the log).  A hook that
 *    unregisters its own runtime does not wait for itself (thread-local
 *    frames).  Both sides use seq_cst on `alive`/`inflight` (a Dekker
 *    pair): either the releaser sees alive == 0, or unregister sees its
 *    inflight count.
 */
#include "runtime.h"

#include <string.h>

#include "lock.h"
#include "log.h"
#include "platform/platform.h"
#include "task.h"

struct xchan__rt {
	_Atomic uint32_t refs;
	_Atomic uint32_t alive;
	_Atomic uint32_t inflight; /* futex word while unregister waits */
	_Atomic uint32_t leak_reported;
	_Atomic uint32_t live; /* values holding an object of this runtime */
	uint32_t id;
	void (*release)(void *, void *);
	void *user;
	char name[32];
};

static xchan__lock g_lock;
static xchan__rt **g_table; /* registered records, sorted by id */
static size_t g_n, g_cap;
static uint32_t g_next_id = 1;
static _Atomic uint64_t g_leaked;

/* The release hooks running on this thread, innermost first. */
typedef struct hook_frame {
	const xchan__rt *rt;
	struct hook_frame *next;
} hook_frame;
static _Thread_local hook_frame *t_frames;

static void
rt_free(xchan__rt *rt)
{
	xchan__free(rt, sizeof(*rt));
}

static void
rt_unref(xchan__rt *rt)
{
	if (atomic_fetch_sub_explicit(&rt->refs, 1, memory_order_acq_rel) == 1)
		rt_free(rt);
}

void
xchan__rt_unget(xchan__rt *rt)
{
	atomic_fetch_sub_explicit(&rt->live, 1, memory_order_relaxed);
	rt_unref(rt);
}

uint32_t
xchan__rt_id(const xchan__rt *rt)
{
	return rt->id;
}

bool
xchan__rt_alive(const xchan__rt *rt)
{
	return atomic_load(&rt->alive) != 0;
}

uint64_t
xchan__rt_leaked(void)
{
	return atomic_load_explicit(&g_leaked, memory_order_relaxed);
}

/* Index of `id` in the table, or g_n (g_lock held). */
static size_t
find(uint32_t id)
{
	size_t lo = 0, hi = g_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g_table[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g_n && g_table[lo]->id == id ? lo : g_n;
}

xchan__rt *
xchan__rt_get(uint32_t id)
{
	xchan__rt *rt = NULL;
	if (id == 0)
		return NULL;
	xchan__lock_acquire(&g_lock);
	size_t i = find(id);
	if (i < g_n) {
		rt = g_table[i];
		atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&rt->live, 1, memory_order_relaxed);
	}
	xchan__lock_release(&g_lock);
	return rt;
}

int32_t
xchan_runtime_register(uint32_t *out_id, const xchan_runtime *rt)
{
	/* The first version of xchan_runtime is today's (no field added
	 * since); `retain` is no longer called and may be NULL. */
	if (out_id == NULL || rt == NULL || rt->size < XCHAN__RUNTIME_V1_SIZE ||
	    rt->release == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	xchan__rt *r = xchan__zalloc(sizeof(*r));
	if (r == NULL)
		return XCHAN_ENOMEM;
	atomic_init(&r->refs, 1);
	atomic_init(&r->alive, 1);
	r->release = rt->release;
	r->user = rt->user;
	if (rt->name)
		strncpy(r->name, rt->name, sizeof(r->name) - 1);
	xchan__lock_acquire(&g_lock);
	if (g_n == g_cap || g_next_id == UINT32_MAX) {
		size_t ncap = g_cap ? g_cap * 2 : 8;
		xchan__rt **nt = g_next_id == UINT32_MAX
		                     ? NULL
		                     : xchan__alloc(ncap * sizeof(*nt));
		if (nt == NULL) {
			xchan__lock_release(&g_lock);
			rt_free(r);
			return g_next_id == UINT32_MAX ? XCHAN_ELIMIT
			                               : XCHAN_ENOMEM;
		}
		if (g_n)
			memcpy(nt, g_table, g_n * sizeof(*nt));
		xchan__free(g_table, g_cap * sizeof(*nt));
		g_table = nt;
		g_cap = ncap;
	}
	r->id = g_next_id++;
	g_table[g_n++] = r;
	xchan__lock_release(&g_lock);
	*out_id = r->id;
	return XCHAN_OK;
}

static uint32_t
own_frames(const xchan__rt *rt)
{
	uint32_t n = 0;
	for (hook_frame *f = t_frames; f; f = f->next)
		n += f->rt == rt;
	return n;
}

int32_t
xchan_runtime_unregister(uint32_t id)
{
	xchan__rt *rt = NULL;
	if (xchan__forked())
		return XCHAN_EFORK;
	xchan__lock_acquire(&g_lock);
	size_t i = id != 0 ? find(id) : g_n;
	if (i < g_n) {
		rt = g_table[i];
		memmove(&g_table[i], &g_table[i + 1],
		    (g_n - i - 1) * sizeof(*g_table));
		g_n--;
	}
	xchan__lock_release(&g_lock);
	if (rt == NULL)
		return XCHAN_EINVAL;
	atomic_store(&rt->alive, 0);
	/* Wait for hooks of this runtime running on other threads. */
	uint32_t mine = own_frames(rt), n;
	while ((n = atomic_load(&rt->inflight)) > mine)
		xchan__futex_wait(&rt->inflight, n, -1);
	uint32_t live = atomic_load(&rt->live);
	if (live > 0)
		xchan__log(XCHAN_LOG_INFO,
		    "runtime \"%s\" (id %u) unregistered with %u live host "
		    "values: their objects will be leaked, not released",
		    rt->name, rt->id, live);
	rt_unref(rt);
	return XCHAN_OK;
}

typedef struct hook_call {
	xchan__rt *rt;
	void *obj;
} hook_call;

static void
call_release(void *arg)
{
	hook_call *c = arg;
	c->rt->release(c->rt->user, c->obj);
}

void
xchan__rt_release_obj(xchan__rt *rt, void *obj)
{
	atomic_fetch_sub_explicit(&rt->live, 1, memory_order_relaxed);
	atomic_fetch_add(&rt->inflight, 1);
	if (atomic_load(&rt->alive)) {
		hook_frame f = {rt, t_frames};
		t_frames = &f;
		hook_call c = {rt, obj};
		/* Never on a go task's stack: the host checks stack bounds. */
		xchan__on_thread_stack(call_release, &c);
		t_frames = f.next;
	} else {
		atomic_fetch_add_explicit(&g_leaked, 1, memory_order_relaxed);
		if (atomic_exchange(&rt->leak_reported, 1) == 0)
			xchan__log(XCHAN_LOG_WARN,
			    "host object of unregistered runtime \"%s\" "
			    "(id %u) leaked (its runtime is gone)",
			    rt->name, rt->id);
	}
	if (atomic_fetch_sub(&rt->inflight, 1) == 1 && !atomic_load(&rt->alive))
		xchan__futex_wake(&rt->inflight, INT32_MAX);
	rt_unref(rt);
}
