/*
 * comb_user.c — the combinators' user calls, run off go stacks.  See
 * comb_user.h.  Each call packs its arguments in a frame on the task's
 * stack; the trampoline runs on the worker's stack and writes the result
 * back into the frame before the task resumes.
 */
#include "comb_user.h"

#include "task.h"

typedef struct map_call {
	xchan_map_fn fn;
	void *user;
	xchan_val in, out;
} map_call;

static void
run_map(void *arg)
{
	map_call *c = arg;
	c->out = c->fn(c->user, c->in);
}

xchan_val
xchan__comb_call_map(xchan_map_fn fn, void *user, xchan_val in)
{
	map_call c = {fn, user, in, {0, 0, 0}};
	xchan__on_thread_stack(run_map, &c);
	return c.out;
}

typedef struct pred_call {
	xchan_pred_fn fn;
	void *user;
	xchan_val in;
	int32_t out;
} pred_call;

static void
run_pred(void *arg)
{
	pred_call *c = arg;
	c->out = c->fn(c->user, c->in);
}

int32_t
xchan__comb_call_pred(xchan_pred_fn fn, void *user, xchan_val in)
{
	pred_call c = {fn, user, in, 0};
	xchan__on_thread_stack(run_pred, &c);
	return c.out;
}

typedef struct map_n_call {
	xchan_map_n_fn fn;
	void *user;
	const xchan_val *vals;
	size_t n;
	xchan_val out;
} map_n_call;

static void
run_map_n(void *arg)
{
	map_n_call *c = arg;
	c->out = c->fn(c->user, c->vals, c->n);
}

xchan_val
xchan__comb_call_map_n(xchan_map_n_fn fn, void *user, const xchan_val *vals,
    size_t n)
{
	map_n_call c = {fn, user, vals, n, {0, 0, 0}};
	xchan__on_thread_stack(run_map_n, &c);
	return c.out;
}

typedef struct pub_buf_call {
	xchan_pub_buf_fn fn;
	void *user;
	uint32_t *kind;
	uint64_t *capacity;
	xchan_val topic;
	int32_t err;
} pub_buf_call;

static void
run_pub_buf(void *arg)
{
	pub_buf_call *c = arg;
	c->err = c->fn(c->user, c->kind, c->capacity, c->topic);
}

int32_t
xchan__comb_call_pub_buf(xchan_pub_buf_fn fn, void *user, uint32_t *out_kind,
    uint64_t *out_capacity, xchan_val topic)
{
	pub_buf_call c = {fn, user, out_kind, out_capacity, topic, 0};
	xchan__on_thread_stack(run_pub_buf, &c);
	return c.err;
}

typedef struct reduce_call {
	xchan_reduce_fn fn;
	void *user;
	xchan_val *out_acc;
	xchan_val acc, v;
	int32_t st;
} reduce_call;

static void
run_reduce(void *arg)
{
	reduce_call *c = arg;
	c->st = c->fn(c->user, c->out_acc, c->acc, c->v);
}

int32_t
xchan__comb_call_reduce(xchan_reduce_fn fn, void *user, xchan_val *out_acc,
    xchan_val acc, xchan_val v)
{
	reduce_call c = {fn, user, out_acc, acc, v, 0};
	xchan__on_thread_stack(run_reduce, &c);
	return c.st;
}

typedef struct factory_call {
	xchan_xform_factory fn;
	void *user;
	xchan_xform **out;
	int32_t err;
} factory_call;

static void
run_factory(void *arg)
{
	factory_call *c = arg;
	c->err = c->fn(c->user, c->out);
}

int32_t
xchan__comb_call_factory(xchan_xform_factory fn, void *user, xchan_xform **out)
{
	factory_call c = {fn, user, out, 0};
	xchan__on_thread_stack(run_factory, &c);
	return c.err;
}

typedef struct on_error_call {
	xchan_error_handler fn;
	void *user;
	xchan_val e, out;
} on_error_call;

static void
run_on_error(void *arg)
{
	on_error_call *c = arg;
	c->out = c->fn(c->user, c->e);
}

xchan_val
xchan__comb_call_on_error(xchan_error_handler fn, void *user, xchan_val e)
{
	on_error_call c = {fn, user, e, {0, 0, 0}};
	xchan__on_thread_stack(run_on_error, &c);
	return c.out;
}

typedef struct async_call {
	xchan_async_fn fn;
	void *user;
	xchan_val v;
	xchan_chan *res;
} async_call;

static void
run_async(void *arg)
{
	async_call *c = arg;
	c->fn(c->user, c->v, c->res);
}

void
xchan__comb_call_async(xchan_async_fn fn, void *user, xchan_val v,
    xchan_chan *res)
{
	async_call c = {fn, user, v, res};
	xchan__on_thread_stack(run_async, &c);
}
