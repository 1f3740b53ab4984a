/*
 * jscomb.c — the core's combinators whose callbacks are JS functions: map,
 * split, pub, reduce, transduce, pipelines of JS transforms and
 * pipelineAsync.
 *
 * The processes are the core's (go tasks on DISPATCH; pipeline steps on
 * COMPUTE or MIXED threads); every callback is a JS call queued on the env
 * that made the combinator (jscall.c).  The process waits for it (a go task
 * parks), and that env runs it from its event loop or from inside a
 * blocking op of its own (takeSync, ...).  So a worker that makes a reduce
 * and then blocks in takeSync on its result still feeds it.
 *
 * Lifetime: a `jsfn` holds the env and the JS functions of one combinator.
 * It is released once the core can no longer call it: when the done channel
 * closes (map, split, pub, pipeline: a take_async on it), or when the
 * sentinel transform ending a reduce/transduce is destroyed (the core frees
 * the transform once the reduce is over, after its last step).  Releasing
 * from any thread is safe (xn_ref_release queues the napi_ref's deletion to
 * the env's thread).
 *
 * No lock of its own: a jsfn's fields are constant after creation; its
 * reference count is atomic.  JS runs only on the env's thread.
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"
#include "args.h"

typedef struct jsfn {
	atomic_int refs;
	xenv *e;
	xn_ref *fn;    /* the callback */
	xn_ref *aux;   /* reduce: the Reduced class; pub: the buffer function;
	                 pipeline: the transform descriptor */
	xn_errh *errh; /* pipeline: the exHandler state */
} jsfn;

