/*
 * chanmodel.c — the reference model: channel semantics written as plainly as
 * possible, sequential, with no locks and no performance concerns, from the
 * specification (xchan.h) and core.async's algorithms.  It is the oracle the
 * op scripts compare the core against.
 *
 * A channel is a buffer (an array), a queue of pending puts and one of
 * pending takes (waiters: which async slot and clause, and a put's value),
 * and closed / completed flags.  A waiter is claimed when a counterpart
 * meets it: its op completes, and its registrations on every channel go
 * (alts withdraw eagerly).  Values carry reference counts, so a promise
 * channel's copies and an expanding transform's repeats release exactly
 * when the last copy goes.
 *
 * The rules, in order (what the comparisons check):
 *  put:  closed -> ECLOSED.  Transform: full -> not now; else step, add
 *        outputs by the buffer's policy, feed waiting takers; a step that
 *        stops (take) closes the channel, completes pending putters with OK
 *        (their values discarded), flushes, releases takers.  No transform:
 *        takers waiting -> promise: keep the value, feed every taker; other
 *        kinds: hand it to the first taker.  Full (fixed, none) -> not now.
 *        Else add by policy (dropping drops the new, sliding the oldest,
 *        promise keeps the first).
 *  take: buffered value -> take it (a promise hands out a copy), then move
 *        pending puts into the room (through the transform); none buffered
 *        but puts pending -> the first putter's value; closed -> flush the
 *        transform once (if it was not), then ECLOSED; else not now.
 *  close: mark closed; transform: flush if no puts are pending, feed takers;
 *        release takers with ECLOSED unless puts are pending.
 *  alts: clauses in order (priority), each tried as offer / poll; the first
 *        that is not "not now" wins.  Otherwise (async) register every
 *        clause, or ELIMIT if a channel's queue is at its limit.
 */
#include <stdlib.h>
#include <string.h>

#include "opscript.h"
#include "xchan/xchan.h"

#define MBUF 64
#define MQ (SCRIPT_MAX_SLOTS * SCRIPT_MAX_CLAUSES)

typedef struct m_waiter {
	int slot;
	int clause;
	int64_t val;
} m_waiter;

typedef struct m_queue {
	m_waiter w[MQ];
	int n;
} m_queue;

typedef struct m_chan {
	chan_spec spec;
	int64_t buf[MBUF];
	int count;
	m_queue puts, takes;
	int closed, completed;
	uint64_t take_seen; /* the take transform's count */
	int64_t part[8];    /* partition_all's batch */
	int npart;
} m_chan;

typedef struct m_result {
	int32_t err, index;
	int64_t val;
} m_result;

typedef struct model {
	world w;
	m_result res[SCRIPT_MAX_SLOTS]; /* notify: the result waiting */
	m_chan ch[SCRIPT_MAX_CHANS];
	int nch;
	int32_t rc[VAL_MAX];
	int64_t arr[VAL_MAPPED][4]; /* items of array VAL_ARRAY + first */
	int narr[VAL_MAPPED];
} model;

static void m_release(world *w, int64_t v);

static void
m_retain(model *m, int64_t v)
{
	m->rc[v]++;
}

/* ---- queues ------------------------------------------------------------- */

static void
q_remove_at(m_queue *q, int i)
{
	memmove(&q->w[i], &q->w[i + 1],
	    (size_t)(q->n - i - 1) * sizeof(q->w[0]));
	q->n--;
}

/* Withdraws every registration of `slot`. */
static void
withdraw(model *m, int slot)
{
	for (int c = 0; c < m->nch; c++) {
		m_queue *qs[2] = {&m->ch[c].puts, &m->ch[c].takes};
		for (int k = 0; k < 2; k++)
			for (int i = 0; i < qs[k]->n;)
				if (qs[k]->w[i].slot == slot)
					q_remove_at(qs[k], i);
				else
					i++;
	}
}

/* The op of `slot` ends with this result: a put_async that did not deliver
 * hands its value back.  Callback mode: the script reacts now.  Notify
 * mode: the notifier runs now and the result waits to be collected. */
