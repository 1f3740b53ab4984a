/*
 * ops_comb.c — the combinator ops of the case schema: pipe, pipeline
 * (compute, blocking, async), mult/tap, pub/sub, mix, merge, split, map,
 * take_n, reduce, transduce, into, onto_chan, to_chan.  Every op that starts
 * a process may name its done channel with "done"; output channels are
 * named with "as" and configured with "out" (a channel spec).
 */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static cJSON *
runner_err(const char *msg, const char *detail)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "err", "RUNNER");
	cJSON_AddStringToObject(r, "msg", msg);
	if (detail)
		cJSON_AddStringToObject(r, "detail", detail);
	return r;
}

/* Binds `ch` (if any) to op[key]'s name. */
static void
bind(world *w, const cJSON *op, const char *key, xchan_chan *ch)
{
	if (ch)
		world_put(w, arg_str(op, key, "_"), OBJ_CHAN, ch);
}

static xchan_chan **
done_slot(const cJSON *op, xchan_chan **slot)
{
	*slot = NULL;
	return arg_str(op, "done", NULL) ? slot : NULL;
}

/* For processes whose memory the runner must keep until they end: always
 * asks for the done channel; binds it if the case named one, and keeps one
 * reference with the memory. */
static void
bind_keep(world *w, const cJSON *op, xchan_chan *done, void *mem,
    void (*free_fn)(void *))
{
	if (arg_str(op, "done", NULL))
		world_put(w, arg_str(op, "done", "_"), OBJ_CHAN,
		    xchan_chan_retain(done));
	world_keep(w, mem, free_fn, done);
}

static void
free_cjson(void *p)
{
	cJSON_Delete(p);
}

static int32_t
out_opts(const cJSON *op, xchan_chan_opts *o, const xchan_chan_opts **po)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(op, "out");
	*po = NULL;
	if (!spec)
		return XCHAN_OK;
	*po = o;
	return parse_chan_opts(spec, o);
}

/* The channels named in op[key] (an array); NULL entries for null. */
static xchan_chan **
chan_list(world *w, const cJSON *op, const char *key, size_t *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(op, key);
	*n = (size_t)cJSON_GetArraySize(a);
	xchan_chan **cs = calloc(*n ? *n : 1, sizeof *cs);
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		cs[i++] = cJSON_IsString(e)
		              ? world_get(w, e->valuestring, OBJ_CHAN)
		              : NULL;
	}
	return cs;
}

static xchan_val *
val_list(world *w, const cJSON *op, const char *key, size_t *n)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(op, key);
	*n = (size_t)cJSON_GetArraySize(a);
	xchan_val *vs = calloc(*n ? *n : 1, sizeof *vs);
	size_t i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a) json_to_val(w, e, &vs[i++]);
	return vs;
}

static int32_t
topic_buf(void *user, uint32_t *kind, uint64_t *cap, xchan_val topic)
{
	xchan_chan_opts *o = user;
	*kind = o->buf_kind;
	*cap = o->capacity;
	return XCHAN_OK;
}

static uint32_t
mix_flags(const cJSON *e, uint32_t *mask)
{
	static const struct {
		const char *k;
		uint32_t bit;
	} attrs[] = {{"mute", XCHAN_MIX_MUTE}, {"pause", XCHAN_MIX_PAUSE},
	    {"solo", XCHAN_MIX_SOLO}};
	uint32_t flags = 0;
	*mask = 0;
	for (int i = 0; i < 3; i++) {
		const cJSON *x =
		    cJSON_GetObjectItemCaseSensitive(e, attrs[i].k);
		if (cJSON_IsBool(x)) {
			*mask |= attrs[i].bit;
			if (cJSON_IsTrue(x))
				flags |= attrs[i].bit;
		}
	}
	return flags;
}

