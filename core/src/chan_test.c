/*
 * chan_test.c — channel semantics: buffers, put/take/offer/poll, close,
 * promise channels, limits, bad input.  Cases follow docs/semantics.md §2 and §4
 * (numbers in the test names' comments refer to §4).
 */
#include <sched.h>

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

static int64_t
take_int(xchan_chan *ch)
{
	xchan_val v;
	if (xchan_take(&v, ch, DL(2000)) != XCHAN_OK)
		return -1;
	return xt_int(v);
}

/* §4.1: fixed buffer counts, FIFO, not full after one remove. */
XTEST(fixed_buffer_fifo)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 2);
	XCHECK_EQ(xt_info(ch).count, 0);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 1);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(2)), XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 2);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(3)), XCHAN_EAGAIN);
	XCHECK_EQ(take_int(ch), 1);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(3)), XCHAN_OK);
	XCHECK_EQ(take_int(ch), 2);
	XCHECK_EQ(take_int(ch), 3);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

/* A big fixed buffer grows while it first fills (16x at a time past 64 Ki
 * slots) with its oldest value away from the ring's start, and keeps FIFO
 * order and its capacity exactly. */
XTEST(big_fixed_buffer_grows_in_order)
{
	const int64_t cap = 300000;
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, (uint64_t)cap);
	int64_t in = 0, out = 0, bad = 0;
	/* Move the ring's head off slot 0 before each growth step. */
	for (int round = 0; round < 40 && in < cap; round++) {
		for (int i = 0;
		     i < 9000 && xchan_offer(ch, xchan_val_int(in)) == XCHAN_OK;
		     i++)
			in++;
		bad += take_int(ch) != out++;
	}
	while (xchan_offer(ch, xchan_val_int(in)) == XCHAN_OK)
		in++;
	XCHECK_EQ(in - out, cap); /* full at exactly the capacity */
	XCHECK_EQ(xt_info(ch).count, (uint64_t)cap);
	while (out < in)
		bad += take_int(ch) != out++;
	XCHECK_EQ(bad, 0);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

/* §4.2: dropping buffer never full; the third add is dropped. */
XTEST(dropping_buffer)
{
	xchan_chan *ch = mk(XCHAN_BUF_DROPPING, 2);
	for (int i = 1; i <= 3; i++)
		XCHECK_ERR(xchan_offer(ch, xchan_val_int(i)), XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 2);
	XCHECK_EQ(take_int(ch), 1);
	XCHECK_EQ(take_int(ch), 2);
	xchan_chan_release(ch);
}

/* §4.3: sliding buffer evicts the oldest. */
XTEST(sliding_buffer)
{
	xchan_chan *ch = mk(XCHAN_BUF_SLIDING, 2);
	for (int i = 1; i <= 3; i++)
		XCHECK_ERR(xchan_put(ch, xchan_val_int(i),
		               XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 2);
	XCHECK_EQ(take_int(ch), 2);
	XCHECK_EQ(take_int(ch), 3);
	xchan_chan_release(ch);
}

/* §4.4/23-25: promise: first wins, takes do not consume, survives close. */
XTEST(promise_buffer)
{
	xchan_chan *ch = mk(XCHAN_BUF_PROMISE, 0);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(7)), XCHAN_OK);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(8)), XCHAN_OK); /* dropped */
	XCHECK_EQ(xt_info(ch).count, 1);
	XCHECK_EQ(take_int(ch), 7);
	XCHECK_EQ(take_int(ch), 7);
	XCHECK_EQ(xt_info(ch).count, 1);
	xchan_chan_close(ch);
	XCHECK_EQ(take_int(ch), 7);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(9)), XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

/* §4.5: puts to dropping/sliding/promise never wait; fixed does. */
XTEST(unblocking_buffers)
{
	uint32_t kinds[] = {XCHAN_BUF_DROPPING, XCHAN_BUF_SLIDING,
	    XCHAN_BUF_PROMISE};
	for (int k = 0; k < 3; k++) {
		xchan_chan *ch =
		    mk(kinds[k], kinds[k] == XCHAN_BUF_PROMISE ? 0 : 1);
		for (int i = 0; i < 5; i++)
			XCHECK_ERR(xchan_offer(ch, xchan_val_int(i)), XCHAN_OK);
		xchan_chan_release(ch);
	}
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 1);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(2)), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

static void *
put_42_after(void *arg)
{
	xt_sleep_ms(20);
	xchan_put(arg, xchan_val_int(42), XCHAN_DEADLINE_NEVER);
	return NULL;
}

