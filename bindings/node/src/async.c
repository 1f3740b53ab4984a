/*
 * async.c — put/take/alts as Promises.
 *
 * Fast path: the operation is first tried without waiting (offer, poll,
 * alts with XCHAN_DEADLINE_POLL); when it completes, the promise is created
 * already settled, so a value already there costs no event-loop turn.
 * Otherwise an xn_op record is registered with the core in notify mode
 * (XCHAN_ASYNC_NOTIFY): whichever thread completes the operation calls
 * `notified`, which only pushes the record on the env's done stack and, for
 * the first push of a burst, calls the env's threadsafe function (not at all
 * when the completer is this JS thread inside one of the addon's core calls:
 * every exported function settles such ops before it returns, see
 * xn_in_core and xn_drain_local).  On the JS
 * thread, xn_drain_ops collects each result (xchan_op_collect) and settles
 *
 * Abandoning (an AbortSignal): xchan_op_cancel either cancels (the promise
 * rejects with ECANCELED, a put's value is released, nothing was
 * transferred) or the operation had completed and its result settles the
 * promise: a value taken is never swallowed (see js_cancel_op for why not
 * xchan_op_cancel_ex).
 *
 * The low-level API (putAsync/takeAsync/altsAsync, lib/chan.js's Op) uses
 * the same records in two more modes.  Callback mode starts the core op with
 * a C callback (`called`) that stores the result in the record and pushes it
 * like a notifier; the drain then calls the JS callback with it (at once,
 * before the start call returns, when the op completed during it: the
 * caller ran the callback, as in C).  Notify mode starts it with
 * XCHAN_ASYNC_NOTIFY | XCHAN_ASYNC_NOTIFY_ALWAYS: the drain only calls the
 * optional JS notifier; the user collects (xchan_op_collect) or cancels
 * (xchan_op_cancel_ex) through the handle.  ALWAYS makes the notifier run
 * once in every case, so the core side of the record is dropped in one
 * place; in callback mode a winning cancel_ex means the callback never
 * runs, so js_op_cancel_ex drops both sides itself.
 *
 * Record lifetime: refs = 1 for the JS side (dropped when settled, or at
 * teardown) + 1 for the core side (dropped by the drain after the notifier
 * pushed it, or at once when a cancel won, since then the notifier never
 * runs) + 1 while a holder external exposes it to JS.  The live list
 * (ops_head) and `settled` are JS-thread only; `done` is set by the
 * completer before the push (release) and read after the pop (acquire).
 */
#include <stdlib.h>
#include <string.h>

#include "addon.h"
#include "args.h"
#include "cancel.h"

enum { OP_PUT = 1, OP_TAKE = 2, OP_ALTS = 3 };

/* How a record reaches JS: a Promise the binding settles (put/take/alts),
 * or an op handle of the low-level API (putAsync/takeAsync/altsAsync): the
 * core's callback mode (the result is handed to the record by the core's
 * callback, then to the JS callback on this thread), or notify mode (the
 * user collects with op.collect(); an optional JS notifier is told). */
enum { MODE_PROMISE = 0, MODE_CALLBACK = 1, MODE_NOTIFY = 2 };

struct xn_op {
	xn_node node; /* first: the done stack links through it */
	atomic_int refs;
	atomic_int done;
	xenv *e;
	napi_deferred deferred;
	xchan_op *op;
	int kind;
	bool settled;
	xn_op *prev, *next; /* live list */
	napi_ref chans;     /* alts: the clauses' Chan objects */
	xchan_clause *clauses;
	size_t n;
	int mode;
	napi_ref fn;      /* callback, or notifier (may be NULL) */
	bool has_res;     /* callback mode: res holds the core's result */
	bool taken;       /* notify mode: cancelEx took the result */
	xchan_result res; /* written by the callback before the push */
	xn_token *token;  /* a CancelToken watching it (Promise mode) */
};

/* A put clause that completed moved its value into the channel: it is no
 * longer the record's to release. */
static void
mark_moved(xn_op *r, const xchan_result *res)
{
	if (r->clauses != NULL && res->err == XCHAN_OK && res->index >= 0 &&
	    (size_t)res->index < r->n &&
	    r->clauses[res->index].op == XCHAN_ALT_PUT)
		r->clauses[res->index].val = xchan_val_nil();
}

static void
op_release(xn_op *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (r->token != NULL)
		xn_token_unwatch_op(r->token, r->op);
	if (r->op != NULL) {
		/* A result nobody collected (the env died, or a notify op's
		 * owner never collected it). */
		xchan_result res;
		if (xchan_op_collect(r->op, &res) == XCHAN_OK) {
			mark_moved(r, &res);
			xchan_val_release(res.val);
		}
		xchan_op_release(r->op);
	}
	if (r->has_res) { /* a callback never called */
		mark_moved(r, &r->res);
		xchan_val_release(r->res.val);
	}
	if (r->clauses != NULL) {
		for (size_t i = 0; i < r->n; i++)
			if (r->clauses[i].op == XCHAN_ALT_PUT)
				xchan_val_release(r->clauses[i].val);
		free(r->clauses);
	}
	xenv *e = r->e;
	free(r);
	xenv_release(e);
	XN_COUNT(xn_live_ops, -1);
}

