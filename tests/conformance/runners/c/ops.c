/*
 * ops.c — the channel, alts, timeout, async, process and executor ops of the
 * case schema (tests/conformance/README.md, "Ops"); ops_comb.c has the
 * combinators.  Each op returns its actual result as a JSON object:
 * {"err": NAME} plus "val" (a value, when there is one), "index" (alts) and
 * op-specific fields.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

/* ---- small helpers ---- */

cJSON *
res_err(int32_t err)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "err", xchan_err_name(err));
	return r;
}

static cJSON *
res_runner(const char *msg, const char *detail)
{
	cJSON *r = cJSON_CreateObject();
	char buf[256];
	snprintf(buf, sizeof buf, "%s%s%s", msg, detail ? ": " : "",
	    detail ? detail : "");
	cJSON_AddStringToObject(r, "err", "RUNNER");
	cJSON_AddStringToObject(r, "msg", buf);
	return r;
}

cJSON *
missing_core(world *w, const char *fn)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "err", "MISSING_CORE");
	cJSON_AddStringToObject(r, "fn", fn);
	atomic_store(&w->missing, 1);
	return r;
}

const char *
arg_str(const cJSON *op, const char *key, const char *dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(op, key);
	return cJSON_IsString(x) ? x->valuestring : dflt;
}

int64_t
arg_int(const cJSON *op, const char *key, int64_t dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(op, key);
	return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : dflt;
}

int
arg_bool(const cJSON *op, const char *key, int dflt)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(op, key);
	return cJSON_IsBool(x) ? cJSON_IsTrue(x) : dflt;
}

/* The channel named by op[key]; NULL for null (a bad input on purpose).
 * A name that is not bound gives NULL too; check_chan reports it. */
xchan_chan *
arg_chan(world *w, const cJSON *op, const char *key)
{
	return world_get(w, arg_str(op, key, NULL), OBJ_CHAN);
}

static cJSON *
check_chan(world *w, const cJSON *op, const char *key, xchan_chan **out)
{
	const char *n = arg_str(op, key, NULL);
	*out = world_get(w, n, OBJ_CHAN);
	if (n && !*out)
		return res_runner("unknown channel", n);
	return NULL;
}

static xchan_deadline
arg_deadline(const cJSON *op)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(op, "timeout_ms");
	if (!cJSON_IsNumber(x))
		return XCHAN_DEADLINE_NEVER;
	if (x->valuedouble <= 0)
		return XCHAN_DEADLINE_POLL;
	return xchan_deadline_in_ms((int64_t)x->valuedouble);
}

static int32_t
err_code(const char *name)
{
	for (int32_t i = 0; i < 64; i++)
		if (!strcmp(xchan_err_name(i), name))
			return i;
	return XCHAN_EINVAL;
}

static void
add_val(world *w, cJSON *r, xchan_val v)
{
	if (v.kind == XCHAN_NIL)
		return;
	int32_t err = XCHAN_OK;
	cJSON *j = val_to_json(w, v, &err);
	if (err != XCHAN_OK) {
		/* A host value of another runtime: the take reports it. */
		cJSON_ReplaceItemInObject(r, "err",
		    cJSON_CreateString(xchan_err_name(err)));
		cJSON_Delete(j);
		return;
	}
	cJSON_AddItemToObject(r, "val", j);
}

/* Parks a go task or sleeps a thread for about 1 ms, through the API. */
static void
nap(void)
{
	xchan_chan *t;
	xchan_val v;
	if (xchan_timeout(&t, 1) == XCHAN_OK) {
		xchan_take(&v, t, XCHAN_DEADLINE_NEVER);
		xchan_chan_release(t);
	}
}

int32_t
parse_chan_opts(const cJSON *spec, xchan_chan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->size = sizeof *o;
	const char *buf = arg_str(spec, "buf", "none");
	o->buf_kind = !strcmp(buf, "none")       ? XCHAN_BUF_NONE
	              : !strcmp(buf, "fixed")    ? XCHAN_BUF_FIXED
	              : !strcmp(buf, "dropping") ? XCHAN_BUF_DROPPING
	              : !strcmp(buf, "sliding")  ? XCHAN_BUF_SLIDING
	              : !strcmp(buf, "promise")  ? XCHAN_BUF_PROMISE
	                                         : 99;
	o->capacity = (uint64_t)arg_int(spec, "n", 0);
	o->max_pending = (uint32_t)arg_int(spec, "max_pending", 0);
	const char *eh = arg_str(spec, "on_error", NULL);
	if (eh && vocab_error_handler(eh, &o->on_error) != XCHAN_OK)
		return XCHAN_EINVAL;
	const cJSON *xf = cJSON_GetObjectItemCaseSensitive(spec, "xform");
	if (xf) {
		int32_t rc = vocab_xform(xf, &o->xform);
		if (rc != XCHAN_OK)
			return rc;
	}
	return XCHAN_OK;
}

