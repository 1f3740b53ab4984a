/*
 * cancel.c — CancelToken: a core cancel token (xchan_cancel_*) that JS code
 * on any thread can fire, reset and pass to put/take/alts.
 *
 * A blocking op of a worker (takeSync/putSync/altsSync) already waits with
 * its environment's own token, which Worker.terminate fires; a wait takes
 * one token.  So a blocking op "with" a CancelToken keeps waiting with the
 * environment's token and subscribes that worker to the CancelToken for the
 * duration of the wait (cancelEnter/cancelLeave): firing the CancelToken
 * fires the subscribed workers' tokens (xn_interrupt_thread, through the
 * worker registry, so a worker that is gone is never touched), which stops
 * their waits with ECANCELED, nothing transferred.  A JS thread blocks in one
 * wait at a time, so this stops exactly the waits made with the token.
 * cancelLeave then resets the environment's token if the CancelToken fired
 * it (a terminate racing with that reset still ends the worker: Node stops
 * its JS when the wait returns).  A Promise op with a CancelToken is watched
 * instead: firing calls xchan_op_cancel on it from the firing thread.
 *
 * Lock: xn_token.lock guards the subscriber lists and is a leaf except in
 * fire, which calls xchan_op_cancel (channel locks; the op's notifier only
 * pushes to an environment's stack) and xn_interrupt_thread (the registry
 * lock, a leaf) while holding it; no path takes a token lock while holding
 * a core lock or the registry lock.  Tokens are reference-counted (JS
 * externals in every thread, watched ops); the registry maps an id to a live
 * token so that a token copied to another thread (CancelToken.from) is
 * adopted only while it lives.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cancel.h"

#define XN_TOKEN_MAGIC 0x78636e74u

typedef struct waiter {
	struct waiter *next;
	int32_t thread_id; /* a worker waiting with this token */
	xchan_op *op;      /* or a pending async op */
} waiter;

struct xn_token {
	uint32_t magic;
	atomic_int refs;
	uint64_t id;
	xchan_cancel *c;
	pthread_mutex_t lock; /* guards waiters */
	waiter *waiters;
	xn_token *reg_next; /* the registry, under g_lock */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static xn_token *g_tokens;
static uint64_t g_next_id = 1;

static void
token_release(xn_token *t)
{
	if (atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	pthread_mutex_lock(&g_lock);
	for (xn_token **p = &g_tokens; *p != NULL; p = &(*p)->reg_next)
		if (*p == t) {
			*p = t->reg_next;
			break;
		}
	pthread_mutex_unlock(&g_lock);
	while (t->waiters != NULL) { /* workers terminated mid-wait */
		waiter *w = t->waiters;
		t->waiters = w->next;
		free(w);
	}
	xchan_cancel_release(t->c);
	pthread_mutex_destroy(&t->lock);
	t->magic = 0;
	free(t);
}

static void
finalize(napi_env env, void *data, void *hint)
{
	token_release(data);
}

static napi_value
external(napi_env env, xn_token *t)
{
	napi_value ext;
	if (napi_create_external(env, t, finalize, NULL, &ext) != napi_ok) {
		token_release(t);
		xn_throw_last(env);
		return NULL;
	}
	return ext;
}

xn_token *
xn_token_arg(napi_env env, napi_value v)
{
	void *data = NULL;
	napi_valuetype ty;
	napi_typeof(env, v, &ty);
	if (ty != napi_external ||
	    napi_get_value_external(env, v, &data) != napi_ok || data == NULL ||
	    ((xn_token *)data)->magic != XN_TOKEN_MAGIC) {
		xn_throw(env, XCHAN_EINVAL, "expected a CancelToken");
		return NULL;
	}
	return data;
}

/* cancelNew() -> external */
/* The CancelToken that is a function's only argument; NULL (thrown)
 * otherwise. */
static xn_token *
token_of_call(napi_env env, napi_callback_info info)
{
	ARGS(1);
	return xn_token_arg(env, argv[0]);
}

static napi_value
js_new(napi_env env, napi_callback_info info)
{
	xn_token *t = calloc(1, sizeof *t);
	if (t == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	int32_t rc = xchan_cancel_new(&t->c);
	if (rc != XCHAN_OK) {
		free(t);
		xn_throw(env, rc, NULL);
		return NULL;
	}
	t->magic = XN_TOKEN_MAGIC;
	atomic_init(&t->refs, 1);
	pthread_mutex_init(&t->lock, NULL);
	pthread_mutex_lock(&g_lock);
	t->id = g_next_id++;
	t->reg_next = g_tokens;
	g_tokens = t;
	pthread_mutex_unlock(&g_lock);
	return external(env, t);
}

/* cancelId(ext) -> "xcancel:<id>" (what a copy to another thread carries) */
static napi_value
js_id(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t == NULL)
		return NULL;
	char buf[48];
	snprintf(buf, sizeof buf, "xcancel:%" PRIu64, t->id);
	return xn_string(env, buf);
}

/* cancelAdopt(id) -> external of the same token, while it lives */
static napi_value
js_adopt(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char buf[48];
	size_t len = 0;
	uint64_t id = 0;
	if (napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) !=
	        napi_ok ||
	    sscanf(buf, "xcancel:%" SCNu64, &id) != 1) {
		xn_throw(env, XCHAN_EINVAL,
		    "CancelToken.from() needs a CancelToken, or one copied to "
		    "this thread");
		return NULL;
	}
	pthread_mutex_lock(&g_lock);
	xn_token *t = g_tokens;
	while (t != NULL && t->id != id)
		t = t->reg_next;
	if (t != NULL)
		atomic_fetch_add(&t->refs, 1);
	pthread_mutex_unlock(&g_lock);
	if (t == NULL) {
		xn_throw(env, XCHAN_ESTATE,
		    "this CancelToken was released before it was adopted here: "
		    "keep it referenced in the sending thread");
		return NULL;
	}
	return external(env, t);
}

/* cancelFire(ext): fires the token, the waits subscribed to it and the
 * async ops watching it. */
static napi_value
js_fire(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t == NULL)
		return NULL;
	pthread_mutex_lock(&t->lock);
	xchan_cancel_fire(t->c);
	for (waiter *w = t->waiters; w != NULL; w = w->next) {
		if (w->op != NULL)
			XN_CORE(xchan_op_cancel(w->op));
		else
			xn_interrupt_thread(w->thread_id);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* cancelReset(ext) */
static napi_value
js_reset(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t != NULL)
		xchan_cancel_reset(t->c);
	return NULL;
}

/* cancelFired(ext) -> boolean */
static napi_value
js_fired(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t == NULL)
		return NULL;
	return xn_boolean(env, xchan_cancel_fired(t->c) == 1);
}

