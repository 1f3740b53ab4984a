/*
 * select2_test.c — after Go's test/chan/select2.go: alts must not consume
 * memory per call.  A sender task puts N values that the body takes with an
 * alts over [c, dummy]; after a warm-up round, a second round must not grow
 * the bytes xchan holds (counted exactly through xchan_init's allocation
 * hooks) by more than Go's bound, 110,000 bytes for 100,000 selects.
 */
#include <stdatomic.h>

#include "gochan.h"

static _Atomic int64_t g_bytes;

static void *
count_alloc(void *user, size_t size)
{
	(void)user;
	atomic_fetch_add(&g_bytes, (int64_t)size);
	return malloc(size);
}

static void
count_free(void *user, void *p, size_t size)
{
	(void)user;
	atomic_fetch_sub(&g_bytes, (int64_t)size);
	free(p);
}

/* Before any other xchan call of the process. */
__attribute__((constructor)) static void
install_hooks(void)
{
	xchan_init_params p;
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.alloc = count_alloc;
	p.free = count_free;
	if (xchan_init(&p) != XCHAN_OK)
		fprintf(stderr, "select2: xchan_init failed\n");
}

#define N (GOCHAN_SANITIZED ? 10000 : 100000)

static xchan_chan *c, *dummy;

static int32_t
sender(void *arg, xchan_val *res)
{
	(void)arg;
	for (int i = 0; i < N; i++)
		send_(c, 1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
receiver(void)
{
	for (int i = 0; i < N; i++) {
		xchan_clause cl[2] = {take_clause_(c), take_clause_(dummy)};
		xchan_result r;
		XCHECK_ERR(xchan_alts(&r, cl, 2, 0, XCHAN_DEADLINE_NEVER),
		    XCHAN_OK);
		XCHECK_EQ(r.index, 0);
	}
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	c = chan_(0);
	dummy = chan_(0);
	go_(sender, NULL);
	receiver(); /* warm up */
	int64_t before = atomic_load(&g_bytes);
	go_(sender, NULL);
	receiver();
	int64_t grown = atomic_load(&g_bytes) - before;
	fprintf(stderr,
	    "  select2: %d selects grew xchan's heap by %lld bytes\n", N,
	    (long long)grown);
	XCHECK(grown <= 110000LL * N / 100000);
	xchan_chan_release(c);
	xchan_chan_release(dummy);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(select2, program)

XTEST_MAIN()