static void
deliver(model *m, int slot, int32_t err, int32_t index, int64_t val)
{
	const slot_spec *s = &m->w.slots[slot];
	if (s->kind == SLOT_PUT && err != XCHAN_OK)
		val = s->cl[0].val;
	if (s->notify) {
		m->w.stored[slot] = 1;
		m->res[slot] = (m_result) {err, index, val};
		world_event(&m->w, (event) {EV_NOTIFY, slot, 0, 0, 0});
		return;
	}
	world_on_result(&m->w, slot, err, index, val);
}

/* The op of `slot` completes: it leaves every queue, and delivers. */
static void
complete(model *m, int slot, int32_t err, int32_t index, int64_t val)
{
	m->w.pending[slot] = 0;
	withdraw(m, slot);
	deliver(m, slot, err, index, val);
}

/* Claims the first waiter (every queued waiter is live: ops withdraw as they
 * complete). */
static int
pop(m_queue *q, m_waiter *out)
{
	if (q->n == 0)
		return 0;
	*out = q->w[0];
	q_remove_at(q, 0);
	return 1;
}

/* ---- buffer ------------------------------------------------------------- */

static int
buf_full(const m_chan *c)
{
	return c->spec.buf_kind == XCHAN_BUF_NONE ||
	       (c->spec.buf_kind == XCHAN_BUF_FIXED &&
	           (uint32_t)c->count >= c->spec.cap);
}

static int64_t
buf_pop(m_chan *c)
{
	int64_t v = c->buf[0];
	memmove(&c->buf[0], &c->buf[1],
	    (size_t)(c->count - 1) * sizeof(int64_t));
	c->count--;
	return v;
}

/* Adds by the buffer's policy; returns the value it dropped (0: none). */
static int64_t
buf_add(m_chan *c, int64_t v)
{
	switch (c->spec.buf_kind) {
	case XCHAN_BUF_DROPPING:
		if ((uint32_t)c->count >= c->spec.cap)
			return v;
		break;
	case XCHAN_BUF_SLIDING:
		if ((uint32_t)c->count >= c->spec.cap) {
			int64_t old = buf_pop(c);
			c->buf[c->count++] = v;
			return old;
		}
		break;
	case XCHAN_BUF_PROMISE:
		if (c->count > 0)
			return v;
		break;
	default:
		break;
	}
	if (c->count < MBUF)
		c->buf[c->count++] = v;
	return 0;
}

static int64_t
buf_take(model *m, m_chan *c)
{
	if (c->spec.buf_kind == XCHAN_BUF_PROMISE) {
		m_retain(m, c->buf[0]);
		return c->buf[0];
	}
	return buf_pop(c);
}

static void
add_value(model *m, m_chan *c, int64_t v)
{
	int64_t d = buf_add(c, v);
	if (d)
		m_release(&m->w, d);
}

static void
feed_takers(model *m, m_chan *c)
{
	m_waiter t;
	while (c->takes.n > 0 && c->count > 0 && pop(&c->takes, &t))
		complete(m, t.slot, XCHAN_OK, t.clause, buf_take(m, c));
}

static void
release_takers(model *m, m_chan *c)
{
	m_waiter t;
	while (pop(&c->takes, &t))
		complete(m, t.slot, XCHAN_ECLOSED, t.clause, 0);
}

/* ---- transforms --------------------------------------------------------- */

static int
keep(int64_t v)
{
	return v % 3 != 0;
}

/* partition_all's batch as one array value (the items move into it). */
static int64_t
make_array(model *m, m_chan *c)
{
	int64_t id = VAL_ARRAY + c->part[0];
	for (int i = 0; i < c->npart; i++)
		m->arr[c->part[0]][i] = c->part[i];
	m->narr[c->part[0]] = c->npart;
	m->rc[id] = 1;
	c->npart = 0;
	return id;
}

/* Runs the channel's step on v; appends outputs to out (n in *nout).
 * Returns 1 if the transform stopped. */
