/*
 * clone.c — a JS object of another isolate, taken here, as a structured
 * clone (the copy postMessage makes).
 *
 * Why.  An object put on a channel is a HOST value of the putting env's
 * runtime (value.c): the very same object comes back to that isolate, but
 * no other isolate can read it.  Node's rule for objects crossing threads is
 * the structured clone, so a taker on another env of this addon gets one:
 * the OWNER env (whose isolate holds the object) runs v8.serialize on it, on
 * its own JS thread, and the taker runs v8.deserialize on the bytes in its
 * own isolate.  Every take makes a new object; the owner's object is never
 * touched (it stays in the channel's value, so error.value and a take by
 * the owner still see it).  Both functions are handed to the addon per env
 * by index.js (initEnv: serialize, deserialize), so no V8 internals are
 * used and the copy is exactly Node's.
 *
 * How the owner is reached.  The serialize step is a JS call on the owner
 * env (jscall.c): it runs from the owner's event loop, or from inside any of
 * the addon's waits the owner is blocked in (takeSync, putSync, altsSync,
 * its own clone or JS call to another env).  Two ways to wait for it:
 *  - a promise (take(), alts(), for await; tryTake, take()'s synchronous
 *    first half, returns one when it meets such an object) does not wait:
 *    xn_clone_settle_later posts one call per object (xn_jscall_post)
 *    and the promise is settled from the taker's event loop once every
 *    owner answered (the last answer pushes the batch on the taker's
 *    clones_done stack and wakes it; xn_drain_clones converts the value
 *    with the answers at hand).  The taker's thread runs on meanwhile,
 *    and a taker gone by then frees the batch unsettled;
 *  - every synchronous read (poll, takeSync, altsSync, the low-level
 *    API's results, a transform step's input) must return the object,
 *    so xn_clone_foreign waits in a serving wait (xn_jscall_do):
 *    two isolates cloning each other's objects at the same time answer
 *    each other instead of deadlocking.
 *
 * Where it can wait long, or for ever (stated, not solved here):
 *  - an owner running long synchronous JS answers only when that JS ends
 *    (or enters one of the addon's waits): the take is delayed meanwhile
 *    (a synchronous read blocks its thread that long);
 *  - an owner blocked OUTSIDE the addon's waits (Atomics.wait, a sync fs
 *    call, another addon's blocking call) cannot answer until it returns:
 *    if it waits there for a taker that is in a synchronous read of its
 *    object, both wait for ever (a promise taker does not block, so its
 *    thread can still release the owner);
 *  - a take's timeout bounds the wait for a VALUE, not the clone of it;
 *  - an owner that ends before it answered: ERUNTIME (the objects of an
 *    isolate end with it).  It answers the calls already queued when its
 *    serving wait returns and at 'beforeExit' (jscall.c), so a worker that
 *    ends right after a put is usually still there; one that ends before
 *    the taker even asked is not.
 * A taker being terminated (worker.terminate) gives up a synchronous
 * request the owner has not started.
 *
 * Threads and locks: a synchronous clone runs on the taker's JS thread,
 * except run_serialize, which runs on the owner's JS thread while the taker
 * waits (the request lives on the taker's stack; see xn_jscall_do).  A
 * promise's batch is heap memory shared by the taker's thread (start,
 * drain) and the owners' threads (run_serialize, part_done), ordered by
 * its atomic `left` count and the clones_done stack (xenv_push); only the
 * thread that brings `left` to zero touches the batch's list again.  No
 * lock is held across any JS call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"

#define ENDED                                                                  \
	"the isolate that put it has ended, so it cannot be cloned any more"
#define ENDED_FIRST "the isolate that put it ended before it could clone it"

typedef struct clone_call {
	xn_jscall call; /* first */
	xn_ref *obj;    /* the owner's object (the taker holds the value) */
	unsigned char *bytes; /* malloc'd v8.serialize output, or NULL */
	size_t len;
	char why[256]; /* when bytes is NULL: why not */
} clone_call;

/* The message of the pending exception (cleared) into buf; false when no
 * exception was pending (the env could not run JS: it is going away). */
