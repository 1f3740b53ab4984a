/*
 * xchan_node.h — for C addons that share channels with the xchan Node
 * binding.  Compile with -I "$(node -p "require('xchan').includeDir")".
 *
 * The binding loads the one copy of the xchan core in the process; an addon
 * never links libxchan.  It receives two externals from JS:
 *   xchan.api()      the core's function table (const xchan_api *), static;
 *   ch.handle()      a channel (xchan_chan *), holding a reference for as long
 *                    as the external lives.
 * Take your own reference (api->chan_retain) to keep a channel beyond the
 * call that received it, e.g. for a pthread; release it when done.
 * Check the table with xchan_node_check_api before use.  Channels an addon
 * creates can be handed to JS as an external of their xchan_chan * and
 * adopted with Chan.fromHandle(ext) (which takes its own reference).
 */
#ifndef XCHAN_NODE_H
#define XCHAN_NODE_H

#include <node_api.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"

/* The function table from the external `v` (xchan.api()), or NULL. */
static inline const xchan_api *
xchan_node_api(napi_env env, napi_value v)
{
	void *p = NULL;
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
	    napi_get_value_external(env, v, &p) != napi_ok)
		return NULL;
	return (const xchan_api *)p;
}

/* The channel from the external `v` (ch.handle()), borrowed, or NULL. */
static inline xchan_chan *
xchan_node_chan(napi_env env, napi_value v)
{
	void *p = NULL;
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external ||
	    napi_get_value_external(env, v, &p) != napi_ok)
		return NULL;
	return (xchan_chan *)p;
}

#endif