static const char *
buf_name(uint32_t k)
{
	static const char *names[] = {"none", "fixed", "dropping", "sliding",
	    "promise"};
	return k < 5 ? names[k] : "?";
}

static cJSON *
info_json(const xchan_chan_info *in, const cJSON *fields)
{
	cJSON *all = cJSON_CreateObject();
	cJSON_AddStringToObject(all, "buf", buf_name(in->buf_kind));
	cJSON_AddNumberToObject(all, "capacity", (double)in->capacity);
	cJSON_AddNumberToObject(all, "count", (double)in->count);
	cJSON_AddBoolToObject(all, "closed", in->closed != 0);
	cJSON_AddNumberToObject(all, "pending_puts", in->pending_puts);
	cJSON_AddNumberToObject(all, "pending_takes", in->pending_takes);
	cJSON_AddNumberToObject(all, "max_pending", in->max_pending);
	if (!cJSON_IsArray(fields))
		return all;
	cJSON *some = cJSON_CreateObject();
	const cJSON *f;
	cJSON_ArrayForEach(f, fields)
	{
		if (!cJSON_IsString(f))
			continue;
		cJSON *x =
		    cJSON_GetObjectItemCaseSensitive(all, f->valuestring);
		cJSON_AddItemToObject(some, f->valuestring,
		    x ? cJSON_Duplicate(x, 1) : cJSON_CreateNull());
	}
	cJSON_Delete(all);
	return some;
}

/* ---- channel ops ---- */

static cJSON *
op_chan(world *w, const cJSON *op)
{
	xchan_chan_opts o;
	xchan_chan *ch = NULL;
	int32_t rc = parse_chan_opts(op, &o);
	if (rc == XCHAN_OK)
		rc = xchan_chan_new(&ch, &o);
	if (rc == XCHAN_OK)
		world_put(w, arg_str(op, "as", "?"), OBJ_CHAN, ch);
	return res_err(rc);
}

static xchan_cancel *
arg_token(world *w, const cJSON *op)
{
	return world_get(w, arg_str(op, "cancel", NULL), OBJ_TOKEN);
}

static cJSON *
op_put(world *w, const cJSON *op, int offer)
{
	xchan_chan *ch;
	xchan_val v;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	int32_t rc =
	    json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "val"), &v);
	if (rc != XCHAN_OK) /* the core refused to make the value */
		return res_err(rc);
	if (offer)
		rc = xchan_offer(ch, v);
	else if (arg_str(op, "cancel", NULL)) {
		if (!CONF_HAVE(xchan_put_ex)) {
			xchan_val_release(v);
			return missing_core(w, "xchan_put_ex");
		}
		xchan_wait_opts wo = {sizeof wo, 0, arg_token(w, op)};
		rc = xchan_put_ex(ch, v, arg_deadline(op), &wo);
	} else
		rc = xchan_put(ch, v, arg_deadline(op));
	if (rc != XCHAN_OK)
		xchan_val_release(v);
	return res_err(rc);
}

static cJSON *
op_take(world *w, const cJSON *op, int poll)
{
	xchan_chan *ch;
	xchan_val v = xchan_val_nil();
	int32_t rc;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	if (poll)
		rc = xchan_poll(&v, ch);
	else if (arg_str(op, "cancel", NULL)) {
		if (!CONF_HAVE(xchan_take_ex))
			return missing_core(w, "xchan_take_ex");
		xchan_wait_opts wo = {sizeof wo, 0, arg_token(w, op)};
		rc = xchan_take_ex(&v, ch, arg_deadline(op), &wo);
	} else
		rc = xchan_take(&v, ch, arg_deadline(op));
	cJSON *r = res_err(rc);
	add_val(w, r, v);
	xchan_val_release(v);
	return r;
}

static cJSON *
op_info(world *w, const cJSON *op)
{
	xchan_chan *ch;
	xchan_chan_info in;
	memset(&in, 0, sizeof in);
	in.size = sizeof in;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	int32_t rc = xchan_chan_info_get(&in, ch);
	cJSON *r = res_err(rc);
	if (rc == XCHAN_OK)
		cJSON_AddItemToObject(r, "val",
		    info_json(&in,
		        cJSON_GetObjectItemCaseSensitive(op, "fields")));
	return r;
}

