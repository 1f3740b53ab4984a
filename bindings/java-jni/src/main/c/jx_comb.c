/*
 * jx_comb.c — the core's combinators (xchan_combinators.h) for Java.
 *
 * Channel-only combinators (pipe, mult, mix, merge, take, into, onto, to)
 * are thin wrappers.  Those that call Java functions (pipeline*, pub's
 * topic, split, map, reduce, transduce) pass a jx_ref (jx.h): a counted
 * global ref to the Java function.  The core calls it from a go task's
 * worker, on the worker thread's own stack (comb_user.c), so jx_run_java
 * calls Java directly there.  The core uses the function until the
 * combinator's done channel closes; a callback registered on that channel
 * then drops our reference.  No locks.
 */
#include <stdlib.h>
#include <string.h>

#include "jx.h"

int32_t jx_xform_from_spec(xchan_xform **out, jx_ref *spec);

enum {
	CB_INSTANTIATE = 0,
	CB_PREDICATE = 1,
	CB_FUNCTION = 2,
	CB_REDUCE = 3,
	CB_ASYNC = 4,
	CB_MAPN = 5
};

static jfieldID f_kind, f_bits, f_ref, f_data, f_reduced;
static jclass c_Enc;

static int
enc_fields(JNIEnv *env)
{
	if (c_Enc != NULL)
		return 1;
	jclass c = (*env)->FindClass(env, "io/xchan/Native$Enc");
	if (c == NULL)
		return 0;
	f_kind = (*env)->GetFieldID(env, c, "kind", "I");
	f_bits = (*env)->GetFieldID(env, c, "bits", "J");
	f_ref = (*env)->GetFieldID(env, c, "ref", "Ljava/lang/Object;");
	f_data = (*env)->GetFieldID(env, c, "data", "[B");
	f_reduced = (*env)->GetFieldID(env, c, "reduced", "Z");
	c_Enc = (*env)->NewGlobalRef(env, c);
	return c_Enc != NULL;
}

/* A done-channel callback dropping a jx_ref: a function or a spec. */
static void
release_on_done_cb(void *user, xchan_result *r)
{
	jx_ref_release(user);
}

/* Drops `user` with `drop` once `done` closes (the core is done with it). */
static void
after_done(xchan_chan *done, xchan_callback drop, void *user)
{
	if (xchan_take_async(NULL, done, 0, drop, user) != XCHAN_OK)
		drop(user, NULL); /* cannot watch: the process already ended */
}

/* Hands `done` (a reference the caller owns) to Java in out[i]. */
static void
give_done(JNIEnv *env, jlongArray out, jsize i, xchan_chan *done)
{
	jlong d = JX_LONG(done);
	(*env)->SetLongArrayRegion(env, out, i, 1, &d);
}

/* ---- calling a Java function with xchan values ----------------------------- */

typedef struct call_args {
	jobject fn;
	int what;
	const xchan_val *a; /* CB_MAPN: na values */
	size_t na;
	const xchan_val *b;
	xchan_val out;
	int failed, reduced;
} call_args;

static jobject
to_java(JNIEnv *env, const xchan_val *v, int *failed)
{
	if (v == NULL || v->kind == XCHAN_NIL)
		return NULL;
	int32_t err;
	jobject o = jx_val_to_java(env, *v, &err);
	if (err != XCHAN_OK || (*env)->ExceptionCheck(env))
		*failed = 1;
	return o;
}