/* The notifier: any thread, no xchan lock held, never on a go stack. */
static void
notified(void *user, xchan_result *result)
{
	xn_op *r = user;
	xenv *e = r->e;
	(void)result; /* NULL in notify mode: the JS thread collects */
	atomic_store_explicit(&r->done, 1, memory_order_release);
	if (xn_in_core > 0 && pthread_equal(pthread_self(), e->thread)) {
		/* Completed by a core call this addon makes on its JS thread:
		 * the calling function drains when the call returns
		 * (xn_drain_local), so no wake (and no event-loop turn) is
		 * needed.  `alive` changes only on this thread. */
		if (e->alive) {
			xn_node *head = atomic_load_explicit(&e->done_ops,
			    memory_order_relaxed);
			do
				r->node.next = head;
			while (
			    !atomic_compare_exchange_weak_explicit(&e->done_ops,
			        &head, &r->node, memory_order_release,
			        memory_order_relaxed));
			return;
		}
		op_release(r);
		return;
	}
	if (!xenv_push(e, &e->done_ops, &r->node))
		op_release(r); /* the env is gone */
}

/* Callback mode's callback: any thread, no xchan lock held, never on a go
 * stack.  Keeps the result for the JS thread, then wakes it as notified. */
static void
called(void *user, xchan_result *result)
{
	xn_op *r = user;
	r->res = *result; /* moved; published by the push (release) */
	r->has_res = true;
	notified(user, NULL);
}

static xn_op *
op_new(xenv *e, int kind)
{
	xn_op *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	atomic_init(&r->refs, 2);
	atomic_init(&r->done, 0);
	XN_COUNT(xn_live_ops, 1);
	r->e = e;
	r->kind = kind;
	xenv_retain(e);
	return r;
}

static void
live_link(xenv *e, xn_op *r)
{
	r->next = e->ops_head;
	if (e->ops_head != NULL)
		e->ops_head->prev = r;
	e->ops_head = r;
	xn_pending_inc(e);
}

static void
live_unlink(xenv *e, xn_op *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		e->ops_head = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

/* ---- settling ------------------------------------------------------------- */

static void
set_prop(napi_env env, napi_value o, const char *k, napi_value v)
{
	napi_set_named_property(env, o, k, v);
}

/* Settles `deferred` with result `res` (moved) of an op of `kind`.  For
 * alts, `chans` is the array of the clauses' Chans (may be NULL). */
static void
settle(napi_env env, xenv *e, napi_deferred deferred, int kind,
    xchan_result res, napi_value chans)
{
	napi_value v = NULL, err = NULL;
	switch (res.err) {
	case XCHAN_OK:
	case XCHAN_ECLOSED:
		if (kind == OP_PUT) {
			xchan_val_release(res.val); /* a put handed back */
			napi_get_boolean(env, res.err == XCHAN_OK, &v);
		} else if (kind == OP_TAKE) {
			/* Another isolate's object: resolved once its owner
			 * answered, without blocking this thread (clone.c). */
			if (res.err == XCHAN_OK && xn_clone_settle_later(env, e,
			                               res.val, deferred, NULL))
				return;
			if (res.err == XCHAN_OK)
				v = xn_from_val_or_error(env, e, res.val, &err);
			else
				napi_get_undefined(env, &v);
		} else {
			napi_value value = NULL, idx, ch;
			xn_alts_result shape = {res.index, chans};
			if (res.err == XCHAN_OK &&
			    xn_clone_settle_later(env, e, res.val, deferred,
			        &shape))
				return;
			if (res.val.kind != XCHAN_NIL)
				value =
				    xn_from_val_or_error(env, e, res.val, &err);
			else
				napi_get_undefined(env, &value);
			if (err != NULL)
				break;
			napi_create_object(env, &v);
			set_prop(env, v, "value", value);
			napi_create_int32(env, res.index, &idx);
			set_prop(env, v, "index", idx);
			if (chans != NULL && res.index >= 0 &&
			    napi_get_element(env, chans, (uint32_t)res.index,
			        &ch) == napi_ok)
				set_prop(env, v, "chan", ch);
		}
		break;
	default:
		xchan_val_release(res.val);
		err = xn_error(env, res.err,
		    res.err == XCHAN_ECANCELED
		        ? "the operation was aborted; nothing was transferred"
		        : NULL);
		break;
	}
	if (err != NULL)
		napi_reject_deferred(env, deferred, err);
	else
		napi_resolve_deferred(env, deferred, v);
}

/* A put clause that completed moved its value into the channel; an alts put
 * clause reports true/false, as core.async does. */
static xchan_result
clause_result(xn_op *r, xchan_result res)
{
	if (r->clauses == NULL || res.index < 0 || (size_t)res.index >= r->n ||
	    r->clauses[res.index].op != XCHAN_ALT_PUT)
		return res;
	mark_moved(r, &res);
	if (r->kind == OP_ALTS && r->mode == MODE_PROMISE &&
	    (res.err == XCHAN_OK || res.err == XCHAN_ECLOSED)) {
		xchan_val_release(res.val);
		res.val = xchan_val_bool(res.err == XCHAN_OK);
		res.err = XCHAN_OK;
	}
	return res;
}

/* Settles record r with `res` (moved); JS thread. */
static void
op_settle(xn_op *r, xchan_result res)
{
	xenv *e = r->e;
	napi_env env = e->env;
	r->settled = true;
	live_unlink(e, r);
	if (r->token != NULL)
		xn_token_unwatch_op(r->token, r->op);
	r->token = NULL;
	res = clause_result(r, res);
	if (xenv_alive(e)) {
		napi_handle_scope scope;
		napi_open_handle_scope(env, &scope);
		napi_value chans = NULL;
		if (r->chans != NULL)
			napi_get_reference_value(env, r->chans, &chans);
		settle(env, e, r->deferred, r->kind, res, chans);
		napi_close_handle_scope(env, scope);
		xn_pending_dec(e);
	} else {
		xchan_val_release(res.val);
		e->pending--;
	}
	if (r->chans != NULL)
		napi_delete_reference(env, r->chans);
	r->chans = NULL;
	op_release(r); /* the JS side */
}

/* Collects the result of a completed record; false if there is none. */
static bool
op_take_result(xn_op *r, xchan_result *out)
{
	return r->op != NULL && xchan_op_collect(r->op, out) == XCHAN_OK;
}

/* {code, index, value} for a result of the low-level API (moved).  A value
 * this isolate cannot read (a host object of another runtime) gives code
 * ERUNTIME and the error (holding the value) as `error`. */
static napi_value
result_object(napi_env env, xenv *e, xchan_result res)
{
	napi_value o, v, err = NULL;
	napi_create_object(env, &o);
	if (res.val.kind != XCHAN_NIL) {
		v = xn_from_val_or_error(env, e, res.val, &err);
		if (v == NULL && err == NULL) {
			/* A pending exception (out of memory): report it as
			 * the result's error instead. */
			napi_get_and_clear_last_exception(env, &err);
		}
	}
	if (err != NULL) {
		napi_get_undefined(env, &v);
		set_prop(env, o, "error", err);
		res.err = XCHAN_ERUNTIME;
	} else if (res.val.kind == XCHAN_NIL) {
		napi_get_undefined(env, &v);
	}
	napi_value code, idx;
	const char *name = xchan_err_name(res.err);
	napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
	napi_create_int32(env, res.index, &idx);
	set_prop(env, o, "code", code);
	set_prop(env, o, "index", idx);
	set_prop(env, o, "value", v);
	return o;
}

/* Calls fn(arg?) on the JS thread; an exception it throws is an uncaught
 * exception, as in any other callback the event loop runs. */
static void
call_user(napi_env env, napi_ref fn_ref, napi_value arg)
{
	napi_value fn, undef, ret;
	if (fn_ref == NULL ||
	    napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL)
		return;
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, arg != NULL ? 1 : 0, &arg,
	        &ret) != napi_ok)
		xn_report_uncaught(env);
}

