/*
 * xtest.h — the C unit-test harness (a few macros; one binary per *_test.c,
 * one process per binary under ctest).
 *
 *   XTEST(name) { XCHECK(cond); XCHECK_EQ(a, b); XCHECK_ERR(call, XCHAN_OK); }
 *   XTEST_MAIN()   at the end of the file
 *
 * A failed check prints file:line and the expression and marks the test
 * failed; the test goes on.  `./foo_test name` runs one test.  The summary
 * line is "N passed, N failed".  XTEST_DEADLINE_S (default 120) arms an
 * alarm so a hang fails instead of wedging CI.
 */
#ifndef XCHAN_XTEST_H
#define XCHAN_XTEST_H

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xchan/xchan.h"

typedef void (*xtest_fn)(void);
struct xtest_case {
	const char *name;
	xtest_fn fn;
};
#define XTEST_MAX 256
static struct xtest_case xtest_cases[XTEST_MAX];
static int xtest_ncases;
static int xtest_failed_checks;

#define XTEST(name)                                                            \
	static void xtest_##name(void);                                        \
	__attribute__((constructor)) static void xtest_reg_##name(void)        \
	{                                                                      \
		if (xtest_ncases < XTEST_MAX)                                  \
			xtest_cases[xtest_ncases++] =                          \
			    (struct xtest_case) {#name, xtest_##name};         \
	}                                                                      \
	static void xtest_##name(void)

#define XCHECK(c)                                                              \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "  %s:%d: check failed: %s\n",         \
			    __FILE__, __LINE__, #c);                           \
			xtest_failed_checks++;                                 \
		}                                                              \
	} while (0)

#define XCHECK_EQ(a, b)                                                        \
	do {                                                                   \
		long long xa_ = (long long)(a), xb_ = (long long)(b);          \
		if (xa_ != xb_) {                                              \
			fprintf(stderr,                                        \
			    "  %s:%d: %s == %s failed: %lld != %lld\n",        \
			    __FILE__, __LINE__, #a, #b, xa_, xb_);             \
			xtest_failed_checks++;                                 \
		}                                                              \
	} while (0)

/* Checks an xchan call's error code, printing names on mismatch. */
#define XCHECK_ERR(call, want)                                                 \
	do {                                                                   \
		int32_t xe_ = (call), xw_ = (want);                            \
		if (xe_ != xw_) {                                              \
			fprintf(stderr, "  %s:%d: %s gave %s, want %s\n",      \
			    __FILE__, __LINE__, #call, xchan_err_name(xe_),    \
			    xchan_err_name(xw_));                              \
			xtest_failed_checks++;                                 \
		}                                                              \
	} while (0)

/* Asserts and stops the test on failure (for preconditions). */
#define XREQUIRE(c)                                                            \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "  %s:%d: requirement failed: %s\n",   \
			    __FILE__, __LINE__, #c);                           \
			xtest_failed_checks++;                                 \
			return;                                                \
		}                                                              \
	} while (0)

static void
xtest_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "xtest: deadline exceeded (hang)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
	}
	_exit(3);
}

static int
xtest_main(int argc, char **argv)
{
	const char *d = getenv("XTEST_DEADLINE_S");
	signal(SIGALRM, xtest_alarm);
	alarm(d ? (unsigned)atoi(d) : 300);
	int passed = 0, failed = 0;
	for (int i = 0; i < xtest_ncases; i++) {
		if (argc > 1 && strcmp(argv[1], xtest_cases[i].name) != 0)
			continue;
		int before = xtest_failed_checks;
		fprintf(stderr, "[ RUN  ] %s\n", xtest_cases[i].name);
		xtest_cases[i].fn();
		if (xtest_failed_checks == before) {
			passed++;
			fprintf(stderr, "[  OK  ] %s\n", xtest_cases[i].name);
		} else {
			failed++;
			fprintf(stderr, "[ FAIL ] %s\n", xtest_cases[i].name);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define XTEST_MAIN()                                                           \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		return xtest_main(argc, argv);                                 \
	}

#endif
