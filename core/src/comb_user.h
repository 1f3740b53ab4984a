/*
 * comb_user.h — how the combinators call user code: on the worker thread's
 * own stack, never on a go task's.
 *
 * The combinators run as go tasks (64 KiB coroutine stacks).  Their user
 * callbacks (merge's map function, pub's topic and buffer functions,
 * reduce's reducer, pipeline's factory, error handler and async function)
 * are often a host runtime's code, and CPython, the JVM and V8 check stack
 * bounds: run there, deep host recursion overflows the small stack.  Each
 * call therefore goes through xchan__on_thread_stack, which switches to the
 * dispatch worker's own stack for the call and resumes the task at once
 * (outside a task it is a plain call).  No lock is held across any of them.
 */
#ifndef XCHAN_COMB_USER_H
#define XCHAN_COMB_USER_H

#include "xchan/xchan.h"
#include "xchan/xchan_combinators.h"

xchan_val xchan__comb_call_map(xchan_map_fn fn, void *user, xchan_val in);
xchan_val xchan__comb_call_map_n(xchan_map_n_fn fn, void *user,
    const xchan_val *vals, size_t n);
int32_t xchan__comb_call_pred(xchan_pred_fn fn, void *user, xchan_val in);
int32_t xchan__comb_call_pub_buf(xchan_pub_buf_fn fn, void *user,
    uint32_t *out_kind, uint64_t *out_capacity, xchan_val topic);
int32_t xchan__comb_call_reduce(xchan_reduce_fn fn, void *user,
    xchan_val *out_acc, xchan_val acc, xchan_val v);
int32_t xchan__comb_call_factory(xchan_xform_factory fn, void *user,
    xchan_xform **out);
xchan_val xchan__comb_call_on_error(xchan_error_handler fn, void *user,
    xchan_val e);
void xchan__comb_call_async(xchan_async_fn fn, void *user, xchan_val v,
    xchan_chan *res);

#endif
