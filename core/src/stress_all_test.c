/*
 * stress_all_test.c — stress with exact accounting over every feature.
 *
 * OS threads and go tasks run the same random mix of operations on shared
 * channels of every kind: unbuffered, fixed (1 and 16), dropping, sliding,
 * promise, and fixed channels with a filter, a map or a take transform.
 * The operations: put and take with short deadlines, offer, poll, alts with
 * mixed put and take clauses (sometimes a timeout clause, random or
 * priority order), put_async / take_async / alts_async (some with a
 * deadline) with cancel, and close (the closed channel is replaced by a new
 * one of the same kind).
 *
 * Every value is a box with a unique number; its destructor counts the
 * releases.  At the end every channel is closed and drained, every async op
 * has called back, every channel is released, and then, exactly:
 *  - every value was released exactly once (none leaked, none twice);
 *  - no value was taken that was not put, and none was taken from a channel
 *    it was not put on;
 *  - accepted puts = values taken (during the run or drained after close)
 *    + values dropped by policy, where "dropped" (released without being
 *    taken) is allowed only where a policy drops: dropping and sliding
 *    buffers, the filter (and only values it rejects), a take transform
 *    that stopped (discarding pending puts), and promise channels;
 *  - no value was taken twice, except from a promise channel, which is
 *    accounted separately: every take of one promise channel gives the same
 *    value (its first), and its later puts are dropped.
 *
 * XCHAN_STRESS_ALL_SECONDS sets the duration (default 2; 0.5 under
 * valgrind), extended up to a minute until every op has run on both kinds.  The op counts are printed so the log shows what ran.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "chan.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

#define THREADS 3
#define TASKS 6
#define SLOTS 9
#define GRAVE_MAX 60000
#define TAKE_N 40 /* the take transform's n */

enum {
	K_NONE,
	K_FIXED1,
	K_FIXED16,
	K_DROPPING,
	K_SLIDING,
	K_PROMISE,
	K_FILTER,
	K_MAP,
	K_TAKE,
	K_KINDS
};
static const char *kind_name[K_KINDS] = {"unbuffered", "fixed(1)", "fixed(16)",
    "dropping(3)", "sliding(3)", "promise", "fixed(4)+filter", "fixed(2)+map",
    "fixed(4)+take(40)"};

typedef struct vrec {
	_Atomic uint32_t taken;
	_Atomic uint8_t put_ok;
	_Atomic uint8_t released;
	_Atomic uint8_t drained;
	uint32_t chan; /* grave index of the channel it was put on */
} vrec;

typedef struct chrec {
	xchan_chan *ch;
	int kind;
	_Atomic uint32_t promise_id; /* first value taken (promise) */
	_Atomic uint32_t distinct_taken;
} chrec;

static vrec *g_v;
static uint32_t g_maxv;
static _Atomic uint32_t g_nv;
static chrec g_ch[GRAVE_MAX];
static _Atomic int g_nch;
static _Atomic int g_slot[SLOTS];
static _Atomic int g_stop;
static _Atomic long g_async_started, g_async_done;
static _Atomic long g_bad_chan, g_bad_filter, g_bad_promise;

enum {
	OP_PUT,
	OP_OFFER,
	OP_TAKE,
	OP_POLL,
	OP_ALTS,
	OP_PUT_ASYNC,
	OP_TAKE_ASYNC,
	OP_ALTS_ASYNC,
	OP_CANCEL_WON,
	OP_CLOSE,
	OP_TIMEOUT_WON,
	OP_KINDS
};
static const char *op_name[OP_KINDS] = {"put", "offer", "take", "poll", "alts",
    "put_async", "take_async", "alts_async", "cancel(won)", "close",
    "timeout(won)"};
static _Atomic long g_ops[2][OP_KINDS]; /* [0] threads, [1] go tasks */

/* ---- values ---------------------------------------------------------------- */

static void
box_dtor(void *ptr)
{
	uint32_t id = (uint32_t)(uintptr_t)ptr - 1;
	atomic_fetch_add(&g_v[id].released, 1);
}

static uint32_t
id_of(xchan_val v)
{
	void *p = NULL;
	xchan_get_box(v, &p);
	return (uint32_t)(uintptr_t)p - 1;
}

