/*
 * stress_test.c — many threads doing random put/take/offer/poll/alts/close/
 * timeout/async-with-cancel on shared channels for XCHAN_STRESS_SECONDS
 * (default 5).  Every value is unique; at the end every channel is closed
 * and drained, and every value whose put succeeded must have been taken
 * exactly once; no value may be taken twice or taken without a successful
 * put.  Only fixed and unbuffered channels take part (dropping, sliding and
 * promise channels drop or repeat values by design).
 */
#include "testing/xtest.h"
#include "testing/xthread.h"

#define THREADS 8
#define MAX_OPS (1 << 18) /* values per thread */
#define SLOTS 6
#define GRAVE_MAX 4096

static _Atomic(xchan_chan *) g_slot[SLOTS];
static xchan_chan *g_grave[GRAVE_MAX];
static _Atomic int g_ngrave;
static _Atomic uint8_t g_put_ok[THREADS][MAX_OPS];
static _Atomic uint8_t g_taken[THREADS][MAX_OPS];
static _Atomic int64_t g_async_started, g_async_done;
static _Atomic int g_stop;
static _Atomic int64_t g_ops;

static xchan_chan *
new_chan(uint64_t r)
{
	static const uint64_t caps[] = {0, 1, 4, 16};
	uint64_t cap = caps[r % 4];
	xchan_chan *ch;
	xchan_chan_make(&ch, cap ? XCHAN_BUF_FIXED : XCHAN_BUF_NONE, cap);
	int i =
	    atomic_fetch_add(&g_ngrave, 1); /* callers keep it < GRAVE_MAX */
	g_grave[i] = ch; /* every channel stays alive until the end */
	return ch;
}

static inline void
mark_put(int64_t id)
{
	atomic_fetch_add(&g_put_ok[id >> 32][id & 0xffffffff], 1);
}

static inline void
mark_taken(xchan_val v)
{
	int64_t id = xt_int(v);
	atomic_fetch_add(&g_taken[id >> 32][id & 0xffffffff], 1);
}

static void
async_put_done(void *user, xchan_result *r)
{
	if (r->err == XCHAN_OK)
		mark_put((int64_t)(intptr_t)user);
	atomic_fetch_add(&g_async_done, 1);
}

static void
async_take_done(void *user, xchan_result *r)
{
	(void)user;
	if (r->err == XCHAN_OK)
		mark_taken(r->val);
	atomic_fetch_add(&g_async_done, 1);
}

typedef struct worker {
	int id;
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

static void *
work(void *p)
{
	worker *w = p;
	uint32_t seq = 0;
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed) &&
	       seq < MAX_OPS - 8) {
		xchan_chan *ch = atomic_load(&g_slot[rnd(w) % SLOTS]);
		int64_t id = ((int64_t)w->id << 32) | seq;
		xchan_val v;
		switch (rnd(w) % 10) {
		case 0:
		case 1:
			seq++;
			if (xchan_put(ch, xchan_val_int(id),
			        small_deadline(w)) == XCHAN_OK)
				mark_put(id);
			break;
		case 2:
			seq++;
			if (xchan_offer(ch, xchan_val_int(id)) == XCHAN_OK)
				mark_put(id);
			break;
		case 3:
		case 4:
			if (xchan_take(&v, ch, small_deadline(w)) == XCHAN_OK)
				mark_taken(v);
			break;
		case 5:
			if (xchan_poll(&v, ch) == XCHAN_OK)
				mark_taken(v);
			break;
		case 6: { /* alts over 3 clauses, one of them maybe a timeout */
			xchan_clause cl[3];
			xchan_chan *tmo = NULL;
			int64_t ids[3] = {-1, -1, -1};
			for (int k = 0; k < 3; k++) {
				xchan_chan *c =
				    atomic_load(&g_slot[rnd(w) % SLOTS]);
				if (k == 2 && rnd(w) % 2) {
					xchan_timeout(&tmo,
					    (int64_t)(rnd(w) % 2));
					cl[k] = (xchan_clause) {XCHAN_ALT_TAKE,
					    0, tmo, {0, 0, 0}};
				} else if (rnd(w) % 2) {
					ids[k] = ((int64_t)w->id << 32) | seq++;
					cl[k] = (xchan_clause) {XCHAN_ALT_PUT,
					    0, c, xchan_val_int(ids[k])};
				} else {
					cl[k] = (xchan_clause) {XCHAN_ALT_TAKE,
					    0, c, {0, 0, 0}};
				}
			}
			xchan_result r;
			int32_t e = xchan_alts(&r, cl, 3, 0, small_deadline(w));
			if (e == XCHAN_OK) {
				if (cl[r.index].op == XCHAN_ALT_PUT)
					mark_put(ids[r.index]);
				else if (cl[r.index].chan != tmo)
					mark_taken(r.val);
			}
			xchan_chan_release(tmo);
			break;
		}
		case 7: {
			seq++;
			xchan_op *op = NULL;
			atomic_fetch_add(&g_async_started, 1);
			if (xchan_put_async(&op, ch, xchan_val_int(id), 0,
			        async_put_done,
			        (void *)(intptr_t)id) != XCHAN_OK) {
				atomic_fetch_add(&g_async_done, 1);
				break;
			}
			if (op && rnd(w) % 2)
				xchan_op_cancel(op);
			xchan_op_release(op);
			break;
		}
		case 8: {
			xchan_op *op = NULL;
			atomic_fetch_add(&g_async_started, 1);
			if (xchan_take_async(&op, ch, 0, async_take_done,
			        NULL) != XCHAN_OK) {
				atomic_fetch_add(&g_async_done, 1);
				break;
			}
			if (op && rnd(w) % 2)
				xchan_op_cancel(op);
			xchan_op_release(op);
			break;
		}
		case 9:
			if (rnd(w) % 500 == 0 &&
			    atomic_load(&g_ngrave) < GRAVE_MAX - 16) {
				/* close a shared channel and put a fresh one in its slot */
				int s = (int)(rnd(w) % SLOTS);
				xchan_chan *old = atomic_exchange(&g_slot[s],
				    new_chan(rnd(w)));
				xchan_chan_close(old);
			}
			break;
		}
		atomic_fetch_add_explicit(&g_ops, 1, memory_order_relaxed);
	}
	return NULL;
}

