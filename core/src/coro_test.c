/*
 * coro_test.c — the coroutine layer alone: switching, state kept across
 * switches, deep stacks, the guard page, the stack pool.
 */
#include <stdint.h>
#include <sys/wait.h>

#include "common.h"
#include "coro.h"
#include <sys/mman.h>

#include "testing/xchild.h"
#include "testing/xtest.h"

static xchan__coro g_main, g_co;
static volatile long g_counter;

static void
ping_body(void *arg)
{
	long n = (long)(intptr_t)arg;
	for (long i = 0; i < n; i++) {
		g_counter++;
		xchan__coro_switch(&g_co, &g_main);
	}
	xchan__coro_exit(&g_co, &g_main);
}

XTEST(switch_back_and_forth)
{
	xchan__coro_init_thread(&g_main);
	g_counter = 0;
	XCHECK_ERR(xchan__coro_init(&g_co, 0, ping_body,
	               (void *)(intptr_t)1000),
	    XCHAN_OK);
	for (long i = 0; i < 1000; i++) {
		xchan__coro_switch(&g_main, &g_co);
		XCHECK_EQ(g_counter, i + 1);
	}
	xchan__coro_switch(&g_main, &g_co); /* runs to the exit */
	XCHECK_EQ(g_counter, 1000);
	xchan__coro_fini(&g_co);
}

/* Callee-saved registers and floating point state survive switches: many
 * live values across each switch force the compiler to keep some in
 * callee-saved registers. */
static void
regs_body(void *arg)
{
	double *out = arg;
	long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7;
	double x = 1.5, y = 2.25;
	for (int i = 0; i < 100; i++) {
		xchan__coro_switch(&g_co, &g_main);
		a += b;
		b += c;
		c += d;
		d += e;
		e += f;
		f += g;
		g += 1;
		x = x * 1.0001 + y;
		y = y * 0.5 + 1.0 / (y + 1.0);
	}
	out[0] = (double)(a + b + c + d + e + f + g);
	out[1] = x + y;
	xchan__coro_exit(&g_co, &g_main);
}

static void
regs_reference(double *out)
{
	long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7;
	double x = 1.5, y = 2.25;
	for (int i = 0; i < 100; i++) {
		a += b;
		b += c;
		c += d;
		d += e;
		e += f;
		f += g;
		g += 1;
		x = x * 1.0001 + y;
		y = y * 0.5 + 1.0 / (y + 1.0);
	}
	out[0] = (double)(a + b + c + d + e + f + g);
	out[1] = x + y;
}

XTEST(registers_survive)
{
	double got[2] = {0, 0}, want[2];
	regs_reference(want);
	xchan__coro_init_thread(&g_main);
	XCHECK_ERR(xchan__coro_init(&g_co, 0, regs_body, got), XCHAN_OK);
	/* Clobber callee-saved registers on this side between switches. */
	for (int i = 0; i <= 100; i++) {
		volatile double junk = i * 3.0;
		(void)junk;
		xchan__coro_switch(&g_main, &g_co);
	}
	XCHECK(got[0] == want[0]);
	XCHECK(got[1] == want[1]);
	xchan__coro_fini(&g_co);
}

/* Recursion using about 40 KiB of a 64 KiB stack. */
static long
recurse(int depth)
{
	volatile char pad[256];
	pad[0] = (char)depth;
	if (depth == 0)
		return pad[0];
	return recurse(depth - 1) + pad[0];
}

static void
deep_body(void *arg)
{
	*(long *)arg = recurse(150);
	xchan__coro_exit(&g_co, &g_main);
}

XTEST(deep_stack)
{
	long r = -1;
	xchan__coro_init_thread(&g_main);
	XCHECK_ERR(xchan__coro_init(&g_co, 0, deep_body, &r), XCHAN_OK);
	xchan__coro_switch(&g_main, &g_co);
	XCHECK_EQ(r, recurse(150));
	xchan__coro_fini(&g_co);
}

static void
overflow_body(void *arg)
{
	(void)arg;
	recurse(100000); /* about 25 MiB: far past the guard page */
	xchan__coro_exit(&g_co, &g_main);
}