/* A new value for a put on channel `ci`; nil when the run is out of ids. */
static xchan_val
new_value(int ci, uint32_t *id)
{
	xchan_val v = xchan_val_nil();
	uint32_t i = atomic_fetch_add(&g_nv, 1);
	if (i >= g_maxv) {
		atomic_store(&g_stop, 1);
		return v;
	}
	g_v[i].chan = (uint32_t)ci;
	if (xchan_val_box(&v, (void *)(uintptr_t)(i + 1), box_dtor) !=
	    XCHAN_OK) {
		atomic_fetch_add(&g_v[i].released, 1); /* never made */
		return xchan_val_nil();
	}
	*id = i;
	return v;
}

static int
keep(uint32_t id)
{
	return id % 3 != 0;
}

/* A value taken from channel `ci` (then released by the caller). */
static void
mark_taken(xchan_val v, int ci, int drained)
{
	uint32_t id = id_of(v);
	chrec *c = &g_ch[ci];
	if (g_v[id].chan != (uint32_t)ci)
		atomic_fetch_add(&g_bad_chan, 1);
	if (c->kind == K_FILTER && !keep(id))
		atomic_fetch_add(&g_bad_filter, 1);
	if (c->kind == K_PROMISE) {
		uint32_t want = 0;
		if (!atomic_compare_exchange_strong(&c->promise_id, &want,
		        id + 1) &&
		    want != id + 1)
			atomic_fetch_add(&g_bad_promise, 1);
	}
	if (atomic_fetch_add(&g_v[id].taken, 1) == 0) {
		atomic_fetch_add(&c->distinct_taken, 1);
		if (drained) /* first taken after close, by the drain */
			atomic_store(&g_v[id].drained, 1);
	}
}

/* ---- channels ---------------------------------------------------------------- */

static xchan_val
map_identity(void *user, xchan_val in)
{
	(void)user;
	return xchan_val_retain(in);
}

static int32_t
filter_keep(void *user, xchan_val in)
{
	(void)user;
	return keep(id_of(in));
}

static _Atomic long g_lf_chans; /* channels started on the lock-free ring */

static int
new_chan(int kind)
{
	int ci = atomic_fetch_add(&g_nch, 1);
	xchan_chan_opts o = {.size = sizeof(o)};
	static const uint32_t bk[K_KINDS] = {XCHAN_BUF_NONE, XCHAN_BUF_FIXED,
	    XCHAN_BUF_FIXED, XCHAN_BUF_DROPPING, XCHAN_BUF_SLIDING,
	    XCHAN_BUF_PROMISE, XCHAN_BUF_FIXED, XCHAN_BUF_FIXED,
	    XCHAN_BUF_FIXED};
	static const uint64_t cap[K_KINDS] = {0, 1, 16, 3, 3, 0, 4, 2, 4};
	o.buf_kind = bk[kind];
	o.capacity = cap[kind];
	if (kind == K_FILTER)
		xchan_xform_filter(&o.xform, filter_keep, NULL);
	else if (kind == K_MAP)
		xchan_xform_map(&o.xform, map_identity, NULL);
	else if (kind == K_TAKE)
		xchan_xform_take(&o.xform, TAKE_N);
	g_ch[ci].kind = kind;
	if (xchan_chan_new(&g_ch[ci].ch, &o) != XCHAN_OK) {
		fprintf(stderr, "  stress_all: xchan_chan_new failed\n");
		abort();
	}
	/* Every other fixed(16) starts on its lock-free ring (as contention
	 * would move it), so blocking puts and takes sleep there as plain
	 * waiters amid alts, async ops, cancels and closes (lfwait.h). */
	if (kind == K_FIXED16 && ci % 2 == 1 &&
	    xchan__chan_lf_force(g_ch[ci].ch))
		atomic_fetch_add(&g_lf_chans, 1);
	return ci;
}

/* ---- workers ------------------------------------------------------------------- */

typedef struct worker {
	int go; /* 1: a go task */
	uint64_t rng;
} worker;

