/*
 * clone.c — a JS object of another isolate, taken here, as a structured
 * clone (the copy postMessage makes).
 *
 * Why.  An object put on a channel is a HOST value of the putting env's
 * runtime (value.c): the very same object comes back to that isolate, but
 * no other isolate can read it.  Node's rule for objects crossing threads is
 * the structured clone, so a taker on another env of this addon gets one:
 * the OWNER env (whose isolate holds the object) runs v8.serialize on it, on
 * its own JS thread, and the taker runs v8.deserialize on the bytes in its
 * own isolate.  Every take makes a new object; the owner's object is never
 * touched (it stays in the channel's value, so error.value and a take by
 * the owner still see it).  Both functions are handed to the addon per env
 * by index.js (initEnv: serialize, deserialize), so no V8 internals are
 * used and the copy is exactly Node's.
 *
 * How the owner is reached.  The serialize step is an xn_jscall on the
 * owner env (jscall.c): it runs from the owner's event loop, or from inside
 * any of the addon's waits the owner is blocked in (takeSync, putSync,
 * altsSync, its own clone or JS call to another env).  The taker waits for
 * it in a serving wait, so two isolates cloning each other's objects at
 * the same time answer each other instead of deadlocking.
 *
 * Where it can wait long, or for ever (stated, not solved here):
 *  - an owner running long synchronous JS answers only when that JS ends
 *    (or enters one of the addon's waits): the take is delayed meanwhile;
 *  - an owner blocked OUTSIDE the addon's waits (Atomics.wait, a sync fs
 *    call, another addon's blocking call) cannot answer until it returns:
 *    an owner that waits there for the taker itself deadlocks both;
 *  - a take's timeout bounds the wait for a VALUE, not the clone of it.
 * A taker being terminated (worker.terminate) gives up a request the owner
 * has not started; an owner that ends first fails it (ERUNTIME).
 *
 * Threads and locks: everything here runs on the taker's JS thread, except
 * run_serialize, which runs on the owner's JS thread while the taker waits
 * (the request lives on the taker's stack; see xn_jscall_do).  No lock is
 * held across either JS call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

typedef struct clone_call {
	xn_jscall call; /* first */
	xn_ref *obj;    /* the owner's object (the taker holds the value) */
	unsigned char *bytes; /* malloc'd v8.serialize output, or NULL */
	size_t len;
	char why[256]; /* when bytes is NULL: why not */
} clone_call;

/* The message of the pending exception (cleared) into buf; false when no
 * exception was pending (the env could not run JS: it is going away). */
static bool
take_exception_message(napi_env env, char *buf, size_t n)
{
	napi_value exc, msg = NULL, str;
	size_t len = 0;
	bool pending = false;
	if (napi_is_exception_pending(env, &pending) != napi_ok || !pending ||
	    napi_get_and_clear_last_exception(env, &exc) != napi_ok)
		return false;
	snprintf(buf, n, "an exception without a message");
	napi_valuetype t;
	napi_typeof(env, exc, &t);
	if (t == napi_object)
		napi_get_named_property(env, exc, "message", &msg);
	if (napi_coerce_to_string(env, msg != NULL ? msg : exc, &str) ==
	    napi_ok) {
		napi_get_value_string_utf8(env, str, buf, n, &len);
		return true;
	}
	if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
		napi_get_and_clear_last_exception(env, &exc);
	return true;
}

/* The owner's JS thread: serializes the object into c's bytes. */
static void
run_serialize(napi_env env, xenv *owner, xn_jscall *c)
{
	clone_call *cc = (clone_call *)c;
	napi_value fn, obj, undef, out;
	if (owner->serialize == NULL ||
	    napi_get_reference_value(env, owner->serialize, &fn) != napi_ok ||
	    fn == NULL) {
		snprintf(cc->why, sizeof cc->why,
		    "the isolate that put it cannot serialize it");
		return;
	}
	obj = xn_ref_value(env, cc->obj);
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, 1, &obj, &out) != napi_ok) {
		char msg[200];
		if (take_exception_message(env, msg, sizeof msg))
			snprintf(cc->why, sizeof cc->why,
			    "it cannot be cloned (%s)", msg);
		else
			snprintf(cc->why, sizeof cc->why,
			    "the isolate that put it is shutting down");
		return;
	}
	void *data = NULL;
	size_t len = 0;
	bool is_buf = false;
	if (napi_is_buffer(env, out, &is_buf) != napi_ok || !is_buf ||
	    napi_get_buffer_info(env, out, &data, &len) != napi_ok) {
		snprintf(cc->why, sizeof cc->why,
		    "its isolate's serializer returned no Buffer");
		return;
	}
	cc->bytes = malloc(len ? len : 1);
	if (cc->bytes == NULL) {
		snprintf(cc->why, sizeof cc->why, "out of memory");
		return;
	}
	memcpy(cc->bytes, data, len);
	cc->len = len;
}

/* The taker's JS thread: the object rebuilt from cc's bytes, or NULL with
 * cc->why set. */
static napi_value
deserialize(napi_env env, xenv *e, clone_call *cc)
{
	napi_value fn, buf, undef, r;
	void *copy;
	if (e->deserialize == NULL ||
	    napi_get_reference_value(env, e->deserialize, &fn) != napi_ok ||
	    fn == NULL) {
		snprintf(cc->why, sizeof cc->why,
		    "this isolate cannot deserialize it");
		return NULL;
	}
	if (napi_create_buffer_copy(env, cc->len, cc->bytes, &copy, &buf) !=
	    napi_ok) {
		char msg[200];
		if (!take_exception_message(env, msg, sizeof msg))
			snprintf(msg, sizeof msg, "no Buffer could be made");
		snprintf(cc->why, sizeof cc->why, "%s", msg);
		return NULL;
	}
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, 1, &buf, &r) != napi_ok) {
		char msg[200];
		if (!take_exception_message(env, msg, sizeof msg))
			snprintf(msg, sizeof msg, "this isolate cannot run JS");
		snprintf(cc->why, sizeof cc->why,
		    "its clone cannot be rebuilt here (%s)", msg);
		return NULL;
	}
	return r;
}

napi_value
xn_clone_foreign(napi_env env, xenv *e, xchan_val v, char *why, size_t n)
{
	void *host = NULL;
	/* v holds a reference, so the xn_ref stays valid while we use it;
	 * ERUNTIME here means its runtime is unregistered: the env ended. */
	if (xchan_get_host(v, v.aux, &host) != XCHAN_OK) {
		snprintf(why, n,
		    "the isolate that put it has ended, so it cannot be "
		    "cloned any more");
		return NULL;
	}
	if (xn_current_env() != e) {
		snprintf(why, n, "this isolate is shutting down");
		return NULL;
	}
	clone_call cc;
	memset(&cc, 0, sizeof cc);
	cc.call.run = run_serialize;
	cc.obj = host;
	int32_t rc = xn_jscall_do(cc.obj->e, &cc.call);
	napi_value r = NULL;
	if (rc == XCHAN_ERUNTIME)
		snprintf(cc.why, sizeof cc.why,
		    "the isolate that put it ended before it could clone it");
	else if (rc == XCHAN_ECANCELED)
		snprintf(cc.why, sizeof cc.why,
		    "this thread is being terminated");
	else if (rc != XCHAN_OK)
		snprintf(cc.why, sizeof cc.why, "%s", xchan_strerror(rc));
	else if (cc.bytes != NULL)
		r = deserialize(env, e, &cc);
	free(cc.bytes);
	if (r == NULL) {
		snprintf(why, n, "%s", cc.why);
		return NULL;
	}
	xchan_val_release(v);
	return r;
}
