/*
 * jx_val.c — values between Java and xchan (the mapping of
 * docs in ../../../README.md, "Values").
 *
 * Java -> C: Native.java classifies the object and passes (kind, bits, ref,
 * data): scalars in bits, a String with its UTF-8 bytes (made with
 * xchan_val_string_host so that Java gets the very same String back), a
 * byte[] (xchan_val_bytes_host), a Chan's native handle, a Box's value, and
 * any other object as a HOST value holding a global ref.
 * C -> Java: scalars are boxed by Native.decode (called here), strings and
 * bytes give back their carried Java object when they have one, else a new
 * String/byte[]; arrays become List; a host value of another runtime is
 * ERUNTIME.  No locks.
 */
#include <stdlib.h>
#include <string.h>

#include "jx.h"

int32_t
jx_vals_from_java(JNIEnv *env, xchan_val *out, jsize n, jintArray kinds,
    jlongArray bitss, jobjectArray refs, jobjectArray datas, int nil_ok)
{
	jint *kd = (*env)->GetIntArrayElements(env, kinds, NULL);
	jlong *bt = (*env)->GetLongArrayElements(env, bitss, NULL);
	int32_t err = XCHAN_OK;
	jsize i;
	for (i = 0; i < n && err == XCHAN_OK; i++) {
		if (nil_ok && kd[i] == XCHAN_NIL) {
			out[i] = xchan_val_nil();
			continue;
		}
		jobject r = (*env)->GetObjectArrayElement(env, refs, i);
		jobject d = (*env)->GetObjectArrayElement(env, datas, i);
		err = jx_val_from_java(env, &out[i], kd[i], bt[i], r, d);
		(*env)->DeleteLocalRef(env, r);
		(*env)->DeleteLocalRef(env, d);
	}
	(*env)->ReleaseIntArrayElements(env, kinds, kd, JNI_ABORT);
	(*env)->ReleaseLongArrayElements(env, bitss, bt, JNI_ABORT);
	if (err != XCHAN_OK) /* out[i - 1], the failed one, is nil */
		for (jsize j = 0; j < i; j++)
			xchan_val_release(out[j]);
	return err;
}

/* An ARRAY from Native.encodeItems' {kinds, bits, refs, datas}: a NIL item
 * stays nil, so that the core refuses it (EINVAL), as for C callers. */
static int32_t
array_from_java(JNIEnv *env, xchan_val *out, jobjectArray enc)
{
	jintArray kinds = (*env)->GetObjectArrayElement(env, enc, 0);
	jlongArray bitss = (*env)->GetObjectArrayElement(env, enc, 1);
	jobjectArray refs = (*env)->GetObjectArrayElement(env, enc, 2);
	jobjectArray datas = (*env)->GetObjectArrayElement(env, enc, 3);
	jsize n = (*env)->GetArrayLength(env, kinds);
	xchan_val *items = calloc(n ? (size_t)n : 1, sizeof *items);
	if (items == NULL)
		return XCHAN_ENOMEM;
	int32_t err =
	    jx_vals_from_java(env, items, n, kinds, bitss, refs, datas, 1);
	if (err != XCHAN_OK) {
		free(items);
		return err;
	}
	/* Takes over the items' references, even on error. */
	err = xchan_val_array(out, items, (size_t)n);
	free(items);
	return err;
}

int32_t
jx_val_from_java(JNIEnv *env, xchan_val *out, jint kind, jlong bits,
    jobject ref, jbyteArray data)
{
	*out = xchan_val_nil();
	switch (kind) {
	case XCHAN_BOOL:
		*out = xchan_val_bool(bits != 0);
		return XCHAN_OK;
	case XCHAN_INT:
		*out = xchan_val_int(bits);
		return XCHAN_OK;
	case XCHAN_DOUBLE: {
		union {
			jlong l;
			double d;
		} u = {.l = bits};
		*out = xchan_val_double(u.d);
		return XCHAN_OK;
	}
	case XCHAN_STRING:
	case XCHAN_BYTES: {
		jbyteArray arr = kind == XCHAN_STRING ? data : (jbyteArray)ref;
		jsize n = (*env)->GetArrayLength(env, arr);
		jx_host *h = jx_host_new(env, ref);
		if (h == NULL)
			return XCHAN_ENOMEM;
		char small[256];
		char *buf = n <= (jsize)sizeof small ? small : malloc(n);
		if (buf == NULL) {
			jx_host_discard(h);
			return XCHAN_ENOMEM;
		}
		(*env)->GetByteArrayRegion(env, arr, 0, n, (jbyte *)buf);
		/* The core takes over the wrapper's reference even on error. */
		int32_t err = kind == XCHAN_STRING
		                  ? xchan_val_string_host(out, buf, (size_t)n,
		                        jx_runtime, h)
		                  : xchan_val_bytes_host(out, buf, (size_t)n,
		                        jx_runtime, h);
		if (buf != small)
			free(buf);
		return err;
	}
	case XCHAN_CHAN:
		return xchan_val_chan(out, JX_PTR(bits));
	case XCHAN_BOX:
		*out = xchan_val_retain(*(xchan_val *)JX_PTR(bits));
		return XCHAN_OK;
	case XCHAN_HOST: {
		jx_host *h = jx_host_new(env, ref);
		if (h == NULL)
			return XCHAN_ENOMEM;
		int32_t err = xchan_val_host(out, jx_runtime, h);
		if (err != XCHAN_OK) {
			jx_host_discard(h);
		}
		return err;
	}
	case XCHAN_ARRAY:
		return array_from_java(env, out, ref);
	case XCHAN_NIL:
		return XCHAN_ENIL;
	default:
		return XCHAN_EINVAL;
	}
}

