/*
 * cancel.h — CancelToken (lib/cancel.js): the core's cancel token, shared by
 * every thread, that also stops the binding's waits that cannot wait with
 * it directly.
 */
#ifndef XCHAN_NODE_CANCEL_H
#define XCHAN_NODE_CANCEL_H

#include "addon.h"

typedef struct xn_token xn_token;

/* The token of external v (throws EINVAL and returns NULL otherwise). */
xn_token *xn_token_arg(napi_env env, napi_value v);
/* Watches a pending async op: firing the token cancels it (from the firing
 * thread, xchan_op_cancel: the op's notifier then settles it ECANCELED, or
 * it had completed and keeps its result).  Retains tok; false if the token
 * has already fired (nothing watched). */
bool xn_token_watch_op(xn_token *tok, xchan_op *op);
/* Stops watching op and drops the reference (JS thread, before the op's
 * handle is released). */
void xn_token_unwatch_op(xn_token *tok, xchan_op *op);

napi_status xn_init_cancel(napi_env env, napi_value exports);

#endif
