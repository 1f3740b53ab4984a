/*
 * pool.c — the fixed worker pool (see pool.h).
 *
 * Design notes
 *  - Locks: `p->lock` guards the shared queue (head/tail), the node free
 *    list, the idle-worker stack and `dead`.  It is a leaf lock except that
 *    the allocation hook may run under it (allowed by xchan_init's contract).
 *    It is never held while an item runs.
 *  - Counters read without the lock: `qlen` (queue length), `nspinning`,
 *    `nsleeping`.  They are seq_cst so that the two halves of each
 *    "publish, then check the other side" pair form a Dekker pattern:
 *      pusher:  qlen++ (under lock) ; load nspinning, nsleeping
 *      spinner: nspinning-- ; load qlen        (so one of them sees the other)
 *      sleeper: check queue and join idle stack under the lock ; sleep
 *    A pusher wakes a sleeper only when nobody spins; the waker hands its
 *    "spinning" count to the woken worker (Go's wakep/startm), so a burst of
 *    pushes costs one kernel wake and a spinner that finds work while it was
 *    the last spinner wakes the next sleeper if work remains.
 *  - runnext: written by its owner (push_next) and taken by the owner or by
 *    a spinning thief with an atomic exchange, so an item is run once.  A
 *    thief only steals from a worker whose item counter (`ticks`) did not
 *    move for a whole spin interval: the owner is stuck in a long item, and
 *    stealing then costs no locality.
 *  - The monitor (Go's sysmon; pools of two or more workers): a thread that
 *    looks at every worker every `delay` (MON_MIN_NS, doubling up to
 *    MON_MAX_NS while it finds nothing to do).  A worker whose `ticks` did
 *    not move since the previous look while its run-next slot or local
 *    queue holds work is stuck in a long item (a long step, a blocking C
 *    call, a slow callback): the monitor moves that work to the front of
 *    the shared queue (in the order the owner would have run it, behind
 *    earlier woken nodes) and wakes an idle worker for it.  So a task
 *    readied by a worker never waits for that worker's current item, even
 *    when every other worker sleeps (a spinning thief, steal_stale, only
 *    exists while some worker spins).  Locks: a worker's `local_lock`,
 *    released before `p->lock` is taken (never nested).  The monitor parks
 *    (futex `mon_state`) while every worker sleeps (no worker can hold
 *    work then: only a running worker fills its own slots); the first
 *    worker woken after that unparks it.  Dekker pair: monitor stores
 *    mon_state = PARKED then loads nsleeping; a waker decrements
 *    nsleeping before the woken worker loads mon_state (all seq_cst).
 *  - Shutdown: `stopping` is set, idle workers and the monitor are woken;
 *    the monitor exits at once, workers drain the queue until
 *    `drain_deadline`, then exit; `nalive` counts live threads, the
 *    monitor included (futex word for the stopper).  After all exit,
 *    `dead` makes pushes fail.
 */
#include "pool.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "lock.h"
#include "log.h"
#include "platform/platform.h"

#define FAIR_TICKS 61   /* check the shared queue first this often */
#define SPIN_NS 20000   /* how long an idle worker looks for work */
#define LOCAL_BACKLOG 4 /* local items other workers may take (steal_backlog) */
#define NODE_CACHE_MAX 1024 /* free nodes kept for execute() */
/* The monitor looks at the workers this often: MON_MIN_NS after it woke or
 * retook work, doubling while it finds nothing, up to MON_MAX_NS.  A task
 * stranded behind a stuck worker so waits at most ~2 * MON_MAX_NS. */
#define MON_MIN_NS 100000LL
#define MON_MAX_NS 5000000LL
enum { MON_RUNNING = 0, MON_PARKED = 1 };