/* A low-level op's completion reached this JS thread: callback mode calls
 * the JS callback with the result; notify mode calls the notifier (unless
 * cancelEx took the result); the user collects.  JS thread. */
static void
op_deliver(xn_op *r)
{
	xenv *e = r->e;
	napi_env env = e->env;
	r->settled = true;
	live_unlink(e, r);
	if (xenv_alive(e)) {
		napi_handle_scope scope;
		napi_open_handle_scope(env, &scope);
		xn_pending_dec(e);
		if (r->mode == MODE_CALLBACK && r->has_res) {
			r->has_res = false;
			xchan_result res = clause_result(r, r->res);
			call_user(env, r->fn, result_object(env, e, res));
		} else if (r->mode == MODE_NOTIFY && !r->taken) {
			call_user(env, r->fn, NULL);
		}
		napi_close_handle_scope(env, scope);
	} else {
		e->pending--;
	}
	if (r->fn != NULL)
		napi_delete_reference(env, r->fn);
	r->fn = NULL;
	if (r->chans != NULL)
		napi_delete_reference(env, r->chans);
	r->chans = NULL;
	op_release(r); /* the JS side */
}

void
xn_drain_ops(xenv *e)
{
	xn_node *n =
	    atomic_exchange_explicit(&e->done_ops, NULL, memory_order_acquire);
	/* Newest first: reverse into completion order. */
	xn_node *fifo = NULL;
	while (n != NULL) {
		xn_node *next = n->next;
		n->next = fifo;
		fifo = n;
		n = next;
	}
	while (fifo != NULL) {
		xn_op *r = (xn_op *)fifo;
		fifo = fifo->next;
		xchan_result res;
		if (r->mode != MODE_PROMISE) {
			if (!r->settled)
				op_deliver(r);
		} else if (!r->settled && op_take_result(r, &res)) {
			op_settle(r, res);
		}
		op_release(r); /* the core side */
	}
}

/* Cancels every pending op of a dying env: each notifier (or callback) then
 * runs once, now or when its completion is delivered, and the teardown's
 * drain (or op_release, once the env is gone) releases what it carried. */
void
xn_cancel_all_ops(xenv *e)
{
	while (e->ops_head != NULL) {
		xn_op *r = e->ops_head;
		live_unlink(e, r);
		r->settled = true;
		if (r->op != NULL)
			XN_CORE(xchan_op_cancel(r->op));
		op_release(r); /* the JS side */
	}
	e->pending = 0;
}