static uint64_t
rnd(worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void
count(worker *w, int op)
{
	atomic_fetch_add_explicit(&g_ops[w->go][op], 1, memory_order_relaxed);
}

static xchan_deadline
small_deadline(worker *w)
{
	switch (rnd(w) % 3) {
	case 0:
		return XCHAN_DEADLINE_POLL;
	case 1:
		return xchan_now() + (int64_t)(rnd(w) % 200) * 1000;
	default:
		return xchan_deadline_in_ms((int64_t)(rnd(w) % 3));
	}
}

/* An async op's context: its clauses, their channels and values. */
typedef struct actx {
	int n;
	int single; /* put_async / take_async */
	int ci[3];
	int is_put[3];
	uint32_t id[3];
	xchan_val val[3]; /* put values */
	xchan_chan *tmo;  /* a timeout clause's channel, or NULL */
} actx;

static void
async_done(void *user, xchan_result *r)
{
	actx *a = user;
	if (r->index >= 0 && r->err == XCHAN_OK) {
		int i = r->index;
		if (a->is_put[i])
			atomic_store(&g_v[a->id[i]].put_ok, 1);
		else if (a->ci[i] >= 0)
			mark_taken(r->val, a->ci[i], 0);
	}
	if (r->err == XCHAN_ECLOSED && r->index >= 0 && a->ci[r->index] < 0)
		atomic_fetch_add(&g_ops[0][OP_TIMEOUT_WON], 1);
	/* What the callback owns: a taken value, a put value handed back
	 * (put_async); alts put values that did not deliver stay ours. */
	xchan_val_release(r->val);
	if (!a->single) {
		for (int i = 0; i < a->n; i++)
			if (a->is_put[i] &&
			    !(i == r->index && r->err == XCHAN_OK))
				xchan_val_release(a->val[i]);
	}
	xchan_chan_release(a->tmo);
	free(a);
	atomic_fetch_add(&g_async_done, 1);
}

static int
pick(worker *w)
{
	return atomic_load(&g_slot[rnd(w) % SLOTS]);
}

/* Builds up to 3 clauses, mixed puts and takes, maybe a timeout clause. */
static int
make_clauses(worker *w, xchan_clause *cl, actx *a, int n)
{
	int made = 0;
	a->tmo = NULL;
	for (int k = 0; k < n; k++) {
		int ci = pick(w);
		a->ci[made] = ci;
		a->is_put[made] = 0;
		cl[made] =
		    (xchan_clause) {XCHAN_ALT_TAKE, 0, g_ch[ci].ch, {0, 0, 0}};
		if (k == n - 1 && rnd(w) % 4 == 0 &&
		    xchan_timeout(&a->tmo, (int64_t)(rnd(w) % 2)) == XCHAN_OK) {
			a->ci[made] = -1;
			cl[made].chan = a->tmo;
		} else if (rnd(w) % 2) {
			xchan_val v = new_value(ci, &a->id[made]);
			if (v.kind == XCHAN_NIL)
				continue;
			a->is_put[made] = 1;
			a->val[made] = v;
			cl[made].op = XCHAN_ALT_PUT;
			cl[made].val = v;
		}
		made++;
	}
	a->n = made;
	return made;
}

static void
release_clause_vals(const xchan_clause *cl, int n, int except)
{
	for (int i = 0; i < n; i++)
		if (cl[i].op == XCHAN_ALT_PUT && i != except)
			xchan_val_release(cl[i].val);
}

static void
op_alts(worker *w)
{
	xchan_clause cl[3];
	actx a;
	int n = make_clauses(w, cl, &a, 1 + (int)(rnd(w) % 3));
	if (n == 0)
		return;
	xchan_result r;
	uint32_t flags = rnd(w) % 2 ? XCHAN_ALTS_PRIORITY : 0;
	int32_t e = xchan_alts(&r, cl, (size_t)n, flags, small_deadline(w));
	int delivered = -1;
	if (e == XCHAN_OK) {
		int i = r.index;
		if (a.is_put[i]) {
			atomic_store(&g_v[a.id[i]].put_ok, 1);
			delivered = i;
		} else if (a.ci[i] >= 0) {
			mark_taken(r.val, a.ci[i], 0);
		}
	} else if (e == XCHAN_ECLOSED && r.index >= 0 && a.ci[r.index] < 0) {
		count(w, OP_TIMEOUT_WON);
	}
	xchan_val_release(r.val);
	release_clause_vals(cl, n, delivered);
	xchan_chan_release(a.tmo);
	count(w, OP_ALTS);
}

static void
op_async(worker *w, int kind)
{
	actx *a = calloc(1, sizeof(*a));
	xchan_clause cl[3];
	xchan_op *op = NULL;
	int32_t e;
	int ci = pick(w);
	if (a == NULL)
		return;
	atomic_fetch_add(&g_async_started, 1);
	if (kind == OP_PUT_ASYNC) {
		xchan_val v = new_value(ci, &a->id[0]);
		if (v.kind == XCHAN_NIL) {
			free(a);
			atomic_fetch_add(&g_async_done, 1);
			return;
		}
		a->n = 1;
		a->single = 1;
		a->ci[0] = ci;
		a->is_put[0] = 1;
		e = xchan_put_async(&op, g_ch[ci].ch, v, 0, async_done, a);
		if (e != XCHAN_OK)
			xchan_val_release(v);
	} else if (kind == OP_TAKE_ASYNC) {
		a->n = 1;
		a->single = 1;
		a->ci[0] = ci;
		e = xchan_take_async(&op, g_ch[ci].ch, 0, async_done, a);
	} else {
		int n = make_clauses(w, cl, a, 1 + (int)(rnd(w) % 3));
		xchan_deadline dl =
		    rnd(w) % 2 ? XCHAN_DEADLINE_NEVER
		               : xchan_deadline_in_ms((int64_t)(rnd(w) % 3));
		e = n == 0 ? XCHAN_EINVAL
		           : xchan_alts_async(&op, cl, (size_t)n,
		                 rnd(w) % 2 ? XCHAN_ALTS_PRIORITY : 0, dl,
		                 async_done, a);
		if (e != XCHAN_OK) {
			release_clause_vals(cl, n, -1);
			xchan_chan_release(a->tmo);
		}
	}
	if (e != XCHAN_OK) { /* never calls back */
		free(a);
		atomic_fetch_add(&g_async_done, 1);
		return;
	}
	count(w, kind);
	if (op != NULL && rnd(w) % 2 && xchan_op_cancel(op) == XCHAN_OK)
		count(w, OP_CANCEL_WON);
	xchan_op_release(op);
}

static void
work(worker *w)
{
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		int ci = pick(w);
		chrec *c = &g_ch[ci];
		xchan_val v;
		uint32_t id;
		int32_t e;
		switch (rnd(w) % 12) {
		case 0:
		case 1:
		case 2:
			v = new_value(ci, &id);
			if (v.kind == XCHAN_NIL)
				break;
			if (rnd(w) % 3 == 0) {
				e = xchan_offer(c->ch, v);
				count(w, OP_OFFER);
			} else {
				e = xchan_put(c->ch, v, small_deadline(w));
				count(w, OP_PUT);
			}
			if (e == XCHAN_OK)
				atomic_store(&g_v[id].put_ok, 1);
			else
				xchan_val_release(v);
			break;
		case 3:
		case 4:
		case 5:
			if (rnd(w) % 3 == 0) {
				e = xchan_poll(&v, c->ch);
				count(w, OP_POLL);
			} else {
				e = xchan_take(&v, c->ch, small_deadline(w));
				count(w, OP_TAKE);
			}
			if (e == XCHAN_OK) {
				mark_taken(v, ci, 0);
				xchan_val_release(v);
			}
			break;
		case 6:
		case 7:
			op_alts(w);
			break;
		case 8:
			op_async(w, OP_PUT_ASYNC);
			break;
		case 9:
			op_async(w, OP_TAKE_ASYNC);
			break;
		case 10:
			op_async(w, OP_ALTS_ASYNC);
			break;
		default: {
			/* Close and replace: rarely, or at once when the
			 * channel closed itself (a take transform). */
			int s = (int)(rnd(w) % SLOTS);
			int old = atomic_load(&g_slot[s]);
			xchan_chan_info info = xt_info(g_ch[old].ch);
			if ((info.closed || rnd(w) % 256 == 0) &&
			    atomic_load(&g_nch) < GRAVE_MAX - 64) {
				int fresh = new_chan(g_ch[old].kind);
				if (atomic_compare_exchange_strong(&g_slot[s],
				        &old, fresh)) {
					xchan_chan_close(g_ch[old].ch);
					count(w, OP_CLOSE);
				} else {
					xchan_chan_close(g_ch[fresh].ch);
				}
			}
			break;
		}
		}
	}
}

