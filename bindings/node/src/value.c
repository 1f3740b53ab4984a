/*
 * value.c — JS values <-> xchan values, and the host runtime hooks.
 *
 * JS -> xchan:  boolean -> BOOL; a number that is an integer of at most 53
 * bits (not -0) -> INT, other numbers -> DOUBLE; a bigint that fits int64 ->
 * INT (wider ones are host objects); string -> STRING; Buffer/Uint8Array ->
 * BYTES (a copy of the bytes at put time, carrying the object so that this
 * isolate gets the very same object back); Chan -> CHAN; an opaque handle ->
 * its value; null/undefined -> ENIL; anything else -> HOST of this env.
 * xchan -> JS: INT -> number (bigint beyond 2^53); STRING/BYTES -> the
 * carried object when it is ours, else a new string/Buffer; CHAN -> a Chan;
 * ARRAY -> a new Array; BOX -> a Box (lib/values.js); HOST of this env -> the
 * object; HOST of another env of this addon (a worker's or the main
 * thread's object) -> a structured clone of it made here (clone.c: the
 * owner serializes, this isolate deserializes; a new object per take);
 * HOST of another runtime, or one no clone can be made of (not cloneable,
 * owner gone) -> an ERUNTIME error saying why, whose .value is an opaque
 * handle holding it (nothing is lost: put it back on a channel).
 *
 * Thread-safety: conversions run on the env's JS thread.  The runtime hooks
 * (xn_runtime_hooks) run on any thread; see xn_ref_release.  A clone makes
 * the taking thread wait for the owner's JS thread: see clone.c for when
 * that wait is long or endless.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

/* ---- xn_ref ------------------------------------------------------------- */

xn_ref *
xn_ref_new(napi_env env, xenv *e, napi_value v)
{
	xn_ref *r = malloc(sizeof *r);
	if (r == NULL)
		return NULL;
	/* Node-API 8 references only objects and functions: a primitive is
	 * held in a small object. */
	napi_valuetype t;
	napi_typeof(env, v, &t);
	r->boxed = t != napi_object && t != napi_function && t != napi_external;
	if (r->boxed) {
		napi_value box;
		if (napi_create_object(env, &box) != napi_ok ||
		    napi_set_named_property(env, box, "v", v) != napi_ok) {
			free(r);
			return NULL;
		}
		v = box;
	}
	if (napi_create_reference(env, v, 1, &r->ref) != napi_ok) {
		free(r);
		return NULL;
	}
	atomic_init(&r->refs, 1);
	r->e = e;
	xenv_retain(e);
	XN_COUNT(xn_live_refs, 1);
	return r;
}