/* §4.7: a put is received by a blocking take on another thread. */
XTEST(basic_put_take_threads)
{
	uint32_t kinds[] = {XCHAN_BUF_NONE, XCHAN_BUF_FIXED};
	for (int k = 0; k < 2; k++) {
		xchan_chan *ch = mk(kinds[k], kinds[k] ? 1 : 0);
		xt_thread t;
		xt_start(&t, put_42_after, ch);
		XCHECK_EQ(take_int(ch), 42);
		xt_join(&t);
		xchan_chan_release(ch);
	}
}

/* §4.8: a put to a full chan(1) stays blocked; the value stays ours. */
XTEST(writes_block_on_full_buffer)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 1);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	int64_t t0 = xchan_now();
	XCHECK_ERR(xchan_put(ch, xchan_val_int(2), DL(20)), XCHAN_ETIMEDOUT);
	XCHECK(xchan_now() - t0 >= 20 * 1000000LL);
	XCHECK_EQ(xt_info(ch).pending_puts, 0);
	XCHECK_EQ(xt_info(ch).count, 1);
	xchan_chan_release(ch);
}

typedef struct taker_arg {
	xchan_chan *ch;
	int32_t err;
	int64_t got;
	int64_t wait_ms;
} taker_arg;

static void *
taker(void *p)
{
	taker_arg *a = p;
	xchan_val v;
	a->err = xchan_take(&v, a->ch, DL(a->wait_ms));
	a->got = a->err == XCHAN_OK ? xt_int(v) : -1;
	return NULL;
}

/* §4.9: two blocked takers, one put: exactly one receives 42. */
XTEST(unfulfilled_readers_block)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 1);
	taker_arg a = {ch, 0, 0, 400}, b = {ch, 0, 0, 400};
	xt_thread ta, tb;
	xt_start(&ta, taker, &a);
	xt_start(&tb, taker, &b);
	XCHECK(xt_wait_pending(ch, 2, 0, 2000));
	XCHECK_ERR(xchan_put(ch, xchan_val_int(42), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	xt_join(&ta);
	xt_join(&tb);
	XCHECK_EQ((a.err == XCHAN_OK) + (b.err == XCHAN_OK), 1);
	XCHECK_EQ((a.err == XCHAN_ETIMEDOUT) + (b.err == XCHAN_ETIMEDOUT), 1);
	XCHECK_EQ(a.got + b.got, 42 - 1);
	xchan_chan_release(ch);
}

/* §4.10/11/12: async put waits for a taker; async take waits for a put. */
XTEST(async_put_take_callbacks)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	xt_rec put = {0}, take = {0};
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(5), 0, xt_record,
	               &put),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&put.calls), 0);
	XCHECK_EQ(xt_info(ch).pending_puts, 1);
	XCHECK_EQ(take_int(ch), 5);
	XCHECK_EQ(atomic_load(&put.calls), 1);
	XCHECK_ERR(put.err, XCHAN_OK);
	XCHECK_ERR(xchan_take_async(NULL, ch, 0, xt_record, &take), XCHAN_OK);
	XCHECK_EQ(atomic_load(&take.calls), 0);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(6), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&take.calls), 1);
	XCHECK_EQ(xt_int(take.val), 6);
	/* buffered: both complete at once */
	xchan_chan *b = mk(XCHAN_BUF_FIXED, 1);
	xt_rec p2 = {0}, t2 = {0};
	XCHECK_ERR(xchan_put_async(NULL, b, xchan_val_int(1), 0, xt_record,
	               &p2),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&p2.calls), 1);
	XCHECK_ERR(xchan_take_async(NULL, b, 0, xt_record, &t2), XCHAN_OK);
	XCHECK_EQ(atomic_load(&t2.calls), 1);
	XCHECK_EQ(xt_int(t2.val), 1);
	xchan_chan_release(b);
	xchan_chan_release(ch);
}

/* §4.13/14: a queued put's callback fires once a take frees room, and the
 * take moves the pending put into the buffer. */
XTEST(puts_moved_to_buffer)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 1);
	xt_rec a = {0}, b = {0};
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(1), 0, xt_record,
	               &a),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(2), 0, xt_record,
	               &b),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&a.calls), 1);
	XCHECK_EQ(atomic_load(&b.calls), 0);
	XCHECK_EQ(take_int(ch), 1);
	XCHECK_EQ(atomic_load(&b.calls), 1);
	XCHECK_ERR(b.err, XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 1);
	XCHECK_EQ(take_int(ch), 2);
	xchan_chan_release(ch);
}