static int
xf_step(model *m, m_chan *c, int64_t v, int64_t *out, int *nout)
{
	*nout = 0;
	uint32_t xf = c->spec.xform;
	if (xf == XF_PARTITION) {
		c->part[c->npart++] = v;
		if ((uint32_t)c->npart >= c->spec.xform_n)
			out[(*nout)++] = make_array(m, c);
		return 0;
	}
	if (xf == XF_MAP || xf == XF_MAP_FILTER) {
		int64_t r = v + VAL_MAPPED;
		m->rc[r] = 1;
		m_release(&m->w, v);
		v = r;
	}
	if (xf == XF_FILTER || xf == XF_FILTER_TAKE || xf == XF_MAP_FILTER) {
		if (!keep(v)) {
			m_release(&m->w, v);
			return 0;
		}
	}
	if (xf == XF_TAKE || xf == XF_FILTER_TAKE) {
		if (c->take_seen >= c->spec.xform_n) {
			m_release(&m->w, v);
			return 1;
		}
		c->take_seen++;
		out[(*nout)++] = v;
		return c->take_seen >= c->spec.xform_n;
	}
	if (xf == XF_REPEAT) {
		for (uint32_t i = 1; i < c->spec.xform_n; i++) {
			m_retain(m, v);
			out[(*nout)++] = v;
		}
	}
	out[(*nout)++] = v;
	return 0;
}

/* Runs the step and adds its outputs, then feeds takers; 1 if stopped. */
static int
feed(model *m, m_chan *c, int64_t v)
{
	int64_t out[8];
	int n;
	int stopped = xf_step(m, c, v, out, &n);
	for (int i = 0; i < n; i++)
		add_value(m, c, out[i]);
	feed_takers(m, c);
	return stopped;
}

/* A stopped transform: close; pending putters complete with OK and their
 * values are discarded. */
static void
abort_chan(model *m, m_chan *c)
{
	c->closed = 1;
	m_waiter p;
	while (pop(&c->puts, &p)) {
		m_release(&m->w, p.val);
		complete(m, p.slot, XCHAN_OK, p.clause, 0);
	}
}

/* The closed transform channel's tail: flush once if no puts are pending
 * (partition_all emits its last batch), feed and release takers. */
static void
close_tail(model *m, m_chan *c)
{
	if (!c->completed && c->puts.n == 0) {
		if (c->spec.xform == XF_PARTITION && c->npart > 0)
			add_value(m, c, make_array(m, c));
		c->completed = 1;
	}
	feed_takers(m, c);
	if (c->puts.n == 0)
		release_takers(m, c);
}

/* Moves pending puts into the buffer's room, through the transform.  A
 * closed channel whose pending puts have now drained completes at once
 * (xchan.h: the completion runs "at close if no puts are pending, else when
 * they have drained"), whichever operation pulled them in.  (Until
 * 2026-11-29 the core left it to the next take after a blocking take; the
 * regression script is tests/fuzz/corpus/blocking-take-completion.bin.) */
static void
refill(model *m, m_chan *c)
{
	int stopped = 0;
	m_waiter p;
	while (c->puts.n > 0 && (c->spec.buf_kind != XCHAN_BUF_FIXED ||
	                            (uint32_t)c->count < c->spec.cap)) {
		pop(&c->puts, &p);
		complete(m, p.slot, XCHAN_OK, p.clause, 0);
		if (c->spec.xform == XF_NONE) {
			add_value(m, c, p.val);
			continue;
		}
		stopped = feed(m, c, p.val);
		if (stopped) {
			abort_chan(m, c);
			break;
		}
	}
	/* A closed channel whose pending puts have drained completes now
	 * (xchan.h: "at close if no puts are pending, else when they have
	 * drained"). */
	if (stopped || (c->closed && c->puts.n == 0 && !c->completed &&
	                   c->spec.xform != XF_NONE))
		close_tail(m, c);
}

/* ---- put and take, once ------------------------------------------------- */

/* XCHAN_OK (v consumed), XCHAN_ECLOSED or XCHAN_EAGAIN (v still ours). */
static int32_t
try_put(model *m, m_chan *c, int64_t v)
{
	if (c->closed)
		return XCHAN_ECLOSED;
	if (c->spec.xform != XF_NONE) {
		if (buf_full(c))
			return XCHAN_EAGAIN;
		if (feed(m, c, v)) {
			abort_chan(m, c);
			close_tail(m, c);
		}
		return XCHAN_OK;
	}
	if (c->takes.n > 0) {
		if (c->spec.buf_kind == XCHAN_BUF_PROMISE) {
			add_value(m, c, v);
			feed_takers(m, c);
			return XCHAN_OK;
		}
		m_waiter t;
		pop(&c->takes, &t);
		complete(m, t.slot, XCHAN_OK, t.clause, v);
		return XCHAN_OK;
	}
	if (buf_full(c))
		return XCHAN_EAGAIN;
	add_value(m, c, v);
	return XCHAN_OK;
}

