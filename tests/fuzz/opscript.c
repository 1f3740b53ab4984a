/*
 * opscript.c — decodes a byte string into an op script and runs it on the
 * model and on the core, comparing them after every step (see opscript.h).
 *
 * Encoding (every byte string is a valid script; missing bytes read as 0):
 *   byte 0            channels: 1 + b % 4
 *   3 bytes a channel b0: kind b0 % 5, transform (b0 / 5) % XF_COUNT
 *                     (none on unbuffered); b1: capacity 1 + b1 % 4 (fixed,
 *                     dropping, sliding), transform n 1 + (b1 / 4) % 3;
 *                     b2: max_pending b2 % 4 (0: the default)
 *   then ops, at most SCRIPT_MAX_OPS, each an op byte and its arguments:
 *     op % 16: 0-2 put_async ch | 3-5 take_async ch | 6-7 alts_async n
 *     clauses | 8 cancel / cancel_ex / collect (slot byte b: slot b % 8,
 *     which (b / 8) % 3) | 9 put_now ch | 10 take_now ch | 11 alts_now
 *     n clauses | 12 close ch | 13-15 put_async / take_async / alts_async
 *     in notify mode (XCHAN_ASYNC_NOTIFY)
 *   a channel argument byte b: ch b % nchan; put_now / take_now mode
 *   (b / 4) % 3 (offer-or-poll / POLL deadline / passed deadline); a clause
 *   byte b: ch b % nchan, put if (b / 4) & 1.  n: 1 + b % 3.
 * An async op takes the lowest slot with no pending op and no uncollected
 * result (skipped if none).  At the end every pending op is canceled, every
 * waiting result collected and every channel released; each value made
 * must then have been released exactly once in both worlds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opscript.h"
#include "xchan/xchan.h"

void
world_event(world *w, event e)
{
	if (w->nev < SCRIPT_MAX_EVENTS)
		w->ev[w->nev++] = e;
	else
		w->overflow = 1;
}

void
world_on_result(world *w, int slot, int32_t err, int32_t index, int64_t val)
{
	const slot_spec *s = &w->slots[slot];
	world_event(w, (event) {EV_CALLBACK, slot, err, index, val});
	w->pending[slot] = 0;
	if (s->kind != SLOT_ALTS) {
		if (val > 0)
			w->vt->release(w, val);
		return;
	}
	if (index >= 0 && !s->cl[index].is_put && val > 0)
		w->vt->release(w, val);
	for (int i = 0; i < s->n; i++)
		if (s->cl[i].is_put && !(i == index && err == XCHAN_OK))
			w->vt->release(w, s->cl[i].val);
}

/* ---- the interpreter ------------------------------------------------------ */

typedef struct reader {
	const uint8_t *p;
	size_t n, i;
} reader;

static uint8_t
next(reader *r)
{
	return r->i < r->n ? r->p[r->i++] : 0;
}

typedef struct step_out {
	int32_t rc;
	int32_t index;
	int64_t got;
} step_out;

typedef struct interp {
	world *w[2]; /* model, core */
	slot_spec slots[SCRIPT_MAX_SLOTS];
	int nch;
	int64_t next_id;
	char log[SCRIPT_MAX_OPS + 16][96];
	int nlog;
	int trace;
} interp;

