/*
 * comb_mult.c — mult, tap, untap, untap_all (core.async mult).
 *
 * Design notes.
 *  - One go task takes from the source.  For each value it snapshots the
 *    taps (retaining each channel), retains one extra reference of the value
 *    per extra tap (all of them before the first put: a put moves its copy
 *    and a taker may release it at once), and starts one xchan_put_async per
 *    tap.  The put callbacks count down `pending`; the last one offers a
 *    token to `dchan` (fixed 1), on which the task parks: so every tap has
 *    accepted (or reported closed) before the next value is taken.
 *  - A callback reporting XCHAN_ECLOSED removes its tap and releases the
 *    value it got back.
 *  - Lifetime: `refs` counts handle references, the task, and each put in
 *    flight (a callback still uses `m` and `dchan` after its countdown
 *    wakes the task, so it holds its own reference until it returns).  The
 *    last reference frees the struct; by then the task has ended.
 *  - The task never allocates, so running out of memory cannot make it
 *    drop a value: xchan_mult_tap, when it grows the tap table, also makes
 *    round arrays of the same size (`spare`), which the task swaps in.
 *  - Lock: `mu` guards taps/ntaps/cap/spare/ended only.  It is never held across
 *    a channel operation (closing or putting may run callbacks on this
 *    thread, and those take `mu`).
 */
#include <string.h>

#include "comb_common.h"

typedef struct mult_tap {
	xchan_chan *ch;
	int32_t close;
} mult_tap;

typedef struct mult_put {
	xchan_mult *m;
	xchan_chan *ch;
} mult_put;

typedef struct mult_round {
	mult_put *puts;
	xchan_val *copies;
	size_t cap;
} mult_round;

static int
mult_round_alloc(mult_round *r, size_t cap)
{
	r->puts = xchan__alloc(cap * sizeof(mult_put));
	r->copies = xchan__alloc(cap * sizeof(xchan_val));
	r->cap = cap;
	if (r->puts != NULL && r->copies != NULL)
		return 1;
	xchan__free(r->puts, cap * sizeof(mult_put));
	xchan__free(r->copies, cap * sizeof(xchan_val));
	memset(r, 0, sizeof(*r));
	return 0;
}

static void
mult_round_free(mult_round *r)
{
	xchan__free(r->puts, r->cap * sizeof(mult_put));
	xchan__free(r->copies, r->cap * sizeof(xchan_val));
	memset(r, 0, sizeof(*r));
}

struct xchan_mult {
	_Atomic uint32_t refs;
	_Atomic uint32_t pending; /* puts of the current round not finished */
	comb_mutex mu;
	mult_tap *taps; /* guarded by mu */
	size_t ntaps;   /* guarded by mu */
	size_t cap;     /* guarded by mu */
	int ended;      /* guarded by mu: the source closed */
	xchan_chan *src;
	xchan_chan *dchan;
	/* Round arrays for `cap` taps, made by xchan_mult_tap (which can
	 * report XCHAN_ENOMEM) so that the task never allocates; the task
	 * swaps them in at the start of a round. */
	mult_round spare; /* guarded by mu */
	mult_round round; /* task only: one entry per put of this round */
};

static void
mult_free(xchan_mult *m)
{
	for (size_t i = 0; i < m->ntaps; i++)
		xchan_chan_release(m->taps[i].ch);
	if (m->taps != NULL)
		xchan__free(m->taps, m->cap * sizeof(mult_tap));
	mult_round_free(&m->round);
	mult_round_free(&m->spare);
	xchan_chan_release(m->src);
	xchan_chan_release(m->dchan);
	xchan__free(m, sizeof(*m));
}

xchan_mult *
xchan_mult_retain(xchan_mult *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
	return m;
}

