/*
 * xform.c — channel transforms from xf descriptors (lib/xf.js).
 *
 * take and partitionAll are the core's own transforms: plain C, so a channel
 * using only those works from any thread.  map, filter and custom transforms
 * call JS functions of the env (JS thread) that made the channel, its owner.
 * The core runs a step on the thread that adds to the channel (a putter, a
 * taker pulling a pending put in, close).  On the owner's thread the step
 * calls its JS function directly.  From any other thread (another worker, a
 * core go task or pool thread, a C addon's pthread) the step is a JS call
 * queued on the owner (jscall.c): that thread waits, holding the channel's
 * step lock, until the owner has run it, from its event loop or from a
 * blocking wait of its own (takeSync, ...).  The owner itself never waits
 * for the step lock with its thread stopped: its blocking ops are notify-mode
 * ops, its non-blocking ones only try the lock, and its close of such a
 * channel runs on a core thread while it serves its calls
 * (xn_close_serving).  If the owner env is gone, the step fails with
 * ERUNTIME (the value is dropped, the error reported on stderr).
 *
 * A JS exception in a step fails the step; the channel's onError (or, by
 * default, a process warning) receives it, as core.async's ex-handler.
 * Steps run while the channel's step lock is held: a step must not operate
 * on its own channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

enum { XF_MAP = 1, XF_FILTER = 2, XF_CUSTOM = 3 };

/* The channel's error handler state, shared by the JS steps of one channel
 * (or of a pipeline's per-element transforms). */
struct xn_errh {
	atomic_int refs;
	xenv *e;
	xn_ref *on_error; /* NULL: report as a process warning */
};

typedef struct xn_xf {
	int mode;
	xenv *e;
	xn_ref *fn;    /* map/filter: the function; custom: the state object */
	xn_ref *push;  /* custom: the push function */
	xn_errh *errh; /* shared */
	xchan_emit *cur;
} xn_xf;

static _Thread_local xn_xf *tl_step; /* the custom step running here */

