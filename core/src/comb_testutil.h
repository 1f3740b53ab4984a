/*
 * comb_testutil.h — helpers for the combinator tests (comb_*_test.c).
 * Every wait has a deadline (TU_MS) so a broken combinator fails a check
 * instead of hanging the test binary.
 */
#ifndef XCHAN_COMB_TESTUTIL_H
#define XCHAN_COMB_TESTUTIL_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testing/xtest.h"

#define TU_MS 5000

static inline xchan_deadline
tu_dl(void)
{
	return xchan_deadline_in_ms(TU_MS);
}

static inline xchan_chan *
tu_chan(uint32_t kind, uint64_t cap)
{
	xchan_chan *ch = NULL;
	XCHECK_ERR(xchan_chan_make(&ch, kind, cap), XCHAN_OK);
	return ch;
}

/* Takes an int; returns -1 (and records the error) when there is none. */
static inline int64_t
tu_take_int(xchan_chan *ch, int32_t *err_out)
{
	xchan_val v;
	int32_t err = xchan_take(&v, ch, tu_dl());
	if (err_out != NULL)
		*err_out = err;
	if (err != XCHAN_OK)
		return -1;
	int64_t i = -1;
	if (xchan_get_int(v, &i) != XCHAN_OK)
		i = -2;
	xchan_val_release(v);
	return i;
}

/* Checks that the next take gives the int `want`. */
#define TU_TAKE_EQ(ch, want)                                                   \
	do {                                                                   \
		int32_t tu_e_;                                                 \
		int64_t tu_g_ = tu_take_int((ch), &tu_e_);                     \
		XCHECK_ERR(tu_e_, XCHAN_OK);                                   \
		XCHECK_EQ(tu_g_, (want));                                      \
	} while (0)

/* Checks that `ch` is closed and drained (within the deadline). */
#define TU_CLOSED(ch)                                                          \
	do {                                                                   \
		xchan_val tu_v_;                                               \
		XCHECK_ERR(xchan_take(&tu_v_, (ch), tu_dl()), XCHAN_ECLOSED);  \
	} while (0)

/* Checks that nothing is ready on `ch` right now. */
#define TU_EMPTY(ch)                                                           \
	do {                                                                   \
		xchan_val tu_v_;                                               \
		int32_t tu_e_ = xchan_poll(&tu_v_, (ch));                      \
		XCHECK_ERR(tu_e_, XCHAN_EAGAIN);                               \
		if (tu_e_ == XCHAN_OK)                                         \
			xchan_val_release(tu_v_);                              \
	} while (0)

/* Takes ints until `ch` closes; returns how many (at most max are kept in
 * buf; the rest are counted).  *err_out: XCHAN_ECLOSED when it closed. */
static inline size_t
tu_drain_ints(xchan_chan *ch, int64_t *buf, size_t max, int32_t *err_out)
{
	size_t n = 0;
	int32_t err;
	for (;;) {
		int64_t i = tu_take_int(ch, &err);
		if (err != XCHAN_OK)
			break;
		if (n < max)
			buf[n] = i;
		n++;
	}
	if (err_out != NULL)
		*err_out = err;
	return n;
}

/* Checks that `ch` yields exactly want[0..n) then closes. */
static inline int
tu_expect_seq(xchan_chan *ch, const int64_t *want, size_t n)
{
	int64_t *got = calloc(n + 1, sizeof(int64_t));
	int32_t err;
	size_t k = tu_drain_ints(ch, got, n + 1, &err);
	int ok = err == XCHAN_ECLOSED && k == n;
	for (size_t i = 0; ok && i < n; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "  at %zu: got %lld want %lld\n", i,
			    (long long)got[i], (long long)want[i]);
			ok = 0;
		}
	if (!ok)
		fprintf(stderr, "  sequence: %zu values (want %zu), end %s\n",
		    k, n, xchan_err_name(err));
	free(got);
	return ok;
}

/* A channel holding the ints lo..hi-1, then closed (to_chan). */
static inline xchan_chan *
tu_range(int64_t lo, int64_t hi)
{
	size_t n = hi > lo ? (size_t)(hi - lo) : 0;
	xchan_val *v = calloc(n + 1, sizeof(xchan_val));
	for (size_t i = 0; i < n; i++)
		v[i] = xchan_val_int(lo + (int64_t)i);
	xchan_chan *ch = NULL;
	XCHECK_ERR(xchan_to_chan(&ch, v, n), XCHAN_OK);
	free(v);
	return ch;
}

/* Waits for a done channel to close, then releases it. */
static inline void
tu_done(xchan_chan *done)
{
	XCHECK(done != NULL);
	if (done == NULL)
		return;
	TU_CLOSED(done);
	xchan_chan_release(done);
}

static inline void
tu_sleep_ms(int64_t ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static inline xchan_val
tu_str(const char *s)
{
	xchan_val v = xchan_val_nil();
	XCHECK_ERR(xchan_val_string(&v, s, strlen(s)), XCHAN_OK);
	return v;
}

#endif
