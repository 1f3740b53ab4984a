/* comb_pipeline_test.c — pipeline, pipeline_blocking, pipeline_async
 * (docs/semantics.md §4 cases 65-71). */
#include "comb_testutil.h"

enum { K_COMPUTE, K_BLOCKING, K_ASYNC };

/* ---- transforms and async functions used below ---------------------------- */

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
	if (user != NULL)
		atomic_fetch_add((_Atomic int *)user, 1);
	return xchan_xform_map(out, inc, NULL);
}

/* pipeline-async function: a go task puts v + 1 on the result channel. */
typedef struct async_job {
	xchan_val v;
	xchan_chan *res;
	int64_t copies; /* af-multiplier: put 0..v-1 instead */
} async_job;

static int32_t
async_job_run(void *arg, xchan_val *result)
{
	async_job *j = arg;
	*result = xchan_val_nil();
	int64_t i = 0;
	xchan_get_int(j->v, &i);
	if (j->copies) {
		for (int64_t k = 0; k < i; k++)
			xchan_put(j->res, xchan_val_int(k),
			    XCHAN_DEADLINE_NEVER);
	} else {
		xchan_put(j->res, xchan_val_int(i + 1), XCHAN_DEADLINE_NEVER);
	}
	xchan_chan_close(j->res);
	xchan_chan_release(j->res);
	xchan_val_release(j->v);
	free(j);
	return XCHAN_OK;
}

static void
async_af(void *user, xchan_val in, xchan_chan *res)
{
	async_job *j = malloc(sizeof(*j));
	j->v = in;
	j->res = res;
	j->copies = user != NULL;
	if (xchan_go(NULL, async_job_run, j, NULL) != XCHAN_OK) {
		xchan_chan_close(res);
		xchan_chan_release(res);
		xchan_val_release(in);
		free(j);
	}
}

static int32_t
start(int kind, xchan_chan **done, uint32_t n, xchan_chan *to, xchan_chan *from,
    int32_t close, const xchan_pipeline_opts *o)
{
	switch (kind) {
	case K_COMPUTE:
		return xchan_pipeline(done, n, to, from, close, inc_factory,
		    NULL, o);
	case K_BLOCKING:
		return xchan_pipeline_blocking(done, n, to, from, close,
		    inc_factory, NULL, o);
	default:
		return xchan_pipeline_async(done, n, to, from, close, async_af,
		    NULL, o);
	}
}

/* Runs an inc pipeline of `kind` over 0..size-1 and checks 1..size. */
static int
run_inc(int kind, uint32_t n, size_t size)
{
	xchan_chan *from = tu_range(0, (int64_t)size);
	xchan_chan *to = tu_chan(XCHAN_BUF_FIXED, 16), *done = NULL;
	int ok = start(kind, &done, n, to, from, 1, NULL) == XCHAN_OK;
	int64_t *want = calloc(size + 1, sizeof(int64_t));
	for (size_t i = 0; i < size; i++)
		want[i] = (int64_t)i + 1;
	if (ok)
		ok = tu_expect_seq(to, want, size);
	if (ok)
		tu_done(done);
	else
		xchan_chan_release(done);
	free(want);
	xchan_chan_release(from);
	xchan_chan_release(to);
	return ok;
}

/* 65: n in {1, 10, 20, 5} x sizes {0, 10, 1000}, all three kinds. */
XTEST(pipeline_test_sizes)
{
	static const uint32_t ns[] = {1, 10, 20, 5};
	static const size_t sizes[] = {0, 10, 1000};
	for (int kind = K_COMPUTE; kind <= K_ASYNC; kind++)
		for (size_t a = 0; a < 4; a++)
			for (size_t b = 0; b < 3; b++) {
				int ok = run_inc(kind, ns[a], sizes[b]);
				if (!ok)
					fprintf(stderr,
					    "  kind %d n %u size %zu\n", kind,
					    ns[a], sizes[b]);
				XCHECK(ok);
			}
}

