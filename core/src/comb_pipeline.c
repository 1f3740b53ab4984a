/*
 * comb_pipeline.c — pipeline, pipeline_blocking, pipeline_async.
 *
 * Design notes.
 *  - Transform per element.  An xchan_xform has state and belongs to one
 *    channel, so the caller gives a factory; for each element the
 *    coordinator makes a fresh transform and a result channel `res`
 *    (fixed 1) carrying it.  A job on the executor puts the element on
 *    `res` (the buffer is empty, so the put never waits; an expanding step
 *    may overfill it, which channels allow) and closes it, which runs the
 *    transform's completion.  A failing step goes to the channel's error
 *    handler (opts->on_error), whose non-nil result lands in `res`: so it
 *    takes the failing element's place in the output, in order.
 *  - Order.  The coordinator puts each `res` on `results` (in input order)
 *    before starting its job; one output task takes them in that order and
 *    copies each `res` to `to` until it closes.  `results` holds n - 1
 *    channels (unbuffered for n == 1) and the output task holds one more,
 *    so at most n elements are in flight.
 *  - pipeline_async: `res` carries no transform; the user's function gets
 *    the element and its own reference to `res`, and closes it.
 *  - Lifetime.  `refs` counts the coordinator, the output task and each job
 *    on the executor; the last one closes `done` (so every transform has
 *    been destroyed and no callback can run any more) and frees the struct.
 *    No mutex: each field is written before the tasks start.
 */
#include <stdio.h>

#include "comb_common.h"
#include "comb_user.h"
#include "log.h"

enum { PL_COMPUTE, PL_BLOCKING, PL_ASYNC };

typedef struct pipeline {
	_Atomic uint32_t refs;
	int kind;
	int32_t close;
	xchan_chan *to;
	xchan_chan *from;
	xchan_chan *results;
	xchan_chan *done;
	xchan_executor *ex;
	xchan_xform_factory factory;
	void *factory_user;
	xchan_error_handler on_error;
	void *on_error_user;
	xchan_async_fn af;
	void *af_user;
} pipeline;

typedef struct pl_job {
	pipeline *p;
	xchan_chan *res;
	xchan_val v;
} pl_job;

static void
pl_free(pipeline *p)
{
	xchan_chan_release(p->to);
	xchan_chan_release(p->from);
	xchan_chan_release(p->results);
	xchan_chan_release(p->done);
	xchan__free(p, sizeof(*p));
}

static void
pl_unref(pipeline *p)
{
	if (atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) == 1) {
		xchan_chan_close(p->done);
		pl_free(p);
	}
}