typedef struct worker worker;
struct worker {
	xchan__pool *pool;
	xchan__thread *thread;
	_Atomic(xchan__pool_node *) runnext;
	/* Items displaced from runnext: FIFO, run by the owner after runnext;
	 * other workers take them only when the owner looks stuck (like
	 * runnext), so a producer/consumer pair stays on one worker. */
	xchan__lock local_lock;
	xchan__node_fifo local;
	_Atomic uint32_t nlocal;
	_Atomic uint64_t ticks; /* items started; written by the owner only */
	_Atomic uint32_t wake;  /* futex: 0 asleep, 1 woken to spin, 2 stop */
	int spinning;           /* owner-private: counted in nspinning */
	int index;
	worker *idle_next;    /* guarded by pool lock */
	uint64_t *seen_ticks; /* owner-private snapshot for stealing */
	char name[16];
} __attribute__((aligned(XCHAN_CACHELINE)));

struct xchan__pool {
	xchan__lock lock;
	xchan__node_fifo q; /* the shared queue */
	/* The last of the woken tasks at the front of `q` (push_front); they
	 * run in the order they were woken, before every other queued item. */
	xchan__pool_node *woken_last;
	xchan__node_cache nodes;
	int dead;
	worker *idle;
	_Atomic uint64_t qlen;
	_Atomic int32_t nspinning;
	_Atomic int32_t nsleeping;
	_Atomic int32_t stopping;
	_Atomic uint32_t nalive;
	_Atomic int64_t drain_deadline;
	_Atomic uint64_t executed, futex_wakes, steals;
	_Atomic uint64_t retakes;   /* items the monitor moved */
	_Atomic uint64_t mon_looks; /* monitor rounds */
	_Atomic uint32_t mon_state; /* MON_RUNNING / MON_PARKED; futex word */
	xchan__thread *monitor;     /* NULL: one worker, or it did not start */
	uint64_t *mon_ticks; /* monitor-private: ticks at its last look */
	int nworkers;        /* started */
	int nalloc;          /* allocated worker slots */
	worker *workers;
	char mon_name[16];
};

/* The worker running on this thread.  Read through a non-inlinable call
 * with an opaque result: go tasks migrate between threads, and a cached
 * TLS address would be the previous thread's. */
static _Thread_local worker *tls_worker;

static __attribute__((noinline)) worker *
current_worker(void)
{
	worker *w = tls_worker;
	__asm__ __volatile__("" : "+r"(w));
	return w;
}

/* ---- queue (lock held) ------------------------------------------------------- */

static void
q_append(xchan__pool *p, xchan__pool_node *n)
{
	xchan__fifo_push(&p->q, n);
	atomic_fetch_add(&p->qlen, 1);
}

static xchan__pool_node *
q_take(xchan__pool *p)
{
	xchan__pool_node *n = xchan__fifo_pop(&p->q);
	if (n != NULL)
		atomic_fetch_sub(&p->qlen, 1);
	if (n == p->woken_last)
		p->woken_last = NULL;
	return n;
}

static xchan__pool_node *
queue_pop(xchan__pool *p)
{
	if (atomic_load_explicit(&p->qlen, memory_order_relaxed) == 0)
		return NULL;
	xchan__lock_acquire(&p->lock);
	xchan__pool_node *n = q_take(p);
	xchan__lock_release(&p->lock);
	return n;
}

/* ---- waking ------------------------------------------------------------------ */

static void
wake_worker(worker *w, uint32_t how)
{
	atomic_store(&w->wake, how);
	xchan__futex_wake(&w->wake, 1);
}

