/*
 * cpool.c — the cached thread pool (see cpool.h).
 *
 * Design notes
 *  - Locks: `p->lock` guards everything but the atomics: the queue, the
 *    node cache, the idle stack, the list of live threads, the zombie list
 *    and the counters.  Leaf lock (the allocation hook and pthread_create
 *    may run under it).  Never held while an item runs or a thread is
 *    joined.
 *  - A thread is in exactly one of: running an item, on the idle stack
 *    (wake == 0, sleeping on it), or exiting (on the zombie list, joined by
 *    the next execute or by stop).  Whoever pops a thread off the idle stack
 *    sets its wake word, so an idle thread that times out checks, under the
 *    lock, whether it was popped meanwhile before it leaves.
 *  - The creator holds the lock across thread start and stores the handle
 *    before the new thread can take the lock, so a thread's handle is
 *    always set by the time it can become a zombie.
 *  - Shutdown as pool.c: `stopping`, idle threads woken with wake = 2,
 *    queued items drained until the drain deadline, `nalive` is the futex
 *    word the stopper waits on.
 */
#include "cpool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lock.h"
#include "platform/platform.h"
#include "pool.h" /* xchan__pool_node */

#define NODE_CACHE_MAX 256

typedef struct cthread cthread;
struct cthread {
	xchan__cpool *pool;
	xchan__thread *thread;
	_Atomic uint32_t wake; /* 0 idle, 1 work, 2 stop */
	cthread *idle_next;
	cthread *next, *prev; /* live list, then zombie list */
	char name[16];
};

struct xchan__cpool {
	xchan__lock lock;
	xchan__node_fifo q;
	xchan__node_cache nodes;
	cthread *idle;
	cthread *live;
	cthread *zombies;
	uint32_t nthreads, nidle;
	uint64_t started, expired;
	int64_t idle_ns;
	int dead;
	_Atomic int32_t stopping;
	_Atomic int64_t drain_deadline;
	_Atomic uint32_t nalive;
	char prefix[12];
};

static _Thread_local cthread *tls_cthread;

int
xchan__cpool_in_worker(void)
{
	cthread *c = tls_cthread;
	__asm__ __volatile__("" : "+r"(c));
	return c != NULL;
}

static void
q_append(xchan__cpool *p, xchan__pool_node *n)
{
	xchan__fifo_push(&p->q, n);
}

static xchan__pool_node *
q_take(xchan__cpool *p)
{
	return xchan__fifo_pop(&p->q);
}

static void
node_put(xchan__cpool *p, xchan__pool_node *n)
{
	xchan__free(xchan__node_put(&p->nodes, n), sizeof(*n));
}

static void
idle_remove(xchan__cpool *p, cthread *c)
{
	for (cthread **pp = &p->idle; *pp != NULL; pp = &(*pp)->idle_next) {
		if (*pp == c) {
			*pp = c->idle_next;
			p->nidle--;
			return;
		}
	}
}

static void
live_unlink(xchan__cpool *p, cthread *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		p->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = NULL;
}

static void
join_zombies(cthread *z)
{
	while (z != NULL) {
		cthread *next = z->next;
		xchan__thread_join(z->thread);
		xchan__free(z, sizeof(*z));
		z = next;
	}
}

/* Waits on the idle stack; returns 0 if it should exit (timed out or
 * stopping), 1 if it was handed work. */
static int
idle_wait(xchan__cpool *p, cthread *c)
{
	int64_t deadline = xchan__clock_ns() + p->idle_ns;
	uint32_t w;
	while ((w = atomic_load(&c->wake)) == 0) {
		if (xchan__futex_wait(&c->wake, 0, deadline) != 0 &&
		    xchan__clock_ns() >= deadline)
			break;
	}
	if (w != 0)
		return w == 1;
	xchan__lock_acquire(&p->lock);
	w = atomic_load(&c->wake);
	if (w == 0) {
		idle_remove(p, c);
		p->expired++;
	}
	xchan__lock_release(&p->lock);
	return w == 1;
}

static void
cthread_main(void *arg)
{
	cthread *c = arg;
	xchan__cpool *p = c->pool;
	tls_cthread = c;
	xchan__lock_acquire(&p->lock);
	for (;;) {
		if (atomic_load(&p->stopping) &&
		    xchan__clock_ns() > atomic_load(&p->drain_deadline))
			break;
		xchan__pool_node *n = q_take(p);
		if (n != NULL) {
			xchan_task_fn fn = n->fn;
			void *a = n->arg;
			node_put(p, n);
			xchan__lock_release(&p->lock);
			fn(a);
			xchan__lock_acquire(&p->lock);
			continue;
		}
		if (atomic_load(&p->stopping))
			break;
		atomic_store(&c->wake, 0);
		c->idle_next = p->idle;
		p->idle = c;
		p->nidle++;
		xchan__lock_release(&p->lock);
		int work = idle_wait(p, c);
		xchan__lock_acquire(&p->lock);
		if (!work && !atomic_load(&p->stopping))
			break; /* idle timeout: idle_wait took us off the stack */
	}
	live_unlink(p, c);
	p->nthreads--;
	c->next = p->zombies;
	p->zombies = c;
	xchan__lock_release(&p->lock);
	tls_cthread = NULL;
	if (atomic_fetch_sub(&p->nalive, 1) == 1)
		xchan__futex_wake(&p->nalive, INT32_MAX);
}