static int32_t
try_take(model *m, m_chan *c, int64_t *got)
{
	*got = 0;
	for (;;) {
		if (c->count > 0) {
			*got = buf_take(m, c);
			if (c->puts.n > 0 &&
			    c->spec.buf_kind == XCHAN_BUF_FIXED)
				refill(m, c);
			return XCHAN_OK;
		}
		if (c->puts.n > 0) {
			if (c->spec.xform != XF_NONE) {
				refill(m, c);
				continue;
			}
			m_waiter p;
			pop(&c->puts, &p);
			*got = p.val;
			complete(m, p.slot, XCHAN_OK, p.clause, 0);
			return XCHAN_OK;
		}
		if (c->closed) {
			if (c->spec.xform != XF_NONE && !c->completed) {
				close_tail(m, c);
				continue;
			}
			return XCHAN_ECLOSED;
		}
		return XCHAN_EAGAIN;
	}
}

/* ---- the world's operations --------------------------------------------- */

static int32_t
m_chan_new(world *w, int i, const chan_spec *spec)
{
	model *m = (model *)w;
	memset(&m->ch[i], 0, sizeof(m->ch[i]));
	m->ch[i].spec = *spec;
	if (m->ch[i].spec.max_pending == 0)
		m->ch[i].spec.max_pending = XCHAN_DEFAULT_MAX_PENDING;
	if (i >= m->nch)
		m->nch = i + 1;
	return XCHAN_OK;
}

/* Tries the clauses in order; 1 if one completed (result in *err etc.). */
static int
alts_try(model *m, const clause_spec *cl, int n, int32_t *err, int32_t *index,
    int64_t *got)
{
	for (int i = 0; i < n; i++) {
		m_chan *c = &m->ch[cl[i].ch];
		int64_t v = 0;
		int32_t e = cl[i].is_put ? try_put(m, c, cl[i].val)
		                         : try_take(m, c, &v);
		if (e == XCHAN_EAGAIN)
			continue;
		*err = e;
		*index = i;
		*got = v;
		return 1;
	}
	return 0;
}

static int32_t
m_alts_async(world *w, int slot, const clause_spec *cl, int n)
{
	model *m = (model *)w;
	int32_t err, index;
	int64_t got;
	if (alts_try(m, cl, n, &err, &index, &got)) {
		deliver(m, slot, err, index, got);
		return XCHAN_OK;
	}
	/* Register each clause, unless a queue is at its limit. */
	int added[MQ] = {0};
	for (int i = 0; i < n; i++) {
		m_chan *c = &m->ch[cl[i].ch];
		m_queue *q = cl[i].is_put ? &c->puts : &c->takes;
		int key = cl[i].ch * 2 + cl[i].is_put;
		if ((uint32_t)(q->n + added[key]) >= c->spec.max_pending)
			return XCHAN_ELIMIT;
		added[key]++;
	}
	for (int i = 0; i < n; i++) {
		m_chan *c = &m->ch[cl[i].ch];
		m_queue *q = cl[i].is_put ? &c->puts : &c->takes;
		q->w[q->n++] =
		    (m_waiter) {slot, i, cl[i].is_put ? cl[i].val : 0};
	}
	w->pending[slot] = 1;
	return XCHAN_OK;
}

static int32_t
m_put_async(world *w, int slot, int ch, int64_t v)
{
	clause_spec c = {ch, 1, v};
	return m_alts_async(w, slot, &c, 1);
}

static int32_t
m_take_async(world *w, int slot, int ch)
{
	clause_spec c = {ch, 0, 0};
	return m_alts_async(w, slot, &c, 1);
}

static int32_t
m_cancel(world *w, int slot)
{
	model *m = (model *)w;
	if (!w->pending[slot])
		return XCHAN_EDONE;
	complete(m, slot, XCHAN_ECANCELED, -1, 0);
	return XCHAN_OK;
}

/* Cancel-or-collect: a pending op is canceled (its callback or notifier
 * never runs; a put's value comes back); a result waiting in notify mode
 * is handed over; anything else was delivered already. */
