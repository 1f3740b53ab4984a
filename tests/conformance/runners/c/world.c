/*
 * world.c — the named objects and the trace of the case being run.
 *
 * Locks: world.mu guards objs and trace.  It is a leaf lock: nothing else is
 * taken while it is held, and no xchan call is made under it except
 * retain/release-free lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

void
world_init(world *w, int kind, int64_t deadline)
{
	memset(w, 0, sizeof *w);
	pthread_mutex_init(&w->mu, NULL);
	w->trace = cJSON_CreateArray();
	w->task_errors = cJSON_CreateArray();
	w->marks = cJSON_CreateObject();
	w->kind = kind;
	w->deadline = deadline;
}

void
world_put(world *w, const char *name, int type, void *ptr)
{
	pthread_mutex_lock(&w->mu);
	if (w->nobjs == w->capobjs) {
		w->capobjs = w->capobjs ? 2 * w->capobjs : 16;
		w->objs = realloc(w->objs, w->capobjs * sizeof *w->objs);
	}
	w->objs[w->nobjs].name = strdup(name);
	w->objs[w->nobjs].type = type;
	w->objs[w->nobjs].ptr = ptr;
	w->nobjs++;
	pthread_mutex_unlock(&w->mu);
}

/* The newest object of that name and type (names may be rebound). */
void *
world_get(world *w, const char *name, int type)
{
	void *p = NULL;
	if (!name)
		return NULL;
	pthread_mutex_lock(&w->mu);
	for (size_t i = w->nobjs; i-- > 0;) {
		if (w->objs[i].type == type && !strcmp(w->objs[i].name, name)) {
			p = w->objs[i].ptr;
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return p;
}

const char *
world_chan_name(world *w, xchan_chan *ch)
{
	const char *n = NULL;
	pthread_mutex_lock(&w->mu);
	for (size_t i = w->nobjs; i-- > 0;) {
		if (w->objs[i].type == OBJ_CHAN && w->objs[i].ptr == ch) {
			n = w->objs[i].name;
			break;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return n;
}

void
world_keep(world *w, void *mem, void (*free_fn)(void *), xchan_chan *done)
{
	keep *k = malloc(sizeof *k);
	k->mem = mem;
	k->free_fn = free_fn;
	k->done = done;
	world_put(w, "_keep", OBJ_KEEP, k);
}

static int
is_kept_done(world *w, xchan_chan *ch)
{
	for (size_t i = 0; i < w->nobjs; i++)
		if (w->objs[i].type == OBJ_KEEP &&
		    ((keep *)w->objs[i].ptr)->done == ch)
			return 1;
	return 0;
}

/* Frees a combinator's memory once its process has ended (bounded wait;
 * a process that does not end keeps it: leaked, never freed under it). */
static void
free_keep(keep *k)
{
	xchan_val v;
	if (xchan_take(&v, k->done, xchan_deadline_in_ms(2000)) ==
	    XCHAN_ECLOSED)
		k->free_fn(k->mem);
	xchan_chan_release(k->done);
	free(k);
}

void
world_trace(world *w, cJSON *entry)
{
	pthread_mutex_lock(&w->mu);
	cJSON_AddItemToArray(w->trace, entry);
	pthread_mutex_unlock(&w->mu);
}

static void
free_aop(aop *a)
{
	/* A callback still in flight uses the record: wait (bounded) for it
	 * to close `done`, and leak the record rather than free it under the
	 * callback. */
	xchan_val v;
	if (xchan_take(&v, a->done, xchan_deadline_in_ms(2000)) ==
	    XCHAN_ETIMEDOUT)
		return;
	for (size_t i = 0; i < a->nclauses; i++)
		xchan_val_release(a->clauses[i].val);
	free(a->clauses);
	if (a->op)
		xchan_op_release(a->op);
	xchan_chan_release(a->done);
	cJSON_Delete(a->result);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* Ends what the case left behind: closes every channel (ending combinator
 * processes), cancels pending async ops, then drops every reference. */
void
world_cleanup(world *w)
{
	/* Done channels close by themselves when their process ends; closing
	 * them here would hide whether it did. */
	for (size_t i = 0; i < w->nobjs; i++)
		if (w->objs[i].type == OBJ_CHAN &&
		    !is_kept_done(w, w->objs[i].ptr))
			xchan_chan_close(w->objs[i].ptr);
	for (size_t i = 0; i < w->nobjs; i++) {
		aop *a = w->objs[i].type == OBJ_OP ? w->objs[i].ptr : NULL;
		if (a && a->op && a->notify)
			aop_finish_notify(a);
		else if (a && a->op)
			xchan_op_cancel(a->op);
	}
	for (size_t i = 0; i < w->nobjs; i++) {
		named *o = &w->objs[i];
		switch (o->type) {
		case OBJ_CHAN:
			xchan_chan_release(o->ptr);
			break;
		case OBJ_OP:
			free_aop(o->ptr);
			break;
		case OBJ_MULT:
			xchan_mult_release(o->ptr);
			break;
		case OBJ_PUB:
			xchan_pub_release(o->ptr);
			break;
		case OBJ_MIX:
			xchan_mix_release(o->ptr);
			break;
		case OBJ_KEEP:
			free_keep(o->ptr);
			break;
		case OBJ_TOKEN:
			if (CONF_HAVE(xchan_cancel_release))
				xchan_cancel_release(o->ptr);
			break;
		}
		free(o->name);
	}
	free(w->objs);
	cJSON_Delete(w->trace);
	cJSON_Delete(w->task_errors);
	cJSON_Delete(w->marks);
	pthread_mutex_destroy(&w->mu);
}