static bool
take_exception_message(napi_env env, char *buf, size_t n)
{
	napi_value exc, msg = NULL, str;
	size_t len = 0;
	bool pending = false;
	if (napi_is_exception_pending(env, &pending) != napi_ok || !pending ||
	    napi_get_and_clear_last_exception(env, &exc) != napi_ok)
		return false;
	snprintf(buf, n, "an exception without a message");
	napi_valuetype t;
	napi_typeof(env, exc, &t);
	if (t == napi_object)
		napi_get_named_property(env, exc, "message", &msg);
	if (napi_coerce_to_string(env, msg != NULL ? msg : exc, &str) ==
	    napi_ok) {
		napi_get_value_string_utf8(env, str, buf, n, &len);
		return true;
	}
	if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
		napi_get_and_clear_last_exception(env, &exc);
	return true;
}

/* The owner's JS thread: serializes the object into c's bytes. */
static void
run_serialize(napi_env env, xenv *owner, xn_jscall *c)
{
	clone_call *cc = (clone_call *)c;
	napi_value fn, obj, undef, out;
	if (owner->serialize == NULL ||
	    napi_get_reference_value(env, owner->serialize, &fn) != napi_ok ||
	    fn == NULL) {
		snprintf(cc->why, sizeof cc->why,
		    "the isolate that put it cannot serialize it");
		return;
	}
	obj = xn_ref_value(env, cc->obj);
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, 1, &obj, &out) != napi_ok) {
		char msg[200];
		if (take_exception_message(env, msg, sizeof msg))
			snprintf(cc->why, sizeof cc->why,
			    "it cannot be cloned (%s)", msg);
		else
			snprintf(cc->why, sizeof cc->why,
			    "the isolate that put it is shutting down");
		return;
	}
	void *data = NULL;
	size_t len = 0;
	bool is_buf = false;
	if (napi_is_buffer(env, out, &is_buf) != napi_ok || !is_buf ||
	    napi_get_buffer_info(env, out, &data, &len) != napi_ok) {
		snprintf(cc->why, sizeof cc->why,
		    "its isolate's serializer returned no Buffer");
		return;
	}
	cc->bytes = malloc(len ? len : 1);
	if (cc->bytes == NULL) {
		snprintf(cc->why, sizeof cc->why, "out of memory");
		return;
	}
	memcpy(cc->bytes, data, len);
	cc->len = len;
}

/* The taker's JS thread: the object rebuilt from cc's bytes, or NULL with
 * cc->why set. */
static napi_value
deserialize(napi_env env, xenv *e, clone_call *cc)
{
	napi_value fn, buf, undef, r;
	void *copy;
	if (e->deserialize == NULL ||
	    napi_get_reference_value(env, e->deserialize, &fn) != napi_ok ||
	    fn == NULL) {
		snprintf(cc->why, sizeof cc->why,
		    "this isolate cannot deserialize it");
		return NULL;
	}
	if (napi_create_buffer_copy(env, cc->len, cc->bytes, &copy, &buf) !=
	    napi_ok) {
		char msg[200];
		if (!take_exception_message(env, msg, sizeof msg))
			snprintf(msg, sizeof msg, "no Buffer could be made");
		snprintf(cc->why, sizeof cc->why, "%s", msg);
		return NULL;
	}
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, 1, &buf, &r) != napi_ok) {
		char msg[200];
		if (!take_exception_message(env, msg, sizeof msg))
			snprintf(msg, sizeof msg, "this isolate cannot run JS");
		snprintf(cc->why, sizeof cc->why,
		    "its clone cannot be rebuilt here (%s)", msg);
		return NULL;
	}
	return r;
}

/* ---- clones a promise waits for (no blocked thread) ---------------------- */

/* A promise's value whose clones are being made: one part per object of
 * another env, each a posted call (xn_jscall_post) to its owner.  The part
 * that finishes last pushes the batch on the taker's clones_done stack; the
 * taker's event loop then converts the value with the answers at hand
 * (prefetched) and settles the promise. */
typedef struct clone_batch {
	xn_node node; /* first: the clones_done stack links through it */
	xenv *e;      /* the taker (retained) */
	xchan_val v;  /* the value (owned) */
	napi_deferred deferred;
	bool is_alts; /* resolve with {value, index, chan} */
	int32_t alts_index;
	napi_ref alts_chans; /* or NULL; deleted on the taker's thread */
	atomic_size_t left;  /* parts not finished yet */
	size_t n, next;      /* next: the part from_val uses next */
	struct clone_part {
		clone_call cc; /* first; cc.obj NULL: the owner had ended */
		struct clone_batch *batch;
		uint32_t aux; /* the object's runtime id */
	} parts[];
} clone_batch;

