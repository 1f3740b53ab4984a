/*
 * comb_mix.c — mix, admix, unmix, unmix_all, toggle, solo_mode
 * (core.async mix).
 *
 * Design notes.
 *  - The inputs and their attributes live in `ins` under `mu`.  Every
 *    control call changes them and then offers a token to `change` (a
 *    sliding(1) channel, so bursts of changes coalesce into one wake-up).
 *  - One go task computes the read set from a snapshot (retaining each
 *    channel, since unmix may drop the table's reference meanwhile), as
 *    core.async's calc-state: with solo mode PAUSE and at least one solo
 *    input, only the solo inputs are read; otherwise every input that is
 *    not paused.  It then loops on xchan_alts over the read set plus
 *    `change` (random order).  A value from input c goes to `out` if c is
 *    solo, or if no input is solo and c is not muted; else it is released.
 *    The snapshot is recomputed only after a change or a closed input
 *    (which is removed), as in core.async.
 *  - The task ends when a put to `out` fails, or when the last handle is
 *    released and no input remains (core.async's mix go-loop never ends).
 *    It never closes `out`.
 *  - The task never allocates, so running out of memory cannot stop it:
 *    control calls that grow the input table also allocate read-set arrays
 *    of the same size (`spare`, or XCHAN_ENOMEM to the caller), which the
 *    task swaps in under `mu`.
 *  - Lock: `mu` guards ins/n/cap/spare/solo_mode/released/ended and is never held
 *    across a channel operation.  Lifetime: `refs` counts handles and the
 *    task; `handles` counts handles only (to notice the last release).
 */
#include <string.h>

#include "comb_common.h"
#include "comb_mix.h"

#define MIX_ATTRS (XCHAN_MIX_MUTE | XCHAN_MIX_PAUSE | XCHAN_MIX_SOLO)

typedef struct mix_in {
	xchan_chan *ch;
	uint32_t flags;
} mix_in;

/* A read set: a snapshot of up to `cap` inputs and their alts clauses (one
 * more, for `change`). */
typedef struct mix_rs {
	mix_in *snap;
	xchan_clause *clauses;
	size_t cap;
} mix_rs;

static int
mix_rs_alloc(mix_rs *r, size_t cap)
{
	r->snap = xchan__alloc(cap * sizeof(mix_in));
	r->clauses = xchan__zalloc((cap + 1) * sizeof(xchan_clause));
	r->cap = cap;
	if (r->snap != NULL && r->clauses != NULL)
		return 1;
	xchan__free(r->snap, cap * sizeof(mix_in));
	xchan__free(r->clauses, (cap + 1) * sizeof(xchan_clause));
	memset(r, 0, sizeof(*r));
	return 0;
}

static void
mix_rs_free(mix_rs *r)
{
	if (r->snap != NULL) {
		xchan__free(r->snap, r->cap * sizeof(mix_in));
		xchan__free(r->clauses, (r->cap + 1) * sizeof(xchan_clause));
	}
	memset(r, 0, sizeof(*r));
}

struct xchan_mix {
	_Atomic uint32_t refs;
	_Atomic uint32_t handles;
	comb_mutex mu;
	mix_in *ins;        /* guarded by mu */
	size_t n;           /* guarded by mu */
	size_t cap;         /* guarded by mu */
	uint32_t solo_mode; /* guarded by mu */
	int released;       /* guarded by mu: no handle left */
	int ended;          /* guarded by mu: the task has ended */
	xchan_chan *out;
	xchan_chan *change;
	/* Arrays for a read set as large as `cap` inputs, made by control
	 * calls (which can report XCHAN_ENOMEM) so that the task never
	 * allocates; the task swaps them in when it needs them. */
	mix_rs spare; /* guarded by mu */
	/* Task only: the read set (snapshot + change clause). */
	mix_rs rs;
	size_t snap_n;
	int any_solo;
};

static void
mix_snap_clear(xchan_mix *m)
{
	for (size_t i = 0; i < m->snap_n; i++)
		xchan_chan_release(m->rs.snap[i].ch);
	m->snap_n = 0;
}

static void
mix_free(xchan_mix *m)
{
	mix_snap_clear(m);
	for (size_t i = 0; i < m->n; i++)
		xchan_chan_release(m->ins[i].ch);
	if (m->ins != NULL)
		xchan__free(m->ins, m->cap * sizeof(mix_in));
	mix_rs_free(&m->rs);
	mix_rs_free(&m->spare);
	xchan_chan_release(m->out);
	xchan_chan_release(m->change);
	xchan__free(m, sizeof(*m));
}

static void
mix_unref(xchan_mix *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		mix_free(m);
}

static void
mix_changed(xchan_mix *m)
{
	xchan_offer(m->change, xchan_val_bool(1));
}

xchan_mix *
xchan_mix_retain(xchan_mix *m)
{
	if (m != NULL) {
		atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&m->handles, 1, memory_order_relaxed);
	}
	return m;
}

