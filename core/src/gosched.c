/*
 * gosched.c — go tasks in slices (see gosched.h) and the task.h interface.
 *
 * Design notes
 *  - No lock of its own.  A task is owned by exactly one party at a time:
 *    the thread running its slice (RUNNING, PARKING), the channel that
 *    registered it (PARKED, handed over by commit), or the queue of the
 *    executor that will run it (RUNNABLE).  `state` is only a check of that
 *    hand-over (asserts); ordering comes from the hand-over itself (channel
 *    lock, queue lock or the executor's own synchronisation).
 *  - Park (Go's gopark with an unlock function): the task saves its context
 *    and switches to the slice; only then does the slice run commit().  If
 *    commit returns 1 the task may already be running elsewhere (its waker
 *    saw it registered), so the slice must not touch it any more: all
 *    bookkeeping happens before commit.  If commit returns 0 the operation
 *    completed meanwhile and the slice resumes the task at once.
 *  - Thread-locals are read through non-inlinable functions with an opaque
 *    result: code in a task may resume on another thread after a park, and
 *    the compiler must not reuse a thread-local address computed before it.
 *  - A slice runs on the thread's own stack (the scheduler context) and
 *    never nests: executors must not run items inline.
 */
#include "gosched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "exec.h"
#include "log.h"
#include "stackguard.h"

typedef struct sched_thread {
	xchan__coro main; /* the thread's own context */
	xchan__task *current;
	int ready;
} sched_thread;

static _Thread_local sched_thread tls_sched;
static _Atomic uint64_t g_next_id = 1;
static _Atomic uint64_t g_live;

static __attribute__((noinline)) sched_thread *
this_thread(void)
{
	sched_thread *th = &tls_sched;
	__asm__ __volatile__("" : "+r"(th));
	return th;
}

xchan__task *
xchan__task_current(void)
{
	return this_thread()->current;
}

const char *
xchan__task_name(const xchan__task *t)
{
	return t != NULL ? t->name : "none";
}

uint64_t
xchan__task_live(void)
{
	return atomic_load_explicit(&g_live, memory_order_relaxed);
}

int32_t
xchan_in_go(void)
{
	return xchan__task_current() != NULL;
}

/* ---- life cycle ------------------------------------------------------------- */

static void task_slice(void *arg);

static _Noreturn void
task_finish(xchan__task *t)
{
	sched_thread *th = this_thread();
	XCHAN_ASSERT(th->current == t);
	atomic_store_explicit(&t->state, XCHAN__TASK_DONE,
	    memory_order_relaxed);
	xchan__coro_exit(&t->coro, &th->main);
}

static void
task_entry(void *arg)
{
	xchan__task *t = arg;
	t->body(t);
	task_finish(t);
}

int32_t
xchan__task_new(xchan__task **out, const char *name, size_t stack_size,
    void (*body)(xchan__task *t))
{
	xchan__task *t = xchan__zalloc(sizeof(*t));
	if (t == NULL)
		return XCHAN_ENOMEM;
	t->id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
	t->body = body;
	t->name = t->name_inline;
	if (name == NULL) {
		/* "go-<id>" by hand: snprintf showed up in spawn profiles. */
		char digits[24];
		int nd = 0;
		uint64_t id = t->id;
		do {
			digits[nd++] = (char)('0' + id % 10);
			id /= 10;
		} while (id != 0);
		char *o = t->name_inline;
		*o++ = 'g';
		*o++ = 'o';
		*o++ = '-';
		while (nd > 0)
			*o++ = digits[--nd];
		*o = 0;
	} else {
		size_t len = strlen(name);
		if (len >= sizeof(t->name_inline)) {
			t->name = xchan__alloc(len + 1);
			if (t->name == NULL) {
				xchan__free(t, sizeof(*t));
				return XCHAN_ENOMEM;
			}
			t->name_len = (uint32_t)len + 1;
		}
		memcpy(t->name, name, len + 1);
	}
	t->stack_size = stack_size;
	t->node.fn = task_slice;
	t->node.arg = t;
	atomic_fetch_add_explicit(&g_live, 1, memory_order_relaxed);
	*out = t;
	return XCHAN_OK;
}