/* Called after publishing work: makes sure some worker will look at it. */
static void
maybe_wake(xchan__pool *p)
{
	for (;;) {
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load(&p->nspinning) != 0 ||
		    atomic_load(&p->nsleeping) == 0)
			return;
		int32_t zero = 0;
		if (!atomic_compare_exchange_strong(&p->nspinning, &zero, 1))
			return; /* somebody else started spinning: they will look */
		xchan__lock_acquire(&p->lock);
		worker *w = p->idle;
		if (w != NULL) {
			p->idle = w->idle_next;
			atomic_fetch_sub(&p->nsleeping, 1);
		}
		xchan__lock_release(&p->lock);
		if (w != NULL) {
			atomic_fetch_add_explicit(&p->futex_wakes, 1,
			    memory_order_relaxed);
			wake_worker(w, 1); /* it inherits our nspinning count */
			return;
		}
		/* No sleeper after all.  Undo, then look again: a worker may
		 * have gone to sleep while our count kept pushers quiet. */
		atomic_fetch_sub(&p->nspinning, 1);
		if (atomic_load(&p->qlen) == 0)
			return;
	}
}

/* ---- pushing -------------------------------------------------------------------- */

int32_t
xchan__pool_push(xchan__pool *p, xchan__pool_node *n)
{
	xchan__lock_acquire(&p->lock);
	if (p->dead) {
		xchan__lock_release(&p->lock);
		return XCHAN_ESHUTDOWN;
	}
	q_append(p, n);
	xchan__lock_release(&p->lock);
	maybe_wake(p);
	return XCHAN_OK;
}

int32_t
xchan__pool_execute(xchan__pool *p, xchan_task_fn fn, void *arg)
{
	if (atomic_load_explicit(&p->stopping, memory_order_relaxed))
		return XCHAN_ESHUTDOWN;
	xchan__lock_acquire(&p->lock);
	if (p->dead) {
		xchan__lock_release(&p->lock);
		return XCHAN_ESHUTDOWN;
	}
	xchan__pool_node *n = xchan__node_get(&p->nodes, fn, arg);
	if (n == NULL) {
		xchan__lock_release(&p->lock);
		return XCHAN_ENOMEM;
	}
	q_append(p, n);
	xchan__lock_release(&p->lock);
	maybe_wake(p);
	return XCHAN_OK;
}

int
xchan__pool_push_front(xchan__pool *p, xchan__pool_node *n)
{
	xchan__lock_acquire(&p->lock);
	if (p->dead) {
		xchan__lock_release(&p->lock);
		return XCHAN_ESHUTDOWN;
	}
	/* Behind the tasks woken before it (FIFO among woken tasks: pushing
	 * each to the very front would make a burst of timer fires run
	 * newest first), ahead of everything else. */
	xchan__pool_node *after = p->woken_last;
	if (after != NULL) {
		n->next = after->next;
		after->next = n;
	} else {
		n->next = p->q.head;
		p->q.head = n;
	}
	if (p->q.tail == after)
		p->q.tail = n;
	p->woken_last = n;
	atomic_fetch_add(&p->qlen, 1);
	xchan__lock_release(&p->lock);
	maybe_wake(p);
	return XCHAN_OK;
}

static void
local_push(worker *w, xchan__pool_node *n)
{
	xchan__lock_acquire(&w->local_lock);
	xchan__fifo_push(&w->local, n);
	uint32_t had =
	    atomic_fetch_add_explicit(&w->nlocal, 1, memory_order_relaxed);
	xchan__lock_release(&w->local_lock);
	/* A backlog is work for an idle worker (steal_backlog): make sure
	 * one is looking.  (A single displaced task waits for its owner,
	 * like runnext; docs/executors.md.) */
	if (had + 1 >= LOCAL_BACKLOG)
		maybe_wake(w->pool);
}

static xchan__pool_node *
local_pop(worker *w)
{
	if (atomic_load_explicit(&w->nlocal, memory_order_relaxed) == 0)
		return NULL;
	xchan__lock_acquire(&w->local_lock);
	xchan__pool_node *n = xchan__fifo_pop(&w->local);
	if (n != NULL)
		atomic_fetch_sub_explicit(&w->nlocal, 1, memory_order_relaxed);
	xchan__lock_release(&w->local_lock);
	return n;
}

