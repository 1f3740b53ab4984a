/*
 * xform.c — transforms: the emit sink, composition, and the built-in
 * transforms (map, filter, mapcat, take, partition_all, repeat).
 *
 * A transform's state is only touched by its channel's step_lock holder
 * (chan_xform.c), so nothing here locks.
 */
#include <string.h>

#include "chan.h"
#include "log.h"
#include "task.h"
#include "val.h"

struct xchan_xform {
	xchan_xform_vtbl vt;
	void *state;
};

/* An emit either collects into the root output list or forwards into the
 * next transform of a composition. */
struct xchan_emit {
	xchan__outs *root;
	xchan_xform *next;    /* NULL: collect */
	xchan_emit *next_out; /* where `next` emits */
};

/* ---- output list ------------------------------------------------------------- */

void
xchan__outs_init(xchan__outs *o)
{
	o->v = o->inline_v;
	o->n = 0;
	o->cap = sizeof(o->inline_v) / sizeof(o->inline_v[0]);
	o->failed = 0;
	o->oom_dropped = 0;
	o->error = xchan_val_nil();
}

int32_t
xchan__outs_push(xchan__outs *o, xchan_val v)
{
	if (o->n == o->cap) {
		size_t ncap = o->cap * 2;
		xchan_val *nv = xchan__alloc(ncap * sizeof(xchan_val));
		if (nv == NULL) {
			xchan_val_release(v);
			return XCHAN_ENOMEM;
		}
		memcpy(nv, o->v, o->n * sizeof(xchan_val));
		if (o->v != o->inline_v)
			xchan__free(o->v, o->cap * sizeof(xchan_val));
		o->v = nv;
		o->cap = ncap;
	}
	o->v[o->n++] = v;
	return XCHAN_OK;
}

void
xchan__outs_free(xchan__outs *o)
{
	if (XCHAN_UNLIKELY(o->oom_dropped))
		xchan__log_later(XCHAN_LOG_ERROR,
		    "out of memory: %u transform outputs dropped",
		    o->oom_dropped);
	xchan__vals_release(o->v, o->n);
	if (o->v != o->inline_v)
		xchan__free(o->v, o->cap * sizeof(xchan_val));
	xchan_val_release(o->error);
	xchan__outs_init(o);
}

static void
set_error_text(xchan__outs *o, const char *msg)
{
	xchan_val e = xchan_val_nil();
	xchan_val_string(&e, msg, strlen(msg));
	xchan_val_release(o->error);
	o->error = e;
	o->failed = 1;
}

/* ---- emit ---------------------------------------------------------------------- */

int32_t
xchan_emit_push(xchan_emit *e, xchan_val v)
{
	if (e == NULL)
		return XCHAN_STEP_FAILED;
	if (v.kind == XCHAN_NIL) {
		set_error_text(e->root, "transform emitted nil");
		return XCHAN_STEP_FAILED;
	}
	if (e->next)
		return e->next->vt.step(e->next->state, v, e->next_out);
	if (xchan__outs_push(e->root, v) != XCHAN_OK) {
		set_error_text(e->root, "out of memory in transform");
		return XCHAN_STEP_FAILED;
	}
	return XCHAN_STEP_CONTINUE;
}

void
xchan_emit_fail(xchan_emit *e, xchan_val error)
{
	if (e == NULL) {
		xchan_val_release(error);
		return;
	}
	xchan_val_release(e->root->error);
	e->root->error = error;
	e->root->failed = 1;
}

static int32_t
normalize(int32_t r, xchan__outs *o)
{
	if (r == XCHAN_STEP_FAILED && !o->failed)
		set_error_text(o, "transform step failed");
	if (r != XCHAN_STEP_CONTINUE && r != XCHAN_STEP_REDUCED &&
	    r != XCHAN_STEP_FAILED) {
		set_error_text(o, "transform step returned an unknown result");
		r = XCHAN_STEP_FAILED;
	}
	return r;
}

int32_t
xchan__xform_step(xchan_xform *xf, xchan_val in, xchan__outs *o)
{
	xchan_emit e = {o, NULL, NULL};
	return normalize(xf->vt.step(xf->state, in, &e), o);
}

int32_t
xchan__xform_finish(xchan_xform *xf, xchan__outs *o)
{
	if (xf->vt.complete == NULL)
		return XCHAN_STEP_CONTINUE;
	xchan_emit e = {o, NULL, NULL};
	return normalize(xf->vt.complete(xf->state, &e), o);
}

/* ---- objects --------------------------------------------------------------------- */