static void
pl_job_run(void *arg)
{
	pl_job *j = arg;
	pipeline *p = j->p;
	if (xchan_put(j->res, j->v, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
		xchan_val_release(j->v); /* a step closed it: nothing lost */
	xchan_chan_close(j->res);
	xchan_chan_release(j->res);
	xchan__free(j, sizeof(*j));
	pl_unref(p);
}

/* The factory failed: the error handler's result (if any) stands for the
 * element, as for a failing step. */
static void
pl_factory_failed(pipeline *p, xchan_chan *res, int32_t err)
{
	xchan_val e = xchan_val_int(err), r = xchan_val_nil();
	if (p->on_error != NULL)
		r = xchan__comb_call_on_error(p->on_error, p->on_error_user, e);
	else
		xchan__log(XCHAN_LOG_ERROR,
		    "pipeline transform factory failed: %s",
		    xchan_err_name(err));
	if (r.kind != XCHAN_NIL && xchan_offer(res, r) != XCHAN_OK)
		xchan_val_release(r);
}

/* Makes the result channel of one element.  For transform pipelines, also
 * its transform; *factory_err is set if the factory failed. */
static int32_t
pl_make_res(pipeline *p, xchan_chan **res, int32_t *factory_err)
{
	xchan_chan_opts o = {0};
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 1;
	*factory_err = XCHAN_OK;
	if (p->kind != PL_ASYNC) {
		xchan_xform *xf = NULL;
		*factory_err =
		    xchan__comb_call_factory(p->factory, p->factory_user, &xf);
		if (*factory_err == XCHAN_OK && xf == NULL)
			*factory_err = XCHAN_EINVAL;
		if (*factory_err != XCHAN_OK) {
			if (xf != NULL)
				xchan_xform_free(xf);
		} else {
			o.xform = xf;
			o.on_error = p->on_error;
			o.on_error_user = p->on_error_user;
		}
	}
	return xchan_chan_new(res, &o);
}

/* Handles one element `v` (moved).  Returns 0 if the pipeline must stop. */
static int
pl_element(pipeline *p, xchan_val v)
{
	xchan_chan *res;
	int32_t ferr;
	if (pl_make_res(p, &res, &ferr) != XCHAN_OK) {
		/* Out of memory: the element is lost; say so and go on. */
		xchan__log(XCHAN_LOG_ERROR, "pipeline dropped an element: %s",
		    xchan_err_name(XCHAN_ENOMEM));
		xchan_val_release(v);
		return 1;
	}
	xchan_val rv = xchan_val_nil();
	if (xchan_val_chan(&rv, res) != XCHAN_OK ||
	    xchan_put(p->results, rv, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
		xchan_val_release(rv);
		xchan_val_release(v);
		xchan_chan_release(res);
		return 0; /* cannot happen: results is ours */
	}
	if (p->kind == PL_ASYNC) {
		/* res: af's reference now */
		xchan__comb_call_async(p->af, p->af_user, v, res);
		return 1;
	}
	if (ferr != XCHAN_OK) {
		xchan_val_release(v);
		pl_factory_failed(p, res, ferr);
		xchan_chan_close(res);
		xchan_chan_release(res);
		return 1;
	}
	pl_job *j = xchan__alloc(sizeof(*j));
	if (j != NULL) {
		j->p = p;
		j->res = res;
		j->v = v;
		atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
		if (xchan_execute(p->ex, pl_job_run, j) == XCHAN_OK)
			return 1;
		atomic_fetch_sub_explicit(&p->refs, 1, memory_order_relaxed);
		xchan__free(j, sizeof(*j));
	}
	/* No memory or the executor refused (shut down): drop the element
	 * rather than run a possibly blocking step on this dispatch worker. */
	xchan__log(XCHAN_LOG_ERROR,
	    "pipeline dropped an element: cannot run its job");
	xchan_val_release(v);
	xchan_chan_close(res);
	xchan_chan_release(res);
	return 1;
}

static int32_t
pl_coordinator(void *arg, xchan_val *result)
{
	pipeline *p = arg;
	*result = xchan_val_nil();
	xchan_val v;
	while (xchan_take(&v, p->from, XCHAN_DEADLINE_NEVER) == XCHAN_OK)
		if (!pl_element(p, v))
			break;
	xchan_chan_close(p->results);
	pl_unref(p);
	return XCHAN_OK;
}

static int32_t
pl_output(void *arg, xchan_val *result)
{
	pipeline *p = arg;
	*result = xchan_val_nil();
	int to_open = 1;
	xchan_val rv;
	while (xchan_take(&rv, p->results, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
		xchan_chan *res = NULL;
		xchan_get_chan(rv, &res);
		xchan_val x;
		while (res != NULL &&
		       xchan_take(&x, res, XCHAN_DEADLINE_NEVER) == XCHAN_OK) {
			if (to_open && xchan_put(p->to, x,
			                   XCHAN_DEADLINE_NEVER) == XCHAN_OK)
				continue;
			/* `to` closed: keep draining so jobs and af finish. */
			to_open = 0;
			xchan_val_release(x);
		}
		xchan_val_release(rv);
	}
	if (p->close)
		xchan_chan_close(p->to);
	pl_unref(p);
	return XCHAN_OK;
}

static int32_t
pl_start(xchan_chan **out_done, uint32_t n, xchan_chan *to, xchan_chan *from,
    int32_t close, int kind, const xchan_pipeline_opts *opts, pipeline *tmpl)
{
	if (out_done != NULL)
		*out_done = NULL;
	xchan_pipeline_opts o = {.size = sizeof(o)};
	if (n == 0 || to == NULL || from == NULL ||
	    (opts != NULL && !xchan__struct_in(&o, sizeof(o), opts,
	                         XCHAN__PIPELINE_OPTS_V1_SIZE)))
		return XCHAN_EINVAL;
	opts = &o;
	int32_t err;
	pipeline *p = xchan__zalloc(sizeof(*p));
	if (p == NULL)
		return XCHAN_ENOMEM;
	*p = *tmpl;
	p->kind = kind;
	p->close = close;
	{
		p->on_error = opts->on_error;
		p->on_error_user = opts->on_error_user;
		p->ex = opts->executor;
	}
	if (kind != PL_ASYNC && p->ex == NULL &&
	    (err = xchan_executor_for(&p->ex,
	         kind == PL_COMPUTE ? XCHAN_WORKLOAD_COMPUTE
	                            : XCHAN_WORKLOAD_MIXED)) != XCHAN_OK)
		goto fail;
	if ((err = xchan_chan_make(&p->results,
	         n == 1 ? XCHAN_BUF_NONE : XCHAN_BUF_FIXED, n - 1)) !=
	        XCHAN_OK ||
	    (err = xchan_chan_make(&p->done, XCHAN_BUF_NONE, 0)) != XCHAN_OK)
		goto fail;
	p->to = xchan_chan_retain(to);
	p->from = xchan_chan_retain(from);
	atomic_init(&p->refs, 2); /* coordinator and output task */
	/* The output task first: once the coordinator runs, someone must
	 * drain `results`. */
	if ((err = xchan__comb_go(NULL, pl_output, p, "xchan-pipeline-out")) !=
	    XCHAN_OK)
		goto fail;
	xchan_chan *done = xchan_chan_retain(p->done);
	if ((err = xchan__comb_go(NULL, pl_coordinator, p, "xchan-pipeline")) !=
	    XCHAN_OK) {
		/* The output task is running: close results so it ends, and
		 * drop the coordinator's reference ourselves. */
		xchan_chan_close(p->results);
		pl_unref(p);
		xchan_chan_release(done);
		return err;
	}
	if (out_done != NULL)
		*out_done = done;
	else
		xchan_chan_release(done);
	return XCHAN_OK;
fail:
	pl_free(p);
	return err;
}

/* pipeline and pipeline_blocking differ only in their default executor. */
static int32_t
pl_start_xform(xchan_chan **out_done, uint32_t n, xchan_chan *to,
    xchan_chan *from, int32_t close, xchan_xform_factory factory,
    void *factory_user, const xchan_pipeline_opts *opts, int kind)
{
	pipeline t = {0};
	t.factory = factory;
	t.factory_user = factory_user;
	if (factory == NULL) {
		if (out_done != NULL)
			*out_done = NULL;
		return XCHAN_EINVAL;
	}
	return pl_start(out_done, n, to, from, close, kind, opts, &t);
}

int32_t
xchan_pipeline(xchan_chan **out_done, uint32_t n, xchan_chan *to,
    xchan_chan *from, int32_t close, xchan_xform_factory factory,
    void *factory_user, const xchan_pipeline_opts *opts)
{
	return pl_start_xform(out_done, n, to, from, close, factory,
	    factory_user, opts, PL_COMPUTE);
}

int32_t
xchan_pipeline_blocking(xchan_chan **out_done, uint32_t n, xchan_chan *to,
    xchan_chan *from, int32_t close, xchan_xform_factory factory,
    void *factory_user, const xchan_pipeline_opts *opts)
{
	return pl_start_xform(out_done, n, to, from, close, factory,
	    factory_user, opts, PL_BLOCKING);
}

int32_t
xchan_pipeline_async(xchan_chan **out_done, uint32_t n, xchan_chan *to,
    xchan_chan *from, int32_t close, xchan_async_fn af, void *user,
    const xchan_pipeline_opts *opts)
{
	pipeline t = {0};
	t.af = af;
	t.af_user = user;
	if (af == NULL) {
		if (out_done != NULL)
			*out_done = NULL;
		return XCHAN_EINVAL;
	}
	return pl_start(out_done, n, to, from, close, PL_ASYNC, opts, &t);
}