static void logf_step(interp *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
logf_step(interp *in, const char *fmt, ...)
{
	if (in->nlog >= (int)(sizeof(in->log) / sizeof(in->log[0])))
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(in->log[in->nlog], sizeof(in->log[0]), fmt, ap);
	va_end(ap);
	if (in->trace)
		fprintf(stderr, "  step %d: %s\n", in->nlog, in->log[in->nlog]);
	in->nlog++;
}

static int
ev_cmp(const void *a, const void *b)
{
	const event *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	if (x->slot != y->slot)
		return x->slot - y->slot;
	if (x->val != y->val)
		return x->val < y->val ? -1 : 1;
	if (x->err != y->err)
		return x->err - y->err;
	return x->index - y->index;
}

static void
print_events(const char *who, world *w)
{
	fprintf(stderr, "    %s events:", who);
	for (int i = 0; i < w->nev; i++) {
		const event *e = &w->ev[i];
		if (e->kind == EV_NOTIFY)
			fprintf(stderr, " notify(slot %d)", e->slot);
		else if (e->kind == EV_CALLBACK)
			fprintf(stderr, " cb(slot %d %s idx %d val %lld)",
			    e->slot, xchan_err_name(e->err), e->index,
			    (long long)e->val);
		else
			fprintf(stderr, " rel(%lld)", (long long)e->val);
	}
	fprintf(stderr, "\n");
}

static int
fail(interp *in, const char *what)
{
	fprintf(stderr, "opscript: model and core differ: %s\n", what);
	fprintf(stderr, "  the script so far:\n");
	for (int i = 0; i < in->nlog; i++)
		fprintf(stderr, "    step %d: %s\n", i, in->log[i]);
	return -1;
}

/* Compares the step's outputs, events, pending ops and channel counts. */
static int
compare(interp *in, const step_out *o)
{
	world *m = in->w[0], *c = in->w[1];
	char what[256];
	if (o[0].rc != o[1].rc || o[0].index != o[1].index ||
	    o[0].got != o[1].got) {
		snprintf(what, sizeof(what),
		    "result: model %s index %d value %lld, core %s index %d "
		    "value %lld",
		    xchan_err_name(o[0].rc), o[0].index, (long long)o[0].got,
		    xchan_err_name(o[1].rc), o[1].index, (long long)o[1].got);
		return fail(in, what);
	}
	if (m->overflow || c->overflow)
		return fail(in, "too many events in one step");
	qsort(m->ev, (size_t)m->nev, sizeof(event), ev_cmp);
	qsort(c->ev, (size_t)c->nev, sizeof(event), ev_cmp);
	if (m->nev != c->nev ||
	    memcmp(m->ev, c->ev, (size_t)m->nev * sizeof(event)) != 0) {
		print_events("model", m);
		print_events("core", c);
		return fail(in, "callbacks or releases");
	}
	for (int s = 0; s < SCRIPT_MAX_SLOTS; s++)
		if (m->pending[s] != c->pending[s] ||
		    m->stored[s] != c->stored[s]) {
			snprintf(what, sizeof(what),
			    "slot %d pending/stored: model %d/%d, core %d/%d",
			    s, m->pending[s], m->stored[s], c->pending[s],
			    c->stored[s]);
			return fail(in, what);
		}
	for (int i = 0; i < in->nch; i++) {
		chan_counts a, b;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		m->vt->counts(m, i, &a);
		c->vt->counts(c, i, &b);
		if (memcmp(&a, &b, sizeof(a)) != 0) {
			snprintf(what, sizeof(what),
			    "channel %d: model count %llu closed %u puts %u "
			    "takes %u; core count %llu closed %u puts %u "
			    "takes %u",
			    i, (unsigned long long)a.count, a.closed,
			    a.pending_puts, a.pending_takes,
			    (unsigned long long)b.count, b.closed,
			    b.pending_puts, b.pending_takes);
			return fail(in, what);
		}
	}
	if (in->trace > 1 && c->nev > 0)
		print_events("step's", c);
	m->nev = c->nev = 0;
	return 0;
}

static const char *kind_names[] = {"none", "fixed", "dropping", "sliding",
    "promise"};
static const char *xf_names[] = {"-", "map", "filter", "take", "filter+take",
    "repeat", "map+filter", "partition_all"};

static int
decode_clauses(interp *in, reader *r, clause_spec *cl, char *desc, size_t dlen)
{
	int n = 1 + next(r) % SCRIPT_MAX_CLAUSES;
	size_t used = 0;
	for (int i = 0; i < n; i++) {
		uint8_t b = next(r);
		cl[i].ch = b % in->nch;
		cl[i].is_put = (b / 4) & 1;
		cl[i].val = cl[i].is_put ? in->next_id++ : 0;
		used += (size_t)snprintf(desc + used, dlen - used,
		    cl[i].is_put ? " put(c%d,%lld)" : " take(c%d)", cl[i].ch,
		    (long long)cl[i].val);
		if (used >= dlen)
			break;
	}
	return n;
}

static int
free_slot(interp *in)
{
	for (int s = 0; s < SCRIPT_MAX_SLOTS; s++)
		if (!in->w[0]->pending[s] && !in->w[0]->stored[s])
			return s;
	return -1;
}

/* cancel (0), cancel_ex (1) or collect (2) of a slot; a result handed over
 * goes through the script's reaction (world_on_result).  o->index and
 * o->got carry the result's index and value for the comparison. */
static int32_t
settle(world *w, int slot, int which, step_out *o)
{
	if (which == 0)
		return w->vt->cancel(w, slot);
	int32_t err = 0, index = -1;
	int64_t val = 0;
	int32_t rc = which == 1 ? w->vt->cancel_ex(w, slot, &err, &index, &val)
	                        : w->vt->collect(w, slot, &err, &index, &val);
	if (rc == XCHAN_OK) {
		o->index = index;
		o->got = val;
		world_on_result(w, slot, err, index, val);
	}
	return rc;
}

/* Runs one op on both worlds; returns 0, -1 on a difference, 1 if skipped. */
static int
run_op(interp *in, reader *r)
{
	uint8_t op = next(r) % 16;
	step_out o[2];
	memset(o, 0, sizeof(o));
	char desc[80];
	clause_spec cl[SCRIPT_MAX_CLAUSES];
	int notify = op >= 13;
	int kind = op <= 2 || op == 13   ? SLOT_PUT
	           : op <= 5 || op == 14 ? SLOT_TAKE
	           : op <= 7 || op == 15 ? SLOT_ALTS
	                                 : SLOT_NONE;
	if (kind != SLOT_NONE) {
		int slot = free_slot(in);
		slot_spec *s = slot >= 0 ? &in->slots[slot] : NULL;
		slot_spec tmp;
		int64_t first_id = in->next_id;
		if (s == NULL)
			s = &tmp; /* decode anyway, to keep the stream aligned */
		memset(s, 0, sizeof(*s));
		s->kind = kind;
		s->notify = notify;
		if (kind == SLOT_ALTS) {
			s->n = decode_clauses(in, r, s->cl, desc, sizeof(desc));
		} else {
			s->n = 1;
			s->cl[0].ch = next(r) % in->nch;
			s->cl[0].is_put = kind == SLOT_PUT;
			s->cl[0].val = kind == SLOT_PUT ? in->next_id++ : 0;
		}
		if (slot < 0) {
			in->next_id = first_id; /* nothing was made */
			logf_step(in, "skip (no free slot)");
			return 1;
		}
		for (int k = 0; k < 2; k++) {
			world *w = in->w[k];
			if (kind == SLOT_PUT)
				o[k].rc = w->vt->put_async(w, slot, s->cl[0].ch,
				    s->cl[0].val);
			else if (kind == SLOT_TAKE)
				o[k].rc =
				    w->vt->take_async(w, slot, s->cl[0].ch);
			else
				o[k].rc =
				    w->vt->alts_async(w, slot, s->cl, s->n);
			if (o[k].rc != XCHAN_OK) /* never called back */
				for (int i = 0; i < s->n; i++)
					if (s->cl[i].is_put)
						w->vt->release(w, s->cl[i].val);
		}
		if (o[0].rc != XCHAN_OK)
			s->notify =
			    0; /* no op, so nothing to collect: EINVAL */
		const char *nm = notify ? " notify" : "";
		if (kind == SLOT_PUT)
			logf_step(in, "slot %d: put_async%s(c%d, %lld) -> %s",
			    slot, nm, s->cl[0].ch, (long long)s->cl[0].val,
			    xchan_err_name(o[1].rc));
		else if (kind == SLOT_TAKE)
			logf_step(in, "slot %d: take_async%s(c%d) -> %s", slot,
			    nm, s->cl[0].ch, xchan_err_name(o[1].rc));
		else
			logf_step(in, "slot %d: alts_async%s%s -> %s", slot, nm,
			    desc, xchan_err_name(o[1].rc));
		return compare(in, o);
	}
	switch (op) {
	case 8: {
		uint8_t b = next(r);
		int slot = b % SCRIPT_MAX_SLOTS, which = (b / 8) % 3;
		static const char *names[] = {"cancel", "cancel_ex", "collect"};
		if (in->slots[slot].kind == SLOT_NONE) {
			logf_step(in, "skip (%s of an unused slot)",
			    names[which]);
			return 1;
		}
		for (int k = 0; k < 2; k++)
			o[k].rc = settle(in->w[k], slot, which, &o[k]);
		logf_step(in, "%s slot %d -> %s (index %d value %lld)",
		    names[which], slot, xchan_err_name(o[1].rc), o[1].index,
		    (long long)o[1].got);
		break;
	}
	case 9: {
		uint8_t b = next(r);
		int ch = b % in->nch, mode = (b / 4) % 3;
		int64_t v = in->next_id++;
		for (int k = 0; k < 2; k++) {
			world *w = in->w[k];
			o[k].rc = w->vt->put_now(w, ch, v, mode);
			if (o[k].rc != XCHAN_OK)
				w->vt->release(w, v);
		}
		logf_step(in, "%s(c%d, %lld) -> %s",
		    mode == 0   ? "offer"
		    : mode == 1 ? "put_poll"
		                : "put_past",
		    ch, (long long)v, xchan_err_name(o[1].rc));
		break;
	}
	case 10: {
		uint8_t b = next(r);
		int ch = b % in->nch, mode = (b / 4) % 3;
		for (int k = 0; k < 2; k++) {
			world *w = in->w[k];
			o[k].rc = w->vt->take_now(w, ch, mode, &o[k].got);
			if (o[k].got > 0)
				w->vt->release(w, o[k].got);
		}
		logf_step(in, "%s(c%d) -> %s %lld",
		    mode == 0   ? "poll"
		    : mode == 1 ? "take_poll"
		                : "take_past",
		    ch, xchan_err_name(o[1].rc), (long long)o[1].got);
		break;
	}
	case 11: {
		int n = decode_clauses(in, r, cl, desc, sizeof(desc));
		for (int k = 0; k < 2; k++) {
			world *w = in->w[k];
			o[k].rc =
			    w->vt->alts_now(w, cl, n, &o[k].index, &o[k].got);
			int idx = o[k].index;
			if (idx >= 0 && !cl[idx].is_put && o[k].got > 0)
				w->vt->release(w, o[k].got);
			for (int i = 0; i < n; i++)
				if (cl[i].is_put &&
				    !(i == idx && o[k].rc == XCHAN_OK))
					w->vt->release(w, cl[i].val);
		}
		logf_step(in, "alts_now%s -> %s index %d value %lld", desc,
		    xchan_err_name(o[1].rc), o[1].index, (long long)o[1].got);
		break;
	}
	default: { /* 12 */
		int ch = next(r) % in->nch;
		for (int k = 0; k < 2; k++)
			o[k].rc = in->w[k]->vt->close(in->w[k], ch);
		logf_step(in, "close(c%d) -> %s", ch, xchan_err_name(o[1].rc));
		break;
	}
	}
	return compare(in, o);
}

int
opscript_run(const uint8_t *data, size_t size, int trace)
{
	static interp in_storage;
	interp *in = &in_storage;
	memset(in, 0, sizeof(*in));
	in->trace = trace;
	{
		const char *t = getenv("OPSCRIPT_TRACE");
		if (t != NULL && t[0] == '2')
			in->trace = 2;
	}
	in->next_id = 1;
	in->w[0] = chanmodel_new();
	in->w[1] = corechan_new();
	if (in->w[0] == NULL || in->w[1] == NULL) {
		fprintf(stderr, "opscript: out of memory\n");
		abort();
	}
	for (int k = 0; k < 2; k++)
		in->w[k]->slots = in->slots;
	reader r = {data, size, 0};
	int rc = 0;
	int nch = 1 + next(&r) % SCRIPT_MAX_CHANS;
	for (int i = 0; i < nch && rc == 0; i++) {
		uint8_t b0 = next(&r), b1 = next(&r), b2 = next(&r);
		chan_spec s = {0};
		s.buf_kind = b0 % 5;
		if (s.buf_kind >= XCHAN_BUF_FIXED &&
		    s.buf_kind <= XCHAN_BUF_SLIDING)
			s.cap = 1 + b1 % 4;
		s.xform = s.buf_kind == XCHAN_BUF_NONE ? XF_NONE
		                                       : (b0 / 5u) % XF_COUNT;
		s.xform_n = 1 + (b1 / 4u) % 3;
		s.max_pending = b2 % 4;
		step_out o[2] = {{0}};
		for (int k = 0; k < 2; k++)
			o[k].rc = in->w[k]->vt->chan_new(in->w[k], i, &s);
		logf_step(in,
		    "c%d = chan(%s, cap %u, xform %s n %u, "
		    "max_pending %u) -> %s",
		    i, kind_names[s.buf_kind], s.cap, xf_names[s.xform],
		    s.xform_n, s.max_pending, xchan_err_name(o[1].rc));
		if (o[1].rc != XCHAN_OK) {
			rc = fail(in, "channel creation failed");
			break;
		}
		in->nch = i + 1;
		rc = compare(in, o);
	}
	for (int n = 0; rc == 0 && r.i < r.n && n < SCRIPT_MAX_OPS; n++)
		if (run_op(in, &r) < 0)
			rc = -1;
	/* The end: cancel what is pending, collect what waits, then release
	 * the channels. */
	for (int s = 0; rc == 0 && s < SCRIPT_MAX_SLOTS; s++) {
		if (!in->w[0]->pending[s])
			continue;
		step_out o[2] = {{0}};
		for (int k = 0; k < 2; k++)
			o[k].rc = in->w[k]->vt->cancel(in->w[k], s);
		logf_step(in, "end: cancel slot %d -> %s", s,
		    xchan_err_name(o[1].rc));
		rc = compare(in, o);
	}
	for (int s = 0; rc == 0 && s < SCRIPT_MAX_SLOTS; s++) {
		if (!in->w[0]->stored[s])
			continue;
		step_out o[2] = {{0}};
		for (int k = 0; k < 2; k++)
			o[k].rc = settle(in->w[k], s, 2, &o[k]);
		logf_step(in, "end: collect slot %d -> %s", s,
		    xchan_err_name(o[1].rc));
		rc = compare(in, o);
	}
	int torn = 0;
	if (rc == 0) {
		for (int k = 0; k < 2; k++)
			in->w[k]->vt->teardown(in->w[k]);
		torn = 1;
		logf_step(in, "end: release every channel");
		in->nch = 0; /* nothing left to count */
		step_out o[2] = {{0}};
		rc = compare(in, o);
	}
	for (int64_t v = 1; rc == 0 && v < VAL_ARRAY; v++) {
		int want = v < in->next_id ? 1 : -1;
		int a = in->w[0]->released[v], b = in->w[1]->released[v];
		if (a != b || (want == 1 && b != 1) || b > 1) {
			char what[128];
			snprintf(what, sizeof(what),
			    "value %lld released %d times by the model, %d by "
			    "the core",
			    (long long)v, a, b);
			rc = fail(in, what);
		}
	}
	if (!torn) /* after a difference: free what can be freed */
		in->w[1]->vt->teardown(in->w[1]);
	chanmodel_free(in->w[0]);
	corechan_free(in->w[1]);
	return rc;
}