/* wait: until every field of op.until matches chan info (a sync point). */
static cJSON *
op_wait(world *w, const cJSON *op)
{
	xchan_chan *ch;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	const cJSON *until = cJSON_GetObjectItemCaseSensitive(op, "until");
	int64_t end = xchan_now() + arg_int(op, "within_ms", 5000) * 1000000;
	for (;;) {
		xchan_chan_info in;
		memset(&in, 0, sizeof in);
		in.size = sizeof in;
		if (xchan_chan_info_get(&in, ch) != XCHAN_OK)
			return res_err(XCHAN_EINVAL);
		cJSON *now = info_json(&in, NULL);
		int ok = 1;
		const cJSON *f;
		cJSON_ArrayForEach(f, until)
		{
			cJSON *x =
			    cJSON_GetObjectItemCaseSensitive(now, f->string);
			if (!x || !cJSON_Compare(x, f, 1))
				ok = 0;
		}
		cJSON_Delete(now);
		if (ok)
			return res_err(XCHAN_OK);
		if (xchan_now() > end)
			return res_err(XCHAN_ETIMEDOUT);
		nap();
	}
}

static cJSON *
op_timeout(world *w, const cJSON *op)
{
	xchan_chan *t = NULL;
	int32_t rc = xchan_timeout(&t, arg_int(op, "ms", 0));
	if (rc == XCHAN_OK)
		world_put(w, arg_str(op, "as", "?"), OBJ_CHAN, t);
	return res_err(rc);
}

/* ---- alts ---- */

/* Parses op.clauses; returns NULL and sets *bad on a runner error. */
static xchan_clause *
parse_clauses(world *w, const cJSON *op, size_t *n, cJSON **bad)
{
	const cJSON *cl = cJSON_GetObjectItemCaseSensitive(op, "clauses");
	*n = (size_t)cJSON_GetArraySize(cl);
	*bad = NULL;
	xchan_clause *c = calloc(*n ? *n : 1, sizeof *c);
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, cl)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "take");
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "put");
		const cJSON *name = t ? t : p ? p : e->child;
		c[i].op = t ? XCHAN_ALT_TAKE : p ? XCHAN_ALT_PUT : 99;
		if (name && cJSON_IsString(name)) {
			c[i].chan = world_get(w, name->valuestring, OBJ_CHAN);
			if (!c[i].chan && !*bad)
				*bad = res_runner("unknown channel",
				    name->valuestring);
		}
		if (p &&
		    json_to_val(w, cJSON_GetObjectItemCaseSensitive(e, "val"),
		        &c[i].val) != XCHAN_OK &&
		    !*bad)
			*bad = res_runner("bad value", NULL);
		i++;
	}
	return c;
}

static void
release_clause_vals(xchan_clause *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xchan_val_release(c[i].val);
}

static cJSON *
alts_result(world *w, xchan_result *r)
{
	cJSON *j = res_err(r->err);
	cJSON_AddNumberToObject(j, "index", r->index);
	add_val(w, j, r->val);
	return j;
}

static uint32_t
alts_flags(const cJSON *op)
{
	return arg_bool(op, "priority", 0) ? XCHAN_ALTS_PRIORITY : 0;
}

static cJSON *
op_alts(world *w, const cJSON *op)
{
	size_t n;
	cJSON *bad;
	xchan_clause *c = parse_clauses(w, op, &n, &bad);
	if (bad) {
		release_clause_vals(c, n);
		free(c);
		return bad;
	}
	xchan_result r = {0, -1, {0}};
	int32_t rc;
	if (arg_str(op, "cancel", NULL)) {
		if (!CONF_HAVE(xchan_alts_ex)) {
			release_clause_vals(c, n);
			free(c);
			return missing_core(w, "xchan_alts_ex");
		}
		xchan_wait_opts wo = {sizeof wo, 0, arg_token(w, op)};
		rc = xchan_alts_ex(&r, c, n, alts_flags(op), arg_deadline(op),
		    &wo);
	} else {
		rc = xchan_alts(&r, c, n, alts_flags(op), arg_deadline(op));
	}
	if (r.index >= 0 && (size_t)r.index < n &&
	    c[r.index].op == XCHAN_ALT_PUT && r.err == XCHAN_OK)
		c[r.index].val = xchan_val_nil(); /* moved */
	release_clause_vals(c, n);
	free(c);
	if (rc != r.err) /* argument errors: r untouched */
		r.err = rc;
	cJSON *j = alts_result(w, &r);
	xchan_val_release(r.val);
	return j;
}

/* alts_repeat: n rounds in which every take clause's channel holds a value;
 * counts the winning index of each round (statistics, not exact order). */