void
xn_ref_retain(xn_ref *r)
{
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

static void
ref_free(xn_ref *r, bool delete_ref)
{
	xenv *e = r->e;
	if (delete_ref)
		napi_delete_reference(e->env, r->ref);
	free(r);
	XN_COUNT(xn_live_refs, -1);
	xenv_release(e);
}

void
xn_ref_release(xn_ref *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	xenv *e = r->e;
	if (!pthread_equal(pthread_self(), e->thread)) {
		if (xenv_push(e, &e->dead_refs, &r->node))
			return; /* the JS thread drops it at its next wake */
		ref_free(r, false); /* the env is gone, and its refs with it */
		return;
	}
	/* Our own JS thread deletes at once (while the env lives). */
	ref_free(r, xenv_alive(e));
}

void
xn_drain_dead_refs(xenv *e)
{
	xn_node *n = atomic_exchange(&e->dead_refs, NULL);
	while (n != NULL) {
		xn_node *next = n->next;
		ref_free((xn_ref *)n, true);
		n = next;
	}
}

napi_value
xn_ref_value(napi_env env, xn_ref *r)
{
	napi_value v = NULL;
	napi_get_reference_value(env, r->ref, &v);
	if (r->boxed && v != NULL)
		napi_get_named_property(env, v, "v", &v);
	return v;
}

static void
rt_retain(void *user, void *obj)
{
	xn_ref_retain(obj);
}

static void
rt_release(void *user, void *obj)
{
	xn_ref_release(obj);
}

const xchan_runtime xn_runtime_hooks = {sizeof(xchan_runtime), 0, "node",
    rt_retain, rt_release, NULL};

/* ---- opaque handles ----------------------------------------------------- */

typedef struct xn_opaque {
	uint32_t magic;
	xchan_val v;
} xn_opaque;

static void
opaque_finalize(napi_env env, void *data, void *hint)
{
	xn_opaque *o = data;
	xchan_val_release(o->v);
	free(o);
}

napi_value
xn_opaque_new(napi_env env, xchan_val v)
{
	xn_opaque *o = malloc(sizeof *o);
	napi_value ext;
	if (o == NULL) {
		xchan_val_release(v);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	o->magic = XN_OPAQUE_MAGIC;
	o->v = v;
	if (napi_create_external(env, o, opaque_finalize, NULL, &ext) !=
	    napi_ok) {
		opaque_finalize(env, o, NULL);
		xn_throw_last(env);
		return NULL;
	}
	return ext;
}

/* ---- JS -> xchan ---------------------------------------------------------- */

static bool
host_val(napi_env env, xenv *e, napi_value v, xchan_val *out)
{
	xn_ref *r = xn_ref_new(env, e, v);
	if (r == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return false;
	}
	int32_t rc = xchan_val_host(out, e->runtime_id, r);
	if (rc != XCHAN_OK) {
		xn_ref_release(r);
		xn_throw(env, rc, NULL);
		return false;
	}
	return true;
}

static bool
string_val(napi_env env, napi_value v, xchan_val *out)
{
	char small[256];
	size_t len = 0;
	int32_t rc;
	if (napi_get_value_string_utf8(env, v, small, sizeof small, &len) !=
	    napi_ok) {
		xn_throw_last(env);
		return false;
	}
	if (len < sizeof small - 4) {
		rc = xchan_val_string(out, small, len);
	} else {
		napi_get_value_string_utf8(env, v, NULL, 0, &len);
		char *buf = malloc(len + 1);
		if (buf == NULL) {
			xn_throw(env, XCHAN_ENOMEM, NULL);
			return false;
		}
		napi_get_value_string_utf8(env, v, buf, len + 1, &len);
		rc = xchan_val_string(out, buf, len);
		free(buf);
	}
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return false;
	}
	return true;
}

static bool
bytes_val(napi_env env, xenv *e, napi_value v, void *data, size_t len,
    xchan_val *out)
{
	xn_ref *r = xn_ref_new(env, e, v);
	if (r == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return false;
	}
	/* Takes over r, also on error. */
	int32_t rc = xchan_val_bytes_host(out, data, len, e->runtime_id, r);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return false;
	}
	return true;
}

bool
xn_to_val(napi_env env, xenv *e, napi_value v, xchan_val *out)
{
	napi_valuetype t;
	if (napi_typeof(env, v, &t) != napi_ok) {
		xn_throw_last(env);
		return false;
	}
	switch (t) {
	case napi_number: {
		double d;
		napi_get_value_double(env, v, &d);
		if (d == floor(d) && fabs(d) <= 9007199254740991.0 &&
		    !(d == 0 && signbit(d)))
			*out = xchan_val_int((int64_t)d);
		else
			*out = xchan_val_double(d);
		return true;
	}
	case napi_boolean: {
		bool b;
		napi_get_value_bool(env, v, &b);
		*out = xchan_val_bool(b);
		return true;
	}
	case napi_string:
		return string_val(env, v, out);
	case napi_bigint: {
		int64_t i;
		bool lossless = false;
		napi_get_value_bigint_int64(env, v, &i, &lossless);
		if (lossless) {
			*out = xchan_val_int(i);
			return true;
		}
		return host_val(env, e, v, out);
	}
	case napi_undefined:
	case napi_null:
		xn_throw(env, XCHAN_ENIL,
		    "null and undefined cannot be put on a channel (they mean "
		    "'closed'); put another value");
		return false;
	case napi_external: {
		void *data = NULL;
		napi_get_value_external(env, v, &data);
		if (data != NULL && *(uint32_t *)data == XN_CHAN_MAGIC) {
			int32_t rc = xchan_val_chan(out, ((xn_chan *)data)->ch);
			if (rc != XCHAN_OK) {
				xn_throw(env, rc, NULL);
				return false;
			}
			return true;
		}
		if (data != NULL && *(uint32_t *)data == XN_OPAQUE_MAGIC) {
			*out = xchan_val_retain(((xn_opaque *)data)->v);
			return true;
		}
		return host_val(env, e, v, out);
	}
	case napi_object: {
		bool is_ta = false;
		napi_is_typedarray(env, v, &is_ta);
		if (is_ta) {
			napi_typedarray_type tt;
			size_t len;
			void *data;
			napi_get_typedarray_info(env, v, &tt, &len, &data, NULL,
			    NULL);
			if (tt == napi_uint8_array)
				return bytes_val(env, e, v, data, len, out);
		}
		return host_val(env, e, v, out);
	}
	default:
		return host_val(env, e, v, out);
	}
}

