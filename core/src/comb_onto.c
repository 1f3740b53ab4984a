/*
 * comb_onto.c — onto_chan and to_chan: a go task putting an array of
 * values on a channel.  to_chan of at most 100 values needs no task: the
 * values fit the buffer, so they are offered at once and the channel is
 * closed.
 */
#include <string.h>

#include "comb_common.h"

#define TO_CHAN_MAX_BUF 100u

typedef struct onto_task {
	xchan_chan *ch;
	xchan_val *vals;
	size_t n;
	size_t next; /* first value not yet put */
	int32_t close;
} onto_task;

static void
onto_task_free(onto_task *t)
{
	xchan__comb_release_vals(t->vals + t->next, t->n - t->next);
	if (t->vals != NULL)
		xchan__free(t->vals, t->n * sizeof(xchan_val));
	xchan_chan_release(t->ch);
	xchan__free(t, sizeof(*t));
}

static int32_t
onto_run(void *arg, xchan_val *result)
{
	onto_task *t = arg;
	*result = xchan_val_nil();
	while (t->next < t->n) {
		if (xchan_put(t->ch, t->vals[t->next], XCHAN_DEADLINE_NEVER) !=
		    XCHAN_OK)
			break; /* closed: the rest is released below */
		t->next++;
	}
	if (t->close)
		xchan_chan_close(t->ch);
	onto_task_free(t);
	return XCHAN_OK;
}

static int
vals_have_nil(const xchan_val *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vals[i].kind == XCHAN_NIL)
			return 1;
	return 0;
}

int32_t
xchan_onto_chan(xchan_chan **out_done, xchan_chan *ch, xchan_val *vals,
    size_t n, int32_t close)
{
	int32_t err = XCHAN_EINVAL;
	onto_task *t = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (vals == NULL && n > 0)
		return XCHAN_EINVAL;
	if (ch == NULL)
		goto fail;
	if (vals_have_nil(vals, n)) {
		err = XCHAN_ENIL;
		goto fail;
	}
	err = XCHAN_ENOMEM;
	if ((t = xchan__zalloc(sizeof(*t))) == NULL)
		goto fail;
	if (n > 0 && (t->vals = xchan__alloc(n * sizeof(xchan_val))) == NULL)
		goto fail;
	if (n > 0)
		memcpy(t->vals, vals, n * sizeof(xchan_val));
	t->n = n;
	t->close = close;
	t->ch = xchan_chan_retain(ch);
	if ((err = xchan__comb_go(out_done, onto_run, t, "xchan-onto-chan")) !=
	    XCHAN_OK) {
		onto_task_free(t); /* releases the values */
		return err;
	}
	return XCHAN_OK;
fail:
	if (t != NULL)
		xchan__free(t, sizeof(*t));
	xchan__comb_release_vals(vals, n);
	return err;
}

int32_t
xchan_to_chan(xchan_chan **out, xchan_val *vals, size_t n)
{
	int32_t err = XCHAN_EINVAL;
	xchan_chan *ch = NULL;
	if (out != NULL)
		*out = NULL;
	if (vals == NULL && n > 0)
		return XCHAN_EINVAL;
	if (out == NULL)
		goto fail;
	if (vals_have_nil(vals, n)) {
		err = XCHAN_ENIL;
		goto fail;
	}
	if (n == 0)
		err = xchan_chan_make(&ch, XCHAN_BUF_NONE, 0);
	else
		err = xchan_chan_make(&ch, XCHAN_BUF_FIXED,
		    n < TO_CHAN_MAX_BUF ? n : TO_CHAN_MAX_BUF);
	if (err != XCHAN_OK)
		goto fail;
	if (n <= TO_CHAN_MAX_BUF) {
		for (size_t i = 0; i < n; i++)
			if (xchan_offer(ch, vals[i]) != XCHAN_OK)
				xchan_val_release(vals[i]); /* cannot happen */
		xchan_chan_close(ch);
		*out = ch;
		return XCHAN_OK;
	}
	if ((err = xchan_onto_chan(NULL, ch, vals, n, 1)) != XCHAN_OK) {
		xchan_chan_release(ch);
		return err; /* values released by onto_chan */
	}
	*out = ch;
	return XCHAN_OK;
fail:
	xchan__comb_release_vals(vals, n);
	return err;
}
