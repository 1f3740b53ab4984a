/*
 * debugcheck_test.c — the debug build's checks of the header's "undefined"
 * cases (debugcheck.h): each misuse runs in a fresh child process (a
 * forked child could not make channels: xchan answers XCHAN_EFORK there)
 * that must die by SIGABRT with a message naming the function and the
 * kind of object (channel, value, async operation, cancel token).  In a build without XCHAN_DEBUG_CHECKS the misuse cases
 * are not run (they would be undefined behaviour); one test checks that
 * the checks are compiled out.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "debugcheck.h"
#include "testing/xchild.h"
#include "testing/xtest.h"

static xchan_chan *
new_chan(void)
{
	xchan_chan *ch = NULL;
	if (xchan_chan_make(&ch, XCHAN_BUF_FIXED, 4) != XCHAN_OK)
		exit(3);
	return ch;
}

static xchan_val
new_string(void)
{
	xchan_val v;
	if (xchan_val_string(&v, "hello", 5) != XCHAN_OK)
		exit(3);
	return v;
}

/* ---- the misuses, one per child --------------------------------------------------- */

XTEST(child_chan_released_twice)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_chan_release(ch);
	xchan_chan_release(ch);
}

XTEST(child_put_after_release)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_chan_release(ch);
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_POLL);
}

XTEST(child_take_after_release)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_chan_release(ch);
	xchan_val v;
	xchan_take(&v, ch, XCHAN_DEADLINE_POLL);
}

XTEST(child_close_after_release)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_chan_release(ch);
	xchan_chan_close(ch);
}

XTEST(child_alts_on_released_chan)
{
	XCHILD_ONLY();
	xchan_chan *a = new_chan(), *b = new_chan();
	xchan_chan_release(b);
	xchan_clause cl[2] = {{XCHAN_ALT_TAKE, 0, a, {0, 0, 0}},
	    {XCHAN_ALT_TAKE, 0, b, {0, 0, 0}}};
	xchan_result r;
	xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_POLL);
}

XTEST(child_take_async_on_released_chan)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_chan_release(ch);
	xchan_take_async(NULL, ch, 0, NULL, NULL);
}

XTEST(child_string_released_twice)
{
	XCHILD_ONLY();
	xchan_val v = new_string();
	xchan_val_release(v);
	xchan_val_release(v);
}

XTEST(child_string_read_after_release)
{
	XCHILD_ONLY();
	xchan_val v = new_string();
	xchan_val_release(v);
	const char *s;
	size_t n;
	xchan_get_string(v, &s, &n);
}

static void
noop_dtor(void *p)
{
	(void)p;
}

XTEST(child_box_retained_after_release)
{
	XCHILD_ONLY();
	xchan_val v;
	if (xchan_val_box(&v, &v, noop_dtor) != XCHAN_OK)
		exit(3);
	xchan_val_release(v);
	xchan_val_retain(v);
}

XTEST(child_put_released_value)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_val v;
	if (xchan_val_bytes(&v, "ab", 2) != XCHAN_OK)
		exit(3);
	xchan_val_release(v);
	xchan_put(ch, v, XCHAN_DEADLINE_POLL);
}

XTEST(child_chan_value_outlives_its_channel)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_val v;
	if (xchan_val_chan(&v, ch) != XCHAN_OK)
		exit(3);
	xchan_chan_release(ch); /* the value's reference remains */
	xchan_val_release(v);   /* the last one */
	xchan_val_release(v);   /* one too many */
}

static void
ignore_result(void *user, xchan_result *r)
{
	(void)user;
	xchan_val_release(r->val);
}

XTEST(child_op_used_after_release)
{
	XCHILD_ONLY();
	xchan_chan *ch = new_chan();
	xchan_op *op;
	if (xchan_take_async(&op, ch, 0, ignore_result, NULL) != XCHAN_OK ||
	    op == NULL)
		exit(3);
	xchan_chan_close(ch); /* completes it: the handle is the last ref */
	xchan_op_release(op);
	xchan_op_cancel(op);
}

XTEST(child_cancel_token_released_twice)
{
	XCHILD_ONLY();
	xchan_cancel *c;
	if (xchan_cancel_new(&c) != XCHAN_OK)
		exit(3);
	xchan_cancel_release(c);
	xchan_cancel_release(c);
}

/* Correct use never trips a check, even with the quarantine recycling
 * (more objects than it holds). */
static _Atomic int g_dtors;

static void
count_dtor(void *p)
{
	(void)p;
	atomic_fetch_add(&g_dtors, 1);
}