int
xchan__pool_push_next(xchan__pool *p, xchan__pool_node *n)
{
	worker *w = current_worker();
	if (w == NULL || w->pool != p)
		return 0;
	xchan__pool_node *old = atomic_exchange(&w->runnext, n);
	if (old != NULL)
		local_push(w, old);
	return 1;
}

int
xchan__pool_is_worker(const xchan__pool *p)
{
	worker *w = current_worker();
	return w != NULL && w->pool == p;
}

int
xchan__pool_in_worker(void)
{
	return current_worker() != NULL;
}

bool
xchan__wait_all_exited(_Atomic uint32_t *alive, int64_t deadline)
{
	uint32_t n;
	while ((n = atomic_load(alive)) != 0) {
		if (xchan__futex_wait(alive, n, deadline) != 0 &&
		    deadline >= 0 && xchan__clock_ns() >= deadline)
			break;
	}
	return atomic_load(alive) == 0;
}

/* ---- node cache (shared with cpool.c) ------------------------------------------- */

xchan__pool_node *
xchan__node_get(xchan__node_cache *c, xchan_task_fn fn, void *arg)
{
	xchan__pool_node *n = c->free;
	if (n != NULL) {
		c->free = n->next;
		c->n--;
	} else if ((n = xchan__alloc(sizeof(*n))) == NULL) {
		return NULL;
	}
	n->fn = fn;
	n->arg = arg;
	n->owned = 1;
	return n;
}

xchan__pool_node *
xchan__node_put(xchan__node_cache *c, xchan__pool_node *n)
{
	if (c->n >= c->max)
		return n;
	n->next = c->free;
	c->free = n;
	c->n++;
	return NULL;
}

void
xchan__node_cache_free(xchan__node_cache *c)
{
	xchan__pool_node *n;
	while ((n = c->free) != NULL) {
		c->free = n->next;
		xchan__free(n, sizeof(*n));
	}
	c->n = 0;
}

/* ---- the worker loop ------------------------------------------------------------ */

static void
node_done(xchan__pool *p, xchan__pool_node *n)
{
	xchan__lock_acquire(&p->lock);
	n = xchan__node_put(&p->nodes, n);
	xchan__lock_release(&p->lock);
	xchan__free(n, sizeof(*n));
}

/* A long-running owner's run-next item, or NULL. */
static xchan__pool_node *
steal_stale(worker *w)
{
	xchan__pool *p = w->pool;
	for (int i = 0; i < p->nworkers; i++) {
		worker *o = &p->workers[i];
		if (o == w || (atomic_load_explicit(&o->runnext,
		                   memory_order_relaxed) == NULL &&
		                  atomic_load_explicit(&o->nlocal,
		                      memory_order_relaxed) == 0))
			continue;
		if (atomic_load_explicit(&o->ticks, memory_order_relaxed) !=
		    w->seen_ticks[i])
			continue;
		xchan__pool_node *n = local_pop(o);
		if (n == NULL)
			n = atomic_exchange(&o->runnext, NULL);
		if (n != NULL) {
			atomic_fetch_add_explicit(&p->steals, 1,
			    memory_order_relaxed);
			return n;
		}
	}
	return NULL;
}

/* An idle worker takes from another's local queue when it holds a backlog
 * (LOCAL_BACKLOG or more): a few cooperating tasks (a producer/consumer
 * group) stay together on one worker, where their channel operations do
 * not bounce cache lines between cores; a fan-out of many still spreads
 * over the pool. */
static xchan__pool_node *
steal_backlog(worker *w)
{
	xchan__pool *p = w->pool;
	for (int i = 0; i < p->nworkers; i++) {
		worker *o = &p->workers[i];
		if (o == w || atomic_load_explicit(&o->nlocal,
		                  memory_order_relaxed) < LOCAL_BACKLOG)
			continue;
		xchan__pool_node *n = local_pop(o);
		if (n != NULL) {
			atomic_fetch_add_explicit(&p->steals, 1,
			    memory_order_relaxed);
			return n;
		}
	}
	return NULL;
}