XTEST(stress_no_value_lost_or_duplicated)
{
	const char *s = getenv("XCHAN_STRESS_SECONDS");
	double seconds = s ? atof(s) : 5.0;
	for (int i = 0; i < SLOTS; i++)
		atomic_store(&g_slot[i], new_chan((uint64_t)i));
	worker ws[THREADS];
	xt_thread th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		ws[i] = (worker) {i, 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)};
		xt_start(&th[i], work, &ws[i]);
	}
	xt_sleep_ms((int64_t)(seconds * 1000));
	atomic_store(&g_stop, 1);
	for (int i = 0; i < THREADS; i++)
		xt_join(&th[i]);
	/* Close and drain everything: pending puts complete as they are taken,
	 * pending takes complete with ECLOSED. */
	int n = atomic_load(&g_ngrave);
	for (int i = 0; i < n; i++)
		xchan_chan_close(g_grave[i]);
	for (int i = 0; i < n; i++) {
		xchan_val v;
		while (xchan_poll(&v, g_grave[i]) == XCHAN_OK)
			mark_taken(v);
	}
	int64_t end = xchan_now() + 10000 * 1000000LL;
	while (atomic_load(&g_async_done) < atomic_load(&g_async_started) &&
	       xchan_now() < end)
		xt_sleep_ms(2);
	XCHECK_EQ(atomic_load(&g_async_done), atomic_load(&g_async_started));
	long lost = 0, dup = 0, phantom = 0, put_ok = 0;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < MAX_OPS; i++) {
			int p = atomic_load(&g_put_ok[t][i]),
			    k = atomic_load(&g_taken[t][i]);
			put_ok += p;
			lost += p == 1 && k == 0;
			dup += k > 1 || p > 1;
			phantom += k > 0 && p == 0;
		}
	}
	fprintf(stderr,
	    "  %lld ops, %ld successful puts, %d channels; lost %ld, duplicated %ld, phantom %ld\n",
	    (long long)atomic_load(&g_ops), put_ok, n, lost, dup, phantom);
	XCHECK_EQ(lost, 0);
	XCHECK_EQ(dup, 0);
	XCHECK_EQ(phantom, 0);
	XCHECK(put_ok > 1000);
	for (int i = 0; i < n; i++) {
		xchan_chan_info info = xt_info(g_grave[i]);
		XCHECK(info.pending_puts == 0 && info.pending_takes == 0 &&
		       info.count == 0);
		xchan_chan_release(g_grave[i]);
	}
}

XTEST_MAIN()
