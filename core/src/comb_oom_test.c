/* comb_oom_test.c — out-of-memory sweeps over every combinator
 * constructor: the N-th allocation fails for N = 1, 2, ...; each call must
 * return XCHAN_OK or XCHAN_ENOMEM, leave nothing behind on failure (ASan
 * and LSan check), and work normally on success. */
#include "comb_testutil.h"
#include "common.h"

#define SWEEP 40

/* Starts the executors first, so the sweeps hit the combinators' own
 * allocations rather than the one-time creation of the worker pools. */
static void
warm_up(void)
{
	static const uint32_t w[] = {XCHAN_WORKLOAD_DISPATCH,
	    XCHAN_WORKLOAD_MIXED, XCHAN_WORKLOAD_COMPUTE};
	for (size_t i = 0; i < 3; i++) {
		xchan_executor *ex = NULL;
		XCHECK_ERR(xchan_executor_for(&ex, w[i]), XCHAN_OK);
	}
	xchan_chan *src = tu_range(0, 1), *to = tu_chan(XCHAN_BUF_FIXED, 1),
	           *done = NULL;
	XCHECK_ERR(xchan_pipe(&done, src, to, 1), XCHAN_OK);
	tu_done(done);
	xchan_chan_release(src);
	xchan_chan_release(to);
}

static void
fail_at(int n)
{
	xchan__fail_alloc_after(n);
}

static void
fail_off(void)
{
	xchan__fail_alloc_after(0);
}

#define CHECK_OK_OR_NOMEM(err)                                                 \
	do {                                                                   \
		XCHECK((err) == XCHAN_OK || (err) == XCHAN_ENOMEM);            \
	} while (0)

/* Waits for a done channel if the call succeeded. */
static void
finish(int32_t err, xchan_chan *done)
{
	if (err == XCHAN_OK)
		tu_done(done);
	else
		XCHECK(done == NULL);
}

static xchan_val
ident(void *user, xchan_val v)
{
	(void)user;
	return xchan_val_retain(v);
}

static int32_t
always(void *user, xchan_val v)
{
	(void)user;
	(void)v;
	return 1;
}

static xchan_val
first(void *user, const xchan_val *vals, size_t n)
{
	(void)user;
	return n > 0 ? xchan_val_retain(vals[0]) : xchan_val_nil();
}

static int32_t
sum_step(void *user, xchan_val *out, xchan_val acc, xchan_val in)
{
	(void)user;
	int64_t a = 0, b = 0;
	xchan_get_int(acc, &a);
	xchan_get_int(in, &b);
	*out = xchan_val_int(a + b);
	return XCHAN_STEP_CONTINUE;
}

static xchan_val
inc(void *user, xchan_val in)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(in, &i);
	return xchan_val_int(i + 1);
}

static int32_t
inc_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_map(out, inc, NULL);
}

static void
async_inc(void *user, xchan_val in, xchan_chan *res)
{
	(void)user;
	/* res is fixed(1) and empty: the put completes at once. */
	if (xchan_put(res, inc(NULL, in), XCHAN_DEADLINE_POLL) != XCHAN_OK) {
	}
	xchan_val_release(in);
	xchan_chan_close(res);
	xchan_chan_release(res);
}

/* Drains `ch` until it closes (values released). */
static void
drain(xchan_chan *ch)
{
	xchan_val v;
	while (xchan_take(&v, ch, tu_dl()) == XCHAN_OK)
		xchan_val_release(v);
}

XTEST(oom_pipe_take_n_merge_split_map)
{
	warm_up();
	for (int n = 1; n <= SWEEP; n++) {
		xchan_chan *src = tu_range(0, 3),
		           *to = tu_chan(XCHAN_BUF_FIXED, 8), *done = NULL;
		fail_at(n);
		int32_t err = xchan_pipe(&done, src, to, 1);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		finish(err, done);
		xchan_chan_release(src);
		xchan_chan_release(to);

		xchan_chan *out = NULL;
		src = tu_range(0, 3);
		fail_at(n);
		err = xchan_take_n(&out, &done, src, 2, NULL);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(out);
		finish(err, done);
		xchan_chan_release(out);
		xchan_chan_release(src);

		xchan_chan *ins[3] = {tu_range(0, 2), tu_range(0, 2),
		    tu_range(0, 2)};
		fail_at(n);
		err = xchan_merge(&out, &done, ins, 3, NULL);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(out);
		finish(err, done);
		xchan_chan_release(out);

		xchan_chan *t = NULL, *f = NULL;
		fail_at(n);
		err = xchan_split(&t, &f, &done, ins[0], always, NULL, NULL,
		    NULL);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(t);
		finish(err, done);
		xchan_chan_release(t);
		xchan_chan_release(f);

		fail_at(n);
		err = xchan_map(&out, &done, ins, 3, first, NULL, NULL);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(out);
		finish(err, done);
		xchan_chan_release(out);
		for (int i = 0; i < 3; i++)
			xchan_chan_release(ins[i]);
	}
}

