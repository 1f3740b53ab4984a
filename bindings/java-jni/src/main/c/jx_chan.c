/*
 * jx_chan.c — channel natives: create, close, release, and the try/register/
 * collect/cancel steps that Java's blocking put, take and alts are built of.
 *
 * No entry point waits.  A put or take first tries (offer/poll); if it cannot
 * complete, it registers an async op in notify mode whose notifier
 * (jx_notify) calls Native.wake(token) so that the parked Java thread runs
 * again and collects.  A pending op is a `jx_pending` that Java holds as a
 * long and frees with pendingFree; for alts it keeps the clause values,
 * since every put value but the winner's stays ours.
 *
 * The io array (long[4]) carries results back to Java:
 *   io[0] error code (0 OK; EAGAIN: not completed / registered)
 *   io[1] value kind, io[2] scalar bits or the pending handle, io[3] alts index.
 */
#include <stdlib.h>
#include <string.h>

#include "jx.h"

typedef struct jx_pending {
	xchan_op *op;
	size_t n; /* alts clauses kept here; 0 for put and take */
	xchan_clause cl[];
} jx_pending;

static void
jx_notify(void *user, xchan_result *r)
{
	JNIEnv *env = jx_env();
	if (env == NULL)
		return; /* the JVM is gone; nobody is waiting any more */
	(*env)->CallStaticVoidMethod(env, jx_Native, jx_wake,
	    (jlong)(intptr_t)user);
	if ((*env)->ExceptionCheck(env))
		(*env)->ExceptionClear(env);
}

static void
set_io(JNIEnv *env, jlongArray io, jlong err, jlong kind, jlong bits, jlong idx)
{
	jlong v[4] = {err, kind, bits, idx};
	(*env)->SetLongArrayRegion(env, io, 0, 4, v);
}

/* Moves `v` to Java: scalars through io, reference kinds as the returned
 * object.  Releases v.  An ERUNTIME value is released and reported. */
