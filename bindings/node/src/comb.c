/*
 * comb.c — the core's combinators that take no JS callback: pipe, mult,
 * mix, merge, take(n), into, onto-chan, to-chan, and pipelines whose
 * transform is native (xf.take / xf.partitionAll, composed).  Their
 * processes run on the core's threads.  Combinators with JS callbacks
 * (map, split, reduce, transduce, pub, pipelines of JS transforms) are in
 * lib/flow.js: JS code can only run on its own thread.
 *
 * Buffer specs from JS are {bufKind, capacity} objects (lib/buffers.js).
 * mult/mix handles are externals that drop their reference when collected
 * (the process keeps running, as the core specifies).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"
#include "args.h"

/* Reads a buffer spec into *o; returns a pointer to it, or NULL for an
 * unbuffered default.  Sets *ok = false (thrown) on bad input. */
static const xchan_chan_opts *
buf_opts(napi_env env, napi_value spec, xchan_chan_opts *o, bool *ok)
{
	*ok = true;
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	if (xn_is_nullish(env, spec))
		return NULL;
	napi_value k, c;
	double cap = 0;
	if (napi_get_named_property(env, spec, "bufKind", &k) != napi_ok ||
	    napi_get_value_uint32(env, k, &o->buf_kind) != napi_ok ||
	    napi_get_named_property(env, spec, "capacity", &c) != napi_ok ||
	    napi_get_value_double(env, c, &cap) != napi_ok || cap < 0) {
		xn_throw(env, XCHAN_EINVAL,
		    "a buffer is a number, dropping(n), sliding(n) or "
		    "undefined");
		*ok = false;
		return NULL;
	}
	o->capacity = (uint64_t)cap;
	return o;
}

xchan_chan **
xn_chan_array(napi_env env, napi_value arr, const char *not_array, size_t *n)
{
	uint32_t len = 0;
	bool is_arr = false;
	napi_is_array(env, arr, &is_arr);
	if (!is_arr || napi_get_array_length(env, arr, &len) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL, not_array);
		return NULL;
	}
	xchan_chan **chans = calloc(len ? len : 1, sizeof *chans);
	if (chans == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	for (uint32_t i = 0; i < len; i++) {
		napi_value x;
		xn_chan *c;
		napi_get_element(env, arr, i, &x);
		if (!xn_arg_chan(env, x, &c)) {
			free(chans);
			return NULL;
		}
		chans[i] = c->ch;
	}
	*n = len;
	return chans;
}

/* JS values array -> xchan values (owned), *n of them; NULL (thrown:
 * EINVAL `not_array` when arr is no array) on a bad element.  With nil_ok a
 * null/undefined item is nil (else xn_to_val's ENIL). */
static xchan_val *
val_array(napi_env env, xenv *e, napi_value arr, const char *not_array,
    bool nil_ok, size_t *n)
{
	uint32_t len = 0;
	bool is_arr = false;
	napi_is_array(env, arr, &is_arr);
	if (!is_arr || napi_get_array_length(env, arr, &len) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL, not_array);
		return NULL;
	}
	xchan_val *vals = calloc(len ? len : 1, sizeof *vals);
	if (vals == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	for (uint32_t i = 0; i < len; i++) {
		napi_value x;
		napi_get_element(env, arr, i, &x);
		if (nil_ok && xn_is_nullish(env, x)) {
			vals[i] = xchan_val_nil();
		} else if (!xn_to_val(env, e, x, &vals[i])) {
			for (uint32_t j = 0; j < i; j++)
				xchan_val_release(vals[j]);
			free(vals);
			return NULL;
		}
	}
	*n = len;
	return vals;
}

/* pipe(from, to, close) -> done */
static napi_value
js_pipe(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xn_chan *from, *to;
	if (!xn_arg_chan(env, argv[0], &from) ||
	    !xn_arg_chan(env, argv[1], &to))
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc =
	    xchan_pipe(&done, from->ch, to->ch, xn_flag(env, argv[2], true));
	return xn_chan_or_throw(env, rc, done);
}

/* ---- mult ------------------------------------------------------------------ */

static void
mult_finalize(napi_env env, void *data, void *hint)
{
	xchan_mult_release(data);
}

static void
mix_finalize(napi_env env, void *data, void *hint)
{
	xchan_mix_release(data);
}

napi_value
xn_handle_and_done(napi_env env, void *obj, napi_finalize fin, xchan_chan *done)
{
	napi_value h;
	if (napi_create_external(env, obj, fin, NULL, &h) != napi_ok) {
		fin(env, obj, NULL);
		xchan_chan_release(done);
		xn_throw_last(env);
		return NULL;
	}
	return XN_ARRAY(env, h, xn_chan_external(env, done));
}

