/*
 * xchan_cross_java.c — C code that shares channels with the Java binding.
 *
 * Loaded by the binding's tests (bindings/java-jni, CrossTest.java) next to
 * libxchanjni.  It never links libxchan: every call goes through the
 * function table that Java hands out (Xchan.apiHandle()), so it uses the
 * very copy of the core the binding loaded, on channels Java created
 * (Chan.nativeHandle()).
 *
 *   produceStart(api, ch, threads, perThread) -> handle
 *       `threads` pthreads each put perThread ints (t * 1e6 + i) on ch with
 *       blocking puts; the last one to finish closes ch.
 *   consumeStart(api, ch) -> handle
 *       a pthread takes ints from ch until it closes.
 *   join(handle, long[2] out) -> out = {count, sum}; 0 or an xchan error.
 *   putEveryType(api, ch): bool, int, double, string, bytes, chan (holding
 *       "inner"), array [1, "two"]; then closes ch.
 *   describe(api, ch, n) -> "kind:value,..." of n values taken from ch.
 *   putForeignHost(api, ch): a host value of another runtime on ch;
 *       foreignReleased() counts that runtime's releases.
 *   boxNew(api, tag) / foreignHostNew(api) -> a malloc'd xchan_val: a BOX
 *       of a tagged string (boxesFreed() counts its destructor's runs) /
 *       a host value of the other runtime; the caller wraps it with
 *       Box.fromNativeValue and frees it with valueFree(api, v).
 *       boxTag(ptr) reads a box's tag back.  The same natives are also
 *       bound for the conformance runner (io.xchan.conformance.CrossExt).
 *
 * Threads: join and describe block in native code; the tests call them
 * from platform threads only.  No locks besides an atomic counter.
 */
#include <jni.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"

#define PTR(l) ((void *)(intptr_t)(l))

typedef struct job {
	const xchan_api *api;
	xchan_chan *ch;
	int threads;
	long per_thread;
	atomic_int running;
	atomic_long count, sum;
	int32_t err;
	pthread_t tid[64];
} job;

static int
api_ok(JNIEnv *env, const xchan_api *api)
{
	if (api == NULL || !XCHAN_API_HAS(api, io_thread) ||
	    api->version / 10000 != XCHAN_VERSION_NUMBER / 10000) {
		(*env)->ThrowNew(env,
		    (*env)->FindClass(env, "java/lang/IllegalStateException"),
		    "xchan function table missing or of another major version");
		return 0;
	}
	return 1;
}

static void *
producer(void *arg)
{
	job *j = arg;
	static atomic_int next_id;
	long t = atomic_fetch_add(&next_id, 1) % j->threads;
	for (long i = 0; i < j->per_thread; i++) {
		int32_t err = j->api->put(j->ch,
		    j->api->val_int(t * 1000000 + i), XCHAN_DEADLINE_NEVER);
		if (err != XCHAN_OK) {
			j->err = err;
			break;
		}
		atomic_fetch_add(&j->count, 1);
		atomic_fetch_add(&j->sum, t * 1000000 + i);
	}
	if (atomic_fetch_sub(&j->running, 1) == 1)
		j->api->chan_close(j->ch);
	return NULL;
}

static void *
consumer(void *arg)
{
	job *j = arg;
	for (;;) {
		xchan_val v;
		int32_t err = j->api->take(&v, j->ch, XCHAN_DEADLINE_NEVER);
		if (err == XCHAN_ECLOSED)
			break;
		int64_t i = 0;
		if (err != XCHAN_OK || j->api->get_int(v, &i) != XCHAN_OK) {
			j->err = err ? err : XCHAN_ETYPE;
			j->api->val_release(v);
			break;
		}
		atomic_fetch_add(&j->count, 1);
		atomic_fetch_add(&j->sum, i);
	}
	return NULL;
}

