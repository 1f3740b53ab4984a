/*
 * chan.c — channels as JS sees them: the external a Chan holds, creation,
 * the non-blocking operations (offer, poll, close), introspection, timeout
 * channels, native handles for C addons, and sharing with other isolates.
 *
 * Sharing: a Chan carries a token string (channel id + address).  A worker
 * that receives it (workerData, postMessage) adopts it with Chan.from().
 * The process-wide registry below maps every channel that has at least one
 * JS wrapper, in any environment, to its id and wrapper count; adopt finds
 * the channel there and takes a reference under the registry lock, so a
 * token whose channel has been freed (or whose address was reused by a new
 * channel: the id differs) gives a clear error instead of a dangling
 * pointer.  g_reg_lock is a leaf lock except that a wrapper's finaliser
 * drops the channel reference after unlocking it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"
#include "args.h"

/* ---- registry ------------------------------------------------------------ */

typedef struct reg_entry {
	struct reg_entry *next;
	xchan_chan *ch;
	uint64_t id;
	uint32_t wrappers;
	uint32_t js_xform;
} reg_entry;

#define REG_BUCKETS 4096u
static pthread_mutex_t g_reg_lock = PTHREAD_MUTEX_INITIALIZER;
static reg_entry *g_reg[REG_BUCKETS];

static size_t
reg_bucket(const xchan_chan *ch)
{
	uintptr_t p = (uintptr_t)ch;
	return (size_t)((p >> 4) ^ (p >> 16)) % REG_BUCKETS;
}

static reg_entry **
reg_find(xchan_chan *ch)
{
	reg_entry **p = &g_reg[reg_bucket(ch)];
	while (*p != NULL && (*p)->ch != ch)
		p = &(*p)->next;
	return p;
}

void
xn_chan_registry_add(xn_chan *c)
{
	pthread_mutex_lock(&g_reg_lock);
	reg_entry **p = reg_find(c->ch);
	if (*p == NULL) {
		reg_entry *r = calloc(1, sizeof *r);
		if (r != NULL) {
			r->ch = c->ch;
			r->id = c->id;
			*p = r;
		}
	}
	if (*p != NULL) {
		(*p)->wrappers++;
		if (c->js_xform)
			(*p)->js_xform = 1;
		c->js_xform = (*p)->js_xform;
	}
	pthread_mutex_unlock(&g_reg_lock);
}

static void
registry_remove(xn_chan *c)
{
	pthread_mutex_lock(&g_reg_lock);
	reg_entry **p = reg_find(c->ch);
	if (*p != NULL && --(*p)->wrappers == 0) {
		reg_entry *r = *p;
		*p = r->next;
		free(r);
	}
	pthread_mutex_unlock(&g_reg_lock);
}

/* ---- the external -------------------------------------------------------- */

static void
chan_finalize(napi_env env, void *data, void *hint)
{
	xn_chan *c = data;
	registry_remove(c);
	xchan_chan_release(c->ch);
	free(c);
	XN_COUNT(xn_live_chans, -1);
}

static napi_value
chan_external_js(napi_env env, xchan_chan *ch, uint32_t js_xform)
{
	xn_chan *c = calloc(1, sizeof *c);
	napi_value ext;
	if (c == NULL) {
		xchan_chan_release(ch);
		xn_throw(env, XCHAN_ENOMEM, NULL);
		return NULL;
	}
	XN_COUNT(xn_live_chans, 1);
	c->magic = XN_CHAN_MAGIC;
	c->ch = ch;
	c->js_xform = js_xform;
	xchan_chan_info info = {.size = sizeof info};
	if (xchan_chan_info_get(&info, ch) == XCHAN_OK)
		c->id = info.id;
	xn_chan_registry_add(c);
	if (napi_create_external(env, c, chan_finalize, NULL, &ext) !=
	    napi_ok) {
		chan_finalize(env, c, NULL);
		xn_throw_last(env);
		return NULL;
	}
	return ext;
}

napi_value
xn_chan_external(napi_env env, xchan_chan *ch)
{
	return chan_external_js(env, ch, 0);
}