static void
stop_spinning(worker *w, int found)
{
	xchan__pool *p = w->pool;
	w->spinning = 0;
	if (atomic_fetch_sub(&p->nspinning, 1) == 1 && found &&
	    atomic_load(&p->qlen) > 0)
		maybe_wake(p);
}

static xchan__pool_node *
spin(worker *w)
{
	xchan__pool *p = w->pool;
	if (!w->spinning) {
		/* Spinning is for latency; more spinners than busy workers
		 * only burn CPU (Go's rule). */
		int32_t s = atomic_load(&p->nspinning);
		int32_t busy = p->nworkers - atomic_load(&p->nsleeping) - s;
		if (2 * s >= busy && s > 0)
			return NULL;
		atomic_fetch_add(&p->nspinning, 1);
		w->spinning = 1;
	}
	for (int i = 0; i < p->nworkers; i++)
		w->seen_ticks[i] = atomic_load_explicit(&p->workers[i].ticks,
		    memory_order_relaxed);
	int64_t end = xchan__clock_ns() + SPIN_NS;
	for (uint32_t i = 1;; i++) {
		xchan__pool_node *n = queue_pop(p);
		if (n == NULL)
			n = steal_backlog(w);
		if (n != NULL) {
			stop_spinning(w, 1);
			return n;
		}
		if ((i & 63) == 0) {
			if (atomic_load_explicit(&p->stopping,
			        memory_order_relaxed))
				break;
			if (xchan__clock_ns() > end) {
				n = steal_stale(w);
				if (n != NULL) {
					stop_spinning(w, 1);
					return n;
				}
				break;
			}
		}
		xchan__cpu_relax();
	}
	stop_spinning(w, 0);
	return NULL;
}

/* Returns work found at the last check, or NULL after being woken. */
static xchan__pool_node *
sleep_until_woken(worker *w)
{
	xchan__pool *p = w->pool;
	xchan__lock_acquire(&p->lock);
	xchan__pool_node *n = q_take(p);
	if (n != NULL || atomic_load(&p->stopping)) {
		xchan__lock_release(&p->lock);
		return n;
	}
	atomic_store(&w->wake, 0);
	w->idle_next = p->idle;
	p->idle = w;
	atomic_fetch_add(&p->nsleeping, 1);
	xchan__lock_release(&p->lock);
	uint32_t how;
	while ((how = atomic_load(&w->wake)) == 0)
		xchan__futex_wait(&w->wake, 0, -1);
	if (how == 1) {
		w->spinning = 1; /* the waker counted us as spinning */
		/* The pool was all asleep: the monitor may be parked. */
		if (atomic_load(&p->mon_state) == MON_PARKED &&
		    atomic_exchange(&p->mon_state, MON_RUNNING) == MON_PARKED)
			xchan__futex_wake(&p->mon_state, 1);
	}
	return NULL;
}

static xchan__pool_node *
next_item(worker *w)
{
	xchan__pool *p = w->pool;
	for (;;) {
		xchan__pool_node *n = NULL;
		if (XCHAN_UNLIKELY(atomic_load_explicit(&p->stopping,
		        memory_order_relaxed))) {
			if (xchan__clock_ns() > atomic_load(&p->drain_deadline))
				return NULL;
		}
		uint64_t t =
		    atomic_load_explicit(&w->ticks, memory_order_relaxed);
		if (t % FAIR_TICKS == 0)
			n = queue_pop(p);
		if (n == NULL)
			n = atomic_exchange(&w->runnext, NULL);
		if (n == NULL)
			n = local_pop(w);
		if (n == NULL)
			n = queue_pop(p);
		if (n != NULL) {
			if (w->spinning)
				stop_spinning(w, 1);
			return n;
		}
		if (atomic_load(&p->stopping)) {
			if (w->spinning)
				stop_spinning(w, 0);
			return NULL;
		}
		if ((n = spin(w)) != NULL)
			return n;
		if ((n = sleep_until_woken(w)) != NULL) {
			if (w->spinning)
				stop_spinning(w, 1);
			return n;
		}
	}
}