/* §4.15: offer/poll. */
XTEST(offer_poll)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 2);
	xchan_val v;
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(1)), XCHAN_OK);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(2)), XCHAN_OK);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(3)), XCHAN_EAGAIN);
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 1);
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_EAGAIN);
	XCHECK_EQ(v.kind, XCHAN_NIL);
	xchan_chan *u = mk(XCHAN_BUF_NONE, 0);
	XCHECK_ERR(xchan_offer(u, xchan_val_int(1)), XCHAN_EAGAIN);
	XCHECK_ERR(xchan_poll(&v, u), XCHAN_EAGAIN);
	XCHECK_EQ(xt_info(u).pending_puts + xt_info(u).pending_takes, 0);
	xchan_chan_close(ch);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(3)),
	    XCHAN_ECLOSED); /* gap: not EAGAIN */
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_ECLOSED);
	xchan_chan_release(u);
	xchan_chan_release(ch);
}

typedef struct placement {
	xchan_chan *ch;
	pthread_t thread;
} placement;

static void *
put_and_note(void *p)
{
	placement *pl = p;
	pl->thread = pthread_self();
	xt_sleep_ms(10);
	xchan_put(pl->ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	return NULL;
}

static void *
take_and_note(void *p)
{
	placement *pl = p;
	pl->thread = pthread_self();
	xt_sleep_ms(10);
	xchan_val v;
	xchan_take(&v, pl->ch, XCHAN_DEADLINE_NEVER);
	return NULL;
}

/* §4.16/17: callback placement: immediate -> caller; queued -> the
 * counterpart's thread; XCHAN_ASYNC_DISPATCH -> another thread. */
XTEST(callback_placement)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 1);
	xt_rec r = {0};
	xchan_put_async(NULL, ch, xchan_val_int(1), 0, xt_record, &r);
	XCHECK(atomic_load(&r.calls) == 1 &&
	       pthread_equal(r.thread, pthread_self()));
	xt_rec t = {0};
	xchan_take_async(NULL, ch, 0, xt_record, &t);
	XCHECK(atomic_load(&t.calls) == 1 &&
	       pthread_equal(t.thread, pthread_self()));

	/* queued take: runs on the putter's thread */
	xt_rec q = {0};
	placement pl = {ch, 0};
	xchan_take_async(NULL, ch, 0, xt_record, &q);
	xt_thread th;
	xt_start(&th, put_and_note, &pl);
	xt_join(&th);
	XCHECK(
	    atomic_load(&q.calls) == 1 && pthread_equal(q.thread, pl.thread));

	/* queued put: runs on the taker's thread */
	xchan_chan *u = mk(XCHAN_BUF_NONE, 0);
	xt_rec qp = {0};
	placement pu = {u, 0};
	xchan_put_async(NULL, u, xchan_val_int(2), 0, xt_record, &qp);
	xt_start(&th, take_and_note, &pu);
	xt_join(&th);
	XCHECK(
	    atomic_load(&qp.calls) == 1 && pthread_equal(qp.thread, pu.thread));

	/* dispatch: never the caller */
	xt_rec d = {0};
	xchan_offer(ch, xchan_val_int(3));
	xchan_take_async(NULL, ch, XCHAN_ASYNC_DISPATCH, xt_record, &d);
	XCHECK(xt_wait_flag(&d.calls, 2000));
	XCHECK(!pthread_equal(d.thread, pthread_self()));
	XCHECK_EQ(xt_int(d.val), 3);
	xchan_chan_release(u);
	xchan_chan_release(ch);
}

/* §4.18/19: 1024 pending async puts queue; the 1025th fails with ELIMIT; the
 * channel stays usable and the first queued put is delivered. */
