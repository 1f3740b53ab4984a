/*
 * native_run_test.c — xchan_native_run and xchan_native_check through the
 * public API, with libsensor.so (sensor.c): good calls on go, thread and
 * io_thread, every kind of return value, argument lifetimes, and every bad
 * input (each must fail before anything runs, retaining nothing).
 *
 * Every wait has a 10 s deadline, so a broken runner fails instead of
 * hanging.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xchan/xchan_ext.h"

#if !defined(SENSOR_LIB) || !defined(BADLOAD_LIB)
#error "SENSOR_LIB and BADLOAD_LIB must name the sample libraries"
#endif

static int g_failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
			    __LINE__, #cond);                                  \
			g_failures++;                                          \
		}                                                              \
	} while (0)

#define CHECK_ERR(got, want)                                                   \
	do {                                                                   \
		int32_t got_ = (got), want_ = (want);                          \
		if (got_ != want_) {                                           \
			fprintf(stderr, "%s:%d: %s gave %s, expected %s\n",    \
			    __FILE__, __LINE__, #got, xchan_err_name(got_),    \
			    xchan_err_name(want_));                            \
			g_failures++;                                          \
		}                                                              \
	} while (0)

static xchan_deadline
soon(void)
{
	return xchan_deadline_in_ms(10000);
}

/* Takes the single value of a result channel, then checks it closed. */
static xchan_val
result_of(xchan_chan *res)
{
	xchan_val v;
	CHECK_ERR(xchan_take(&v, res, soon()), XCHAN_OK);
	xchan_val end;
	CHECK_ERR(xchan_take(&end, res, soon()), XCHAN_ECLOSED);
	return v;
}

static int64_t
int_of(xchan_val v)
{
	int64_t i = -999;
	CHECK_ERR(xchan_get_int(v, &i), XCHAN_OK);
	return i;
}

static xchan_val
chan_val(xchan_chan *ch)
{
	xchan_val v;
	CHECK_ERR(xchan_val_chan(&v, ch), XCHAN_OK);
	return v;
}

static const uint32_t workloads[] = {XCHAN_WORKLOAD_DISPATCH,
    XCHAN_WORKLOAD_MIXED, XCHAN_WORKLOAD_IO};

/* stream (v(ci)) produces 1..n into an unbuffered channel this thread
 * drains; the void result channel closes without a value. */
static void
test_stream_each_workload(void)
{
	for (size_t w = 0; w < 3; w++) {
		xchan_chan *ch, *res;
		CHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0), XCHAN_OK);
		xchan_val args[2] = {chan_val(ch), xchan_val_int(100)};
		CHECK_ERR(xchan_native_run(&res, workloads[w], SENSOR_LIB,
		              "stream", "v(ci)", args, 2, NULL),
		    XCHAN_OK);
		xchan_val_release(args[0]);
		int64_t total = 0, count = 0;
		xchan_val v;
		while (xchan_take(&v, ch, soon()) == XCHAN_OK) {
			total += int_of(v);
			count++;
		}
		CHECK(count == 100);
		CHECK(total == 5050);
		CHECK_ERR(xchan_take(&v, res, soon()), XCHAN_ECLOSED);
		xchan_chan_release(res);
		xchan_chan_release(ch);
	}
}

/* A pipeline of three native workers: stream -> relay_double -> sum, on
 * every pair of workloads.  The sum comes back on sum's result channel. */