/* The batch whose answers from_val uses on this thread (xn_drain_clones).
 * from_val meets the foreign objects in the order find_foreign listed them
 * (the value itself, or the items of an array depth first), so it takes
 * the parts in order; the runtime id is checked besides. */
static _Thread_local clone_batch *tl_prefetched;

static clone_call *
next_prefetched(uint32_t aux)
{
	clone_batch *b = tl_prefetched;
	if (b == NULL || b->next >= b->n || b->parts[b->next].aux != aux)
		return NULL;
	return &b->parts[b->next++].cc;
}

/* Whether v is a JS object of another env of this addon; *obj its xn_ref,
 * or NULL when that env has ended. */
static bool
foreign_obj(xenv *e, xchan_val v, xn_ref **obj)
{
	void *host = NULL;
	if (v.kind != XCHAN_HOST || v.aux == e->runtime_id ||
	    !xn_runtime_is_ours(v.aux))
		return false;
	if (xchan_get_host(v, v.aux, &host) != XCHAN_OK)
		host = NULL;
	*obj = host;
	return true;
}

/* Counts (out NULL) or lists the foreign objects of v and its items. */
static size_t
find_foreign(xenv *e, xchan_val v, struct clone_part *out)
{
	xn_ref *obj;
	if (foreign_obj(e, v, &obj)) {
		if (out != NULL) {
			out->cc.obj = obj;
			out->aux = v.aux;
		}
		return 1;
	}
	if (v.kind != XCHAN_ARRAY)
		return 0;
	const xchan_val *items;
	size_t n, k = 0;
	xchan_get_array(v, &items, &n);
	for (size_t i = 0; i < n; i++)
		k += find_foreign(e, items[i], out != NULL ? out + k : NULL);
	return k;
}

static void
batch_free(clone_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->parts[i].cc.bytes);
	xchan_val_release(b->v);
	xenv_release(b->e);
	free(b);
}

/* One part finished: any thread (the owner's JS thread, or the one that
 * abandoned the call).  The last one hands the batch to the taker. */
static void
part_finished(clone_batch *b)
{
	if (atomic_fetch_sub_explicit(&b->left, 1, memory_order_acq_rel) != 1)
		return;
	if (!xenv_push(b->e, &b->e->clones_done, &b->node))
		batch_free(b); /* the taker has gone: its promise with it */
}

/* A posted part's end (ran, or abandoned: its owner is going away). */
static void
part_done(xn_jscall *c, bool ran)
{
	struct clone_part *p = (struct clone_part *)c;
	if (!ran)
		snprintf(p->cc.why, sizeof p->cc.why, "%s", ENDED_FIRST);
	part_finished(p->batch);
}

bool
xn_clone_settle_later(napi_env env, xenv *e, xchan_val v,
    napi_deferred deferred, const xn_alts_result *alts)
{
	size_t n = find_foreign(e, v, NULL);
	if (n == 0)
		return false;
	clone_batch *b = calloc(1, sizeof *b + n * sizeof b->parts[0]);
	if (b == NULL)
		return false;
	if (alts != NULL) {
		b->is_alts = true;
		b->alts_index = alts->index;
		if (alts->chans != NULL &&
		    napi_create_reference(env, alts->chans, 1,
		        &b->alts_chans) != napi_ok) {
			free(b);
			return false;
		}
	}
	find_foreign(e, v, b->parts);
	b->e = e;
	xenv_retain(e);
	b->v = v;
	b->deferred = deferred;
	b->n = n;
	atomic_init(&b->left, n + 1); /* + 1: released after the posting */
	xn_pending_inc(e); /* the loop stays alive until it is settled */
	for (size_t i = 0; i < n; i++) {
		struct clone_part *p = &b->parts[i];
		p->batch = b;
		p->cc.call.run = run_serialize;
		p->cc.call.done = part_done;
		if (p->cc.obj == NULL ||
		    xn_jscall_post(p->cc.obj->e, &p->cc.call) != XCHAN_OK) {
			snprintf(p->cc.why, sizeof p->cc.why, "%s", ENDED);
			part_finished(b);
		}
	}
	part_finished(b);
	return true;
}

/* The taker's thread: its reference to the alts' Chans.  (A batch freed
 * elsewhere belongs to a gone env, whose references went with it.) */
