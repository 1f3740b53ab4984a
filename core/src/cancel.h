/*
 * cancel.h — cancel tokens (xchan_cancel_*): internal side used by sel.c.
 *
 * Design notes
 * ------------
 * A token is a fired flag, a reference count and a list of the sels of the
 * blocking calls waiting with it, guarded by the token's own lock.  The
 * lock is a leaf: nothing else is locked while it is held except a go
 * task's run queue (xchan__task_wake), and no user code runs under it.
 *
 * Fire sets the flag and, under the lock, moves every listed sel that is
 * still WAITING/PARKED to ABORTED by CAS (so it competes with claimers like
 * a deadline does: nothing is transferred), waking the owner if it slept.
 * A waiter leaves the list (under the lock) before its frame goes away, so
 * fire never touches a dead sel: a woken owner blocks on the lock until the
 * fire loop is done with it.
 */
#ifndef XCHAN_CANCEL_H
#define XCHAN_CANCEL_H

#include "sel.h"

/* Lists `s` on its token (s->token).  Returns false (not listed) if the
 * token already fired: the caller then aborts its own sel. */
bool xchan__cancel_enter(xchan__sel *s);
/* Unlists `s` (no-op if it was never listed). */
void xchan__cancel_leave(xchan__sel *s);

#endif