napi_value
xn_chan_or_throw(napi_env env, int32_t rc, xchan_chan *ch)
{
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return ch != NULL ? xn_chan_external(env, ch) : NULL;
}

xn_chan *
xn_chan_from_external(napi_env env, napi_value v)
{
	napi_valuetype t;
	void *data = NULL;
	if (napi_typeof(env, v, &t) != napi_ok || t != napi_external)
		return NULL;
	napi_get_value_external(env, v, &data);
	if (data == NULL || ((xn_chan *)data)->magic != XN_CHAN_MAGIC)
		return NULL;
	return data;
}

/* ---- creation ------------------------------------------------------------- */

xchan_xform *xn_build_xform(napi_env env, xenv *e, napi_value desc,
    napi_value on_error, bool *js, void **on_error_user);
xchan_val xn_on_error(void *user, xchan_val error);

/* newChan(bufKind, capacity, xformDesc?, onError?, maxPending?) */
static napi_value
js_new_chan(napi_env env, napi_callback_info info)
{
	ARGS(5);
	xenv *e = xn_env(env);
	uint32_t kind = 0, max_pending = 0;
	double cap = 0;
	if (napi_get_value_uint32(env, argv[0], &kind) != napi_ok ||
	    napi_get_value_double(env, argv[1], &cap) != napi_ok || cap < 0 ||
	    cap != (double)(uint64_t)cap) {
		xn_throw(env, XCHAN_EINVAL,
		    "buffer capacity must be a non-negative integer");
		return NULL;
	}
	if (!xn_is_nullish(env, argv[4]) &&
	    napi_get_value_uint32(env, argv[4], &max_pending) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL, "maxPending must be a number");
		return NULL;
	}
	xchan_chan_opts opts = {.size = sizeof opts,
	    .buf_kind = kind,
	    .capacity = (uint64_t)cap,
	    .max_pending = max_pending};
	bool js = false;
	if (!xn_is_nullish(env, argv[2])) {
		if (kind == XCHAN_BUF_NONE) {
			xn_throw(env, XCHAN_EINVAL,
			    "a transform needs a buffer: new Chan(n, {xform})");
			return NULL;
		}
		opts.xform = xn_build_xform(env, e, argv[2], argv[3], &js,
		    &opts.on_error_user);
		if (opts.xform == NULL)
			return NULL;
		if (js)
			opts.on_error = xn_on_error;
	}
	xchan_chan *ch = NULL;
	int32_t rc = xchan_chan_new(&ch, &opts);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc,
		    rc == XCHAN_EINVAL
		        ? "invalid channel options: unbuffered and "
		          "promise channels take no capacity; fixed, "
		          "dropping and sliding buffers need one > 0"
		        : NULL);
		return NULL;
	}
	return chan_external_js(env, ch, js);
}

/* timeout(ms) */
static napi_value
js_timeout(napi_env env, napi_callback_info info)
{
	ARGS(1);
	double ms;
	if (napi_get_value_double(env, argv[0], &ms) != napi_ok || ms != ms) {
		xn_throw(env, XCHAN_EINVAL, "timeout(ms) needs a number");
		return NULL;
	}
	xchan_chan *ch = NULL;
	int32_t rc =
	    xchan_timeout(&ch, ms > 9e15 ? (int64_t)9e15 : (int64_t)ms);
	return xn_chan_or_throw(env, rc, ch);
}

/* ---- non-blocking operations --------------------------------------------- */

static napi_value
pending_sentinel(napi_env env, xenv *e)
{
	napi_value v = NULL;
	napi_get_reference_value(env, e->pending_sentinel, &v);
	return v;
}

/* offer(h, v) and tryPut(h, v): true (delivered) | false (closed; offer:
 * or it would wait) | PENDING (tryPut: it would wait). */
