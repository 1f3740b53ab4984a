/*
 * jx.h — internals shared by the JNI sources of the Java binding.
 *
 * Threads.  Java calls the natives on its own threads (platform or virtual);
 * no native entry point ever waits: each one tries, registers an async op in
 * the core's notify mode, or returns.  Waiting happens in Java (LockSupport).
 * The core calls back into this library on threads of its own or of C code:
 * the notifier (jx_notify), host-value release, transform steps,
 * combinator callbacks and Java tasks run on the core's executors
 * (jx_exec.c, attached under their OS thread name).  Those threads are attached to the JVM on first use
 * (as daemons, cached per thread, detached when the thread exits), or by the
 * core's thread_start hook for xchan's own threads.  The core never calls
 * any of these on a go task's stack (docs/threading.md: steps, completions,
 * error handlers, transform destroy, value releases, notifiers and every
 * combinator callback run on the worker thread's own stack), so Java is
 * called directly on the calling thread.
 *
 * Locks: none of our own.
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
extern jclass jx_CoreExecutor; /* io.xchan.CoreExecutor */
extern jmethodID jx_core_run;  /* static void run(Runnable task) */

/* The JNIEnv of the calling thread, attaching it (as a daemon) if needed.
 * NULL only if the JVM refuses to attach. */
JNIEnv *jx_env(void);

/* As jx_env, but a thread attached here gets its OS name (pthread_getname_np)
 * as its Java name: an executor's thread shows under its own name
 * (jx_exec.c). */
JNIEnv *jx_env_named(void);

/* 1 once the JVM began to exit (Native's shutdown hook): from then on no
 * thread of ours enters or leaves the JVM. */
int jx_vm_is_exiting(void);

/* Throws io.xchan.XchanException for `err` with `what` as its message. */
void jx_throw(JNIEnv *env, int32_t err, const char *what);

/* A JNI global ref with its references counted here, so that retain never
 * needs the JVM (jx_load.c): host values (jx_host), the Java functions the
 * combinators call (jx_comb.c) and transducer specs (jx_xform.c). */
typedef struct jx_ref {
	atomic_long refs;
	jobject ref;
} jx_ref;

/* A new counted ref (one reference) to `obj`; NULL if out of memory.  A
 * null `obj` gives a counted null ref (a Java function left null fails
 * where it is called, as Java would). */
jx_ref *jx_ref_new(JNIEnv *env, jobject obj);

/* Adds a reference; returns r. */
jx_ref *jx_ref_retain(jx_ref *r);

/* Drops a reference (r may be NULL); the last one deletes the global ref
 * (on any thread, attached if needed), frees r and returns 1. */
int jx_ref_release(jx_ref *r);

/* A host object: the counted ref a HOST value (or a string/bytes value
 * carrying its Java object) holds. */
typedef jx_ref jx_host;

/* A new host wrapper for `obj` (counted in the live-hosts figure). NULL on
 * failure. */
jx_host *jx_host_new(JNIEnv *env, jobject obj);

/* Frees a wrapper the core never took over. */
void jx_host_discard(jx_host *h);

/* Builds an xchan value from the Java encoding (see Native.java):
 * kind, bits, ref (String/byte[]/any object), data (UTF-8 of a String).
 * Returns XCHAN_OK or an error (nothing to release then). */
int32_t jx_val_from_java(JNIEnv *env, xchan_val *out, jint kind, jlong bits,
    jobject ref, jbyteArray data);

/* Converts the Java encoding of a list of values (Native.encodeItems'
 * parallel arrays kinds, bits, refs, datas) into out[0..n), n being their
 * length: shared by ARRAY values, onto/to-chan and native-run arguments.
 * A NIL item stays nil if `nil_ok` (an ARRAY's item: the core refuses it
 * later, as for C callers), else fails with ENIL.  On an error releases
 * the items already converted and returns it. */
int32_t jx_vals_from_java(JNIEnv *env, xchan_val *out, jsize n, jintArray kinds,
    jlongArray bitss, jobjectArray refs, jobjectArray datas, int nil_ok);

/* Converts `v` (borrowed) to a Java object: Long, Double, Boolean, String,
 * byte[], Chan, List, Box or the host object.  On ERUNTIME (a host value of
 * another runtime) *err is set and NULL returned; a pending Java exception
 * also gives NULL. */
jobject jx_val_to_java(JNIEnv *env, xchan_val v, int32_t *err);

/* Calls fn(env, arg) on the calling thread (attached if needed) in a local
 * frame of its own, reporting a pending exception.  Returns fn's result,
 * XCHAN_ESHUTDOWN (the JVM is exiting or refused to attach), or
 * XCHAN_EINTERNAL if called on a go task's stack (the core's contract
 * broken: the JVM must not run there). */
typedef int32_t (*jx_java_fn)(JNIEnv *env, void *arg);
int32_t jx_run_java(jx_java_fn fn, void *arg);

/* Deletes a global ref on the calling thread (attached if needed). */
void jx_delete_global(jobject ref);

#define JX_PTR(l) ((void *)(intptr_t)(l))
#define JX_LONG(p) ((jlong)(intptr_t)(p))

#endif