static cJSON *
op_alts_repeat(world *w, const cJSON *op)
{
	size_t n;
	cJSON *bad;
	xchan_clause *c = parse_clauses(w, op, &n, &bad);
	int64_t rounds = arg_int(op, "n", 1000);
	if (bad || n == 0) {
		free(c);
		return bad ? bad : res_runner("no clauses", NULL);
	}
	int64_t *counts = calloc(n, sizeof *counts);
	int32_t rc = XCHAN_OK;
	for (int64_t k = 0; k < rounds && rc == XCHAN_OK; k++) {
		for (size_t i = 0; i < n; i++)
			xchan_offer(c[i].chan, xchan_val_int((int64_t)i));
		xchan_result r;
		rc = xchan_alts(&r, c, n, alts_flags(op), XCHAN_DEADLINE_POLL);
		if (r.index >= 0)
			counts[r.index]++;
		xchan_val_release(r.val);
		for (size_t i = 0; i < n; i++) {
			xchan_val v;
			while (xchan_poll(&v, c[i].chan) == XCHAN_OK)
				xchan_val_release(v);
		}
	}
	cJSON *res = res_err(rc);
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(op, "min_share");
	int fair = cJSON_IsNumber(ms);
	for (size_t i = 0; i < n; i++)
		if (fair && counts[i] < ms->valuedouble * (double)rounds)
			fair = 0;
	if (fair) {
		cJSON_AddStringToObject(res, "val", "fair");
	} else {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(a,
			    cJSON_CreateNumber((double)counts[i]));
		cJSON_AddItemToObject(res, "val", a);
	}
	free(counts);
	free(c);
	return res;
}

/* ---- async ops ---- */

/* Encodes a completion's result into the record (the callback's result, or
 * one collected in notify mode) and moves the value out of it. */
static void
aop_store(aop *a, xchan_result *r)
{
	cJSON *j = a->is_alts ? alts_result(a->w, r) : res_err(r->err);
	if (!a->is_alts)
		add_val(a->w, j, r->val);
	if (a->is_alts && r->index >= 0 && (size_t)r->index < a->nclauses &&
	    a->clauses[r->index].op == XCHAN_ALT_PUT && r->err == XCHAN_OK)
		a->clauses[r->index].val = xchan_val_nil(); /* moved */
	xchan_val_release(r->val);
	pthread_mutex_lock(&a->mu);
	cJSON_Delete(a->result);
	a->result = j;
	a->completed = 1;
	pthread_mutex_unlock(&a->mu);
}

static void
aop_cb(void *user, xchan_result *r)
{
	aop *a = user;
	if (r == NULL) {
		/* Notify mode: only record that the result is ready; await
		 * collects it on its own thread. */
		pthread_mutex_lock(&a->mu);
		a->notified = 1;
		a->in_go = xchan_in_go();
		a->same_thread = pthread_equal(pthread_self(), a->starter);
		pthread_mutex_unlock(&a->mu);
		xchan_chan_close(a->done);
		return;
	}
	pthread_mutex_lock(&a->mu);
	a->in_go = xchan_in_go();
	a->same_thread = pthread_equal(pthread_self(), a->starter);
	pthread_mutex_unlock(&a->mu);
	aop_store(a, r);
	xchan_chan_close(a->done);
}

/* Notify mode: collects the result once the notifier ran. */
static cJSON *
aop_collect(aop *a)
{
	xchan_result r = {0, -1, {0}};
	int32_t rc = xchan_op_collect(a->op, &r);
	if (rc == XCHAN_OK)
		aop_store(a, &r);
	return res_err(rc);
}

/* At cleanup: a notify op's result (or its put value) is taken back, by
 * cancel-or-collect, so that nothing is left in the op. */
void
aop_finish_notify(aop *a)
{
	xchan_result r = {0, -1, {0}};
	if (!a->notify || !a->op || !CONF_HAVE(xchan_op_cancel_ex))
		return;
	if (xchan_op_cancel_ex(a->op, &r) == XCHAN_OK ||
	    xchan_op_collect(a->op, &r) == XCHAN_OK)
		aop_store(a, &r);
	pthread_mutex_lock(&a->mu);
	a->completed = 1;
	pthread_mutex_unlock(&a->mu);
	xchan_chan_close(a->done);
}

static aop *
aop_new(world *w, int is_alts)
{
	aop *a = calloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	xchan_chan_make(&a->done, XCHAN_BUF_NONE, 0);
	a->starter = pthread_self();
	a->is_alts = is_alts;
	a->w = w;
	return a;
}