/* ---- starting ------------------------------------------------------------- */

static bool
opt_ms(napi_env env, napi_value v, bool *has, int64_t *ms)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	*has = false;
	if (t == napi_undefined || t == napi_null)
		return true;
	double d;
	if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
	    d != d) {
		xn_throw(env, XCHAN_EINVAL,
		    "timeout must be a number of milliseconds");
		return false;
	}
	*has = true;
	*ms = d < 0 ? 0 : d > 9e15 ? (int64_t)9e15 : (int64_t)d;
	return true;
}

static napi_value
settled_promise(napi_env env, xenv *e, int kind, xchan_result res,
    napi_value chans)
{
	napi_value promise;
	napi_deferred d;
	xn_drain_local(e); /* ops this one completed settle first */
	NAPI_CALL(env, napi_create_promise(env, &d, &promise));
	settle(env, e, d, kind, res, chans);
	return promise;
}

static napi_value
rejected_with_pending_exception(napi_env env)
{
	napi_value exc, promise;
	napi_deferred d;
	napi_get_and_clear_last_exception(env, &exc);
	NAPI_CALL(env, napi_create_promise(env, &d, &promise));
	napi_reject_deferred(env, d, exc);
	return promise;
}

static void
holder_finalize(napi_env env, void *data, void *hint)
{
	op_release(data);
}

/* Registers r (started) and returns its promise; exposes it in holder.op
 * when a holder object is given. */
static napi_value
op_pending(napi_env env, xn_op *r, napi_value promise, napi_value holder)
{
	live_link(r->e, r);
	/* It may have completed during the start (the notifier pushed it on
	 * this thread): it then settles at the next drain, like any other. */
	napi_valuetype t;
	napi_typeof(env, holder, &t);
	if (t == napi_object) {
		napi_value ext;
		atomic_fetch_add(&r->refs, 1);
		if (napi_create_external(env, r, holder_finalize, NULL, &ext) ==
		    napi_ok)
			napi_set_named_property(env, holder, "op", ext);
		else
			op_release(r);
	}
	xn_drain_local(r->e);
	return promise;
}

/* After the core call (result rc) that started r, whose promise is
 * `promise`: a failed start rejects it and drops r; a started r is
 * registered (op_pending). */
static napi_value
op_started(napi_env env, xn_op *r, napi_value promise, int32_t rc,
    napi_value holder)
{
	if (rc != XCHAN_OK) {
		napi_reject_deferred(env, r->deferred, xn_error(env, rc, NULL));
		op_release(r);
		op_release(r);
		return promise;
	}
	return op_pending(env, r, promise, holder);
}

/* Starts alts_async for r (clauses in r), returning the promise. */
static napi_value
start_alts(napi_env env, xn_op *r, uint32_t flags, xchan_deadline deadline,
    napi_value holder)
{
	napi_value promise;
	NAPI_CALL(env, napi_create_promise(env, &r->deferred, &promise));
	int32_t rc = XN_CORE(xchan_alts_async(&r->op, r->clauses, r->n,
	    flags | XCHAN_ASYNC_NOTIFY, deadline, notified, r));
	return op_started(env, r, promise, rc, holder);
}

/* A take (v unused) or put of v on ch with a deadline `ms` from now: a
 * one-clause alts.  The put's v is r's from here on, also on failure. */
static napi_value
start_with_deadline(napi_env env, xn_op *r, xchan_alt_op op, xchan_chan *ch,
    xchan_val v, int64_t ms, napi_value holder)
{
	r->clauses = calloc(1, sizeof *r->clauses);
	if (r->clauses == NULL) {
		if (op == XCHAN_ALT_PUT)
			xchan_val_release(v);
		op_release(r);
		op_release(r);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return rejected_with_pending_exception(env);
	}
	r->n = 1;
	r->clauses[0].op = op;
	r->clauses[0].chan = ch;
	if (op == XCHAN_ALT_PUT)
		r->clauses[0].val = v;
	return start_alts(env, r, 0, xchan_deadline_in_ms(ms), holder);
}

/* take(h, timeoutMs?, holder?) -> Promise<value | undefined> */
static napi_value
js_take(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xenv *e = xn_env(env);
	xn_chan *c;
	bool has_ms;
	int64_t ms = 0;
	if (!xn_arg_chan(env, argv[0], &c) ||
	    !opt_ms(env, argv[1], &has_ms, &ms))
		return rejected_with_pending_exception(env);
	xchan_result res = {0, -1, {0}};
	res.err = XN_CORE(xchan_poll(&res.val, c->ch));
	if (res.err != XCHAN_EAGAIN)
		return settled_promise(env, e, OP_TAKE, res, NULL);
	xn_op *r = op_new(e, OP_TAKE);
	if (r == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return rejected_with_pending_exception(env);
	}
	if (has_ms)
		return start_with_deadline(env, r, XCHAN_ALT_TAKE, c->ch,
		    xchan_val_nil(), ms, argv[2]);
	napi_value promise;
	NAPI_CALL(env, napi_create_promise(env, &r->deferred, &promise));
	int32_t rc = XN_CORE(
	    xchan_take_async(&r->op, c->ch, XCHAN_ASYNC_NOTIFY, notified, r));
	return op_started(env, r, promise, rc, argv[2]);
}

