/*
 * stackguard_test.c — a go task that overflows its stack is reported by
 * name (stackguard.c), other faults still reach the handler that was there
 * before; and the memory a parked go task costs, measured.
 *
 * The overflows run in child processes (testing/xchild.h): they die.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "gosched.h"

#include "testing/xchild.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

#if defined(XCHAN_SANITIZER_BUILD)
#define HANDLER_BUILT 0 /* the sanitizers own SIGSEGV */
#else
#define HANDLER_BUILT 1
#endif

static __attribute__((noinline)) int
deep(int n)
{
	volatile char frame[512];
	frame[0] = (char)n;
	frame[511] = (char)n;
	if (n == 0)
		return frame[0];
	return deep(n - 1) + frame[511];
}

static int32_t
recurse_body(void *arg, xchan_val *res)
{
	(void)arg;
	*res = xchan_val_int(deep(1000000));
	return XCHAN_OK;
}

static void
run_overflowing_task(void)
{
	xchan_go_opts o = {sizeof(o), 0, "deep-recursion", 16 * 1024};
	xchan_chan *r = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_go(&r, recurse_body, NULL, &o), XCHAN_OK);
	xchan_take(&v, r, xt_deadline_s(10)); /* never: the process dies */
}

XTEST(child_overflow)
{
	XCHILD_ONLY();
	run_overflowing_task();
}

static void
user_segv(int sig)
{
	(void)sig;
	static const char m[] = "user handler ran\n";
	if (write(2, m, sizeof(m) - 1) < 0) {
	}
	_exit(42);
}

static int32_t
bad_pointer_body(void *arg, xchan_val *res)
{
	(void)arg;
	volatile uintptr_t addr = 16; /* not a guard page */
	*res = xchan_val_int(*(volatile int *)addr);
	return XCHAN_OK;
}

/* A handler installed before xchan's still gets the faults that are not
 * guard-page hits, even from a go task. */
XTEST(child_other_fault_chains)
{
	XCHILD_ONLY();
	signal(SIGSEGV, user_segv);
	xchan_chan *r = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_go(&r, bad_pointer_body, NULL, NULL), XCHAN_OK);
	xchan_take(&v, r, xt_deadline_s(10));
}

static int
skip(void)
{
	if (!HANDLER_BUILT || getenv("XCHAN_UNDER_VALGRIND") != NULL) {
		fprintf(stderr, "  skipped: sanitizer or valgrind build\n");
		return 1;
	}
	return 0;
}

XTEST(overflow_is_reported_with_the_task_name)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	char out[4096];
	int st = xchild_run("child_overflow", NULL, NULL, out, sizeof(out));
	XCHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	XCHECK(strstr(out, "xchan: go task deep-recursion overflowed its 16 "
	                   "KiB stack (guard page hit at 0x") != NULL);
	if (strstr(out, "deep-recursion") == NULL)
		fprintf(stderr, "  child's stderr:\n%s\n", out);
}

/* The report is the handler's doing: without it the same overflow dies
 * silently. */
XTEST(overflow_without_the_handler_is_silent)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	char out[4096];
	int st = xchild_run("child_overflow", "XCHAN_STACK_GUARD_HANDLER=0",
	    NULL, out, sizeof(out));
	XCHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
	XCHECK(strstr(out, "deep-recursion") == NULL);
}

XTEST(other_faults_reach_the_previous_handler)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	char out[4096];
	int st = xchild_run("child_other_fault_chains", NULL, NULL, out,
	    sizeof(out));
	XCHECK(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 42);
	XCHECK(strstr(out, "user handler ran") != NULL);
	XCHECK(strstr(out, "overflowed") == NULL);
	XCHECK(!xchild_ok(st));
}

/* A bounded overflow: a 70 KiB frame on a default (64 KiB) stack, written
 * downwards as a stack grows, after which the task would return normally.
 * Whatever guards the stack must name the task: a guard region or an
 * mprotect guard page (the fault handler), or an unguarded slab stack's
 * canary (checked when the task switches out, then abort).  70 KiB: an
 * unguarded slab stack may use its whole 68 KiB slot. */
