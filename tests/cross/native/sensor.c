/*
 * sensor.c — libsensor.so, the sample library for native workers
 * (xchan_native_run).  It knows nothing of any host language: it produces
 * into and consumes from channels it is handed.  Every language's tests
 * call it through the native runner, e.g. "v(ci)" for stream.
 *
 * It does not link libxchan: the runner hands it the core's function
 * table through xchan_native_onload, so it always talks to the very core
 * that runs it, whether the host linked libxchan.so (the Ruby, Python, Node
 * and Java bindings) or libxchan.a (native_run_test).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xchan/xchan_ext.h"

#define SENSOR_API __attribute__((visibility("default")))

/* The core's function table, set once by xchan_native_onload before any
 * function below runs (the runner guarantees the order). */
static const xchan_api *X;

SENSOR_API int32_t
xchan_native_onload(const xchan_api *api)
{
	if (!XCHAN_API_HAS(api, poll) || !XCHAN_API_HAS(api, get_int) ||
	    api->version / 10000 != XCHAN_VERSION_MAJOR)
		return XCHAN_EVERSION;
	X = api;
	return XCHAN_OK;
}

/* v(ci): puts the ints 1..n on `out`, then closes it.  Stops early if the
 * channel closes under it. */
SENSOR_API void
stream(xchan_chan *out, int64_t n)
{
	for (int64_t i = 1; i <= n; i++)
		if (X->put(out, X->val_int(i), XCHAN_DEADLINE_NEVER) !=
		    XCHAN_OK)
			break;
	X->chan_close(out);
}

/* v(ci): as stream, without closing `out` (for many producers). */
SENSOR_API void
stream_open(xchan_chan *out, int64_t n)
{
	for (int64_t i = 1; i <= n; i++)
		if (X->put(out, X->val_int(i), XCHAN_DEADLINE_NEVER) !=
		    XCHAN_OK)
			break;
}

/* i(c): takes from `in` until it is closed; returns the sum of the ints
 * (other values are dropped). */
SENSOR_API int64_t
sum(xchan_chan *in)
{
	int64_t total = 0;
	xchan_val v;
	while (X->take(&v, in, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		int64_t i;
		if (X->get_int(v, &i) == XCHAN_OK)
			total += i;
		X->val_release(v);
	}
	return total;
}

/* i(cc): copies every value from `in` to `out` doubling ints, until `in`
 * closes; then closes `out`.  Returns how many values it moved. */
SENSOR_API int64_t
relay_double(xchan_chan *in, xchan_chan *out)
{
	int64_t moved = 0;
	xchan_val v;
	while (X->take(&v, in, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		int64_t i;
		if (X->get_int(v, &i) == XCHAN_OK)
			v = X->val_int(2 * i);
		if (X->put(out, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			X->val_release(v);
			break;
		}
		moved++;
	}
	X->chan_close(out);
	return moved;
}

/* d(dd) */
SENSOR_API double
scale(double x, double k)
{
	return x * k;
}

/* b(i) */
SENSOR_API bool
is_even(int64_t n)
{
	return n % 2 == 0;
}

/* s(i): a static string (the caller copies it). */
SENSOR_API const char *
parity(int64_t n)
{
	return n % 2 == 0 ? "even" : "odd";
}

/* i(s) */
SENSOR_API int64_t
text_length(const char *s)
{
	return (int64_t)strlen(s);
}

/* s(): NULL, so the result channel closes without a value. */
SENSOR_API const char *
nothing(void)
{
	return NULL;
}

/* c(i): a new channel holding 1..n, closed; its reference goes to the
 * caller. */
SENSOR_API xchan_chan *
counter(int64_t n)
{
	xchan_chan *ch;
	if (X->chan_make(&ch, XCHAN_BUF_FIXED, n > 0 ? (uint64_t)n : 1) !=
	    XCHAN_OK)
		return NULL;
	for (int64_t i = 1; i <= n; i++)
		X->offer(ch, X->val_int(i));
	X->chan_close(ch);
	return ch;
}

/* p(i) and i(p): a heap cell holding an int64, and reading it back. */
SENSOR_API void *
cell_new(int64_t v)
{
	int64_t *p = malloc(sizeof(*p));
	if (p != NULL)
		*p = v;
	return p;
}

SENSOR_API int64_t
cell_read(void *p)
{
	return p == NULL ? -1 : *(int64_t *)p;
}

SENSOR_API void
cell_free(void *p)
{
	free(p);
}

/* i(iiiiiiiiiiiiiiii): the sum of 16 ints (the most a signature takes). */
SENSOR_API int64_t
sum16(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f,
    int64_t g, int64_t h, int64_t i, int64_t j, int64_t k, int64_t l, int64_t m,
    int64_t n, int64_t o, int64_t p)
{
	return a + b + c + d + e + f + g + h + i + j + k + l + m + n + o + p;
}

/* d(idbd): mixed argument kinds, to check the libffi call's layout. */
SENSOR_API double
mixed(int64_t i, double d, bool b, double e)
{
	return (double)i + d + (b ? 100.0 : 0.0) + e;
}
