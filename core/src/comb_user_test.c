/* comb_user_test.c — the combinators' user callbacks run off go stacks
 * (comb_user.h): every callback sees xchan_in_go() == 0, although the
 * combinator itself runs as a go task. */
#include "comb_testutil.h"

#include <stdatomic.h>

static _Atomic int calls, calls_in_go;

static void
note_call(void)
{
	atomic_fetch_add(&calls, 1);
	if (xchan_in_go())
		atomic_fetch_add(&calls_in_go, 1);
}

static void
reset_counts(void)
{
	atomic_store(&calls, 0);
	atomic_store(&calls_in_go, 0);
}

static xchan_val
sum_n(void *user, const xchan_val *vals, size_t n)
{
	(void)user;
	note_call();
	int64_t s = 0, x = 0;
	for (size_t i = 0; i < n; i++) {
		xchan_get_int(vals[i], &x);
		s += x;
	}
	return xchan_val_int(s);
}

static int32_t
is_even(void *user, xchan_val v)
{
	(void)user;
	note_call();
	int64_t x = 0;
	xchan_get_int(v, &x);
	return x % 2 == 0;
}

static xchan_val
parity(void *user, xchan_val v)
{
	(void)user;
	note_call();
	int64_t x = 0;
	xchan_get_int(v, &x);
	return xchan_val_int(x % 2);
}

static int32_t
sum_step(void *user, xchan_val *out, xchan_val acc, xchan_val in)
{
	(void)user;
	note_call();
	int64_t a = 0, b = 0;
	xchan_get_int(acc, &a);
	xchan_get_int(in, &b);
	*out = xchan_val_int(a + b);
	return XCHAN_STEP_CONTINUE;
}

static xchan_val
inc(void *user, xchan_val v)
{
	(void)user;
	int64_t x = 0;
	xchan_get_int(v, &x);
	return xchan_val_int(x + 1);
}

static int32_t
inc_factory(void *user, xchan_xform **out)
{
	(void)user;
	note_call();
	return xchan_xform_map(out, inc, NULL);
}

static void
async_double(void *user, xchan_val in, xchan_chan *res)
{
	(void)user;
	note_call();
	int64_t x = 0;
	xchan_get_int(in, &x);
	xchan_val_release(in);
	XCHECK_ERR(xchan_offer(res, xchan_val_int(2 * x)), XCHAN_OK);
	xchan_chan_close(res);
	xchan_chan_release(res);
}

XTEST(map_fn_runs_off_go_stack)
{
	reset_counts();
	xchan_chan *ins[2] = {tu_range(0, 5), tu_range(10, 15)}, *out = NULL;
	XCHECK_ERR(xchan_map(&out, NULL, ins, 2, sum_n, NULL, NULL), XCHAN_OK);
	for (int64_t i = 0; i < 5; i++)
		TU_TAKE_EQ(out, 10 + 2 * i);
	TU_CLOSED(out);
	XCHECK(atomic_load(&calls) == 5);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_chan_release(out);
	xchan_chan_release(ins[0]);
	xchan_chan_release(ins[1]);
}

XTEST(split_pred_runs_off_go_stack)
{
	reset_counts();
	xchan_chan *src = tu_range(0, 6), *t = NULL, *f = NULL;
	xchan_chan_opts o = {0};
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 8;
	XCHECK_ERR(xchan_split(&t, &f, NULL, src, is_even, NULL, &o, &o),
	    XCHAN_OK);
	TU_TAKE_EQ(t, 0);
	TU_TAKE_EQ(t, 2);
	TU_TAKE_EQ(t, 4);
	TU_CLOSED(t);
	XCHECK(atomic_load(&calls) == 6);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_chan_release(t);
	xchan_chan_release(f);
	xchan_chan_release(src);
}

XTEST(pub_topic_fn_runs_off_go_stack)
{
	reset_counts();
	xchan_chan *src = tu_chan(XCHAN_BUF_FIXED, 8), *odd = NULL;
	odd = tu_chan(XCHAN_BUF_FIXED, 8);
	xchan_pub *p = NULL;
	XCHECK_ERR(xchan_pub_new(&p, NULL, src, parity, NULL, NULL, NULL),
	    XCHAN_OK);
	XCHECK_ERR(xchan_pub_sub(p, xchan_val_int(1), odd, 1), XCHAN_OK);
	for (int64_t i = 0; i < 4; i++)
		XCHECK_ERR(xchan_put(src, xchan_val_int(i), tu_dl()), XCHAN_OK);
	xchan_chan_close(src);
	TU_TAKE_EQ(odd, 1);
	TU_TAKE_EQ(odd, 3);
	TU_CLOSED(odd);
	XCHECK(atomic_load(&calls) == 4);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_pub_release(p);
	xchan_chan_release(odd);
	xchan_chan_release(src);
}

XTEST(reduce_fn_runs_off_go_stack)
{
	reset_counts();
	xchan_chan *src = tu_range(0, 10), *res = NULL;
	XCHECK_ERR(xchan_reduce(&res, src, sum_step, NULL, xchan_val_int(0)),
	    XCHAN_OK);
	TU_TAKE_EQ(res, 45);
	XCHECK(atomic_load(&calls) == 10);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_chan_release(res);
	xchan_chan_release(src);
}

XTEST(pipeline_factory_and_async_fn_run_off_go_stack)
{
	reset_counts();
	xchan_chan *src = tu_range(0, 4), *to = tu_chan(XCHAN_BUF_FIXED, 8);
	xchan_chan *done = NULL;
	XCHECK_ERR(xchan_pipeline(&done, 2, to, src, 1, inc_factory, NULL,
	               NULL),
	    XCHAN_OK);
	for (int64_t i = 0; i < 4; i++)
		TU_TAKE_EQ(to, i + 1);
	TU_CLOSED(to);
	XCHECK(atomic_load(&calls) >= 4);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_chan_release(done);
	xchan_chan_release(to);
	xchan_chan_release(src);

	reset_counts();
	src = tu_range(0, 4);
	to = tu_chan(XCHAN_BUF_FIXED, 8);
	XCHECK_ERR(xchan_pipeline_async(&done, 2, to, src, 1, async_double,
	               NULL, NULL),
	    XCHAN_OK);
	for (int64_t i = 0; i < 4; i++)
		TU_TAKE_EQ(to, 2 * i);
	TU_CLOSED(to);
	XCHECK(atomic_load(&calls) == 4);
	XCHECK(atomic_load(&calls_in_go) == 0);
	xchan_chan_release(done);
	xchan_chan_release(to);
	xchan_chan_release(src);
}

XTEST_MAIN()
