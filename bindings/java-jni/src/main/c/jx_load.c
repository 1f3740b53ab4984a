/*
 * jx_load.c — library load: caches JVM classes and methods, initialises the
 * core (thread hooks that attach xchan's own threads to the JVM), registers
 * the "jvm" host runtime, and keeps the per-thread attach cache.
 *
 * Attach cache: a pthread key whose value is non-NULL on threads this
 * library attached; its destructor detaches them when they exit.  Host
 * release: the wrapper's count is atomic; the last release deletes the
 * global ref at once, on the releasing thread (the core runs release hooks
 * and transform destroys off go stacks).
 */
#define _GNU_SOURCE /* pthread_getname_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "jx.h"
#include "xchan/xchan_ext.h"

JavaVM *jx_vm;
uint32_t jx_runtime;
jclass jx_Native, jx_String, jx_byteArray, jx_Object, jx_CoreExecutor;
jmethodID jx_core_run;
jmethodID jx_wake, jx_decode, jx_step, jx_complete, jx_callback;
static jclass jx_XchanException;
static jmethodID jx_exc_of;
static pthread_key_t attach_key;
/* Set by a JVM shutdown hook (Native.java): from then on no thread enters
 * or leaves the JVM, since a thread that does after the VM has exited blocks
 * for ever (HotSpot's VM_Exit::wait_if_vm_exited). */
static atomic_int jx_vm_exiting;
static atomic_long jx_live_hosts; /* host wrappers alive, for leak tests */

