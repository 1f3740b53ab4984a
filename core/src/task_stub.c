/* task_stub.c — placeholder for task.h until sched.c lands: no go tasks
 * exist, so the current task is always NULL.  Deleted by the scheduler. */
#include "task.h"
#include <stddef.h>
xchan__task *xchan__task_current(void) { return NULL; }
void xchan__task_park(int (*commit)(void *), void *arg) { (void)commit; (void)arg; }
void xchan__task_wake(xchan__task *t) { (void)t; }
const char *xchan__task_name(const xchan__task *t) { (void)t; return "none"; }
