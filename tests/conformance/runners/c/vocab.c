/*
 * vocab.c — the small named vocabulary of transforms and functions that
 * every language can express (tests/conformance/README.md, "Vocabulary").
 * Functions here are pure and keep no state but the transform's own, so
 * they are safe on any thread and may outlive the case that named them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static int64_t
ival(xchan_val v)
{
	int64_t i = 0;
	xchan_get_int(v, &i);
	return i;
}

static xchan_val
str_val(const char *s)
{
	xchan_val v;
	xchan_val_string(&v, s, strlen(s));
	return v;
}

/* ---- map functions (also pub topic functions) ---- */
static xchan_val
m_inc(void *u, xchan_val in)
{
	return xchan_val_int(ival(in) + 1);
}
static xchan_val
m_double(void *u, xchan_val in)
{
	return xchan_val_int(ival(in) * 2);
}
static xchan_val
m_str(void *u, xchan_val in)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%lld", (long long)ival(in));
	return str_val(buf);
}
static xchan_val
m_parity(void *u, xchan_val in)
{
	return str_val(ival(in) % 2 ? "odd" : "even");
}
static xchan_val
m_nil(void *u, xchan_val in)
{
	return xchan_val_nil();
}
static xchan_val
m_identity(void *u, xchan_val in)
{
	return xchan_val_retain(in);
}

xchan_map_fn
vocab_map_fn(const char *n)
{
	if (!n)
		return NULL;
	if (!strcmp(n, "inc"))
		return m_inc;
	if (!strcmp(n, "double"))
		return m_double;
	if (!strcmp(n, "str"))
		return m_str;
	if (!strcmp(n, "parity"))
		return m_parity;
	if (!strcmp(n, "nil"))
		return m_nil;
	if (!strcmp(n, "identity"))
		return m_identity;
	return NULL;
}

/* ---- predicates ---- */
static int32_t
p_even(void *u, xchan_val in)
{
	return in.kind == XCHAN_INT && ival(in) % 2 == 0;
}
static int32_t
p_odd(void *u, xchan_val in)
{
	return in.kind == XCHAN_INT && ival(in) % 2 != 0;
}

xchan_pred_fn
vocab_pred(const char *n)
{
	if (n && !strcmp(n, "even"))
		return p_even;
	if (n && !strcmp(n, "odd"))
		return p_odd;
	return NULL;
}

/* ---- mapcat ---- */
static int32_t
mc_dup(void *u, xchan_val in, xchan_emit *out)
{
	int32_t r = xchan_emit_push(out, xchan_val_retain(in));
	if (r != XCHAN_STEP_CONTINUE)
		return r;
	return xchan_emit_push(out, xchan_val_retain(in));
}
static int32_t
mc_range(void *u, xchan_val in, xchan_emit *out)
{
	for (int64_t i = 0; i < ival(in); i++) {
		int32_t r = xchan_emit_push(out, xchan_val_int(i));
		if (r != XCHAN_STEP_CONTINUE)
			return r;
	}
	return XCHAN_STEP_CONTINUE;
}
static int32_t
mc_none(void *u, xchan_val in, xchan_emit *out)
{
	return XCHAN_STEP_CONTINUE;
}

/* ---- fail_on: passes values through, fails with "boom" on one ---- */
static int32_t
fail_on_step(void *state, xchan_val in, xchan_emit *out)
{
	if (in.kind == XCHAN_INT && ival(in) == *(int64_t *)state) {
		xchan_val_release(in);
		xchan_emit_fail(out, str_val("boom"));
		return XCHAN_STEP_FAILED;
	}
	return xchan_emit_push(out, in);
}

static int32_t
one_xform(const cJSON *spec, xchan_xform **out)
{
	const cJSON *x = spec->child;
	if (!x || x->next)
		return XCHAN_EINVAL;
	const char *k = x->string;
	int64_t n = cJSON_IsNumber(x) ? (int64_t)x->valuedouble : -1;
	const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
	if (!strcmp(k, "map")) {
		xchan_map_fn f = vocab_map_fn(s);
		return f ? xchan_xform_map(out, f, NULL) : XCHAN_EINVAL;
	}
	if (!strcmp(k, "filter")) {
		xchan_pred_fn f = vocab_pred(s);
		return f ? xchan_xform_filter(out, f, NULL) : XCHAN_EINVAL;
	}
	if (!strcmp(k, "mapcat")) {
		xchan_mapcat_fn f = s && !strcmp(s, "dup")     ? mc_dup
		                    : s && !strcmp(s, "range") ? mc_range
		                    : s && !strcmp(s, "none")  ? mc_none
		                                               : NULL;
		return f ? xchan_xform_mapcat(out, f, NULL) : XCHAN_EINVAL;
	}
	if (n < 0)
		return XCHAN_EINVAL;
	if (!strcmp(k, "take"))
		return xchan_xform_take(out, (uint64_t)n);
	if (!strcmp(k, "partition_all"))
		return xchan_xform_partition_all(out, (uint64_t)n);
	if (!strcmp(k, "repeat"))
		return xchan_xform_repeat(out, (uint64_t)n);
	if (!strcmp(k, "fail_on")) {
		static const xchan_xform_vtbl vt = {sizeof vt, 0, fail_on_step,
		    NULL, free};
		int64_t *st = malloc(sizeof *st);
		*st = n;
		return xchan_xform_new(out, &vt, st);
	}
	return XCHAN_EINVAL;
}

