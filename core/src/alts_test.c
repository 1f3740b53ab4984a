/*
 * alts_test.c — alts: readiness, :default (POLL), priority, fairness,
 * exactly-one commit under contention, crossing alts without deadlock,
 * eager removal of losing registrations (docs/semantics.md §2.8, §4 20-22, 30-35).
 */
#include "testing/xtest.h"
#include "testing/xthread.h"

#define DL(ms) xchan_deadline_in_ms(ms)

static xchan_chan *
mk(uint32_t kind, uint64_t cap)
{
	xchan_chan *ch = NULL;
	xchan_chan_make(&ch, kind, cap);
	return ch;
}

static xchan_clause
tk(xchan_chan *ch)
{
	xchan_clause c = {XCHAN_ALT_TAKE, 0, ch, {0, 0, 0}};
	return c;
}

static xchan_clause
pt(xchan_chan *ch, xchan_val v)
{
	xchan_clause c = {XCHAN_ALT_PUT, 0, ch, v};
	return c;
}

/* §4.30/32: one ready channel wins; nothing ready + POLL = :default. */
XTEST(alts_ready_and_default)
{
	xchan_chan *a = mk(XCHAN_BUF_FIXED, 1), *b = mk(XCHAN_BUF_FIXED, 1);
	xchan_put(b, xchan_val_int(42), XCHAN_DEADLINE_NEVER);
	xchan_clause cl[] = {tk(a), tk(b)};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_EQ(r.index, 1);
	XCHECK_EQ(xt_int(r.val), 42);
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_POLL), XCHAN_EAGAIN);
	XCHECK_EQ(r.index, -1);
	XCHECK_EQ(xt_info(a).pending_takes + xt_info(b).pending_takes, 0);
	int64_t t0 = xchan_now();
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, DL(30)), XCHAN_ETIMEDOUT);
	XCHECK(xchan_now() - t0 >= 30 * 1000000LL);
	XCHECK_EQ(xt_info(a).pending_takes + xt_info(b).pending_takes, 0);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* A put clause wins when there is room; the value of a losing put stays. */
XTEST(alts_put_clause)
{
	xchan_chan *full = mk(XCHAN_BUF_FIXED, 1),
	           *room = mk(XCHAN_BUF_FIXED, 1);
	xchan_put(full, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	xchan_clause cl[] = {pt(full, xchan_val_int(2)),
	    pt(room, xchan_val_int(3))};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_EQ(r.index, 1);
	xchan_val v;
	xchan_poll(&v, room);
	XCHECK_EQ(xt_int(v), 3);
	xchan_chan_release(full);
	xchan_chan_release(room);
}

/* §4.21 (ASYNC-204): priority alts over [take open, put closed], 10,000
 * times: the closed put completes it with ECLOSED, never an error. */
XTEST(alts_write_on_closed)
{
	xchan_chan *open = mk(XCHAN_BUF_NONE, 0),
	           *closed = mk(XCHAN_BUF_NONE, 0);
	xchan_chan_close(closed);
	xchan_clause cl[] = {tk(open), pt(closed, xchan_val_int(1))};
	int good = 0;
	for (int i = 0; i < 10000; i++) {
		xchan_result r;
		int32_t e = xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY,
		    XCHAN_DEADLINE_NEVER);
		good += e == XCHAN_ECLOSED && r.index == 1;
	}
	XCHECK_EQ(good, 10000);
	XCHECK_EQ(xt_info(open).pending_takes, 0);
	xchan_chan_release(open);
	xchan_chan_release(closed);
}

