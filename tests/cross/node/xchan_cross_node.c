/*
 * xchan_cross_node.c — a third-party Node-API addon that shares channels with
 * the xchan binding through its function table (xchan.api()) and native
 * handles (ch.handle()), never linking the core itself.  Built and driven by
 * bindings/node/test/cross.test.js.
 *
 *   init(api)                          checks and keeps the function table
 *   startProducers(handle, n, threads, close) -> job
 *       `threads` pthreads each put n ints (thread t puts t*n .. t*n+n-1)
 *       with blocking puts; once all are done the channel is closed if
 *       `close`.
 *   startConsumers(handle, threads) -> job
 *       pthreads take until the channel closes, counting ints (and their
 *       sum), strings (and their bytes) and other kinds.
 *   join(job) -> {ints, sum, strings, stringBytes, others}
 *       waits for the job's threads (briefly blocks the calling thread).
 *   putSamples(handle)  puts one value of each kind C makes: int, double,
 *       bool, string, bytes, array [1, "two"], and a channel holding "inner".
 *   putBox(handle, tag) -> bool   offers a BOX: a native struct holding
 *       `tag` with a destructor that counts (how JS gets a Box).
 *   boxTag(handle) -> tag | undefined   polls one value; if it is one of
 *       our boxes, reads its tag; offers the same value back either way.
 *   boxCounts() -> {made, released}   boxes made and destroyed so far.
 *   putForeign(handle, tag) -> bool   offers a HOST value of this addon's
 *       own runtime ("cross"), which the binding cannot read (ERUNTIME).
 *   foreignCounts() -> {made, released}
 *
 * Concurrency: a job's counters are written by its threads with atomics and
 * read by join after pthread_join.  No lock.
 */
#include <node_api.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xchan_node.h"

#define MAX_THREADS 64

static const xchan_api *api;

typedef struct job {
	xchan_chan *ch; /* our own reference */
	int threads;
	int64_t n;
	int close;
	pthread_t tid[MAX_THREADS];
	pthread_t closer;
	int has_closer;
	int joined;
	atomic_int next;
	atomic_llong ints, sum, strings, string_bytes, others;
} job;