static __attribute__((noinline)) int
big_frame(void)
{
	volatile char buf[70 * 1024];
	for (size_t i = sizeof(buf); i-- > 0;)
		buf[i] = (char)i;
	return buf[0] + buf[sizeof(buf) - 1];
}

static int32_t
big_frame_body(void *arg, xchan_val *res)
{
	(void)arg;
	*res = xchan_val_int(big_frame());
	return XCHAN_OK;
}

XTEST(child_bounded_overflow)
{
	XCHILD_ONLY();
	xchan_go_opts o = {sizeof(o), 0, "big-frame", 0};
	xchan_chan *r = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_go(&r, big_frame_body, NULL, &o), XCHAN_OK);
	xchan_take(&v, r, xt_deadline_s(10)); /* never: the process dies */
}

static void
check_bounded_overflow(const char *env1, const char *env2, int sig,
    const char *want)
{
	char out[4096];
	int st =
	    xchild_run("child_bounded_overflow", env1, env2, out, sizeof(out));
	XCHECK(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == sig);
	XCHECK(strstr(out, want) != NULL);
	if (strstr(out, want) == NULL)
		fprintf(stderr, "  child's stderr:\n%s\n", out);
}

/* Default stacks: slab stacks behind guard regions where the kernel has
 * them (Linux 6.13+), else mprotect-guarded stacks. */
XTEST(bounded_overflow_default_stack_is_named)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	check_bounded_overflow(NULL, NULL, SIGSEGV,
	    "xchan: go task big-frame overflowed its 64 KiB stack (guard "
	    "page hit at 0x");
}

XTEST(bounded_overflow_mprotect_guard_is_named)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	check_bounded_overflow("XCHAN_STACK_GUARD_REGIONS=0", NULL, SIGSEGV,
	    "xchan: go task big-frame overflowed its 64 KiB stack (guard "
	    "page hit at 0x");
}

/* No guard regions and no guard budget: every stack is an unguarded slab
 * stack, and its canary reports the overflow when the task switches out. */
XTEST(bounded_overflow_canary_is_named)
{
	if (getenv("XTEST_CHILD") || skip())
		return;
	check_bounded_overflow("XCHAN_STACK_GUARD_REGIONS=0",
	    "XCHAN_STACK_GUARD_BUDGET=0", SIGABRT,
	    "go task big-frame overflowed its 64 KiB stack (raise "
	    "xchan_go_opts.stack_size)");
}

/* ---- memory per parked go task ----------------------------------------- */

static long
resident_kib(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = -1;
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long
mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;
	if (f == NULL)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int32_t
park_body(void *arg, xchan_val *res)
{
	xchan_val v;
	xchan_take(&v, arg, XCHAN_DEADLINE_NEVER);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

XTEST(memory_per_parked_go_task)
{
	if (getenv("XTEST_CHILD"))
		return;
	int n = getenv("XCHAN_UNDER_VALGRIND") ? 200 : 20000;
#if defined(XCHAN_SANITIZER_BUILD)
	n = 2000;
#endif
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_NONE,
	    .max_pending = (uint32_t)n};
	xchan_chan *c = NULL, **done = calloc((size_t)n, sizeof(*done));
	XREQUIRE(done != NULL);
	XCHECK_ERR(xchan_chan_new(&c, &o), XCHAN_OK);
	/* Warm up the pools (one task parks and ends) before measuring. */
	xchan_chan *w = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_go(&w, park_body, c, NULL), XCHAN_OK);
	XCHECK(xt_wait_pending(c, 1, 0, 10000));
	XCHECK_ERR(xchan_put(c, xchan_val_int(0), xt_deadline_s(10)), XCHAN_OK);
	xchan_take(&v, w, xt_deadline_s(10));
	xchan_chan_release(w);
	long rss0 = resident_kib(), maps0 = mappings();
	for (int i = 0; i < n; i++)
		XCHECK_ERR(xchan_go(&done[i], park_body, c, NULL), XCHAN_OK);
	XCHECK(xt_wait_pending(c, (uint32_t)n, 0, 60000));
	long rss1 = resident_kib(), maps1 = mappings();
	fprintf(stderr,
	    "  %d parked go tasks: resident +%ld KiB (%.2f KiB per task), "
	    "mappings +%ld (%.2f per 1000 tasks)\n",
	    n, rss1 - rss0, (double)(rss1 - rss0) / n, maps1 - maps0,
	    1000.0 * (double)(maps1 - maps0) / n);
	xchan_chan_close(c);
	for (int i = 0; i < n; i++) {
		XCHECK_ERR(xchan_take(&v, done[i], xt_deadline_s(30)),
		    XCHAN_ECLOSED);
		xchan_chan_release(done[i]);
	}
	free(done);
	xchan_chan_release(c);
}