static void
jsfn_release(jsfn *h)
{
	if (atomic_fetch_sub_explicit(&h->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (h->fn != NULL)
		xn_ref_release(h->fn);
	if (h->aux != NULL)
		xn_ref_release(h->aux);
	if (h->errh != NULL)
		xn_errh_release(h->errh);
	xenv_release(h->e);
	free(h);
}

static bool
is_fn(napi_env env, napi_value v)
{
	napi_valuetype t;
	return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

/* A jsfn for fn (required) and aux (optional); NULL (thrown) on error. */
static jsfn *
jsfn_new(napi_env env, xenv *e, napi_value fn, napi_value aux)
{
	if (!is_fn(env, fn)) {
		xn_throw(env, XCHAN_EINVAL, "this combinator needs a function");
		return NULL;
	}
	jsfn *h = calloc(1, sizeof *h);
	if (h == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	atomic_init(&h->refs, 1);
	h->e = e;
	xenv_retain(e);
	h->fn = xn_ref_new(env, e, fn);
	if (aux != NULL && !xn_is_nullish(env, aux))
		h->aux = xn_ref_new(env, e, aux);
	if (h->fn == NULL ||
	    (aux != NULL && !xn_is_nullish(env, aux) && h->aux == NULL)) {
		jsfn_release(h);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	return h;
}

/* Releases h when `done` closes (the process no longer calls it).  Takes
 * over one reference of h. */
static void
done_cb(void *user, xchan_result *res)
{
	xchan_val_release(res->val);
	jsfn_release(user);
}

/* After starting a combinator that calls h (the core call returned rc):
 * on failure drops h and throws (false); else h lives until the
 * combinator's `done` channel closes. */
static bool
hold_until_done(napi_env env, jsfn *h, int32_t rc, xchan_chan *done)
{
	if (rc != XCHAN_OK) {
		jsfn_release(h);
		xn_throw(env, rc, NULL);
		return false;
	}
	if (xchan_take_async(NULL, done, 0, done_cb, h) != XCHAN_OK)
		jsfn_release(
		    h); /* cannot happen but for ENOMEM: leak nothing */
	return true;
}

/* ---- the calls ------------------------------------------------------------ */

enum { CALL_MAP, CALL_PRED, CALL_TOPIC, CALL_REDUCE, CALL_FACTORY, CALL_ASYNC };

typedef struct cb_call {
	xn_jscall call; /* first */
	int kind;
	jsfn *h;
	const xchan_val *vals; /* borrowed inputs */
	size_t n;
	xchan_val acc, in;  /* reduce: moved in */
	xchan_val out;      /* map, topic, reduce: the result (owned) */
	int32_t rc;         /* pred: the answer; reduce: the step result */
	xchan_xform *xf;    /* factory: the new transform */
	xchan_chan *result; /* async: the element's result channel (owned) */
} cb_call;

/* Borrowed value -> JS (undefined if it cannot be read here). */
static napi_value
js_of(napi_env env, xenv *e, xchan_val v)
{
	napi_value err = NULL;
	napi_value r = xn_from_val_or_error(env, e, xchan_val_retain(v), &err);
	if (r == NULL)
		napi_get_undefined(env, &r);
	return r;
}

/* JS -> owned value; nullish -> nil.  False (exception cleared) on error. */
static bool
val_of(napi_env env, xenv *e, napi_value v, xchan_val *out)
{
	*out = xchan_val_nil();
	if (xn_is_nullish(env, v))
		return true;
	if (xn_to_val(env, e, v, out))
		return true;
	napi_value exc;
	napi_get_and_clear_last_exception(env, &exc);
	return false;
}

static bool
call_fn(napi_env env, jsfn *h, size_t argc, napi_value *argv,
    napi_value *result)
{
	napi_value undef, fn = xn_ref_value(env, h->fn);
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, argc, argv, result) == napi_ok)
		return true;
	napi_value exc;
	napi_get_and_clear_last_exception(env, &exc);
	return false;
}

static void
run_map(napi_env env, xenv *e, cb_call *c)
{
	napi_value *argv = calloc(c->n ? c->n : 1, sizeof *argv), r;
	if (argv == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		argv[i] = js_of(env, e, c->vals[i]);
	if (call_fn(env, c->h, c->n, argv, &r) && !val_of(env, e, r, &c->out))
		c->out = xchan_val_nil();
	free(argv);
}

static void
run_pred(napi_env env, xenv *e, cb_call *c)
{
	napi_value v = js_of(env, e, c->vals[0]), r;
	bool b = false;
	if (call_fn(env, c->h, 1, &v, &r)) {
		napi_coerce_to_bool(env, r, &r);
		napi_get_value_bool(env, r, &b);
	}
	c->rc = b;
}

static void
run_topic(napi_env env, xenv *e, cb_call *c)
{
	napi_value v = js_of(env, e, c->vals[0]), r;
	if (call_fn(env, c->h, 1, &v, &r) && !val_of(env, e, r, &c->out))
		c->out = xchan_val_nil();
}

static void
run_reduce(napi_env env, xenv *e, cb_call *c)
{
	napi_value argv[2], r;
	napi_value err = NULL;
	argv[0] = c->acc.kind == XCHAN_NIL
	              ? NULL
	              : xn_from_val_or_error(env, e, c->acc, &err);
	if (argv[0] == NULL)
		napi_get_undefined(env, &argv[0]);
	err = NULL;
	argv[1] = xn_from_val_or_error(env, e, c->in, &err);
	c->acc = c->in = xchan_val_nil(); /* moved to JS */
	if (argv[1] == NULL) {
		c->rc = XCHAN_STEP_FAILED;
		return;
	}
	if (!call_fn(env, c->h, 2, argv, &r)) {
		c->rc = XCHAN_STEP_FAILED;
		return;
	}
	c->rc = XCHAN_STEP_CONTINUE;
	bool reduced = false;
	napi_valuetype t;
	napi_typeof(env, r, &t);
	if (t == napi_object && c->h->aux != NULL &&
	    napi_instanceof(env, r, xn_ref_value(env, c->h->aux), &reduced) ==
	        napi_ok &&
	    reduced) {
		napi_get_named_property(env, r, "value", &r);
		c->rc = XCHAN_STEP_REDUCED;
	}
	if (!val_of(env, e, r, &c->out))
		c->rc = XCHAN_STEP_FAILED;
}

static void
run_factory(napi_env env, xenv *e, cb_call *c)
{
	bool js = false;
	c->xf = xn_build_xform_errh(env, e, xn_ref_value(env, c->h->aux),
	    c->h->errh, &js);
	if (c->xf == NULL) {
		napi_value exc;
		napi_get_and_clear_last_exception(env, &exc);
	}
}

/* pipelineAsync: af(v, resultChan) must return at once; a throwing af
 * closes its result channel (the pipeline would wait for it for ever). */
static void
run_async(napi_env env, xenv *e, cb_call *c)
{
	napi_value err = NULL, argv[2], r;
	xchan_chan *result = c->result;
	c->result = NULL;
	argv[0] = xn_from_val_or_error(env, e, c->in, &err);
	c->in = xchan_val_nil();
	if (argv[0] == NULL)
		argv[0] = err;
	xchan_chan_retain(result); /* ours, to close it if af fails */
	argv[1] = xn_wrap_chan(env, e, result);
	if (argv[0] == NULL || argv[1] == NULL ||
	    !call_fn(env, c->h, 2, argv, &r)) {
		napi_value exc;
		napi_get_and_clear_last_exception(env, &exc);
		xchan_chan_close(result);
	}
	xchan_chan_release(result);
}

static void
run_call(napi_env env, xenv *e, xn_jscall *call)
{
	cb_call *c = (cb_call *)call;
	switch (c->kind) {
	case CALL_ASYNC:
		run_async(env, e, c);
		break;
	case CALL_MAP:
		run_map(env, e, c);
		break;
	case CALL_PRED:
		run_pred(env, e, c);
		break;
	case CALL_TOPIC:
		run_topic(env, e, c);
		break;
	case CALL_REDUCE:
		run_reduce(env, e, c);
		break;
	default:
		run_factory(env, e, c);
		break;
	}
}

/* Runs c on its jsfn's env; false if it could not run (env gone). */
static bool
call_js(cb_call *c)
{
	c->call.run = run_call;
	c->out = xchan_val_nil();
	return xn_jscall_do(c->h->e, &c->call) == XCHAN_OK;
}

/* ---- the core's callbacks ------------------------------------------------ */

static xchan_val
map_n_cb(void *user, const xchan_val *vals, size_t n)
{
	cb_call c = {.kind = CALL_MAP, .h = user, .vals = vals, .n = n};
	return call_js(&c) ? c.out : xchan_val_nil();
}

static int32_t
pred_cb(void *user, xchan_val in)
{
	cb_call c = {.kind = CALL_PRED, .h = user, .vals = &in, .n = 1};
	return call_js(&c) ? c.rc : 0;
}

static xchan_val
topic_cb(void *user, xchan_val in)
{
	cb_call c = {.kind = CALL_TOPIC, .h = user, .vals = &in, .n = 1};
	return call_js(&c) ? c.out : xchan_val_nil();
}

static int32_t
reduce_cb(void *user, xchan_val *out_acc, xchan_val acc, xchan_val in)
{
	cb_call c = {.kind = CALL_REDUCE, .h = user, .acc = acc, .in = in};
	if (!call_js(&c)) {
		xchan_val_release(c.acc);
		xchan_val_release(c.in);
		return XCHAN_STEP_FAILED;
	}
	xchan_val_release(c.acc);
	xchan_val_release(c.in);
	*out_acc = c.out;
	return c.rc;
}

static int32_t
factory_cb(void *user, xchan_xform **out)
{
	cb_call c = {.kind = CALL_FACTORY, .h = user};
	if (!call_js(&c))
		return XCHAN_ERUNTIME;
	if (c.xf == NULL)
		return XCHAN_EINVAL;
	*out = c.xf;
	return XCHAN_OK;
}

static void
async_cb(void *user, xchan_val in, xchan_chan *result)
{
	cb_call c = {.kind = CALL_ASYNC, .h = user, .in = in, .result = result};
	if (!call_js(&c)) {
		xchan_val_release(c.in);
		if (c.result != NULL) {
			xchan_chan_close(c.result);
			xchan_chan_release(c.result);
		}
	}
}

/* pub's buffer function: runs inside xchan_pub_sub, on the env's thread
 * (sub is called from JS), so the JS function is called directly. */
static int32_t
pub_buf_cb(void *user, uint32_t *out_kind, uint64_t *out_capacity,
    xchan_val topic)
{
	jsfn *h = user;
	xenv *e = h->e;
	*out_kind = XCHAN_BUF_NONE;
	*out_capacity = 0;
	if (h->aux == NULL || xn_current_env() != e)
		return XCHAN_OK;
	napi_env env = e->env;
	napi_handle_scope scope;
	napi_open_handle_scope(env, &scope);
	int32_t rc = XCHAN_OK;
	napi_value undef, spec, t = js_of(env, e, topic);
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, xn_ref_value(env, h->aux), 1, &t,
	        &spec) != napi_ok) {
		rc = XCHAN_EINVAL; /* the exception propagates to sub() */
	} else {
		xchan_chan_opts o;
		bool ok = true;
		const xchan_chan_opts *p = xn_buf_opts(env, spec, &o, &ok);
		if (!ok)
			rc = XCHAN_EINVAL;
		else if (p != NULL)
			*out_kind = p->buf_kind, *out_capacity = p->capacity;
	}
	napi_close_handle_scope(env, scope);
	return rc;
}

/* ---- the sentinel transform ending a reduce ------------------------------ */

static int32_t
pass_step(void *state, xchan_val in, xchan_emit *out)
{
	return xchan_emit_push(out, in);
}

static void
pass_destroy(void *state)
{
	jsfn_release(state);
}

static const xchan_xform_vtbl pass_vtbl = {sizeof(xchan_xform_vtbl), 0,
    pass_step, NULL, pass_destroy};

/* ---- exported functions --------------------------------------------------- */

/* reduceJs(f, init, src, Reduced, xformDesc?) -> result chan: reduce, or
 * transduce when a transform descriptor is given. */
static napi_value
js_reduce(napi_env env, napi_callback_info info)
{
	ARGS(5);
	xenv *e = xn_env(env);
	xn_chan *src;
	if (!xn_arg_chan(env, argv[2], &src))
		return NULL;
	xchan_xform *user_xf = NULL;
	if (!xn_is_nullish(env, argv[4])) {
		xn_errh *eh = xn_errh_new(env, e, NULL);
		if (eh == NULL)
			return NULL;
		bool js = false;
		user_xf = xn_build_xform_errh(env, e, argv[4], eh, &js);
		xn_errh_release(eh);
		if (user_xf == NULL)
			return NULL;
	}
	jsfn *h = jsfn_new(env, e, argv[0], argv[3]);
	if (h == NULL) {
		if (user_xf != NULL)
			xchan_xform_free(user_xf);
		return NULL;
	}
	xchan_val init;
	if (!xn_is_nullish(env, argv[1])) {
		if (!xn_to_val(env, e, argv[1], &init)) {
			jsfn_release(h);
			if (user_xf != NULL)
				xchan_xform_free(user_xf);
			return NULL;
		}
	} else {
		init = xchan_val_nil();
	}
	/* The sentinel holds h until the core destroys it (reduce over). */
	xchan_xform *sentinel = NULL, *x = NULL;
	atomic_fetch_add(&h->refs, 1);
	int32_t rc = xchan_xform_new(&sentinel, &pass_vtbl, h);
	if (rc == XCHAN_OK && user_xf != NULL) {
		xchan_xform *parts[2] = {user_xf, sentinel};
		user_xf = NULL;
		rc = xchan_xform_comp(&x, parts, 2);
	} else {
		x = sentinel;
	}
	if (user_xf != NULL)
		xchan_xform_free(user_xf);
	xchan_chan *out = NULL;
	if (rc == XCHAN_OK)
		rc = xchan_transduce(&out, src->ch, x, reduce_cb, h, init);
	else
		xchan_val_release(init);
	jsfn_release(h); /* ours; the sentinel keeps its own */
	return xn_chan_or_throw(env, rc, out);
}

/* mapJs(f, chans, bufSpec) -> [out, done] */
static napi_value
js_map(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xenv *e = xn_env(env);
	size_t n = 0;
	xchan_chan **chans =
	    xn_chan_array(env, argv[1], "map(f, chans): chans is an array", &n);
	if (chans == NULL)
		return NULL;
	xchan_chan_opts o;
	bool ok = true;
	const xchan_chan_opts *po = xn_buf_opts(env, argv[2], &o, &ok);
	if (!ok) {
		free(chans);
		return NULL;
	}
	jsfn *h = jsfn_new(env, e, argv[0], NULL);
	if (h == NULL) {
		free(chans);
		return NULL;
	}
	xchan_chan *out = NULL, *done = NULL;
	int32_t rc = xchan_map(&out, &done, chans, n, map_n_cb, h, po);
	free(chans);
	if (!hold_until_done(env, h, rc, done))
		return NULL;
	return XN_ARRAY(env, xn_chan_external(env, out),
	    xn_chan_external(env, done), NULL);
}

/* splitJs(pred, src, tSpec, fSpec) -> [t, f, done] */
static napi_value
js_split(napi_env env, napi_callback_info info)
{
	ARGS(4);
	xenv *e = xn_env(env);
	xn_chan *src;
	xchan_chan_opts to, fo;
	bool ok1 = true, ok2 = true;
	if (!xn_arg_chan(env, argv[1], &src))
		return NULL;
	const xchan_chan_opts *pt = xn_buf_opts(env, argv[2], &to, &ok1);
	if (!ok1)
		return NULL;
	const xchan_chan_opts *pf = xn_buf_opts(env, argv[3], &fo, &ok2);
	if (!ok2)
		return NULL;
	jsfn *h = jsfn_new(env, e, argv[0], NULL);
	if (h == NULL)
		return NULL;
	xchan_chan *t = NULL, *f = NULL, *done = NULL;
	int32_t rc = xchan_split(&t, &f, &done, src->ch, pred_cb, h, pt, pf);
	if (!hold_until_done(env, h, rc, done))
		return NULL;
	return XN_ARRAY(env, xn_chan_external(env, t), xn_chan_external(env, f),
	    xn_chan_external(env, done));
}

static void
pub_finalize(napi_env env, void *data, void *hint)
{
	xchan_pub_release(data);
}

/* pubJs(src, topicFn, bufFn?) -> [handle, done].  bufFn(topic) returns a
 * buffer spec ({bufKind, capacity}) or undefined. */
static napi_value
js_pub(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xenv *e = xn_env(env);
	xn_chan *src;
	if (!xn_arg_chan(env, argv[0], &src))
		return NULL;
	if (!xn_is_nullish(env, argv[2]) && !is_fn(env, argv[2])) {
		xn_throw(env, XCHAN_EINVAL, "pub: bufFn must be a function");
		return NULL;
	}
	jsfn *h = jsfn_new(env, e, argv[1], argv[2]);
	if (h == NULL)
		return NULL;
	xchan_pub *p = NULL;
	xchan_chan *done = NULL;
	int32_t rc =
	    xchan_pub_new(&p, &done, src->ch, topic_cb, h, pub_buf_cb, h);
	if (!hold_until_done(env, h, rc, done))
		return NULL;
	return xn_handle_and_done(env, p, pub_finalize, done);
}

/* pubOp(handle, op, topic, ch, close): 0 sub, 1 unsub, 2 unsub topic,
 * 3 unsub all. */
static napi_value
js_pub_op(napi_env env, napi_callback_info info)
{
	ARGS(5);
	xenv *e = xn_env(env);
	void *p = NULL;
	uint32_t op = 0;
	if (napi_get_value_external(env, argv[0], &p) != napi_ok || p == NULL) {
		xn_throw(env, XCHAN_EINVAL, "expected a pub handle");
		return NULL;
	}
	napi_get_value_uint32(env, argv[1], &op);
	xchan_val topic = xchan_val_nil();
	if (op != 3 && !xn_is_nullish(env, argv[2]) &&
	    !xn_to_val(env, e, argv[2], &topic))
		return NULL;
	xn_chan *c = NULL;
	if ((op == 0 || op == 1) && !xn_arg_chan(env, argv[3], &c)) {
		xchan_val_release(topic);
		return NULL;
	}
	bool close = xn_flag(env, argv[4], true);
	int32_t rc = op == 0   ? xchan_pub_sub(p, topic, c->ch, close)
	             : op == 1 ? xchan_pub_unsub(p, topic, c->ch)
	             : op == 2 ? xchan_pub_unsub_topic(p, topic)
	                       : xchan_pub_unsub_all(p);
	xchan_val_release(topic);
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (rc != XCHAN_OK && !pending)
		xn_throw(env, rc, NULL);
	return NULL;
}

/* pipelineJs(n, to, xformDesc, from, close, blocking, exHandler) -> done:
 * each element through a fresh transform built from the descriptor on this
 * thread (a JS call per element), its JS steps run here too. */
static napi_value
js_pipeline_js(napi_env env, napi_callback_info info)
{
	ARGS(7);
	xenv *e = xn_env(env);
	uint32_t n = 0;
	xn_chan *to, *from;
	if (!xn_pipeline_args(env, argv, "pipeline", &n, &to, &from))
		return NULL;
	bool close = xn_flag(env, argv[4], true);
	bool blocking = xn_flag(env, argv[5], false);
	/* Validate the descriptor once, here, so bad input throws now. */
	xn_errh *eh = xn_errh_new(env, e, argv[6]);
	if (eh == NULL)
		return NULL;
	bool js = false;
	xchan_xform *probe = xn_build_xform_errh(env, e, argv[2], eh, &js);
	if (probe == NULL) {
		xn_errh_release(eh);
		return NULL;
	}
	xchan_xform_free(probe);
	jsfn *h = calloc(1, sizeof *h);
	if (h == NULL) {
		xn_errh_release(eh);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	atomic_init(&h->refs, 1);
	h->e = e;
	xenv_retain(e);
	h->errh = eh;
	h->aux = xn_ref_new(env, e, argv[2]);
	if (h->aux == NULL) {
		jsfn_release(h);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	xchan_pipeline_opts o = {.size = sizeof o,
	    .on_error = xn_on_error,
	    .on_error_user = eh};
	xchan_chan *done = NULL;
	int32_t rc =
	    (blocking ? xchan_pipeline_blocking : xchan_pipeline)(&done, n,
	        to->ch, from->ch, close, factory_cb, h, &o);
	if (!hold_until_done(env, h, rc, done))
		return NULL;
	return xn_chan_external(env, done);
}

/* pipelineAsyncJs(n, to, af, from, close) -> done: af(v, resultChan) is
 * called on this thread for each element, at most n in flight. */
static napi_value
js_pipeline_async(napi_env env, napi_callback_info info)
{
	ARGS(5);
	xenv *e = xn_env(env);
	uint32_t n = 0;
	xn_chan *to, *from;
	if (!xn_pipeline_args(env, argv, "pipelineAsync", &n, &to, &from))
		return NULL;
	bool close = xn_flag(env, argv[4], true);
	jsfn *h = jsfn_new(env, e, argv[2], NULL);
	if (h == NULL)
		return NULL;
	xchan_chan *done = NULL;
	int32_t rc = xchan_pipeline_async(&done, n, to->ch, from->ch, close,
	    async_cb, h, NULL);
	if (!hold_until_done(env, h, rc, done))
		return NULL;
	return xn_chan_external(env, done);
}

napi_status
xn_init_jscomb(napi_env env, napi_value exports)
{
	static const xn_fn_entry fns[] = {{"reduceJs", js_reduce},
	    {"mapJs", js_map}, {"splitJs", js_split}, {"pubJs", js_pub},
	    {"pubOp", js_pub_op}, {"pipelineJs", js_pipeline_js},
	    {"pipelineAsyncJs", js_pipeline_async}};
	return XN_EXPORT_TABLE(env, exports, fns);
}