static jobject
give(JNIEnv *env, xchan_val v, jlongArray io, jlong err, jlong idx)
{
	jobject o = NULL;
	jlong bits = 0;
	switch (v.kind) {
	case XCHAN_NIL:
		break;
	case XCHAN_BOOL:
	case XCHAN_INT:
	case XCHAN_DOUBLE:
		memcpy(&bits, &v.bits, sizeof bits);
		break;
	default: {
		int32_t e;
		o = jx_val_to_java(env, v, &e);
		if (e != XCHAN_OK) {
			xchan_val_release(v);
			set_io(env, io, e, 0, 0, idx);
			return NULL;
		}
	}
	}
	set_io(env, io, err, v.kind, bits, idx);
	xchan_val_release(v);
	return o;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_chanNew(JNIEnv *env, jclass cls, jint buf_kind,
    jlong capacity, jlong xform, jint max_pending)
{
	xchan_chan_opts o = {0};
	o.size = sizeof o;
	o.buf_kind = (uint32_t)buf_kind;
	o.capacity = (uint64_t)capacity;
	o.xform = JX_PTR(xform);
	o.max_pending = (uint32_t)max_pending;
	xchan_chan *ch = NULL;
	int32_t err = xchan_chan_new(&ch, &o);
	if (err != XCHAN_OK) {
		jx_throw(env, err, "cannot create the channel");
		return 0;
	}
	return JX_LONG(ch);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_timeout(JNIEnv *env, jclass cls, jlong ms)
{
	xchan_chan *ch = NULL;
	int32_t err = xchan_timeout(&ch, ms);
	if (err != XCHAN_OK)
		jx_throw(env, err, "cannot create the timeout channel");
	return JX_LONG(ch);
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_chanRetain(JNIEnv *env, jclass cls, jlong ch)
{
	xchan_chan_retain(JX_PTR(ch));
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_chanRelease(JNIEnv *env, jclass cls, jlong ch)
{
	xchan_chan_release(JX_PTR(ch));
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_chanClose(JNIEnv *env, jclass cls, jlong ch)
{
	xchan_chan_close(JX_PTR(ch));
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_chanInfo(JNIEnv *env, jclass cls, jlong ch, jlongArray out)
{
	xchan_chan_info i = {0};
	i.size = sizeof i;
	int32_t err = xchan_chan_info_get(&i, JX_PTR(ch));
	if (err != XCHAN_OK) {
		jx_throw(env, err, "chan info");
		return;
	}
	jlong v[8] = {i.buf_kind, (jlong)i.capacity, (jlong)i.count, i.closed,
	    i.pending_puts, i.pending_takes, i.max_pending, (jlong)i.id};
	(*env)->SetLongArrayRegion(env, out, 0, 8, v);
}

/* take: poll, then (token != 0) register. */
JNIEXPORT jobject JNICALL
Java_io_xchan_Native_takeTry(JNIEnv *env, jclass cls, jlong ch, jlong token,
    jlongArray io)
{
	xchan_val v;
	int32_t err = xchan_poll(&v, JX_PTR(ch));
	if (err == XCHAN_OK)
		return give(env, v, io, XCHAN_OK, -1);
	if (err != XCHAN_EAGAIN || token == 0) {
		set_io(env, io, err, 0, 0, -1);
		return NULL;
	}
	jx_pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		jx_throw(env, XCHAN_ENOMEM, "take");
		return NULL;
	}
	err = xchan_take_async(&p->op, JX_PTR(ch), XCHAN_ASYNC_NOTIFY,
	    jx_notify, JX_PTR(token));
	if (err != XCHAN_OK) {
		free(p);
		jx_throw(env, err, "take");
		return NULL;
	}
	set_io(env, io, XCHAN_EAGAIN, 0, JX_LONG(p), -1);
	return NULL;
}

/* put: offer, then (token != 0) register.  Returns the error code. */
JNIEXPORT jint JNICALL
Java_io_xchan_Native_putTry(JNIEnv *env, jclass cls, jlong ch, jint kind,
    jlong bits, jobject ref, jbyteArray data, jlong token, jlongArray io)
{
	xchan_val v;
	int32_t err = jx_val_from_java(env, &v, kind, bits, ref, data);
	if (err != XCHAN_OK) {
		jx_throw(env, err, "put: cannot convert the value");
		return err;
	}
	err = xchan_offer(JX_PTR(ch), v);
	if (err == XCHAN_OK)
		return err;
	if (err != XCHAN_EAGAIN || token == 0) {
		xchan_val_release(v);
		if (err != XCHAN_EAGAIN && err != XCHAN_ECLOSED)
			jx_throw(env, err, "put");
		return err;
	}
	jx_pending *p = calloc(1, sizeof *p);
	if (p == NULL) {
		xchan_val_release(v);
		jx_throw(env, XCHAN_ENOMEM, "put");
		return XCHAN_ENOMEM;
	}
	err = xchan_put_async(&p->op, JX_PTR(ch), v, XCHAN_ASYNC_NOTIFY,
	    jx_notify, JX_PTR(token));
	if (err != XCHAN_OK) {
		free(p);
		xchan_val_release(v);
		jx_throw(env, err, "put");
		return err;
	}
	set_io(env, io, XCHAN_EAGAIN, 0, JX_LONG(p), -1);
	return XCHAN_EAGAIN;
}

/* Delivers a completed result to Java and releases what is ours. */
static jobject
deliver(JNIEnv *env, jx_pending *p, xchan_result *r, jlongArray io)
{
	for (size_t i = 0; i < p->n; i++) {
		/* Alts put values: only a winning OK put moved its value. */
		if (p->cl[i].op == XCHAN_ALT_PUT &&
		    !((int32_t)i == r->index && r->err == XCHAN_OK))
			xchan_val_release(p->cl[i].val);
		p->cl[i].val = xchan_val_nil();
	}
	p->n = 0;
	if (r->err == XCHAN_OK || r->err == XCHAN_ECLOSED)
		return give(env, r->val, io, r->err, r->index);
	/* A put handed back (canceled, closed): the value is ours to drop. */
	xchan_val_release(r->val);
	set_io(env, io, r->err, 0, 0, r->index);
	return NULL;
}

JNIEXPORT jobject JNICALL
Java_io_xchan_Native_collect(JNIEnv *env, jclass cls, jlong pending,
    jlongArray io)
{
	jx_pending *p = JX_PTR(pending);
	xchan_result r;
	int32_t err = xchan_op_collect(p->op, &r);
	if (err != XCHAN_OK) {
		set_io(env, io, err == XCHAN_EAGAIN ? XCHAN_EAGAIN : err, 0, 0,
		    -1);
		return NULL;
	}
	return deliver(env, p, &r, io);
}

/* Cancel-or-collect: io[0] is ECANCELED when the cancel won, else the
 * completed result is delivered. */
JNIEXPORT jobject JNICALL
Java_io_xchan_Native_cancel(JNIEnv *env, jclass cls, jlong pending,
    jlongArray io)
{
	jx_pending *p = JX_PTR(pending);
	xchan_result r;
	int32_t err = xchan_op_cancel_ex(p->op, &r);
	if (err == XCHAN_EDONE) /* delivered already: collect it */
		err = xchan_op_collect(p->op, &r);
	if (err != XCHAN_OK) {
		set_io(env, io, XCHAN_EINTERNAL, 0, 0, -1);
		return NULL;
	}
	return deliver(env, p, &r, io);
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_pendingFree(JNIEnv *env, jclass cls, jlong pending)
{
	jx_pending *p = JX_PTR(pending);
	for (size_t i = 0; i < p->n; i++)
		if (p->cl[i].op == XCHAN_ALT_PUT)
			xchan_val_release(p->cl[i].val);
	xchan_op_release(p->op);
	free(p);
}

/* alts: chans[i], ops[i] (1 take, 2 put), put values as (kinds, bits, refs,
 * datas).  flags: XCHAN_ALTS_PRIORITY.  token == 0: poll only (default).
 * timeout_ns >= 0: the registered op's deadline, kept by the core's timer
 * (its result is then ETIMEDOUT, index -1); < 0: none.
 * Returns the taken value; io as for collect (io[3] the index). */
JNIEXPORT jobject JNICALL
Java_io_xchan_Native_altsTry(JNIEnv *env, jclass cls, jlongArray chans,
    jintArray ops, jintArray kinds, jlongArray bitss, jobjectArray refs,
    jobjectArray datas, jint flags, jlong token, jlong timeout_ns,
    jlongArray io)
{
	jsize n = (*env)->GetArrayLength(env, chans);
	jx_pending *p = calloc(1, sizeof *p + (size_t)n * sizeof(xchan_clause));
	if (p == NULL) {
		jx_throw(env, XCHAN_ENOMEM, "alts");
		return NULL;
	}
	jlong *ch = (*env)->GetLongArrayElements(env, chans, NULL);
	jint *op = (*env)->GetIntArrayElements(env, ops, NULL);
	jint *kd = (*env)->GetIntArrayElements(env, kinds, NULL);
	jlong *bt = (*env)->GetLongArrayElements(env, bitss, NULL);
	int32_t err = XCHAN_OK;
	for (jsize i = 0; i < n && err == XCHAN_OK; i++) {
		p->cl[i].op = (uint32_t)op[i];
		p->cl[i].chan = JX_PTR(ch[i]);
		p->n = (size_t)i + 1;
		if (op[i] == XCHAN_ALT_PUT) {
			jobject r = (*env)->GetObjectArrayElement(env, refs, i);
			jobject d =
			    (*env)->GetObjectArrayElement(env, datas, i);
			err = jx_val_from_java(env, &p->cl[i].val, kd[i], bt[i],
			    r, d);
			(*env)->DeleteLocalRef(env, r);
			(*env)->DeleteLocalRef(env, d);
		}
	}
	(*env)->ReleaseLongArrayElements(env, chans, ch, JNI_ABORT);
	(*env)->ReleaseIntArrayElements(env, ops, op, JNI_ABORT);
	(*env)->ReleaseIntArrayElements(env, kinds, kd, JNI_ABORT);
	(*env)->ReleaseLongArrayElements(env, bitss, bt, JNI_ABORT);
	xchan_result r;
	if (err == XCHAN_OK)
		err = xchan_alts(&r, p->cl, p->n, (uint32_t)flags,
		    XCHAN_DEADLINE_POLL);
	if (err == XCHAN_OK || err == XCHAN_ECLOSED) {
		jobject o = deliver(env, p, &r, io);
		free(p);
		return o;
	}
	if (err == XCHAN_EAGAIN && token != 0)
		err = xchan_alts_async(&p->op, p->cl, p->n,
		    (uint32_t)flags | XCHAN_ASYNC_NOTIFY,
		    timeout_ns < 0 ? XCHAN_DEADLINE_NEVER
		                   : xchan_deadline_in_ns(timeout_ns),
		    jx_notify, JX_PTR(token));
	if (err == XCHAN_OK) {
		set_io(env, io, XCHAN_EAGAIN, 0, JX_LONG(p), -1);
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->cl[i].op == XCHAN_ALT_PUT)
			xchan_val_release(p->cl[i].val);
	free(p);
	if (err == XCHAN_EAGAIN)
		set_io(env, io, XCHAN_EAGAIN, 0, 0, -1);
	else
		jx_throw(env, err, "alts");
	return NULL;
}

/* xchan_op_state_get of a pending op (an xchan_op_state). */
JNIEXPORT jint JNICALL
Java_io_xchan_Native_opState(JNIEnv *env, jclass cls, jlong pending)
{
	jx_pending *p = JX_PTR(pending);
	return xchan_op_state_get(p->op);
}
