/*
 * errors.c — XchanError objects from the core's error codes.  The classes
 * live in JS (lib/errors.js, one subclass per name of the core's list);
 * this file calls the factory index.js registered with initEnv.
 */
#include <stdio.h>
#include <string.h>

#include "addon.h"

napi_value
xn_error(napi_env env, int32_t err, const char *msg)
{
	xenv *e = xn_env(env);
	napi_value code, message, result = NULL;
	if (msg == NULL)
		msg = xchan_strerror(err);
	napi_create_string_utf8(env, xchan_err_name(err), NAPI_AUTO_LENGTH,
	    &code);
	napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
	napi_value fn;
	if (e != NULL && e->make_error != NULL &&
	    napi_get_reference_value(env, e->make_error, &fn) == napi_ok &&
	    fn != NULL) {
		napi_value argv[2] = {code, message}, undef;
		napi_get_undefined(env, &undef);
		if (napi_call_function(env, undef, fn, 2, argv, &result) ==
		    napi_ok)
			return result;
	}
	napi_create_error(env, code, message, &result);
	return result;
}

void
xn_throw(napi_env env, int32_t err, const char *msg)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (pending)
		return;
	napi_value e = xn_error(env, err, msg);
	if (e != NULL)
		napi_throw(env, e);
}

void
xn_throw_last(napi_env env)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (pending)
		return;
	const napi_extended_error_info *info = NULL;
	napi_get_last_error_info(env, &info);
	char msg[200];
	snprintf(msg, sizeof msg, "xchan: Node-API call failed: %s",
	    info && info->error_message ? info->error_message : "unknown");
	napi_throw_error(env, "EINTERNAL", msg);
}

void
xn_report_uncaught(napi_env env)
{
	bool pending = false;
	napi_value exc;
	napi_is_exception_pending(env, &pending);
	if (pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok)
		napi_fatal_exception(env, exc);
}

bool
xn_arg_chan(napi_env env, napi_value v, xn_chan **out)
{
	*out = xn_chan_from_external(env, v);
	if (*out == NULL) {
		xn_throw(env, XCHAN_EINVAL, "expected a Chan");
		return false;
	}
	return true;
}

/* Functions that settle what their own core calls completed (they call
 * xn_drain_local themselves, on their fast paths too). */
static const char *const self_draining[] = {"take", "put", "alts", "offer",
    "poll", "close", "takeSync", "putSync", "noop", "token", "chanId", "info",
    "isJsXform", "tryPut", "tryTake", NULL};

/* Every other function runs through this: after it, ops its core calls
 * completed on this thread (their notifiers only pushed them, without
 * waking the loop) are settled. */
static napi_value
draining_call(napi_env env, napi_callback_info info)
{
	napi_callback cb = NULL;
	napi_get_cb_info(env, info, NULL, NULL, NULL, (void **)&cb);
	xn_in_core++;
	napi_value r = cb(env, info);
	xn_in_core--;
	xenv *e = xn_env(env);
	if (e != NULL)
		xn_drain_local(e);
	return r;
}

_Thread_local int xn_in_core;

napi_status
xn_export_fn(napi_env env, napi_value exports, const char *name,
    napi_callback cb)
{
	napi_value fn;
	bool direct = false;
	for (size_t i = 0; self_draining[i] != NULL && !direct; i++)
		direct = strcmp(self_draining[i], name) == 0;
	napi_status s = direct
	                    ? napi_create_function(env, name, NAPI_AUTO_LENGTH,
	                          cb, NULL, &fn)
	                    : napi_create_function(env, name, NAPI_AUTO_LENGTH,
	                          draining_call, (void *)cb, &fn);
	if (s != napi_ok)
		return s;
	return napi_set_named_property(env, exports, name, fn);
}

napi_status
xn_export_fns(napi_env env, napi_value exports, const xn_fn_entry *fns,
    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		napi_status s =
		    xn_export_fn(env, exports, fns[i].name, fns[i].cb);
		if (s != napi_ok)
			return s;
	}
	return napi_ok;
}
