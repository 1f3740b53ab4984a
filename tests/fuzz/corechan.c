/*
 * corechan.c — the op scripts' world of the real core: each op is the public
 * call it names, on the calling thread.  Values are boxes whose pointer is
 * the value's number and whose destructor records the release; async
 * callbacks run inline (the default placement), so every effect of a step
 * has happened when the call returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opscript.h"
#include "xchan/xchan.h"

typedef struct core_world core_world;

typedef struct cb_ctx {
	core_world *cw;
	int slot;
} cb_ctx;

struct core_world {
	world w;
	xchan_chan *ch[SCRIPT_MAX_CHANS];
	int nch;
	xchan_op *op[SCRIPT_MAX_SLOTS];
	cb_ctx cb[SCRIPT_MAX_SLOTS];
	xchan_val val[VAL_MAX]; /* the box of each value made */
};

/* The destructor has only the pointer; one core world runs at a time. */
static core_world *g_cw;

static void
box_dtor(void *ptr)
{
	int64_t v = (int64_t)(uintptr_t)ptr;
	if (g_cw == NULL || v <= 0 || v >= VAL_MAX) {
		fprintf(stderr, "corechan: destructor of unknown value %lld\n",
		    (long long)v);
		abort();
	}
	g_cw->w.released[v]++;
	world_event(&g_cw->w, (event) {EV_RELEASE, 0, 0, 0, v});
}

static xchan_val
make_val(core_world *cw, int64_t v)
{
	if (cw->val[v].kind == XCHAN_NIL &&
	    xchan_val_box(&cw->val[v], (void *)(uintptr_t)v, box_dtor) !=
	        XCHAN_OK) {
		fprintf(stderr, "corechan: xchan_val_box failed\n");
		abort();
	}
	return cw->val[v];
}

static int64_t
num_of(xchan_val v)
{
	void *p = NULL;
	if (v.kind == XCHAN_NIL)
		return 0;
	if (v.kind == XCHAN_ARRAY) { /* VAL_ARRAY + its first item's number */
		const xchan_val *items;
		size_t n;
		if (xchan_get_array(v, &items, &n) != XCHAN_OK || n == 0 ||
		    xchan_get_box(items[0], &p) != XCHAN_OK)
			return -1;
		int64_t id = VAL_ARRAY + (int64_t)(uintptr_t)p;
		if (id < VAL_MAX && g_cw != NULL)
			g_cw->val[id] = v; /* to release it by number */
		return id < VAL_MAX ? id : -1;
	}
	if (xchan_get_box(v, &p) != XCHAN_OK)
		return -1;
	return (int64_t)(uintptr_t)p;
}

/* ---- transforms ----------------------------------------------------------- */

static xchan_val
map_fn(void *user, xchan_val in)
{
	core_world *cw = user;
	int64_t v = num_of(in);
	if (v <= 0 || v + VAL_MAPPED >= VAL_MAX)
		return xchan_val_nil();
	return make_val(cw, v + VAL_MAPPED);
}

static int32_t
keep_fn(void *user, xchan_val in)
{
	(void)user;
	return num_of(in) % 3 != 0;
}

static int32_t
make_xform(core_world *cw, const chan_spec *s, xchan_xform **out)
{
	xchan_xform *parts[2];
	*out = NULL;
	switch (s->xform) {
	case XF_NONE:
		return XCHAN_OK;
	case XF_MAP:
		return xchan_xform_map(out, map_fn, cw);
	case XF_FILTER:
		return xchan_xform_filter(out, keep_fn, cw);
	case XF_TAKE:
		return xchan_xform_take(out, s->xform_n);
	case XF_REPEAT:
		return xchan_xform_repeat(out, s->xform_n);
	case XF_FILTER_TAKE:
		if (xchan_xform_filter(&parts[0], keep_fn, cw) != XCHAN_OK ||
		    xchan_xform_take(&parts[1], s->xform_n) != XCHAN_OK)
			return XCHAN_ENOMEM;
		return xchan_xform_comp(out, parts, 2);
	case XF_PARTITION:
		return xchan_xform_partition_all(out, s->xform_n);
	case XF_MAP_FILTER:
		if (xchan_xform_map(&parts[0], map_fn, cw) != XCHAN_OK ||
		    xchan_xform_filter(&parts[1], keep_fn, cw) != XCHAN_OK)
			return XCHAN_ENOMEM;
		return xchan_xform_comp(out, parts, 2);
	default:
		return XCHAN_EINVAL;
	}
}