static napi_value
offer_now(napi_env env, napi_callback_info info, bool say_pending)
{
	ARGS(2);
	xn_chan *c;
	xchan_val v;
	xenv *e = xn_env(env);
	if (!xn_arg_chan(env, argv[0], &c) || !xn_to_val(env, e, argv[1], &v))
		return NULL;
	int32_t rc = XN_CORE(xchan_offer(c->ch, v));
	xn_drain_local(e);
	if (rc == XCHAN_OK)
		return xn_boolean(env, true);
	xchan_val_release(v);
	if (rc == XCHAN_EAGAIN && say_pending)
		return pending_sentinel(env, e);
	if (rc == XCHAN_EAGAIN || rc == XCHAN_ECLOSED)
		return xn_boolean(env, false);
	xn_throw(env, rc, NULL);
	return NULL;
}

/* poll(h) and tryTake(h): the value | undefined (closed and drained;
 * poll: or it would wait) | PENDING (tryTake: it would wait). */
static napi_value
poll_now(napi_env env, napi_callback_info info, bool say_pending)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	xchan_val v;
	xenv *e = xn_env(env);
	int32_t rc = XN_CORE(xchan_poll(&v, c->ch));
	xn_drain_local(e);
	if (rc == XCHAN_OK && say_pending && xn_may_need_clone(e, v)) {
		/* tryTake, take()'s first half: another isolate's object
		 * comes as a promise of its clone (take() passes it on), so
		 * this thread does not wait for the owner (clone.c). */
		napi_deferred d;
		napi_value promise;
		if (napi_create_promise(env, &d, &promise) == napi_ok) {
			if (xn_clone_settle_later(env, e, v, d, NULL))
				return promise;
			/* Nothing to clone: settle it unused, convert now. */
			napi_value u;
			napi_get_undefined(env, &u);
			napi_resolve_deferred(env, d, u);
		}
	}
	if (rc == XCHAN_OK)
		return xn_from_val(env, e, v);
	if (rc == XCHAN_EAGAIN && say_pending)
		return pending_sentinel(env, e);
	if (rc == XCHAN_EAGAIN || rc == XCHAN_ECLOSED)
		return xn_undefined(env);
	xn_throw(env, rc, NULL);
	return NULL;
}

/* offer(h, v) -> boolean */
static napi_value
js_offer(napi_env env, napi_callback_info info)
{
	return offer_now(env, info, false);
}

/* poll(h) -> value | undefined */
static napi_value
js_poll(napi_env env, napi_callback_info info)
{
	return poll_now(env, info, false);
}

/* tryPut(h, v) -> true (delivered) | false (closed) | PENDING (it would
 * wait): the synchronous first half of put(), so that a put that can
 * complete at once costs no Node-API promise (index.js resolves it). */
static napi_value
js_try_put(napi_env env, napi_callback_info info)
{
	return offer_now(env, info, true);
}

/* tryTake(h) -> value | undefined (closed and drained) | PENDING */
static napi_value
js_try_take(napi_env env, napi_callback_info info)
{
	return poll_now(env, info, true);
}

static napi_value
js_close(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	/* A JS transform's step may be waiting, holding the step lock, for a
	 * JS call of this very thread: close it while serving (jscall.c). */
	int32_t rc = c->js_xform ? xn_close_serving(xn_env(env), c->ch)
	                         : XN_CORE(xchan_chan_close(c->ch));
	xn_drain_local(xn_env(env));
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	return xn_undefined(env);
}

static void
set_num(napi_env env, napi_value o, const char *k, double d)
{
	napi_value v;
	napi_create_double(env, d, &v);
	napi_set_named_property(env, o, k, v);
}

/* info(h) -> {bufKind, capacity, count, closed, pendingPuts, pendingTakes,
 * maxPending, id} */
