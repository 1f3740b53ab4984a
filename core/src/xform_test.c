/*
 * xform_test.c — channel transforms (docs/semantics.md §2.6, §4 cases 26-28 and the
 * gaps: take aborts, error handler injection).
 */
#include "testing/xtest.h"
#include "testing/xthread.h"

#define DL(ms) xchan_deadline_in_ms(ms)

static xchan_chan *
xchan_with(xchan_xform *xf, uint32_t kind, uint64_t cap)
{
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = kind,
	    .capacity = cap,
	    .xform = xf};
	xchan_chan *ch = NULL;
	xchan_chan_new(&ch, &o);
	return ch;
}

static xchan_val
inc(void *user, xchan_val in)
{
	(void)user;
	return xchan_val_int(xt_int(in) + 1);
}

static int32_t
is_even(void *user, xchan_val in)
{
	(void)user;
	return xt_int(in) % 2 == 0;
}

static int32_t
dup_twice(void *user, xchan_val in, xchan_emit *out)
{
	(void)user;
	int32_t r = xchan_emit_push(out, xchan_val_retain(in));
	if (r != XCHAN_STEP_CONTINUE)
		return r;
	return xchan_emit_push(out, xchan_val_retain(in));
}

/* §4.28: map, filter, mapcat on a channel. */
XTEST(map_filter_mapcat)
{
	xchan_xform *m, *f, *c;
	xchan_xform_map(&m, inc, NULL);
	xchan_xform_filter(&f, is_even, NULL);
	xchan_xform_mapcat(&c, dup_twice, NULL);
	xchan_xform *stages[] = {m, f, c};
	xchan_xform *comp;
	XCHECK_ERR(xchan_xform_comp(&comp, stages, 3), XCHAN_OK);
	xchan_chan *ch = xchan_with(comp, XCHAN_BUF_FIXED, 100);
	for (int i = 0; i < 6; i++)
		XCHECK_ERR(xchan_put(ch, xchan_val_int(i),
		               XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	int64_t want[] = {2, 2, 4, 4, 6, 6};
	for (int i = 0; i < 6; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
		XCHECK_EQ(xt_int(v), want[i]);
	}
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, ch), XCHAN_EAGAIN);
	xchan_chan_release(ch);
}

static void
check_array(xchan_val v, const int64_t *want, size_t n)
{
	const xchan_val *items;
	size_t len;
	XCHECK_ERR(xchan_get_array(v, &items, &len), XCHAN_OK);
	XCHECK_EQ(len, n);
	for (size_t i = 0; i < n && i < len; i++)
		XCHECK_EQ(xt_int(items[i]), want[i]);
	xchan_val_release(v);
}

/* §4.28: partition_all 5 flushes its partial batch on close:
 * [[0..4] [5 6 7]]; a taker pending at close gets the flush. */
XTEST(partition_all_flush)
{
	xchan_xform *p;
	xchan_xform_partition_all(&p, 5);
	xchan_chan *ch = xchan_with(p, XCHAN_BUF_FIXED, 10);
	for (int i = 0; i < 8; i++)
		xchan_put(ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_OK);
	int64_t a[] = {0, 1, 2, 3, 4};
	check_array(v, a, 5);
	xt_rec pending = {0};
	xchan_take_async(NULL, ch, 0, xt_record, &pending);
	XCHECK_EQ(atomic_load(&pending.calls), 0);
	xchan_chan_close(ch);
	XCHECK_EQ(atomic_load(&pending.calls), 1);
	int64_t b[] = {5, 6, 7};
	XCHECK_ERR(pending.err, XCHAN_OK);
	check_array(pending.val, b, 3);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_ECLOSED);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

/* Close with puts pending: the completion waits until they drain. */
XTEST(partition_all_flush_after_pending_puts)
{
	xchan_xform *p;
	xchan_xform_partition_all(&p, 2);
	xchan_chan *ch = xchan_with(p, XCHAN_BUF_FIXED, 1);
	xt_rec r[3];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) /* 0,1 -> [0 1] fills; 2 pending */
		xchan_put_async(NULL, ch, xchan_val_int(i), 0, xt_record,
		    &r[i]);
	xt_rec late = {0};
	xchan_put_async(NULL, ch, xchan_val_int(3), 0, xt_record, &late);
	XCHECK_EQ(xt_info(ch).count, 1);
	XCHECK_EQ(xt_info(ch).pending_puts, 2);
	xchan_chan_close(ch);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_OK);
	int64_t a[] = {0, 1};
	check_array(v, a, 2);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_OK);
	int64_t b[] = {2, 3};
	check_array(v, b, 2);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_ECLOSED);
	XCHECK_ERR(late.err, XCHAN_OK);
	xchan_chan_release(ch);
}