static void
test_native_pipeline(void)
{
	for (size_t a = 0; a < 3; a++) {
		uint32_t wa = workloads[a], wb = workloads[(a + 1) % 3],
		         wc = workloads[(a + 2) % 3];
		xchan_chan *c1, *c2, *r1, *r2, *r3;
		CHECK_ERR(xchan_chan_make(&c1, XCHAN_BUF_FIXED, 4), XCHAN_OK);
		CHECK_ERR(xchan_chan_make(&c2, XCHAN_BUF_NONE, 0), XCHAN_OK);
		xchan_val s_args[2] = {chan_val(c1), xchan_val_int(1000)};
		xchan_val r_args[2] = {chan_val(c1), chan_val(c2)};
		xchan_val m_args[1] = {chan_val(c2)};
		CHECK_ERR(xchan_native_run(&r3, wc, SENSOR_LIB, "sum", "i(c)",
		              m_args, 1, NULL),
		    XCHAN_OK);
		CHECK_ERR(xchan_native_run(&r2, wb, SENSOR_LIB, "relay_double",
		              "i(cc)", r_args, 2, NULL),
		    XCHAN_OK);
		CHECK_ERR(xchan_native_run(&r1, wa, SENSOR_LIB, "stream",
		              "v(ci)", s_args, 2, NULL),
		    XCHAN_OK);
		xchan_val_release(s_args[0]);
		xchan_val_release(r_args[0]);
		xchan_val_release(r_args[1]);
		xchan_val_release(m_args[0]);
		CHECK(int_of(result_of(r3)) == 1000 * 1001);
		CHECK(int_of(result_of(r2)) == 1000);
		xchan_val v;
		CHECK_ERR(xchan_take(&v, r1, soon()), XCHAN_ECLOSED);
		xchan_chan_release(r1);
		xchan_chan_release(r2);
		xchan_chan_release(r3);
		xchan_chan_release(c1);
		xchan_chan_release(c2);
	}
}

static xchan_val
run1(uint32_t workload, const char *sym, const char *sig, xchan_val *args,
    size_t n)
{
	xchan_chan *res;
	int32_t err = xchan_native_run(&res, workload, SENSOR_LIB, sym, sig,
	    args, n, NULL);
	CHECK_ERR(err, XCHAN_OK);
	if (err != XCHAN_OK)
		return xchan_val_nil();
	xchan_val v = result_of(res);
	xchan_chan_release(res);
	return v;
}

/* Runs a void function and checks its result channel closes empty. */
static void
run_void(uint32_t workload, const char *sym, const char *sig, xchan_val *args,
    size_t n)
{
	xchan_chan *res;
	CHECK_ERR(xchan_native_run(&res, workload, SENSOR_LIB, sym, sig, args,
	              n, NULL),
	    XCHAN_OK);
	xchan_val v;
	CHECK_ERR(xchan_take(&v, res, soon()), XCHAN_ECLOSED);
	xchan_chan_release(res);
}

static void
test_return_kinds(void)
{
	for (size_t w = 0; w < 3; w++) {
		uint32_t wl = workloads[w];
		double d = 0;
		xchan_val a[2] = {xchan_val_double(1.5), xchan_val_int(4)};
		xchan_val v = run1(wl, "scale", "d(dd)", a, 2);
		CHECK_ERR(xchan_get_double(v, &d), XCHAN_OK);
		CHECK(d == 6.0);

		int32_t b = -1;
		xchan_val n7 = xchan_val_int(7), n8 = xchan_val_int(8);
		CHECK_ERR(xchan_get_bool(run1(wl, "is_even", "b(i)", &n7, 1),
		              &b),
		    XCHAN_OK);
		CHECK(b == 0);
		CHECK_ERR(xchan_get_bool(run1(wl, "is_even", "b(i)", &n8, 1),
		              &b),
		    XCHAN_OK);
		CHECK(b == 1);

		const char *s = NULL;
		size_t len = 0;
		v = run1(wl, "parity", "s(i)", &n7, 1);
		CHECK_ERR(xchan_get_string(v, &s, &len), XCHAN_OK);
		CHECK(len == 3 && memcmp(s, "odd", 3) == 0);
		xchan_val_release(v);

		xchan_val mixed[4] = {xchan_val_int(1), xchan_val_double(0.5),
		    xchan_val_bool(1), xchan_val_int(2)};
		CHECK_ERR(xchan_get_double(run1(wl, "mixed", "d(idbd)", mixed,
		                               4),
		              &d),
		    XCHAN_OK);
		CHECK(d == 103.5);

		xchan_val many[16];
		for (int k = 0; k < 16; k++)
			many[k] = xchan_val_int(k + 1);
		CHECK(int_of(run1(wl, "sum16", "i(iiiiiiiiiiiiiiii)", many,
		          16)) == 136);

		/* c(i): a channel the function made; the value owns it. */
		xchan_chan *ch = NULL;
		xchan_val n3 = xchan_val_int(3);
		v = run1(wl, "counter", "c(i)", &n3, 1);
		CHECK_ERR(xchan_get_chan(v, &ch), XCHAN_OK);
		if (ch != NULL) {
			xchan_val x;
			int64_t total = 0;
			while (xchan_take(&x, ch, soon()) == XCHAN_OK)
				total += int_of(x);
			CHECK(total == 6);
		}
		xchan_val_release(v);

		/* p(i) then i(p): a native pointer out, and back in. */
		xchan_val n42 = xchan_val_int(42);
		v = run1(wl, "cell_new", "p(i)", &n42, 1);
		void *cell = NULL;
		CHECK_ERR(xchan_get_box(v, &cell), XCHAN_OK);
		CHECK(int_of(run1(wl, "cell_read", "i(p)", &v, 1)) == 42);
		xchan_val nil = xchan_val_nil();
		CHECK(int_of(run1(wl, "cell_read", "i(p)", &nil, 1)) == -1);
		run_void(wl, "cell_free", "v(p)", &v, 1);
		xchan_val_release(v);
	}
	/* A NULL string return: closed without a value. */
	xchan_chan *res;
	CHECK_ERR(xchan_native_run(&res, XCHAN_WORKLOAD_MIXED, SENSOR_LIB,
	              "nothing", "s()", NULL, 0, NULL),
	    XCHAN_OK);
	xchan_val v;
	CHECK_ERR(xchan_take(&v, res, soon()), XCHAN_ECLOSED);
	xchan_chan_release(res);
}