/* Overflowing the stack faults on the guard page (in a child process). */
XTEST(guard_page_faults)
{
	fflush(NULL);
	pid_t pid = fork();
	XREQUIRE(pid >= 0);
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		xchan__coro_init_thread(&g_main);
		if (xchan__coro_init(&g_co, 0, overflow_body, NULL) != XCHAN_OK)
			_exit(2);
		xchan__coro_switch(&g_main, &g_co);
		_exit(0);
	}
	int st = 0;
	XREQUIRE(waitpid(pid, &st, 0) == pid);
#if defined(XCHAN_SANITIZER_BUILD)
	/* The sanitizer catches the fault and reports a stack overflow. */
	XCHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
#else
	XCHECK(WIFSIGNALED(st));
	if (WIFSIGNALED(st))
		XCHECK(WTERMSIG(st) == SIGSEGV || WTERMSIG(st) == SIGBUS);
#endif
}

static void
noop_body(void *arg)
{
	(void)arg;
	xchan__coro_exit(&g_co, &g_main);
}

XTEST(stack_pool_reuses)
{
	xchan__coro_init_thread(&g_main);
	xchan__coro_pool_drain();
	xchan__coro_stats s0, s1;
	xchan__coro_get_stats(&s0);
	char *first = NULL;
	int same = 1;
	for (int i = 0; i < 100; i++) {
		XREQUIRE(
		    xchan__coro_init(&g_co, 0, noop_body, NULL) == XCHAN_OK);
		XCHECK(g_co.guarded); /* a default stack always faults below */
		if (first == NULL)
			first = g_co.map;
		same &= g_co.map == first;
		xchan__coro_switch(&g_main, &g_co);
		xchan__coro_fini(&g_co);
	}
	XCHECK(same); /* the one stack, reused */
	xchan__coro_get_stats(&s1);
	if (s1.guard_regions) {
		/* Slab stacks guarded by guard regions: at most one slab
		 * carved, no mprotect-guarded stack mapped. */
		XCHECK(s1.slab - s0.slab <= 64);
		XCHECK_EQ(s1.map_calls - s0.map_calls, 0);
		XCHECK_EQ(s1.slab_unguarded, 0);
	} else {
		XCHECK_EQ(s1.map_calls - s0.map_calls, 1); /* one mapping */
		XCHECK_EQ(s1.pooled, 1);
	}
	uint64_t pooled = s1.pooled, mapped = s1.mapped;
	/* A non-default size is mapped and unmapped, not pooled. */
	XREQUIRE(
	    xchan__coro_init(&g_co, 256 * 1024, noop_body, NULL) == XCHAN_OK);
	XCHECK(g_co.map_size >= 256 * 1024);
	XCHECK(g_co.guarded && !g_co.slab);
	xchan__coro_switch(&g_main, &g_co);
	xchan__coro_fini(&g_co);
	xchan__coro_get_stats(&s1);
	XCHECK_EQ(s1.pooled, pooled);
	XCHECK_EQ(s1.mapped, mapped);
	xchan__coro_pool_drain();
	xchan__coro_get_stats(&s1);
	XCHECK_EQ(s1.mapped, 0);
}

/* The same, on the path for kernels without guard regions (mprotect-guarded
 * stacks up to the budget), in a child process: the mode is chosen once. */
XTEST(stack_pool_reuses_without_guard_regions)
{
	if (getenv("XTEST_CHILD"))
		return;
	char out[4096];
	int st = xchild_run("stack_pool_reuses", "XCHAN_STACK_GUARD_REGIONS=0",
	    NULL, out, sizeof(out));
	XCHECK(xchild_ok(st));
	if (!xchild_ok(st))
		fprintf(stderr, "  child's stderr:\n%s\n", out);
}

/* Free slab stacks beyond the warm pool (1,024) give every page back: a
 * burst of tasks leaves nothing resident once it ends.  In a child with
 * no mprotect budget, so default stacks are slab stacks whatever the
 * kernel (with or without guard regions). */
#define NCOLD 1224

static void
exit_body(void *arg)
{
	xchan__coro_exit((xchan__coro *)arg, &g_main);
}

