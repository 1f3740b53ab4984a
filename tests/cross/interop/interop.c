/*
 * interop.c — libinterop.so, the process-level interop test's C side
 * (tests/cross/run runs it from every host language).  Like libsensor.so it
 * links no libxchan: it reaches the core only through the function table
 * its xchan_native_onload receives, so it talks to whatever core the host
 * loaded.
 *
 * produce  "v(c)"  puts THE PRODUCED SEQUENCE below on `out`, in order, then
 *                  closes `out`.  Run it on a thread (native.thread), so the
 *                  values come from a native pthread.
 * consume  "s(c)"  takes from `in` until it closes and checks THE RETURNED
 *                  SEQUENCE below; returns "ok N" (N values checked) or
 *                  "item I: <what was wrong>" for the first mismatch (also
 *                  for a missing or extra item).  It keeps taking to the
 *                  close so the host's puts never block.
 *
 * THE PRODUCED SEQUENCE (index: kind value):
 *   0 BOOL true            1 BOOL false
 *   2 INT 0                3 INT -1
 *   4 INT INT64_MIN        5 INT INT64_MAX
 *   6 DOUBLE 1.5           7 DOUBLE -0.0 (the sign bit must survive)
 *   8 DOUBLE 1e308         9 DOUBLE NaN (checked as "is NaN": the payload
 *                                        bits are not part of the contract)
 *  10 STRING "hello"
 *  11 STRING "h\u00e9llo \u20ac \U0001F642" (2-, 3- and 4-byte UTF-8)
 *  12 STRING ""            13 STRING "a\0b" (3 bytes, embedded NUL)
 *  14 BYTES 00 ff 00 7f    15 BYTES (empty)
 *  16 CHAN: a channel (buffer 1) holding INT 42, then closed: the host takes
 *     42 from it, then sees it closed
 *  17 ARRAY [INT 1, STRING "two", ARRAY [DOUBLE 3.5, ARRAY [BOOL true]],
 *            BYTES 00]
 *  18 ARRAY [] (empty)
 *  then `out` is closed (19 values).
 *
 * THE RETURNED SEQUENCE is items 0-16 above (same kinds, same values; for 16
 * the host makes a channel, puts INT 42 in it and sends the channel; consume
 * polls 42 from it).  Arrays are not in it: no binding but Ruby turns a host
 * list into an ARRAY (Python, Node and Java carry it as a HOST value).
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "xchan/xchan_ext.h"

#define INTEROP_API __attribute__((visibility("default")))

static const xchan_api *X;

INTEROP_API int32_t
xchan_native_onload(const xchan_api *api)
{
	if (!XCHAN_API_HAS(api, val_array) || !XCHAN_API_HAS(api, get_array) ||
	    !XCHAN_API_HAS(api, poll) ||
	    api->version / 10000 != XCHAN_VERSION_MAJOR)
		return XCHAN_EVERSION;
	X = api;
	return XCHAN_OK;
}

static const char utf8_text[] = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x99\x82";
static const char nul_text[] = {'a', '\0', 'b'};
static const unsigned char some_bytes[] = {0x00, 0xff, 0x00, 0x7f};
static const unsigned char zero_byte[] = {0x00};

enum { SCALARS = 16, RETURNED = 17, PRODUCED = 19 };

/* The scalar items 0-15 (strings and bytes as pointer + length). */
static xchan_val
scalar(int i)
{
	xchan_val v = X->val_nil();
	switch (i) {
	case 0:
		return X->val_bool(1);
	case 1:
		return X->val_bool(0);
	case 2:
		return X->val_int(0);
	case 3:
		return X->val_int(-1);
	case 4:
		return X->val_int(INT64_MIN);
	case 5:
		return X->val_int(INT64_MAX);
	case 6:
		return X->val_double(1.5);
	case 7:
		return X->val_double(-0.0);
	case 8:
		return X->val_double(1e308);
	case 9:
		return X->val_double(NAN);
	case 10:
		X->val_string(&v, "hello", 5);
		break;
	case 11:
		X->val_string(&v, utf8_text, sizeof(utf8_text) - 1);
		break;
	case 12:
		X->val_string(&v, "", 0);
		break;
	case 13:
		X->val_string(&v, nul_text, sizeof(nul_text));
		break;
	case 14:
		X->val_bytes(&v, some_bytes, sizeof(some_bytes));
		break;
	case 15:
		X->val_bytes(&v, "", 0);
		break;
	}
	return v; /* nil when out of memory: the put then fails with ENIL */
}

static xchan_val
array_of(xchan_val *items, size_t n)
{
	xchan_val v = X->val_nil();
	X->val_array(&v, items, n); /* takes the items, even on error */
	return v;
}

/* Item 16: a closed channel holding INT 42. */
static xchan_val
chan_item(void)
{
	xchan_chan *inner;
	xchan_val v = X->val_nil();
	if (X->chan_make(&inner, XCHAN_BUF_FIXED, 1) != XCHAN_OK)
		return v;
	X->offer(inner, X->val_int(42));
	X->chan_close(inner);
	X->val_chan(&v, inner); /* takes its own reference */
	X->chan_release(inner);
	return v;
}