int32_t
xchan_xform_new(xchan_xform **out, const xchan_xform_vtbl *vt, void *state)
{
	xchan_xform_vtbl v;
	if (out == NULL || vt == NULL ||
	    !xchan__struct_in(&v, sizeof(v), vt, XCHAN__XFORM_VTBL_V1_SIZE) ||
	    v.step == NULL)
		return XCHAN_EINVAL;
	*out = NULL;
	xchan_xform *xf = xchan__alloc(sizeof(*xf));
	if (xf == NULL) {
		if (v.destroy)
			v.destroy(state);
		return XCHAN_ENOMEM;
	}
	xf->vt = v;
	xf->state = state;
	*out = xf;
	return XCHAN_OK;
}

static void
run_destroy(void *arg)
{
	xchan_xform *xf = arg;
	xf->vt.destroy(xf->state);
}

void
xchan_xform_free(xchan_xform *xf)
{
	if (xf == NULL)
		return;
	/* A go task dropping a channel's last reference frees its transform:
	 * destroy is user code (a host runtime's), so it runs on the worker's
	 * own stack, like the steps (chan_xform.c). */
	if (xf->vt.destroy)
		xchan__on_thread_stack(run_destroy, xf);
	xchan__free(xf, sizeof(*xf));
}

/* A built-in's state is one small heap block freed by free_state. */
typedef struct fn_state {
	size_t size;
	union {
		xchan_map_fn map;
		xchan_pred_fn pred;
		xchan_mapcat_fn mapcat;
	} fn;
	void *user;
	uint64_t n, seen;
	xchan_val *items; /* partition_all */
} fn_state;

static void
free_state(void *p)
{
	fn_state *s = p;
	if (s->items) {
		xchan__vals_release(s->items, s->seen);
		xchan__free(s->items, s->n * sizeof(xchan_val));
	}
	xchan__free(s, sizeof(*s));
}

static int32_t
make_builtin(xchan_xform **out,
    int32_t (*step)(void *, xchan_val, xchan_emit *),
    int32_t (*complete)(void *, xchan_emit *), fn_state **state_out)
{
	if (out == NULL)
		return XCHAN_EINVAL;
	*out = NULL;
	fn_state *s = xchan__zalloc(sizeof(*s));
	if (s == NULL)
		return XCHAN_ENOMEM;
	s->size = sizeof(*s);
	xchan_xform_vtbl vt = {sizeof(vt), 0, step, complete, free_state};
	int32_t err = xchan_xform_new(out, &vt, s);
	if (err == XCHAN_OK)
		*state_out = s;
	return err;
}

static int32_t
map_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	xchan_val r = s->fn.map(s->user, in);
	xchan_val_release(in);
	if (r.kind == XCHAN_NIL) {
		set_error_text(out->root, "map function returned nil");
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(out, r);
}

static int32_t
filter_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	if (s->fn.pred(s->user, in))
		return xchan_emit_push(out, in);
	xchan_val_release(in);
	return XCHAN_STEP_CONTINUE;
}

static int32_t
mapcat_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	int32_t r = s->fn.mapcat(s->user, in, out);
	xchan_val_release(in);
	return r;
}

static int32_t
take_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	if (s->seen >= s->n) {
		xchan_val_release(in);
		return XCHAN_STEP_REDUCED;
	}
	s->seen++;
	int32_t r = xchan_emit_push(out, in);
	if (r == XCHAN_STEP_CONTINUE && s->seen >= s->n)
		r = XCHAN_STEP_REDUCED;
	return r;
}

static int32_t
partition_emit(fn_state *s, xchan_emit *out)
{
	xchan_val arr;
	uint64_t n = s->seen;
	s->seen = 0; /* the array takes the items over, even on failure */
	if (xchan_val_array(&arr, s->items, n) != XCHAN_OK) {
		set_error_text(out->root, "out of memory in partition_all");
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(out, arr);
}

static int32_t
partition_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	s->items[s->seen++] = in;
	if (s->seen < s->n)
		return XCHAN_STEP_CONTINUE;
	return partition_emit(s, out);
}

static int32_t
partition_complete(void *st, xchan_emit *out)
{
	fn_state *s = st;
	if (s->seen == 0)
		return XCHAN_STEP_CONTINUE;
	return partition_emit(s, out);
}

static int32_t
repeat_step(void *st, xchan_val in, xchan_emit *out)
{
	fn_state *s = st;
	for (uint64_t i = 1; i < s->n; i++) {
		int32_t r = xchan_emit_push(out, xchan_val_retain(in));
		if (r != XCHAN_STEP_CONTINUE) {
			xchan_val_release(in);
			return r;
		}
	}
	return xchan_emit_push(out, in);
}

int32_t
xchan_xform_map(xchan_xform **out, xchan_map_fn fn, void *user)
{
	fn_state *s;
	if (fn == NULL)
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, map_step, NULL, &s);
	if (err == XCHAN_OK) {
		s->fn.map = fn;
		s->user = user;
	}
	return err;
}

