/*
 * sensors.c — libxchan_demo_sensors.so, the C producer of `make demo`.
 *
 * A plain C library: it knows nothing of Python, Node or Java.  Each host
 * starts run_sensors through its binding's native workers (xchan_native_run
 * through libffi, signature "i(cii)") and hands it a channel it made.  The
 * function starts one pthread per sensor; each puts readings of three
 * interop types into that channel:
 *
 *   double  a temperature in °C               e.g. 21.7
 *   int     a cumulative pulse count           e.g. 1042
 *   string  a status line                      e.g. "s2 ok" / "s3 warm"
 *
 * then joins them, closes the channel and returns how many readings went in.
 *
 * Like tests/cross/native/sensor.c, it does not link libxchan: the core that
 * loads it hands over its function table through xchan_native_onload, so it
 * always talks to the very core of the host process (each binding links its
 * own copy of the core statically).
 *
 * Threads: the sensor threads share nothing but the channel (the core's
 * locks order everything); each writes only its own struct sensor, which
 * run_sensors reads after pthread_join.  No locks of its own.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "xchan/xchan_ext.h"

#define DEMO_API __attribute__((visibility("default")))
#define MAX_SENSORS 64

/* The core's function table, set once by xchan_native_onload before any
 * function below runs (the runner guarantees the order). */
static const xchan_api *X;

DEMO_API int32_t
xchan_native_onload(const xchan_api *api)
{
	if (!XCHAN_API_HAS(api, chan_close) || !XCHAN_API_HAS(api, put) ||
	    !XCHAN_API_HAS(api, val_string) ||
	    api->version / 10000 != XCHAN_VERSION_MAJOR)
		return XCHAN_EVERSION;
	X = api;
	return XCHAN_OK;
}

struct sensor {
	xchan_chan *out;
	int id;
	int64_t readings;
	int64_t sent; /* written by the sensor's thread only */
	pthread_t thread;
};

/* The i-th reading of sensor `id`: a temperature, a count or a status. */
static int32_t
reading(xchan_val *out, int id, int64_t i)
{
	switch (i % 3) {
	case 0:
		*out = X->val_double(18.0 + id + (double)(i % 50) / 10.0);
		return XCHAN_OK;
	case 1:
		*out = X->val_int(1000 * id + i);
		return XCHAN_OK;
	default: {
		char line[32];
		int n = snprintf(line, sizeof line, "s%d %s", id,
		    (i / 3) % 10 == 9 ? "warm" : "ok");
		return X->val_string(out, line, (size_t)n);
	}
	}
}

static void *
sensor_main(void *arg)
{
	struct sensor *s = arg;
	for (int64_t i = 0; i < s->readings; i++) {
		xchan_val v;
		if (reading(&v, s->id, i) != XCHAN_OK)
			break;
		/* The put blocks while the channel is full: back-pressure from
		 * the host's consumers reaches this thread. */
		if (X->put(s->out, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			X->val_release(v); /* closed under us: stop */
			break;
		}
		s->sent++;
	}
	return NULL;
}

/* i(cii): `sensors` pthreads (1..64) put `per_sensor` readings each into
 * `out`; when all are done, closes `out`.  Returns the number of readings
 * put, or -1 if the arguments are out of range (out is closed then too). */
DEMO_API int64_t
run_sensors(xchan_chan *out, int64_t sensors, int64_t per_sensor)
{
	struct sensor s[MAX_SENSORS];
	int started = 0;
	int64_t total = 0;
	if (sensors < 1 || sensors > MAX_SENSORS || per_sensor < 0) {
		X->chan_close(out);
		return -1;
	}
	for (int i = 0; i < sensors; i++) {
		s[i] = (struct sensor) {.out = out,
		    .id = i + 1,
		    .readings = per_sensor};
		if (pthread_create(&s[i].thread, NULL, sensor_main, &s[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(s[i].thread, NULL);
		total += s[i].sent;
	}
	X->chan_close(out);
	return started == sensors ? total : -1;
}