/* What a parked go task holds resident, read from the page tables (mincore)
 * rather than RSS: its stack has exactly one resident page (its first
 * frames), its record lives in that stack (no allocation of its own), and
 * with a guard page no canary is written at the stack's bottom. */
static xchan__task *_Atomic g_parked_self;

static int32_t
park_self_body(void *arg, xchan_val *res)
{
	xchan_val v;
	atomic_store(&g_parked_self, xchan__task_current());
	xchan_take(&v, arg, XCHAN_DEADLINE_NEVER);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static int
resident_pages(const char *lo, size_t len, long *lowest)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = len / page;
	unsigned char *vec = calloc(n, 1);
	int count = 0;
	*lowest = -1;
	if (vec == NULL || mincore((void *)lo, len, vec) != 0) {
		free(vec);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (vec[i] & 1) {
			if (*lowest < 0)
				*lowest = (long)i;
			count++;
		}
	free(vec);
	return count;
}

/* In a child: a fresh process, whose stack pool holds no stack that an
 * earlier test used deeply. */
XTEST(child_parked_task_pages)
{
	XCHILD_ONLY();
	xchan_chan *c = NULL, *done = NULL;
	xchan_val v;
	XCHECK_ERR(xchan_chan_make(&c, XCHAN_BUF_NONE, 0), XCHAN_OK);
	atomic_store(&g_parked_self, NULL);
	XCHECK_ERR(xchan_go(&done, park_self_body, c, NULL), XCHAN_OK);
	XCHECK(xt_wait_pending(c, 1, 0, 10000));
	xchan__task *t = atomic_load(&g_parked_self);
	XREQUIRE(t != NULL);
	const char *map = t->coro.map;
	size_t len = t->coro.map_size;
	XCHECK((const char *)t > map && (const char *)t < map + len);
	XCHECK(t->coro.guarded);
	/* Above the guard page (qemu-user refuses mincore over a PROT_NONE
	 * page); index 0 is the stack's lowest page, where a canary was. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	long lowest;
	int pages = resident_pages(map + page, len - page, &lowest);
	fprintf(stderr,
	    "  parked task: %d resident stack page(s) of %zu, "
	    "lowest %ld; record at top - %zu B\n",
	    pages, (len - page) / page, lowest,
	    (size_t)(map + len - (const char *)t));
#if defined(XCHAN_SANITIZER_BUILD)
	/* Instrumented frames are larger: a bound, not the exact count. */
	XCHECK(pages >= 1 && pages <= 2);
#else
	XCHECK_EQ(pages, 1);
#endif
	XCHECK(lowest > 0); /* not the bottom page, where a canary was */
	XCHECK_ERR(xchan_put(c, xchan_val_int(1), xt_deadline_s(10)), XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, done, xt_deadline_s(10)), XCHAN_ECLOSED);
	xchan_chan_release(done);
	xchan_chan_release(c);
}

static void
check_parked_pages(const char *env)
{
	char out[4096];
	int st =
	    xchild_run("child_parked_task_pages", env, NULL, out, sizeof(out));
	XCHECK(xchild_ok(st));
	fprintf(stderr, "%s", out);
}

XTEST(parked_task_is_one_resident_page)
{
	if (getenv("XTEST_CHILD"))
		return;
	check_parked_pages(NULL);
}

/* The same on mprotect-guarded stacks (kernels without guard regions). */
XTEST(parked_task_is_one_resident_page_mprotect)
{
	if (getenv("XTEST_CHILD"))
		return;
	check_parked_pages("XCHAN_STACK_GUARD_REGIONS=0");
}

XTEST_MAIN()