static cJSON *
op_async(world *w, const cJSON *op, const char *name)
{
	uint32_t flags = arg_bool(op, "dispatch", 0) ? XCHAN_ASYNC_DISPATCH : 0;
	int is_alts = !strcmp(name, "alts_async");
	aop *a = aop_new(w, is_alts);
	if (arg_bool(op, "notify", 0)) {
		flags |= XCHAN_ASYNC_NOTIFY;
		a->notify = 1;
	}
	xchan_op **hp = arg_bool(op, "handle", 1) ? &a->op : NULL;
	int32_t rc;
	xchan_chan *ch = NULL;
	cJSON *bad = is_alts ? NULL : check_chan(w, op, "ch", &ch);
	if (bad)
		goto fail;
	if (!strcmp(name, "put_async")) {
		xchan_val v;
		if (json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "val"),
		        &v) != XCHAN_OK) {
			bad = res_runner("bad value", NULL);
			goto fail;
		}
		rc = xchan_put_async(hp, ch, v, flags, aop_cb, a);
		if (rc != XCHAN_OK)
			xchan_val_release(v);
	} else if (!strcmp(name, "take_async")) {
		rc = xchan_take_async(hp, ch, flags, aop_cb, a);
	} else {
		a->clauses = parse_clauses(w, op, &a->nclauses, &bad);
		if (bad)
			goto fail;
		rc = xchan_alts_async(hp, a->clauses, a->nclauses,
		    flags | alts_flags(op), arg_deadline(op), aop_cb, a);
	}
	if (rc != XCHAN_OK) {
		/* The callback never runs: mark the record finished. */
		pthread_mutex_lock(&a->mu);
		a->completed = 1;
		pthread_mutex_unlock(&a->mu);
		xchan_chan_close(a->done);
	}
	world_put(w, arg_str(op, "as", "_"), OBJ_OP, a);
	return res_err(rc);
fail:
	a->completed = 1;
	xchan_chan_close(a->done);
	world_put(w, "_", OBJ_OP, a);
	return bad;
}

static aop *
arg_op(world *w, const cJSON *op)
{
	return world_get(w, arg_str(op, "of", NULL), OBJ_OP);
}

static cJSON *
op_await(world *w, const cJSON *op)
{
	aop *a = arg_op(w, op);
	xchan_val v;
	if (!a)
		return res_runner("unknown async op", arg_str(op, "of", NULL));
	int32_t rc = xchan_take(&v, a->done,
	    xchan_deadline_in_ms(arg_int(op, "within_ms", 5000)));
	if (rc == XCHAN_ETIMEDOUT)
		return res_err(XCHAN_ETIMEDOUT);
	pthread_mutex_lock(&a->mu);
	int collect = a->notify && a->notified && !a->result;
	pthread_mutex_unlock(&a->mu);
	if (collect) {
		cJSON *c = aop_collect(a);
		if (strcmp(arg_str(c, "err", "?"), "OK")) {
			cJSON_AddStringToObject(c, "while", "collect");
			return c;
		}
		cJSON_Delete(c);
	}
	pthread_mutex_lock(&a->mu);
	cJSON *r = a->result ? cJSON_Duplicate(a->result, 1)
	                     : res_runner("op never started", NULL);
	int same = a->same_thread, in_go = a->in_go;
	pthread_mutex_unlock(&a->mu);
	if (arg_bool(op, "placement", 0))
		cJSON_AddStringToObject(r, "ran_on", same ? "caller" : "other");
	if (arg_bool(op, "in_go", 0))
		cJSON_AddBoolToObject(r, "in_go", in_go);
	return r;
}

static cJSON *
op_completed(world *w, const cJSON *op)
{
	aop *a = arg_op(w, op);
	if (!a)
		return res_runner("unknown async op", arg_str(op, "of", NULL));
	pthread_mutex_lock(&a->mu);
	int done = a->result != NULL || a->notified;
	pthread_mutex_unlock(&a->mu);
	cJSON *r = res_err(XCHAN_OK);
	cJSON_AddBoolToObject(r, "val", done);
	return r;
}

/* collect: notify mode's xchan_op_collect, now; `res` is the result. */
static cJSON *
op_collect(world *w, const cJSON *op)
{
	aop *a = arg_op(w, op);
	if (!a)
		return res_runner("unknown async op", arg_str(op, "of", NULL));
	if (!CONF_HAVE(xchan_op_collect))
		return missing_core(w, "xchan_op_collect");
	cJSON *r = aop_collect(a);
	if (!strcmp(arg_str(r, "err", "?"), "OK")) {
		pthread_mutex_lock(&a->mu);
		cJSON_AddItemToObject(r, "res", cJSON_Duplicate(a->result, 1));
		pthread_mutex_unlock(&a->mu);
	}
	return r;
}