static void
detach_at_exit(void *v)
{
	if (v != NULL && jx_vm != NULL && !atomic_load(&jx_vm_exiting))
		(*jx_vm)->DetachCurrentThread(jx_vm);
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_vmExiting(JNIEnv *env, jclass cls)
{
	atomic_store(&jx_vm_exiting, 1);
}

int
jx_vm_is_exiting(void)
{
	return atomic_load(&jx_vm_exiting);
}

static JNIEnv *
attach(const char *name)
{
	JNIEnv *env = NULL;
	if (atomic_load_explicit(&jx_vm_exiting, memory_order_relaxed))
		return NULL;
	jint rc = (*jx_vm)->GetEnv(jx_vm, (void **)&env, JNI_VERSION_1_8);
	if (rc == JNI_OK)
		return env;
	if (rc != JNI_EDETACHED)
		return NULL;
	JavaVMAttachArgs args = {JNI_VERSION_1_8, (char *)name, NULL};
	if ((*jx_vm)->AttachCurrentThreadAsDaemon(jx_vm, (void **)&env,
	        &args) != JNI_OK)
		return NULL;
	pthread_setspecific(attach_key, (void *)1);
	return env;
}

JNIEnv *
jx_env(void)
{
	return attach("xchan-native");
}

JNIEnv *
jx_env_named(void)
{
	JNIEnv *env = NULL;
	if (atomic_load_explicit(&jx_vm_exiting, memory_order_relaxed))
		return NULL;
	/* Attached already: skip reading the name. */
	if ((*jx_vm)->GetEnv(jx_vm, (void **)&env, JNI_VERSION_1_8) == JNI_OK)
		return env;
	char name[32];
	if (pthread_getname_np(pthread_self(), name, sizeof name) != 0 ||
	    name[0] == 0)
		return attach("xchan-native");
	return attach(name);
}

static void
hook_thread_start(void *user, const char *name)
{
	attach(name);
}

static void
hook_thread_exit(void *user, const char *name)
{
	if (pthread_getspecific(attach_key) != NULL) {
		pthread_setspecific(attach_key, NULL);
		if (!atomic_load(&jx_vm_exiting))
			(*jx_vm)->DetachCurrentThread(jx_vm);
	}
}

void
jx_throw(JNIEnv *env, int32_t err, const char *what)
{
	if ((*env)->ExceptionCheck(env))
		return;
	jstring msg = (*env)->NewStringUTF(env, what ? what : "");
	jobject exc = (*env)->CallStaticObjectMethod(env, jx_XchanException,
	    jx_exc_of, (jint)err, msg);
	if (exc != NULL && !(*env)->ExceptionCheck(env))
		(*env)->Throw(env, (jthrowable)exc);
}

/* ---- calling Java from the core's callbacks ------------------------------ */

/* The core calls us on ordinary thread stacks only; a go task's stack is
 * too small for the JVM and unknown to it.  Checked rather than trusted:
 * a broken contract fails the call instead of corrupting the JVM. */
static int
on_go_stack(const char *what)
{
	if (!xchan_in_go())
		return 0;
	fprintf(stderr,
	    "xchan-jni: %s on a go task's stack (core contract "
	    "broken, docs/threading.md)\n",
	    what);
	return 1;
}

int32_t
jx_run_java(jx_java_fn fn, void *arg)
{
	if (on_go_stack("Java call"))
		return XCHAN_EINTERNAL;
	/* Lazily attached: a C thread of the user's calling the core (say, a
	 * pthread closing a channel with a Java transducer) has no JNIEnv
	 * yet; xchan's own threads were attached by the thread_start hook. */
	JNIEnv *env = jx_env();
	if (env == NULL)
		return XCHAN_ESHUTDOWN;
	/* A thread attached for good frees local refs only at detach: scope
	 * them. */
	if ((*env)->PushLocalFrame(env, 16) != 0)
		return XCHAN_ENOMEM;
	int32_t r = fn(env, arg);
	if ((*env)->ExceptionCheck(env))
		(*env)->ExceptionDescribe(env);
	(*env)->PopLocalFrame(env, NULL);
	return r;
}

void
jx_delete_global(jobject ref)
{
	if (ref == NULL || on_go_stack("global ref delete"))
		return; /* leaked rather than touch the JVM from a go stack */
	JNIEnv *env = jx_env(); /* attaches a C thread not attached yet */
	if (env != NULL)
		(*env)->DeleteGlobalRef(env, ref);
}

/* ---- host values ----------------------------------------------------------- */

jx_ref *
jx_ref_new(JNIEnv *env, jobject obj)
{
	jx_ref *r = malloc(sizeof *r);
	if (r == NULL)
		return NULL;
	r->ref = (*env)->NewGlobalRef(env, obj);
	if (r->ref == NULL && obj != NULL) {
		free(r);
		return NULL;
	}
	atomic_init(&r->refs, 1);
	return r;
}

jx_ref *
jx_ref_retain(jx_ref *r)
{
	atomic_fetch_add(&r->refs, 1);
	return r;
}

int
jx_ref_release(jx_ref *r)
{
	if (r == NULL || atomic_fetch_sub(&r->refs, 1) != 1)
		return 0;
	jx_delete_global(r->ref);
	free(r);
	return 1;
}

jx_host *
jx_host_new(JNIEnv *env, jobject obj)
{
	jx_host *h = jx_ref_new(env, obj);
	if (h != NULL)
		atomic_fetch_add(&jx_live_hosts, 1);
	return h;
}

void
jx_host_discard(jx_host *h)
{
	jx_ref_release(h); /* its only reference */
	atomic_fetch_sub(&jx_live_hosts, 1);
}

static void
host_retain(void *user, void *obj)
{
	jx_ref_retain(obj);
}

static void
host_release(void *user, void *obj)
{
	if (jx_ref_release(obj))
		atomic_fetch_sub(&jx_live_hosts, 1);
}

/* ---- load ------------------------------------------------------------------ */

static jclass
global_class(JNIEnv *env, const char *name)
{
	jclass c = (*env)->FindClass(env, name);
	if (c == NULL)
		return NULL;
	jclass g = (*env)->NewGlobalRef(env, c);
	(*env)->DeleteLocalRef(env, c);
	return g;
}

JNIEXPORT jint JNICALL
JNI_OnLoad(JavaVM *vm, void *reserved)
{
	JNIEnv *env;
	jx_vm = vm;
	if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK)
		return JNI_ERR;
	if (pthread_key_create(&attach_key, detach_at_exit) != 0)
		return JNI_ERR;
	jx_Native = global_class(env, "io/xchan/Native");
	jx_XchanException = global_class(env, "io/xchan/XchanException");
	jx_String = global_class(env, "java/lang/String");
	jx_byteArray = global_class(env, "[B");
	jx_Object = global_class(env, "java/lang/Object");
	jx_CoreExecutor = global_class(env, "io/xchan/CoreExecutor");
	if (!jx_Native || !jx_XchanException || !jx_String || !jx_byteArray ||
	    !jx_Object || !jx_CoreExecutor)
		return JNI_ERR;
	jx_core_run = (*env)->GetStaticMethodID(env, jx_CoreExecutor, "run",
	    "(Ljava/lang/Runnable;)V");
	jx_wake = (*env)->GetStaticMethodID(env, jx_Native, "wake", "(J)V");
	jx_decode = (*env)->GetStaticMethodID(env, jx_Native, "decode",
	    "(IJLjava/lang/Object;)Ljava/lang/Object;");
	jx_step = (*env)->GetStaticMethodID(env, jx_Native, "step",
	    "(Ljava/lang/Object;Ljava/lang/Object;J)I");
	jx_complete = (*env)->GetStaticMethodID(env, jx_Native, "complete",
	    "(Ljava/lang/Object;J)I");
	jx_callback = (*env)->GetStaticMethodID(env, jx_Native, "callback",
	    "(Ljava/lang/Object;ILjava/lang/Object;Ljava/lang/Object;)Ljava/lang/Object;");
	jx_exc_of = (*env)->GetStaticMethodID(env, jx_XchanException, "of",
	    "(ILjava/lang/String;)Lio/xchan/XchanException;");
	if (!jx_wake || !jx_decode || !jx_step || !jx_complete ||
	    !jx_callback || !jx_exc_of || !jx_core_run)
		return JNI_ERR;

	/* The core's threads attach themselves as they start.  A core that
	 * was already initialised (another loader in this process) keeps its
	 * settings; lazy attach (jx_env) still covers its threads. */
	xchan_init_params p = {0};
	p.size = sizeof p;
	p.flags = XCHAN_INIT_NO_ATEXIT;
	p.thread_start = hook_thread_start;
	p.thread_exit = hook_thread_exit;
	(void)xchan_init(&p);

	xchan_runtime rt = {0};
	rt.size = sizeof rt;
	rt.name = "jvm";
	rt.retain = host_retain;
	rt.release = host_release;
	if (xchan_runtime_register(&jx_runtime, &rt) != XCHAN_OK)
		return JNI_ERR;
	return JNI_VERSION_1_8;
}