int32_t
vocab_xform(const cJSON *spec, xchan_xform **out)
{
	*out = NULL;
	if (cJSON_IsObject(spec))
		return one_xform(spec, out);
	if (!cJSON_IsArray(spec))
		return XCHAN_EINVAL;
	int n = cJSON_GetArraySize(spec);
	xchan_xform **xs = calloc(n ? n : 1, sizeof *xs);
	int i = 0;
	const cJSON *e;
	int32_t rc = XCHAN_OK;
	cJSON_ArrayForEach(e, spec)
	{
		if ((rc = one_xform(e, &xs[i])) != XCHAN_OK)
			break;
		i++;
	}
	if (rc == XCHAN_OK)
		rc = xchan_xform_comp(out, xs, n);
	else
		while (i-- > 0)
			xchan_xform_free(xs[i]);
	free(xs);
	return rc;
}

int32_t
vocab_xform_factory(void *user, xchan_xform **out)
{
	return vocab_xform(user, out);
}

/* ---- error handlers ---- */
static xchan_val
eh_inject(void *u, xchan_val error)
{
	xchan_val_release(error);
	return str_val("err");
}
static xchan_val
eh_drop(void *u, xchan_val error)
{
	xchan_val_release(error);
	return xchan_val_nil();
}
static xchan_val
eh_echo(void *u, xchan_val error)
{
	return error;
}

int32_t
vocab_error_handler(const char *n, xchan_error_handler *out)
{
	*out = !strcmp(n, "inject") ? eh_inject
	       : !strcmp(n, "drop") ? eh_drop
	       : !strcmp(n, "echo") ? eh_echo
	                            : NULL;
	return *out ? XCHAN_OK : XCHAN_EINVAL;
}

/* ---- map over n channels ---- */
static xchan_val
mn_sum(void *u, const xchan_val *vals, size_t n)
{
	int64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += ival(vals[i]);
	return xchan_val_int(s);
}
static xchan_val
mn_vec(void *u, const xchan_val *vals, size_t n)
{
	xchan_val *items = malloc((n ? n : 1) * sizeof *items), out;
	for (size_t i = 0; i < n; i++)
		items[i] = xchan_val_retain(vals[i]);
	if (xchan_val_array(&out, items, n) != XCHAN_OK)
		out = xchan_val_nil();
	free(items);
	return out;
}

xchan_map_n_fn
vocab_map_n(const char *n)
{
	if (n && !strcmp(n, "sum"))
		return mn_sum;
	if (n && !strcmp(n, "vec"))
		return mn_vec;
	return NULL;
}

/* ---- reducing functions ---- */
static int32_t
r_sum(void *u, xchan_val *out, xchan_val acc, xchan_val in)
{
	*out = xchan_val_int(ival(acc) + ival(in));
	xchan_val_release(in);
	return XCHAN_STEP_CONTINUE;
}
static int32_t
r_sum_to_10(void *u, xchan_val *out, xchan_val acc, xchan_val in)
{
	int64_t s = ival(acc) + ival(in);
	*out = xchan_val_int(s);
	xchan_val_release(in);
	return s >= 10 ? XCHAN_STEP_REDUCED : XCHAN_STEP_CONTINUE;
}
static int32_t
r_count(void *u, xchan_val *out, xchan_val acc, xchan_val in)
{
	*out = xchan_val_int(ival(acc) + 1);
	xchan_val_release(in);
	return XCHAN_STEP_CONTINUE;
}
static int32_t
r_fail(void *u, xchan_val *out, xchan_val acc, xchan_val in)
{
	xchan_val_release(acc);
	xchan_val_release(in);
	return XCHAN_STEP_FAILED;
}

xchan_reduce_fn
vocab_reduce(const char *n)
{
	if (n && !strcmp(n, "sum"))
		return r_sum;
	if (n && !strcmp(n, "sum_to_10"))
		return r_sum_to_10;
	if (n && !strcmp(n, "count"))
		return r_count;
	if (n && !strcmp(n, "fail"))
		return r_fail;
	return NULL;
}

/* ---- pipeline_async functions ---- */
static void
close_result(void *user, xchan_result *r)
{
	xchan_val_release(r->val);
	xchan_chan_close(user);
	xchan_chan_release(user);
}
static void
drop_result(void *user, xchan_result *r)
{
	xchan_val_release(r->val);
}
static void
af_dup(void *u, xchan_val in, xchan_chan *result)
{
	xchan_val copy = xchan_val_retain(in);
	if (xchan_put_async(NULL, result, in, 0, drop_result, NULL) != XCHAN_OK)
		xchan_val_release(in);
	if (xchan_put_async(NULL, result, copy, 0, close_result, result) !=
	    XCHAN_OK) {
		xchan_val_release(copy);
		xchan_chan_close(result);
		xchan_chan_release(result);
	}
}
static void
af_inc(void *u, xchan_val in, xchan_chan *result)
{
	xchan_val v = xchan_val_int(ival(in) + 1);
	xchan_val_release(in);
	if (xchan_put_async(NULL, result, v, 0, close_result, result) !=
	    XCHAN_OK) {
		xchan_chan_close(result);
		xchan_chan_release(result);
	}
}

xchan_async_fn
vocab_async_fn(const char *n)
{
	if (n && !strcmp(n, "dup"))
		return af_dup;
	if (n && !strcmp(n, "inc"))
		return af_inc;
	return NULL;
}