/* ---- operations -------------------------------------------------------------- */

static int32_t
c_chan_new(world *w, int i, const chan_spec *s)
{
	core_world *cw = (core_world *)w;
	xchan_chan_opts o;
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.buf_kind = s->buf_kind;
	o.capacity = s->cap;
	o.max_pending = s->max_pending;
	int32_t err = make_xform(cw, s, &o.xform);
	if (err != XCHAN_OK)
		return err;
	err = xchan_chan_new(&cw->ch[i], &o);
	if (err == XCHAN_OK && i >= cw->nch)
		cw->nch = i + 1;
	return err;
}

static void
on_done(void *user, xchan_result *r)
{
	cb_ctx *c = user;
	core_world *cw = c->cw;
	if (r == NULL) { /* the notifier: the result waits in the op */
		cw->w.pending[c->slot] = 0;
		cw->w.stored[c->slot] = 1;
		world_event(&cw->w, (event) {EV_NOTIFY, c->slot, 0, 0, 0});
		return;
	}
	int64_t v = num_of(r->val);
	cw->w.pending[c->slot] = 0;
	world_on_result(&cw->w, c->slot, r->err, r->index, v);
}

static void
new_op(core_world *cw, int slot)
{
	if (cw->op[slot]) {
		xchan_op_release(cw->op[slot]);
		cw->op[slot] = NULL;
	}
	cw->cb[slot] = (cb_ctx) {cw, slot};
	cw->w.pending[slot] = 1;
	cw->w.stored[slot] = 0;
}

static uint32_t
flags_of(core_world *cw, int slot)
{
	return cw->w.slots[slot].notify ? XCHAN_ASYNC_NOTIFY : 0;
}

/* After a start: pending only if the op did not complete inline. */
static int32_t
started(core_world *cw, int slot, int32_t err)
{
	if (err != XCHAN_OK)
		cw->w.pending[slot] = 0;
	return err;
}

static int32_t
c_put_async(world *w, int slot, int ch, int64_t v)
{
	core_world *cw = (core_world *)w;
	new_op(cw, slot);
	int32_t err = xchan_put_async(&cw->op[slot], cw->ch[ch],
	    make_val(cw, v), flags_of(cw, slot), on_done, &cw->cb[slot]);
	return started(cw, slot, err);
}

static int32_t
c_take_async(world *w, int slot, int ch)
{
	core_world *cw = (core_world *)w;
	new_op(cw, slot);
	int32_t err = xchan_take_async(&cw->op[slot], cw->ch[ch],
	    flags_of(cw, slot), on_done, &cw->cb[slot]);
	return started(cw, slot, err);
}

static void
to_clauses(core_world *cw, const clause_spec *cl, int n, xchan_clause *out)
{
	for (int i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].op = cl[i].is_put ? XCHAN_ALT_PUT : XCHAN_ALT_TAKE;
		out[i].chan = cw->ch[cl[i].ch];
		if (cl[i].is_put)
			out[i].val = make_val(cw, cl[i].val);
	}
}

static int32_t
c_alts_async(world *w, int slot, const clause_spec *cl, int n)
{
	core_world *cw = (core_world *)w;
	xchan_clause c[SCRIPT_MAX_CLAUSES];
	to_clauses(cw, cl, n, c);
	new_op(cw, slot);
	int32_t err = xchan_alts_async(&cw->op[slot], c, (size_t)n,
	    XCHAN_ALTS_PRIORITY | flags_of(cw, slot), XCHAN_DEADLINE_NEVER,
	    on_done, &cw->cb[slot]);
	return started(cw, slot, err);
}

static int32_t
c_cancel(world *w, int slot)
{
	core_world *cw = (core_world *)w;
	if (cw->op[slot] == NULL)
		return XCHAN_EDONE; /* completed inline: no handle */
	return xchan_op_cancel(cw->op[slot]);
}

