/*
 * pending.h — core functions declared in xchan.h whose implementation is
 * landing on main while this binding is written (issue 9: the binding
 * contract).  They are referenced weakly so the module builds and imports
 * against a core that lacks them; each use checks XPY_HAVE(fn) and raises
 * XchanError naming the missing core function instead of working around it.
 * Delete a line here once the core exports the function.
 */
#ifndef XPY_PENDING_H
#define XPY_PENDING_H

#pragma weak xchan_get_api
#pragma weak xchan_op_collect
#pragma weak xchan_op_cancel_ex
#pragma weak xchan_op_state_get
#pragma weak xchan_take_ex
#pragma weak xchan_put_ex
#pragma weak xchan_alts_ex
#pragma weak xchan_val_string_host
#pragma weak xchan_val_bytes_host
#pragma weak xchan_runtime_unregister
#pragma weak xchan_set_log_hook

#define XPY_HAVE(fn) ((void *)(fn) != NULL)

#endif