static cJSON *
op_cancel(world *w, const cJSON *op, int ex)
{
	aop *a = arg_op(w, op);
	if (!a)
		return res_runner("unknown async op", arg_str(op, "of", NULL));
	if (!ex)
		return res_err(xchan_op_cancel(a->op));
	if (!CONF_HAVE(xchan_op_cancel_ex))
		return missing_core(w, "xchan_op_cancel_ex");
	xchan_result out = {0, -1, {0}};
	int32_t rc = xchan_op_cancel_ex(a->op, &out);
	cJSON *r = res_err(rc);
	if (rc == XCHAN_OK) {
		/* The callback (or notifier) will not run: finish the record
		 * here, with the result handed over. */
		aop_store(a, &out);
		pthread_mutex_lock(&a->mu);
		cJSON_AddItemToObject(r, "res", cJSON_Duplicate(a->result, 1));
		pthread_mutex_unlock(&a->mu);
		xchan_chan_close(a->done);
	}
	return r;
}

static cJSON *
op_state(world *w, const cJSON *op)
{
	static const char *names[] = {"PENDING", "COMPLETED", "DELIVERED",
	    "CANCELED"};
	aop *a = arg_op(w, op);
	if (!a)
		return res_runner("unknown async op", arg_str(op, "of", NULL));
	if (!CONF_HAVE(xchan_op_state_get))
		return missing_core(w, "xchan_op_state_get");
	int32_t s = xchan_op_state_get(a->op);
	if (s < 0)
		return res_err(-s);
	cJSON *r = res_err(XCHAN_OK);
	cJSON_AddStringToObject(r, "val", s < 4 ? names[s] : "?");
	return r;
}

static cJSON *
op_token(world *w, const cJSON *op, const char *name)
{
	if (!CONF_HAVE(xchan_cancel_new))
		return missing_core(w, "xchan_cancel_new");
	if (!strcmp(name, "token")) {
		xchan_cancel *c = NULL;
		int32_t rc = xchan_cancel_new(&c);
		if (rc == XCHAN_OK)
			world_put(w, arg_str(op, "as", "?"), OBJ_TOKEN, c);
		return res_err(rc);
	}
	xchan_cancel *c = world_get(w, arg_str(op, "token", NULL), OBJ_TOKEN);
	if (!c)
		return res_runner("unknown token", arg_str(op, "token", NULL));
	return res_err(!strcmp(name, "fire") ? xchan_cancel_fire(c)
	                                     : xchan_cancel_reset(c));
}

/* ---- processes ---- */

typedef struct spawn_arg {
	world *w;
	const cJSON *op;
	char path[200];
} spawn_arg;

static int32_t
spawn_body(void *arg, xchan_val *result)
{
	spawn_arg *s = arg;
	world *w = s->w;
	const cJSON *op = s->op;
	run_ops(w, s->path, cJSON_GetObjectItemCaseSensitive(op, "ops"));
	const char *fail = arg_str(op, "fail", NULL);
	int32_t rc = XCHAN_OK;
	free(s);
	if (fail)
		rc = err_code(fail);
	else if (json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "result"),
	             result) != XCHAN_OK)
		rc = XCHAN_EINTERNAL;
	atomic_fetch_sub(&w->spawns, 1);
	return rc;
}

static cJSON *
op_spawn(world *w, const char *path, const cJSON *op)
{
	const char *kind = arg_str(op, "kind", "go");
	const char *as = arg_str(op, "as", "task");
	spawn_arg *s = calloc(1, sizeof *s);
	s->w = w;
	s->op = op;
	snprintf(s->path, sizeof s->path, "%s/%s", path, as);
	xchan_go_opts go = {sizeof go, 0, arg_str(op, "name", as), 0};
	xchan_chan *res = NULL;
	int32_t rc;
	atomic_fetch_add(&w->spawns, 1);
	if (!strcmp(kind, "go"))
		rc = xchan_go(&res, spawn_body, s, &go);
	else if (!strcmp(kind, "thread"))
		rc = xchan_thread(&res, spawn_body, s, &go);
	else if (!strcmp(kind, "io_thread"))
		rc = xchan_io_thread(&res, spawn_body, s, &go);
	else
		rc = XCHAN_EINVAL;
	if (rc != XCHAN_OK) {
		atomic_fetch_sub(&w->spawns, 1);
		free(s);
	} else {
		world_put(w, as, OBJ_CHAN, res);
	}
	return res_err(rc);
}