cJSON *
exec_comb_op(world *w, const char *path, const cJSON *op, const char *name,
    int *handled)
{
	xchan_chan *done, *out = NULL, *out2 = NULL;
	xchan_chan_opts oo;
	const xchan_chan_opts *po;
	int32_t rc = XCHAN_OK;
	int close = arg_bool(op, "close", 1);
	*handled = 1;

	if (!strcmp(name, "pipe")) {
		rc = xchan_pipe(done_slot(op, &done), arg_chan(w, op, "from"),
		    arg_chan(w, op, "to"), close);
		if (rc == XCHAN_OK)
			bind(w, op, "done", done);
		return res_err(rc);
	}
	if (!strcmp(name, "pipeline")) {
		const char *mode = arg_str(op, "mode", "compute");
		uint32_t n = (uint32_t)arg_int(op, "n", 1);
		xchan_pipeline_opts po2 = {sizeof po2, 0, NULL, NULL, NULL};
		const char *eh = arg_str(op, "on_error", NULL);
		if (eh && vocab_error_handler(eh, &po2.on_error) != XCHAN_OK)
			return runner_err("bad on_error", eh);
		xchan_chan *to = arg_chan(w, op, "to"),
		           *from = arg_chan(w, op, "from");
		if (!strcmp(mode, "async")) {
			xchan_async_fn af =
			    vocab_async_fn(arg_str(op, "af", NULL));
			if (!af)
				return runner_err("bad af", NULL);
			rc = xchan_pipeline_async(done_slot(op, &done), n, to,
			    from, close, af, NULL, &po2);
		} else {
			/* The factory's spec lives until the pipeline ends. */
			cJSON *spec = cJSON_Duplicate(
			    cJSON_GetObjectItemCaseSensitive(op, "xform"), 1);
			rc = (!strcmp(mode, "blocking")
			          ? xchan_pipeline_blocking
			          : xchan_pipeline)(&done, n, to, from, close,
			    vocab_xform_factory, spec, &po2);
			if (rc != XCHAN_OK)
				cJSON_Delete(spec);
			else
				bind_keep(w, op, done, spec, free_cjson);
			return res_err(rc);
		}
		if (rc == XCHAN_OK)
			bind(w, op, "done", done);
		return res_err(rc);
	}
	if (!strcmp(name, "mult")) {
		xchan_mult *m = NULL;
		rc = xchan_mult_new(&m, done_slot(op, &done),
		    arg_chan(w, op, "src"));
		if (rc == XCHAN_OK) {
			world_put(w, arg_str(op, "as", "_"), OBJ_MULT, m);
			bind(w, op, "done", done);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "tap") || !strcmp(name, "untap") ||
	    !strcmp(name, "untap_all")) {
		xchan_mult *m =
		    world_get(w, arg_str(op, "mult", NULL), OBJ_MULT);
		if (!m)
			return runner_err("unknown mult", NULL);
		if (!strcmp(name, "tap"))
			rc = xchan_mult_tap(m, arg_chan(w, op, "ch"), close);
		else if (!strcmp(name, "untap"))
			rc = xchan_mult_untap(m, arg_chan(w, op, "ch"));
		else
			rc = xchan_mult_untap_all(m);
		return res_err(rc);
	}
	if (!strcmp(name, "pub")) {
		xchan_pub *p = NULL;
		xchan_map_fn tf = vocab_map_fn(arg_str(op, "topic", NULL));
		const cJSON *tb =
		    cJSON_GetObjectItemCaseSensitive(op, "topic_buf");
		xchan_chan_opts *bo = NULL;
		if (!tf)
			return runner_err("bad topic fn", NULL);
		if (tb) {
			bo = malloc(sizeof *bo);
			if (parse_chan_opts(tb, bo) != XCHAN_OK) {
				free(bo);
				return runner_err("bad topic_buf", NULL);
			}
		}
		rc = xchan_pub_new(&p, &done, arg_chan(w, op, "src"), tf, NULL,
		    bo ? topic_buf : NULL, bo);
		if (rc == XCHAN_OK) {
			world_put(w, arg_str(op, "as", "_"), OBJ_PUB, p);
			/* The topic buffer spec lives until the pub ends. */
			bind_keep(w, op, done, bo, free);
		} else {
			free(bo);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "sub") || !strcmp(name, "unsub") ||
	    !strcmp(name, "unsub_topic") || !strcmp(name, "unsub_all")) {
		xchan_pub *p = world_get(w, arg_str(op, "pub", NULL), OBJ_PUB);
		xchan_val topic;
		if (!p)
			return runner_err("unknown pub", NULL);
		json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "topic"),
		    &topic);
		if (!strcmp(name, "sub"))
			rc = xchan_pub_sub(p, topic, arg_chan(w, op, "ch"),
			    close);
		else if (!strcmp(name, "unsub"))
			rc = xchan_pub_unsub(p, topic, arg_chan(w, op, "ch"));
		else if (!strcmp(name, "unsub_topic"))
			rc = xchan_pub_unsub_topic(p, topic);
		else
			rc = xchan_pub_unsub_all(p);
		xchan_val_release(topic);
		return res_err(rc);
	}
	if (!strcmp(name, "mix")) {
		xchan_mix *m = NULL;
		rc = xchan_mix_new(&m, done_slot(op, &done),
		    arg_chan(w, op, "out"));
		if (rc == XCHAN_OK) {
			world_put(w, arg_str(op, "as", "_"), OBJ_MIX, m);
			bind(w, op, "done", done);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "admix") || !strcmp(name, "unmix") ||
	    !strcmp(name, "unmix_all") || !strcmp(name, "toggle") ||
	    !strcmp(name, "solo_mode") || !strcmp(name, "mix_get")) {
		xchan_mix *m = world_get(w, arg_str(op, "mix", NULL), OBJ_MIX);
		if (!m)
			return runner_err("unknown mix", NULL);
		if (!strcmp(name, "admix"))
			return res_err(
			    xchan_mix_admix(m, arg_chan(w, op, "ch")));
		if (!strcmp(name, "unmix"))
			return res_err(
			    xchan_mix_unmix(m, arg_chan(w, op, "ch")));
		if (!strcmp(name, "unmix_all"))
			return res_err(xchan_mix_unmix_all(m));
		if (!strcmp(name, "solo_mode")) {
			const char *mode = arg_str(op, "mode", "mute");
			return res_err(xchan_mix_solo_mode(m,
			    !strcmp(mode, "mute")    ? XCHAN_MIX_SOLO_MUTE
			    : !strcmp(mode, "pause") ? XCHAN_MIX_SOLO_PAUSE
			                             : 99));
		}
		if (!strcmp(name, "mix_get")) {
			uint32_t f = 0;
			rc = xchan_mix_get(&f, m, arg_chan(w, op, "ch"));
			cJSON *r = res_err(rc);
			if (rc == XCHAN_OK) {
				cJSON *a = cJSON_CreateArray();
				if (f & XCHAN_MIX_MUTE)
					cJSON_AddItemToArray(a,
					    cJSON_CreateString("mute"));
				if (f & XCHAN_MIX_PAUSE)
					cJSON_AddItemToArray(a,
					    cJSON_CreateString("pause"));
				if (f & XCHAN_MIX_SOLO)
					cJSON_AddItemToArray(a,
					    cJSON_CreateString("solo"));
				cJSON_AddItemToObject(r, "val", a);
			}
			return r;
		}
		const cJSON *es =
		    cJSON_GetObjectItemCaseSensitive(op, "entries");
		size_t n = (size_t)cJSON_GetArraySize(es), i = 0;
		xchan_mix_toggle_entry *te = calloc(n ? n : 1, sizeof *te);
		const cJSON *e;
		cJSON_ArrayForEach(e, es)
		{
			te[i].chan = arg_chan(w, e, "ch");
			te[i].flags = mix_flags(e, &te[i].mask);
			i++;
		}
		rc = xchan_mix_toggle(m, te, n);
		free(te);
		return res_err(rc);
	}
	if (!strcmp(name, "merge") || !strcmp(name, "map")) {
		size_t n;
		xchan_chan **cs = chan_list(w, op, "chans", &n);
		if ((rc = out_opts(op, &oo, &po)) != XCHAN_OK) {
			free(cs);
			return res_err(rc);
		}
		if (!strcmp(name, "merge")) {
			rc = xchan_merge(&out, done_slot(op, &done),
			    cJSON_GetObjectItemCaseSensitive(op, "chans")
			        ? cs
			        : NULL,
			    n, po);
		} else {
			xchan_map_n_fn f = vocab_map_n(arg_str(op, "fn", NULL));
			rc = f ? xchan_map(&out, done_slot(op, &done), cs, n, f,
			             NULL, po)
			       : XCHAN_EINVAL;
		}
		free(cs);
		if (rc == XCHAN_OK) {
			bind(w, op, "as", out);
			bind(w, op, "done", done);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "split")) {
		const cJSON *as = cJSON_GetObjectItemCaseSensitive(op, "as");
		xchan_pred_fn pred = vocab_pred(arg_str(op, "pred", NULL));
		if (!pred || cJSON_GetArraySize(as) != 2)
			return runner_err("split needs pred and as: [t, f]",
			    NULL);
		rc = xchan_split(&out, &out2, done_slot(op, &done),
		    arg_chan(w, op, "src"), pred, NULL, NULL, NULL);
		if (rc == XCHAN_OK) {
			world_put(w, cJSON_GetArrayItem(as, 0)->valuestring,
			    OBJ_CHAN, out);
			world_put(w, cJSON_GetArrayItem(as, 1)->valuestring,
			    OBJ_CHAN, out2);
			bind(w, op, "done", done);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "take_n")) {
		if ((rc = out_opts(op, &oo, &po)) != XCHAN_OK)
			return res_err(rc);
		rc = xchan_take_n(&out, done_slot(op, &done),
		    arg_chan(w, op, "src"), (uint64_t)arg_int(op, "n", 0), po);
		if (rc == XCHAN_OK) {
			bind(w, op, "as", out);
			bind(w, op, "done", done);
		}
		return res_err(rc);
	}
	if (!strcmp(name, "reduce") || !strcmp(name, "transduce") ||
	    !strcmp(name, "into")) {
		xchan_val init;
		if (json_to_val(w, cJSON_GetObjectItemCaseSensitive(op, "init"),
		        &init) != XCHAN_OK)
			return runner_err("bad init", NULL);
		if (!strcmp(name, "into")) {
			rc = xchan_into(&out, arg_chan(w, op, "src"), init);
		} else {
			xchan_reduce_fn f =
			    vocab_reduce(arg_str(op, "fn", NULL));
			if (!f) {
				xchan_val_release(init);
				return runner_err("bad fn", NULL);
			}
			if (!strcmp(name, "reduce")) {
				rc = xchan_reduce(&out, arg_chan(w, op, "src"),
				    f, NULL, init);
			} else {
				xchan_xform *xf = NULL;
				rc = vocab_xform(
				    cJSON_GetObjectItemCaseSensitive(op,
				        "xform"),
				    &xf);
				if (rc == XCHAN_OK)
					rc = xchan_transduce(&out,
					    arg_chan(w, op, "src"), xf, f, NULL,
					    init);
				else
					xchan_val_release(init);
			}
		}
		if (rc == XCHAN_OK)
			bind(w, op, "as", out);
		return res_err(rc);
	}
	if (!strcmp(name, "onto_chan") || !strcmp(name, "to_chan")) {
		size_t n;
		xchan_val *vs = val_list(w, op, "vals", &n);
		if (!strcmp(name, "onto_chan")) {
			rc = xchan_onto_chan(done_slot(op, &done),
			    arg_chan(w, op, "ch"), vs, n, close);
			if (rc == XCHAN_OK)
				bind(w, op, "done", done);
		} else {
			rc = xchan_to_chan(&out, vs, n);
			if (rc == XCHAN_OK)
				bind(w, op, "as", out);
		}
		free(vs);
		return res_err(rc);
	}
	*handled = 0;
	return NULL;
}
