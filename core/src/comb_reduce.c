/*
 * comb_reduce.c — reduce, transduce, into: one go task folding a channel
 * into a value delivered on the task's own result channel.
 *
 * transduce cannot call a transform directly (xchan_emit belongs to the
 * channel core), so it feeds each value through a private channel `mid`
 * (fixed 1) carrying the transform: the task puts a value while `mid` is
 * empty (never waits; an expanding step may overfill it), then polls `mid`
 * dry, reducing what came out.  Closing `mid` when the source closes runs
 * the completion (partition_all's last batch).  A step returning REDUCED
 * closes `mid`, which ends the reduce like a closed source.  Everything,
 * including the transform's destruction, happens before the task returns,
 * so the result channel closing means the reducer is never called again.
 */
#include <string.h>

#include "comb_common.h"
#include "comb_user.h"

typedef struct reduce_task {
	xchan_chan *src;
	xchan_chan *mid; /* transduce only */
	xchan_reduce_fn f;
	void *user;
	xchan_val acc;
	int failed;
	/* into: the collected items */
	int into;
	xchan_val *items;
	size_t n;
	size_t cap;
} reduce_task;

static void
reduce_task_free(reduce_task *t)
{
	xchan_chan_release(t->src);
	if (t->mid != NULL) {
		xchan_chan_close(t->mid);
		xchan_chan_release(t->mid);
	}
	xchan_val_release(t->acc);
	xchan__comb_release_vals(t->items, t->n);
	if (t->items != NULL)
		xchan__free(t->items, t->cap * sizeof(xchan_val));
	xchan__free(t, sizeof(*t));
}

static int
into_push(reduce_task *t, xchan_val v)
{
	if (t->n == t->cap) {
		size_t cap = t->cap < 16 ? 16 : t->cap * 2;
		xchan_val *a = xchan__alloc(cap * sizeof(xchan_val));
		if (a == NULL) {
			xchan_val_release(v);
			return 0;
		}
		if (t->items != NULL) {
			memcpy(a, t->items, t->n * sizeof(xchan_val));
			xchan__free(t->items, t->cap * sizeof(xchan_val));
		}
		t->items = a;
		t->cap = cap;
	}
	t->items[t->n++] = v;
	return 1;
}

/* Folds `v` (moved) in.  Returns 0 when the reduce must stop. */
static int
reduce_step(reduce_task *t, xchan_val v)
{
	if (t->into) {
		if (into_push(t, v))
			return 1;
		t->failed = 1;
		return 0;
	}
	xchan_val next = xchan_val_nil(), acc = t->acc;
	t->acc = xchan_val_nil();
	int32_t st = xchan__comb_call_reduce(t->f, t->user, &next, acc, v);
	if (st == XCHAN_STEP_FAILED) {
		xchan_val_release(next);
		t->failed = 1;
		return 0;
	}
	t->acc = next;
	return st == XCHAN_STEP_CONTINUE;
}

/* Reduces what `mid` holds.  Returns 0 when the reduce must stop. */
static int
reduce_drain_mid(reduce_task *t)
{
	xchan_val x;
	int32_t err;
	while ((err = xchan_poll(&x, t->mid)) == XCHAN_OK)
		if (!reduce_step(t, x))
			return 0;
	return err == XCHAN_EAGAIN;
}

static int32_t
reduce_run(void *arg, xchan_val *result)
{
	reduce_task *t = arg;
	*result = xchan_val_nil();
	xchan_val v;
	for (;;) {
		if (xchan_take(&v, t->src, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			if (t->mid != NULL) {
				xchan_chan_close(t->mid); /* completion */
				reduce_drain_mid(t);
			}
			break;
		}
		if (t->mid == NULL) {
			if (!reduce_step(t, v))
				break;
			continue;
		}
		if (xchan_offer(t->mid, v) != XCHAN_OK) {
			xchan_val_release(v); /* the transform stopped */
			reduce_drain_mid(t);
			break;
		}
		if (!reduce_drain_mid(t))
			break;
	}
	int32_t err = t->failed ? XCHAN_ETASK : XCHAN_OK;
	if (!t->failed) {
		if (t->into) {
			err = xchan_val_array(result, t->items, t->n);
			t->n = 0; /* taken over, even on error */
		} else {
			*result = t->acc;
			t->acc = xchan_val_nil();
		}
	}
	reduce_task_free(t);
	return err;
}

static int32_t
reduce_start(xchan_chan **out, reduce_task *t, xchan_chan *src,
    const char *name)
{
	t->src = xchan_chan_retain(src);
	int32_t err = xchan__comb_go(out, reduce_run, t, name);
	if (err != XCHAN_OK)
		reduce_task_free(t);
	return err;
}

int32_t
xchan_reduce(xchan_chan **out, xchan_chan *src, xchan_reduce_fn f, void *user,
    xchan_val init)
{
	if (out != NULL)
		*out = NULL;
	if (out == NULL || src == NULL || f == NULL) {
		xchan_val_release(init);
		return XCHAN_EINVAL;
	}
	reduce_task *t = xchan__zalloc(sizeof(*t));
	if (t == NULL) {
		xchan_val_release(init);
		return XCHAN_ENOMEM;
	}
	t->f = f;
	t->user = user;
	t->acc = init;
	return reduce_start(out, t, src, "xchan-reduce");
}

int32_t
xchan_transduce(xchan_chan **out, xchan_chan *src, xchan_xform *xform,
    xchan_reduce_fn f, void *user, xchan_val init)
{
	if (out != NULL)
		*out = NULL;
	if (out == NULL || src == NULL || f == NULL || xform == NULL) {
		if (xform != NULL)
			xchan_xform_free(xform);
		xchan_val_release(init);
		return XCHAN_EINVAL;
	}
	reduce_task *t = xchan__zalloc(sizeof(*t));
	if (t == NULL) {
		xchan_xform_free(xform);
		xchan_val_release(init);
		return XCHAN_ENOMEM;
	}
	t->f = f;
	t->user = user;
	t->acc = init;
	xchan_chan_opts o = {0};
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 1;
	o.xform = xform;
	int32_t err = xchan_chan_new(&t->mid, &o);
	if (err != XCHAN_OK) {
		reduce_task_free(t);
		return err;
	}
	return reduce_start(out, t, src, "xchan-transduce");
}

int32_t
xchan_into(xchan_chan **out, xchan_chan *src, xchan_val init)
{
	if (out != NULL)
		*out = NULL;
	int32_t err = XCHAN_EINVAL;
	if (out == NULL || src == NULL)
		goto fail;
	if (init.kind != XCHAN_NIL && init.kind != XCHAN_ARRAY) {
		err = XCHAN_ETYPE;
		goto fail;
	}
	reduce_task *t = xchan__zalloc(sizeof(*t));
	if (t == NULL) {
		err = XCHAN_ENOMEM;
		goto fail;
	}
	t->into = 1;
	const xchan_val *items = NULL;
	size_t n = 0;
	if (init.kind == XCHAN_ARRAY)
		xchan_get_array(init, &items, &n);
	for (size_t i = 0; i < n; i++) {
		if (!into_push(t, xchan_val_retain(items[i]))) {
			reduce_task_free(t);
			err = XCHAN_ENOMEM;
			goto fail;
		}
	}
	xchan_val_release(init);
	return reduce_start(out, t, src, "xchan-into");
fail:
	xchan_val_release(init);
	return err;
}