JNIEXPORT jint JNICALL
Java_io_xchan_Native_libraryVersion(JNIEnv *env, jclass cls)
{
	return xchan_version_number();
}

JNIEXPORT jint JNICALL
Java_io_xchan_Native_headerVersion(JNIEnv *env, jclass cls)
{
	return XCHAN_VERSION_NUMBER;
}

JNIEXPORT jint JNICALL
Java_io_xchan_Native_checkVersion(JNIEnv *env, jclass cls, jint number)
{
	return xchan_check_version(number);
}

/* xchan_shutdown: ESTATE from an xchan thread.  It completes pending ops on
 * this thread (their notifiers call back into Java here). */
JNIEXPORT jint JNICALL
Java_io_xchan_Native_shutdown(JNIEnv *env, jclass cls)
{
	return xchan_shutdown();
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_randomSeed(JNIEnv *env, jclass cls, jlong seed)
{
	xchan_random_seed((uint64_t)seed);
}

JNIEXPORT jstring JNICALL
Java_io_xchan_Native_errName(JNIEnv *env, jclass cls, jint err)
{
	return (*env)->NewStringUTF(env, xchan_err_name(err));
}

JNIEXPORT jstring JNICALL
Java_io_xchan_Native_strerror(JNIEnv *env, jclass cls, jint err)
{
	return (*env)->NewStringUTF(env, xchan_strerror(err));
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_apiHandle(JNIEnv *env, jclass cls)
{
	return JX_LONG(xchan_get_api());
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_liveHostValues(JNIEnv *env, jclass cls)
{
	return atomic_load(&jx_live_hosts);
}

/* Bytes the C heap has in use (glibc's mallinfo2), for the leak tests; -1
 * where unknown. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#include <malloc.h>
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_mallocInUse(JNIEnv *env, jclass cls)
{
	struct mallinfo2 mi = mallinfo2();
	return (jlong)(mi.uordblks + mi.hblkhd);
}
#else
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_mallocInUse(JNIEnv *env, jclass cls)
{
	return -1;
}
#endif
