/*
 * go.c — xchan_go, xchan_thread, xchan_io_thread and the task error hook.
 *
 * Design notes
 *  - A result channel is a fixed buffer of one.  The task owns one
 *    reference and the caller the other; the task offers its value (never
 *    waits: it is the only putter and the buffer is empty unless the user
 *    put something there), closes the channel and drops its reference.
 *  - A failing task calls the error hook before it closes its channel, so
 *    whoever sees the close can rely on the report having happened.
 *  - Locks: `g_hook_lock` guards the hook pair; it is dropped before the
 *    hook runs.
 */
#include "go.h"

#include <stdio.h>
#include <string.h>

#include "common.h"
#include "exec.h"
#include "gosched.h"
#include "lock.h"
#include "log.h"

static xchan__lock g_hook_lock;
static xchan_task_error_hook g_hook;
static void *g_hook_user;
static _Atomic uint64_t g_thread_ids = 1;

void
xchan_set_task_error_hook(xchan_task_error_hook hook, void *user)
{
	xchan__lock_acquire(&g_hook_lock);
	g_hook = hook;
	g_hook_user = user;
	xchan__lock_release(&g_hook_lock);
}

void
xchan__report_task_error(const char *task_name, int32_t err)
{
	xchan__lock_acquire(&g_hook_lock);
	xchan_task_error_hook hook = g_hook;
	void *user = g_hook_user;
	xchan__lock_release(&g_hook_lock);
	if (hook != NULL)
		hook(user, task_name, err);
	else
		xchan__log(XCHAN_LOG_ERROR, "task %s failed: %s (%s)",
		    task_name, xchan_err_name(err), xchan_strerror(err));
}

/* Delivers a task's outcome to its result channel (NULL: nobody asked). */
static void
deliver(xchan_chan *ch, const char *name, int32_t err, xchan_val v)
{
	if (err != XCHAN_OK) {
		xchan_val_release(v);
		xchan__report_task_error(name, err);
	} else if (v.kind != XCHAN_NIL) {
		if (ch == NULL || xchan_offer(ch, v) != XCHAN_OK)
			xchan_val_release(v);
	}
	if (ch != NULL) {
		xchan_chan_close(ch);
		xchan_chan_release(ch);
	}
}

/* Reads the caller's options (any size from the first version on) into
 * `o`; NULL gives the defaults. */
static int32_t
read_opts(xchan_go_opts *o, const xchan_go_opts *opts)
{
	memset(o, 0, sizeof(*o));
	if (opts != NULL &&
	    !xchan__struct_in(o, sizeof(*o), opts, XCHAN__GO_OPTS_V1_SIZE))
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK;
	return XCHAN_OK;
}

/* Two references to a new result channel: one for the caller, one for the
 * task.  `want` 0: no channel. */
static int32_t
result_chan(xchan_chan **out, int want)
{
	*out = NULL;
	if (!want)
		return XCHAN_OK;
	int32_t err = xchan_chan_make(out, XCHAN_BUF_FIXED, 1);
	if (err == XCHAN_OK)
		xchan_chan_retain(*out);
	return err;
}

static void
drop_result_chan(xchan_chan *ch)
{
	if (ch != NULL) {
		xchan_chan_release(ch);
		xchan_chan_release(ch);
	}
}

/* ---- go ---------------------------------------------------------------------- */

static void
go_body(xchan__task *t)
{
	xchan_val v = xchan_val_nil();
	int32_t err = t->fn(t->arg, &v);
	deliver(t->result, t->name, err, v);
	t->result = NULL;
}

/* The task's stack could not be mapped when it first ran. */
static void
go_fail(xchan__task *t, int32_t err)
{
	deliver(t->result, t->name, err, xchan_val_nil());
	t->result = NULL;
}

int32_t
xchan_go(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts_in)
{
	xchan_go_opts o;
	if (fn == NULL)
		return XCHAN_EINVAL;
	int32_t err = read_opts(&o, opts_in);
	if (err != XCHAN_OK)
		return err;
	if (xchan__exec_shut_down())
		return XCHAN_ESHUTDOWN;
	xchan__task *t;
	err = xchan__task_new(&t, o.name,
	    o.stack_size > SIZE_MAX ? SIZE_MAX : (size_t)o.stack_size, go_body);
	if (err != XCHAN_OK)
		return err;
	xchan_chan *ch;
	if ((err = result_chan(&ch, out != NULL)) != XCHAN_OK) {
		xchan__task_free(t);
		return err;
	}
	t->fn = fn;
	t->arg = arg;
	t->result = ch;
	t->fail = go_fail;
	if ((err = xchan__task_start(t)) != XCHAN_OK) {
		xchan__task_free(t);
		drop_result_chan(ch);
		return err;
	}
	if (out != NULL)
		*out = ch;
	return XCHAN_OK;
}

/* ---- thread, io_thread ------------------------------------------------------------ */

typedef struct job {
	xchan_go_fn fn;
	void *arg;
	xchan_chan *result;
	size_t name_size;
	char name[]; /* NUL-terminated */
} job;

static void
job_run(void *p)
{
	job *j = p;
	xchan_val v = xchan_val_nil();
	int32_t err = j->fn(j->arg, &v);
	deliver(j->result, j->name, err, v);
	xchan__free(j, sizeof(*j) + j->name_size);
}

static int32_t
spawn_job(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts_in, uint32_t workload, const char *kind)
{
	xchan_go_opts o;
	if (fn == NULL)
		return XCHAN_EINVAL;
	int32_t err = read_opts(&o, opts_in);
	if (err != XCHAN_OK)
		return err;
	xchan_executor *ex;
	err = xchan_executor_for(&ex, workload);
	if (err != XCHAN_OK)
		return err;
	char dflt[40];
	const char *name = o.name;
	if (name == NULL) {
		snprintf(dflt, sizeof(dflt), "%s-%llu", kind,
		    (unsigned long long)atomic_fetch_add(&g_thread_ids, 1));
		name = dflt;
	}
	size_t ns = strlen(name) + 1;
	job *j = xchan__alloc(sizeof(*j) + ns);
	if (j == NULL)
		return XCHAN_ENOMEM;
	memcpy(j->name, name, ns);
	j->name_size = ns;
	j->fn = fn;
	j->arg = arg;
	xchan_chan *ch;
	if ((err = result_chan(&ch, out != NULL)) != XCHAN_OK)
		goto fail;
	j->result = ch;
	/* From here the job may run and free itself at any moment. */
	if ((err = xchan_execute(ex, job_run, j)) != XCHAN_OK) {
		drop_result_chan(ch);
		goto fail;
	}
	if (out != NULL)
		*out = ch;
	return XCHAN_OK;
fail:
	xchan__free(j, sizeof(*j) + ns);
	return err;
}

int32_t
xchan_thread(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts)
{
	return spawn_job(out, fn, arg, opts, XCHAN_WORKLOAD_MIXED, "thread");
}

int32_t
xchan_io_thread(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts)
{
	return spawn_job(out, fn, arg, opts, XCHAN_WORKLOAD_IO, "io-thread");
}
