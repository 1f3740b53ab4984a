/*
 * async.h — asynchronous operations (put/take/alts with a callback, notify
 * mode, cancel, cancel-or-collect).  See async.c.
 */
#ifndef XCHAN_ASYNC_H
#define XCHAN_ASYNC_H

struct xchan__op;

/* Ops whose result is settled and whose user-visible delivery (callback,
 * notifier, channel releases) is still to run, linked through the op. */
typedef struct xchan__deliveries {
	struct xchan__op *head;
	struct xchan__op **tail;
} xchan__deliveries;

static inline void
xchan__deliveries_init(xchan__deliveries *d)
{
	d->head = 0;
	d->tail = &d->head;
}

/* A counterpart completed the op's sel (state DONE; the sel's result is
 * written).  Settles the op: withdraws its other waiters, stops its timer,
 * stores the final result (from here xchan_op_cancel_ex / collect can take
 * it); then queues the op on `dl`.  Runs no user code; takes channel locks
 * one at a time, so no channel lock may be held (a step lock may). */
void xchan__op_completed(struct xchan__op *op, xchan__deliveries *dl);

/* Delivers the queued ops: callbacks and notifiers, then the ops' channel
 * references.  User code: no xchan lock may be held.  In a go task it runs
 * on the worker's own stack (xchan__on_thread_stack). */
void xchan__deliver_all(xchan__deliveries *dl);

/* xchan_shutdown: completes every pending async op with XCHAN_ESHUTDOWN. */
void xchan__async_shutdown(void);

#endif