static jlong
start(JNIEnv *env, jlong api, jlong ch, int threads, long per,
    void *(*fn)(void *))
{
	if (!api_ok(env, PTR(api)))
		return 0;
	job *j = calloc(1, sizeof *j);
	j->api = PTR(api);
	j->ch = j->api->chan_retain(PTR(ch));
	j->threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
	j->per_thread = per;
	atomic_init(&j->running, j->threads);
	for (int t = 0; t < j->threads; t++)
		pthread_create(&j->tid[t], NULL, fn, j);
	return (jlong)(intptr_t)j;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_produceStart(JNIEnv *env, jclass c, jlong api,
    jlong ch, jint threads, jlong per)
{
	return start(env, api, ch, threads, per, producer);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_consumeStart(JNIEnv *env, jclass c, jlong api,
    jlong ch)
{
	return start(env, api, ch, 1, 0, consumer);
}

JNIEXPORT jint JNICALL
Java_io_xchan_CrossNative_join(JNIEnv *env, jclass c, jlong h, jlongArray out)
{
	job *j = PTR(h);
	for (int t = 0; t < j->threads; t++)
		pthread_join(j->tid[t], NULL);
	jlong r[2] = {atomic_load(&j->count), atomic_load(&j->sum)};
	(*env)->SetLongArrayRegion(env, out, 0, 2, r);
	int32_t err = j->err;
	j->api->chan_release(j->ch);
	free(j);
	return err;
}

JNIEXPORT void JNICALL
Java_io_xchan_CrossNative_putEveryType(JNIEnv *env, jclass c, jlong apih,
    jlong chh)
{
	const xchan_api *api = PTR(apih);
	if (!api_ok(env, api))
		return;
	xchan_chan *ch = PTR(chh), *inner;
	xchan_val v, items[2];
	api->put(ch, api->val_bool(1), XCHAN_DEADLINE_NEVER);
	api->put(ch, api->val_int(-42), XCHAN_DEADLINE_NEVER);
	api->put(ch, api->val_double(2.5), XCHAN_DEADLINE_NEVER);
	api->val_string(&v, "h\xc3\xa9llo \xf0\x9f\x98\x80", 11);
	api->put(ch, v, XCHAN_DEADLINE_NEVER);
	api->val_bytes(&v, "\x00\x01\xff", 3);
	api->put(ch, v, XCHAN_DEADLINE_NEVER);
	api->chan_make(&inner, XCHAN_BUF_FIXED, 1);
	api->val_string(&v, "inner", 5);
	api->put(inner, v, XCHAN_DEADLINE_NEVER);
	api->val_chan(&v, inner);
	api->chan_release(inner);
	api->put(ch, v, XCHAN_DEADLINE_NEVER);
	items[0] = api->val_int(1);
	api->val_string(&items[1], "two", 3);
	api->val_array(&v, items, 2);
	api->put(ch, v, XCHAN_DEADLINE_NEVER);
	api->chan_close(ch);
}

static void
describe_one(const xchan_api *api, xchan_val v, char *buf, size_t cap)
{
	size_t len = strlen(buf);
	char *p = buf + len;
	size_t left = cap - len;
	const char *s;
	size_t n;
	int64_t i;
	double d;
	int32_t b;
	switch (v.kind) {
	case XCHAN_BOOL:
		api->get_bool(v, &b);
		snprintf(p, left, "bool:%d,", b);
		break;
	case XCHAN_INT:
		api->get_int(v, &i);
		snprintf(p, left, "int:%lld,", (long long)i);
		break;
	case XCHAN_DOUBLE:
		api->get_double(v, &d);
		snprintf(p, left, "double:%g,", d);
		break;
	case XCHAN_STRING:
		api->get_string(v, &s, &n);
		snprintf(p, left, "string:%.*s,", (int)n, s);
		break;
	case XCHAN_BYTES:
		api->get_bytes(v, (const void **)&s, &n);
		snprintf(p, left, "bytes:%zu,", n);
		break;
	case XCHAN_CHAN:
		snprintf(p, left, "chan,");
		break;
	default:
		snprintf(p, left, "%s,", api->kind_name(v.kind));
	}
}

JNIEXPORT jstring JNICALL
Java_io_xchan_CrossNative_describe(JNIEnv *env, jclass c, jlong apih, jlong chh,
    jint n)
{
	const xchan_api *api = PTR(apih);
	if (!api_ok(env, api))
		return NULL;
	char buf[4096] = "";
	for (jint k = 0; k < n; k++) {
		xchan_val v;
		int32_t err = api->take(&v, PTR(chh), XCHAN_DEADLINE_NEVER);
		if (err != XCHAN_OK) {
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    "%s,", api->err_name(err));
			continue;
		}
		describe_one(api, v, buf, sizeof buf);
		api->val_release(v);
	}
	return (*env)->NewStringUTF(env, buf);
}

/* A host value of a runtime other than the JVM's ("cross-other", registered
 * once): Java must refuse it with ERUNTIME rather than crash.  Its release
 * hook counts releases, so the test sees the value was not leaked. */
static atomic_long g_other_released;
static void
other_retain(void *user, void *obj)
{
}
static void
other_release(void *user, void *obj)
{
	atomic_fetch_add(&g_other_released, 1);
}

static const xchan_api *g_api;
static uint32_t g_other;

static void
register_other(void)
{
	xchan_runtime rt = {0};
	rt.size = sizeof rt;
	rt.name = "cross-other";
	rt.retain = other_retain;
	rt.release = other_release;
	if (g_api->runtime_register(&g_other, &rt) != XCHAN_OK)
		g_other = 0;
}

/* Puts one host value of the other runtime on ch; 0 or -1. */
JNIEXPORT jint JNICALL
Java_io_xchan_CrossNative_putForeignHost(JNIEnv *env, jclass c, jlong apih,
    jlong chh)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (!api_ok(env, PTR(apih)))
		return -1;
	g_api = PTR(apih);
	pthread_once(&once, register_other);
	xchan_val v;
	if (g_other == 0 ||
	    g_api->val_host(&v, g_other, (void *)&g_other) != XCHAN_OK)
		return -1;
	return g_api->put(PTR(chh), v, XCHAN_DEADLINE_NEVER) == XCHAN_OK ? 0
	                                                                 : -1;
}