static napi_value
js_info(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	xchan_chan_info ci = {.size = sizeof ci};
	int32_t rc = xchan_chan_info_get(&ci, c->ch);
	if (rc != XCHAN_OK) {
		xn_throw(env, rc, NULL);
		return NULL;
	}
	napi_value o;
	napi_create_object(env, &o);
	static const char *kinds[] = {"none", "fixed", "dropping", "sliding",
	    "promise"};
	napi_value k;
	napi_create_string_utf8(env,
	    ci.buf_kind < 5 ? kinds[ci.buf_kind] : "unknown", NAPI_AUTO_LENGTH,
	    &k);
	napi_set_named_property(env, o, "buffer", k);
	set_num(env, o, "capacity", (double)ci.capacity);
	set_num(env, o, "count", (double)ci.count);
	napi_set_named_property(env, o, "closed",
	    xn_boolean(env, ci.closed != 0));
	set_num(env, o, "pendingPuts", ci.pending_puts);
	set_num(env, o, "pendingTakes", ci.pending_takes);
	set_num(env, o, "maxPending", ci.max_pending);
	set_num(env, o, "id", (double)ci.id);
	return o;
}

/* ---- sharing -------------------------------------------------------------- */

/* token(h) -> "xchan:<id>:<address>" */
static napi_value
js_token(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	char buf[64];
	snprintf(buf, sizeof buf, "xchan:%" PRIu64 ":%" PRIxPTR, c->id,
	    (uintptr_t)c->ch);
	return xn_string(env, buf);
}

/* adopt(token) -> external wrapping the same native channel */
static napi_value
js_adopt(napi_env env, napi_callback_info info)
{
	ARGS(1);
	char buf[64];
	size_t len = 0;
	uint64_t id = 0;
	uintptr_t addr = 0;
	if (napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) !=
	        napi_ok ||
	    sscanf(buf, "xchan:%" SCNu64 ":%" SCNxPTR, &id, &addr) != 2) {
		xn_throw(env, XCHAN_EINVAL,
		    "Chan.from() needs a Chan, or a Chan that was copied to "
		    "this thread (workerData, postMessage)");
		return NULL;
	}
	xchan_chan *ch = (xchan_chan *)addr;
	pthread_mutex_lock(&g_reg_lock);
	reg_entry *r = *reg_find(ch);
	bool ok = r != NULL && r->id == id;
	uint32_t js_xform = ok ? r->js_xform : 0;
	if (ok)
		xchan_chan_retain(ch);
	pthread_mutex_unlock(&g_reg_lock);
	if (!ok) {
		xn_throw(env, XCHAN_ESTATE,
		    "this channel was released before it was adopted here: "
		    "keep a reference to the Chan in the sending thread until "
		    "the receiver has called Chan.from()");
		return NULL;
	}
	/* A JS transform's steps run on the thread that made the channel,
	 * whichever thread adds the value (xform.c). */
	return chan_external_js(env, ch, js_xform);
}

/* chanId(h) -> the channel's unique id (xchan_chan_info.id) */
static napi_value
js_chan_id(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	napi_value r;
	napi_create_double(env, (double)c->id, &r);
	return r;
}

/* isJsXform(h) -> boolean (the channel runs JS of its creating thread) */
static napi_value
js_is_js_xform(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	return xn_boolean(env, c->js_xform != 0);
}

/* ---- native handles for C addons ----------------------------------------- */

static void
handle_finalize(napi_env env, void *data, void *hint)
{
	xchan_chan_release(data);
}

/* handle(h) -> external whose data is the xchan_chan * (holding its own
 * reference while the external lives). */
static napi_value
js_handle(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xn_chan *c;
	if (!xn_arg_chan(env, argv[0], &c))
		return NULL;
	napi_value ext;
	xchan_chan_retain(c->ch);
	if (napi_create_external(env, c->ch, handle_finalize, NULL, &ext) !=
	    napi_ok) {
		xchan_chan_release(c->ch);
		xn_throw_last(env);
		return NULL;
	}
	return ext;
}

/* fromHandle(external of xchan_chan *) -> chan external (new reference) */
static napi_value
js_from_handle(napi_env env, napi_callback_info info)
{
	ARGS(1);
	napi_valuetype t;
	void *data = NULL;
	if (napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
	    napi_get_value_external(env, argv[0], &data) != napi_ok ||
	    data == NULL) {
		xn_throw(env, XCHAN_EINVAL,
		    "Chan.fromHandle() needs the external of a native channel "
		    "(an xchan_chan *)");
		return NULL;
	}
	return xn_chan_external(env, xchan_chan_retain(data));
}