static bool
get_handle(napi_env env, napi_value v, void **out)
{
	if (napi_get_value_external(env, v, out) != napi_ok || *out == NULL) {
		xn_throw(env, XCHAN_EINVAL, "expected a mult or mix handle");
		return false;
	}
	return true;
}

/* mult(src) -> [handle, done] */
static napi_value
js_mult(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *src;
	if (!xn_arg_chan(env, argv[0], &src))
		return NULL;
	xchan_mult *m = NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_mult_new(&m, &done, src->ch);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return xn_handle_and_done(env, m, mult_finalize, done);
}

/* multOp(handle, op, ch?, close?) op: 0 tap, 1 untap, 2 untapAll */
static napi_value
js_mult_op(napi_env env, napi_callback_info info)
{
	ARGS(4);
	void *m;
	uint32_t op = 0;
	xn_chan *c = NULL;
	if (!get_handle(env, argv[0], &m))
		return NULL;
	napi_get_value_uint32(env, argv[1], &op);
	if (op != 2 && !xn_arg_chan(env, argv[2], &c))
		return NULL;
	int32_t rc = op == 0
	                 ? xchan_mult_tap(m, c->ch, xn_flag(env, argv[3], true))
	             : op == 1 ? xchan_mult_untap(m, c->ch)
	                       : xchan_mult_untap_all(m);
	if (rc != XCHAN_OK)
		xn_throw(env, rc, NULL);
	return NULL;
}

/* ---- mix ------------------------------------------------------------------- */

/* mix(out) -> [handle, done] */
static napi_value
js_mix(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *out;
	if (!xn_arg_chan(env, argv[0], &out))
		return NULL;
	xchan_mix *m = NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_mix_new(&m, &done, out->ch);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return xn_handle_and_done(env, m, mix_finalize, done);
}

/* mixOp(handle, op, arg?) op: 0 admix(ch), 1 unmix(ch), 2 unmixAll,
 * 3 soloMode(mode), 4 get(ch) -> flags, 5 toggle([[ch, mask, flags]...]) */
static napi_value
js_mix_op(napi_env env, napi_callback_info info)
{
	ARGS(3);
	void *m;
	uint32_t op = 0;
	xn_chan *c = NULL;
	int32_t rc = XCHAN_OK;
	napi_value ret = NULL;
	if (!get_handle(env, argv[0], &m))
		return NULL;
	napi_get_value_uint32(env, argv[1], &op);
	if ((op == 0 || op == 1 || op == 4) && !xn_arg_chan(env, argv[2], &c))
		return NULL;
	switch (op) {
	case 0:
		rc = xchan_mix_admix(m, c->ch);
		break;
	case 1:
		rc = xchan_mix_unmix(m, c->ch);
		break;
	case 2:
		rc = xchan_mix_unmix_all(m);
		break;
	case 3: {
		uint32_t mode = 0;
		napi_get_value_uint32(env, argv[2], &mode);
		rc = xchan_mix_solo_mode(m, mode);
		break;
	}
	case 4: {
		uint32_t flags = 0;
		rc = xchan_mix_get(&flags, m, c->ch);
		if (rc == XCHAN_OK)
			napi_create_uint32(env, flags, &ret);
		break;
	}
	case 5: {
		uint32_t n = 0;
		if (napi_get_array_length(env, argv[2], &n) != napi_ok) {
			rc = XCHAN_EINVAL;
			break;
		}
		xchan_mix_toggle_entry *ents = calloc(n ? n : 1, sizeof *ents);
		if (ents == NULL) {
			rc = XCHAN_ENOMEM;
			break;
		}
		for (uint32_t i = 0; i < n && rc == XCHAN_OK; i++) {
			napi_value t, x;
			napi_get_element(env, argv[2], i, &t);
			napi_get_element(env, t, 0, &x);
			if (!xn_arg_chan(env, x, &c)) {
				free(ents);
				return NULL;
			}
			ents[i].chan = c->ch;
			napi_get_element(env, t, 1, &x);
			napi_get_value_uint32(env, x, &ents[i].mask);
			napi_get_element(env, t, 2, &x);
			napi_get_value_uint32(env, x, &ents[i].flags);
		}
		rc = xchan_mix_toggle(m, ents, n);
		free(ents);
		break;
	}
	default:
		rc = XCHAN_EINVAL;
	}
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return ret;
}

/* ---- merge, take(n), into, onto-chan, to-chan -------------------------------- */