/* put(h, v, timeoutMs?, holder?) -> Promise<boolean> */
static napi_value
js_put(napi_env env, napi_callback_info info)
{
	ARGS(4);
	xenv *e = xn_env(env);
	xn_chan *c;
	bool has_ms;
	int64_t ms = 0;
	xchan_val v;
	if (!xn_arg_chan(env, argv[0], &c) ||
	    !opt_ms(env, argv[2], &has_ms, &ms) ||
	    !xn_to_val(env, e, argv[1], &v))
		return rejected_with_pending_exception(env);
	xchan_result res = {0, -1, {0}};
	res.err = XN_CORE(xchan_offer(c->ch, v));
	if (res.err != XCHAN_EAGAIN) {
		if (res.err != XCHAN_OK)
			res.val = v; /* handed back: released by settle */
		return settled_promise(env, e, OP_PUT, res, NULL);
	}
	xn_op *r = op_new(e, OP_PUT);
	if (r == NULL) {
		xchan_val_release(v);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return rejected_with_pending_exception(env);
	}
	if (has_ms)
		return start_with_deadline(env, r, XCHAN_ALT_PUT, c->ch, v, ms,
		    argv[3]);
	napi_value promise;
	NAPI_CALL(env, napi_create_promise(env, &r->deferred, &promise));
	int32_t rc = XN_CORE(
	    xchan_put_async(&r->op, c->ch, v, XCHAN_ASYNC_NOTIFY, notified, r));
	if (rc != XCHAN_OK)
		xchan_val_release(v); /* stays the caller's on error */
	return op_started(env, r, promise, rc, argv[3]);
}

/* Builds clauses from (chans: external[], vals: (value|undefined)[]).
 * undefined means a take.  Throws and returns NULL on bad input. */
static xchan_clause *
build_clauses(napi_env env, xenv *e, napi_value exts, napi_value vals,
    size_t *out_n)
{
	uint32_t n = 0, nv = 0;
	bool is_arr = false;
	napi_is_array(env, exts, &is_arr);
	if (!is_arr || napi_get_array_length(env, exts, &n) != napi_ok ||
	    napi_get_array_length(env, vals, &nv) != napi_ok || nv != n ||
	    n == 0) {
		xn_throw(env, XCHAN_EINVAL,
		    "alts needs a non-empty array of clauses: a Chan (take) "
		    "or [chan, value] (put)");
		return NULL;
	}
	xchan_clause *cl = calloc(n, sizeof *cl);
	if (cl == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		napi_value x, v;
		napi_valuetype t;
		xn_chan *c;
		napi_get_element(env, exts, i, &x);
		napi_get_element(env, vals, i, &v);
		if ((c = xn_chan_from_external(env, x)) == NULL) {
			xn_throw(env, XCHAN_EINVAL,
			    "each alts clause is a Chan or [chan, value]");
			goto fail;
		}
		cl[i].chan = c->ch;
		napi_typeof(env, v, &t);
		if (t == napi_undefined) {
			cl[i].op = XCHAN_ALT_TAKE;
		} else {
			cl[i].op = XCHAN_ALT_PUT;
			if (!xn_to_val(env, e, v, &cl[i].val))
				goto fail;
		}
	}
	*out_n = n;
	return cl;
fail:
	for (uint32_t i = 0; i < n; i++)
		if (cl[i].op == XCHAN_ALT_PUT)
			xchan_val_release(cl[i].val);
	free(cl);
	return NULL;
}

/* Frees clauses build_clauses made, releasing the put values but the one
 * clause `won` delivered (-1: none). */
static void
free_clauses(xchan_clause *cl, size_t n, int32_t won)
{
	for (size_t i = 0; i < n; i++)
		if (cl[i].op == XCHAN_ALT_PUT && (int32_t)i != won)
			xchan_val_release(cl[i].val);
	free(cl);
}

/* alts(exts, vals, chans, priority, timeoutMs?, hasDefault, holder?)
 *  -> Promise<{value, index, chan}>, or undefined when hasDefault and
 *  nothing was ready (the caller supplies the default). */
