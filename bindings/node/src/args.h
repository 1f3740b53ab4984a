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

/* A JS string of the NUL-terminated UTF-8 s. */
static inline napi_value
xn_string(napi_env env, const char *s)
{
	napi_value r;
	napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
	return r;
}

/* An optional boolean argument: dflt when v is nullish. */
static inline bool
xn_flag(napi_env env, napi_value v, bool dflt)
{
	bool b = dflt;
	if (!xn_is_nullish(env, v))
		napi_get_value_bool(env, v, &b);
	return b;
}

/* A JS array of the n items (a NULL item reads as undefined): what the
 * functions returning several channels at once return. */
static inline napi_value
xn_array_of(napi_env env, const napi_value *items, size_t n)
{
	napi_value arr, u;
	napi_get_undefined(env, &u);
	napi_create_array_with_length(env, n, &arr);
	for (size_t i = 0; i < n; i++)
		napi_set_element(env, arr, (uint32_t)i,
		    items[i] != NULL ? items[i] : u);
	return arr;
}
#define XN_ARRAY(env, ...)                                                     \
	xn_array_of((env), (napi_value[]) {__VA_ARGS__},                       \
	    sizeof((napi_value[]) {__VA_ARGS__}) / sizeof(napi_value))

#endif