/* merge(chans, buf?) -> [out, done] */
static napi_value
js_merge(napi_env env, napi_callback_info info)
{
	ARGS(2);
	size_t n = 0;
	bool ok;
	xchan_chan_opts o;
	const xchan_chan_opts *po = buf_opts(env, argv[1], &o, &ok);
	if (!ok)
		return NULL;
	xchan_chan **chans =
	    xn_chan_array(env, argv[0], "expected an array of Chans", &n);
	if (chans == NULL)
		return NULL;
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_merge(&out, &done, chans, n, po);
	free(chans);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return XN_ARRAY(env, xn_chan_external(env, out),
	    xn_chan_external(env, done));
}

/* takeN(src, n, buf?) -> [out, done] */
static napi_value
js_take_n(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xn_chan *src;
	double n;
	bool ok;
	xchan_chan_opts o;
	if (!xn_arg_chan(env, argv[0], &src))
		return NULL;
	if (napi_get_value_double(env, argv[1], &n) != napi_ok || n < 0 ||
	    n != (double)(uint64_t)n) {
		xn_throw(env, XCHAN_EINVAL,
		    "take(n, ch): n must be an integer >= 0");
		return NULL;
	}
	const xchan_chan_opts *po = buf_opts(env, argv[2], &o, &ok);
	if (!ok)
		return NULL;
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_take_n(&out, &done, src->ch, (uint64_t)n, po);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return XN_ARRAY(env, xn_chan_external(env, out),
	    xn_chan_external(env, done));
}

/* into(src, init[]) -> chan of one array */
static napi_value
js_into(napi_env env, napi_callback_info info)
{
	ARGS(2);
	xenv *e = xn_env(env);
	xn_chan *src;
	if (!xn_arg_chan(env, argv[0], &src))
		return NULL;
	xchan_val init = xchan_val_nil();
	bool is_arr = false;
	napi_is_array(env, argv[1], &is_arr);
	if (!xn_is_nullish(env, argv[1]) && !is_arr) {
		/* Not an array: the core judges the value (XCHAN_ETYPE). */
		if (!xn_to_val(env, e, argv[1], &init))
			return NULL;
	} else if (!xn_is_nullish(env, argv[1])) {
		size_t n = 0;
		xchan_val *vals = val_array(env, e, argv[1],
		    "expected an array of values", false, &n);
		if (vals == NULL)
			return NULL;
		int32_t rc = xchan_val_array(&init, vals, n);
		free(vals);
		if (rc != XCHAN_OK) {
			xn_throw(env, rc, NULL);
			return NULL;
		}
	}
	xchan_chan *out = NULL;
	int32_t rc = xchan_into(&out, src->ch, init);
	return xn_chan_or_throw(env, rc, out);
}

/* ontoChan(ch, values[], close) -> done */
static napi_value
js_onto_chan(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xn_chan *c;
	size_t n = 0;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	xchan_val *vals = val_array(env, xn_env(env), argv[1],
	    "expected an array of values", false, &n);
	if (vals == NULL)
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc =
	    xchan_onto_chan(&done, c->ch, vals, n, xn_flag(env, argv[2], true));
	free(vals);
	return xn_chan_or_throw(env, rc, done);
}

/* toChan(values[]) -> chan */
static napi_value
js_to_chan(napi_env env, napi_callback_info info)
{
	ARGS(1);
	size_t n = 0;
	xchan_val *vals = val_array(env, xn_env(env), argv[0],
	    "expected an array of values", false, &n);
	if (vals == NULL)
		return NULL;
	xchan_chan *out = NULL;
	int32_t rc = xchan_to_chan(&out, vals, n);
	free(vals);
	return xn_chan_or_throw(env, rc, out);
}

/* makeArray(values[]) -> opaque ARRAY value (a tuple C reads as an array).
 * A null/undefined item is passed to the core as nil: xchan_val_array
 * answers EINVAL (an array may not hold nil). */
static napi_value
js_make_array(napi_env env, napi_callback_info info)
{
	ARGS(1);
	size_t n = 0;
	xchan_val *vals = val_array(env, xn_env(env), argv[0],
	    "tuple(items): items is an array", true, &n);
	if (vals == NULL)
		return NULL;
	xchan_val arr;
	int32_t rc = xchan_val_array(&arr, vals, n); /* takes the items */
	free(vals);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return xn_opaque_new(env, arr);
}

/* ---- pipelines of native transforms ---------------------------------------- */

/* A native transform recipe: a flat list of (take|partitionAll, n), composed
 * in order.  The factory builds a fresh transform from it on any thread. */
typedef struct recipe {
	size_t n;
	struct {
		int take;
		uint64_t n;
	} parts[];
} recipe;