int32_t
xchan_xform_filter(xchan_xform **out, xchan_pred_fn pred, void *user)
{
	fn_state *s;
	if (pred == NULL)
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, filter_step, NULL, &s);
	if (err == XCHAN_OK) {
		s->fn.pred = pred;
		s->user = user;
	}
	return err;
}

int32_t
xchan_xform_mapcat(xchan_xform **out, xchan_mapcat_fn fn, void *user)
{
	fn_state *s;
	if (fn == NULL)
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, mapcat_step, NULL, &s);
	if (err == XCHAN_OK) {
		s->fn.mapcat = fn;
		s->user = user;
	}
	return err;
}

int32_t
xchan_xform_take(xchan_xform **out, uint64_t n)
{
	fn_state *s;
	if (n == 0)
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, take_step, NULL, &s);
	if (err == XCHAN_OK)
		s->n = n;
	return err;
}

int32_t
xchan_xform_partition_all(xchan_xform **out, uint64_t n)
{
	fn_state *s;
	if (n == 0 || n > (1u << 24))
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, partition_step, partition_complete, &s);
	if (err != XCHAN_OK)
		return err;
	s->items = xchan__alloc(n * sizeof(xchan_val));
	if (s->items == NULL) {
		xchan_xform_free(*out);
		*out = NULL;
		return XCHAN_ENOMEM;
	}
	s->n = n;
	return XCHAN_OK;
}

int32_t
xchan_xform_repeat(xchan_xform **out, uint64_t n)
{
	fn_state *s;
	if (n == 0)
		return XCHAN_EINVAL;
	int32_t err = make_builtin(out, repeat_step, NULL, &s);
	if (err == XCHAN_OK)
		s->n = n;
	return err;
}

/* ---- composition ------------------------------------------------------------------- */

#define COMP_MAX 32

typedef struct comp_state {
	size_t n;
	xchan_xform *xf[COMP_MAX];
} comp_state;

/* Chains emits so stage i emits into stage i+1 and the last into `out`. */
static void
comp_chain(comp_state *c, xchan_emit *e, xchan_emit *out)
{
	for (size_t i = 0; i + 1 < c->n; i++) {
		e[i].root = out->root;
		e[i].next = c->xf[i + 1];
		e[i].next_out = (i + 2 < c->n) ? &e[i + 1] : out;
	}
}

static int32_t
comp_step(void *st, xchan_val in, xchan_emit *out)
{
	comp_state *c = st;
	xchan_emit e[COMP_MAX];
	if (c->n == 1)
		return c->xf[0]->vt.step(c->xf[0]->state, in, out);
	comp_chain(c, e, out);
	return c->xf[0]->vt.step(c->xf[0]->state, in, &e[0]);
}

static int32_t
comp_complete(void *st, xchan_emit *out)
{
	comp_state *c = st;
	xchan_emit e[COMP_MAX];
	comp_chain(c, e, out);
	int32_t result = XCHAN_STEP_CONTINUE;
	/* Each stage flushes into the stages after it, then they flush. */
	for (size_t i = 0; i < c->n; i++) {
		xchan_xform *x = c->xf[i];
		if (x->vt.complete == NULL)
			continue;
		xchan_emit *dst = (i + 1 < c->n) ? &e[i] : out;
		int32_t r = x->vt.complete(x->state, dst);
		if (r == XCHAN_STEP_FAILED)
			return r;
		if (r == XCHAN_STEP_REDUCED)
			result = r;
	}
	return result;
}

static void
comp_destroy(void *st)
{
	comp_state *c = st;
	for (size_t i = 0; i < c->n; i++)
		xchan_xform_free(c->xf[i]);
	xchan__free(c, sizeof(*c));
}

int32_t
xchan_xform_comp(xchan_xform **out, xchan_xform **xforms, size_t n)
{
	int32_t err = XCHAN_EINVAL;
	comp_state *c = NULL;
	if (out == NULL || xforms == NULL || n == 0 || n > COMP_MAX)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (xforms[i] == NULL)
			goto fail;
	*out = NULL;
	err = XCHAN_ENOMEM;
	c = xchan__zalloc(sizeof(*c));
	if (c == NULL)
		goto fail;
	c->n = n;
	memcpy(c->xf, xforms, n * sizeof(*xforms));
	xchan_xform_vtbl vt = {sizeof(vt), 0, comp_step, comp_complete,
	    comp_destroy};
	return xchan_xform_new(out, &vt,
	    c); /* frees c (and stages) on failure */
fail:
	if (xforms)
		for (size_t i = 0; i < n && i < COMP_MAX; i++)
			xchan_xform_free(xforms[i]);
	return err;
}