static int32_t
call_java(JNIEnv *env, void *arg)
{
	call_args *c = arg;
	jobject a = NULL, b = NULL;
	c->failed = 0;
	if (!enc_fields(env)) {
		c->failed = 1;
		return XCHAN_EINTERNAL;
	}
	if (c->what == CB_MAPN) {
		a = (*env)->NewObjectArray(env, (jsize)c->na, jx_Object, NULL);
		for (size_t i = 0; a != NULL && i < c->na && !c->failed; i++) {
			jobject o = to_java(env, &c->a[i], &c->failed);
			(*env)->SetObjectArrayElement(env, a, (jsize)i, o);
		}
	} else {
		a = to_java(env, c->a, &c->failed);
		b = to_java(env, c->b, &c->failed);
	}
	if (c->failed)
		return XCHAN_EINTERNAL;
	jobject r = (*env)->CallStaticObjectMethod(env, jx_Native, jx_callback,
	    c->fn, (jint)c->what, a, b);
	if ((*env)->ExceptionCheck(env) || r == NULL) {
		c->failed = (*env)->ExceptionCheck(env);
		c->out = xchan_val_nil();
		return XCHAN_OK;
	}
	if (!(*env)->IsInstanceOf(env, r, c_Enc)) { /* Callbacks.Failed */
		c->failed = 1;
		return XCHAN_OK;
	}
	jint kind = (*env)->GetIntField(env, r, f_kind);
	jlong bits = (*env)->GetLongField(env, r, f_bits);
	jobject ref = (*env)->GetObjectField(env, r, f_ref);
	jobject data = (*env)->GetObjectField(env, r, f_data);
	c->reduced = (*env)->GetBooleanField(env, r, f_reduced);
	if (kind == XCHAN_NIL)
		c->out = xchan_val_nil();
	else if (jx_val_from_java(env, &c->out, kind, bits, ref, data) !=
	         XCHAN_OK)
		c->failed = 1;
	return XCHAN_OK;
}

static xchan_val
call1(jx_ref *f, int what, const xchan_val *a, const xchan_val *b, int *failed,
    int *reduced)
{
	call_args c = {f->ref, what, a, 1, b, {0, 0, 0}, 0, 0};
	if (jx_run_java(call_java, &c) != XCHAN_OK)
		c.failed = 1;
	*failed = c.failed;
	if (reduced)
		*reduced = c.reduced;
	return c.out;
}

static int32_t
pred_cb(void *user, xchan_val in)
{
	int failed;
	xchan_val r = call1(user, CB_PREDICATE, &in, NULL, &failed, NULL);
	int32_t b = 0;
	if (!failed)
		xchan_get_bool(r, &b);
	xchan_val_release(r);
	return b;
}

static xchan_val
fn_cb(void *user, xchan_val in)
{
	int failed;
	return call1(user, CB_FUNCTION, &in, NULL, &failed, NULL);
}

static xchan_val
mapn_cb(void *user, const xchan_val *vals, size_t n)
{
	jx_ref *f = user;
	call_args c = {f->ref, CB_MAPN, vals, n, NULL, {0, 0, 0}, 0, 0};
	if (jx_run_java(call_java, &c) != XCHAN_OK || c.failed)
		return xchan_val_nil();
	return c.out;
}

static int32_t
reduce_cb(void *user, xchan_val *out_acc, xchan_val acc, xchan_val in)
{
	int failed, reduced;
	*out_acc = call1(user, CB_REDUCE, &acc, &in, &failed, &reduced);
	xchan_val_release(acc);
	xchan_val_release(in);
	if (failed) {
		xchan_val_release(*out_acc);
		*out_acc = xchan_val_nil();
		return XCHAN_STEP_FAILED;
	}
	return reduced ? XCHAN_STEP_REDUCED : XCHAN_STEP_CONTINUE;
}

typedef struct async_args {
	jobject fn;
	xchan_val in;
	xchan_chan *result;
} async_args;

static int32_t
async_java(JNIEnv *env, void *arg)
{
	async_args *a = arg;
	int32_t err;
	jobject in = jx_val_to_java(env, a->in, &err);
	if (err != XCHAN_OK || (*env)->ExceptionCheck(env))
		return XCHAN_EINTERNAL;
	/* The Java Chan takes over the result channel's reference. */
	jobject res = (*env)->CallStaticObjectMethod(env, jx_Native, jx_decode,
	    (jint)XCHAN_CHAN, JX_LONG(a->result), NULL);
	if (res == NULL)
		return XCHAN_EINTERNAL;
	a->result = NULL;
	(*env)->CallStaticObjectMethod(env, jx_Native, jx_callback, a->fn,
	    (jint)CB_ASYNC, in, res);
	return XCHAN_OK;
}