/* ---- xchan -> JS ---------------------------------------------------------- */

napi_value
xn_wrap_chan(napi_env env, xenv *e, xchan_chan *ch)
{
	napi_value ext = xn_chan_external(env, ch);
	if (ext == NULL)
		return NULL;
	napi_value fn, undef, res = NULL;
	napi_get_undefined(env, &undef);
	if (napi_get_reference_value(env, e->wrap_chan, &fn) != napi_ok ||
	    napi_call_function(env, undef, fn, 1, &ext, &res) != napi_ok)
		return NULL;
	return res;
}

/* A BOX as a JS Box: the opaque handle (adopting v) passed to the env's
 * wrapper with a second argument, true (index.js: Box._wrap). */
static napi_value
wrap_box(napi_env env, xenv *e, xchan_val v)
{
	napi_value args[2], fn, undef, res = NULL;
	if ((args[0] = xn_opaque_new(env, v)) == NULL)
		return NULL;
	napi_get_boolean(env, true, &args[1]);
	napi_get_undefined(env, &undef);
	if (napi_get_reference_value(env, e->wrap_chan, &fn) != napi_ok ||
	    napi_call_function(env, undef, fn, 2, args, &res) != napi_ok)
		return NULL;
	return res;
}

/* "item i: <the message of error err>" into buf. */
static void
item_message(napi_env env, napi_value err, size_t i, char *buf, size_t n)
{
	napi_value m;
	size_t len = 0;
	int k = snprintf(buf, n, "item %zu of this array cannot be read: ", i);
	if (k < 0 || (size_t)k >= n)
		return;
	if (napi_get_named_property(env, err, "message", &m) != napi_ok ||
	    napi_get_value_string_utf8(env, m, buf + k, n - (size_t)k, &len) !=
	        napi_ok)
		snprintf(buf + k, n - (size_t)k, "?");
}

/* Returns the JS value, or NULL with *err set to an error (v kept in it) or
 * an exception pending (err NULL). */
