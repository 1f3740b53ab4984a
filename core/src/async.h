/*
 * async.h — asynchronous operations (put/take/alts with a callback and a
 * cancellable handle).  See async.c.
 */
#ifndef XCHAN_ASYNC_H
#define XCHAN_ASYNC_H

struct xchan__op;

/* Called by xchan__sel_finish after a counterpart completed the op's sel
 * (state DONE).  No lock held. */
void xchan__op_completed(struct xchan__op *op);

#endif
