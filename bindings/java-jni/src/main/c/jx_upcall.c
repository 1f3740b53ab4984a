/*
 * jx_upcall.c — running Java for code that is on a go task's stack.
 *
 * The JVM must not run on a go task's small coroutine stack, yet combinator
 * callbacks and transform steps reached from the core's go tasks are Java
 * code.  jx_run_java() calls directly when the caller is on an ordinary
 * thread stack; on a go stack it puts a request on the service channel
 * (parking the task, not blocking its worker) and takes from the request's
 * own channel, which the service closes when done.  Service threads are
 * Java platform daemon threads (Upcalls.java) that wait in xchan_take on the
 * service channel inside native code, which is fine for platform threads.
 *
 * Invariant: a request lives on the go task's stack until its done channel
 * closes; the service touches it only before closing that channel.
 */
#include <pthread.h>
#include <stdlib.h>

#include "jx.h"

typedef struct request {
	jx_java_fn fn;
	void *arg;
	int32_t result;
	xchan_chan *done;
} request;

static xchan_chan *g_service;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void
make_service(void)
{
	xchan_chan_make(&g_service, XCHAN_BUF_NONE, 0);
}

int32_t
jx_run_java(jx_java_fn fn, void *arg)
{
	if (!xchan_in_go()) {
		JNIEnv *env = jx_env();
		if (env == NULL)
			return XCHAN_ESHUTDOWN;
		/* A thread attached for good frees local refs only at detach:
		 * scope them. */
		if ((*env)->PushLocalFrame(env, 16) != 0)
			return XCHAN_ENOMEM;
		int32_t r = fn(env, arg);
		if ((*env)->ExceptionCheck(env))
			(*env)->ExceptionDescribe(env);
		(*env)->PopLocalFrame(env, NULL);
		return r;
	}
	pthread_once(&g_once, make_service);
	request req = {fn, arg, XCHAN_ESHUTDOWN, NULL};
	if (g_service == NULL ||
	    xchan_chan_make(&req.done, XCHAN_BUF_NONE, 0) != XCHAN_OK)
		return XCHAN_ENOMEM;
	xchan_val box;
	int32_t err = xchan_val_box(&box, &req, NULL);
	if (err == XCHAN_OK)
		err = xchan_put(g_service, box, XCHAN_DEADLINE_NEVER);
	if (err == XCHAN_OK) {
		xchan_val none;
		xchan_take(&none, req.done, XCHAN_DEADLINE_NEVER);
		xchan_val_release(none);
	} else {
		xchan_val_release(box);
		req.result = err;
	}
	xchan_chan_release(req.done);
	return req.result;
}

/* Body of a service thread (Upcalls.java): serves until the JVM exits. */
JNIEXPORT void JNICALL
Java_io_xchan_Native_upcallServe(JNIEnv *env, jclass cls)
{
	pthread_once(&g_once, make_service);
	if (g_service == NULL)
		return;
	for (;;) {
		xchan_val v;
		if (xchan_take(&v, g_service, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			return;
		void *p = NULL;
		xchan_get_box(v, &p);
		request *req = p;
		if ((*env)->PushLocalFrame(env, 16) == 0) {
			req->result = req->fn(env, req->arg);
			if ((*env)->ExceptionCheck(env))
				(*env)->ExceptionDescribe(env);
			(*env)->PopLocalFrame(env, NULL);
		} else {
			req->result = XCHAN_ENOMEM;
		}
		xchan_chan *done = req->done; /* req dies once done closes */
		xchan_val_release(v);
		xchan_chan_close(done);
	}
}