/* The caller drops its string right after submitting; the call's own
 * reference keeps the bytes alive (ASan would see a use after free). */
static void
test_args_retained(void)
{
	for (size_t w = 0; w < 3; w++) {
		char text[64];
		snprintf(text, sizeof(text), "a string of 27 characters..");
		xchan_val s;
		CHECK_ERR(xchan_val_string(&s, text, strlen(text)), XCHAN_OK);
		xchan_chan *res;
		CHECK_ERR(xchan_native_run(&res, workloads[w], SENSOR_LIB,
		              "text_length", "i(s)", &s, 1, NULL),
		    XCHAN_OK);
		xchan_val_release(s);
		CHECK(int_of(result_of(res)) == 27);
		xchan_chan_release(res);
	}
}

/* The log hook: counts messages and keeps the last one. */
static pthread_mutex_t g_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_last_log[512];
static int g_logs;

static void
log_hook(void *user, int32_t level, const char *msg)
{
	(void)user;
	(void)level;
	pthread_mutex_lock(&g_log_mu);
	snprintf(g_last_log, sizeof(g_last_log), "%s", msg);
	g_logs++;
	pthread_mutex_unlock(&g_log_mu);
}

static int
logs_so_far(char *last, size_t size)
{
	pthread_mutex_lock(&g_log_mu);
	int n = g_logs;
	if (last != NULL)
		snprintf(last, size, "%s", g_last_log);
	pthread_mutex_unlock(&g_log_mu);
	return n;
}

static atomic_int g_box_dtors;

static void
count_dtor(void *p)
{
	(void)p;
	atomic_fetch_add(&g_box_dtors, 1);
}

/* Checks that a bad call fails with `want`, names `needle` in its message,
 * and retained nothing (the box's destructor runs when we drop ours). */
