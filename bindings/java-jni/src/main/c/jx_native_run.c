/*
 * jx_native_run.c — Native.nativeRun: the core's native workers
 * (xchan_native_run, xchan_ext.h) for Java; io.xchan.NativeWorkers wraps it
 * as go / thread / ioThread.
 *
 * The arguments arrive in the binding's value encoding (kinds, bits, refs,
 * datas: see Native.encode) and become values with jx_val_from_java; they
 * are released after the call, which retains what the task keeps.  On an
 * error the same values go to xchan_native_check for the message naming the
 * problem, thrown as XchanException with the core's code.  Never waits
 * (only a first load of a library runs its constructors here).  No state,
 * no lock.
 */
#include <stdio.h>

#include "jx.h"
#include "xchan/xchan_ext.h"

#define NATIVE_MSG_SIZE 512

static void
release_vals(xchan_val *v, jsize n)
{
	for (jsize i = 0; i < n; i++)
		xchan_val_release(v[i]);
}

/* The UTF-8 of a non-null Java string into buf; 0 on a pending exception. */
static int
utf8(JNIEnv *env, jstring s, char *buf, size_t size, const char *what)
{
	if (s == NULL) {
		jx_throw(env, XCHAN_EINVAL, what);
		return 0;
	}
	const char *c = (*env)->GetStringUTFChars(env, s, NULL);
	if (c == NULL)
		return 0;
	int n = snprintf(buf, size, "%s", c);
	(*env)->ReleaseStringUTFChars(env, s, c);
	if (n < 0 || (size_t)n >= size) {
		jx_throw(env, XCHAN_EINVAL, what);
		return 0;
	}
	return 1;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_nativeRun(JNIEnv *env, jclass cls, jint workload,
    jstring jlib, jstring jsymbol, jstring jsig, jintArray kinds,
    jlongArray bitss, jobjectArray refs, jobjectArray datas)
{
	char lib[4096], symbol[256], sig[64];
	if (!utf8(env, jlib, lib, sizeof lib, "native: lib must be a path") ||
	    !utf8(env, jsymbol, symbol, sizeof symbol,
	        "native: symbol must be a name") ||
	    !utf8(env, jsig, sig, sizeof sig,
	        "native: signature must be a signature string"))
		return 0;
	jsize n = (*env)->GetArrayLength(env, kinds);
	if (n > XCHAN_NATIVE_MAX_ARGS) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: at most %d arguments, got %d",
		    symbol, XCHAN_NATIVE_MAX_ARGS, (int)n);
		jx_throw(env, XCHAN_EINVAL, msg);
		return 0;
	}
	xchan_val v[XCHAN_NATIVE_MAX_ARGS];
	int32_t err =
	    jx_vals_from_java(env, v, n, kinds, bitss, refs, datas, 0);
	if (err != XCHAN_OK) {
		jx_throw(env, err, "native: an argument cannot be converted");
		return 0;
	}
	xchan_chan *result = NULL;
	err = xchan_native_run(&result, (uint32_t)workload, lib, symbol, sig, v,
	    (size_t)n, NULL);
	if (err != XCHAN_OK) {
		char msg[NATIVE_MSG_SIZE];
		if (xchan_native_check(msg, sizeof msg, lib, symbol, sig, v,
		        (size_t)n) == XCHAN_OK)
			snprintf(msg, sizeof msg, "%s: cannot start", symbol);
		release_vals(v, n);
		jx_throw(env, err, msg);
		return 0;
	}
	release_vals(v, n);
	return JX_LONG(result);
}