static int32_t
m_cancel_ex(world *w, int slot, int32_t *err, int32_t *index, int64_t *val)
{
	model *m = (model *)w;
	const slot_spec *s = &w->slots[slot];
	if (w->pending[slot]) {
		w->pending[slot] = 0;
		withdraw(m, slot);
		*err = XCHAN_ECANCELED;
		*index = -1;
		*val = s->kind == SLOT_PUT ? s->cl[0].val : 0;
		return XCHAN_OK;
	}
	if (w->stored[slot]) {
		w->stored[slot] = 0;
		*err = m->res[slot].err;
		*index = m->res[slot].index;
		*val = m->res[slot].val;
		return XCHAN_OK;
	}
	return XCHAN_EDONE;
}

static int32_t
m_collect(world *w, int slot, int32_t *err, int32_t *index, int64_t *val)
{
	if (!w->slots[slot].notify)
		return XCHAN_EINVAL;
	if (w->pending[slot])
		return XCHAN_EAGAIN;
	if (!w->stored[slot])
		return XCHAN_EDONE;
	return m_cancel_ex(w, slot, err, index, val);
}

static int32_t
m_put_now(world *w, int ch, int64_t v, int mode)
{
	model *m = (model *)w;
	int32_t e = try_put(m, &m->ch[ch], v);
	if (e == XCHAN_EAGAIN && mode == 2)
		e = XCHAN_ETIMEDOUT;
	return e;
}

static int32_t
m_take_now(world *w, int ch, int mode, int64_t *got)
{
	model *m = (model *)w;
	int32_t e = try_take(m, &m->ch[ch], got);
	if (e == XCHAN_EAGAIN && mode == 2)
		e = XCHAN_ETIMEDOUT;
	return e;
}

static int32_t
m_alts_now(world *w, const clause_spec *cl, int n, int32_t *index, int64_t *got)
{
	model *m = (model *)w;
	int32_t err;
	*index = -1;
	*got = 0;
	if (alts_try(m, cl, n, &err, index, got))
		return err;
	return XCHAN_EAGAIN;
}

static int32_t
m_close(world *w, int ch)
{
	model *m = (model *)w;
	m_chan *c = &m->ch[ch];
	if (c->closed)
		return XCHAN_OK;
	c->closed = 1;
	if (c->spec.xform != XF_NONE)
		close_tail(m, c);
	else
		release_takers(m, c);
	return XCHAN_OK;
}

static void
m_counts(world *w, int ch, chan_counts *out)
{
	model *m = (model *)w;
	m_chan *c = &m->ch[ch];
	out->count = (uint64_t)c->count;
	out->closed = (uint32_t)c->closed;
	out->pending_puts = (uint32_t)c->puts.n;
	out->pending_takes = (uint32_t)c->takes.n;
}

static void
m_release(world *w, int64_t v)
{
	model *m = (model *)w;
	if (v <= 0 || v >= VAL_MAX)
		return;
	if (--m->rc[v] != 0)
		return;
	if (v >= VAL_ARRAY) { /* an array: its items go */
		int64_t first = v - VAL_ARRAY;
		for (int i = 0; i < m->narr[first]; i++)
			m_release(w, m->arr[first][i]);
		return;
	}
	w->released[v]++;
	world_event(w, (event) {EV_RELEASE, 0, 0, 0, v});
}

static void
m_teardown(world *w)
{
	model *m = (model *)w;
	for (int i = 0; i < m->nch; i++) {
		m_chan *c = &m->ch[i];
		while (c->count > 0)
			m_release(w, buf_pop(c));
		for (int k = 0; k < c->npart;
		     k++) /* a batch in the transform */
			m_release(w, c->part[k]);
	}
}

/* A new value the script made (rc 1); the interpreter numbers them. */
static const world_vt model_vt = {"model", m_chan_new, m_put_async,
    m_take_async, m_alts_async, m_cancel, m_cancel_ex, m_collect, m_put_now,
    m_take_now, m_alts_now, m_close, m_counts, m_release, m_teardown};

world *
chanmodel_new(void)
{
	model *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->w.vt = &model_vt;
	/* Every value the script can make starts with one reference. */
	for (int i = 1; i < VAL_MAPPED; i++)
		m->rc[i] = 1;
	return &m->w;
}

void
chanmodel_free(world *w)
{
	free(w);
}
