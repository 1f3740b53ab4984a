/*
 * log_test.c — one diagnostic hook (issue 9, §8): every message the library
 * reports goes to xchan_set_log_hook's hook instead of stderr, values
 * dropped for lack of memory are reported, and the hook never runs on a go
 * task's stack.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

typedef struct seen {
	_Atomic int n;
	_Atomic int in_go;
	int level;
	char last[512];
} seen;
static seen g_seen;

static void
hook(void *user, int32_t level, const char *msg)
{
	seen *s = user;
	if (xchan_in_go())
		atomic_fetch_add(&s->in_go, 1);
	/* Messages may arrive on several threads at once. */
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&mu);
	s->level = level;
	strncpy(s->last, msg, sizeof(s->last) - 1);
	pthread_mutex_unlock(&mu);
	atomic_fetch_add(&s->n, 1);
}

/* Runs `fn` with fd 2 sent to a pipe; returns how many bytes it wrote. */
static size_t
stderr_bytes_during(void (*fn)(void))
{
	fflush(stderr);
	int saved = dup(2), p[2];
	if (saved < 0 || pipe(p) != 0)
		return (size_t)-1;
	dup2(p[1], 2);
	close(p[1]);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[4096];
	size_t total = 0;
	/* the write end is closed now: read to EOF */
	ssize_t r;
	while ((r = read(p[0], buf, sizeof(buf))) > 0)
		total += (size_t)r;
	close(p[0]);
	return total;
}

static xchan_val
nil_map(void *user, xchan_val in)
{
	(void)user;
	xchan_val_release(in);
	return xchan_val_nil(); /* fails the step */
}

static void
fail_a_transform(void)
{
	xchan_xform *xf;
	XREQUIRE(xchan_xform_map(&xf, nil_map, NULL) == XCHAN_OK);
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 4,
	    .xform = xf};
	xchan_chan *ch;
	XREQUIRE(xchan_chan_new(&ch, &o) == XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	xchan_chan_release(ch);
}

XTEST(transform_failure_goes_to_the_hook_not_stderr)
{
	memset(&g_seen, 0, sizeof(g_seen));
	xchan_set_log_hook(hook, &g_seen);
	size_t bytes = stderr_bytes_during(fail_a_transform);
	XCHECK_EQ(atomic_load(&g_seen.n), 1);
	XCHECK_EQ(g_seen.level, XCHAN_LOG_ERROR);
	XCHECK(strstr(g_seen.last, "transform failed") != NULL);
	XCHECK_EQ(bytes, 0);
	/* without a hook: stderr, prefixed */
	xchan_set_log_hook(NULL, NULL);
	bytes = stderr_bytes_during(fail_a_transform);
	XCHECK(bytes > strlen("xchan: transform failed"));
	XCHECK_EQ(atomic_load(&g_seen.n), 1);
}

static int32_t
failing_task(void *arg, xchan_val *out)
{
	(void)arg;
	(void)out;
	return XCHAN_EXFORM;
}

static int32_t
transform_failure_in_go(void *arg, xchan_val *out)
{
	(void)arg;
	fail_a_transform();
	*out = xchan_val_int(1);
	return XCHAN_OK;
}

/* A go task's failure, and a transform failing inside a go task: both
 * reported, and the hook runs on an OS thread's stack, not the task's. */
XTEST(go_task_reports_reach_the_hook_off_the_go_stack)
{
	memset(&g_seen, 0, sizeof(g_seen));
	xchan_set_log_hook(hook, &g_seen);
	xchan_set_task_error_hook(NULL, NULL);
	xchan_chan *r;
	xchan_val v;
	XREQUIRE(xchan_go(&r, failing_task, NULL, NULL) == XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)),
	    XCHAN_ECLOSED);
	xchan_chan_release(r);
	XREQUIRE(xchan_go(&r, transform_failure_in_go, NULL, NULL) == XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	xchan_chan_release(r);
	int64_t until = xchan_now() + 10000000000LL;
	while (atomic_load(&g_seen.n) < 2 && xchan_now() < until)
		usleep(1000);
	XCHECK_EQ(atomic_load(&g_seen.n), 2);
	XCHECK_EQ(atomic_load(&g_seen.in_go), 0);
	xchan_set_log_hook(NULL, NULL);
}