static void
worker_main(void *arg)
{
	worker *w = arg;
	xchan__pool *p = w->pool;
	tls_worker = w;
	for (;;) {
		xchan__pool_node *n = next_item(w);
		if (n == NULL)
			break;
		xchan_task_fn fn = n->fn;
		void *a = n->arg;
		if (n->owned)
			node_done(p, n);
		/* Only the owner writes ticks; thieves read it. */
		atomic_store_explicit(&w->ticks,
		    atomic_load_explicit(&w->ticks, memory_order_relaxed) + 1,
		    memory_order_relaxed);
		atomic_fetch_add_explicit(&p->executed, 1,
		    memory_order_relaxed);
		fn(a);
	}
	tls_worker = NULL;
	if (atomic_fetch_sub(&p->nalive, 1) == 1)
		xchan__futex_wake(&p->nalive, INT32_MAX);
}

/* ---- the monitor --------------------------------------------------------------------- */

/* Moves the run-next item and the local queue of stuck worker `o` to the
 * front of the shared queue; returns how many items moved.  The owner may
 * finish its item meanwhile and race us for them: the exchange and the
 * local lock give each item to one side. */
static uint64_t
retake(xchan__pool *p, worker *o)
{
	xchan__lock_acquire(&o->local_lock);
	xchan__node_fifo moved = o->local;
	o->local.head = o->local.tail = NULL;
	atomic_store_explicit(&o->nlocal, 0, memory_order_relaxed);
	xchan__lock_release(&o->local_lock);
	/* The owner runs run-next before its local queue, but those waited
	 * longer; on another worker, oldest first. */
	xchan__pool_node *rn = atomic_exchange(&o->runnext, NULL);
	if (rn != NULL)
		xchan__fifo_push(&moved, rn);
	if (moved.head == NULL)
		return 0;
	uint64_t n = 0;
	for (xchan__pool_node *x = moved.head; x != NULL; x = x->next)
		n++;
	xchan__lock_acquire(&p->lock);
	/* Like push_front: behind the woken nodes, ahead of the rest. */
	xchan__pool_node *after = p->woken_last;
	if (after != NULL) {
		moved.tail->next = after->next;
		after->next = moved.head;
	} else {
		moved.tail->next = p->q.head;
		p->q.head = moved.head;
	}
	if (p->q.tail == after)
		p->q.tail = moved.tail;
	p->woken_last = moved.tail;
	atomic_fetch_add(&p->qlen, n);
	xchan__lock_release(&p->lock);
	maybe_wake(p);
	return n;
}

/* One look at every worker; returns the number of items retaken. */
static uint64_t
monitor_look(xchan__pool *p)
{
	uint64_t moved = 0;
	for (int i = 0; i < p->nworkers; i++) {
		worker *o = &p->workers[i];
		uint64_t t =
		    atomic_load_explicit(&o->ticks, memory_order_relaxed);
		uint64_t seen = p->mon_ticks[i];
		p->mon_ticks[i] = t;
		if (t != seen)
			continue; /* it started an item since the last look */
		if (atomic_load_explicit(&o->runnext, memory_order_relaxed) ==
		        NULL &&
		    atomic_load_explicit(&o->nlocal, memory_order_relaxed) == 0)
			continue;
		moved += retake(p, o);
	}
	return moved;
}