static void
expect_bad(int line, uint32_t workload, const char *lib, const char *sym,
    const char *sig, xchan_val *args, size_t n, int32_t want,
    const char *needle)
{
	xchan_val box;
	CHECK_ERR(xchan_val_box(&box, &g_box_dtors, count_dtor), XCHAN_OK);
	int before = atomic_load(&g_box_dtors);
	xchan_chan *res = (xchan_chan *)&box; /* must be reset to NULL */
	int logs_before = logs_so_far(NULL, 0);
	int32_t err =
	    xchan_native_run(&res, workload, lib, sym, sig, args, n, NULL);
	/* ELOAD is reported through the log hook; other errors are not. */
	char logged[512];
	int logs_after = logs_so_far(logged, sizeof(logged));
	CHECK(logs_after == logs_before + (want == XCHAN_ELOAD));
	if (want == XCHAN_ELOAD && needle != NULL &&
	    strstr(logged, needle) == NULL) {
		fprintf(stderr, "line %d: log \"%s\" does not name \"%s\"\n",
		    line, logged, needle);
		g_failures++;
	}
	if (err != want)
		fprintf(stderr,
		    "line %d: xchan_native_run gave %s, expected %s\n", line,
		    xchan_err_name(err), xchan_err_name(want));
	CHECK_ERR(err, want);
	CHECK(res == NULL);
	char msg[256] = "unset";
	/* check validates only: shutdown is run's answer alone. */
	if (workload <= XCHAN_WORKLOAD_IO && want != XCHAN_ESHUTDOWN) {
		err = xchan_native_check(msg, sizeof(msg), lib, sym, sig, args,
		    n);
		CHECK_ERR(err, want);
		if (needle != NULL && strstr(msg, needle) == NULL) {
			fprintf(stderr,
			    "line %d: message \"%s\" does not name \"%s\"\n",
			    line, msg, needle);
			g_failures++;
		}
	}
	xchan_val_release(box);
	CHECK(atomic_load(&g_box_dtors) == before + 1);
}

#define BAD(...) expect_bad(__LINE__, __VA_ARGS__)

static void
test_bad_inputs(void)
{
	const uint32_t D = XCHAN_WORKLOAD_DISPATCH, T = XCHAN_WORKLOAD_MIXED;
	xchan_chan *ch;
	CHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_NONE, 0), XCHAN_OK);
	xchan_val good[2] = {chan_val(ch), xchan_val_int(3)};

	/* Library and symbol. */
	BAD(D, "/nonexistent/libnothing.so", "stream", "v(ci)", good, 2,
	    XCHAN_ELOAD, "/nonexistent/libnothing.so");
	BAD(T, "libxchan-no-such-library.so", "stream", "v(ci)", good, 2,
	    XCHAN_ELOAD, "cannot load library");
	BAD(T, SENSOR_LIB, "no_such_function", "v(ci)", good, 2, XCHAN_ELOAD,
	    "no symbol \"no_such_function\"");
	BAD(T, NULL, "stream", "v(ci)", good, 2, XCHAN_EINVAL, "lib_path");
	BAD(T, SENSOR_LIB, NULL, "v(ci)", good, 2, XCHAN_EINVAL, "symbol");

	/* Malformed signatures. */
	static const char *const bad_sigs[] = {"", "v", "(ci)", "x(ci)", "v(ci",
	    "v(ci))", "v(ci)x", "v(cq)", "v(cv)", "v[ci]", "v( c i)", "vv(ci)",
	    "V(ci)", "i(iiiiiiiiiiiiiiiii)" /* 17 */};
	for (size_t k = 0; k < sizeof(bad_sigs) / sizeof(bad_sigs[0]); k++)
		BAD(T, SENSOR_LIB, "stream", bad_sigs[k], good, 2, XCHAN_EINVAL,
		    "signature");
	BAD(T, SENSOR_LIB, "stream", NULL, good, 2, XCHAN_EINVAL,
	    "signature is NULL");

	/* A library whose xchan_native_onload refuses the core: every call
	 * fails, and its function never runs. */
	BAD(T, BADLOAD_LIB, "ran", "i()", NULL, 0, XCHAN_ELOAD,
	    "xchan_native_onload failed with EVERSION");
	BAD(D, BADLOAD_LIB, "ran", "i()", NULL, 0, XCHAN_ELOAD,
	    "xchan_native_onload failed");

	/* Argument count and kinds. */
	BAD(T, SENSOR_LIB, "stream", "v(ci)", good, 1, XCHAN_EINVAL,
	    "takes 2 arguments, got 1");
	BAD(T, SENSOR_LIB, "stream", "v(ci)", good, 0, XCHAN_EINVAL, "got 0");
	BAD(T, SENSOR_LIB, "stream", "v(ci)", NULL, 2, XCHAN_EINVAL,
	    "args is NULL");
	xchan_val swapped[2] = {good[1], good[0]};
	BAD(T, SENSOR_LIB, "stream", "v(ci)", swapped, 2, XCHAN_ETYPE,
	    "argument 1 of \"stream\" (signature \"v(ci)\") must be chan, "
	    "got int");
	xchan_val str;
	CHECK_ERR(xchan_val_string(&str, "12", 2), XCHAN_OK);
	xchan_val wrong_int[2] = {good[0], str};
	BAD(T, SENSOR_LIB, "stream", "v(ci)", wrong_int, 2, XCHAN_ETYPE,
	    "argument 2");
	xchan_val dbl = xchan_val_double(2.5);
	BAD(T, SENSOR_LIB, "is_even", "b(i)", &dbl, 1, XCHAN_ETYPE,
	    "must be int, got double");
	BAD(T, SENSOR_LIB, "text_length", "i(s)", &good[1], 1, XCHAN_ETYPE,
	    "must be string");
	BAD(T, SENSOR_LIB, "cell_read", "i(p)", &good[1], 1, XCHAN_ETYPE,
	    "box or nil");
	BAD(T, SENSOR_LIB, "is_even", "b(b)", &good[1], 1, XCHAN_ETYPE,
	    "must be bool");
	xchan_val nul;
	CHECK_ERR(xchan_val_string(&nul, "a\0b", 3), XCHAN_OK);
	BAD(T, SENSOR_LIB, "text_length", "i(s)", &nul, 1, XCHAN_EINVAL,
	    "embedded NUL");

	/* Workloads and options. */
	BAD(XCHAN_WORKLOAD_COMPUTE, SENSOR_LIB, "stream", "v(ci)", good, 2,
	    XCHAN_EINVAL, NULL);
	BAD(99, SENSOR_LIB, "stream", "v(ci)", good, 2, XCHAN_EINVAL, NULL);
	xchan_go_opts small = {8, 0, NULL, 0};
	CHECK_ERR(xchan_native_run(NULL, T, SENSOR_LIB, "stream", "v(ci)", good,
	              2, &small),
	    XCHAN_EINVAL);

	/* A good call checks clean. */
	char msg[64] = "unset";
	CHECK_ERR(xchan_native_check(msg, sizeof(msg), SENSOR_LIB, "stream",
	              "v(ci)", good, 2),
	    XCHAN_OK);
	CHECK(msg[0] == 0);
	CHECK_ERR(xchan_native_check(NULL, 0, SENSOR_LIB, "nope", "v()", NULL,
	              0),
	    XCHAN_ELOAD);

	xchan_val_release(str);
	xchan_val_release(nul);
	xchan_val_release(good[0]);
	xchan_chan_release(ch);
}