static napi_value
js_alts(napi_env env, napi_callback_info info)
{
	ARGS(7);
	xenv *e = xn_env(env);
	bool prio = false, has_default = false, has_ms;
	int64_t ms = 0;
	size_t n = 0;
	napi_get_value_bool(env, argv[3], &prio);
	napi_get_value_bool(env, argv[5], &has_default);
	if (!opt_ms(env, argv[4], &has_ms, &ms))
		return has_default ? NULL
		                   : rejected_with_pending_exception(env);
	xchan_clause *cl = build_clauses(env, e, argv[0], argv[1], &n);
	if (cl == NULL)
		return has_default ? NULL
		                   : rejected_with_pending_exception(env);
	uint32_t flags = prio ? XCHAN_ALTS_PRIORITY : 0;
	xchan_result res = {0, -1, {0}};
	int32_t rc =
	    XN_CORE(xchan_alts(&res, cl, n, flags, XCHAN_DEADLINE_POLL));
	if (rc != XCHAN_EAGAIN) {
		int32_t won = res.err == XCHAN_OK ? res.index : -1;
		if (res.index >= 0 && cl[res.index].op == XCHAN_ALT_PUT) {
			res.val = xchan_val_bool(res.err == XCHAN_OK);
			res.err = XCHAN_OK;
		} else if (res.index < 0) {
			res.err = rc;
		}
		free_clauses(cl, n, won);
		if (has_default && res.index < 0) {
			xn_throw(env, res.err, NULL);
			return NULL;
		}
		return settled_promise(env, e, OP_ALTS, res, argv[2]);
	}
	if (has_default) {
		free_clauses(cl, n, -1);
		return xn_undefined(env);
	}
	xn_op *r = op_new(e, OP_ALTS);
	if (r == NULL) {
		free_clauses(cl, n, -1);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return rejected_with_pending_exception(env);
	}
	r->clauses = cl;
	r->n = n;
	napi_create_reference(env, argv[2], 1, &r->chans);
	return start_alts(env, r, flags,
	    has_ms ? xchan_deadline_in_ms(ms) : XCHAN_DEADLINE_NEVER, argv[6]);
}

/* cancelOp(holder.op): abandons a pending op (AbortSignal).  Returns true
 * if it was canceled (nothing transferred: the promise rejects with
 * ECANCELED, a put's value is released), false if it had completed (its
 * promise settles with that result at the next drain: no value is lost).
 *
 * This uses xchan_op_cancel, not xchan_op_cancel_ex: with cancel_ex, when the
 * operation had already completed, the caller cannot tell whether the
 * notifier has started (and will push this record) or was suppressed, so it
 * could neither free the record nor leave it; with xchan_op_cancel the
 * notifier runs exactly once in both outcomes (on this thread, before the
 * call returns, when the cancel wins). */
static napi_value
js_cancel_op(napi_env env, napi_callback_info info)
{
	ARGS(1);
	void *data = NULL;
	napi_value ret;
	if (napi_get_value_external(env, argv[0], &data) != napi_ok ||
	    data == NULL) {
		xn_throw(env, XCHAN_EINVAL, "cancelOp needs an op handle");
		return NULL;
	}
	xn_op *r = data;
	bool canceled = false;
	if (!r->settled && r->op != NULL &&
	    XN_CORE(xchan_op_cancel(r->op)) == XCHAN_OK) {
		/* The notifier ran here and pushed r: settle now; the drain
		 * drops the core side. */
		xchan_result res;
		canceled = true;
		if (op_take_result(r, &res))
			op_settle(r, res);
	}
	napi_get_boolean(env, canceled, &ret);
	return ret;
}

/* ---- the low-level API: op handles (putAsync/takeAsync/altsAsync) -------- */

/* Reads (mode, fn, dispatch): mode 1 callback (fn required), 2 notify (fn
 * optional: the notifier).  Sets r->mode/r->fn and returns the core flags;
 * throws and returns UINT32_MAX on bad input. */
static uint32_t
low_mode(napi_env env, xn_op *r, napi_value mode_v, napi_value fn_v,
    napi_value dispatch_v)
{
	int32_t mode = 0;
	bool dispatch = false;
	napi_valuetype t;
	napi_get_value_int32(env, mode_v, &mode);
	napi_get_value_bool(env, dispatch_v, &dispatch);
	napi_typeof(env, fn_v, &t);
	if ((mode != MODE_CALLBACK && mode != MODE_NOTIFY) ||
	    (mode == MODE_CALLBACK && t != napi_function) ||
	    (t != napi_function && t != napi_undefined && t != napi_null)) {
		xn_throw(env, XCHAN_EINVAL,
		    "an async op takes a callback (callback mode) or a "
		    "notifier function (notify mode)");
		return UINT32_MAX;
	}
	r->mode = mode;
	if (t == napi_function &&
	    napi_create_reference(env, fn_v, 1, &r->fn) != napi_ok) {
		xn_throw_last(env);
		return UINT32_MAX;
	}
	if (mode == MODE_NOTIFY)
		return XCHAN_ASYNC_NOTIFY | XCHAN_ASYNC_NOTIFY_ALWAYS;
	return dispatch ? XCHAN_ASYNC_DISPATCH : 0;
}

/* Drops a record whose start failed (never linked, no completion). */
static void
low_abandon(napi_env env, xn_op *r)
{
	if (r->fn != NULL)
		napi_delete_reference(env, r->fn);
	r->fn = NULL;
	if (r->chans != NULL)
		napi_delete_reference(env, r->chans);
	r->chans = NULL;
	op_release(r);
	op_release(r);
}

/* A linked record's start returned rc.  On failure: unlinks and drops r,
 * throws and returns NULL.  After a successful start: settles what the
 * start completed on this thread (a callback mode op that completed at once
 * runs its callback before the call returns, on the caller, as in C) and
 * returns the op handle, or undefined when there is none (callback mode:
 * completed during the call, or no handle asked for). */