/* §4.26: an expanding transform delivers to several pending takers. */
XTEST(expanding_delivers_to_multiple_pending)
{
	for (int takers = 1; takers <= 9; takers++) {
		for (int cap = 1; cap <= 9; cap++) {
			xchan_xform *rep;
			xchan_xform_repeat(&rep, (uint64_t)takers);
			xchan_chan *ch =
			    xchan_with(rep, XCHAN_BUF_FIXED, (uint64_t)cap);
			xt_rec r[9];
			memset(r, 0, sizeof(r));
			for (int i = 0; i < takers; i++)
				xchan_take_async(NULL, ch, 0, xt_record, &r[i]);
			xchan_put(ch, xchan_val_int(7), XCHAN_DEADLINE_NEVER);
			int ok = 0;
			for (int i = 0; i < takers; i++)
				ok += atomic_load(&r[i].calls) == 1 &&
				      xt_int(r[i].val) == 7;
			XCHECK_EQ(ok, takers);
			xchan_chan_release(ch);
		}
	}
}

static void *
put_one(void *p)
{
	int32_t *err = p;
	(void)err;
	return NULL;
}

typedef struct put_arg {
	xchan_chan *ch;
	int32_t err;
	_Atomic int done;
} put_arg;

static void *
blocking_put(void *p)
{
	put_arg *a = p;
	a->err = xchan_put(a->ch, xchan_val_int(100), DL(5000));
	atomic_store(&a->done, 1);
	return NULL;
}

/* §4.27 (ASYNC-210): an expanding step overfills; offer gets EAGAIN while
 * overfull and a blocking put waits until count < capacity. */
XTEST(expanding_overfills_buffer)
{
	(void)put_one;
	xchan_xform *rep;
	xchan_xform_repeat(&rep, 3);
	xchan_chan *ch = xchan_with(rep, XCHAN_BUF_FIXED, 2);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 3);
	XCHECK_ERR(xchan_offer(ch, xchan_val_int(2)), XCHAN_EAGAIN);
	put_arg a = {ch, -1, 0};
	xt_thread t;
	xt_start(&t, blocking_put, &a);
	XCHECK(xt_wait_pending(ch, 1, 1, 2000));
	xchan_val v;
	xchan_take(&v, ch, DL(1000)); /* 3 -> 2: still full */
	XCHECK_EQ(atomic_load(&a.done), 0);
	XCHECK_EQ(xt_info(ch).pending_puts, 1);
	xchan_take(&v, ch, DL(1000)); /* 2 -> 1: room, the put goes in */
	xt_join(&t);
	XCHECK_ERR(a.err, XCHAN_OK);
	XCHECK_EQ(xt_info(ch).count, 4);
	xchan_chan_release(ch);
}

/* Gap: take(2) stops the channel: pending putters complete with OK and the
 * channel closes. */
XTEST(take_aborts_channel)
{
	xchan_xform *tk;
	xchan_xform_take(&tk, 2);
	xchan_chan *ch = xchan_with(tk, XCHAN_BUF_FIXED, 1);
	xt_rec r[4];
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 4; i++)
		xchan_put_async(NULL, ch, xchan_val_int(i), 0, xt_record,
		    &r[i]);
	XCHECK_EQ(xt_info(ch).pending_puts, 3);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 0);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 1);
	XCHECK(xt_info(ch).closed);
	for (int i = 0; i < 4; i++)
		XCHECK(atomic_load(&r[i].calls) == 1 && r[i].err == XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, ch, DL(1000)), XCHAN_ECLOSED);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(9), XCHAN_DEADLINE_NEVER),
	    XCHAN_ECLOSED);
	xchan_chan_release(ch);
}

static xchan_val
fail_on_3(void *user, xchan_val in)
{
	(void)user;
	if (xt_int(in) == 3)
		return xchan_val_nil(); /* a nil result fails the map step */
	return xchan_val_retain(in);
}

static _Atomic int handler_calls;