static bool
recipe_add(napi_env env, napi_value desc, recipe **r, size_t *cap)
{
	char type[32] = "";
	napi_value v;
	size_t len;
	if (napi_get_named_property(env, desc, "type", &v) != napi_ok ||
	    napi_get_value_string_utf8(env, v, type, sizeof type, &len) !=
	        napi_ok)
		return false;
	if (strcmp(type, "comp") == 0) {
		napi_value items;
		uint32_t n = 0;
		napi_get_named_property(env, desc, "items", &items);
		napi_get_array_length(env, items, &n);
		for (uint32_t i = 0; i < n; i++) {
			napi_value it;
			napi_get_element(env, items, i, &it);
			if (!recipe_add(env, it, r, cap))
				return false;
		}
		return true;
	}
	double d;
	if (napi_get_named_property(env, desc, "n", &v) != napi_ok ||
	    napi_get_value_double(env, v, &d) != napi_ok || d < 1)
		return false;
	if ((*r)->n == *cap) {
		size_t nc = *cap * 2;
		recipe *g =
		    realloc(*r, sizeof(recipe) + nc * sizeof((*r)->parts[0]));
		if (g == NULL)
			return false;
		*r = g;
		*cap = nc;
	}
	(*r)->parts[(*r)->n].take = strcmp(type, "take") == 0;
	(*r)->parts[(*r)->n].n = (uint64_t)d;
	(*r)->n++;
	return true;
}

static int32_t
recipe_factory(void *user, xchan_xform **out)
{
	recipe *r = user;
	xchan_xform *parts[64];
	size_t n = r->n < 64 ? r->n : 64;
	for (size_t i = 0; i < n; i++) {
		int32_t rc =
		    r->parts[i].take
		        ? xchan_xform_take(&parts[i], r->parts[i].n)
		        : xchan_xform_partition_all(&parts[i], r->parts[i].n);
		if (rc != XCHAN_OK) {
			for (size_t j = 0; j < i; j++)
				xchan_xform_free(parts[j]);
			return rc;
		}
	}
	if (n == 1) {
		*out = parts[0];
		return XCHAN_OK;
	}
	return xchan_xform_comp(out, parts, n);
}

bool
xn_pipeline_args(napi_env env, const napi_value *argv, const char *what,
    uint32_t *n, xn_chan **to, xn_chan **from)
{
	if (napi_get_value_uint32(env, argv[0], n) != napi_ok || *n == 0) {
		char msg[64];
		snprintf(msg, sizeof msg, "%s: n must be >= 1", what);
		xn_throw(env, XCHAN_EINVAL, msg);
		return false;
	}
	return xn_arg_chan(env, argv[1], to) && xn_arg_chan(env, argv[3], from);
}

/* Frees the recipe when the pipeline's done channel closes. */
static void
recipe_done(void *user, xchan_result *res)
{
	free(user);
}

/* pipeline(n, to, xfDesc, from, close, blocking) -> done */
static napi_value
js_pipeline(napi_env env, napi_callback_info info)
{
	ARGS(6);
	uint32_t n = 0;
	xn_chan *to, *from;
	if (!xn_pipeline_args(env, argv, "pipeline", &n, &to, &from))
		return NULL;
	size_t cap = 4;
	recipe *r = calloc(1, sizeof(recipe) + cap * sizeof(r->parts[0]));
	if (r == NULL || !recipe_add(env, argv[2], &r, &cap) || r->n == 0 ||
	    r->n > 64) {
		free(r);
		xn_throw(env, XCHAN_EINVAL,
		    "pipeline: this transform is not native");
		return NULL;
	}
	xchan_chan *done = NULL;
	int32_t rc =
	    (xn_flag(env, argv[5], false) ? xchan_pipeline_blocking
	                                  : xchan_pipeline)(&done, n, to->ch,
	        from->ch, xn_flag(env, argv[4], true), recipe_factory, r, NULL);
	if (rc != XCHAN_OK) {
		free(r);
		xn_throw(env, rc, NULL);
		return NULL;
	}
	/* The done channel closing means the factory is no longer used. */
	if (xchan_take_async(NULL, done, 0, recipe_done, r) != XCHAN_OK) {
		/* Cannot happen for a fresh channel; the recipe then leaks
		 * rather than being freed under a running pipeline. */
	}
	return xn_chan_external(env, done);
}

napi_status
xn_init_comb(napi_env env, napi_value exports)
{
	static const xn_fn_entry fns[] = {{"pipe", js_pipe}, {"mult", js_mult},
	    {"multOp", js_mult_op}, {"mix", js_mix}, {"mixOp", js_mix_op},
	    {"merge", js_merge}, {"takeN", js_take_n}, {"into", js_into},
	    {"ontoChan", js_onto_chan}, {"toChan", js_to_chan},
	    {"makeArray", js_make_array}, {"pipeline", js_pipeline}};
	return XN_EXPORT_TABLE(env, exports, fns);
}

const xchan_chan_opts *
xn_buf_opts(napi_env env, napi_value spec, xchan_chan_opts *o, bool *ok)
{
	return buf_opts(env, spec, o, ok);
}