/* §4.22 (ASYNC-255): a nil put fails before anything is tried. */
XTEST(alts_put_nil_invalid)
{
	xchan_chan *a = mk(XCHAN_BUF_FIXED, 1), *b = mk(XCHAN_BUF_FIXED, 1);
	xchan_put(a, xchan_val_int(5), XCHAN_DEADLINE_NEVER);
	xchan_clause cl[] = {tk(a), pt(b, xchan_val_nil())};
	xchan_result r;
	XCHECK_ERR(xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY,
	               XCHAN_DEADLINE_NEVER),
	    XCHAN_ENIL);
	XCHECK_EQ(xt_info(a).count, 1); /* the take was not performed */
	XCHECK_ERR(xchan_alts(&r, cl, 0, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	xchan_clause bad = {7, 0, a, {0, 0, 0}};
	XCHECK_ERR(xchan_alts(&r, &bad, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	xchan_clause nochan = {XCHAN_ALT_TAKE, 0, NULL, {0, 0, 0}};
	XCHECK_ERR(xchan_alts(&r, &nochan, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_alts(NULL, cl, 1, 0, XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* §4.20: 1024 polling alts leave no registration behind. */
XTEST(alts_cleanup)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	xchan_clause cl[] = {tk(ch)};
	for (int i = 0; i < 1100; i++) {
		xchan_result r;
		xchan_alts(&r, cl, 1, 0, XCHAN_DEADLINE_POLL);
		xchan_alts(&r, cl, 1, 0,
		    xchan_now() + 1000); /* registers, times out */
	}
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	xt_rec r = {0};
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, xt_record, &r), XCHAN_OK);
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	XCHECK_EQ(atomic_load(&r.calls), 1);
	xchan_chan_release(ch);
}

typedef struct meet_arg {
	xchan_chan *ch;
	int put;
	xchan_result r;
	int32_t err;
} meet_arg;

static void *
meet(void *p)
{
	meet_arg *m = p;
	xchan_clause c = m->put ? pt(m->ch, xchan_val_int(9)) : tk(m->ch);
	m->err = xchan_alts(&m->r, &c, 1, XCHAN_ALTS_PRIORITY, DL(5000));
	return NULL;
}

/* §4.35: an alts take and an alts put on one unbuffered channel meet. */
XTEST(alts_bufferless_meet)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	meet_arg a = {ch, 0, {0}, -1}, b = {ch, 1, {0}, -1};
	xt_thread ta, tb;
	xt_start(&ta, meet, &a);
	xt_start(&tb, meet, &b);
	xt_join(&ta);
	xt_join(&tb);
	XCHECK_ERR(a.err, XCHAN_OK);
	XCHECK_ERR(b.err, XCHAN_OK);
	XCHECK_EQ(xt_int(a.r.val), 9);
	XCHECK_EQ(b.r.index, 0);
	xchan_chan_release(ch);
}

/* §4.34 + fairness: random order over 3 always-ready channels is uniform
 * (each within 10% of n/3 over 30,000 draws; a broken, priority-like order
 * gives ~100% to one). */
XTEST(alts_fairness)
{
	xchan_chan *c[3];
	for (int i = 0; i < 3; i++)
		c[i] = mk(XCHAN_BUF_SLIDING, 1);
	xchan_clause cl[] = {tk(c[0]), tk(c[1]), tk(c[2])};
	int counts[3] = {0};
	const int n = 30000;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < 3; k++)
			xchan_offer(c[k], xchan_val_int(k));
		xchan_result r;
		if (xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_POLL) == XCHAN_OK)
			counts[r.index]++;
	}
	for (int k = 0; k < 3; k++) {
		fprintf(stderr, "  clause %d: %d\n", k, counts[k]);
		XCHECK(
		    counts[k] > n / 3 * 9 / 10 && counts[k] < n / 3 * 11 / 10);
	}
	/* priority always picks the first ready clause */
	int first = 0;
	for (int i = 0; i < 100; i++) {
		xchan_offer(c[0], xchan_val_int(0));
		xchan_result r;
		xchan_alts(&r, cl, 3, XCHAN_ALTS_PRIORITY, XCHAN_DEADLINE_POLL);
		first += r.index == 0;
	}
	XCHECK_EQ(first, 100);
	/* seeded: the same seed gives the same choices */
	int seq1[50], seq2[50];
	for (int rep = 0; rep < 2; rep++) {
		xchan_random_seed(1234);
		for (int i = 0; i < 50; i++) {
			for (int k = 0; k < 3; k++)
				xchan_offer(c[k], xchan_val_int(k));
			xchan_result r;
			xchan_alts(&r, cl, 3, 0, XCHAN_DEADLINE_POLL);
			(rep ? seq2 : seq1)[i] = r.index;
		}
	}
	XCHECK(memcmp(seq1, seq2, sizeof(seq1)) == 0);
	for (int i = 0; i < 3; i++)
		xchan_chan_release(c[i]);
}

/* Exactly one clause commits under contention: alts putters over 4
 * unbuffered channels, plain takers on each; every taken value matches
 * exactly one alts that reported success, none twice. */
#define EX_CH 4
#define EX_PUTTERS 4
#define EX_PER 5000
static xchan_chan *ex_ch[EX_CH];
static _Atomic int ex_success[EX_PUTTERS * EX_PER];
static _Atomic int ex_taken[EX_PUTTERS * EX_PER];
static _Atomic int ex_stop;

static void *
ex_putter(void *p)
{
	int id = (int)(intptr_t)p;
	for (int i = 0; i < EX_PER; i++) {
		int v = id * EX_PER + i;
		xchan_clause cl[EX_CH];
		for (int k = 0; k < EX_CH; k++)
			cl[k] = pt(ex_ch[k], xchan_val_int(v));
		xchan_result r;
		if (xchan_alts(&r, cl, EX_CH, 0, DL(10000)) == XCHAN_OK)
			atomic_fetch_add(&ex_success[v], 1);
	}
	return NULL;
}

static void *
ex_taker(void *p)
{
	xchan_chan *ch = p;
	for (;;) {
		xchan_val v;
		int32_t e = xchan_take(&v, ch, DL(50));
		if (e == XCHAN_OK)
			atomic_fetch_add(&ex_taken[xt_int(v)], 1);
		else if (atomic_load(&ex_stop))
			return NULL;
	}
}