void
xchan__task_free(xchan__task *t)
{
	if (t == NULL)
		return;
	if (t->name_len)
		xchan__free(t->name, t->name_len);
	/* A started task's record lives at the top of its own stack: it
	 * goes with the stack, and is not touched after. */
	uint32_t in_stack = t->started;
	xchan__coro_fini(&t->coro);
	if (!in_stack)
		xchan__free(t, sizeof(*t));
	atomic_fetch_sub_explicit(&g_live, 1, memory_order_relaxed);
}

/* Where schedule() puts a task.  A worker's own run-next slot is tried first
 * except for YIELD; otherwise WOKEN goes to the front of the shared queue
 * (behind earlier woken tasks: a task woken from outside the pool, e.g. by
 * the timer, has waited already), NEW and YIELD to its tail. */
enum { SCHED_WOKEN, SCHED_NEW, SCHED_YIELD };

/* Hands a runnable task to its executor. */
static int32_t
schedule(xchan__task *t, int how)
{
	if (t->pool != NULL) {
		if (how != SCHED_YIELD &&
		    xchan__pool_push_next(t->pool, &t->node))
			return XCHAN_OK;
		if (how == SCHED_WOKEN)
			return xchan__pool_push_front(t->pool, &t->node);
		return xchan__pool_push(t->pool, &t->node);
	}
	return xchan_execute(t->ex, task_slice, t);
}

int32_t
xchan__task_start(xchan__task *t)
{
	xchan_executor *ex;
	int32_t err = xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH);
	if (err != XCHAN_OK)
		return err;
	xchan__gocheck_env_once();
	t->ex = ex;
	t->pool = xchan__exec_pool(ex);
	atomic_store_explicit(&t->state, XCHAN__TASK_RUNNABLE,
	    memory_order_relaxed);
	return schedule(t, SCHED_NEW);
}

/* ---- slices, park, wake -------------------------------------------------------- */

/* A task's first slice takes its stack and moves the task's record from
 * its spawn-time allocation to the top of that stack, where it shares the
 * page of the task's first frames: a parked task then costs that one page
 * and no allocation.  Nothing refers to the record yet but this slice (the
 * queue is done with its node).  Returns the task's new address, or NULL
 * when the stack could not be had (the task failed and is freed). */
static xchan__task *
task_first_slice(xchan__task *t)
{
	xchan__coro_stack s;
	void *rec;
	int32_t err =
	    xchan__coro_stack_get(&s, t->stack_size, sizeof(*t), &rec);
	if (err == XCHAN_OK) {
		xchan__task *h = rec;
		memcpy(h, t, sizeof(*t));
		if (t->name == t->name_inline)
			h->name = h->name_inline;
		h->node.arg = h;
		err = xchan__coro_init_on(&h->coro, &s, task_entry, h);
		if (err == XCHAN_OK) {
			h->started = 1; /* the record lives in the stack now */
			xchan__free(t, sizeof(*t));
			return h;
		}
		xchan__coro_stack_put(&s);
	}
	if (t->fail != NULL)
		t->fail(t, err);
	else
		xchan__log(XCHAN_LOG_ERROR, "task %s could not start: %s",
		    t->name, xchan_err_name(err));
	xchan__task_free(t);
	return NULL;
}

