/*
 * jx_exec.c — the core's executors for Java (io.xchan.CoreExecutor).
 * When XCHAN_EXECUTOR_FACTORY names a C executor factory, Xchan.executorFor
 * hands Java's go/thread/ioThread/execute to the core's executor of the
 * workload (xchan_executor_for loads the factory, applies its DISPATCH ->
 * MIXED fallback and its defaults), so the process has one set of
 * executors.
 *
 * A submitted Runnable travels as a JNI global ref: xchan_execute(ex,
 * run_task, ref).  run_task runs on a thread of the executor (the
 * factory's, or the core's own): it attaches the thread to the JVM as a
 * daemon under the thread's OS name (kept for the thread's life and
 * detached when it exits: jx_load.c's attach cache, or the core's
 * thread_exit hook for xchan's own threads), calls CoreExecutor.run (which
 * gives a Throwable to the thread's uncaught-exception handler, as a JVM
 * executor's thread does), then deletes the ref.  A refused submit deletes
 * the ref at once and returns the core's error to Java.  Once the JVM
 * began to exit (its shutdown hooks run) a submit is refused with
 * XCHAN_ESHUTDOWN: the task could not enter the JVM, and a caller in a
 * shutdown hook gets the error instead of waiting for a result that never
 * comes.  A task submitted just before and run after that point is dropped
 * (its ref goes with the JVM).
 *
 * No state of its own, no locks.  Executors are borrowed from the core and
 * never freed (they live until the process ends; after xchan_shutdown
 * xchan_execute refuses with XCHAN_ESHUTDOWN).
 */
#include <stdio.h>
#include <stdlib.h>

#include "jx.h"

static int32_t
call_run(JNIEnv *env, void *ref)
{
	(*env)->CallStaticVoidMethod(env, jx_CoreExecutor, jx_core_run,
	    (jobject)ref);
	return XCHAN_OK;
}

static void
run_task(void *ref)
{
	if (jx_env_named() == NULL)
		return; /* the JVM is exiting: no Java runs any more */
	(void)jx_run_java(call_run, ref);
	jx_delete_global(ref);
}

/* Native.coreExecutorFor(workload): the core's executor (xchan_executor
 * *) as a long; throws XchanException (ELOAD naming the variable) on an
 * error. */
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_coreExecutorFor(JNIEnv *env, jclass cls, jint workload)
{
	xchan_executor *ex = NULL;
	int32_t err = xchan_executor_for(&ex, (uint32_t)workload);
	if (err == XCHAN_OK)
		return JX_LONG(ex);
	char msg[1400];
	const char *spec = getenv("XCHAN_EXECUTOR_FACTORY");
	if (err == XCHAN_ELOAD && spec != NULL)
		snprintf(msg, sizeof msg,
		    "XCHAN_EXECUTOR_FACTORY=\"%.1200s\": the core cannot load "
		    "this executor factory (its library or symbol; the core's "
		    "log says which and why)",
		    spec);
	else
		snprintf(msg, sizeof msg,
		    "the core's executor for workload %d: %s", (int)workload,
		    xchan_strerror(err));
	jx_throw(env, err, msg);
	return 0;
}

/* Native.coreExecute(executor, task): submits task; returns XCHAN_OK or the
 * executor's refusal (nothing submitted then). */
JNIEXPORT jint JNICALL
Java_io_xchan_Native_coreExecute(JNIEnv *env, jclass cls, jlong executor,
    jobject task)
{
	if (executor == 0 || task == NULL)
		return XCHAN_EINVAL;
	if (jx_vm_is_exiting())
		return XCHAN_ESHUTDOWN; /* run_task could not run it */
	jobject ref = (*env)->NewGlobalRef(env, task);
	if (ref == NULL)
		return XCHAN_ENOMEM;
	int32_t err = xchan_execute(JX_PTR(executor), run_task, ref);
	if (err != XCHAN_OK)
		(*env)->DeleteGlobalRef(env, ref);
	return err;
}
