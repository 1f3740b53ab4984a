/*
 * gosched.h — go tasks: a coroutine plus the state the scheduler needs, run
 * in slices on the dispatch executor.  Implements task.h for channels.
 *
 * A slice is one execute() of a "run this task" function on the executor
 * that DISPATCH resolves to: it switches to the task and returns when the
 * task parks or finishes.  With the default dispatch pool a slice is an
 * intrusive pool node (no allocation) and a task woken by a worker goes to
 * that worker's run-next slot.
 */
#ifndef XCHAN_GOSCHED_H
#define XCHAN_GOSCHED_H

#include <stdint.h>

#include "coro.h"
#include "pool.h"
#include "task.h"
#include "xchan/xchan.h"

enum {
	XCHAN__TASK_NEW = 0,
	XCHAN__TASK_RUNNING = 1,
	XCHAN__TASK_PARKING = 2, /* switched out, commit not yet run */
	XCHAN__TASK_PARKED = 3,
	XCHAN__TASK_RUNNABLE = 4,
	XCHAN__TASK_DONE = 5
};

#define XCHAN__TASK_NAME_INLINE 32

struct xchan__task {
	xchan__pool_node node; /* queue link while runnable (default pool) */
	xchan__coro coro;
	int (*commit)(void *arg); /* set by park, run by the slice */
	void *commit_arg;
	void (*sys_fn)(void *arg); /* xchan__on_thread_stack request */
	void *sys_arg;
	_Atomic uint32_t state;
	uint32_t name_len;
	xchan_executor *ex; /* runs the slices (DISPATCH at start) */
	xchan__pool *pool;  /* ex's default pool, or NULL */
	uint64_t id;
	char *name; /* name_inline, or allocated */
	void (*body)(xchan__task *t);
	/* The stack is mapped when the task first runs, on the worker (so a
	 * burst of spawns maps nothing and queued tasks hold no stack); if
	 * that fails, `fail` (if set) runs instead of `body`, on the worker's
	 * own stack, and the task is freed.  Once started, the record itself
	 * lives at the top of that stack (moved there by the first slice:
	 * gosched.c), so a parked task costs one page, not a page plus this
	 * record; its address changes then, before anyone else can see it. */
	size_t stack_size;
	uint32_t started;
	void (*fail)(xchan__task *t, int32_t err);
	/* Owned by go.c. */
	xchan_go_fn fn;
	void *arg;
	struct xchan_chan *result;
	char name_inline[XCHAN__TASK_NAME_INLINE];
};

/* A new task that will run body(t) on a stack of `stack_size` (0: the
 * default) mapped at its first slice, named `name` (copied; NULL:
 * "go-<id>").  Errors: XCHAN_ENOMEM (the task itself). */
int32_t xchan__task_new(xchan__task **out, const char *name, size_t stack_size,
    void (*body)(xchan__task *t));

/* Schedules the first slice on the dispatch executor.  On error the task
 * did not start and still belongs to the caller (xchan__task_free).
 * Errors: those of xchan_executor_for and xchan_execute. */
int32_t xchan__task_start(xchan__task *t);

/* Frees a task that never started. */
void xchan__task_free(xchan__task *t);

/* Parks the current task and makes it runnable again at once, behind the
 * work already queued (a cooperative yield). */
void xchan__task_yield(void);

/* Tasks created and not yet finished (tests, reports). */
uint64_t xchan__task_live(void);

/* go-checking (gocheck.c): called around every slice when enabled. */
extern _Atomic int xchan__gocheck_enabled;
void xchan__gocheck_enter(xchan__task *t);
void xchan__gocheck_leave(void);
void xchan__gocheck_env_once(void);
void xchan__gocheck_shutdown(void);

#endif