static jobject
decode(JNIEnv *env, jint kind, jlong bits, jobject ref)
{
	return (*env)->CallStaticObjectMethod(env, jx_Native, jx_decode, kind,
	    bits, ref);
}

static jbyteArray
byte_array(JNIEnv *env, const void *p, size_t n)
{
	jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
	if (a != NULL)
		(*env)->SetByteArrayRegion(env, a, 0, (jsize)n, p);
	return a;
}

jobject
jx_val_to_java(JNIEnv *env, xchan_val v, int32_t *err)
{
	void *host;
	*err = XCHAN_OK;
	switch (v.kind) {
	case XCHAN_BOOL: {
		int32_t b = 0;
		xchan_get_bool(v, &b);
		return decode(env, XCHAN_BOOL, b, NULL);
	}
	case XCHAN_INT: {
		int64_t i = 0;
		xchan_get_int(v, &i);
		return decode(env, XCHAN_INT, i, NULL);
	}
	case XCHAN_DOUBLE: {
		union {
			jlong l;
			double d;
		} u;
		xchan_get_double(v, &u.d);
		return decode(env, XCHAN_DOUBLE, u.l, NULL);
	}
	case XCHAN_STRING:
	case XCHAN_BYTES: {
		if (xchan_get_host(v, jx_runtime, &host) == XCHAN_OK)
			return (*env)->NewLocalRef(env, ((jx_host *)host)->ref);
		const void *p;
		size_t n;
		if (v.kind == XCHAN_STRING)
			xchan_get_string(v, (const char **)&p, &n);
		else
			xchan_get_bytes(v, &p, &n);
		jbyteArray a = byte_array(env, p, n);
		if (a == NULL || v.kind == XCHAN_BYTES)
			return a;
		jobject s = decode(env, XCHAN_STRING, 0, a);
		(*env)->DeleteLocalRef(env, a);
		return s;
	}
	case XCHAN_CHAN: {
		xchan_chan *ch;
		xchan_get_chan(v, &ch);
		xchan_chan_retain(ch); /* the Java Chan owns this reference */
		return decode(env, XCHAN_CHAN, JX_LONG(ch), NULL);
	}
	case XCHAN_BOX: {
		xchan_val *copy = malloc(sizeof *copy);
		if (copy == NULL) {
			*err = XCHAN_ENOMEM;
			return NULL;
		}
		*copy = xchan_val_retain(v); /* owned by the Java Box */
		return decode(env, XCHAN_BOX, JX_LONG(copy), NULL);
	}
	case XCHAN_HOST: {
		int32_t e = xchan_get_host(v, jx_runtime, &host);
		if (e != XCHAN_OK) {
			*err = e;
			return NULL;
		}
		return (*env)->NewLocalRef(env, ((jx_host *)host)->ref);
	}
	case XCHAN_ARRAY: {
		const xchan_val *items;
		size_t n;
		xchan_get_array(v, &items, &n);
		jobjectArray arr =
		    (*env)->NewObjectArray(env, (jsize)n, jx_Object, NULL);
		if (arr == NULL)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			jobject o = jx_val_to_java(env, items[i], err);
			if (*err != XCHAN_OK || (*env)->ExceptionCheck(env))
				return NULL;
			(*env)->SetObjectArrayElement(env, arr, (jsize)i, o);
			(*env)->DeleteLocalRef(env, o);
		}
		jobject list = decode(env, XCHAN_ARRAY, 0, arr);
		(*env)->DeleteLocalRef(env, arr);
		return list;
	}
	default:
		*err = XCHAN_ETYPE;
		return NULL;
	}
}

/* ---- Box: a native value Java holds (BOX kind, or anything C-only) --------- */

JNIEXPORT void JNICALL
Java_io_xchan_Native_boxFree(JNIEnv *env, jclass cls, jlong p)
{
	xchan_val *v = JX_PTR(p);
	xchan_val_release(*v);
	free(v);
}

/* A Box's copy of the value at `addr` (a new reference); 0 for nil. */
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_boxRetain(JNIEnv *env, jclass cls, jlong addr)
{
	xchan_val *src = JX_PTR(addr);
	if (src->kind == XCHAN_NIL)
		return 0;
	xchan_val *v = malloc(sizeof *v);
	if (v == NULL) {
		jx_throw(env, XCHAN_ENOMEM, "box");
		return 0;
	}
	*v = xchan_val_retain(*src);
	return JX_LONG(v);
}

/* The boxed pointer of a Box's value; 0 if it is not a BOX. */
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_boxPointer(JNIEnv *env, jclass cls, jlong p)
{
	void *ptr = NULL;
	if (xchan_get_box(*(xchan_val *)JX_PTR(p), &ptr) != XCHAN_OK)
		return 0;
	return JX_LONG(ptr);
}