static void *
thread_main(void *p)
{
	work(p);
	return NULL;
}

static int32_t
task_main(void *arg, xchan_val *result)
{
	work(arg);
	*result = xchan_val_nil();
	return XCHAN_OK;
}

/* ---- the test ---------------------------------------------------------------- */

static double
run_seconds(void)
{
	const char *s = getenv("XCHAN_STRESS_ALL_SECONDS");
	if (s != NULL)
		return atof(s);
	return getenv("XCHAN_UNDER_VALGRIND") ? 0.5 : 2.0;
}

static void
drain_all(int n)
{
	for (int i = 0; i < n; i++) {
		xchan_val v;
		if (g_ch[i].kind ==
		    K_PROMISE) { /* hands out its value for ever */
			if (xchan_poll(&v, g_ch[i].ch) == XCHAN_OK) {
				mark_taken(v, i, 1);
				xchan_val_release(v);
			}
			continue;
		}
		while (xchan_poll(&v, g_ch[i].ch) == XCHAN_OK) {
			mark_taken(v, i, 1);
			xchan_val_release(v);
		}
	}
}

/* Every op ran at least once on threads and on go tasks, and some
 * thousands of values were made. */
static int
every_op_ran(void)
{
	if (atomic_load(&g_nv) < 2000)
		return 0;
	for (int k = 0; k < OP_CANCEL_WON; k++)
		if (atomic_load(&g_ops[0][k]) == 0 ||
		    atomic_load(&g_ops[1][k]) == 0)
			return 0;
	return 1;
}