static cJSON *
op_task_errors(world *w, const cJSON *op)
{
	int n = (int)arg_int(op, "n", 0);
	int64_t end = xchan_now() + arg_int(op, "within_ms", 5000) * 1000000;
	for (;;) {
		pthread_mutex_lock(&w->mu);
		int have = cJSON_GetArraySize(w->task_errors);
		cJSON *copy =
		    have >= n ? cJSON_Duplicate(w->task_errors, 1) : NULL;
		pthread_mutex_unlock(&w->mu);
		if (copy) {
			cJSON *r = res_err(XCHAN_OK);
			cJSON_AddItemToObject(r, "val", copy);
			return r;
		}
		if (xchan_now() > end)
			return res_err(XCHAN_ETIMEDOUT);
		nap();
	}
}

/* ---- executors: a counting executor per workload ---- */

typedef struct counting {
	atomic_int count;
	xchan_executor *ex;
} counting;
static counting counters[4];

typedef struct job {
	xchan_task_fn fn;
	void *arg;
} job;

static void *
job_thread(void *p)
{
	job j = *(job *)p;
	free(p);
	j.fn(j.arg);
	return NULL;
}

static int32_t
counting_execute(void *self, xchan_task_fn fn, void *arg)
{
	counting *c = self;
	pthread_t t;
	job *j = malloc(sizeof *j);
	j->fn = fn;
	j->arg = arg;
	atomic_fetch_add(&c->count, 1);
	if (pthread_create(&t, NULL, job_thread, j) != 0) {
		free(j);
		return XCHAN_ENOMEM;
	}
	pthread_detach(t);
	return XCHAN_OK;
}

static const xchan_executor_vtbl counting_vt = {sizeof counting_vt, 0,
    counting_execute, NULL};

static int
workload_of(const char *s)
{
	return !s                       ? -1
	       : !strcmp(s, "dispatch") ? XCHAN_WORKLOAD_DISPATCH
	       : !strcmp(s, "mixed")    ? XCHAN_WORKLOAD_MIXED
	       : !strcmp(s, "io")       ? XCHAN_WORKLOAD_IO
	       : !strcmp(s, "compute")  ? XCHAN_WORKLOAD_COMPUTE
	                                : 99;
}

static xchan_executor *
factory(void *user, uint32_t workload)
{
	return workload < 4 ? counters[workload].ex : NULL;
}

static cJSON *
op_executor_factory(world *w, const cJSON *op)
{
	const cJSON *wl = cJSON_GetObjectItemCaseSensitive(op, "counting");
	const cJSON *e;
	cJSON_ArrayForEach(e, wl)
	{
		int k = workload_of(cJSON_IsString(e) ? e->valuestring : NULL);
		if (k >= 0 && k < 4 && !counters[k].ex)
			xchan_executor_new(&counters[k].ex, &counting_vt,
			    &counters[k]);
	}
	return res_err(xchan_set_executor_factory(factory, NULL));
}

static cJSON *
op_executor_count(world *w, const cJSON *op)
{
	int k = workload_of(arg_str(op, "workload", NULL));
	if (k < 0 || k > 3)
		return res_runner("bad workload", NULL);
	cJSON *r = res_err(XCHAN_OK);
	cJSON_AddNumberToObject(r, "val", atomic_load(&counters[k].count));
	return r;
}

typedef struct exec_put {
	xchan_chan *ch;
	xchan_val v;
} exec_put;

static void
exec_put_fn(void *arg)
{
	exec_put *p = arg;
	if (xchan_put(p->ch, p->v, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
		xchan_val_release(p->v);
	xchan_chan_release(p->ch);
	free(p);
}

static cJSON *
op_execute(world *w, const cJSON *op)
{
	int k = workload_of(arg_str(op, "workload", NULL));
	xchan_executor *ex = NULL;
	int32_t rc = xchan_executor_for(&ex, k < 0 ? 99 : (uint32_t)k);
	if (rc != XCHAN_OK || !cJSON_GetObjectItemCaseSensitive(op, "ch"))
		return res_err(rc);
	xchan_chan *ch;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	exec_put *p = malloc(sizeof *p);
	p->ch = xchan_chan_retain(ch);
	json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "val"), &p->v);
	rc = xchan_execute(ex, exec_put_fn, p);
	if (rc != XCHAN_OK) {
		xchan_val_release(p->v);
		xchan_chan_release(p->ch);
		free(p);
	}
	return res_err(rc);
}

/* ---- repeat and drain ---- */

static cJSON *
op_repeat(world *w, const char *path, const cJSON *op)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(op, "do");
	int64_t n = arg_int(op, "n", 1);
	cJSON *counts = cJSON_CreateObject();
	for (int64_t i = 0; i < n; i++) {
		cJSON *r = exec_op(w, path, body);
		const char *e = arg_str(r, "err", "?");
		cJSON *c = cJSON_GetObjectItemCaseSensitive(counts, e);
		if (c)
			cJSON_SetNumberValue(c, c->valuedouble + 1);
		else
			cJSON_AddNumberToObject(counts, e, 1);
		cJSON_Delete(r);
	}
	cJSON *r = res_err(XCHAN_OK);
	cJSON_AddItemToObject(r, "val", counts);
	return r;
}