XTEST(pending_limit)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	static xt_rec recs[1024];
	memset(recs, 0, sizeof(recs));
	for (int i = 0; i < 1024; i++)
		XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(i), 0,
		               xt_record, &recs[i]),
		    XCHAN_OK);
	xt_rec extra = {0};
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(9999), 0, xt_record,
	               &extra),
	    XCHAN_ELIMIT);
	/* ELIMIT comes at once; the deadline is only a bound in case it did
	 * not (a deadline already past when the call runs, as a short one can
	 * be on a loaded machine or under valgrind, gives ETIMEDOUT first). */
	XCHECK_ERR(xchan_put(ch, xchan_val_int(9999), DL(10000)), XCHAN_ELIMIT);
	XCHECK_EQ(atomic_load(&extra.calls), 0);
	XCHECK_EQ(take_int(ch), 0);
	XCHECK_EQ(atomic_load(&recs[0].calls), 1);
	for (int i = 1; i < 1024; i++)
		take_int(ch);
	xchan_chan_release(ch);

	ch = mk(XCHAN_BUF_NONE, 0);
	static xt_rec takes[1024];
	memset(takes, 0, sizeof(takes));
	for (int i = 0; i < 1024; i++)
		XCHECK_ERR(xchan_take_async(NULL, ch, 0, xt_record, &takes[i]),
		    XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, DL(10000)), XCHAN_ELIMIT);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_EQ(atomic_load(&takes[0].calls), 1);
	xchan_chan_close(ch);
	for (int i = 1; i < 1024; i++)
		XCHECK_ERR(takes[i].err, XCHAN_ECLOSED);
	xchan_chan_release(ch);

	/* configurable limit */
	xchan_chan_opts o = {.size = sizeof(o), .max_pending = 2};
	xchan_chan_new(&ch, &o);
	xt_rec r3[3];
	memset(r3, 0, sizeof(r3));
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(1), 0, xt_record,
	               &r3[0]),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(2), 0, xt_record,
	               &r3[1]),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(3), 0, xt_record,
	               &r3[2]),
	    XCHAN_ELIMIT);
	XCHECK_EQ(xt_info(ch).max_pending, 2);
	take_int(ch);
	take_int(ch);
	xchan_chan_release(ch);
}

/* Gaps: closed channels. */
XTEST(close_semantics)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 2);
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	xchan_put(ch, xchan_val_int(2), XCHAN_DEADLINE_NEVER);
	xt_rec pending = {0};
	xchan_put_async(NULL, ch, xchan_val_int(3), 0, xt_record, &pending);
	XCHECK_ERR(xchan_chan_close(ch), XCHAN_OK);
	XCHECK_ERR(xchan_chan_close(ch), XCHAN_OK); /* idempotent */
	XCHECK_EQ(atomic_load(&pending.calls), 0);  /* pending puts survive */
	XCHECK(xt_info(ch).closed && xt_info(ch).pending_puts == 1);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(4), XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	XCHECK_EQ(take_int(ch), 1);
	XCHECK_EQ(atomic_load(&pending.calls), 1);
	XCHECK_ERR(pending.err, XCHAN_OK);
	XCHECK_EQ(take_int(ch), 2);
	XCHECK_EQ(take_int(ch), 3);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	XCHECK_EQ(v.kind, XCHAN_NIL);
	xchan_chan_release(ch);

	/* unbuffered: pending puts are taken after close too; takers get
	 * ECLOSED when nothing is left */
	ch = mk(XCHAN_BUF_NONE, 0);
	xt_rec p = {0}, t = {0};
	xchan_put_async(NULL, ch, xchan_val_int(5), 0, xt_record, &p);
	xchan_chan_close(ch);
	XCHECK_EQ(take_int(ch), 5);
	XCHECK_ERR(p.err, XCHAN_OK);
	xchan_chan *c2 = mk(XCHAN_BUF_NONE, 0);
	xchan_take_async(NULL, c2, 0, xt_record, &t);
	xchan_chan_close(c2);
	XCHECK_EQ(atomic_load(&t.calls), 1);
	XCHECK_ERR(t.err, XCHAN_ECLOSED);
	xchan_chan_release(c2);
	xchan_chan_release(ch);
}

static void *
blocked_put(void *p)
{
	taker_arg *a = p;
	a->err = xchan_put(a->ch, xchan_val_int(77), DL(a->wait_ms));
	return NULL;
}

/* A thread blocked in put on a closed channel completes when taken. */
XTEST(blocked_put_survives_close)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	taker_arg a = {ch, -1, 0, 3000};
	xt_thread th;
	xt_start(&th, blocked_put, &a);
	XCHECK(xt_wait_pending(ch, 1, 1, 2000));
	xchan_chan_close(ch);
	XCHECK_EQ(take_int(ch), 77);
	xt_join(&th);
	XCHECK_ERR(a.err, XCHAN_OK);
	xchan_chan_release(ch);
}