static void
task_slice(void *arg)
{
	xchan__task *t = arg;
	sched_thread *th = this_thread();
	if (XCHAN_UNLIKELY(!th->ready)) {
		xchan__coro_init_thread(&th->main);
		xchan__stackguard_thread_init(); /* names stack overflows */
		th->ready = 1;
	}
	XCHAN_ASSERT(th->current == NULL);
	if (XCHAN_UNLIKELY(!t->started) && (t = task_first_slice(t)) == NULL)
		return;
	for (;;) {
		XCHAN_ASSERT(atomic_load_explicit(&t->state,
		                 memory_order_relaxed) == XCHAN__TASK_RUNNABLE);
		atomic_store_explicit(&t->state, XCHAN__TASK_RUNNING,
		    memory_order_relaxed);
		th->current = t;
		int check = atomic_load_explicit(&xchan__gocheck_enabled,
		    memory_order_relaxed);
		if (XCHAN_UNLIKELY(check))
			xchan__gocheck_enter(t);
		xchan__coro_switch(&th->main, &t->coro);
		if (XCHAN_UNLIKELY(check))
			xchan__gocheck_leave();
		th->current = NULL;
		if (XCHAN_UNLIKELY(xchan__coro_overflowed(&t->coro))) {
			xchan__log(XCHAN_LOG_ERROR,
			    "go task %s overflowed its %zu KiB stack "
			    "(raise xchan_go_opts.stack_size)",
			    t->name,
			    (t->coro.map_size - xchan__page_size()) / 1024);
			abort();
		}
		if (atomic_load_explicit(&t->state, memory_order_relaxed) ==
		    XCHAN__TASK_DONE) {
			xchan__task_free(t);
			return;
		}
		if (t->sys_fn != NULL) {
			/* xchan__on_thread_stack: run it here, on this
			 * thread's stack, outside the task, then resume the
			 * task at once. */
			void (*fn)(void *) = t->sys_fn;
			t->sys_fn = NULL;
			fn(t->sys_arg);
			atomic_store_explicit(&t->state, XCHAN__TASK_RUNNABLE,
			    memory_order_relaxed);
			continue;
		}
		int (*commit)(void *) = t->commit;
		void *carg = t->commit_arg;
		if (commit == NULL) { /* yield */
			atomic_store_explicit(&t->state, XCHAN__TASK_RUNNABLE,
			    memory_order_relaxed);
			if (schedule(t, SCHED_YIELD) != XCHAN_OK)
				continue; /* no queue left (shutdown): keep running it */
			return;
		}
		atomic_store_explicit(&t->state, XCHAN__TASK_PARKED,
		    memory_order_relaxed);
		if (commit(carg) != 0)
			return; /* t now belongs to its waker */
		/* The wake came while we switched out: resume at once. */
		atomic_store_explicit(&t->state, XCHAN__TASK_RUNNABLE,
		    memory_order_relaxed);
	}
}

void
xchan__task_park(int (*commit)(void *arg), void *arg)
{
	sched_thread *th = this_thread();
	xchan__task *t = th->current;
	XCHAN_ASSERT(t != NULL && commit != NULL);
	t->commit = commit;
	t->commit_arg = arg;
	atomic_store_explicit(&t->state, XCHAN__TASK_PARKING,
	    memory_order_relaxed);
	xchan__coro_switch(&t->coro, &th->main);
	/* Resumed, possibly on another thread: `th` is stale from here. */
}

void
xchan__on_thread_stack(void (*fn)(void *arg), void *arg)
{
	sched_thread *th = this_thread();
	xchan__task *t = th->current;
	if (t == NULL) {
		fn(arg);
		return;
	}
	t->sys_fn = fn;
	t->sys_arg = arg;
	atomic_store_explicit(&t->state, XCHAN__TASK_PARKING,
	    memory_order_relaxed);
	xchan__coro_switch(&t->coro, &th->main);
	/* Resumed by the same slice on the same thread. */
}

void
xchan__task_yield(void)
{
	sched_thread *th = this_thread();
	xchan__task *t = th->current;
	XCHAN_ASSERT(t != NULL);
	t->commit = NULL;
	t->commit_arg = NULL;
	atomic_store_explicit(&t->state, XCHAN__TASK_PARKING,
	    memory_order_relaxed);
	xchan__coro_switch(&t->coro, &th->main);
}

void
xchan__task_wake(xchan__task *t)
{
	XCHAN_ASSERT(atomic_load_explicit(&t->state, memory_order_relaxed) ==
	             XCHAN__TASK_PARKED);
	atomic_store_explicit(&t->state, XCHAN__TASK_RUNNABLE,
	    memory_order_relaxed);
	if (schedule(t, SCHED_WOKEN) != XCHAN_OK) {
		/* Shut down: the task can never run again.  It stays
		 * allocated (its stack may hold anything); count it lost. */
		static _Atomic uint64_t lost;
		if (atomic_fetch_add(&lost, 1) == 0)
			xchan__log(XCHAN_LOG_ERROR,
			    "task %s woken after shutdown; it will not run",
			    t->name);
	}
}
