/*
 * args.h — reading a Node-API callback's arguments, and the small JS values
 * the addon's functions return.  Shared by every section of the addon so
 * each function starts the same way; header-only (static inline).
 */
#ifndef XCHAN_NODE_ARGS_H
#define XCHAN_NODE_ARGS_H

#include "addon.h"

/* Declares argc/argv holding the callback's first n arguments; the ones
 * the caller did not pass read as undefined.  Returns NULL (thrown) when
 * Node cannot hand them over. */
#define ARGS(n)                                                                \
	size_t argc = (n);                                                     \
	napi_value argv[(n) > 0 ? (n) : 1];                                    \
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));  \
	for (size_t i_ = argc; i_ < (n); i_++)                                 \
		napi_get_undefined(env, &argv[i_]);

/* Whether v is undefined or null (an option left out). */
static inline bool
xn_is_nullish(napi_env env, napi_value v)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	return t == napi_undefined || t == napi_null;
}

static inline napi_value
xn_undefined(napi_env env)
{
	napi_value u;
	napi_get_undefined(env, &u);
	return u;
}

static inline napi_value
xn_boolean(napi_env env, bool b)
{
	napi_value r;
	napi_get_boolean(env, b, &r);
	return r;
}

#endif