/* Without a result channel, with a name: the call still runs. */
static void
test_no_result_channel(void)
{
	xchan_chan *ch;
	CHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 8), XCHAN_OK);
	xchan_val args[2] = {chan_val(ch), xchan_val_int(5)};
	xchan_go_opts o = {sizeof(o), 0, "sensor-stream", 0};
	CHECK_ERR(xchan_native_run(NULL, XCHAN_WORKLOAD_IO, SENSOR_LIB,
	              "stream", "v(ci)", args, 2, &o),
	    XCHAN_OK);
	xchan_val_release(args[0]);
	int64_t total = 0;
	xchan_val v;
	while (xchan_take(&v, ch, soon()) == XCHAN_OK)
		total += int_of(v);
	CHECK(total == 15);
	xchan_chan_release(ch);
}

/* A go task starts a native worker and waits for it (parking).  The path
 * is spelled differently from SENSOR_LIB, so this first use of it runs
 * dlopen on the go task's stack. */
static int32_t
go_starts_native(void *arg, xchan_val *result)
{
	const char *path = arg;
	xchan_chan *ch, *res;
	int32_t err = xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	if (err != XCHAN_OK)
		return err;
	xchan_val args[1] = {chan_val(ch)};
	err = xchan_native_run(&res, XCHAN_WORKLOAD_MIXED, path, "sum", "i(c)",
	    args, 1, NULL);
	xchan_val_release(args[0]);
	if (err == XCHAN_OK) {
		for (int64_t i = 1; i <= 10; i++)
			xchan_put(ch, xchan_val_int(i), soon());
		xchan_chan_close(ch);
		err = xchan_take(result, res, soon());
		xchan_chan_release(res);
	}
	xchan_chan_release(ch);
	return err;
}