static void
errh_release(xn_errh *h)
{
	if (atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	if (h->on_error != NULL)
		xn_ref_release(h->on_error);
	xenv_release(h->e);
	free(h);
}

/* On e's own JS thread (alive: xn_current_env is cleared at teardown). */
static bool
on_owner_thread(xenv *e)
{
	return xn_current_env() == e;
}

static void
fail_foreign(xchan_emit *out)
{
	xchan_val err;
	static const char msg[] =
	    "ERUNTIME: this channel's transform is JavaScript of a thread "
	    "that has ended; the value is dropped";
	if (xchan_val_string(&err, msg, sizeof msg - 1) == XCHAN_OK)
		xchan_emit_fail(out, err);
	else
		xchan_emit_fail(out, xchan_val_int(XCHAN_ERUNTIME));
}

/* Fails the step with the pending JS exception. */
static int32_t
fail_exception(napi_env env, xenv *e, xchan_emit *out)
{
	napi_value exc;
	xchan_val ev;
	napi_get_and_clear_last_exception(env, &exc);
	if (!xn_to_val(env, e, exc, &ev)) {
		napi_get_and_clear_last_exception(env, &exc);
		static const char msg[] = "a transform step threw";
		if (xchan_val_string(&ev, msg, sizeof msg - 1) != XCHAN_OK)
			ev = xchan_val_int(XCHAN_EXFORM);
	}
	xchan_emit_fail(out, ev);
	return XCHAN_STEP_FAILED;
}

static int32_t
push_js(napi_env env, xenv *e, napi_value v, xchan_emit *out)
{
	xchan_val x;
	if (!xn_to_val(env, e, v, &x))
		return fail_exception(env, e, out);
	return xchan_emit_push(out, x);
}

/* A step, complete or error handler asked of the owner by another thread. */
typedef struct xf_call {
	xn_jscall call; /* first */
	void *state;
	xchan_val in;
	xchan_emit *out;
	int32_t rc;
} xf_call;

static int32_t xf_step_js(xn_xf *xf, xchan_val in, xchan_emit *out);
static int32_t xf_complete_js(xn_xf *xf, xchan_emit *out);
static xchan_val on_error_js(xn_errh *h, xchan_val error);

static void
run_step(napi_env env, xenv *e, xn_jscall *c)
{
	xf_call *x = (xf_call *)c;
	x->rc = xf_step_js(x->state, x->in, x->out);
}

static void
run_complete(napi_env env, xenv *e, xn_jscall *c)
{
	xf_call *x = (xf_call *)c;
	x->rc = xf_complete_js(x->state, x->out);
}

static void
run_on_error(napi_env env, xenv *e, xn_jscall *c)
{
	xf_call *x = (xf_call *)c;
	x->in = on_error_js(x->state, x->in); /* error in, result out */
}

static int32_t
xf_step(void *state, xchan_val in, xchan_emit *out)
{
	xn_xf *xf = state;
	if (on_owner_thread(xf->e))
		return xf_step_js(xf, in, out);
	xf_call x = {.call.run = run_step, .state = xf, .in = in, .out = out};
	if (xn_jscall_do(xf->e, &x.call) != XCHAN_OK) {
		xchan_val_release(in);
		fail_foreign(out);
		return XCHAN_STEP_FAILED;
	}
	return x.rc;
}

static int32_t
xf_complete(void *state, xchan_emit *out)
{
	xn_xf *xf = state;
	if (xf->mode != XF_CUSTOM)
		return XCHAN_STEP_CONTINUE;
	if (on_owner_thread(xf->e))
		return xf_complete_js(xf, out);
	xf_call x = {.call.run = run_complete, .state = xf, .out = out};
	if (xn_jscall_do(xf->e, &x.call) != XCHAN_OK) {
		fail_foreign(out);
		return XCHAN_STEP_FAILED;
	}
	return x.rc;
}

/* Runs on the owner's thread. */
static int32_t
xf_step_js(xn_xf *xf, xchan_val in, xchan_emit *out)
{
	xenv *e = xf->e;
	napi_env env = e->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	int32_t rc;
	xchan_val keep =
	    xf->mode == XF_FILTER ? xchan_val_retain(in) : xchan_val_nil();
	napi_value err = NULL, result, undef, fn;
	napi_value v = xn_from_val_or_error(env, e, in, &err);
	if (v == NULL) {
		xchan_val_release(keep);
		if (err != NULL)
			napi_throw(env, err);
		rc = fail_exception(env, e, out);
		goto done;
	}
	napi_get_undefined(env, &undef);
	fn = xn_ref_value(env, xf->fn);
	if (xf->mode == XF_CUSTOM) {
		napi_value step, argv[2] = {v, xn_ref_value(env, xf->push)};
		xn_xf *saved = tl_step;
		if (napi_get_named_property(env, fn, "step", &step) !=
		    napi_ok) {
			rc = fail_exception(env, e, out);
			goto done;
		}
		xf->cur = out;
		tl_step = xf;
		napi_status s =
		    napi_call_function(env, fn, step, 2, argv, &result);
		tl_step = saved;
		xf->cur = NULL;
		if (s != napi_ok) {
			rc = fail_exception(env, e, out);
			goto done;
		}
		bool stop = false;
		napi_coerce_to_bool(env, result, &result);
		napi_get_value_bool(env, result, &stop);
		rc = stop ? XCHAN_STEP_REDUCED : XCHAN_STEP_CONTINUE;
		goto done;
	}
	if (napi_call_function(env, undef, fn, 1, &v, &result) != napi_ok) {
		xchan_val_release(keep);
		rc = fail_exception(env, e, out);
		goto done;
	}
	if (xf->mode == XF_MAP) {
		rc = push_js(env, e, result, out);
	} else {
		bool pass = false;
		napi_coerce_to_bool(env, result, &result);
		napi_get_value_bool(env, result, &pass);
		if (pass)
			rc = xchan_emit_push(out, keep);
		else {
			xchan_val_release(keep);
			rc = XCHAN_STEP_CONTINUE;
		}
	}
done:
	napi_close_handle_scope(env, scope);
	return rc;
}

static int32_t
xf_complete_js(xn_xf *xf, xchan_emit *out)
{
	xenv *e = xf->e;
	napi_env env = e->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	int32_t rc = XCHAN_STEP_CONTINUE;
	napi_value obj = xn_ref_value(env, xf->fn), complete, result;
	napi_valuetype t = napi_undefined;
	if (napi_get_named_property(env, obj, "complete", &complete) == napi_ok)
		napi_typeof(env, complete, &t);
	if (t == napi_function) {
		napi_value push = xn_ref_value(env, xf->push);
		xn_xf *saved = tl_step;
		xf->cur = out;
		tl_step = xf;
		napi_status s =
		    napi_call_function(env, obj, complete, 1, &push, &result);
		tl_step = saved;
		xf->cur = NULL;
		if (s != napi_ok)
			rc = fail_exception(env, e, out);
	}
	napi_close_handle_scope(env, scope);
	return rc;
}

static void
xf_destroy(void *state)
{
	xn_xf *xf = state;
	if (xf->fn != NULL)
		xn_ref_release(xf->fn);
	if (xf->push != NULL)
		xn_ref_release(xf->push);
	errh_release(xf->errh);
	xenv_release(xf->e);
	free(xf);
}

static const xchan_xform_vtbl xf_vtbl = {sizeof(xchan_xform_vtbl), 0, xf_step,
    xf_complete, xf_destroy};

/* push(v) inside a custom step: emits v; returns true when downstream has
 * stopped (the step should return true too). */
static napi_value
js_push(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value v, r;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &v, NULL, NULL));
	xn_xf *xf = tl_step;
	if (xf == NULL || xf->cur == NULL) {
		xn_throw(env, XCHAN_ESTATE,
		    "push() is only valid while the transform's step or "
		    "complete runs");
		return NULL;
	}
	if (argc < 1)
		napi_get_undefined(env, &v);
	xchan_val x;
	if (!xn_to_val(env, xf->e, v, &x))
		return NULL;
	int32_t rc = xchan_emit_push(xf->cur, x);
	if (rc == XCHAN_STEP_FAILED) {
		xn_throw(env, XCHAN_EXFORM, "downstream of push() failed");
		return NULL;
	}
	napi_get_boolean(env, rc == XCHAN_STEP_REDUCED, &r);
	return r;
}