static napi_value
from_val(napi_env env, xenv *e, xchan_val v, napi_value *err)
{
	napi_value r = NULL;
	void *host = NULL;
	char why[512];
	const char *msg = NULL; /* why a HOST value cannot be read here */
	switch (v.kind) {
	case XCHAN_BOOL: {
		int32_t b = 0;
		xchan_get_bool(v, &b);
		napi_get_boolean(env, b != 0, &r);
		return r;
	}
	case XCHAN_INT: {
		int64_t i = 0;
		xchan_get_int(v, &i);
		if (i >= -9007199254740991LL && i <= 9007199254740991LL)
			napi_create_double(env, (double)i, &r);
		else
			napi_create_bigint_int64(env, i, &r);
		return r;
	}
	case XCHAN_DOUBLE: {
		double d = 0;
		xchan_get_double(v, &d);
		napi_create_double(env, d, &r);
		return r;
	}
	case XCHAN_STRING: {
		const char *s;
		size_t len;
		if (xchan_get_host(v, e->runtime_id, &host) == XCHAN_OK) {
			r = xn_ref_value(env, host);
		} else {
			xchan_get_string(v, &s, &len);
			napi_create_string_utf8(env, s, len, &r);
		}
		xchan_val_release(v);
		return r;
	}
	case XCHAN_BYTES: {
		const void *p;
		size_t len;
		if (xchan_get_host(v, e->runtime_id, &host) == XCHAN_OK) {
			r = xn_ref_value(env, host);
		} else {
			xchan_get_bytes(v, &p, &len);
			void *copy;
			napi_create_buffer_copy(env, len, p, &copy, &r);
		}
		xchan_val_release(v);
		return r;
	}
	case XCHAN_CHAN: {
		xchan_chan *ch = NULL;
		xchan_get_chan(v, &ch);
		r = xn_wrap_chan(env, e, xchan_chan_retain(ch));
		xchan_val_release(v);
		return r;
	}
	case XCHAN_HOST: {
		int32_t rc = xchan_get_host(v, e->runtime_id, &host);
		if (rc == XCHAN_OK) {
			r = xn_ref_value(env, host);
			xchan_val_release(v);
			/* A failed task's result (go/thread): its error. */
			napi_value cls;
			bool is_fail = false;
			napi_valuetype t;
			napi_typeof(env, r, &t);
			if (t == napi_object && e->task_fail != NULL &&
			    napi_get_reference_value(env, e->task_fail, &cls) ==
			        napi_ok &&
			    napi_instanceof(env, r, cls, &is_fail) == napi_ok &&
			    is_fail) {
				napi_get_named_property(env, r, "error", err);
				return NULL;
			}
			return r;
		}
		/* A JS object of another env of this addon: a clone. */
		if (xn_runtime_is_ours(v.aux)) {
			r = xn_clone_foreign(env, e, v, why, sizeof why);
			if (r != NULL)
				return r;
			msg = why;
		}
		break;
	}
	case XCHAN_ARRAY: {
		const xchan_val *items;
		size_t n;
		xchan_get_array(v, &items, &n);
		napi_create_array_with_length(env, n, &r);
		for (size_t i = 0; i < n; i++) {
			napi_value item =
			    from_val(env, e, xchan_val_retain(items[i]), err);
			if (item == NULL) {
				if (*err != NULL) {
					/* Report the whole array instead,
					 * saying why its item failed. */
					item_message(env, *err, i, why,
					    sizeof why);
					msg = why;
					break;
				}
				xchan_val_release(v);
				return NULL;
			}
			napi_set_element(env, r, (uint32_t)i, item);
		}
		if (*err == NULL) {
			xchan_val_release(v);
			return r;
		}
		break;
	}
	case XCHAN_BOX:
		return wrap_box(env, e, v);
	default:
		break;
	}
	/* A value this isolate cannot read: an error that keeps it. */
	char text[768];
	if (msg != NULL && v.kind == XCHAN_ARRAY)
		snprintf(text, sizeof text,
		    "%s; the whole array is kept in error.value", msg);
	else if (msg != NULL)
		snprintf(text, sizeof text,
		    "this value is a JS object of another isolate, and no "
		    "clone of it can be made here: %s. The value is kept in "
		    "error.value: put it back on a channel for its own isolate",
		    msg);
	else if (v.kind == XCHAN_HOST)
		snprintf(text, sizeof text, "%s",
		    "this value is an object of another runtime (not JS); it "
		    "cannot be read here (only numbers, bigints, strings, "
		    "booleans, Buffers/Uint8Arrays, arrays of these and Chans "
		    "cross runtimes). The value is kept in error.value: put it "
		    "back on a channel for its own runtime");
	else
		snprintf(text, sizeof text, "%s",
		    "this value cannot be read here; it is kept in "
		    "error.value");
	napi_value ev = xn_error(env, XCHAN_ERUNTIME, text);
	napi_value held = xn_opaque_new(env, v);
	if (ev != NULL && held != NULL)
		napi_set_named_property(env, ev, "value", held);
	*err = ev;
	return NULL;
}

napi_value
xn_from_val_or_error(napi_env env, xenv *e, xchan_val v, napi_value *err)
{
	*err = NULL;
	return from_val(env, e, v, err);
}

napi_value
xn_from_val(napi_env env, xenv *e, xchan_val v)
{
	napi_value err = NULL;
	napi_value r = from_val(env, e, v, &err);
	if (r == NULL && err != NULL)
		napi_throw(env, err);
	return r;
}