void
xchan_mult_release(xchan_mult *m)
{
	if (m != NULL &&
	    atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		mult_free(m);
}

/* Removes `ch` from the taps; returns its reference (or NULL) for the caller
 * to release after unlocking. */
static xchan_chan *
mult_remove_locked(xchan_mult *m, xchan_chan *ch)
{
	for (size_t i = 0; i < m->ntaps; i++) {
		if (m->taps[i].ch == ch) {
			memmove(&m->taps[i], &m->taps[i + 1],
			    (m->ntaps - i - 1) * sizeof(mult_tap));
			m->ntaps--;
			return ch;
		}
	}
	return NULL;
}

static void
mult_put_finish(mult_put *p)
{
	xchan_mult *m = p->m;
	if (atomic_fetch_sub_explicit(&m->pending, 1, memory_order_acq_rel) ==
	    1)
		xchan_offer(m->dchan, xchan_val_bool(1));
	xchan_mult_release(m);
}

static void
mult_put_done(void *user, xchan_result *r)
{
	mult_put *p = user;
	if (r->err != XCHAN_OK) {
		xchan_val_release(r->val);
		if (r->err == XCHAN_ECLOSED) {
			comb_mutex_lock(&p->m->mu);
			xchan_chan *gone = mult_remove_locked(p->m, p->ch);
			comb_mutex_unlock(&p->m->mu);
			xchan_chan_release(gone);
		}
	}
	mult_put_finish(p);
}

/* Snapshots the taps into m->round (retaining each channel); returns how
 * many.  Never allocates (see `spare`). */
static size_t
mult_snapshot(xchan_mult *m)
{
	comb_mutex_lock(&m->mu);
	size_t k = m->ntaps;
	if (k > m->round.cap) {
		XCHAN_ASSERT(m->spare.cap >= k);
		mult_round_free(&m->round);
		m->round = m->spare;
		memset(&m->spare, 0, sizeof(m->spare));
	}
	for (size_t i = 0; i < k; i++) {
		m->round.puts[i].m = m;
		m->round.puts[i].ch = xchan_chan_retain(m->taps[i].ch);
	}
	comb_mutex_unlock(&m->mu);
	return k;
}

/* Puts `v` (moved) on every tap of the snapshot and waits for all. */
static void
mult_fan_out(xchan_mult *m, xchan_val v, size_t k)
{
	m->round.copies[0] = v;
	for (size_t i = 1; i < k; i++)
		m->round.copies[i] = xchan_val_retain(v);
	atomic_store_explicit(&m->pending, (uint32_t)k, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->refs, (uint32_t)k, memory_order_relaxed);
	for (size_t i = 0; i < k; i++) {
		int32_t err = xchan_put_async(NULL, m->round.puts[i].ch,
		    m->round.copies[i], 0, mult_put_done, &m->round.puts[i]);
		if (err != XCHAN_OK) {
			/* ELIMIT and the like: this tap misses the value. */
			xchan_val_release(m->round.copies[i]);
			mult_put_finish(&m->round.puts[i]);
		}
	}
	xchan_val token;
	if (xchan_take(&token, m->dchan, XCHAN_DEADLINE_NEVER) == XCHAN_OK)
		xchan_val_release(token);
	for (size_t i = 0; i < k; i++)
		xchan_chan_release(m->round.puts[i].ch);
}

static int32_t
mult_run(void *arg, xchan_val *result)
{
	xchan_mult *m = arg;
	*result = xchan_val_nil();
	xchan_val v;
	while (xchan_take(&v, m->src, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		size_t k = mult_snapshot(m);
		if (k == 0) {
			xchan_val_release(v); /* no taps: dropped */
			continue;
		}
		mult_fan_out(m, v, k);
	}
	comb_mutex_lock(&m->mu);
	m->ended = 1;
	mult_tap *taps = m->taps;
	size_t n = m->ntaps, cap = m->cap;
	m->taps = NULL;
	m->ntaps = m->cap = 0;
	comb_mutex_unlock(&m->mu);
	for (size_t i = 0; i < n; i++) {
		if (taps[i].close)
			xchan_chan_close(taps[i].ch);
		xchan_chan_release(taps[i].ch);
	}
	if (taps != NULL)
		xchan__free(taps, cap * sizeof(mult_tap));
	xchan_mult_release(m);
	return XCHAN_OK;
}

int32_t
xchan_mult_new(xchan_mult **out, xchan_chan **out_done, xchan_chan *src)
{
	if (out != NULL)
		*out = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (out == NULL || src == NULL)
		return XCHAN_EINVAL;
	xchan_mult *m = xchan__zalloc(sizeof(*m));
	if (m == NULL)
		return XCHAN_ENOMEM;
	int32_t err = xchan_chan_make(&m->dchan, XCHAN_BUF_FIXED, 1);
	if (err != XCHAN_OK) {
		xchan__free(m, sizeof(*m));
		return err;
	}
	m->src = xchan_chan_retain(src);
	atomic_init(&m->refs, 2); /* the handle and the task */
	if ((err = xchan__comb_go(out_done, mult_run, m, "xchan-mult")) !=
	    XCHAN_OK) {
		mult_free(m);
		return err;
	}
	*out = m;
	return XCHAN_OK;
}

int32_t
xchan_mult_tap(xchan_mult *m, xchan_chan *ch, int32_t close)
{
	if (m == NULL || ch == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	if (m->ended) {
		comb_mutex_unlock(&m->mu);
		if (close)
			xchan_chan_close(ch);
		return XCHAN_OK;
	}
	for (size_t i = 0; i < m->ntaps; i++) {
		if (m->taps[i].ch == ch) {
			m->taps[i].close = close;
			comb_mutex_unlock(&m->mu);
			return XCHAN_OK;
		}
	}
	if (m->ntaps == m->cap) {
		size_t cap = m->cap < 4 ? 4 : m->cap * 2;
		mult_tap *t = xchan__alloc(cap * sizeof(mult_tap));
		mult_round r;
		if (t == NULL || !mult_round_alloc(&r, cap)) {
			comb_mutex_unlock(&m->mu);
			xchan__free(t, cap * sizeof(mult_tap));
			return XCHAN_ENOMEM;
		}
		if (m->taps != NULL) {
			memcpy(t, m->taps, m->ntaps * sizeof(mult_tap));
			xchan__free(m->taps, m->cap * sizeof(mult_tap));
		}
		m->taps = t;
		m->cap = cap;
		mult_round_free(&m->spare);
		m->spare = r;
	}
	m->taps[m->ntaps].ch = xchan_chan_retain(ch);
	m->taps[m->ntaps].close = close;
	m->ntaps++;
	comb_mutex_unlock(&m->mu);
	return XCHAN_OK;
}

int32_t
xchan_mult_untap(xchan_mult *m, xchan_chan *ch)
{
	if (m == NULL || ch == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	xchan_chan *gone = mult_remove_locked(m, ch);
	comb_mutex_unlock(&m->mu);
	xchan_chan_release(gone);
	return XCHAN_OK;
}

int32_t
xchan_mult_untap_all(xchan_mult *m)
{
	if (m == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	mult_tap *taps = m->taps;
	size_t n = m->ntaps, cap = m->cap;
	m->taps = NULL;
	m->ntaps = m->cap = 0;
	comb_mutex_unlock(&m->mu);
	for (size_t i = 0; i < n; i++)
		xchan_chan_release(taps[i].ch);
	if (taps != NULL)
		xchan__free(taps, cap * sizeof(mult_tap));
	return XCHAN_OK;
}