static xchan_val
handler(void *user, xchan_val error)
{
	XCHECK(user == (void *)&handler_calls);
	XCHECK(error.kind == XCHAN_STRING);
	xchan_val_release(error);
	atomic_fetch_add(&handler_calls, 1);
	return xchan_val_int(-3);
}

/* Gap: a failing step goes to the error handler; its result is injected. */
XTEST(error_handler_injects)
{
	xchan_xform *m;
	xchan_xform_map(&m, fail_on_3, NULL);
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 10,
	    .xform = m,
	    .on_error = handler,
	    .on_error_user = (void *)&handler_calls};
	xchan_chan *ch;
	XCHECK_ERR(xchan_chan_new(&ch, &o), XCHAN_OK);
	for (int i = 1; i <= 4; i++)
		XCHECK_ERR(xchan_put(ch, xchan_val_int(i),
		               XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
	int64_t want[] = {1, 2, -3, 4};
	for (int i = 0; i < 4; i++) {
		xchan_val v;
		XCHECK_ERR(xchan_poll(&v, ch), XCHAN_OK);
		XCHECK_EQ(xt_int(v), want[i]);
	}
	XCHECK_EQ(atomic_load(&handler_calls), 1);
	xchan_chan_release(ch);
}

/* Transforms on sliding and promise buffers follow the buffer policy. */
XTEST(xform_with_policies)
{
	xchan_xform *m;
	xchan_xform_map(&m, inc, NULL);
	xchan_chan *ch = xchan_with(m, XCHAN_BUF_SLIDING, 2);
	for (int i = 0; i < 5; i++)
		xchan_put(ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER);
	xchan_val v;
	xchan_poll(&v, ch);
	XCHECK_EQ(xt_int(v), 4);
	xchan_poll(&v, ch);
	XCHECK_EQ(xt_int(v), 5);
	xchan_chan_release(ch);
	xchan_xform_map(&m, inc, NULL);
	ch = xchan_with(m, XCHAN_BUF_PROMISE, 0);
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	xchan_put(ch, xchan_val_int(5), XCHAN_DEADLINE_NEVER);
	xchan_poll(&v, ch);
	XCHECK_EQ(xt_int(v), 2);
	xchan_poll(&v, ch);
	XCHECK_EQ(xt_int(v), 2);
	xchan_chan_release(ch);
}

typedef struct stream_arg {
	xchan_chan *ch;
	int n;
	int64_t sum;
} stream_arg;

static void *
stream_put(void *p)
{
	stream_arg *a = p;
	for (int i = 0; i < a->n; i++)
		xchan_put(a->ch, xchan_val_int(i), XCHAN_DEADLINE_NEVER);
	return NULL;
}

/* Concurrent producers through a transform: nothing lost, in order per
 * producer (single producer here), steps serialized. */
XTEST(xform_concurrent_stream)
{
	xchan_xform *m;
	xchan_xform_map(&m, inc, NULL);
	xchan_chan *ch = xchan_with(m, XCHAN_BUF_FIXED, 4);
	stream_arg a = {ch, 20000, 0};
	xt_thread t;
	xt_start(&t, stream_put, &a);
	int64_t prev = 0, ok = 1;
	for (int i = 0; i < a.n; i++) {
		xchan_val v;
		if (xchan_take(&v, ch, DL(5000)) != XCHAN_OK) {
			ok = 0;
			break;
		}
		if (xt_int(v) != prev + 1)
			ok = 0;
		prev = xt_int(v);
	}
	xt_join(&t);
	XCHECK(ok);
	XCHECK_EQ(prev, a.n);
	xchan_chan_release(ch);
}

XTEST(xform_bad_input)
{
	xchan_xform *x = NULL;
	XCHECK_ERR(xchan_xform_map(&x, NULL, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_xform_take(&x, 0), XCHAN_EINVAL);
	XCHECK_ERR(xchan_xform_partition_all(&x, 0), XCHAN_EINVAL);
	XCHECK_ERR(xchan_xform_comp(&x, NULL, 1), XCHAN_EINVAL);
	xchan_xform_vtbl vt = {sizeof(vt), 0, NULL, NULL, NULL};
	XCHECK_ERR(xchan_xform_new(&x, &vt, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_emit_push(NULL, xchan_val_int(1)), XCHAN_STEP_FAILED);
}

XTEST_MAIN()
