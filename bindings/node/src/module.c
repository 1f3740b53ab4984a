/*
 * module.c — the addon's entry point.  Checks that the core it was linked
 * with matches the header it was compiled against, then sets up this
 * environment (env.c) and exports the native functions index.js wraps.
 */
#include <stdio.h>

#include "addon.h"

/* noop(x) -> x: the cost of one Node-API call, the floor the benchmarks
 * compare the synchronous operations with. */
static napi_value
js_noop(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value v = NULL;
	napi_get_cb_info(env, info, &argc, &v, NULL, NULL);
	return v;
}

static napi_value
init(napi_env env, napi_value exports)
{
	int32_t rc = xchan_check_version(XCHAN_VERSION_NUMBER);
	if (rc != XCHAN_OK) {
		char msg[200];
		snprintf(msg, sizeof msg,
		    "xchan: the loaded core is version %s but the addon was "
		    "built for %d.%d.%d; rebuild the addon (npm rebuild xchan)",
		    xchan_version_string(), XCHAN_VERSION_MAJOR,
		    XCHAN_VERSION_MINOR, XCHAN_VERSION_PATCH);
		napi_throw_error(env, "EVERSION", msg);
		return NULL;
	}
	if (xn_init_env(env, exports) == NULL)
		return NULL;
	if (xn_init_chan(env, exports) != napi_ok ||
	    xn_init_async(env, exports) != napi_ok ||
	    xn_init_sync(env, exports) != napi_ok ||
	    xn_init_xform(env, exports) != napi_ok ||
	    xn_init_comb(env, exports) != napi_ok ||
	    xn_init_jscomb(env, exports) != napi_ok ||
	    xn_init_native_run(env, exports) != napi_ok ||
	    xn_init_admission(env, exports) != napi_ok ||
	    xn_export_fn(env, exports, "noop", js_noop) != napi_ok) {
		xn_throw_last(env);
		return NULL;
	}
	return exports;
}

NAPI_MODULE_INIT()
{
	return init(env, exports);
}