/* 10,000 elements keep their order at n = 1, 4 and 16. */
XTEST(pipeline_10000_in_order)
{
	static const uint32_t ns[] = {1, 4, 16};
	for (size_t a = 0; a < 3; a++)
		XCHECK(run_inc(K_COMPUTE, ns[a], 10000));
	XCHECK(run_inc(K_BLOCKING, 16, 10000));
	XCHECK(run_inc(K_ASYNC, 16, 10000));
}

/* 66: close? true closes the destination; false leaves it writable. */
XTEST(pipeline_close_flag)
{
	for (int kind = K_COMPUTE; kind <= K_ASYNC; kind++) {
		xchan_chan *from = tu_range(0, 3),
		           *to = tu_chan(XCHAN_BUF_FIXED, 10), *done = NULL;
		XCHECK_ERR(start(kind, &done, 2, to, from, 0, NULL), XCHAN_OK);
		tu_done(done);
		for (int i = 1; i <= 3; i++)
			TU_TAKE_EQ(to, i);
		XCHECK_ERR(xchan_put(to, xchan_val_int(42), tu_dl()), XCHAN_OK);
		TU_TAKE_EQ(to, 42);
		xchan_chan_release(from);
		from = tu_range(0, 3);
		XCHECK_ERR(start(kind, &done, 2, to, from, 1, NULL), XCHAN_OK);
		int64_t w[3] = {1, 2, 3};
		XCHECK(tu_expect_seq(to, w, 3));
		tu_done(done);
		xchan_chan_release(from);
		xchan_chan_release(to);
	}
}

/* 67: item 3 fails; the handler's value takes its place, in order, and
 * the handler receives the error data. */
static int32_t
fail3_step(void *state, xchan_val in, xchan_emit *out)
{
	(void)state;
	int64_t i = 0;
	xchan_get_int(in, &i);
	if (i == 3) {
		xchan_val e = xchan_val_nil();
		xchan_val_string(&e, "boom", 4);
		xchan_emit_fail(out, e);
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(out, in);
}

static const xchan_xform_vtbl fail3_vt = {sizeof(xchan_xform_vtbl), 0,
    fail3_step, NULL, NULL};

static int32_t
fail3_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_new(out, &fail3_vt, NULL);
}

static xchan_val
on_err(void *user, xchan_val error)
{
	const char *s = NULL;
	size_t len = 0;
	if (xchan_get_string(error, &s, &len) == XCHAN_OK && len == 4 &&
	    memcmp(s, "boom", 4) == 0)
		atomic_fetch_add((_Atomic int *)user, 1);
	xchan_val_release(error);
	return xchan_val_int(-1); /* :err */
}

XTEST(pipeline_ex_handler)
{
	for (int kind = K_COMPUTE; kind <= K_BLOCKING; kind++) {
		_Atomic int seen = 0;
		xchan_pipeline_opts o = {0};
		o.size = sizeof(o);
		o.on_error = on_err;
		o.on_error_user = (void *)&seen;
		xchan_chan *from = tu_range(1, 6),
		           *to = tu_chan(XCHAN_BUF_FIXED, 10), *done = NULL;
		int32_t err = kind == K_COMPUTE
		                  ? xchan_pipeline(&done, 1, to, from, 1,
		                        fail3_factory, NULL, &o)
		                  : xchan_pipeline_blocking(&done, 3, to, from,
		                        1, fail3_factory, NULL, &o);
		XCHECK_ERR(err, XCHAN_OK);
		int64_t w[5] = {1, 2, -1, 4, 5};
		XCHECK(tu_expect_seq(to, w, 5));
		tu_done(done);
		XCHECK_EQ(atomic_load(&seen), 1);
		xchan_chan_release(from);
		xchan_chan_release(to);
	}
}

/* A failing factory: its error (as an INT) goes to the handler. */
static int32_t
flaky_factory(void *user, xchan_xform **out)
{
	int *calls = user;
	if (++*calls == 2)
		return XCHAN_ENOMEM;
	return xchan_xform_map(out, inc, NULL);
}

