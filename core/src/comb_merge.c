/*
 * comb_merge.c — merge, split and map: one go task each.
 *
 * merge keeps its inputs as an array of take clauses for xchan_alts and
 * drops a clause when its channel reports closed.  Each process owns its
 * heap struct and the channel references in it; no locks.
 */
#include <string.h>

#include "comb_common.h"
#include "comb_user.h"

/* ---- merge ---------------------------------------------------------------- */

typedef struct merge_task {
	xchan_chan *out;
	xchan_clause *clauses; /* take clauses, one per live input */
	size_t n;
	size_t cap;
} merge_task;

static void
merge_task_free(merge_task *t)
{
	for (size_t i = 0; i < t->n; i++)
		xchan_chan_release(t->clauses[i].chan);
	if (t->clauses != NULL)
		xchan__free(t->clauses, t->cap * sizeof(xchan_clause));
	xchan_chan_release(t->out);
	xchan__free(t, sizeof(*t));
}

static int32_t
merge_run(void *arg, xchan_val *result)
{
	merge_task *t = arg;
	*result = xchan_val_nil();
	while (t->n > 0) {
		xchan_result r;
		int32_t err =
		    xchan_alts(&r, t->clauses, t->n, 0, XCHAN_DEADLINE_NEVER);
		if (err == XCHAN_OK) {
			/* core.async ignores a failed put and goes on. */
			if (xchan_put(t->out, r.val, XCHAN_DEADLINE_NEVER) !=
			    XCHAN_OK)
				xchan_val_release(r.val);
		} else if (err == XCHAN_ECLOSED && r.index >= 0 &&
		           (size_t)r.index < t->n) {
			size_t i = (size_t)r.index;
			xchan_chan_release(t->clauses[i].chan);
			t->clauses[i] = t->clauses[--t->n];
		} else {
			break; /* cannot happen with valid clauses */
		}
	}
	xchan_chan_close(t->out);
	merge_task_free(t);
	return XCHAN_OK;
}

int32_t
xchan_merge(xchan_chan **out, xchan_chan **out_done, xchan_chan *const *chans,
    size_t n, const xchan_chan_opts *out_opts)
{
	int32_t err = XCHAN_EINVAL;
	merge_task *t = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (out != NULL)
		*out = NULL;
	if (out == NULL || (chans == NULL && n > 0))
		goto fail0;
	for (size_t i = 0; i < n; i++)
		if (chans[i] == NULL)
			goto fail0;
	if ((t = xchan__zalloc(sizeof(*t))) == NULL) {
		err = XCHAN_ENOMEM;
		goto fail0;
	}
	if ((err = xchan__comb_chan(&t->out, out_opts)) != XCHAN_OK) {
		xchan__free(t, sizeof(*t));
		return err;
	}
	if (n == 0) {
		xchan_chan_close(t->out);
		if (out_done != NULL &&
		    (err = xchan__comb_closed_chan(out_done)) != XCHAN_OK)
			goto fail1;
		*out = t->out;
		xchan__free(t, sizeof(*t));
		return XCHAN_OK;
	}
	t->clauses = xchan__zalloc(n * sizeof(xchan_clause));
	if (t->clauses == NULL) {
		err = XCHAN_ENOMEM;
		goto fail1;
	}
	t->cap = n;
	for (size_t i = 0; i < n; i++) {
		t->clauses[i].op = XCHAN_ALT_TAKE;
		t->clauses[i].chan = xchan_chan_retain(chans[i]);
	}
	t->n = n;
	xchan_chan *ch = xchan_chan_retain(t->out);
	if ((err = xchan__comb_go(out_done, merge_run, t, "xchan-merge")) !=
	    XCHAN_OK) {
		xchan_chan_release(ch);
		merge_task_free(t);
		return err;
	}
	*out = ch;
	return XCHAN_OK;
fail1:
	if (t->out != NULL)
		xchan_chan_release(t->out);
	if (t->clauses != NULL)
		xchan__free(t->clauses, n * sizeof(xchan_clause));
	xchan__free(t, sizeof(*t));
	return err;
fail0:
	xchan__comb_opts_drop(out_opts);
	return err;
}

/* ---- split ---------------------------------------------------------------- */

typedef struct split_task {
	xchan_chan *src;
	xchan_chan *tc;
	xchan_chan *fc;
	xchan_pred_fn pred;
	void *user;
} split_task;

static void
split_task_free(split_task *t)
{
	xchan_chan_release(t->src);
	xchan_chan_release(t->tc);
	xchan_chan_release(t->fc);
	xchan__free(t, sizeof(*t));
}