/* Adds a waiter; false (nothing added) if the token has fired. */
static bool
add_waiter(xn_token *t, int32_t thread_id, xchan_op *op)
{
	waiter *w = calloc(1, sizeof *w);
	if (w == NULL)
		return false;
	w->thread_id = thread_id;
	w->op = op;
	pthread_mutex_lock(&t->lock);
	bool fired = xchan_cancel_fired(t->c) == 1;
	if (!fired) {
		w->next = t->waiters;
		t->waiters = w;
	}
	pthread_mutex_unlock(&t->lock);
	if (fired)
		free(w);
	return !fired;
}

static void
remove_waiter(xn_token *t, int32_t thread_id, xchan_op *op)
{
	pthread_mutex_lock(&t->lock);
	for (waiter **p = &t->waiters; *p != NULL; p = &(*p)->next) {
		waiter *w = *p;
		if (w->op == op && (op != NULL || w->thread_id == thread_id)) {
			*p = w->next;
			free(w);
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

/* cancelEnter(ext): before a blocking op of this thread with the token.
 * Throws ECANCELED (nothing done) if it has fired. */
static napi_value
js_enter(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t == NULL)
		return NULL;
	xenv *e = xn_env(env);
	if (!add_waiter(t, e->thread_id, NULL)) {
		xn_throw(env, XCHAN_ECANCELED,
		    "the cancel token has fired (nothing was transferred)");
		return NULL;
	}
	return NULL;
}

/* cancelLeave(ext) -> whether the token fired: after the blocking op. */
static napi_value
js_leave(napi_env env, napi_callback_info info)
{
	xn_token *t = token_of_call(env, info);
	if (t == NULL)
		return NULL;
	xenv *e = xn_env(env);
	remove_waiter(t, e->thread_id, NULL);
	bool fired = xchan_cancel_fired(t->c) == 1;
	if (fired && e->cancel != NULL)
		xchan_cancel_reset(e->cancel); /* it was fired for this wait */
	return xn_boolean(env, fired);
}

bool
xn_token_watch_op(xn_token *tok, xchan_op *op)
{
	atomic_fetch_add(&tok->refs, 1);
	if (add_waiter(tok, -1, op))
		return true;
	token_release(tok);
	return false;
}

void
xn_token_unwatch_op(xn_token *tok, xchan_op *op)
{
	remove_waiter(tok, -1, op);
	token_release(tok);
}

napi_status
xn_init_cancel(napi_env env, napi_value exports)
{
	static const xn_fn_entry fns[] = {{"cancelNew", js_new},
	    {"cancelId", js_id}, {"cancelAdopt", js_adopt},
	    {"cancelFire", js_fire}, {"cancelReset", js_reset},
	    {"cancelFired", js_fired}, {"cancelEnter", js_enter},
	    {"cancelLeave", js_leave}};
	return XN_EXPORT_TABLE(env, exports, fns);
}