static xchan_val
nested_array(void)
{
	xchan_val inner[1] = {X->val_bool(1)};
	xchan_val middle[2] = {X->val_double(3.5), array_of(inner, 1)};
	xchan_val outer[4];
	outer[0] = X->val_int(1);
	outer[1] = X->val_nil();
	X->val_string(&outer[1], "two", 3);
	outer[2] = array_of(middle, 2);
	outer[3] = X->val_nil();
	X->val_bytes(&outer[3], zero_byte, 1);
	return array_of(outer, 4);
}

INTEROP_API void
produce(xchan_chan *out)
{
	for (int i = 0; i < PRODUCED; i++) {
		xchan_val v = i < SCALARS ? scalar(i)
		              : i == 16   ? chan_item()
		              : i == 17   ? nested_array()
		                          : array_of(NULL, 0);
		if (X->put(out, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			X->val_release(v);
			break;
		}
	}
	X->chan_close(out);
}

/* One message per thread: consume may run on several threads at once. */
static _Thread_local char verdict[256];

static bool
same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Checks item i of the returned sequence; NULL when it matches, else what is
 * wrong (in `verdict`). */
static const char *
check(int i, xchan_val got)
{
	const char *name = X->kind_name(got.kind);
	xchan_val want = i < SCALARS ? scalar(i) : X->val_nil();
	uint32_t want_kind = i < SCALARS ? want.kind : XCHAN_CHAN;
	const char *bad = NULL;
	if (got.kind != want_kind) {
		snprintf(verdict, sizeof(verdict),
		    "item %d: expected %s, got %s", i, X->kind_name(want_kind),
		    name);
		bad = verdict;
	} else if (want_kind == XCHAN_DOUBLE) {
		double g, w;
		X->get_double(got, &g);
		X->get_double(want, &w);
		bool ok =
		    isnan(w) ? isnan(g) : g == w && signbit(g) == signbit(w);
		if (!ok) {
			snprintf(verdict, sizeof(verdict),
			    "item %d: expected double %g, got %g", i, w, g);
			bad = verdict;
		}
	} else if (want_kind == XCHAN_STRING || want_kind == XCHAN_BYTES) {
		const void *g, *w;
		size_t glen, wlen;
		if (want_kind == XCHAN_STRING) {
			X->get_string(got, (const char **)&g, &glen);
			X->get_string(want, (const char **)&w, &wlen);
		} else {
			X->get_bytes(got, &g, &glen);
			X->get_bytes(want, &w, &wlen);
		}
		if (!same_bytes(g, glen, w, wlen)) {
			snprintf(verdict, sizeof(verdict),
			    "item %d: %s of %zu bytes differs from the expected "
			    "%zu bytes",
			    i, name, glen, wlen);
			bad = verdict;
		}
	} else if (want_kind == XCHAN_CHAN) {
		xchan_chan *ch = NULL;
		xchan_val inside = X->val_nil();
		int64_t n = 0;
		X->get_chan(got, &ch);
		int32_t err = X->poll(&inside, ch);
		if (err != XCHAN_OK || X->get_int(inside, &n) != XCHAN_OK ||
		    n != 42) {
			snprintf(verdict, sizeof(verdict),
			    "item %d: the channel does not hold INT 42 (poll: "
			    "%s, %s)",
			    i, X->strerror(err), X->kind_name(inside.kind));
			bad = verdict;
		}
		X->val_release(inside);
	} else if (want_kind == XCHAN_INT || want_kind == XCHAN_BOOL) {
		int64_t g = 0, w = 0;
		int32_t gb = 0, wb = 0;
		if (want_kind == XCHAN_INT) {
			X->get_int(got, &g);
			X->get_int(want, &w);
		} else {
			X->get_bool(got, &gb);
			X->get_bool(want, &wb);
			g = gb;
			w = wb;
		}
		if (g != w) {
			snprintf(verdict, sizeof(verdict),
			    "item %d: expected %s %lld, got %lld", i, name,
			    (long long)w, (long long)g);
			bad = verdict;
		}
	} else if (X->val_equal(got, want) != 1) {
		snprintf(verdict, sizeof(verdict), "item %d: %s differs", i,
		    name);
		bad = verdict;
	}
	X->val_release(want);
	return bad;
}

INTEROP_API const char *
consume(xchan_chan *in)
{
	const char *bad = NULL;
	int n = 0;
	xchan_val v;
	while (X->take(&v, in, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		if (bad == NULL) {
			if (n >= RETURNED) {
				snprintf(verdict, sizeof(verdict),
				    "item %d: extra %s after the %d expected",
				    n, X->kind_name(v.kind), RETURNED);
				bad = verdict;
			} else {
				bad = check(n, v);
			}
		}
		X->val_release(v);
		n++;
	}
	if (bad == NULL && n < RETURNED) {
		snprintf(verdict, sizeof(verdict),
		    "item %d: closed after %d of %d values", n, n, RETURNED);
		bad = verdict;
	}
	if (bad == NULL)
		snprintf(verdict, sizeof(verdict), "ok %d", n);
	return verdict;
}
