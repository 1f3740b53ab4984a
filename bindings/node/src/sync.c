/*
 * sync.c — blocking takeSync/putSync/altsSync, for worker threads only.
 *
 * Each is an alts in notify mode (XCHAN_ASYNC_NOTIFY: the op keeps its place
 * in the channels' queues like any blocked operation) whose notifier wakes
 * the worker's serving wait (jscall.c).  While it waits, the worker runs the
 * JS calls other threads ask of it: the steps of the transform channels it
 * made, its combinators' callbacks.  So blocking here does not stop the
 * JS code the worker owns (a blocking wait inside the core would).
 *
 * The env's cancel token is fired when the worker is terminated
 * (Worker.prototype.terminate, patched by index.js, and the env cleanup
 * hook): the wait then cancels the op (xchan_op_cancel: either nothing was
 * transferred, ECANCELED, or the op had completed and its result is
 * returned), so a terminated worker never loses a value.  On the main
 * thread they throw: blocking it would stall the event loop and every
 * Promise.
 *
 * No lock of its own: the wait record lives on the waiting thread's stack
 * until the notifier has signalled (xn_serve_signal, under the env's
 * wlock), which happens exactly once per op, also when it is canceled.
 */
#include <stdio.h>
#include <stdlib.h>

#include "addon.h"
#include "args.h"

static bool
check_thread(napi_env env, xenv *e, const char *what)
{
	if (!e->is_main)
		return true;
	char msg[256];
	snprintf(msg, sizeof msg,
	    "%s blocks its thread, and the main thread must never block (it "
	    "runs the event loop): use the Promise form (await ch.%s) here, "
	    "and %s inside worker threads",
	    what,
	    what[0] == 't'   ? "take()"
	    : what[0] == 'p' ? "put(v)"
	                     : "alts()",
	    what);
	xn_throw(env, XCHAN_ESTATE, msg);
	return false;
}

static bool
deadline_arg(napi_env env, napi_value v, xchan_deadline *out)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	if (t == napi_undefined || t == napi_null) {
		*out = XCHAN_DEADLINE_NEVER;
		return true;
	}
	double d;
	if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
	    d != d) {
		xn_throw(env, XCHAN_EINVAL,
		    "timeout must be a number of milliseconds");
		return false;
	}
	*out = xchan_deadline_in_ms(d < 0      ? 0
	                            : d > 9e15 ? (int64_t)9e15
	                                       : (int64_t)d);
	return true;
}

/* One blocking op's wait. */
typedef struct sync_wait {
	xenv *e;
	atomic_int done;
} sync_wait;

/* The notifier: any thread, no xchan lock held, never on a go stack. */
static void
sync_notified(void *user, xchan_result *result)
{
	sync_wait *w = user;
	(void)result; /* NULL in notify mode: the waiting thread collects */
	xn_serve_signal(w->e, &w->done);
}

int32_t
xn_alts_serving(xenv *e, xchan_result *res, const xchan_clause *cl, size_t n,
    uint32_t flags, xchan_deadline deadline, bool interruptible)
{
	sync_wait w = {e, 0};
	xchan_op *op = NULL;
	res->err = XCHAN_OK;
	res->index = -1;
	res->val = xchan_val_nil();
	int32_t rc = XN_CORE(xchan_alts_async(&op, cl, n,
	    flags | XCHAN_ASYNC_NOTIFY, deadline, sync_notified, &w));
	xn_drain_local(e);
	if (rc != XCHAN_OK)
		return rc;
	if (interruptible && xn_serve_wait(e, &w.done) == XCHAN_ECANCELED) {
		/* Either the cancel wins (the notifier runs here, now) or the
		 * op has completed (its notifier has run or is about to):
		 * wait for it before w goes away. */
		XN_CORE(xchan_op_cancel(op));
		xn_drain_local(e);
	}
	xn_serve_wait_until_done(e, &w.done);
	if (xchan_op_collect(op, res) != XCHAN_OK) {
		res->err = XCHAN_ECANCELED;
		res->index = -1;
		res->val = xchan_val_nil();
	}
	xchan_op_release(op);
	return XCHAN_OK;
}

/* A one-clause wait; returns the op's result code (and value) like the
 * blocking calls: XCHAN_OK, XCHAN_ECLOSED, XCHAN_ETIMEDOUT, ECANCELED... */
static int32_t
wait_one(xenv *e, xchan_clause *cl, xchan_deadline dl, xchan_val *out)
{
	xchan_result res;
	int32_t rc =
	    xn_alts_serving(e, &res, cl, 1, XCHAN_ALTS_PRIORITY, dl, true);
	if (rc != XCHAN_OK)
		return rc;
	if (res.index < 0 && res.err == XCHAN_OK)
		res.err = XCHAN_ETIMEDOUT;
	*out = res.val;
	return res.err;
}

static void
throw_wait(napi_env env, int32_t rc)
{
	xn_throw(env, rc,
	    rc == XCHAN_ECANCELED
	        ? "the wait was interrupted: this worker is being terminated "
	          "(nothing was transferred)"
	        : NULL);
}

/* takeSync(h, timeoutMs?) -> value | undefined (closed) */
static napi_value
js_take_sync(napi_env env, napi_callback_info info)
{
	ARGS(2);
	xenv *e = xn_env(env);
	xn_chan *c;
	xchan_deadline dl;
	if (!check_thread(env, e, "takeSync()") ||
	    !xn_arg_chan(env, argv[0], &c) || !deadline_arg(env, argv[1], &dl))
		return NULL;
	xchan_val v;
	int32_t rc = XN_CORE(xchan_poll(&v, c->ch));
	xn_drain_local(e);
	if (rc == XCHAN_EAGAIN) {
		xchan_clause cl = {XCHAN_ALT_TAKE, 0, c->ch, {0}};
		rc = wait_one(e, &cl, dl, &v);
	}
	if (rc == XCHAN_OK)
		return xn_from_val(env, e, v);
	if (rc == XCHAN_ECLOSED) {
		return xn_undefined(env);
	}
	throw_wait(env, rc);
	return NULL;
}