/* api() -> external of the core's function table (static storage) */
static napi_value
js_api(napi_env env, napi_callback_info info)
{
	napi_value ext;
	NAPI_CALL(env, napi_create_external(env, (void *)xchan_get_api(), NULL,
	                   NULL, &ext));
	return ext;
}

/* versions() -> {library, header, check, string} */
static napi_value
js_versions(napi_env env, napi_callback_info info)
{
	napi_value o, v;
	napi_create_object(env, &o);
	napi_create_int32(env, xchan_version_number(), &v);
	napi_set_named_property(env, o, "library", v);
	napi_create_int32(env, XCHAN_VERSION_NUMBER, &v);
	napi_set_named_property(env, o, "header", v);
	napi_create_int32(env, xchan_check_version(XCHAN_VERSION_NUMBER), &v);
	napi_set_named_property(env, o, "check", v);
	napi_create_string_utf8(env, xchan_version_string(), NAPI_AUTO_LENGTH,
	    &v);
	napi_set_named_property(env, o, "string", v);
	return o;
}

/* checkVersion(headerNumber) -> the core's xchan_check_version code */
static napi_value
js_check_version(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t n;
	if (napi_get_value_int32(env, argv[0], &n) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL, "checkVersion needs an integer");
		return NULL;
	}
	napi_value v;
	napi_create_int32(env, xchan_check_version(n), &v);
	return v;
}

/* randomSeed(bigint) seeds the calling thread's alts generator */
static napi_value
js_random_seed(napi_env env, napi_callback_info info)
{
	ARGS(1);
	uint64_t seed;
	bool lossless;
	if (napi_get_value_bigint_uint64(env, argv[0], &seed, &lossless) !=
	        napi_ok ||
	    !lossless) {
		xn_throw(env, XCHAN_EINVAL,
		    "randomSeed needs an integer in [0, 2^64)");
		return NULL;
	}
	xchan_random_seed(seed);
	return NULL;
}

/* shutdown() -> the core's code: xchan_shutdown.  The async ops it completes
 * (ESHUTDOWN) were pushed by their notifiers on this thread and settle when
 * the call returns (draining_call). */
static napi_value
js_shutdown(napi_env env, napi_callback_info info)
{
	napi_value r;
	napi_create_int32(env, xchan_shutdown(), &r);
	return r;
}

/* [text(0), text(1), ...] for every error code. */
static napi_value
per_error_code(napi_env env, const char *(*text)(int32_t))
{
	napi_value arr;
	napi_create_array(env, &arr);
	for (int32_t i = 0; i < XCHAN_ERR_COUNT_; i++)
		napi_set_element(env, arr, (uint32_t)i,
		    xn_string(env, text(i)));
	return arr;
}

/* errorNames() -> ["OK", "EINVAL", ...] indexed by code */
static napi_value
js_error_names(napi_env env, napi_callback_info info)
{
	return per_error_code(env, xchan_err_name);
}

/* errorMessages() -> the core's message of each code, indexed by code */
static napi_value
js_error_messages(napi_env env, napi_callback_info info)
{
	return per_error_code(env, xchan_strerror);
}

napi_status
xn_init_chan(napi_env env, napi_value exports)
{
	static const xn_fn_entry fns[] = {{"newChan", js_new_chan},
	    {"timeout", js_timeout}, {"offer", js_offer}, {"poll", js_poll},
	    {"close", js_close}, {"tryPut", js_try_put},
	    {"tryTake", js_try_take}, {"info", js_info}, {"token", js_token},
	    {"adopt", js_adopt}, {"isJsXform", js_is_js_xform},
	    {"chanId", js_chan_id}, {"handle", js_handle},
	    {"fromHandle", js_from_handle}, {"api", js_api},
	    {"versions", js_versions}, {"checkVersion", js_check_version},
	    {"randomSeed", js_random_seed}, {"errorNames", js_error_names},
	    {"shutdown", js_shutdown}, {"errorMessages", js_error_messages}};
	return XN_EXPORT_TABLE(env, exports, fns);
}