/* ---- building ------------------------------------------------------------- */

static bool
get_str(napi_env env, napi_value o, const char *k, char *buf, size_t n)
{
	napi_value v;
	size_t len;
	return napi_get_named_property(env, o, k, &v) == napi_ok &&
	       napi_get_value_string_utf8(env, v, buf, n, &len) == napi_ok;
}

static bool
get_count(napi_env env, napi_value o, uint64_t *out)
{
	napi_value v;
	double d;
	if (napi_get_named_property(env, o, "n", &v) != napi_ok ||
	    napi_get_value_double(env, v, &d) != napi_ok || d < 1 ||
	    d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

static xchan_xform *
build(napi_env env, xenv *e, napi_value desc, xn_errh *errh, bool *js)
{
	char type[32] = "";
	xchan_xform *x = NULL;
	int32_t rc = XCHAN_OK;
	if (!get_str(env, desc, "type", type, sizeof type)) {
		xn_throw(env, XCHAN_EINVAL,
		    "not a transform: use xf.map(f), xf.filter(p), xf.take(n), "
		    "xf.partitionAll(n), xf.comp(...)");
		return NULL;
	}
	if (strcmp(type, "take") == 0 || strcmp(type, "partitionAll") == 0) {
		uint64_t n;
		if (!get_count(env, desc, &n)) {
			xn_throw(env, XCHAN_EINVAL,
			    "xf.take(n) / xf.partitionAll(n) need an integer "
			    "n >= 1");
			return NULL;
		}
		rc = type[0] == 't' ? xchan_xform_take(&x, n)
		                    : xchan_xform_partition_all(&x, n);
	} else if (strcmp(type, "comp") == 0) {
		napi_value items;
		uint32_t n = 0;
		napi_get_named_property(env, desc, "items", &items);
		if (napi_get_array_length(env, items, &n) != napi_ok ||
		    n == 0) {
			xn_throw(env, XCHAN_EINVAL,
			    "xf.comp() needs at least one transform");
			return NULL;
		}
		xchan_xform **parts = calloc(n, sizeof *parts);
		if (parts == NULL) {
			xn_throw(env, XCHAN_ENOMEM, NULL);
			return NULL;
		}
		for (uint32_t i = 0; i < n; i++) {
			napi_value it;
			napi_get_element(env, items, i, &it);
			parts[i] = build(env, e, it, errh, js);
			if (parts[i] == NULL) {
				for (uint32_t j = 0; j < i; j++)
					xchan_xform_free(parts[j]);
				free(parts);
				return NULL;
			}
		}
		rc = xchan_xform_comp(&x, parts, n);
		free(parts);
	} else {
		int mode = strcmp(type, "map") == 0      ? XF_MAP
		           : strcmp(type, "filter") == 0 ? XF_FILTER
		           : strcmp(type, "custom") == 0 ? XF_CUSTOM
		                                         : 0;
		if (mode == 0) {
			xn_throw(env, XCHAN_EINVAL, "unknown transform type");
			return NULL;
		}
		napi_value fn, obj;
		napi_valuetype t;
		napi_get_named_property(env, desc, "fn", &fn);
		napi_typeof(env, fn, &t);
		if (t != napi_function) {
			xn_throw(env, XCHAN_EINVAL,
			    "this transform needs a function");
			return NULL;
		}
		obj = fn;
		if (mode == XF_CUSTOM) {
			/* fn is the factory: one state object per channel. */
			napi_value undef;
			napi_get_undefined(env, &undef);
			if (napi_call_function(env, undef, fn, 0, NULL, &obj) !=
			    napi_ok)
				return NULL;
			napi_value step;
			napi_typeof(env, obj, &t);
			if (t != napi_object ||
			    napi_get_named_property(env, obj, "step", &step) !=
			        napi_ok ||
			    napi_typeof(env, step, &t) != napi_ok ||
			    t != napi_function) {
				xn_throw(env, XCHAN_EINVAL,
				    "a custom transform's factory must return "
				    "{step(v, push), complete?(push)}");
				return NULL;
			}
		}
		xn_xf *xf = calloc(1, sizeof *xf);
		if (xf == NULL) {
			xn_throw(env, XCHAN_ENOMEM, NULL);
			return NULL;
		}
		xf->mode = mode;
		xf->e = e;
		xenv_retain(e);
		xf->errh = errh;
		atomic_fetch_add(&errh->refs, 1);
		xf->fn = xn_ref_new(env, e, obj);
		if (mode == XF_CUSTOM) {
			napi_value push;
			if (napi_create_function(env, "push", NAPI_AUTO_LENGTH,
			        js_push, NULL, &push) == napi_ok)
				xf->push = xn_ref_new(env, e, push);
		}
		if (xf->fn == NULL || (mode == XF_CUSTOM && xf->push == NULL)) {
			xf_destroy(xf);
			xn_throw(env, XCHAN_ENOMEM, NULL);
			return NULL;
		}
		*js = true;
		rc = xchan_xform_new(&x, &xf_vtbl, xf); /* destroys on error */
	}
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return x;
}

/* The channel's error handler: runs on the thread whose step failed, and
 * calls the JS handler on the owner's thread. */
xchan_val
xn_on_error(void *user, xchan_val error)
{
	xn_errh *h = user;
	if (on_owner_thread(h->e))
		return on_error_js(h, error);
	xf_call x = {.call.run = run_on_error, .state = h, .in = error};
	if (xn_jscall_do(h->e, &x.call) == XCHAN_OK)
		return x.in;
	{
		const char *s = NULL;
		size_t len = 0;
		if (xchan_get_string(error, &s, &len) != XCHAN_OK)
			s = "a transform step failed", len = strlen(s);
		fprintf(stderr, "xchan: %.*s\n", (int)len, s);
		xchan_val_release(error);
		return xchan_val_nil();
	}
}

static xchan_val
on_error_js(xn_errh *h, xchan_val error)
{
	xenv *e = h->e;
	napi_env env = e->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	xchan_val out = xchan_val_nil();
	napi_value err = NULL, ev = xn_from_val_or_error(env, e, error, &err);
	if (ev == NULL)
		ev = err;
	napi_value report, undef, argv[2], result;
	napi_get_undefined(env, &undef);
	argv[0] = ev != NULL ? ev : undef;
	argv[1] = h->on_error != NULL ? xn_ref_value(env, h->on_error) : undef;
	if (napi_get_reference_value(env, e->report_xf, &report) == napi_ok &&
	    napi_call_function(env, undef, report, 2, argv, &result) ==
	        napi_ok) {
		napi_valuetype t;
		napi_typeof(env, result, &t);
		if (t != napi_undefined && t != napi_null &&
		    !xn_to_val(env, e, result, &out))
			out = xchan_val_nil();
	}
	/* An exception from onError itself cannot propagate through the
	 * core: report it as uncaught. */
	xn_report_uncaught(env);
	napi_close_handle_scope(env, scope);
	return out;
}

/* Builds the transform of a new channel.  *js tells whether it runs JS;
 * then *on_error_user receives the error handler state, owned by the
 * transform's JS steps (freed with the channel's transform). */
xn_errh *
xn_errh_new(napi_env env, xenv *e, napi_value on_error)
{
	napi_valuetype t = napi_undefined;
	if (on_error != NULL)
		napi_typeof(env, on_error, &t);
	if (t != napi_undefined && t != napi_null && t != napi_function) {
		xn_throw(env, XCHAN_EINVAL, "onError must be a function");
		return NULL;
	}
	xn_errh *h = calloc(1, sizeof *h);
	if (h == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	atomic_init(&h->refs, 1);
	h->e = e;
	xenv_retain(e);
	if (t == napi_function &&
	    (h->on_error = xn_ref_new(env, e, on_error)) == NULL) {
		errh_release(h);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	return h;
}

void
xn_errh_release(xn_errh *h)
{
	errh_release(h);
}

xchan_xform *
xn_build_xform_errh(napi_env env, xenv *e, napi_value desc, xn_errh *h,
    bool *js)
{
	*js = false;
	return build(env, e, desc, h, js);
}

xchan_xform *
xn_build_xform(napi_env env, xenv *e, napi_value desc, napi_value on_error,
    bool *js, void **on_error_user)
{
	xn_errh *h = xn_errh_new(env, e, on_error);
	if (h == NULL)
		return NULL;
	*js = false;
	xchan_xform *x = build(env, e, desc, h, js);
	*on_error_user = *js ? h : NULL;
	errh_release(h); /* the JS steps hold their own references */
	return x;
}

/* isNativeXform(desc): true when desc has no JS step (it can run on any
 * thread, e.g. in the core's pipelines). */
static bool
native_only(napi_env env, napi_value desc)
{
	char type[32] = "";
	if (!get_str(env, desc, "type", type, sizeof type))
		return false;
	if (strcmp(type, "take") == 0 || strcmp(type, "partitionAll") == 0)
		return true;
	if (strcmp(type, "comp") != 0)
		return false;
	napi_value items;
	uint32_t n = 0;
	napi_get_named_property(env, desc, "items", &items);
	napi_get_array_length(env, items, &n);
	for (uint32_t i = 0; i < n; i++) {
		napi_value it;
		napi_get_element(env, items, i, &it);
		if (!native_only(env, it))
			return false;
	}
	return n > 0;
}

static napi_value
js_is_native_xform(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value v, r;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, &v, NULL, NULL));
	napi_get_boolean(env, argc == 1 && native_only(env, v), &r);
	return r;
}

napi_status
xn_init_xform(napi_env env, napi_value exports)
{
	return xn_export_fn(env, exports, "isNativeXform", js_is_native_xform);
}
