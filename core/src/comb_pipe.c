/*
 * comb_pipe.c — pipe and take_n: one go task copying values from one
 * channel to another.
 *
 * Each process owns a small heap struct holding references to its channels;
 * the task releases them and frees the struct when it ends.  No locks.
 */
#include "comb_common.h"

typedef struct pipe_task {
	xchan_chan *from;
	xchan_chan *to;
	uint64_t limit; /* take_n: values still allowed; pipe: UINT64_MAX */
	int32_t close;  /* close `to` when the copy ends normally */
	int32_t take_n; /* take_n closes `to` however the copy ends */
} pipe_task;

static void
pipe_task_free(pipe_task *t)
{
	xchan_chan_release(t->from);
	xchan_chan_release(t->to);
	xchan__free(t, sizeof(*t));
}

static int32_t
pipe_run(void *arg, xchan_val *result)
{
	pipe_task *t = arg;
	*result = xchan_val_nil();
	int src_closed = 0;
	while (t->limit > 0) {
		xchan_val v;
		if (xchan_take(&v, t->from, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			src_closed = 1;
			break;
		}
		if (xchan_put(t->to, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			/* `to` was closed: core.async's pipe stops here. */
			xchan_val_release(v);
			break;
		}
		if (t->limit != UINT64_MAX)
			t->limit--;
	}
	if (t->take_n || (src_closed && t->close))
		xchan_chan_close(t->to);
	pipe_task_free(t);
	return XCHAN_OK;
}

static int32_t
pipe_start(xchan_chan **out_done, xchan_chan *from, xchan_chan *to,
    uint64_t limit, int32_t close, int32_t take_n, const char *name)
{
	pipe_task *t = xchan__zalloc(sizeof(*t));
	if (t == NULL)
		return XCHAN_ENOMEM;
	t->from = xchan_chan_retain(from);
	t->to = xchan_chan_retain(to);
	t->limit = limit;
	t->close = close;
	t->take_n = take_n;
	int32_t err = xchan__comb_go(out_done, pipe_run, t, name);
	if (err != XCHAN_OK)
		pipe_task_free(t);
	return err;
}

int32_t
xchan_pipe(xchan_chan **out_done, xchan_chan *from, xchan_chan *to,
    int32_t close)
{
	if (out_done != NULL)
		*out_done = NULL;
	if (from == NULL || to == NULL)
		return XCHAN_EINVAL;
	return pipe_start(out_done, from, to, UINT64_MAX, close, 0,
	    "xchan-pipe");
}

int32_t
xchan_take_n(xchan_chan **out, xchan_chan **out_done, xchan_chan *src,
    uint64_t n, const xchan_chan_opts *out_opts)
{
	if (out_done != NULL)
		*out_done = NULL;
	if (out == NULL || src == NULL) {
		xchan__comb_opts_drop(out_opts);
		if (out != NULL)
			*out = NULL;
		return XCHAN_EINVAL;
	}
	*out = NULL;
	xchan_chan *ch = NULL;
	int32_t err = xchan__comb_chan(&ch, out_opts);
	if (err != XCHAN_OK)
		return err;
	if (n == UINT64_MAX)
		n--; /* UINT64_MAX means "no limit" inside; nobody will notice */
	if (n == 0) {
		/* Nothing to copy: a closed channel and an ended process. */
		xchan_chan_close(ch);
		if (out_done != NULL &&
		    (err = xchan__comb_closed_chan(out_done)) != XCHAN_OK) {
			xchan_chan_release(ch);
			return err;
		}
		*out = ch;
		return XCHAN_OK;
	}
	err = pipe_start(out_done, src, ch, n, 1, 1, "xchan-take");
	if (err != XCHAN_OK) {
		xchan_chan_release(ch);
		return err;
	}
	*out = ch;
	return XCHAN_OK;
}