static void
test_run_from_a_go_task(void)
{
	static char path[4096];
	const char *slash = strrchr(SENSOR_LIB, '/');
	snprintf(path, sizeof(path), "%.*s/./%s", (int)(slash - SENSOR_LIB),
	    SENSOR_LIB, slash + 1);
	xchan_chan *res;
	CHECK_ERR(xchan_go(&res, go_starts_native, path, NULL), XCHAN_OK);
	CHECK(int_of(result_of(res)) == 55);
	xchan_chan_release(res);
}

/* Many threads start native workers at once, each naming the library by
 * a path of its own (so each is a first load through the load lock), all
 * streaming into one channel that this thread drains. */
enum { STORM_THREADS = 8, STORM_CALLS = 16, STORM_N = 50 };

typedef struct storm_arg {
	int k;
	xchan_chan *ch;
	int32_t err;
} storm_arg;

static void *
storm_thread(void *p)
{
	storm_arg *a = p;
	char path[4096];
	const char *slash = strrchr(SENSOR_LIB, '/');
	int at = snprintf(path, sizeof(path), "%.*s", (int)(slash - SENSOR_LIB),
	    SENSOR_LIB);
	for (int i = 0; i <= a->k; i++)
		at += snprintf(path + at, sizeof(path) - (size_t)at, "/.");
	snprintf(path + at, sizeof(path) - (size_t)at, "/%s", slash + 1);
	a->err = XCHAN_OK;
	for (int i = 0; i < STORM_CALLS && a->err == XCHAN_OK; i++) {
		xchan_val args[2] = {chan_val(a->ch), xchan_val_int(STORM_N)};
		a->err = xchan_native_run(NULL, workloads[(a->k + i) % 3], path,
		    "stream_open", "v(ci)", args, 2, NULL);
		xchan_val_release(args[0]);
	}
	return NULL;
}

static void
test_storm(void)
{
	xchan_chan *ch;
	CHECK_ERR(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 16), XCHAN_OK);
	pthread_t t[STORM_THREADS];
	storm_arg a[STORM_THREADS];
	for (int k = 0; k < STORM_THREADS; k++) {
		a[k].k = k;
		a[k].ch = ch;
		CHECK(pthread_create(&t[k], NULL, storm_thread, &a[k]) == 0);
	}
	int64_t total = 0, count = 0;
	const int64_t want = (int64_t)STORM_THREADS * STORM_CALLS * STORM_N;
	xchan_val v;
	while (count < want && xchan_take(&v, ch, soon()) == XCHAN_OK) {
		total += int_of(v);
		count++;
	}
	for (int k = 0; k < STORM_THREADS; k++) {
		pthread_join(t[k], NULL);
		CHECK_ERR(a[k].err, XCHAN_OK);
	}
	CHECK(count == want);
	CHECK(total == (int64_t)STORM_THREADS * STORM_CALLS *
	                   (STORM_N * (STORM_N + 1) / 2));
	xchan_chan_release(ch);
}

int
main(void)
{
	xchan_set_log_hook(log_hook, NULL);
	test_stream_each_workload();
	test_native_pipeline();
	test_return_kinds();
	test_args_retained();
	test_bad_inputs();
	test_no_result_channel();
	test_run_from_a_go_task();
	test_storm();
	xchan_shutdown();
	/* After shutdown: refused on every workload, nothing retained. */
	xchan_val one = xchan_val_int(1);
	for (size_t w = 0; w < 3; w++)
		BAD(workloads[w], SENSOR_LIB, "parity", "s(i)", &one, 1,
		    XCHAN_ESHUTDOWN, NULL);
	if (g_failures) {
		fprintf(stderr, "native_run_test: %d failures\n", g_failures);
		return 1;
	}
	printf("native_run_test: all passed\n");
	return 0;
}
