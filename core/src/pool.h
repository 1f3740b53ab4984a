/*
 * pool.h — a fixed pool of worker threads (the default DISPATCH and COMPUTE
 * executors).  Work items are intrusive nodes: a go task embeds its node, so
 * waking a task never allocates; xchan__pool_execute wraps a plain
 * (fn, arg) in a pooled node.
 *
 * Each worker has a "run next" slot (Go's runnext): a task woken by code
 * running on a worker goes there and runs as soon as the current item ends,
 * on the same core, so a ping-pong between two tasks never leaves it and
 * never costs a kernel wake.  The slot's previous occupant moves to the
 * worker's local queue.  Idle workers spin briefly, then sleep on a futex;
 * a push wakes a sleeper only when no worker is spinning (Go's wakep), and
 * a woken worker counts as spinning, so a burst of pushes costs one wake.
 *
 * Nothing is stranded: a pool of two or more workers has a monitor thread
 * (Go's sysmon) that moves the run-next item and local queue of a worker
 * stuck in one item for a monitor period (100 us .. 5 ms) to the shared
 * queue and wakes an idle worker for them.
 */
#ifndef XCHAN_POOL_H
#define XCHAN_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include "xchan/xchan.h"

typedef struct xchan__pool xchan__pool;

typedef struct xchan__pool_node xchan__pool_node;
struct xchan__pool_node {
	xchan__pool_node *next;
	xchan_task_fn fn;
	void *arg;
	uint32_t owned; /* 1: allocated by the pool (execute); 0: embedded */
	uint32_t reserved;
};

/* An intrusive FIFO of nodes, guarded by its owner's lock.  The shared
 * queue of both pools and each worker's local queue are one. */
typedef struct xchan__node_fifo {
	xchan__pool_node *head, *tail;
} xchan__node_fifo;

static inline void
xchan__fifo_push(xchan__node_fifo *q, xchan__pool_node *n)
{
	n->next = NULL;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
}

static inline xchan__pool_node *
xchan__fifo_pop(xchan__node_fifo *q)
{
	xchan__pool_node *n = q->head;
	if (n != NULL) {
		q->head = n->next;
		if (q->head == NULL)
			q->tail = NULL;
	}
	return n;
}

/* Waits until *alive is 0 or the absolute deadline passes (< 0: none);
 * true if it reached 0.  The futex word is woken by the last thread out.
 * Shared by the fixed and the cached pool. */
bool xchan__wait_all_exited(_Atomic uint32_t *alive, int64_t deadline);

/* Free queue nodes kept for execute(); guarded by the owning pool's lock.
 * Shared by the fixed pool and the cached pool. */
typedef struct xchan__node_cache {
	xchan__pool_node *free;
	uint32_t n, max;
} xchan__node_cache;

/* A node for fn(arg), owned by the pool: from the cache, else allocated
 * (NULL: out of memory).  Under the owner's lock. */
xchan__pool_node *xchan__node_get(xchan__node_cache *c, xchan_task_fn fn,
    void *arg);
/* Keeps n for reuse; returns it back if the cache is full (the caller frees
 * it, after unlocking if it likes).  Under the owner's lock. */
xchan__pool_node *xchan__node_put(xchan__node_cache *c, xchan__pool_node *n);
/* Frees every cached node (shutdown). */
void xchan__node_cache_free(xchan__node_cache *c);

/* Starts `nworkers` (>= 1) threads named "<prefix>-<N>", N from 1.
 * Errors: XCHAN_EINVAL, XCHAN_ENOMEM. */
int32_t xchan__pool_new(xchan__pool **out, int nworkers, const char *prefix);

/* Queues fn(arg).  Errors: XCHAN_ENOMEM, XCHAN_ESHUTDOWN. */
int32_t xchan__pool_execute(xchan__pool *p, xchan_task_fn fn, void *arg);

/* Queues an embedded node (never allocates).  Returns XCHAN_ESHUTDOWN once
 * the pool's workers are gone (the node is then not run). */
int32_t xchan__pool_push(xchan__pool *p, xchan__pool_node *n);

/* Queues n near the head of the shared queue: behind the nodes queued this
 * way before it (they run in the order they were pushed), ahead of all
 * others.  For tasks woken from outside the pool (a timer, a plain thread),
 * which wait for an event that already happened, like Go's ready() into
 * runnext. */
int32_t xchan__pool_push_front(xchan__pool *p, xchan__pool_node *n);
/* If the calling thread is a worker of `p`, puts `n` in its run-next slot
 * (the previous occupant goes to the worker's local queue) and returns 1;
 * else 0 and does nothing. */
int xchan__pool_push_next(xchan__pool *p, xchan__pool_node *n);

/* 1 if the calling thread is one of p's workers. */
int xchan__pool_is_worker(const xchan__pool *p);

/* 1 if the calling thread is a worker of any pool. */
int xchan__pool_in_worker(void);

/* Stops the pool in two steps, so several pools stop in parallel.  begin:
 * items still queued run until `drain_deadline` (absolute ns; 0: none run),
 * items running finish, then the threads exit.  wait: waits for them until
 * `join_deadline` (< 0: for ever); returns 1 when every thread was joined
 * (the pool may then be freed with xchan__pool_free), 0 if some still run
 * (the pool must then stay allocated). */
void xchan__pool_stop_begin(xchan__pool *p, int64_t drain_deadline);
int xchan__pool_stop_wait(xchan__pool *p, int64_t join_deadline);
void xchan__pool_free(xchan__pool *p);

typedef struct xchan__pool_stats {
	uint64_t executed;      /* items run */
	uint64_t futex_wakes;   /* sleeping workers woken by pushes */
	uint64_t steals;        /* run-next/local items taken by another worker
	                         or moved by the monitor */
	uint64_t retakes;       /* items the monitor moved off stuck workers */
	uint64_t monitor_looks; /* monitor rounds (it parks when all sleep) */
	uint32_t nworkers;
	uint32_t sleeping;
	uint32_t has_monitor;
} xchan__pool_stats;
void xchan__pool_get_stats(const xchan__pool *p, xchan__pool_stats *out);

#endif