XTEST(stress_all_features_exact_accounting)
{
	double seconds = run_seconds();
	g_maxv = seconds > 10 ? 1u << 23 : 1u << 22;
	g_v = calloc(g_maxv, sizeof(vrec));
	XREQUIRE(g_v != NULL);
	for (int s = 0; s < SLOTS; s++)
		atomic_store(&g_slot[s], new_chan(s % K_KINDS));
	worker ws[THREADS + TASKS];
	xt_thread th[THREADS];
	xchan_chan *done[TASKS];
	for (int i = 0; i < THREADS + TASKS; i++)
		ws[i] = (worker) {i >= THREADS,
		    0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)};
	for (int i = 0; i < THREADS; i++)
		xt_start(&th[i], thread_main, &ws[i]);
	for (int i = 0; i < TASKS; i++)
		XCHECK_ERR(xchan_go(&done[i], task_main, &ws[THREADS + i],
		               NULL),
		    XCHAN_OK);
	/* Run for the set time, then on (at most a minute) until every op ran
	 * on both worker kinds: on a loaded machine, or under valgrind, the set
	 * time alone may not reach every op, and the coverage checks below
	 * would then fail for want of time rather than for a fault. */
	int64_t end = xchan_now() + (int64_t)(seconds * 1e9);
	int64_t cap = end + 60 * 1000000000LL;
	while (!atomic_load(&g_stop)) {
		int64_t now = xchan_now();
		if (now >= cap || (now >= end && every_op_ran()))
			break;
		xt_sleep_ms(10);
	}
	atomic_store(&g_stop, 1);
	for (int i = 0; i < THREADS; i++)
		xt_join(&th[i]);
	for (int i = 0; i < TASKS; i++) {
		xchan_val r;
		XCHECK_ERR(xchan_take(&r, done[i], xt_deadline_s(60)),
		    XCHAN_ECLOSED);
		xchan_chan_release(done[i]);
	}
	/* Close and drain: pending puts complete as they are taken, pending
	 * takes complete with ECLOSED, timed async ops time out. */
	int n = atomic_load(&g_nch);
	for (int i = 0; i < n; i++)
		xchan_chan_close(g_ch[i].ch);
	drain_all(n);
	end = xchan_now() + 20 * 1000000000LL;
	while (atomic_load(&g_async_done) < atomic_load(&g_async_started) &&
	       xchan_now() < end) {
		drain_all(n);
		xt_sleep_ms(2);
	}
	XCHECK_EQ(atomic_load(&g_async_done), atomic_load(&g_async_started));
	drain_all(n);
	for (int i = 0; i < n; i++) {
		xchan_chan_info info = xt_info(g_ch[i].ch);
		XCHECK(info.pending_puts == 0 && info.pending_takes == 0);
		XCHECK(info.count ==
		       (g_ch[i].kind == K_PROMISE && g_ch[i].promise_id != 0));
		xchan_chan_release(g_ch[i].ch);
	}

	/* The books. */
	long accepted[K_KINDS] = {0}, taken[K_KINDS] = {0},
	     drained[K_KINDS] = {0}, dropped[K_KINDS] = {0};
	long lost = 0, dup = 0, phantom = 0, leaked = 0, twice = 0;
	uint32_t nv = atomic_load(&g_nv);
	if (nv > g_maxv)
		nv = g_maxv;
	for (uint32_t i = 0; i < nv; i++) {
		vrec *r = &g_v[i];
		int kind = g_ch[r->chan].kind;
		uint32_t t = atomic_load(&r->taken);
		int rel = atomic_load(&r->released);
		leaked += rel == 0;
		twice += rel > 1;
		if (!atomic_load(&r->put_ok)) {
			phantom += t > 0;
			continue;
		}
		accepted[kind]++;
		if (t > 0) {
			if (atomic_load(&r->drained))
				drained[kind]++;
			else
				taken[kind]++;
			dup += t > 1 && kind != K_PROMISE;
			continue;
		}
		dropped[kind]++;
		/* Only a dropping policy may lose a value. */
		if (kind == K_NONE || kind == K_FIXED1 || kind == K_FIXED16 ||
		    kind == K_MAP || (kind == K_FILTER && keep(i)))
			lost++;
	}
	long take_over = 0;
	for (int i = 0; i < n; i++)
		if (g_ch[i].kind == K_TAKE && g_ch[i].distinct_taken > TAKE_N)
			take_over++;
	long ops_total = 0;
	fprintf(stderr,
	    "  stress_all: %.1f s, %d threads + %d go tasks, %d "
	    "channels (%ld on the lock-free ring), %u values\n",
	    seconds, THREADS, TASKS, n, atomic_load(&g_lf_chans), nv);
	for (int k = 0; k < OP_KINDS; k++) {
		long a = g_ops[0][k], b = g_ops[1][k];
		ops_total += a + b;
		fprintf(stderr, "    %-12s %9ld (threads %ld, go tasks %ld)\n",
		    op_name[k], a + b, a, b);
	}
	fprintf(stderr, "    total ops    %9ld\n", ops_total);
	fprintf(stderr, "    %-18s %9s = %9s + %9s + %9s\n", "channel kind",
	    "accepted", "taken", "drained", "dropped");
	long sum_acc = 0;
	for (int k = 0; k < K_KINDS; k++) {
		fprintf(stderr, "    %-18s %9ld = %9ld + %9ld + %9ld%s\n",
		    kind_name[k], accepted[k], taken[k], drained[k], dropped[k],
		    k == K_PROMISE ? "  (promise: first value kept, later "
		                     "puts dropped)"
		                   : "");
		XCHECK_EQ(accepted[k], taken[k] + drained[k] + dropped[k]);
		sum_acc += accepted[k];
	}
	fprintf(stderr,
	    "    lost %ld, duplicated %ld, phantom %ld, leaked %ld, released "
	    "twice %ld, wrong channel %ld, filter let through %ld, promise "
	    "gave two values %ld, take(n) over n %ld\n",
	    lost, dup, phantom, leaked, twice, (long)atomic_load(&g_bad_chan),
	    (long)atomic_load(&g_bad_filter), (long)atomic_load(&g_bad_promise),
	    take_over);
	XCHECK_EQ(lost, 0);
	XCHECK_EQ(dup, 0);
	XCHECK_EQ(phantom, 0);
	XCHECK_EQ(leaked, 0);
	XCHECK_EQ(twice, 0);
	XCHECK_EQ(atomic_load(&g_bad_chan), 0);
	XCHECK_EQ(atomic_load(&g_bad_filter), 0);
	XCHECK_EQ(atomic_load(&g_bad_promise), 0);
	XCHECK_EQ(take_over, 0);
	/* It exercised something: every kind took values, both worker
	 * kinds ran every op. */
	XCHECK(sum_acc > 1000);
	for (int k = 0; k < K_KINDS; k++)
		XCHECK(taken[k] + drained[k] > 0);
	for (int k = 0; k < OP_CANCEL_WON; k++)
		XCHECK(g_ops[0][k] > 0 && g_ops[1][k] > 0);
	free(g_v);
	/* Join the executors' threads now: the exit-time shutdown waits only
	 * 500 ms for them, which a loaded machine under TSan can exceed (a
	 * "thread leak" report, not a fault of the code under test). */
	XCHECK_ERR(xchan_shutdown(), XCHAN_OK);
}

XTEST_MAIN()