static void
async_cb(void *user, xchan_val in, xchan_chan *result)
{
	jx_ref *f = user;
	async_args a = {f->ref, in, result};
	jx_run_java(async_java, &a);
	xchan_val_release(in);
	if (a.result != NULL) { /* Java never got it: finish it here */
		xchan_chan_close(a.result);
		xchan_chan_release(a.result);
	}
}

/* ---- helpers ------------------------------------------------------------------ */

static int32_t
chan_opts(xchan_chan_opts *o, jint kind, jlong cap)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	o->buf_kind = (uint32_t)kind;
	o->capacity = (uint64_t)cap;
	return XCHAN_OK;
}

static jlong
fail(JNIEnv *env, int32_t err, const char *what)
{
	jx_throw(env, err, what);
	return 0;
}

/* Builds n values from Java's encoded arrays (as altsTry).  On error the
 * values made so far are released. */
static int32_t
vals_from_java(JNIEnv *env, xchan_val **out, jintArray kinds, jlongArray bitss,
    jobjectArray refs, jobjectArray datas, jsize *n_out)
{
	jsize n = (*env)->GetArrayLength(env, kinds);
	xchan_val *v = calloc(n ? (size_t)n : 1, sizeof *v);
	if (v == NULL)
		return XCHAN_ENOMEM;
	int32_t err =
	    jx_vals_from_java(env, v, n, kinds, bitss, refs, datas, 0);
	if (err != XCHAN_OK) {
		free(v);
		return err;
	}
	*out = v;
	*n_out = n;
	return XCHAN_OK;
}

#define CH(x) ((xchan_chan *)JX_PTR(x))

/* ---- pipe, pipelines ------------------------------------------------------------ */

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_pipe(JNIEnv *env, jclass cls, jlong from, jlong to,
    jboolean close)
{
	xchan_chan *done;
	int32_t err = xchan_pipe(&done, CH(from), CH(to), close);
	return err ? fail(env, err, "pipe") : JX_LONG(done);
}

static int32_t
spec_factory(void *user, xchan_xform **out)
{
	return jx_xform_from_spec(out, user);
}

