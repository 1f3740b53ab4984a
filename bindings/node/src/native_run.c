/*
 * native_run.c — nativeRun(workload, lib, symbol, signature, args[]): the
 * core's native workers (xchan_native_run, xchan_ext.h) for Node;
 * lib/native-workers.js wraps it as native.go / thread / ioThread.
 *
 * Runs on the JS thread.  The arguments are converted with xn_to_val (the
 * binding's one value mapping; a Chan arrives as its handle) and released
 * after the call, which retains what the task keeps.  On an error the same
 * arguments go to xchan_native_check for the message naming the problem,
 * thrown as the error's XchanError subclass.  It blocks only while a library
 * loads for the first time (as require() of an addon does).  No state, no
 * lock.
 */
#include <stdio.h>

#include "addon.h"
#include "args.h"

#define NATIVE_MSG_SIZE 512

static void
release_vals(xchan_val *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xchan_val_release(vals[i]);
}

/* A string argument into buf; throws EINVAL naming `what` if it is not a
 * string or does not fit. */
static bool
arg_string(napi_env env, napi_value v, const char *what, char *buf, size_t size)
{
	size_t len = 0;
	if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) {
		char msg[128];
		snprintf(msg, sizeof msg, "native: %s must be a string", what);
		xn_throw(env, XCHAN_EINVAL, msg);
		return false;
	}
	if (len + 1 >= size) {
		char msg[128];
		snprintf(msg, sizeof msg, "native: %s is too long (%zu bytes)",
		    what, len);
		xn_throw(env, XCHAN_EINVAL, msg);
		return false;
	}
	return true;
}

static napi_value
js_native_run(napi_env env, napi_callback_info info)
{
	ARGS(5);
	if (argc != 5) {
		xn_throw(env, XCHAN_EINVAL,
		    "nativeRun(workload, lib, symbol, signature, args)");
		return NULL;
	}
	xenv *e = xn_env(env);
	uint32_t workload;
	NAPI_CALL(env, napi_get_value_uint32(env, argv[0], &workload));
	char lib[4096], symbol[256], signature[64];
	if (!arg_string(env, argv[1], "lib", lib, sizeof lib) ||
	    !arg_string(env, argv[2], "symbol", symbol, sizeof symbol) ||
	    !arg_string(env, argv[3], "signature", signature, sizeof signature))
		return NULL;
	uint32_t n = 0;
	NAPI_CALL(env, napi_get_array_length(env, argv[4], &n));
	if (n > XCHAN_NATIVE_MAX_ARGS) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: at most %d arguments, got %u",
		    symbol, XCHAN_NATIVE_MAX_ARGS, n);
		xn_throw(env, XCHAN_EINVAL, msg);
		return NULL;
	}
	xchan_val vals[XCHAN_NATIVE_MAX_ARGS];
	for (uint32_t i = 0; i < n; i++) {
		napi_value a;
		if (napi_get_element(env, argv[4], i, &a) != napi_ok) {
			release_vals(vals, i);
			xn_throw_last(env);
			return NULL;
		}
		if (!xn_to_val(env, e, a, &vals[i])) {
			release_vals(vals, i);
			return NULL;
		}
	}
	xchan_chan *result = NULL;
	int32_t rc = xchan_native_run(&result, workload, lib, symbol, signature,
	    vals, n, NULL);
	if (rc != XCHAN_OK) {
		char msg[NATIVE_MSG_SIZE];
		if (xchan_native_check(msg, sizeof msg, lib, symbol, signature,
		        vals, n) == XCHAN_OK)
			snprintf(msg, sizeof msg, "%s: cannot start", symbol);
		release_vals(vals, n);
		xn_throw(env, rc, msg);
		return NULL;
	}
	release_vals(vals, n);
	return xn_chan_external(env, result);
}

napi_status
xn_init_native_run(napi_env env, napi_value exports)
{
	return xn_export_fn(env, exports, "nativeRun", js_native_run);
}