XTEST(alts_exactly_one_commits)
{
	for (int k = 0; k < EX_CH; k++)
		ex_ch[k] = mk(XCHAN_BUF_NONE, 0);
	xt_thread put[EX_PUTTERS], take[EX_CH];
	for (int k = 0; k < EX_CH; k++)
		xt_start(&take[k], ex_taker, ex_ch[k]);
	for (int i = 0; i < EX_PUTTERS; i++)
		xt_start(&put[i], ex_putter, (void *)(intptr_t)i);
	for (int i = 0; i < EX_PUTTERS; i++)
		xt_join(&put[i]);
	atomic_store(&ex_stop, 1);
	for (int k = 0; k < EX_CH; k++)
		xt_join(&take[k]);
	int bad = 0;
	for (int v = 0; v < EX_PUTTERS * EX_PER; v++)
		bad += atomic_load(&ex_success[v]) != 1 ||
		       atomic_load(&ex_taken[v]) != 1;
	XCHECK_EQ(bad, 0);
	for (int k = 0; k < EX_CH; k++) {
		XCHECK_EQ(xt_info(ex_ch[k]).pending_puts, 0);
		xchan_chan_release(ex_ch[k]);
	}
}

/* Two alts crossing the same two channels in opposite order, many times,
 * with no deadlock (every round finishes well before its deadline). */
static xchan_chan *cross_a, *cross_b;
#define CROSS_ROUNDS 20000

static void *
cross_side(void *p)
{
	int side = (int)(intptr_t)p;
	int failures = 0;
	for (int i = 0; i < CROSS_ROUNDS; i++) {
		xchan_clause cl[2];
		if (side == 0) {
			cl[0] = pt(cross_a, xchan_val_int(i));
			cl[1] = tk(cross_b);
		} else {
			cl[0] = pt(cross_b, xchan_val_int(i));
			cl[1] = tk(cross_a);
		}
		xchan_result r;
		if (xchan_alts(&r, cl, 2, XCHAN_ALTS_PRIORITY, DL(10000)) !=
		    XCHAN_OK)
			failures++;
	}
	return (void *)(intptr_t)failures;
}

XTEST(alts_crossing_no_deadlock)
{
	cross_a = mk(XCHAN_BUF_NONE, 0);
	cross_b = mk(XCHAN_BUF_NONE, 0);
	xt_thread t0, t1;
	xt_start(&t0, cross_side, (void *)0);
	xt_start(&t1, cross_side, (void *)1);
	void *f0, *f1;
	pthread_join(t0.tid, &f0);
	pthread_join(t1.tid, &f1);
	XCHECK_EQ((intptr_t)f0, 0);
	XCHECK_EQ((intptr_t)f1, 0);
	xchan_chan_release(cross_a);
	xchan_chan_release(cross_b);
}

/* Async alts: deadline, cancel, completion; registrations withdrawn. */
XTEST(alts_async)
{
	xchan_chan *a = mk(XCHAN_BUF_NONE, 0), *b = mk(XCHAN_BUF_NONE, 0);
	xchan_clause cl[] = {tk(a), tk(b)};
	xt_rec r = {0};
	xchan_op *op;
	XCHECK_ERR(xchan_alts_async(&op, cl, 2, 0, XCHAN_DEADLINE_NEVER,
	               xt_record, &r),
	    XCHAN_OK);
	XCHECK(op != NULL);
	XCHECK_EQ(xt_info(a).pending_takes, 1);
	xchan_put(b, xchan_val_int(3), XCHAN_DEADLINE_NEVER);
	XCHECK_EQ(atomic_load(&r.calls), 1);
	XCHECK_EQ(r.index, 1);
	XCHECK_EQ(xt_int(r.val), 3);
	XCHECK_EQ(xt_info(a).pending_takes,
	    0); /* withdrawn before the callback */
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_EDONE);
	xchan_op_release(op);

	xt_rec t = {0};
	XCHECK_ERR(xchan_alts_async(NULL, cl, 2, 0, DL(20), xt_record, &t),
	    XCHAN_OK);
	XCHECK(xt_wait_flag(&t.calls, 3000));
	XCHECK_ERR(t.err, XCHAN_ETIMEDOUT);
	XCHECK_EQ(t.index, -1);
	XCHECK_EQ(xt_info(a).pending_takes + xt_info(b).pending_takes, 0);

	xt_rec c = {0};
	XCHECK_ERR(xchan_alts_async(&op, cl, 2, 0, XCHAN_DEADLINE_NEVER,
	               xt_record, &c),
	    XCHAN_OK);
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_OK);
	XCHECK_EQ(atomic_load(&c.calls), 1);
	XCHECK_ERR(c.err, XCHAN_ECANCELED);
	XCHECK_ERR(xchan_op_cancel(op), XCHAN_EDONE);
	xchan_op_release(op);
	XCHECK_EQ(xt_info(a).pending_takes + xt_info(b).pending_takes, 0);

	xt_rec d = {0};
	XCHECK_ERR(xchan_alts_async(NULL, cl, 2, 0, XCHAN_DEADLINE_POLL,
	               xt_record, &d),
	    XCHAN_OK);
	XCHECK(atomic_load(&d.calls) == 1 && d.err == XCHAN_EAGAIN);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

XTEST_MAIN()