/* §4.23/24: promise releases all pending takers; close without value. */
XTEST(promise_pending_takers)
{
	xchan_chan *ch = mk(XCHAN_BUF_PROMISE, 0);
	xt_rec r[3];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++)
		xchan_take_async(NULL, ch, 0, xt_record, &r[i]);
	xchan_put(ch, xchan_val_int(11), XCHAN_DEADLINE_NEVER);
	for (int i = 0; i < 3; i++)
		XCHECK(atomic_load(&r[i].calls) == 1 && xt_int(r[i].val) == 11);
	xchan_chan_release(ch);

	ch = mk(XCHAN_BUF_PROMISE, 0);
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++)
		xchan_take_async(NULL, ch, 0, xt_record, &r[i]);
	xchan_chan_close(ch);
	for (int i = 0; i < 3; i++)
		XCHECK(
		    atomic_load(&r[i].calls) == 1 && r[i].err == XCHAN_ECLOSED);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_NEVER), XCHAN_ECLOSED);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

/* Bad input gets a clear error, never a crash. */
XTEST(bad_input)
{
	xchan_chan *ch = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 0),
	    XCHAN_EINVAL); /* chan(0) */
	XCHECK(ch == NULL);
	XCHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_NONE, 3), XCHAN_EINVAL);
	XCHECK_ERR(xchan_chan_make(&ch, 99, 1), XCHAN_EINVAL);
	XCHECK_ERR(xchan_chan_make(NULL, XCHAN_BUF_NONE, 0), XCHAN_EINVAL);
	xchan_chan_opts small = {.size = 4};
	XCHECK_ERR(xchan_chan_new(&ch, &small), XCHAN_EINVAL);
	xchan_xform *xf;
	xchan_xform_take(&xf, 1);
	xchan_chan_opts o = {.size = sizeof(o),
	    .xform = xf}; /* xform, no buffer */
	XCHECK_ERR(xchan_chan_new(&ch, &o), XCHAN_EINVAL);
	XCHECK_ERR(xchan_put(NULL, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_take(&v, NULL, XCHAN_DEADLINE_NEVER), XCHAN_EINVAL);
	XCHECK_ERR(xchan_chan_close(NULL), XCHAN_EINVAL);
	xchan_chan_release(NULL);
	ch = mk(XCHAN_BUF_FIXED, 1);
	XCHECK_ERR(xchan_take(NULL, ch, XCHAN_DEADLINE_NEVER), XCHAN_EINVAL);
	XCHECK_ERR(xchan_put(ch, xchan_val_nil(), XCHAN_DEADLINE_NEVER),
	    XCHAN_ENIL);
	XCHECK_ERR(xchan_offer(ch, xchan_val_nil()), XCHAN_ENIL);
	xchan_val bogus = {77, 0, 0};
	XCHECK_ERR(xchan_put(ch, bogus, XCHAN_DEADLINE_NEVER), XCHAN_EINVAL);
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_nil(), 0, xt_record,
	               NULL),
	    XCHAN_ENIL);
	XCHECK_ERR(xchan_put_async(NULL, ch, xchan_val_int(1), 0, NULL, NULL),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_take_async(NULL, NULL, 0, xt_record, NULL),
	    XCHAN_EINVAL);
	XCHECK_ERR(xchan_op_cancel(NULL), XCHAN_EINVAL);
	xchan_chan_info small_info = {.size = 3};
	XCHECK_ERR(xchan_chan_info_get(&small_info, ch), XCHAN_EINVAL);
	XCHECK_ERR(xchan_val_host(&v, 60, (void *)ch),
	    XCHAN_ERUNTIME); /* unregistered */
	XCHECK_EQ(xt_info(ch).count, 0);
	xchan_chan_release(ch);
}

/* Deadlines: POLL never waits; a past deadline times out at once. */
XTEST(deadlines)
{
	xchan_chan *ch = mk(XCHAN_BUF_NONE, 0);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, XCHAN_DEADLINE_POLL), XCHAN_EAGAIN);
	XCHECK_ERR(xchan_take(&v, ch, xchan_now() - 1), XCHAN_ETIMEDOUT);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), xchan_deadline_in_ms(0)),
	    XCHAN_ETIMEDOUT);
	int64_t t0 = xchan_now();
	XCHECK_ERR(xchan_take(&v, ch, DL(30)), XCHAN_ETIMEDOUT);
	int64_t waited = xchan_now() - t0;
	XCHECK(waited >= 30 * 1000000LL);
	XCHECK(waited < 2000 * 1000000LL);
	XCHECK_EQ(xt_info(ch).pending_takes, 0);
	XCHECK(xchan_deadline_in_ms(-1) == XCHAN_DEADLINE_NEVER);
	xchan_chan_release(ch);
}