/* mode 0: pipeline, 1: pipeline_blocking */
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_pipeline(JNIEnv *env, jclass cls, jint mode, jint n,
    jlong to, jobject spec, jlong from, jboolean close)
{
	jx_ref *s = jx_ref_new(env, spec);
	if (s == NULL)
		return fail(env, XCHAN_ENOMEM, "pipeline");
	xchan_chan *done;
	int32_t err =
	    (mode == 0 ? xchan_pipeline : xchan_pipeline_blocking)(&done,
	        (uint32_t)n, CH(to), CH(from), close, spec_factory, s, NULL);
	if (err != XCHAN_OK) {
		jx_ref_release(s);
		return fail(env, err, "pipeline");
	}
	after_done(done, release_on_done_cb, s);
	return JX_LONG(done);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_pipelineAsync(JNIEnv *env, jclass cls, jint n, jlong to,
    jobject af, jlong from, jboolean close)
{
	jx_ref *f = jx_ref_new(env, af);
	if (f == NULL)
		return fail(env, XCHAN_ENOMEM, "pipelineAsync");
	xchan_chan *done;
	int32_t err = xchan_pipeline_async(&done, (uint32_t)n, CH(to), CH(from),
	    close, async_cb, f, NULL);
	if (err != XCHAN_OK) {
		jx_ref_release(f);
		return fail(env, err, "pipelineAsync");
	}
	after_done(done, release_on_done_cb, f);
	return JX_LONG(done);
}

/* ---- mult ------------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_multNew(JNIEnv *env, jclass cls, jlong src,
    jlongArray out_done)
{
	xchan_mult *m;
	xchan_chan *done;
	int32_t err = xchan_mult_new(&m, &done, CH(src));
	if (err != XCHAN_OK)
		return fail(env, err, "mult");
	give_done(env, out_done, 0, done);
	return JX_LONG(m);
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_multTap(JNIEnv *env, jclass cls, jlong m, jlong ch,
    jboolean close)
{
	int32_t err = xchan_mult_tap(JX_PTR(m), CH(ch), close);
	if (err)
		fail(env, err, "tap");
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_multUntap(JNIEnv *env, jclass cls, jlong m, jlong ch)
{
	if (ch == 0)
		xchan_mult_untap_all(JX_PTR(m));
	else
		xchan_mult_untap(JX_PTR(m), CH(ch));
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_multRelease(JNIEnv *env, jclass cls, jlong m)
{
	xchan_mult_release(JX_PTR(m));
}

/* ---- pub/sub ------------------------------------------------------------------------ */

static _Thread_local struct {
	uint32_t kind;
	uint64_t cap;
} t_sub_buf;

static int32_t
sub_buf_cb(void *user, uint32_t *kind, uint64_t *cap, xchan_val topic)
{
	*kind = t_sub_buf.kind;
	*cap = t_sub_buf.cap;
	return XCHAN_OK;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_pubNew(JNIEnv *env, jclass cls, jlong src,
    jobject topic_fn, jlongArray out_done)
{
	jx_ref *f = jx_ref_new(env, topic_fn);
	if (f == NULL)
		return fail(env, XCHAN_ENOMEM, "pub");
	xchan_pub *p;
	xchan_chan *done;
	int32_t err =
	    xchan_pub_new(&p, &done, CH(src), fn_cb, f, sub_buf_cb, NULL);
	if (err != XCHAN_OK) {
		jx_ref_release(f);
		return fail(env, err, "pub");
	}
	after_done(done, release_on_done_cb, f);
	give_done(env, out_done, 0, done);
	return JX_LONG(p);
}

/* op 0: sub, 1: unsub, 2: unsub topic, 3: unsub all */
JNIEXPORT void JNICALL
Java_io_xchan_Native_pubCtl(JNIEnv *env, jclass cls, jlong p, jint op,
    jint kind, jlong bits, jobject ref, jbyteArray data, jlong ch,
    jboolean close, jint buf_kind, jlong cap)
{
	xchan_val topic = xchan_val_nil();
	int32_t err = XCHAN_OK;
	if (op != 3)
		err = jx_val_from_java(env, &topic, kind, bits, ref, data);
	if (err == XCHAN_OK) {
		switch (op) {
		case 0:
			t_sub_buf.kind = (uint32_t)buf_kind;
			t_sub_buf.cap = (uint64_t)cap;
			err = xchan_pub_sub(JX_PTR(p), topic, CH(ch), close);
			break;
		case 1:
			err = xchan_pub_unsub(JX_PTR(p), topic, CH(ch));
			break;
		case 2:
			err = xchan_pub_unsub_topic(JX_PTR(p), topic);
			break;
		default:
			err = xchan_pub_unsub_all(JX_PTR(p));
		}
	}
	xchan_val_release(topic);
	if (err)
		fail(env, err, "pub");
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_pubRelease(JNIEnv *env, jclass cls, jlong p)
{
	xchan_pub_release(JX_PTR(p));
}

/* ---- mix ----------------------------------------------------------------------------- */

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_mixNew(JNIEnv *env, jclass cls, jlong out,
    jlongArray out_done)
{
	xchan_mix *m;
	xchan_chan *done;
	int32_t err = xchan_mix_new(&m, &done, CH(out));
	if (err != XCHAN_OK)
		return fail(env, err, "mix");
	give_done(env, out_done, 0, done);
	return JX_LONG(m);
}

/* op 0: admix, 1: unmix, 2: unmix all, 3: toggle(mask, flags),
 * 4: solo mode(mask), 5: get -> flags */
JNIEXPORT jint JNICALL
Java_io_xchan_Native_mixCtl(JNIEnv *env, jclass cls, jlong m, jint op, jlong ch,
    jint mask, jint flags)
{
	int32_t err;
	uint32_t got = 0;
	xchan_mix_toggle_entry e = {CH(ch), (uint32_t)mask, (uint32_t)flags};
	switch (op) {
	case 0:
		err = xchan_mix_admix(JX_PTR(m), CH(ch));
		break;
	case 1:
		err = xchan_mix_unmix(JX_PTR(m), CH(ch));
		break;
	case 2:
		err = xchan_mix_unmix_all(JX_PTR(m));
		break;
	case 3:
		err = xchan_mix_toggle(JX_PTR(m), &e, 1);
		break;
	case 4:
		err = xchan_mix_solo_mode(JX_PTR(m), (uint32_t)mask);
		break;
	default:
		err = xchan_mix_get(&got, JX_PTR(m), CH(ch));
	}
	if (err) {
		fail(env, err, "mix");
		return 0;
	}
	return (jint)got;
}

JNIEXPORT void JNICALL
Java_io_xchan_Native_mixRelease(JNIEnv *env, jclass cls, jlong m)
{
	xchan_mix_release(JX_PTR(m));
}

/* ---- merge, split, map, take ----------------------------------------------------- */

static xchan_chan **
chan_array(JNIEnv *env, jlongArray a, jsize *n)
{
	*n = (*env)->GetArrayLength(env, a);
	xchan_chan **v = calloc(*n ? (size_t)*n : 1, sizeof *v);
	if (v == NULL)
		return NULL;
	jlong *p = (*env)->GetLongArrayElements(env, a, NULL);
	for (jsize i = 0; i < *n; i++)
		v[i] = CH(p[i]);
	(*env)->ReleaseLongArrayElements(env, a, p, JNI_ABORT);
	return v;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_merge(JNIEnv *env, jclass cls, jlongArray chans, jint kind,
    jlong cap, jlongArray out_done)
{
	jsize n;
	xchan_chan **v = chan_array(env, chans, &n);
	if (v == NULL)
		return fail(env, XCHAN_ENOMEM, "merge");
	xchan_chan_opts o;
	chan_opts(&o, kind, cap);
	xchan_chan *out, *done;
	int32_t err = xchan_merge(&out, &done, v, (size_t)n, &o);
	free(v);
	if (err != XCHAN_OK)
		return fail(env, err, "merge");
	give_done(env, out_done, 0, done);
	return JX_LONG(out);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_split(JNIEnv *env, jclass cls, jlong src, jobject pred,
    jint tkind, jlong tcap, jint fkind, jlong fcap, jlongArray out)
{
	jx_ref *f = jx_ref_new(env, pred);
	if (f == NULL)
		return fail(env, XCHAN_ENOMEM, "split");
	xchan_chan_opts to, fo;
	chan_opts(&to, tkind, tcap);
	chan_opts(&fo, fkind, fcap);
	xchan_chan *t, *fl, *done;
	int32_t err =
	    xchan_split(&t, &fl, &done, CH(src), pred_cb, f, &to, &fo);
	if (err != XCHAN_OK) {
		jx_ref_release(f);
		return fail(env, err, "split");
	}
	after_done(done, release_on_done_cb, f);
	jlong r[3] = {JX_LONG(t), JX_LONG(fl), JX_LONG(done)};
	(*env)->SetLongArrayRegion(env, out, 0, 3, r);
	return 0;
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_mapN(JNIEnv *env, jclass cls, jlongArray chans, jobject fn,
    jint kind, jlong cap)
{
	jsize n;
	xchan_chan **v = chan_array(env, chans, &n);
	jx_ref *f = v ? jx_ref_new(env, fn) : NULL;
	if (f == NULL) {
		free(v);
		return fail(env, XCHAN_ENOMEM, "map");
	}
	xchan_chan_opts o;
	chan_opts(&o, kind, cap);
	xchan_chan *out, *done;
	int32_t err = xchan_map(&out, &done, v, (size_t)n, mapn_cb, f, &o);
	free(v);
	if (err != XCHAN_OK) {
		jx_ref_release(f);
		return fail(env, err, "map");
	}
	after_done(done, release_on_done_cb, f);
	xchan_chan_release(done);
	return JX_LONG(out);
}

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_takeN(JNIEnv *env, jclass cls, jlong src, jlong n,
    jint kind, jlong cap)
{
	xchan_chan_opts o;
	chan_opts(&o, kind, cap);
	xchan_chan *out;
	int32_t err = xchan_take_n(&out, NULL, CH(src), (uint64_t)n, &o);
	return err ? fail(env, err, "take") : JX_LONG(out);
}

typedef struct reduce_watch {
	jx_ref *f;
	xchan_chan *result;
} reduce_watch;

static void
reduce_done(void *user, xchan_result *r)
{
	reduce_watch *w = user;
	if (r != NULL && r->err == XCHAN_OK) {
		if (xchan_offer(w->result, r->val) != XCHAN_OK)
			xchan_val_release(r->val);
	}
	xchan_chan_close(w->result);
	xchan_chan_release(w->result);
	jx_ref_release(w->f);
	free(w);
}

/* ---- reduce, transduce, into --------------------------------------------------------- */

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_reduce(JNIEnv *env, jclass cls, jlong src, jobject fn,
    jobject spec, jint kind, jlong bits, jobject ref, jbyteArray data)
{
	xchan_val init = xchan_val_nil();
	int32_t err = XCHAN_OK;
	if (kind != XCHAN_NIL)
		err = jx_val_from_java(env, &init, kind, bits, ref, data);
	if (err != XCHAN_OK)
		return fail(env, err, "reduce: init");
	jx_ref *f = jx_ref_new(env, fn);
	if (f == NULL) {
		xchan_val_release(init);
		return fail(env, XCHAN_ENOMEM, "reduce");
	}
	xchan_chan *out;
	if (spec != NULL) {
		jx_ref *s = jx_ref_new(env, spec);
		xchan_xform *xf = NULL;
		err = s ? jx_xform_from_spec(&xf, s) : XCHAN_ENOMEM;
		if (s)
			jx_ref_release(s);
		if (err == XCHAN_OK)
			err = xchan_transduce(&out, CH(src), xf, reduce_cb, f,
			    init);
		else
			xchan_val_release(init);
	} else {
		err = xchan_reduce(&out, CH(src), reduce_cb, f, init);
	}
	if (err != XCHAN_OK) {
		jx_ref_release(f);
		return fail(env, err, "reduce");
	}
	/* The function is used until the core's result channel closes; we
	 * watch that channel ourselves and hand its value on to the caller's
	 * channel, then drop the function. */
	reduce_watch *w = malloc(sizeof *w);
	xchan_chan *result = NULL;
	if (w == NULL ||
	    xchan_chan_make(&result, XCHAN_BUF_FIXED, 1) != XCHAN_OK) {
		free(w);
		xchan_chan_release(out);
		return fail(env, XCHAN_ENOMEM,
		    "reduce"); /* f stays: the reduce runs */
	}
	w->f = f;
	w->result = xchan_chan_retain(result);
	err = xchan_take_async(NULL, out, 0, reduce_done, w);
	xchan_chan_release(out);
	if (err != XCHAN_OK) {
		xchan_chan_close(result);
		reduce_done(w, NULL);
	}
	return JX_LONG(result);
}

/* init: nil or any value; the core refuses a non-array (ETYPE). */
JNIEXPORT jlong JNICALL
Java_io_xchan_Native_into(JNIEnv *env, jclass cls, jlong src, jint kind,
    jlong bits, jobject ref, jbyteArray data)
{
	xchan_val init = xchan_val_nil();
	int32_t err = XCHAN_OK;
	if (kind != XCHAN_NIL)
		err = jx_val_from_java(env, &init, kind, bits, ref, data);
	if (err != XCHAN_OK)
		return fail(env, err, "into: init");
	xchan_chan *out;
	err = xchan_into(&out, CH(src), init);
	return err ? fail(env, err, "into") : JX_LONG(out);
}

/* ---- onto-chan, to-chan ------------------------------------------------------------------ */

JNIEXPORT jlong JNICALL
Java_io_xchan_Native_ontoChan(JNIEnv *env, jclass cls, jlong ch,
    jintArray kinds, jlongArray bitss, jobjectArray refs, jobjectArray datas,
    jboolean close)
{
	xchan_val *v;
	jsize n;
	int32_t err = vals_from_java(env, &v, kinds, bitss, refs, datas, &n);
	if (err != XCHAN_OK)
		return fail(env, err, "ontoChan");
	xchan_chan *done = NULL;
	err = ch != 0 ? xchan_onto_chan(&done, CH(ch), v, (size_t)n, close)
	              : xchan_to_chan(&done, v, (size_t)n);
	free(v);
	return err ? fail(env, err, "ontoChan") : JX_LONG(done);
}
