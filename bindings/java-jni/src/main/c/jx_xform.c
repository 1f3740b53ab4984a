/*
 * jx_xform.c — a Java transducer as an xchan transform.
 *
 * The transform's state holds a shared, reference-counted global ref to the
 * recipe (XfRuntime.Spec) and, once the first step ran, its own XfRuntime.Instance (live
 * step state).  Steps run wherever the core runs them, which is never on a
 * go task's stack (a go task's put runs them on its worker's own stack), so
 * jx_run_java calls Java directly on that thread.  The pipeline's factory (jx_xform_from_spec) only copies the shared ref, so it
 * needs no JVM call on the coordinator task.  No locks: the core serializes
 * one transform's steps.
 */
#include <stdlib.h>

#include "jx.h"

typedef struct jx_xf {
	jx_ref *spec; /* to XfRuntime.Spec */
	jobject
	    inst; /* global ref to XfRuntime.Instance, made by the first call */
} jx_xf;

typedef struct step_args {
	jx_xf *xf;
	xchan_val in; /* nil for complete */
	xchan_emit *emit;
	int complete;
} step_args;

static int32_t
instance(JNIEnv *env, jx_xf *xf)
{
	if (xf->inst != NULL)
		return XCHAN_OK;
	jobject o = (*env)->CallStaticObjectMethod(env, jx_Native, jx_callback,
	    xf->spec->ref, (jint)0 /* Callbacks.INSTANTIATE */, NULL, NULL);
	if (o == NULL || (*env)->ExceptionCheck(env))
		return XCHAN_EXFORM;
	xf->inst = (*env)->NewGlobalRef(env, o);
	(*env)->DeleteLocalRef(env, o);
	return xf->inst ? XCHAN_OK : XCHAN_ENOMEM;
}

static int32_t
step_java(JNIEnv *env, void *arg)
{
	step_args *a = arg;
	jint r;
	if (instance(env, a->xf) != XCHAN_OK) {
		(*env)->ExceptionDescribe(env);
		return XCHAN_STEP_FAILED;
	}
	if (a->complete) {
		r = (*env)->CallStaticIntMethod(env, jx_Native, jx_complete,
		    a->xf->inst, JX_LONG(a->emit));
	} else {
		int32_t err;
		jobject in = jx_val_to_java(env, a->in, &err);
		if (err != XCHAN_OK || (*env)->ExceptionCheck(env)) {
			if ((*env)->ExceptionCheck(env))
				(*env)->ExceptionDescribe(env);
			return XCHAN_STEP_FAILED;
		}
		r = (*env)->CallStaticIntMethod(env, jx_Native, jx_step,
		    a->xf->inst, in, JX_LONG(a->emit));
		(*env)->DeleteLocalRef(env, in);
	}
	if ((*env)->ExceptionCheck(env)) {
		(*env)->ExceptionDescribe(env);
		return XCHAN_STEP_FAILED;
	}
	return r;
}

static int32_t
xf_step(void *state, xchan_val in, xchan_emit *out)
{
	step_args a = {state, in, out, 0};
	int32_t r = jx_run_java(step_java, &a);
	xchan_val_release(in);
	if (r == XCHAN_STEP_FAILED)
		xchan_emit_fail(out, xchan_val_int(XCHAN_EXFORM));
	return r;
}

static int32_t
xf_complete(void *state, xchan_emit *out)
{
	step_args a = {state, xchan_val_nil(), out, 1};
	int32_t r = jx_run_java(step_java, &a);
	if (r == XCHAN_STEP_FAILED)
		xchan_emit_fail(out, xchan_val_int(XCHAN_EXFORM));
	return r;
}

static void
xf_destroy(void *state)
{
	jx_xf *xf = state;
	jx_delete_global(xf->inst);
	jx_ref_release(xf->spec);
	free(xf);
}

static const xchan_xform_vtbl jx_xf_vtbl = {sizeof(xchan_xform_vtbl), 0,
    xf_step, xf_complete, xf_destroy};

/* A new transform of the shared recipe `s` (used by pipelines too). */
int32_t
jx_xform_from_spec(xchan_xform **out, jx_ref *spec)
{
	jx_xf *xf = calloc(1, sizeof *xf);
	if (xf == NULL)
		return XCHAN_ENOMEM;
	xf->spec = jx_ref_retain(spec);
	return xchan_xform_new(out, &jx_xf_vtbl, xf); /* destroys on error */
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_xformNew(JNIEnv *env, jclass cls, jobject spec)
{
	jx_ref *s = jx_ref_new(env, spec);
	if (s == NULL) {
		jx_throw(env, XCHAN_ENOMEM, "transducer");
		return 0;
	}
	xchan_xform *xf = NULL;
	int32_t err = jx_xform_from_spec(&xf, s);
	jx_ref_release(s);
	if (err != XCHAN_OK)
		jx_throw(env, err, "transducer");
	return JX_LONG(xf);
}

JNIEXPORT jint JNICALL
Java_io_xchan_Native_emitPush(JNIEnv *env, jclass cls, jlong emit, jint kind,
    jlong bits, jobject ref, jbyteArray data)
{
	xchan_val v;
	int32_t err = jx_val_from_java(env, &v, kind, bits, ref, data);
	if (err != XCHAN_OK) {
		jx_throw(env, err, "transducer output");
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(JX_PTR(emit), v);
}