/* Parks while every worker sleeps; false when the pool is stopping. */
static bool
monitor_park_if_idle(xchan__pool *p)
{
	if (atomic_load(&p->nsleeping) < p->nworkers)
		return true;
	atomic_store(&p->mon_state, MON_PARKED);
	if (atomic_load(&p->nsleeping) < p->nworkers) {
		/* A worker woke between the two loads; it may already have
		 * found mon_state RUNNING, so nobody else will unpark us. */
		atomic_store(&p->mon_state, MON_RUNNING);
		return true;
	}
	while (atomic_load(&p->mon_state) == MON_PARKED &&
	       !atomic_load(&p->stopping))
		xchan__futex_wait(&p->mon_state, MON_PARKED, -1);
	atomic_store(&p->mon_state, MON_RUNNING);
	return !atomic_load(&p->stopping);
}

static void
monitor_main(void *arg)
{
	xchan__pool *p = arg;
	int64_t delay = MON_MIN_NS;
	/* A futex word nobody wakes: the monitor's timed sleep (it is woken
	 * early only at shutdown, through mon_state). */
	while (!atomic_load(&p->stopping)) {
		xchan__futex_wait(&p->mon_state, MON_RUNNING,
		    xchan__clock_ns() + delay);
		if (atomic_load(&p->stopping))
			break;
		atomic_fetch_add_explicit(&p->mon_looks, 1,
		    memory_order_relaxed);
		uint64_t moved = monitor_look(p);
		if (moved != 0) {
			atomic_fetch_add_explicit(&p->retakes, moved,
			    memory_order_relaxed);
			atomic_fetch_add_explicit(&p->steals, moved,
			    memory_order_relaxed);
			delay = MON_MIN_NS;
			continue;
		}
		if (delay < MON_MAX_NS)
			delay *= 2;
		if (atomic_load(&p->nsleeping) == p->nworkers) {
			if (!monitor_park_if_idle(p))
				break;
			delay = MON_MIN_NS;
		}
	}
	if (atomic_fetch_sub(&p->nalive, 1) == 1)
		xchan__futex_wake(&p->nalive, INT32_MAX);
}

/* ---- life cycle ---------------------------------------------------------------------- */

int32_t
xchan__pool_new(xchan__pool **out, int nworkers, const char *prefix)
{
	if (out == NULL || nworkers < 1 || prefix == NULL)
		return XCHAN_EINVAL;
	xchan__pool *p = xchan__zalloc(sizeof(*p));
	if (p == NULL)
		return XCHAN_ENOMEM;
	p->nodes.max = NODE_CACHE_MAX;
	p->nworkers = nworkers;
	p->nalloc = nworkers;
	p->workers = xchan__zalloc(sizeof(worker) * (size_t)nworkers);
	if (p->workers == NULL)
		goto fail;
	for (int i = 0; i < nworkers; i++) {
		worker *w = &p->workers[i];
		w->pool = p;
		w->index = i;
		snprintf(w->name, sizeof(w->name), "%s-%d", prefix, i + 1);
		w->seen_ticks =
		    xchan__zalloc(sizeof(uint64_t) * (size_t)nworkers);
		if (w->seen_ticks == NULL)
			goto fail;
	}
	for (int i = 0; i < nworkers; i++) {
		worker *w = &p->workers[i];
		atomic_fetch_add(&p->nalive, 1);
		if (xchan__thread_start(&w->thread, worker_main, w, w->name) !=
		    XCHAN_OK) {
			atomic_fetch_sub(&p->nalive, 1);
			/* Keep the workers that started; a pool of one works. */
			if (i == 0)
				goto fail;
			p->nworkers = i;
			break;
		}
	}
	/* The monitor, when another worker could take a stuck one's work.
	 * Without it (no memory, no thread) the pool still works; stranded
	 * run-next items then wait for a spinning thief or their owner. */
	if (p->nworkers >= 2) {
		p->mon_ticks =
		    xchan__zalloc(sizeof(uint64_t) * (size_t)p->nworkers);
		snprintf(p->mon_name, sizeof(p->mon_name), "%s-mon", prefix);
		atomic_fetch_add(&p->nalive, 1);
		if (p->mon_ticks == NULL ||
		    xchan__thread_start(&p->monitor, monitor_main, p,
		        p->mon_name) != XCHAN_OK) {
			atomic_fetch_sub(&p->nalive, 1);
			p->monitor = NULL;
			xchan__log(XCHAN_LOG_WARN,
			    "%s: no monitor thread; a task readied by a worker "
			    "stuck in a long item may wait for it",
			    prefix);
		}
	}
	*out = p;
	return XCHAN_OK;
fail:
	if (p->workers != NULL) {
		for (int i = 0; i < nworkers; i++)
			xchan__free(p->workers[i].seen_ticks,
			    sizeof(uint64_t) * (size_t)nworkers);
		xchan__free(p->workers, sizeof(worker) * (size_t)nworkers);
	}
	xchan__free(p, sizeof(*p));
	return XCHAN_ENOMEM;
}