/* Values of every kind travel, references move with them. */
XTEST(values_travel)
{
	xchan_chan *ch = mk(XCHAN_BUF_FIXED, 8);
	xchan_val s, b, c;
	xchan_val_string(&s, "héllo", strlen("héllo"));
	xchan_val_bytes(&b, "\0\1\2", 3);
	xchan_val_chan(&c, ch);
	XCHECK_ERR(xchan_put(ch, s, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, b, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, xchan_val_double(2.5), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, xchan_val_bool(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, c, XCHAN_DEADLINE_NEVER),
	    XCHAN_OK); /* a channel in itself */
	xchan_val v;
	const char *str;
	size_t len;
	xchan_take(&v, ch, XCHAN_DEADLINE_NEVER);
	XCHECK(xchan_get_string(v, &str, &len) == XCHAN_OK &&
	       len == strlen("héllo") && !strcmp(str, "héllo"));
	xchan_val_release(v);
	xchan_take(&v, ch, XCHAN_DEADLINE_NEVER);
	const void *bytes;
	XCHECK(xchan_get_bytes(v, &bytes, &len) == XCHAN_OK && len == 3 &&
	       ((const char *)bytes)[2] == 2);
	xchan_val_release(v);
	double d;
	xchan_take(&v, ch, XCHAN_DEADLINE_NEVER);
	XCHECK(xchan_get_double(v, &d) == XCHAN_OK && d == 2.5);
	int32_t bl;
	xchan_take(&v, ch, XCHAN_DEADLINE_NEVER);
	XCHECK(xchan_get_bool(v, &bl) == XCHAN_OK && bl == 1);
	xchan_chan *got;
	xchan_take(&v, ch, XCHAN_DEADLINE_NEVER);
	XCHECK(xchan_get_chan(v, &got) == XCHAN_OK && got == ch);
	xchan_val_release(v);
	/* a channel freed with values left releases them (ASan checks) */
	xchan_val_string(&s, "left", 4);
	xchan_put(ch, s, XCHAN_DEADLINE_NEVER);
	xchan_chan_release(ch);
}

/* A fixed buffer flips between its lock-free ring and the locked path as
 * waiters come and go: 4 producers and 4 consumers through cap 8, every
 * value exactly once, FIFO per producer. */
#define MP_PER 50000
static xchan_chan *g_mp;
static _Atomic int g_mp_seen[4 * MP_PER];
static _Atomic int g_mp_order_bad;

static void *
mp_producer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < MP_PER; i++) {
		xchan_val v = xchan_val_int((int64_t)id * MP_PER + i);
		if (i % 7 == 0) {
			while (xchan_offer(g_mp, v) == XCHAN_EAGAIN)
				sched_yield(); /* valgrind runs one thread at a time */
		} else {
			xchan_put(g_mp, v, XCHAN_DEADLINE_NEVER);
		}
	}
	return NULL;
}

static void *
mp_consumer(void *arg)
{
	(void)arg;
	int64_t last[4] = {-1, -1, -1, -1};
	for (;;) {
		xchan_val v;
		if (xchan_take(&v, g_mp, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			return NULL;
		int64_t x = xt_int(v);
		atomic_fetch_add(&g_mp_seen[x], 1);
		/* one consumer sees each producer's values in order */
		if (x <= last[x / MP_PER])
			atomic_fetch_add(&g_mp_order_bad, 1);
		last[x / MP_PER] = x;
	}
}

XTEST(fixed_buffer_mpmc_blocking)
{
	g_mp = mk(XCHAN_BUF_FIXED, 8);
	xt_thread p[4], c[4];
	for (int i = 0; i < 4; i++)
		xt_start(&c[i], mp_consumer, NULL);
	for (int i = 0; i < 4; i++)
		xt_start(&p[i], mp_producer, (void *)(intptr_t)i);
	for (int i = 0; i < 4; i++)
		xt_join(&p[i]);
	xchan_chan_close(g_mp);
	for (int i = 0; i < 4; i++)
		xt_join(&c[i]);
	int bad = 0;
	for (int i = 0; i < 4 * MP_PER; i++)
		bad += atomic_load(&g_mp_seen[i]) != 1;
	XCHECK_EQ(bad, 0);
	XCHECK_EQ(atomic_load(&g_mp_order_bad), 0);
	XCHECK_EQ(xt_info(g_mp).count, 0);
	xchan_chan_release(g_mp);
}

XTEST_MAIN()