void
xchan_mix_release(xchan_mix *m)
{
	if (m == NULL)
		return;
	if (atomic_fetch_sub_explicit(&m->handles, 1, memory_order_acq_rel) ==
	    1) {
		comb_mutex_lock(&m->mu);
		m->released = 1;
		comb_mutex_unlock(&m->mu);
		mix_changed(m);
	}
	mix_unref(m);
}

/* Builds the read set; returns 0 when the task should end.  Never
 * allocates: control calls provide arrays large enough (`spare`). */
static int
mix_calc_state(xchan_mix *m)
{
	mix_snap_clear(m);
	comb_mutex_lock(&m->mu);
	if (m->released && m->n == 0) {
		comb_mutex_unlock(&m->mu);
		return 0;
	}
	if (m->n > m->rs.cap) {
		XCHAN_ASSERT(m->spare.cap >= m->n);
		mix_rs_free(&m->rs);
		m->rs = m->spare;
		memset(&m->spare, 0, sizeof(m->spare));
	}
	int any_solo = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->ins[i].flags & XCHAN_MIX_SOLO)
			any_solo = 1;
	int solo_only = any_solo && m->solo_mode == XCHAN_MIX_SOLO_PAUSE;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t f = m->ins[i].flags;
		if (solo_only ? !(f & XCHAN_MIX_SOLO) : (f & XCHAN_MIX_PAUSE))
			continue;
		m->rs.snap[k].ch = xchan_chan_retain(m->ins[i].ch);
		m->rs.snap[k].flags = f;
		k++;
	}
	comb_mutex_unlock(&m->mu);
	m->any_solo = any_solo;
	m->snap_n = k;
	size_t i;
	for (i = 0; i < k; i++) {
		m->rs.clauses[i].op = XCHAN_ALT_TAKE;
		m->rs.clauses[i].chan = m->rs.snap[i].ch;
	}
	m->rs.clauses[i].op = XCHAN_ALT_TAKE;
	m->rs.clauses[i].chan = m->change;
	return 1;
}

static void
mix_remove(xchan_mix *m, xchan_chan *ch)
{
	xchan_chan *gone = NULL;
	comb_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		if (m->ins[i].ch == ch) {
			gone = ch;
			memmove(&m->ins[i], &m->ins[i + 1],
			    (m->n - i - 1) * sizeof(mix_in));
			m->n--;
			break;
		}
	}
	comb_mutex_unlock(&m->mu);
	xchan_chan_release(gone);
}

static int32_t
mix_run(void *arg, xchan_val *result)
{
	xchan_mix *m = arg;
	*result = xchan_val_nil();
	int recalc = 1;
	for (;;) {
		if (recalc && !mix_calc_state(m))
			break;
		recalc = 0;
		xchan_result r;
		int32_t err = xchan_alts(&r, m->rs.clauses, m->snap_n + 1, 0,
		    XCHAN_DEADLINE_NEVER);
		if (r.index < 0 || (err != XCHAN_OK && err != XCHAN_ECLOSED))
			break; /* cannot happen with valid clauses */
		size_t i = (size_t)r.index;
		if (i == m->snap_n) { /* change */
			xchan_val_release(r.val);
			recalc = 1;
		} else if (err == XCHAN_ECLOSED) {
			mix_remove(m, m->rs.snap[i].ch);
			recalc = 1;
		} else if ((m->rs.snap[i].flags & XCHAN_MIX_SOLO) ||
		           (!m->any_solo &&
		               !(m->rs.snap[i].flags & XCHAN_MIX_MUTE))) {
			if (xchan_put(m->out, r.val, XCHAN_DEADLINE_NEVER) !=
			    XCHAN_OK) {
				xchan_val_release(r.val);
				break;
			}
		} else {
			xchan_val_release(r.val); /* muted */
		}
	}
	mix_snap_clear(m);
	comb_mutex_lock(&m->mu);
	m->ended = 1;
	mix_in *ins = m->ins;
	size_t n = m->n, cap = m->cap;
	m->ins = NULL;
	m->n = m->cap = 0;
	comb_mutex_unlock(&m->mu);
	for (size_t j = 0; j < n; j++)
		xchan_chan_release(ins[j].ch);
	if (ins != NULL)
		xchan__free(ins, cap * sizeof(mix_in));
	mix_unref(m);
	return XCHAN_OK;
}

int32_t
xchan_mix_new(xchan_mix **out, xchan_chan **out_done, xchan_chan *out_ch)
{
	if (out != NULL)
		*out = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (out == NULL || out_ch == NULL)
		return XCHAN_EINVAL;
	xchan_mix *m = xchan__zalloc(sizeof(*m));
	if (m == NULL)
		return XCHAN_ENOMEM;
	if (!mix_rs_alloc(&m->rs, 8)) {
		xchan__free(m, sizeof(*m));
		return XCHAN_ENOMEM;
	}
	int32_t err = xchan_chan_make(&m->change, XCHAN_BUF_SLIDING, 1);
	if (err != XCHAN_OK) {
		mix_rs_free(&m->rs);
		xchan__free(m, sizeof(*m));
		return err;
	}
	m->out = xchan_chan_retain(out_ch);
	m->solo_mode = XCHAN_MIX_SOLO_MUTE;
	atomic_init(&m->refs, 2); /* the handle and the task */
	atomic_init(&m->handles, 1);
	if ((err = xchan__comb_go(out_done, mix_run, m, "xchan-mix")) !=
	    XCHAN_OK) {
		mix_free(m);
		return err;
	}
	*out = m;
	return XCHAN_OK;
}