XTEST(child_cold_slab_stacks)
{
	if (getenv("XTEST_CHILD") == NULL)
		return;
	xchan__coro_init_thread(&g_main);
	xchan__coro *co = calloc(NCOLD, sizeof(*co));
	char **maps = calloc(NCOLD, sizeof(*maps));
	XREQUIRE(co != NULL && maps != NULL);
	for (int i = 0; i < NCOLD; i++) {
		XREQUIRE(
		    xchan__coro_init(&co[i], 0, exit_body, &co[i]) == XCHAN_OK);
		XREQUIRE(co[i].slab);
		maps[i] = co[i].map;
		xchan__coro_switch(&g_main, &co[i]); /* touches its top */
	}
	size_t len = co[0].map_size;
	for (int i = 0; i < NCOLD; i++)
		xchan__coro_fini(&co[i]);
	xchan__coro_stats st;
	xchan__coro_get_stats(&st);
	XCHECK(st.slab_warm <= 1024);
	XCHECK(st.slab_cold >= NCOLD - 1024);
	/* The last ones freed went cold: no page of theirs is resident. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *vec = calloc(len / page, 1);
	XREQUIRE(vec != NULL);
	long resident = 0, top = 0;
	for (int i = NCOLD - 100; i < NCOLD; i++) {
		XREQUIRE(mincore(maps[i], len, vec) == 0);
		for (size_t k = 0; k + 1 < len / page; k++)
			resident += vec[k] & 1;
		top += vec[len / page - 1] & 1;
	}
	XCHECK_EQ(resident, 0);
	xchan__coro_get_stats(&st);
	if (st.slab_unguarded == 0)
		XCHECK_EQ(top, 0); /* guarded: the top page goes too */
	/* And they are reused: a new coroutine takes a warm one first. */
	XREQUIRE(xchan__coro_init(&co[0], 0, exit_body, &co[0]) == XCHAN_OK);
	xchan__coro_switch(&g_main, &co[0]);
	xchan__coro_fini(&co[0]);
	free(vec);
	free(maps);
	free(co);
}

static void
check_cold(const char *env)
{
	char out[4096];
	int st = xchild_run("child_cold_slab_stacks",
	    "XCHAN_STACK_GUARD_BUDGET=0", env, out, sizeof(out));
	XCHECK(xchild_ok(st));
	if (!xchild_ok(st))
		fprintf(stderr, "  child's stderr:\n%s\n", out);
}

XTEST(cold_slab_stacks_hold_no_pages)
{
	if (getenv("XTEST_CHILD"))
		return;
	check_cold(NULL);
}

/* Unguarded slab stacks (no guard regions): their canary lives in the top
 * page of the slot below, which a cold stack therefore keeps; everything
 * else goes. */
XTEST(cold_unguarded_slab_stacks_keep_only_their_top_page)
{
	if (getenv("XTEST_CHILD"))
		return;
	check_cold("XCHAN_STACK_GUARD_REGIONS=0");
}

/* Many coroutines alive at once, resumed round-robin. */
#define NCO 1000
static xchan__coro g_many[NCO];
static int g_many_steps[NCO];

static void
many_body(void *arg)
{
	int i = (int)(intptr_t)arg;
	for (int k = 0; k < 3; k++) {
		g_many_steps[i]++;
		xchan__coro_switch(&g_many[i], &g_main);
	}
	xchan__coro_exit(&g_many[i], &g_main);
}

XTEST(many_coroutines)
{
	xchan__coro_init_thread(&g_main);
	for (int i = 0; i < NCO; i++)
		XREQUIRE(xchan__coro_init(&g_many[i], 0, many_body,
		             (void *)(intptr_t)i) == XCHAN_OK);
	for (int k = 0; k < 4; k++)
		for (int i = 0; i < NCO; i++)
			xchan__coro_switch(&g_main, &g_many[i]);
	int ok = 1;
	for (int i = 0; i < NCO; i++) {
		ok &= g_many_steps[i] == 3;
		xchan__coro_fini(&g_many[i]);
	}
	XCHECK(ok);
}

XTEST_MAIN()