static napi_value
low_finish(napi_env env, xn_op *r, int32_t rc, bool want)
{
	if (rc != XCHAN_OK) {
		live_unlink(r->e, r);
		xn_pending_dec(r->e);
		low_abandon(env, r);
		xn_throw(env, rc, NULL);
		return NULL;
	}
	xenv *e = r->e;
	napi_value ext;
	bool has = want && r->op != NULL;
	if (has) {
		atomic_fetch_add(&r->refs, 1);
		if (napi_create_external(env, r, holder_finalize, NULL, &ext) !=
		    napi_ok) {
			op_release(r);
			has = false;
		}
	}
	xn_drain_local(e);
	if (!has)
		napi_get_undefined(env, &ext);
	return ext;
}

/* A new record of `kind` for a low-level op, with the clauses cl[n] of an
 * alts (NULL, 0 otherwise; r's from here on, also on failure) and its
 * (mode, fn, dispatch) arguments read (*flags: the core flags).  NULL
 * (thrown) on bad input or no memory. */
static xn_op *
low_new(napi_env env, xenv *e, int kind, xchan_clause *cl, size_t n,
    napi_value const mode_args[3], uint32_t *flags)
{
	xn_op *r = op_new(e, kind);
	if (r == NULL) {
		if (cl != NULL)
			free_clauses(cl, n, -1);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	r->clauses = cl;
	r->n = n;
	*flags = low_mode(env, r, mode_args[0], mode_args[1], mode_args[2]);
	if (*flags == UINT32_MAX) {
		low_abandon(env, r);
		return NULL;
	}
	return r;
}

/* takeAsync(h, mode, fn, dispatch, wantHandle) -> external | undefined */
static napi_value
js_take_async(napi_env env, napi_callback_info info)
{
	ARGS(5);
	xenv *e = xn_env(env);
	xn_chan *c;
	bool want = true;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	napi_get_value_bool(env, argv[4], &want);
	uint32_t flags;
	xn_op *r = low_new(env, e, OP_TAKE, NULL, 0, &argv[1], &flags);
	if (r == NULL)
		return NULL;
	live_link(e, r);
	bool out = want || r->mode == MODE_NOTIFY;
	int32_t rc = XN_CORE(xchan_take_async(out ? &r->op : NULL, c->ch, flags,
	    r->mode == MODE_NOTIFY ? notified : called, r));
	return low_finish(env, r, rc, want);
}

/* putAsync(h, v, mode, fn, dispatch, wantHandle) -> external | undefined */
static napi_value
js_put_async(napi_env env, napi_callback_info info)
{
	ARGS(6);
	xenv *e = xn_env(env);
	xn_chan *c;
	bool want = true;
	xchan_val v;
	if (!xn_arg_chan(env, argv[0], &c) || !xn_to_val(env, e, argv[1], &v))
		return NULL;
	napi_get_value_bool(env, argv[5], &want);
	uint32_t flags;
	xn_op *r = low_new(env, e, OP_PUT, NULL, 0, &argv[2], &flags);
	if (r == NULL) {
		xchan_val_release(v);
		return NULL;
	}
	live_link(e, r);
	bool out = want || r->mode == MODE_NOTIFY;
	int32_t rc = XN_CORE(xchan_put_async(out ? &r->op : NULL, c->ch, v,
	    flags, r->mode == MODE_NOTIFY ? notified : called, r));
	if (rc != XCHAN_OK)
		xchan_val_release(v); /* stays the caller's on error */
	return low_finish(env, r, rc, want);
}

/* altsAsync(exts, vals, chans, priority, timeoutMs?, mode, fn, dispatch,
 * wantHandle, poll) -> external | undefined.  poll: XCHAN_DEADLINE_POLL
 * (the default clause: EAGAIN when nothing is ready). */
static napi_value
js_alts_async(napi_env env, napi_callback_info info)
{
	ARGS(10);
	xenv *e = xn_env(env);
	bool prio = false, has_ms, want = true, poll = false;
	napi_get_value_bool(env, argv[9], &poll);
	int64_t ms = 0;
	size_t n = 0;
	napi_get_value_bool(env, argv[3], &prio);
	napi_get_value_bool(env, argv[8], &want);
	if (!opt_ms(env, argv[4], &has_ms, &ms))
		return NULL;
	xchan_clause *cl = build_clauses(env, e, argv[0], argv[1], &n);
	if (cl == NULL)
		return NULL;
	uint32_t flags;
	xn_op *r = low_new(env, e, OP_ALTS, cl, n, &argv[5], &flags);
	if (r == NULL)
		return NULL;
	napi_create_reference(env, argv[2], 1, &r->chans);
	live_link(e, r);
	bool out = want || r->mode == MODE_NOTIFY;
	int32_t rc = XN_CORE(xchan_alts_async(out ? &r->op : NULL, cl, n,
	    flags | (prio ? XCHAN_ALTS_PRIORITY : 0),
	    poll     ? XCHAN_DEADLINE_POLL
	    : has_ms ? xchan_deadline_in_ms(ms)
	             : XCHAN_DEADLINE_NEVER,
	    r->mode == MODE_NOTIFY ? notified : called, r));
	return low_finish(env, r, rc, want);
}

/* The started op handle that is a low-level function's only argument;
 * NULL (thrown) otherwise. */
static xn_op *
op_arg(napi_env env, napi_callback_info info)
{
	ARGS(1);
	void *data = NULL;
	if (napi_get_value_external(env, argv[0], &data) != napi_ok ||
	    data == NULL || ((xn_op *)data)->op == NULL) {
		xn_throw(env, XCHAN_EINVAL, "expected an op handle");
		return NULL;
	}
	return data;
}

/* What opCollect / opCancelEx return: the result (rc XCHAN_OK) they moved
 * out of r's op as {code, index, value}, or NULL after throwing rc with msg
 * (NULL: the core's message). */
static napi_value
moved_result(napi_env env, xn_op *r, int32_t rc, xchan_result res,
    const char *msg)
{
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, msg);
		return NULL;
	}
	mark_moved(r, &res);
	return result_object(env, r->e, res);
}