XTEST(child_correct_use_passes)
{
	XCHILD_ONLY();
	for (int i = 0; i < 2000; i++) {
		xchan_chan *ch = new_chan();
		xchan_val b;
		XREQUIRE(xchan_val_box(&b, NULL, count_dtor) == XCHAN_OK);
		XCHECK_ERR(xchan_put(ch, xchan_val_retain(b),
		               XCHAN_DEADLINE_POLL),
		    XCHAN_OK);
		xchan_val s = new_string();
		XCHECK_ERR(xchan_put(ch, s, XCHAN_DEADLINE_POLL), XCHAN_OK);
		xchan_val_release(b);
		xchan_val got;
		XCHECK_ERR(xchan_take(&got, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
		xchan_val_release(got);
		xchan_chan_close(ch);
		xchan_chan_release(ch); /* frees the string still queued */
	}
	XCHECK_EQ(atomic_load(&g_dtors), 2000);
}

/* ---- the parent side ------------------------------------------------------------------ */

typedef struct death_case {
	const char *child;
	const char *expect; /* in the child's stderr */
} death_case;

#if XCHAN__DEBUG_CHECKS
static const death_case k_cases[] = {
    {"child_chan_released_twice", "xchan_chan_release: channel"},
    {"child_put_after_release", "xchan_put: channel"},
    {"child_take_after_release", "xchan_take: channel"},
    {"child_close_after_release", "xchan_chan_close: channel"},
    {"child_alts_on_released_chan", "xchan_alts: channel"},
    {"child_take_async_on_released_chan", "xchan_take_async: channel"},
    {"child_string_released_twice", "xchan_val_release: string"},
    {"child_string_read_after_release", "xchan_get_string: string"},
    {"child_box_retained_after_release", "xchan_val_retain: box"},
    {"child_put_released_value", "xchan_put: bytes"},
    {"child_chan_value_outlives_its_channel",
        "xchan_val_release: channel value"},
    {"child_op_used_after_release", "xchan_op_cancel: async operation"},
    {"child_cancel_token_released_twice", "xchan_cancel_release: cancel token"},
};
#endif

XTEST(misuse_aborts_naming_the_function)
{
#if XCHAN__DEBUG_CHECKS
	char out[4096];
	for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
		int st =
		    xchild_run(k_cases[i].child, NULL, NULL, out, sizeof(out));
		int aborted =
		    st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
		int named = strstr(out, k_cases[i].expect) != NULL &&
		            strstr(out, "used after its last reference was "
		                        "released") != NULL;
		if (!aborted || !named)
			fprintf(stderr, "  %s: status %d, stderr:\n%s\n",
			    k_cases[i].child, st, out);
		XCHECK(aborted);
		XCHECK(named);
	}
#else
	fprintf(stderr, "  not a debug-checks build: misuse cases not run\n");
#endif
}

XTEST(correct_use_passes_the_checks)
{
	char out[4096];
	int st = xchild_run("child_correct_use_passes", NULL, NULL, out,
	    sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

/* With allocation hooks nothing is quarantined: a released channel goes
 * back to the application's allocator at once. */
static _Atomic long g_hook_allocs, g_hook_frees;

static void *
hook_alloc(void *u, size_t n)
{
	(void)u;
	atomic_fetch_add(&g_hook_allocs, 1);
	return malloc(n);
}

static void
hook_free(void *u, void *p, size_t n)
{
	(void)u;
	(void)n;
	atomic_fetch_add(&g_hook_frees, 1);
	free(p);
}

XTEST(child_hooks_get_memory_back_at_once)
{
	XCHILD_ONLY();
	xchan_init_params p = {.size = sizeof(p),
	    .alloc = hook_alloc,
	    .free = hook_free,
	    .flags = XCHAN_INIT_NO_ATEXIT};
	XREQUIRE(xchan_init(&p) == XCHAN_OK);
	long a0 = atomic_load(&g_hook_allocs), f0 = atomic_load(&g_hook_frees);
	xchan_chan *ch = new_chan();
	xchan_val s = new_string();
	xchan_val_release(s);
	xchan_chan_release(ch);
	XCHECK_EQ(atomic_load(&g_hook_allocs) - a0,
	    atomic_load(&g_hook_frees) - f0);
}

XTEST(hooks_get_memory_back_at_once)
{
	char out[4096];
	int st = xchild_run("child_hooks_get_memory_back_at_once", NULL, NULL,
	    out, sizeof(out));
	if (!xchild_ok(st))
		fprintf(stderr, "%s", out);
	XCHECK(xchild_ok(st));
}

XTEST_MAIN()