/* How many host values of the other runtime were released. */
JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_foreignReleased(JNIEnv *env, jclass c)
{
	return atomic_load(&g_other_released);
}

/* ---- Boxes and foreign host values, made as C code makes them ------------
 * For the binding's tests (CrossNative) and the conformance runner
 * (io.xchan.conformance.CrossExt): each returns a malloc'd xchan_val that
 * the caller wraps with Box.fromNativeValue and then frees with valueFree.
 * A box made here points to a tagged string; its destructor counts. */
#define BOX_MAGIC 0x78626f78u /* "xbox" */
typedef struct tagged_box {
	uint32_t magic;
	char tag[];
} tagged_box;

static atomic_long g_boxes_freed;

static void
box_free(void *p)
{
	((tagged_box *)p)->magic = 0;
	free(p);
	atomic_fetch_add(&g_boxes_freed, 1);
}

static jlong
box_new(JNIEnv *env, jlong apih, jstring tag)
{
	const xchan_api *api = PTR(apih);
	if (!api_ok(env, api))
		return 0;
	const char *s = (*env)->GetStringUTFChars(env, tag, NULL);
	size_t n = strlen(s);
	tagged_box *b = malloc(sizeof *b + n + 1);
	xchan_val *v = malloc(sizeof *v);
	if (b == NULL || v == NULL) {
		free(b);
		free(v);
		(*env)->ReleaseStringUTFChars(env, tag, s);
		return 0;
	}
	b->magic = BOX_MAGIC;
	memcpy(b->tag, s, n + 1);
	(*env)->ReleaseStringUTFChars(env, tag, s);
	if (api->val_box(v, b, box_free) != XCHAN_OK) {
		free(b);
		free(v);
		return 0;
	}
	return (jlong)(intptr_t)v;
}

static jlong
foreign_host_new(JNIEnv *env, jlong apih)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	if (!api_ok(env, PTR(apih)))
		return 0;
	g_api = PTR(apih);
	pthread_once(&once, register_other);
	xchan_val *v = malloc(sizeof *v);
	if (v == NULL || g_other == 0 ||
	    g_api->val_host(v, g_other, (void *)&g_other) != XCHAN_OK) {
		free(v);
		return 0;
	}
	return (jlong)(intptr_t)v;
}

static void
value_free(jlong apih, jlong addr)
{
	const xchan_api *api = PTR(apih);
	xchan_val *v = PTR(addr);
	if (v == NULL)
		return;
	api->val_release(*v);
	free(v);
}

static jstring
box_tag(JNIEnv *env, jlong ptr)
{
	tagged_box *b = PTR(ptr);
	if (b == NULL || b->magic != BOX_MAGIC)
		return NULL;
	return (*env)->NewStringUTF(env, b->tag);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_boxNew(JNIEnv *env, jclass c, jlong api, jstring tag)
{
	return box_new(env, api, tag);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_foreignHostNew(JNIEnv *env, jclass c, jlong api)
{
	return foreign_host_new(env, api);
}

JNIEXPORT void JNICALL
Java_io_xchan_CrossNative_valueFree(JNIEnv *env, jclass c, jlong api, jlong v)
{
	value_free(api, v);
}

JNIEXPORT jstring JNICALL
Java_io_xchan_CrossNative_boxTag(JNIEnv *env, jclass c, jlong ptr)
{
	return box_tag(env, ptr);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_CrossNative_boxesFreed(JNIEnv *env, jclass c)
{
	return atomic_load(&g_boxes_freed);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_conformance_CrossExt_boxNew(JNIEnv *env, jclass c, jlong api,
    jstring tag)
{
	return box_new(env, api, tag);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_conformance_CrossExt_foreignHostNew(JNIEnv *env, jclass c,
    jlong api)
{
	return foreign_host_new(env, api);
}

JNIEXPORT void JNICALL
Java_io_xchan_conformance_CrossExt_valueFree(JNIEnv *env, jclass c, jlong api,
    jlong v)
{
	value_free(api, v);
}

JNIEXPORT jstring JNICALL
Java_io_xchan_conformance_CrossExt_boxTag(JNIEnv *env, jclass c, jlong ptr)
{
	return box_tag(env, ptr);
}