/* opState(op) -> "pending" | "completed" | "delivered" | "canceled" */
static napi_value
js_op_state(napi_env env, napi_callback_info info)
{
	xn_op *r = op_arg(env, info);
	if (r == NULL)
		return NULL;
	static const char *const names[] = {"pending", "completed", "delivered",
	    "canceled"};
	int32_t st = xchan_op_state_get(r->op);
	if (st < 0 || st > 3) {
		xn_throw(env, -st, NULL);
		return NULL;
	}
	return xn_string(env, names[st]);
}

/* opCollect(op) -> {code, index, value}; throws EAGAIN, EDONE, EINVAL. */
static napi_value
js_op_collect(napi_env env, napi_callback_info info)
{
	xn_op *r = op_arg(env, info);
	if (r == NULL)
		return NULL;
	xchan_result res;
	int32_t rc = xchan_op_collect(r->op, &res);
	return moved_result(env, r, rc, res,
	    rc == XCHAN_EAGAIN ? "the operation has not completed yet"
	    : rc == XCHAN_EDONE
	        ? "the result was already collected (or taken by cancelEx)"
	    : rc == XCHAN_EINVAL
	        ? "collect() is for notify-mode ops (started without a "
	          "callback); this op delivers to its callback"
	        : NULL);
}

/* opCancel(op) -> true (the cancel won) | false (it had completed) */
static napi_value
js_op_cancel(napi_env env, napi_callback_info info)
{
	xn_op *r = op_arg(env, info);
	if (r == NULL)
		return NULL;
	int32_t rc = XN_CORE(xchan_op_cancel(r->op));
	if (rc != XCHAN_OK && rc != XCHAN_EDONE) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return xn_boolean(env, rc == XCHAN_OK);
}

/* opCancelEx(op) -> {code, index, value}: the cancel won (ECANCELED, a put's
 * value handed back) or the completed, undelivered result; throws EDONE
 * when it was already delivered.  The callback / notifier then does not
 * run. */
static napi_value
js_op_cancel_ex(napi_env env, napi_callback_info info)
{
	xn_op *r = op_arg(env, info);
	if (r == NULL)
		return NULL;
	xchan_result res;
	int32_t rc = XN_CORE(xchan_op_cancel_ex(r->op, &res));
	napi_value o = moved_result(env, r, rc, res,
	    rc == XCHAN_EDONE ? "the result was already delivered" : NULL);
	if (rc != XCHAN_OK)
		return NULL;
	if (r->mode == MODE_NOTIFY) {
		r->taken = true; /* its notifier still runs (ALWAYS): silent */
	} else if (r->mode == MODE_CALLBACK && !r->settled) {
		/* The core will not call back: finish both sides here. */
		r->settled = true;
		live_unlink(r->e, r);
		xn_pending_dec(r->e);
		if (r->fn != NULL)
			napi_delete_reference(env, r->fn);
		r->fn = NULL;
		op_release(r); /* the JS side */
		op_release(r); /* the core side */
	}
	return o;
}

/* cancelWatch(token, holder.op): a CancelToken firing cancels the pending
 * Promise op (as an AbortSignal would); a token that has already fired
 * cancels it now. */
static napi_value
js_cancel_watch(napi_env env, napi_callback_info info)
{
	ARGS(2);
	xn_token *tok = xn_token_arg(env, argv[0]);
	void *data = NULL;
	if (tok == NULL)
		return NULL;
	if (napi_get_value_external(env, argv[1], &data) != napi_ok ||
	    data == NULL) {
		xn_throw(env, XCHAN_EINVAL, "cancelWatch needs an op handle");
		return NULL;
	}
	xn_op *r = data;
	if (r->settled || r->op == NULL || r->token != NULL)
		return NULL;
	if (xn_token_watch_op(tok, r->op))
		r->token = tok;
	else
		XN_CORE(xchan_op_cancel(r->op)); /* settles at the drain */
	return NULL;
}

napi_status
xn_init_async(napi_env env, napi_value exports)
{
	napi_status s = xn_init_cancel(env, exports);
	if (s != napi_ok)
		return s;
	static const xn_fn_entry fns[] = {{"cancelWatch", js_cancel_watch},
	    {"take", js_take}, {"put", js_put}, {"alts", js_alts},
	    {"cancelOp", js_cancel_op}, {"takeAsync", js_take_async},
	    {"putAsync", js_put_async}, {"altsAsync", js_alts_async},
	    {"opState", js_op_state}, {"opCollect", js_op_collect},
	    {"opCancel", js_op_cancel}, {"opCancelEx", js_op_cancel_ex}};
	return XN_EXPORT_TABLE(env, exports, fns);
}