static cJSON *
op_drain(world *w, const cJSON *op)
{
	xchan_chan *ch;
	cJSON *bad = check_chan(w, op, "ch", &ch);
	if (bad)
		return bad;
	xchan_deadline end =
	    xchan_deadline_in_ms(arg_int(op, "within_ms", 5000));
	cJSON *vals = cJSON_CreateArray();
	int32_t rc;
	int32_t verr = XCHAN_OK;
	for (;;) {
		xchan_val v;
		rc = xchan_take(&v, ch, end);
		if (rc != XCHAN_OK)
			break;
		cJSON_AddItemToArray(vals, val_to_json(w, v, &verr));
		xchan_val_release(v);
	}
	cJSON *r = res_err(rc == XCHAN_ECLOSED ? (verr ? verr : XCHAN_OK) : rc);
	cJSON_AddItemToObject(r, "val", vals);
	return r;
}

static cJSON *
op_check_version(world *w, const cJSON *op)
{
	return res_err(xchan_check_version(
	    (int32_t)arg_int(op, "number", XCHAN_VERSION_NUMBER)));
}

/* ---- dispatch ---- */

cJSON *
exec_op(world *w, const char *path, const cJSON *op)
{
	const char *name = arg_str(op, "op", NULL);
	if (!name)
		return res_runner("op without a name", NULL);
	if (!strcmp(name, "chan"))
		return op_chan(w, op);
	if (!strcmp(name, "put") || !strcmp(name, "offer"))
		return op_put(w, op, !strcmp(name, "offer"));
	if (!strcmp(name, "take") || !strcmp(name, "poll"))
		return op_take(w, op, !strcmp(name, "poll"));
	if (!strcmp(name, "close")) {
		xchan_chan *ch;
		cJSON *bad = check_chan(w, op, "ch", &ch);
		return bad ? bad : res_err(xchan_chan_close(ch));
	}
	if (!strcmp(name, "info"))
		return op_info(w, op);
	if (!strcmp(name, "wait"))
		return op_wait(w, op);
	if (!strcmp(name, "timeout"))
		return op_timeout(w, op);
	if (!strcmp(name, "alts"))
		return op_alts(w, op);
	if (!strcmp(name, "alts_repeat"))
		return op_alts_repeat(w, op);
	if (!strcmp(name, "put_async") || !strcmp(name, "take_async") ||
	    !strcmp(name, "alts_async"))
		return op_async(w, op, name);
	if (!strcmp(name, "await"))
		return op_await(w, op);
	if (!strcmp(name, "completed"))
		return op_completed(w, op);
	if (!strcmp(name, "cancel") || !strcmp(name, "cancel_ex"))
		return op_cancel(w, op, !strcmp(name, "cancel_ex"));
	if (!strcmp(name, "collect"))
		return op_collect(w, op);
	if (!strcmp(name, "op_state"))
		return op_state(w, op);
	if (!strcmp(name, "token") || !strcmp(name, "fire") ||
	    !strcmp(name, "reset"))
		return op_token(w, op, name);
	if (!strcmp(name, "spawn"))
		return op_spawn(w, path, op);
	if (!strcmp(name, "task_errors"))
		return op_task_errors(w, op);
	if (!strcmp(name, "in_go")) {
		cJSON *r = res_err(XCHAN_OK);
		cJSON_AddBoolToObject(r, "val", xchan_in_go());
		return r;
	}
	if (!strcmp(name, "executor_factory"))
		return op_executor_factory(w, op);
	if (!strcmp(name, "executor_count"))
		return op_executor_count(w, op);
	if (!strcmp(name, "execute"))
		return op_execute(w, op);
	if (!strcmp(name, "shutdown"))
		return res_err(xchan_shutdown());
	if (!strcmp(name, "seed")) {
		xchan_random_seed((uint64_t)arg_int(op, "seed", 1));
		return res_err(XCHAN_OK);
	}
	if (!strcmp(name, "repeat"))
		return op_repeat(w, path, op);
	if (!strcmp(name, "drain"))
		return op_drain(w, op);
	if (!strcmp(name, "check_version"))
		return op_check_version(w, op);
	int handled = 0;
	cJSON *r = exec_comb_op(w, path, op, name, &handled);
	if (handled)
		return r;
	return res_runner("unknown op", name);
}