static void
drop_chans(xenv *e, clone_batch *b)
{
	if (b->alts_chans != NULL)
		napi_delete_reference(e->env, b->alts_chans);
	b->alts_chans = NULL;
}

/* {value, index, chan} as settle (async.c) makes it for an alts. */
static napi_value
alts_object(napi_env env, clone_batch *b, napi_value value)
{
	napi_value o, idx, chans, ch;
	napi_create_object(env, &o);
	napi_set_named_property(env, o, "value", value);
	napi_create_int32(env, b->alts_index, &idx);
	napi_set_named_property(env, o, "index", idx);
	if (b->alts_chans != NULL &&
	    napi_get_reference_value(env, b->alts_chans, &chans) == napi_ok &&
	    chans != NULL && b->alts_index >= 0 &&
	    napi_get_element(env, chans, (uint32_t)b->alts_index, &ch) ==
	        napi_ok)
		napi_set_named_property(env, o, "chan", ch);
	return o;
}

void
xn_drain_clones(xenv *e)
{
	xn_node *n = atomic_exchange_explicit(&e->clones_done, NULL,
	    memory_order_acquire);
	xn_node *fifo = NULL;
	while (n != NULL) { /* newest first: into answer order */
		xn_node *next = n->next;
		n->next = fifo;
		fifo = n;
		n = next;
	}
	bool alive = xenv_alive(e);
	while (fifo != NULL) {
		clone_batch *b = (clone_batch *)fifo;
		fifo = fifo->next;
		if (!alive) { /* teardown: the promise dies with the env */
			drop_chans(e, b);
			batch_free(b);
			continue;
		}
		napi_env env = e->env;
		napi_handle_scope scope;
		napi_open_handle_scope(env, &scope);
		napi_value err = NULL;
		tl_prefetched = b;
		napi_value r = xn_from_val_or_error(env, e, b->v, &err);
		tl_prefetched = NULL;
		b->v = xchan_val_nil(); /* moved */
		if (r == NULL && err == NULL)
			napi_get_and_clear_last_exception(env, &err);
		if (r != NULL && b->is_alts)
			r = alts_object(env, b, r);
		if (r != NULL)
			napi_resolve_deferred(env, b->deferred, r);
		else
			napi_reject_deferred(env, b->deferred, err);
		napi_close_handle_scope(env, scope);
		drop_chans(e, b);
		xn_pending_dec(e);
		batch_free(b);
	}
}

napi_value
xn_clone_foreign(napi_env env, xenv *e, xchan_val v, char *why, size_t n)
{
	clone_call *ready = next_prefetched(v.aux);
	if (ready != NULL) {
		/* Answered already (xn_clone_settle_later): no wait, and the
		 * owner may have ended since. */
		napi_value r =
		    ready->bytes != NULL ? deserialize(env, e, ready) : NULL;
		if (r == NULL) {
			snprintf(why, n, "%s", ready->why);
			return NULL;
		}
		xchan_val_release(v);
		return r;
	}
	void *host = NULL;
	/* v holds a reference, so the xn_ref stays valid while we use it;
	 * ERUNTIME here means its runtime is unregistered: the env ended. */
	if (xchan_get_host(v, v.aux, &host) != XCHAN_OK) {
		snprintf(why, n, "%s", ENDED);
		return NULL;
	}
	if (xn_current_env() != e) {
		snprintf(why, n, "this isolate is shutting down");
		return NULL;
	}
	clone_call cc;
	memset(&cc, 0, sizeof cc);
	cc.call.run = run_serialize;
	cc.obj = host;
	int32_t rc = xn_jscall_do(cc.obj->e, &cc.call);
	napi_value r = NULL;
	if (rc == XCHAN_ERUNTIME)
		snprintf(cc.why, sizeof cc.why, "%s", ENDED_FIRST);
	else if (rc == XCHAN_ECANCELED)
		snprintf(cc.why, sizeof cc.why,
		    "this thread is being terminated");
	else if (rc != XCHAN_OK)
		snprintf(cc.why, sizeof cc.why, "%s", xchan_strerror(rc));
	else if (cc.bytes != NULL)
		r = deserialize(env, e, &cc);
	free(cc.bytes);
	if (r == NULL) {
		snprintf(why, n, "%s", cc.why);
		return NULL;
	}
	xchan_val_release(v);
	return r;
}
