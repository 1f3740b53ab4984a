/*
 * go.h — go tasks, thread and io_thread as the public API sees them
 * (xchan_go, xchan_thread, xchan_io_thread, the task error hook).  The
 * machinery lives in gosched.c (tasks), coro.c (stacks) and exec.c
 * (executors); this file only shapes a task body around a user function
 * and its result channel.
 */
#ifndef XCHAN_GO_H
#define XCHAN_GO_H

#include "xchan/xchan.h"

/* Calls the task error hook (the default prints a line to stderr). */
void xchan__report_task_error(const char *task_name, int32_t err);

#endif
