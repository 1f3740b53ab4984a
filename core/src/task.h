/*
 * task.h — the one interface between channels and go tasks.
 *
 * Channel code (sel.c) never knows how tasks are scheduled; it only asks
 * "am I in a task?", parks the current task, and wakes a parked one.  The
 * scheduler (sched.c) implements it.
 *
 * Park protocol (Go's gopark with an unlock function): xchan__task_park saves
 * the task's context and switches to the worker's scheduler; only then does
 * the worker call commit(arg).  If commit returns 0 a wake already happened
 * (the operation completed while the task was switching out) and the task is
 * resumed at once; if it returns 1 the task stays parked until some thread
 * calls xchan__task_wake(t).  A task is woken exactly once per park.
 */
#ifndef XCHAN_TASK_H
#define XCHAN_TASK_H

typedef struct xchan__task xchan__task;

/* The go task running on this thread, or NULL on a plain thread. */
xchan__task *xchan__task_current(void);

/* Parks the current task (see above).  Must be called from a task. */
void xchan__task_park(int (*commit)(void *arg), void *arg);

/* Makes a parked task runnable.  Called from a dispatch worker, the task goes
 * to that worker's "run next" slot (a ping-pong stays on one core); from any
 * other thread, to the shared run queue.  Any thread. */
void xchan__task_wake(xchan__task *t);

/* Runs fn(arg) on the calling thread's own stack, never on a go task's:
 * inside a task it switches to the worker's scheduler context, runs fn
 * there with xchan_in_go() == 0, and resumes the task at once on the same
 * thread (Go's systemstack).  Outside a task it simply calls fn.  Used for
 * every piece of user code a completion runs (callbacks, notifiers, value
 * releases): host runtimes check stack bounds and must not run on a 64 KiB
 * coroutine stack. */
void xchan__on_thread_stack(void (*fn)(void *arg), void *arg);

/* The running task's name, for reports ("go-<id>" by default). */
const char *xchan__task_name(const xchan__task *t);

#endif