/* putSync(h, v, timeoutMs?) -> boolean (false: closed) */
static napi_value
js_put_sync(napi_env env, napi_callback_info info)
{
	ARGS(3);
	xenv *e = xn_env(env);
	xn_chan *c;
	xchan_deadline dl;
	xchan_val v;
	if (!check_thread(env, e, "putSync()") ||
	    !xn_arg_chan(env, argv[0], &c) ||
	    !deadline_arg(env, argv[2], &dl) || !xn_to_val(env, e, argv[1], &v))
		return NULL;
	int32_t rc = XN_CORE(xchan_offer(c->ch, v));
	xn_drain_local(e);
	if (rc == XCHAN_OK)
		v = xchan_val_nil(); /* moved into the channel */
	if (rc == XCHAN_EAGAIN) {
		/* The clause keeps v unless the put completes. */
		xchan_clause cl = {XCHAN_ALT_PUT, 0, c->ch, v};
		xchan_val back = xchan_val_nil();
		rc = wait_one(e, &cl, dl, &back);
		xchan_val_release(back);
		if (rc == XCHAN_OK)
			v = xchan_val_nil(); /* moved into the channel */
	}
	napi_value r;
	if (rc == XCHAN_OK || rc == XCHAN_ECLOSED) {
		xchan_val_release(v);
		napi_get_boolean(env, rc == XCHAN_OK, &r);
		return r;
	}
	xchan_val_release(v);
	throw_wait(env, rc);
	return NULL;
}

/* altsSync(exts, vals, chans, priority, timeoutMs?, hasDefault)
 *  -> {value, index, chan} | undefined (default) */
static napi_value
js_alts_sync(napi_env env, napi_callback_info info)
{
	ARGS(6);
	xenv *e = xn_env(env);
	bool prio = false, has_default = false;
	xchan_deadline dl;
	napi_get_value_bool(env, argv[3], &prio);
	napi_get_value_bool(env, argv[5], &has_default);
	if (!check_thread(env, e, "altsSync()") ||
	    !deadline_arg(env, argv[4], &dl))
		return NULL;
	if (has_default)
		dl = XCHAN_DEADLINE_POLL;
	uint32_t n = 0;
	if (napi_get_array_length(env, argv[0], &n) != napi_ok || n == 0) {
		xn_throw(env, XCHAN_EINVAL, "altsSync needs clauses");
		return NULL;
	}
	xchan_clause *cl = calloc(n, sizeof *cl);
	if (cl == NULL) {
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	uint32_t built = 0;
	napi_value result = NULL;
	for (; built < n; built++) {
		napi_value x, v;
		napi_valuetype t;
		xn_chan *c;
		napi_get_element(env, argv[0], built, &x);
		napi_get_element(env, argv[1], built, &v);
		if (!xn_arg_chan(env, x, &c))
			goto out;
		cl[built].chan = c->ch;
		napi_typeof(env, v, &t);
		cl[built].op =
		    t == napi_undefined ? XCHAN_ALT_TAKE : XCHAN_ALT_PUT;
		if (cl[built].op == XCHAN_ALT_PUT &&
		    !xn_to_val(env, e, v, &cl[built].val))
			goto out;
	}
	xchan_result res = {0, -1, {0}};
	uint32_t flags = prio ? XCHAN_ALTS_PRIORITY : 0;
	int32_t rc;
	if (has_default) {
		rc = XN_CORE(
		    xchan_alts(&res, cl, n, flags, XCHAN_DEADLINE_POLL));
		xn_drain_local(e);
	} else {
		rc = xn_alts_serving(e, &res, cl, n, flags, dl, true);
		if (rc == XCHAN_OK && res.index < 0)
			rc = res.err == XCHAN_OK ? XCHAN_ETIMEDOUT : res.err;
	}
	if (res.index < 0) {
		if (rc == XCHAN_EAGAIN && has_default)
			napi_get_undefined(env, &result);
		else
			throw_wait(env, rc);
		goto out;
	}
	napi_value value, idx, ch;
	if (cl[res.index].op == XCHAN_ALT_PUT) {
		if (res.err == XCHAN_OK)
			cl[res.index].val = xchan_val_nil(); /* moved */
		xchan_val_release(res.val);
		napi_get_boolean(env, res.err == XCHAN_OK, &value);
	} else if (res.err == XCHAN_OK) {
		value = xn_from_val(env, e, res.val);
		if (value == NULL)
			goto out;
	} else {
		napi_get_undefined(env, &value);
	}
	napi_create_object(env, &result);
	napi_set_named_property(env, result, "value", value);
	napi_create_int32(env, res.index, &idx);
	napi_set_named_property(env, result, "index", idx);
	if (napi_get_element(env, argv[2], (uint32_t)res.index, &ch) == napi_ok)
		napi_set_named_property(env, result, "chan", ch);
out:
	for (uint32_t i = 0; i < built && i < n; i++)
		if (cl[i].op == XCHAN_ALT_PUT)
			xchan_val_release(cl[i].val);
	free(cl);
	return result;
}

napi_status
xn_init_sync(napi_env env, napi_value exports)
{
	static const xn_fn_entry fns[] = {{"takeSync", js_take_sync},
	    {"putSync", js_put_sync}, {"altsSync", js_alts_sync}};
	return XN_EXPORT_TABLE(env, exports, fns);
}
