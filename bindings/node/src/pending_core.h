/*
 * pending_core.h — TEMPORARY.  Functions of the binding contract declared in
 * xchan.h (commit 664ad67) whose implementations land on main from the core
 * helpers during this round.  Until they do, they are weak here, and every
 * use is guarded (`if (xchan_op_collect != NULL)`), so the addon builds and
 * runs on the older core with the plain callback path.  Remove this file and
 * the guards once they are all on main.
 */
#ifndef XCHAN_NODE_PENDING_CORE_H
#define XCHAN_NODE_PENDING_CORE_H
#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"
#pragma weak xchan_op_collect
#pragma weak xchan_op_cancel_ex
#pragma weak xchan_op_state_get
#pragma weak xchan_cancel_new
#pragma weak xchan_cancel_fire
#pragma weak xchan_cancel_release
#pragma weak xchan_take_ex
#pragma weak xchan_put_ex
#pragma weak xchan_alts_ex
#pragma weak xchan_runtime_unregister
#pragma weak xchan_val_bytes_host
#pragma weak xchan_get_api
#pragma weak xchan_set_log_hook
#define XN_HAVE(fn) ((fn) != NULL)
#endif