void
xchan__pool_stop_begin(xchan__pool *p, int64_t drain_deadline)
{
	atomic_store(&p->drain_deadline, drain_deadline);
	atomic_store(&p->stopping, 1);
	xchan__lock_acquire(&p->lock);
	worker *w = p->idle;
	p->idle = NULL;
	while (w != NULL) {
		worker *next = w->idle_next;
		atomic_fetch_sub(&p->nsleeping, 1);
		wake_worker(w, 2);
		w = next;
	}
	xchan__lock_release(&p->lock);
	/* Unpark the monitor; it sees `stopping` (RUNNING first, so a park
	 * that checked `stopping` just before cannot go to sleep). */
	atomic_store(&p->mon_state, MON_RUNNING);
	xchan__futex_wake(&p->mon_state, 1);
}

int
xchan__pool_stop_wait(xchan__pool *p, int64_t join_deadline)
{
	if (!xchan__wait_all_exited(&p->nalive, join_deadline))
		return 0;
	xchan__lock_acquire(&p->lock);
	p->dead = 1;
	xchan__lock_release(&p->lock);
	for (int i = 0; i < p->nworkers; i++) {
		if (p->workers[i].thread != NULL)
			xchan__thread_join(p->workers[i].thread);
		p->workers[i].thread = NULL;
	}
	if (p->monitor != NULL)
		xchan__thread_join(p->monitor);
	p->monitor = NULL;
	return 1;
}

void
xchan__pool_free(xchan__pool *p)
{
	if (p == NULL)
		return;
	/* Nodes still queued belong to their owners (embedded) or to us. */
	xchan__pool_node *n;
	while ((n = q_take(p)) != NULL) {
		if (n->owned)
			xchan__free(n, sizeof(*n));
	}
	xchan__node_cache_free(&p->nodes);
	if (p->mon_ticks != NULL)
		xchan__free(p->mon_ticks,
		    sizeof(uint64_t) * (size_t)p->nworkers);
	int nw = p->nalloc;
	for (int i = 0; i < nw; i++)
		xchan__free(p->workers[i].seen_ticks,
		    sizeof(uint64_t) * (size_t)nw);
	xchan__free(p->workers, sizeof(worker) * (size_t)nw);
	xchan__free(p, sizeof(*p));
}

void
xchan__pool_get_stats(const xchan__pool *p, xchan__pool_stats *out)
{
	xchan__pool *q = (xchan__pool *)p;
	out->executed =
	    atomic_load_explicit(&q->executed, memory_order_relaxed);
	out->futex_wakes =
	    atomic_load_explicit(&q->futex_wakes, memory_order_relaxed);
	out->steals = atomic_load_explicit(&q->steals, memory_order_relaxed);
	out->retakes = atomic_load_explicit(&q->retakes, memory_order_relaxed);
	out->monitor_looks =
	    atomic_load_explicit(&q->mon_looks, memory_order_relaxed);
	out->has_monitor = p->monitor != NULL;
	out->nworkers = (uint32_t)p->nworkers;
	out->sleeping = (uint32_t)atomic_load(&q->nsleeping);
}