static void *
producer(void *arg)
{
	job *j = arg;
	int64_t t = atomic_fetch_add(&j->next, 1);
	for (int64_t i = 0; i < j->n; i++)
		if (api->put(j->ch, api->val_int(t * j->n + i),
		        XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			break; /* closed */
	return NULL;
}

static void *
closer(void *arg)
{
	job *j = arg;
	for (int i = 0; i < j->threads; i++)
		pthread_join(j->tid[i], NULL);
	api->chan_close(j->ch);
	return NULL;
}

static void *
consumer(void *arg)
{
	job *j = arg;
	for (;;) {
		xchan_val v;
		if (api->take(&v, j->ch, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			break;
		int64_t i;
		const char *s;
		size_t len;
		if (api->get_int(v, &i) == XCHAN_OK) {
			atomic_fetch_add(&j->ints, 1);
			atomic_fetch_add(&j->sum, i);
		} else if (api->get_string(v, &s, &len) == XCHAN_OK) {
			atomic_fetch_add(&j->strings, 1);
			atomic_fetch_add(&j->string_bytes, (long long)len);
		} else {
			atomic_fetch_add(&j->others, 1);
		}
		api->val_release(v);
	}
	return NULL;
}

static napi_value
throw_msg(napi_env env, const char *msg)
{
	napi_throw_error(env, "EINVAL", msg);
	return NULL;
}

static napi_value
js_init(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	const xchan_api *a = argc ? xchan_node_api(env, argv[0]) : NULL;
	if (a == NULL || !XCHAN_API_HAS(a, alts_ex) ||
	    a->check_version(XCHAN_VERSION_NUMBER) != XCHAN_OK)
		return throw_msg(env, "init(xchan.api()): not a usable table");
	api = a;
	return NULL;
}

static void
job_finalize(napi_env env, void *data, void *hint)
{
	job *j = data;
	if (!j->joined) {
		for (int i = 0; i < j->threads && !j->has_closer; i++)
			pthread_join(j->tid[i], NULL);
		if (j->has_closer)
			pthread_join(j->closer, NULL);
	}
	api->chan_release(j->ch);
	free(j);
}

static napi_value
start(napi_env env, napi_callback_info info, int produce)
{
	size_t argc = 4;
	napi_value argv[4], ext;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (api == NULL)
		return throw_msg(env, "call init(xchan.api()) first");
	xchan_chan *ch = argc ? xchan_node_chan(env, argv[0]) : NULL;
	if (ch == NULL)
		return throw_msg(env, "the first argument is ch.handle()");
	job *j = calloc(1, sizeof *j);
	int32_t threads = 1;
	if (produce) {
		napi_get_value_int64(env, argv[1], &j->n);
		napi_get_value_int32(env, argv[2], &threads);
		bool c = false;
		napi_get_value_bool(env, argv[3], &c);
		j->close = c;
	} else {
		napi_get_value_int32(env, argv[1], &threads);
	}
	if (threads < 1 || threads > MAX_THREADS) {
		free(j);
		return throw_msg(env, "threads: 1..64");
	}
	j->threads = threads;
	j->ch = api->chan_retain(ch);
	for (int i = 0; i < threads; i++)
		pthread_create(&j->tid[i], NULL, produce ? producer : consumer,
		    j);
	if (produce && j->close) {
		pthread_create(&j->closer, NULL, closer, j);
		j->has_closer = 1;
	}
	napi_create_external(env, j, job_finalize, NULL, &ext);
	return ext;
}

static napi_value
js_start_producers(napi_env env, napi_callback_info info)
{
	return start(env, info, 1);
}

static napi_value
js_start_consumers(napi_env env, napi_callback_info info)
{
	return start(env, info, 0);
}

static void
set(napi_env env, napi_value o, const char *k, long long v)
{
	napi_value x;
	napi_create_int64(env, v, &x);
	napi_set_named_property(env, o, k, x);
}

static napi_value
js_join(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], o;
	job *j = NULL;
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	if (argc < 1 ||
	    napi_get_value_external(env, argv[0], (void **)&j) != napi_ok ||
	    j == NULL)
		return throw_msg(env, "join(job)");
	if (!j->joined) {
		if (j->has_closer)
			pthread_join(j->closer, NULL);
		else
			for (int i = 0; i < j->threads; i++)
				pthread_join(j->tid[i], NULL);
		j->joined = 1;
	}
	napi_create_object(env, &o);
	set(env, o, "ints", atomic_load(&j->ints));
	set(env, o, "sum", atomic_load(&j->sum));
	set(env, o, "strings", atomic_load(&j->strings));
	set(env, o, "stringBytes", atomic_load(&j->string_bytes));
	set(env, o, "others", atomic_load(&j->others));
	return o;
}

/* ---- boxes and foreign host values (the conformance runner's values) ---- */

#define BOX_MAGIC 0x786f6278u
typedef struct box {
	uint32_t magic;
	char tag[];
} box;
static atomic_long boxes_made, boxes_released, foreign_made, foreign_released;
static atomic_uint foreign_rt; /* the "cross" runtime id, 0 until made */

static void
box_free(void *p)
{
	((box *)p)->magic = 0;
	free(p);
	atomic_fetch_add(&boxes_released, 1);
}

static void
foreign_release(void *user, void *obj)
{
	free(obj);
	atomic_fetch_add(&foreign_released, 1);
}

/* (handle, tag) -> the channel and a malloc'd copy of tag, or NULL. */
static xchan_chan *
chan_and_tag(napi_env env, napi_callback_info info, char **tag, size_t want)
{
	size_t argc = 2, len = 0;
	napi_value argv[2];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	xchan_chan *ch = argc ? xchan_node_chan(env, argv[0]) : NULL;
	if (api == NULL || ch == NULL || argc < want)
		return NULL;
	if (tag != NULL) {
		if (napi_get_value_string_utf8(env, argv[1], NULL, 0, &len) !=
		    napi_ok)
			return NULL;
		*tag = malloc(len + 1);
		if (*tag == NULL)
			return NULL;
		napi_get_value_string_utf8(env, argv[1], *tag, len + 1, &len);
	}
	return ch;
}

static napi_value
boolean(napi_env env, bool b)
{
	napi_value r;
	napi_get_boolean(env, b, &r);
	return r;
}

static napi_value
js_put_box(napi_env env, napi_callback_info info)
{
	char *tag = NULL;
	xchan_chan *ch = chan_and_tag(env, info, &tag, 2);
	if (ch == NULL)
		return throw_msg(env, "putBox(ch.handle(), tag) after init");
	size_t len = strlen(tag);
	box *b = malloc(sizeof *b + len + 1);
	if (b == NULL) {
		free(tag);
		return throw_msg(env, "out of memory");
	}
	b->magic = BOX_MAGIC;
	memcpy(b->tag, tag, len + 1);
	free(tag);
	xchan_val v;
	if (api->val_box(&v, b, box_free) != XCHAN_OK) {
		free(b);
		return throw_msg(env, "val_box failed");
	}
	atomic_fetch_add(&boxes_made, 1);
	if (api->offer(ch, v) != XCHAN_OK) {
		api->val_release(v);
		return boolean(env, false);
	}
	return boolean(env, true);
}

static napi_value
js_box_tag(napi_env env, napi_callback_info info)
{
	xchan_chan *ch = chan_and_tag(env, info, NULL, 1);
	if (ch == NULL)
		return throw_msg(env, "boxTag(ch.handle()) after init");
	xchan_val v;
	napi_value r;
	napi_get_undefined(env, &r);
	if (api->poll(&v, ch) != XCHAN_OK)
		return r;
	void *p = NULL;
	if (api->get_box(v, &p) == XCHAN_OK && p != NULL &&
	    ((box *)p)->magic == BOX_MAGIC)
		napi_create_string_utf8(env, ((box *)p)->tag, NAPI_AUTO_LENGTH,
		    &r);
	if (api->offer(ch, v) != XCHAN_OK)
		api->val_release(v);
	return r;
}

static napi_value
counts(napi_env env, long made, long released)
{
	napi_value o, a, b;
	napi_create_object(env, &o);
	napi_create_int64(env, made, &a);
	napi_create_int64(env, released, &b);
	napi_set_named_property(env, o, "made", a);
	napi_set_named_property(env, o, "released", b);
	return o;
}

static napi_value
js_box_counts(napi_env env, napi_callback_info info)
{
	return counts(env, atomic_load(&boxes_made),
	    atomic_load(&boxes_released));
}

static napi_value
js_foreign_counts(napi_env env, napi_callback_info info)
{
	return counts(env, atomic_load(&foreign_made),
	    atomic_load(&foreign_released));
}

static napi_value
js_put_foreign(napi_env env, napi_callback_info info)
{
	char *tag = NULL;
	xchan_chan *ch = chan_and_tag(env, info, &tag, 2);
	if (ch == NULL)
		return throw_msg(env,
		    "putForeign(ch.handle(), tag) after init");
	unsigned rt = atomic_load(&foreign_rt);
	if (rt == 0) {
		static const xchan_runtime hooks = {sizeof hooks, 0, "cross",
		    NULL, foreign_release, NULL};
		uint32_t id;
		if (api->runtime_register(&id, &hooks) != XCHAN_OK) {
			free(tag);
			return throw_msg(env, "runtime_register failed");
		}
		unsigned none = 0;
		if (!atomic_compare_exchange_strong(&foreign_rt, &none, id))
			api->runtime_unregister(id); /* another thread won */
		rt = atomic_load(&foreign_rt);
	}
	xchan_val v;
	if (api->val_host(&v, rt, tag) != XCHAN_OK)
		return throw_msg(env, "val_host failed"); /* it took tag */
	atomic_fetch_add(&foreign_made, 1);
	if (api->offer(ch, v) != XCHAN_OK) {
		api->val_release(v);
		return boolean(env, false);
	}
	return boolean(env, true);
}

static napi_value
js_put_samples(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
	xchan_chan *ch = argc ? xchan_node_chan(env, argv[0]) : NULL;
	if (api == NULL || ch == NULL)
		return throw_msg(env, "putSamples(ch.handle()) after init");
	xchan_val v[7], items[2];
	v[0] = api->val_int(-42);
	v[1] = api->val_double(2.5);
	v[2] = api->val_bool(1);
	api->val_string(&v[3], "from C ✓", strlen("from C ✓"));
	api->val_bytes(&v[4], "\x00\x01\x02", 3);
	items[0] = api->val_int(1);
	api->val_string(&items[1], "two", 3);
	api->val_array(&v[5], items, 2);
	xchan_chan *inner;
	api->chan_make(&inner, XCHAN_BUF_FIXED, 1);
	xchan_val s;
	api->val_string(&s, "inner", 5);
	api->put(inner, s, XCHAN_DEADLINE_NEVER);
	api->val_chan(&v[6], inner);
	api->chan_release(inner);
	for (int i = 0; i < 7; i++)
		if (api->put(ch, v[i], XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			api->val_release(v[i]);
	return NULL;
}

NAPI_MODULE_INIT()
{
	static const struct {
		const char *name;
		napi_callback cb;
	} fns[] = {{"init", js_init}, {"startProducers", js_start_producers},
	    {"startConsumers", js_start_consumers}, {"join", js_join},
	    {"putSamples", js_put_samples}, {"putBox", js_put_box},
	    {"boxTag", js_box_tag}, {"boxCounts", js_box_counts},
	    {"putForeign", js_put_foreign},
	    {"foreignCounts", js_foreign_counts}};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		napi_value fn;
		napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH,
		    fns[i].cb, NULL, &fn);
		napi_set_named_property(env, exports, fns[i].name, fn);
	}
	return exports;
}