static int32_t
split_run(void *arg, xchan_val *result)
{
	split_task *t = arg;
	*result = xchan_val_nil();
	for (;;) {
		xchan_val v;
		if (xchan_take(&v, t->src, XCHAN_DEADLINE_NEVER) != XCHAN_OK)
			break;
		xchan_chan *dst =
		    xchan__comb_call_pred(t->pred, t->user, v) ? t->tc : t->fc;
		if (xchan_put(dst, v, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			xchan_val_release(v);
			break;
		}
	}
	xchan_chan_close(t->tc);
	xchan_chan_close(t->fc);
	split_task_free(t);
	return XCHAN_OK;
}

int32_t
xchan_split(xchan_chan **out_true, xchan_chan **out_false,
    xchan_chan **out_done, xchan_chan *src, xchan_pred_fn pred, void *user,
    const xchan_chan_opts *true_opts, const xchan_chan_opts *false_opts)
{
	int32_t err = XCHAN_EINVAL;
	if (out_true != NULL)
		*out_true = NULL;
	if (out_false != NULL)
		*out_false = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	split_task *t = NULL;
	if (out_true == NULL || out_false == NULL || src == NULL ||
	    pred == NULL)
		goto fail;
	if ((t = xchan__zalloc(sizeof(*t))) == NULL) {
		err = XCHAN_ENOMEM;
		goto fail;
	}
	err = xchan__comb_chan(&t->tc, true_opts);
	true_opts = NULL; /* taken over by xchan_chan_new either way */
	if (err != XCHAN_OK)
		goto fail;
	err = xchan__comb_chan(&t->fc, false_opts);
	false_opts = NULL;
	if (err != XCHAN_OK)
		goto fail;
	t->src = xchan_chan_retain(src);
	t->pred = pred;
	t->user = user;
	xchan_chan *tc = xchan_chan_retain(t->tc);
	xchan_chan *fc = xchan_chan_retain(t->fc);
	if ((err = xchan__comb_go(out_done, split_run, t, "xchan-split")) !=
	    XCHAN_OK) {
		xchan_chan_release(tc);
		xchan_chan_release(fc);
		split_task_free(t);
		return err;
	}
	*out_true = tc;
	*out_false = fc;
	return XCHAN_OK;
fail:
	xchan__comb_opts_drop(true_opts);
	xchan__comb_opts_drop(false_opts);
	if (t != NULL) {
		xchan_chan_release(t->tc);
		xchan_chan_release(t->fc);
		xchan__free(t, sizeof(*t));
	}
	return err;
}

/* ---- map ------------------------------------------------------------------ */

typedef struct map_task {
	xchan_chan *out;
	xchan_chan **chans;
	xchan_val *vals;
	size_t n;
	xchan_map_n_fn fn;
	void *user;
} map_task;

static void
map_task_free(map_task *t)
{
	for (size_t i = 0; i < t->n; i++)
		xchan_chan_release(t->chans[i]);
	xchan__free(t->chans, t->n * sizeof(xchan_chan *));
	xchan__free(t->vals, t->n * sizeof(xchan_val));
	xchan_chan_release(t->out);
	xchan__free(t, sizeof(*t));
}

static int32_t
map_run(void *arg, xchan_val *result)
{
	map_task *t = arg;
	*result = xchan_val_nil();
	for (;;) {
		size_t got = 0;
		while (got < t->n && xchan_take(&t->vals[got], t->chans[got],
		                         XCHAN_DEADLINE_NEVER) == XCHAN_OK)
			got++;
		if (got < t->n) {
			xchan__comb_release_vals(t->vals, got);
			break;
		}
		xchan_val r =
		    xchan__comb_call_map_n(t->fn, t->user, t->vals, t->n);
		xchan__comb_release_vals(t->vals, t->n);
		if (r.kind == XCHAN_NIL)
			continue;
		if (xchan_put(t->out, r, XCHAN_DEADLINE_NEVER) != XCHAN_OK) {
			xchan_val_release(r);
			break;
		}
	}
	xchan_chan_close(t->out);
	map_task_free(t);
	return XCHAN_OK;
}

int32_t
xchan_map(xchan_chan **out, xchan_chan **out_done, xchan_chan *const *chans,
    size_t n, xchan_map_n_fn fn, void *user, const xchan_chan_opts *out_opts)
{
	int32_t err = XCHAN_EINVAL;
	map_task *t = NULL;
	if (out != NULL)
		*out = NULL;
	if (out_done != NULL)
		*out_done = NULL;
	if (out == NULL || fn == NULL || (chans == NULL && n > 0))
		goto fail0;
	for (size_t i = 0; i < n; i++)
		if (chans[i] == NULL)
			goto fail0;
	if (n == 0) {
		/* ASYNC-238: nothing to map over gives a closed channel. */
		xchan_chan *ch;
		if ((err = xchan__comb_chan(&ch, out_opts)) != XCHAN_OK)
			return err;
		xchan_chan_close(ch);
		if (out_done != NULL &&
		    (err = xchan__comb_closed_chan(out_done)) != XCHAN_OK) {
			xchan_chan_release(ch);
			return err;
		}
		*out = ch;
		return XCHAN_OK;
	}
	if ((t = xchan__zalloc(sizeof(*t))) == NULL) {
		err = XCHAN_ENOMEM;
		goto fail0;
	}
	t->chans = xchan__zalloc(n * sizeof(xchan_chan *));
	t->vals = xchan__zalloc(n * sizeof(xchan_val));
	if (t->chans == NULL || t->vals == NULL) {
		err = XCHAN_ENOMEM;
		goto fail1;
	}
	if ((err = xchan__comb_chan(&t->out, out_opts)) != XCHAN_OK) {
		out_opts = NULL;
		goto fail1;
	}
	for (size_t i = 0; i < n; i++)
		t->chans[i] = xchan_chan_retain(chans[i]);
	t->n = n;
	t->fn = fn;
	t->user = user;
	xchan_chan *ch = xchan_chan_retain(t->out);
	if ((err = xchan__comb_go(out_done, map_run, t, "xchan-map")) !=
	    XCHAN_OK) {
		xchan_chan_release(ch);
		map_task_free(t);
		return err;
	}
	*out = ch;
	return XCHAN_OK;
fail1:
	if (t->chans != NULL)
		xchan__free(t->chans, n * sizeof(xchan_chan *));
	if (t->vals != NULL)
		xchan__free(t->vals, n * sizeof(xchan_val));
	xchan__free(t, sizeof(*t));
fail0:
	xchan__comb_opts_drop(out_opts);
	return err;
}