static xchan_val
on_err_code(void *user, xchan_val error)
{
	int64_t code = 0;
	xchan_get_int(error, &code);
	(void)user;
	return xchan_val_int(-code);
}

XTEST(pipeline_factory_error)
{
	int calls = 0;
	xchan_pipeline_opts o = {0};
	o.size = sizeof(o);
	o.on_error = on_err_code;
	xchan_chan *from = tu_range(0, 3), *to = tu_chan(XCHAN_BUF_FIXED, 10),
	           *done = NULL;
	XCHECK_ERR(xchan_pipeline(&done, 2, to, from, 1, flaky_factory, &calls,
	               &o),
	    XCHAN_OK);
	int64_t w[3] = {1, -XCHAN_ENOMEM, 3};
	XCHECK(tu_expect_seq(to, w, 3));
	tu_done(done);
	XCHECK_EQ(calls, 3);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* An expanding transform: each element's outputs stay together, in order. */
static int32_t
repeat3_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_repeat(out, 3);
}

XTEST(pipeline_expanding_keeps_groups)
{
	xchan_chan *from = tu_range(0, 50), *to = tu_chan(XCHAN_BUF_FIXED, 4),
	           *done = NULL;
	XCHECK_ERR(xchan_pipeline(&done, 8, to, from, 1, repeat3_factory, NULL,
	               NULL),
	    XCHAN_OK);
	int64_t w[150];
	for (int i = 0; i < 150; i++)
		w[i] = i / 3;
	XCHECK(tu_expect_seq(to, w, 150));
	tu_done(done);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* 68: an async function producing several outputs per input keeps order. */
XTEST(pipeline_af_multiplier)
{
	xchan_chan *from = tu_range(0, 5), *to = tu_chan(XCHAN_BUF_FIXED, 1),
	           *done = NULL;
	XCHECK_ERR(xchan_pipeline_async(&done, 2, to, from, 1, async_af,
	               (void *)1, NULL),
	    XCHAN_OK);
	int64_t w[10] = {0, 0, 1, 0, 1, 2, 0, 1, 2, 3};
	XCHECK(tu_expect_seq(to, w, 10));
	tu_done(done);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* 69: blocking steps (sleeps of 200, 5, 100, 10 ms) with n = 2 keep
 * order; with n = 4 they overlap.  Overlap is counted (most steps running
 * at once), not timed, so a loaded machine cannot fail it. */
static _Atomic int g_sleepers, g_most_sleepers;

static int32_t
sleep_step(void *state, xchan_val in, xchan_emit *out)
{
	(void)state;
	int64_t ms = 0;
	xchan_get_int(in, &ms);
	int now = atomic_fetch_add(&g_sleepers, 1) + 1;
	int most = atomic_load(&g_most_sleepers);
	while (now > most &&
	       !atomic_compare_exchange_weak(&g_most_sleepers, &most, now)) {
	}
	/* A long step also waits (10 s at most) for another step to start
	 * beside it: on a loaded machine the second worker may take longer to
	 * start than the step sleeps, and overlap is what is tested. */
	for (int waited = 0;
	     ms >= 100 && waited < 10000 && atomic_load(&g_most_sleepers) < 2;
	     waited++)
		tu_sleep_ms(1);
	tu_sleep_ms(ms);
	atomic_fetch_sub(&g_sleepers, 1);
	return xchan_emit_push(out, in);
}

static const xchan_xform_vtbl sleep_vt = {sizeof(xchan_xform_vtbl), 0,
    sleep_step, NULL, NULL};

static int32_t
sleep_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_new(out, &sleep_vt, NULL);
}

XTEST(pipeline_blocking_sleeps)
{
	static const uint32_t ns[] = {2, 4};
	for (size_t a = 0; a < 2; a++) {
		xchan_val in[4] = {xchan_val_int(200), xchan_val_int(5),
		    xchan_val_int(100), xchan_val_int(10)};
		xchan_chan *from = NULL, *to = tu_chan(XCHAN_BUF_NONE, 0),
		           *done = NULL;
		XCHECK_ERR(xchan_to_chan(&from, in, 4), XCHAN_OK);
		atomic_store(&g_most_sleepers, 0);
		XCHECK_ERR(xchan_pipeline_blocking(&done, ns[a], to, from, 1,
		               sleep_factory, NULL, NULL),
		    XCHAN_OK);
		int64_t w[4] = {200, 5, 100, 10};
		XCHECK(tu_expect_seq(to, w, 4));
		/* the 200 ms step is still asleep when the others start */
		XCHECK(atomic_load(&g_most_sleepers) >= 2);
		XCHECK(atomic_load(&g_most_sleepers) <= (int)ns[a]);
		tu_done(done);
		xchan_chan_release(from);
		xchan_chan_release(to);
	}
}

/* 70: CPU-heavy work with n = 8. */
static int64_t
fib(int64_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static xchan_val
fib_map(void *user, xchan_val in)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(in, &i);
	return xchan_val_int(fib(18 + i % 5));
}

static int32_t
fib_factory(void *user, xchan_xform **out)
{
	(void)user;
	return xchan_xform_map(out, fib_map, NULL);
}

XTEST(pipeline_compute_n8)
{
	xchan_chan *from = tu_range(0, 200), *to = tu_chan(XCHAN_BUF_FIXED, 8),
	           *done = NULL;
	XCHECK_ERR(xchan_pipeline(&done, 8, to, from, 1, fib_factory, NULL,
	               NULL),
	    XCHAN_OK);
	int64_t w[200];
	for (int i = 0; i < 200; i++)
		w[i] = fib(18 + i % 5);
	XCHECK(tu_expect_seq(to, w, 200));
	tu_done(done);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

/* 71: an async function backed by a go task (see async_af), n = 1 and 8. */
XTEST(pipeline_async_go)
{
	XCHECK(run_inc(K_ASYNC, 1, 100));
	XCHECK(run_inc(K_ASYNC, 8, 100));
}

/* A destination closed early: the pipeline keeps consuming its source and
 * ends; the factory is called for every element. */
XTEST(pipeline_to_closed_early)
{
	_Atomic int calls = 0;
	xchan_chan *from = tu_range(0, 100), *to = tu_chan(XCHAN_BUF_NONE, 0),
	           *done = NULL;
	XCHECK_ERR(xchan_pipeline(&done, 4, to, from, 1, inc_factory,
	               (void *)&calls, NULL),
	    XCHAN_OK);
	TU_TAKE_EQ(to, 1);
	xchan_chan_close(to);
	/* A put already waiting on `to` survives the close (core.async): take
	 * it; every later put fails and the pipeline discards the rest. */
	int64_t rest[4];
	int32_t err;
	size_t k = tu_drain_ints(to, rest, 4, &err);
	XCHECK(k <= 1);
	XCHECK_ERR(err, XCHAN_ECLOSED);
	tu_done(done);
	XCHECK_EQ(atomic_load(&calls), 100);
	TU_CLOSED(from);
	xchan_chan_release(from);
	xchan_chan_release(to);
}

XTEST(pipeline_rejects_bad_args)
{
	xchan_chan *a = tu_chan(XCHAN_BUF_NONE, 0), *done = (xchan_chan *)1;
	XCHECK_ERR(xchan_pipeline(&done, 0, a, a, 1, inc_factory, NULL, NULL),
	    XCHAN_EINVAL);
	XCHECK(done == NULL);
	XCHECK_ERR(xchan_pipeline(NULL, 1, a, a, 1, NULL, NULL, NULL),
	    XCHAN_EINVAL);
	xchan_pipeline_opts o = {0};
	XCHECK_ERR(xchan_pipeline_async(NULL, 1, a, a, 1, async_af, NULL, &o),
	    XCHAN_EINVAL);
	xchan_chan_release(a);
}

XTEST_MAIN()