static mix_in *
mix_find_locked(xchan_mix *m, xchan_chan *ch)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->ins[i].ch == ch)
			return &m->ins[i];
	return NULL;
}

/* Makes room for `extra` more inputs, and the task's read set to match.
 * Returns 0 (nothing changed) when out of memory. */
static int
mix_reserve_locked(xchan_mix *m, size_t extra)
{
	if (m->n + extra <= m->cap)
		return 1;
	size_t cap = (m->n + extra) * 2;
	mix_in *a = xchan__alloc(cap * sizeof(mix_in));
	mix_rs rs;
	if (a == NULL || !mix_rs_alloc(&rs, cap)) {
		xchan__free(a, cap * sizeof(mix_in));
		return 0;
	}
	if (m->ins != NULL) {
		memcpy(a, m->ins, m->n * sizeof(mix_in));
		xchan__free(m->ins, m->cap * sizeof(mix_in));
	}
	m->ins = a;
	m->cap = cap;
	mix_rs_free(&m->spare);
	m->spare = rs;
	return 1;
}

int32_t
xchan_mix_toggle(xchan_mix *m, const xchan_mix_toggle_entry *entries, size_t n)
{
	if (m == NULL || (entries == NULL && n > 0))
		return XCHAN_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (entries[i].chan == NULL || (entries[i].mask & ~MIX_ATTRS) ||
		    (entries[i].flags & ~MIX_ATTRS))
			return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	if (m->ended) {
		comb_mutex_unlock(&m->mu);
		return XCHAN_ECLOSED;
	}
	if (!mix_reserve_locked(m, n)) {
		comb_mutex_unlock(&m->mu);
		return XCHAN_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		mix_in *in = mix_find_locked(m, entries[i].chan);
		if (in == NULL) {
			in = &m->ins[m->n++];
			in->ch = xchan_chan_retain(entries[i].chan);
			in->flags = 0;
		}
		in->flags = (in->flags & ~entries[i].mask) |
		            (entries[i].flags & entries[i].mask);
	}
	comb_mutex_unlock(&m->mu);
	mix_changed(m);
	return XCHAN_OK;
}

int32_t
xchan_mix_admix(xchan_mix *m, xchan_chan *ch)
{
	if (m == NULL || ch == NULL)
		return XCHAN_EINVAL;
	xchan_mix_toggle_entry e = {ch, MIX_ATTRS, 0};
	return xchan_mix_toggle(m, &e, 1);
}

int32_t
xchan_mix_unmix(xchan_mix *m, xchan_chan *ch)
{
	if (m == NULL || ch == NULL)
		return XCHAN_EINVAL;
	mix_remove(m, ch);
	mix_changed(m);
	return XCHAN_OK;
}

int32_t
xchan_mix_unmix_all(xchan_mix *m)
{
	if (m == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	mix_in *ins = m->ins;
	size_t n = m->n, cap = m->cap;
	m->ins = NULL;
	m->n = m->cap = 0;
	comb_mutex_unlock(&m->mu);
	for (size_t i = 0; i < n; i++)
		xchan_chan_release(ins[i].ch);
	if (ins != NULL)
		xchan__free(ins, cap * sizeof(mix_in));
	mix_changed(m);
	return XCHAN_OK;
}

int32_t
xchan_mix_solo_mode(xchan_mix *m, uint32_t mode)
{
	if (m == NULL ||
	    (mode != XCHAN_MIX_SOLO_MUTE && mode != XCHAN_MIX_SOLO_PAUSE))
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	m->solo_mode = mode;
	comb_mutex_unlock(&m->mu);
	mix_changed(m);
	return XCHAN_OK;
}

int32_t
xchan_mix_get(uint32_t *out_flags, xchan_mix *m, xchan_chan *ch)
{
	if (out_flags == NULL || m == NULL || ch == NULL)
		return XCHAN_EINVAL;
	comb_mutex_lock(&m->mu);
	mix_in *in = mix_find_locked(m, ch);
	*out_flags = in != NULL ? in->flags : 0;
	comb_mutex_unlock(&m->mu);
	return in != NULL ? XCHAN_OK : XCHAN_EINVAL;
}

int
xchan__mix_settled(xchan_mix *m)
{
	xchan_chan_info info = {0};
	info.size = sizeof(info);
	if (xchan_chan_info_get(&info, m->change) != XCHAN_OK)
		return 0;
	return info.count == 0;
}
