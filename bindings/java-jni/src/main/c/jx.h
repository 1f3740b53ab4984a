/*
 * jx.h — internals shared by the JNI sources of the Java binding.
 *
 * Threads.  Java calls the natives on its own threads (platform or virtual);
 * no native entry point ever waits: each one tries, registers an async op in
 * the core's notify mode, or returns.  Waiting happens in Java (LockSupport).
 * The core calls back into this library on threads of its own or of C code:
 * the notifier (jx_notify), host-value release, transform steps and
 * combinator callbacks.  Those threads are attached to the JVM on first use
 * (as daemons, cached per thread, detached when the thread exits), or by the
 * core's thread_start hook for xchan's own threads.  Nothing here calls Java
 * on a go task's stack: jx_run_java() hands such calls to a Java service
 * thread (jx_upcall.c), and releases found on a go stack are deferred.
 *
 * Locks: none of our own except the upcall service's channel (the core's).
 */
#ifndef JX_H
#define JX_H

#include <jni.h>
#include <stdatomic.h>
#include <stdint.h>

#include "xchan/xchan.h"

/* The JVM, the host runtime id and cached classes/methods (jx_load.c). */
extern JavaVM *jx_vm;
extern uint32_t jx_runtime;
extern jclass jx_Native;  /* io.xchan.Native */
extern jmethodID jx_wake; /* static void wake(long token) */
extern jmethodID
    jx_decode; /* static Object decode(int kind, long bits, Object ref) */
extern jmethodID jx_step; /* static int step(Object xf, Object in, long emit) */
extern jmethodID jx_complete; /* static int complete(Object xf, long emit) */
extern jmethodID
    jx_callback; /* static Object callback(Object fn, int what, Object a, Object b) */
extern jclass jx_String, jx_byteArray, jx_Object;

/* The JNIEnv of the calling thread, attaching it (as a daemon) if needed.
 * NULL only if the JVM refuses to attach. */
JNIEnv *jx_env(void);

/* Throws io.xchan.XchanException for `err` with `what` as its message. */
void jx_throw(JNIEnv *env, int32_t err, const char *what);

/* A host object: a JNI global ref with the core's references counted here,
 * so that retain never needs the JVM. */
typedef struct jx_host {
	atomic_long refs;
	jobject ref;
} jx_host;

/* A new host wrapper for `obj` (a global ref is made). NULL on failure. */
jx_host *jx_host_new(JNIEnv *env, jobject obj);

/* Frees a wrapper the core never took over. */
void jx_host_discard(jx_host *h);

/* Builds an xchan value from the Java encoding (see Native.java):
 * kind, bits, ref (String/byte[]/any object), data (UTF-8 of a String).
 * Returns XCHAN_OK or an error (nothing to release then). */
int32_t jx_val_from_java(JNIEnv *env, xchan_val *out, jint kind, jlong bits,
    jobject ref, jbyteArray data);

/* Converts `v` (borrowed) to a Java object: Long, Double, Boolean, String,
 * byte[], Chan, List, Box or the host object.  On ERUNTIME (a host value of
 * another runtime) *err is set and NULL returned; a pending Java exception
 * also gives NULL. */
jobject jx_val_to_java(JNIEnv *env, xchan_val v, int32_t *err);

/* Calls fn(env, arg) on a thread where Java may run: directly when the
 * caller is not on a go task's stack, else on the upcall service thread while
 * the go task parks.  Returns fn's result, or XCHAN_ESHUTDOWN. */
typedef int32_t (*jx_java_fn)(JNIEnv *env, void *arg);
int32_t jx_run_java(jx_java_fn fn, void *arg);

/* Deletes a global ref from any thread (deferred when on a go stack). */
void jx_delete_global(jobject ref);

/* Runs deferred deletes; called from Java-thread entry points. */
void jx_drain_deferred(JNIEnv *env);

#define JX_PTR(l) ((void *)(intptr_t)(l))
#define JX_LONG(p) ((jlong)(intptr_t)(p))

#endif