XTEST(oom_mult_pub_mix)
{
	warm_up();
	for (int n = 1; n <= SWEEP; n++) {
		xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 4),
		           *tap = tu_chan(XCHAN_BUF_FIXED, 4), *done = NULL;
		xchan_mult *m = NULL;
		fail_at(n);
		int32_t err = xchan_mult_new(&m, &done, src);
		if (err == XCHAN_OK) {
			err = xchan_mult_tap(m, tap, 1);
			CHECK_OK_OR_NOMEM(err);
		}
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		xchan_chan_close(src);
		if (m != NULL) {
			tu_done(done);
			xchan_mult_release(m);
		}
		xchan_chan_release(src);
		xchan_chan_release(tap);

		src = tu_chan(XCHAN_BUF_FIXED, 4);
		xchan_chan *sub = tu_chan(XCHAN_BUF_FIXED, 4);
		xchan_pub *p = NULL;
		done = NULL;
		fail_at(n);
		err = xchan_pub_new(&p, &done, src, ident, NULL, NULL, NULL);
		if (err == XCHAN_OK) {
			err = xchan_pub_sub(p, xchan_val_int(1), sub, 1);
			CHECK_OK_OR_NOMEM(err);
		}
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (p != NULL) {
			XCHECK_ERR(xchan_put(src, xchan_val_int(1), tu_dl()),
			    XCHAN_OK);
			xchan_chan_close(src);
			tu_done(done);
			xchan_pub_release(p);
		}
		xchan_chan_release(src);
		xchan_chan_release(sub);

		xchan_chan *out = tu_chan(XCHAN_BUF_FIXED, 4),
		           *in = tu_range(0, 2);
		xchan_mix *mx = NULL;
		done = NULL;
		fail_at(n);
		err = xchan_mix_new(&mx, &done, out);
		if (err == XCHAN_OK) {
			err = xchan_mix_admix(mx, in);
			CHECK_OK_OR_NOMEM(err);
		}
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (mx != NULL) {
			xchan_mix_release(mx);
			tu_done(done);
		}
		xchan_chan_release(in);
		xchan_chan_release(out);
	}
}

XTEST(oom_pipelines)
{
	warm_up();
	for (int n = 1; n <= SWEEP; n++) {
		for (int kind = 0; kind < 3; kind++) {
			xchan_chan *src = tu_range(0, 5),
			           *to = tu_chan(XCHAN_BUF_FIXED, 8),
			           *done = NULL;
			fail_at(n);
			int32_t err =
			    kind == 0   ? xchan_pipeline(&done, 2, to, src, 1,
			                      inc_factory, NULL, NULL)
			    : kind == 1 ? xchan_pipeline_blocking(&done, 2, to,
			                      src, 1, inc_factory, NULL, NULL)
			                : xchan_pipeline_async(&done, 2, to,
			                      src, 1, async_inc, NULL, NULL);
			fail_off();
			CHECK_OK_OR_NOMEM(err);
			if (err == XCHAN_OK)
				drain(to);
			finish(err, done);
			xchan_chan_release(src);
			xchan_chan_release(to);
		}
	}
}

XTEST(oom_reduce_into_onto_to_chan)
{
	warm_up();
	for (int n = 1; n <= SWEEP; n++) {
		xchan_chan *src = tu_range(0, 5), *r = NULL;
		fail_at(n);
		int32_t err =
		    xchan_reduce(&r, src, sum_step, NULL, xchan_val_int(0));
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(r);
		xchan_chan_release(r);
		xchan_chan_release(src);

		xchan_xform *xf = NULL;
		XCHECK_ERR(xchan_xform_map(&xf, inc, NULL), XCHAN_OK);
		src = tu_range(0, 5);
		fail_at(n);
		err = xchan_transduce(&r, src, xf, sum_step, NULL,
		    xchan_val_int(0));
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(r);
		xchan_chan_release(r);
		xchan_chan_release(src);

		src = tu_range(0, 5);
		xchan_val items[1] = {tu_str("init")}, init;
		XCHECK_ERR(xchan_val_array(&init, items, 1), XCHAN_OK);
		fail_at(n);
		err = xchan_into(&r, src, init);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(r);
		xchan_chan_release(r);
		xchan_chan_release(src);

		xchan_val v[150];
		for (int i = 0; i < 150; i++)
			v[i] = i % 2 ? xchan_val_int(i) : tu_str("s");
		xchan_chan *ch = tu_chan(XCHAN_BUF_FIXED, 4), *done = NULL;
		fail_at(n);
		err = xchan_onto_chan(&done, ch, v, 3, 1);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(ch);
		finish(err, done);
		xchan_chan_release(ch);

		fail_at(n);
		err = xchan_to_chan(&ch, v + 3, 147);
		fail_off();
		CHECK_OK_OR_NOMEM(err);
		if (err == XCHAN_OK)
			drain(ch);
		xchan_chan_release(ch);
	}
}

XTEST_MAIN()