/* Values a transform emits that cannot be stored for lack of memory are
 * dropped, and every drop is reported: whatever allocation fails, the
 * values that arrive plus the ones reported lost account for the put. */
static xchan_val
keep(void *user, xchan_val in)
{
	(void)user;
	return in;
}

XTEST(out_of_memory_drops_are_reported)
{
	memset(&g_seen, 0, sizeof(g_seen));
	xchan_set_log_hook(hook, &g_seen);
	int reported = 0;
	for (long k = 1; k < 12; k++) {
		xchan_xform *rep, *id, *pair[2];
		XREQUIRE(xchan_xform_repeat(&rep, 40) == XCHAN_OK);
		XREQUIRE(xchan_xform_map(&id, keep, NULL) == XCHAN_OK);
		pair[0] = rep;
		pair[1] = id;
		xchan_xform *xf;
		XREQUIRE(xchan_xform_comp(&xf, pair, 2) == XCHAN_OK);
		xchan_chan_opts o = {.size = sizeof(o),
		    .buf_kind = XCHAN_BUF_FIXED,
		    .capacity = 1000,
		    .xform = xf};
		xchan_chan *ch;
		XREQUIRE(xchan_chan_new(&ch, &o) == XCHAN_OK);
		int before = atomic_load(&g_seen.n);
		xchan__fail_alloc_after(k);
		int32_t e =
		    xchan_put(ch, xchan_val_int(9), XCHAN_DEADLINE_POLL);
		xchan__fail_alloc_after(0);
		int got = 0;
		xchan_val v;
		while (xchan_poll(&v, ch) == XCHAN_OK)
			got++;
		int logs = atomic_load(&g_seen.n) - before;
		if (e == XCHAN_OK && got < 40) {
			XCHECK(logs >= 1); /* the loss was reported */
			reported++;
		} else if (e == XCHAN_OK) {
			XCHECK_EQ(got, 40);
		}
		xchan_chan_release(ch);
	}
	XCHECK(reported >= 1); /* the sweep did hit the drop path */
	xchan_set_log_hook(NULL, NULL);
}

/* The hook runs with no lock of the channel held, not even its step lock:
 * a hook may put on the very channel whose transform failure it reports. */
static xchan_chan *g_ch;
static _Atomic int g_put_err = -1;

static xchan_val
fail_on_one(void *user, xchan_val in)
{
	(void)user;
	int64_t i = 0;
	xchan_get_int(in, &i);
	return i == 1 ? xchan_val_nil() : in;
}

static void
put_back_hook(void *user, int32_t level, const char *msg)
{
	(void)user;
	(void)level;
	if (strstr(msg, "transform failed") != NULL &&
	    atomic_load(&g_put_err) == -1)
		atomic_store(&g_put_err, xchan_put(g_ch, xchan_val_int(2),
		                             xchan_deadline_in_ms(3000)));
}

XTEST(hook_may_use_the_failing_channel)
{
	xchan_xform *xf;
	XREQUIRE(xchan_xform_map(&xf, fail_on_one, NULL) == XCHAN_OK);
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 4,
	    .xform = xf};
	XREQUIRE(xchan_chan_new(&g_ch, &o) == XCHAN_OK);
	xchan_set_log_hook(put_back_hook, NULL);
	XCHECK_ERR(xchan_put(g_ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER),
	    XCHAN_OK);
	XCHECK_ERR(atomic_load(&g_put_err), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_poll(&v, g_ch), XCHAN_OK);
	XCHECK_EQ(xt_int(v), 2);
	xchan_set_log_hook(NULL, NULL);
	xchan_chan_release(g_ch);
}

XTEST(log_count_and_levels)
{
	memset(&g_seen, 0, sizeof(g_seen));
	xchan_set_log_hook(hook, &g_seen);
	uint64_t n = xchan__log_count();
	xchan__log(XCHAN_LOG_WARN, "hello %d", 42);
	XCHECK_EQ(xchan__log_count(), n + 1);
	XCHECK_EQ(g_seen.level, XCHAN_LOG_WARN);
	XCHECK(strcmp(g_seen.last, "hello 42") == 0);
	xchan_set_log_hook(NULL, NULL);
}

XTEST_MAIN()