/* Lock held.  Returns XCHAN_OK once a thread is starting. */
static int32_t
spawn(xchan__cpool *p)
{
	cthread *c = xchan__zalloc(sizeof(*c));
	if (c == NULL)
		return XCHAN_ENOMEM;
	c->pool = p;
	snprintf(c->name, sizeof(c->name), "%s-%llu", p->prefix,
	    (unsigned long long)(p->started + 1));
	atomic_fetch_add(&p->nalive, 1);
	if (xchan__thread_start(&c->thread, cthread_main, c, c->name) !=
	    XCHAN_OK) {
		atomic_fetch_sub(&p->nalive, 1);
		xchan__free(c, sizeof(*c));
		return XCHAN_ENOMEM;
	}
	p->started++;
	p->nthreads++;
	c->next = p->live;
	if (p->live)
		p->live->prev = c;
	p->live = c;
	return XCHAN_OK;
}

int32_t
xchan__cpool_execute(xchan__cpool *p, xchan_task_fn fn, void *arg)
{
	int32_t err = XCHAN_OK;
	cthread *wake = NULL, *zombies = NULL;
	xchan__lock_acquire(&p->lock);
	if (p->dead || atomic_load(&p->stopping)) {
		xchan__lock_release(&p->lock);
		return XCHAN_ESHUTDOWN;
	}
	xchan__pool_node *n = xchan__node_get(&p->nodes, fn, arg);
	if (n == NULL) {
		xchan__lock_release(&p->lock);
		return XCHAN_ENOMEM;
	}
	q_append(p, n);
	zombies = p->zombies;
	p->zombies = NULL;
	if (p->idle != NULL) {
		wake = p->idle;
		p->idle = wake->idle_next;
		p->nidle--;
		atomic_store(&wake->wake, 1);
	} else if (spawn(p) != XCHAN_OK && p->nthreads == 0) {
		/* Nobody will ever run it: take it back. */
		for (xchan__pool_node **pp = &p->q.head; *pp;
		     pp = &(*pp)->next) {
			if (*pp == n) {
				*pp = n->next;
				break;
			}
		}
		p->q.tail = NULL;
		for (xchan__pool_node *q = p->q.head; q; q = q->next)
			p->q.tail = q;
		node_put(p, n);
		err = XCHAN_ENOMEM;
	}
	xchan__lock_release(&p->lock);
	if (wake != NULL)
		xchan__futex_wake(&wake->wake, 1);
	join_zombies(zombies);
	return err;
}

int32_t
xchan__cpool_new(xchan__cpool **out, const char *prefix, int64_t idle_ms)
{
	if (out == NULL || prefix == NULL)
		return XCHAN_EINVAL;
	xchan__cpool *p = xchan__zalloc(sizeof(*p));
	if (p == NULL)
		return XCHAN_ENOMEM;
	p->nodes.max = NODE_CACHE_MAX;
	if (idle_ms <= 0) {
		const char *e = getenv("XCHAN_IDLE_TIMEOUT_MS");
		idle_ms = e ? atoll(e) : 0;
		if (idle_ms <= 0)
			idle_ms = 60000;
	}
	p->idle_ns = idle_ms * 1000000;
	snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
	*out = p;
	return XCHAN_OK;
}

void
xchan__cpool_stop_begin(xchan__cpool *p, int64_t drain_deadline)
{
	atomic_store(&p->drain_deadline, drain_deadline);
	xchan__lock_acquire(&p->lock);
	atomic_store(&p->stopping, 1);
	cthread *c = p->idle;
	p->idle = NULL;
	p->nidle = 0;
	xchan__lock_release(&p->lock);
	/* Popped threads are ours to wake; they stay allocated until joined. */
	while (c != NULL) {
		cthread *next = c->idle_next;
		atomic_store(&c->wake, 2);
		xchan__futex_wake(&c->wake, 1);
		c = next;
	}
}

int
xchan__cpool_stop_wait(xchan__cpool *p, int64_t join_deadline)
{
	if (!xchan__wait_all_exited(&p->nalive, join_deadline))
		return 0;
	xchan__lock_acquire(&p->lock);
	p->dead = 1;
	cthread *z = p->zombies;
	p->zombies = NULL;
	xchan__lock_release(&p->lock);
	join_zombies(z);
	return 1;
}

void
xchan__cpool_free(xchan__cpool *p)
{
	if (p == NULL)
		return;
	xchan__pool_node *n;
	while ((n = q_take(p)) != NULL)
		xchan__free(n, sizeof(*n));
	xchan__node_cache_free(&p->nodes);
	xchan__free(p, sizeof(*p));
}

void
xchan__cpool_get_stats(xchan__cpool *p, xchan__cpool_stats *out)
{
	xchan__lock_acquire(&p->lock);
	out->threads = p->nthreads;
	out->idle = p->nidle;
	out->started = p->started;
	out->expired = p->expired;
	xchan__lock_release(&p->lock);
}