/* The result handed over by cancel_ex or collect, as numbers. */
static int32_t
settled(core_world *cw, int slot, int32_t rc, xchan_result *r, int32_t *err,
    int32_t *index, int64_t *val)
{
	if (rc == XCHAN_OK) {
		cw->w.pending[slot] = 0;
		cw->w.stored[slot] = 0;
		*err = r->err;
		*index = r->index;
		*val = num_of(r->val);
	}
	return rc;
}

static int32_t
c_cancel_ex(world *w, int slot, int32_t *err, int32_t *index, int64_t *val)
{
	core_world *cw = (core_world *)w;
	xchan_result r = {0, -1, {0, 0, 0}};
	if (cw->op[slot] == NULL)
		return XCHAN_EDONE; /* completed inline: no handle */
	return settled(cw, slot, xchan_op_cancel_ex(cw->op[slot], &r), &r, err,
	    index, val);
}

static int32_t
c_collect(world *w, int slot, int32_t *err, int32_t *index, int64_t *val)
{
	core_world *cw = (core_world *)w;
	xchan_result r = {0, -1, {0, 0, 0}};
	return settled(cw, slot, xchan_op_collect(cw->op[slot], &r), &r, err,
	    index, val);
}

static xchan_deadline
deadline_of(int mode)
{
	/* mode 2: a deadline that has passed (not the POLL sentinel). */
	return mode == 2 ? xchan_now() - 1 : XCHAN_DEADLINE_POLL;
}

static int32_t
c_put_now(world *w, int ch, int64_t v, int mode)
{
	core_world *cw = (core_world *)w;
	xchan_val x = make_val(cw, v);
	if (mode == 0)
		return xchan_offer(cw->ch[ch], x);
	return xchan_put(cw->ch[ch], x, deadline_of(mode));
}

static int32_t
c_take_now(world *w, int ch, int mode, int64_t *got)
{
	core_world *cw = (core_world *)w;
	xchan_val x;
	int32_t err = mode == 0 ? xchan_poll(&x, cw->ch[ch])
	                        : xchan_take(&x, cw->ch[ch], deadline_of(mode));
	*got = num_of(x);
	return err;
}

static int32_t
c_alts_now(world *w, const clause_spec *cl, int n, int32_t *index, int64_t *got)
{
	core_world *cw = (core_world *)w;
	xchan_clause c[SCRIPT_MAX_CLAUSES];
	to_clauses(cw, cl, n, c);
	xchan_result r;
	int32_t err = xchan_alts(&r, c, (size_t)n, XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_POLL);
	*index = r.index;
	*got = num_of(r.val);
	return err;
}

static int32_t
c_close(world *w, int ch)
{
	core_world *cw = (core_world *)w;
	return xchan_chan_close(cw->ch[ch]);
}

static void
c_counts(world *w, int ch, chan_counts *out)
{
	core_world *cw = (core_world *)w;
	xchan_chan_info info;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (xchan_chan_info_get(&info, cw->ch[ch]) != XCHAN_OK) {
		memset(out, 0xff, sizeof(*out));
		return;
	}
	out->count = info.count;
	out->closed = info.closed;
	out->pending_puts = info.pending_puts;
	out->pending_takes = info.pending_takes;
}

static void
c_release(world *w, int64_t v)
{
	core_world *cw = (core_world *)w;
	if (v > 0 && v < VAL_MAX)
		xchan_val_release(cw->val[v]);
}

static void
c_teardown(world *w)
{
	core_world *cw = (core_world *)w;
	for (int i = 0; i < SCRIPT_MAX_SLOTS; i++) {
		xchan_op_release(cw->op[i]);
		cw->op[i] = NULL;
	}
	for (int i = 0; i < cw->nch; i++) {
		xchan_chan_release(cw->ch[i]);
		cw->ch[i] = NULL;
	}
}

static const world_vt core_vt = {"core", c_chan_new, c_put_async, c_take_async,
    c_alts_async, c_cancel, c_cancel_ex, c_collect, c_put_now, c_take_now,
    c_alts_now, c_close, c_counts, c_release, c_teardown};

world *
corechan_new(void)
{
	core_world *cw = calloc(1, sizeof(*cw));
	if (cw == NULL)
		return NULL;
	cw->w.vt = &core_vt;
	g_cw = cw;
	return &cw->w;
}

void
corechan_free(world *w)
{
	if (g_cw == (core_world *)w)
		g_cw = NULL;
	free(w);
}
