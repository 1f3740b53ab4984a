/*
 * env.c — one xenv per Node environment: its threadsafe function (the single
 * door from other threads into this JS thread), its host runtime, its cancel
 * token, and its teardown.
 *
 * Locks and invariants (see addon.h): xenv.lock guards `alive` and `tsfn`;
 * a push onto done_ops/dead_refs happens under it only while alive, so once
 * teardown has set alive = false and drained the stacks, nothing is left in
 * them and nothing is added.  g_threads_lock guards the worker registry used
 * by Worker.terminate; it is never held together with an xenv.lock.
 * `woken` coalesces wakes: the first push after a drain calls the tsfn, the
 * others ride on that call (one event-loop wake per burst).
 * The JS-call queue and the serving wait (xenv.wlock, wcv) are described in
 * jscall.c; g_threads_lock may be held while a wlock is taken (an
 * interrupt wakes the worker's serving wait), never the reverse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addon.h"
#include "args.h"

atomic_long xn_live_chans, xn_live_refs, xn_live_ops;

static void
cancel_fire(xchan_cancel *c)
{
	if (c != NULL)
		xchan_cancel_fire(c);
}

void
xenv_retain(xenv *e)
{
	atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void
xenv_release(xenv *e)
{
	if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_destroy(&e->lock);
	xn_jscall_env_destroy(e);
	free(e);
}

xenv *
xn_env(napi_env env)
{
	void *data = NULL;
	if (napi_get_instance_data(env, &data) != napi_ok)
		return NULL;
	return data;
}

/* Under e->lock. */
static bool
wake_locked(xenv *e)
{
	if (!e->alive)
		return false;
	if (atomic_exchange_explicit(&e->woken, 1, memory_order_acq_rel) == 0)
		napi_call_threadsafe_function(e->tsfn, NULL,
		    napi_tsfn_nonblocking);
	return true;
}

void
xenv_wake(xenv *e)
{
	pthread_mutex_lock(&e->lock);
	wake_locked(e);
	pthread_mutex_unlock(&e->lock);
}

bool
xenv_alive(xenv *e)
{
	pthread_mutex_lock(&e->lock);
	bool alive = e->alive;
	pthread_mutex_unlock(&e->lock);
	return alive;
}

bool
xenv_push(xenv *e, _Atomic(xn_node *) *stack, xn_node *n)
{
	pthread_mutex_lock(&e->lock);
	bool ok = e->alive;
	if (ok) {
		xn_node *head =
		    atomic_load_explicit(stack, memory_order_relaxed);
		do
			n->next = head;
		while (!atomic_compare_exchange_weak_explicit(stack, &head, n,
		    memory_order_release, memory_order_relaxed));
		wake_locked(e);
	}
	pthread_mutex_unlock(&e->lock);
	return ok;
}

void
xn_pending_inc(xenv *e)
{
	if (e->pending++ == 0 && e->tsfn != NULL)
		napi_ref_threadsafe_function(e->env, e->tsfn);
}

void
xn_pending_dec(xenv *e)
{
	if (--e->pending == 0 && e->tsfn != NULL)
		napi_unref_threadsafe_function(e->env, e->tsfn);
}

/* The tsfn's JS-thread side: everything other threads queued since the last
 * call. */
static void
on_wake(napi_env env, napi_value js_cb, void *context, void *data)
{
	xenv *e = context;
	if (env == NULL || e == NULL)
		return;
	atomic_store_explicit(&e->woken, 0, memory_order_release);
	xn_jscall_drain(e);
	xn_drain_ops(e);
	xn_drain_clones(e);
	xn_drain_dead_refs(e);
}

/* ---- the worker registry (Worker.terminate -> cancel token) ------------- */

typedef struct thread_entry {
	struct thread_entry *next;
	int32_t thread_id;
	xchan_cancel *cancel; /* NULL: terminated before it registered */
	xenv *e;              /* its env, while registered */
} thread_entry;

/* Fires t's token and wakes its env's serving wait. */
static void
interrupt_entry(thread_entry *t)
{
	if (t->cancel == NULL)
		return;
	cancel_fire(t->cancel);
	if (t->e != NULL) {
		pthread_mutex_lock(&t->e->wlock);
		pthread_cond_signal(&t->e->wcv);
		pthread_mutex_unlock(&t->e->wlock);
	}
}

static pthread_mutex_t g_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static thread_entry *g_threads;

static void
threads_register(xenv *e)
{
	pthread_mutex_lock(&g_threads_lock);
	for (thread_entry **p = &g_threads; *p != NULL; p = &(*p)->next) {
		if ((*p)->thread_id == e->thread_id && (*p)->cancel == NULL) {
			/* terminate() came first: start fired. */
			thread_entry *t = *p;
			*p = t->next;
			free(t);
			cancel_fire(e->cancel);
			break;
		}
	}
	thread_entry *t = calloc(1, sizeof *t);
	if (t != NULL) {
		t->thread_id = e->thread_id;
		t->cancel = e->cancel;
		t->e = e;
		t->next = g_threads;
		g_threads = t;
	}
	pthread_mutex_unlock(&g_threads_lock);
}

static void
threads_unregister(xenv *e)
{
	pthread_mutex_lock(&g_threads_lock);
	for (thread_entry **p = &g_threads; *p != NULL; p = &(*p)->next) {
		if ((*p)->thread_id == e->thread_id &&
		    (*p)->cancel == e->cancel) {
			thread_entry *t = *p;
			*p = t->next;
			free(t);
			break;
		}
	}
	pthread_mutex_unlock(&g_threads_lock);
}

void
xn_interrupt_thread(int32_t thread_id)
{
	pthread_mutex_lock(&g_threads_lock);
	thread_entry *t = g_threads;
	while (t != NULL && t->thread_id != thread_id)
		t = t->next;
	if (t != NULL) {
		interrupt_entry(t);
	} else if ((t = calloc(1, sizeof *t)) != NULL) {
		t->thread_id = thread_id;
		t->next = g_threads;
		g_threads = t;
	}
	pthread_mutex_unlock(&g_threads_lock);
}

void
xn_interrupt_all_threads(void)
{
	pthread_mutex_lock(&g_threads_lock);
	for (thread_entry *t = g_threads; t != NULL; t = t->next)
		if (t->thread_id != 0)
			interrupt_entry(t);
	pthread_mutex_unlock(&g_threads_lock);
}

/* ---- the runtime ids of this addon's envs -------------------------------- */

/* Every host runtime id an env of this addon ever registered, so that a
 * host value can be recognised as a JS object of another env (clone.c),
 * also after that env has gone (its id is never reused).  Grows by one id
 * per environment (a few bytes per worker ever started).  g_runtimes_lock
 * is a leaf lock. */
static pthread_mutex_t g_runtimes_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t *g_runtimes;
static size_t g_nruntimes, g_runtimes_cap;

static bool
runtimes_add(uint32_t id)
{
	bool ok = true;
	pthread_mutex_lock(&g_runtimes_lock);
	if (g_nruntimes == g_runtimes_cap) {
		size_t cap = g_runtimes_cap ? 2 * g_runtimes_cap : 16;
		uint32_t *a = realloc(g_runtimes, cap * sizeof *a);
		if (a != NULL) {
			g_runtimes = a;
			g_runtimes_cap = cap;
		} else {
			ok = false;
		}
	}
	if (ok)
		g_runtimes[g_nruntimes++] = id;
	pthread_mutex_unlock(&g_runtimes_lock);
	return ok;
}

bool
xn_runtime_is_ours(uint32_t runtime_id)
{
	bool found = false;
	pthread_mutex_lock(&g_runtimes_lock);
	/* Newest first: the live envs are usually the recent ones. */
	for (size_t i = g_nruntimes; i > 0 && !found; i--)
		found = g_runtimes[i - 1] == runtime_id;
	pthread_mutex_unlock(&g_runtimes_lock);
	return found;
}

/* ---- calls between threads (callThread) --------------------------------- */

static void delete_ref(napi_env env, napi_ref *r);

/* The env registered for a thread id, retained; NULL if none. */
static xenv *
env_of_thread(int32_t thread_id)
{
	xenv *e = NULL;
	pthread_mutex_lock(&g_threads_lock);
	for (thread_entry *t = g_threads; t != NULL; t = t->next)
		if (t->thread_id == thread_id && t->e != NULL) {
			e = t->e;
			xenv_retain(e);
			break;
		}
	pthread_mutex_unlock(&g_threads_lock);
	return e;
}

typedef struct remote_call {
	xn_jscall call; /* first */
	size_t len;
	unsigned char data[]; /* a copy of the bytes */
} remote_call;

static void
remote_done(xn_jscall *c, bool ran)
{
	free(c);
}

static void
run_remote(napi_env env, xenv *e, xn_jscall *c)
{
	remote_call *r = (remote_call *)c;
	napi_value fn, buf, undef, result;
	if (e->remote_handler == NULL ||
	    napi_get_reference_value(env, e->remote_handler, &fn) != napi_ok ||
	    fn == NULL)
		return;
	void *copy;
	if (napi_create_buffer_copy(env, r->len, r->data, &copy, &buf) !=
	    napi_ok)
		return;
	napi_get_undefined(env, &undef);
	if (napi_call_function(env, undef, fn, 1, &buf, &result) == napi_ok)
		return;
	/* The handler threw: it cannot propagate into the calling thread. */
	xn_report_uncaught(env);
}

/* callThread(threadId, bytes) -> boolean: queues a call of the remote
 * handler of that thread's env (setRemoteHandler) with a copy of bytes; it
 * runs on that thread, from its event loop or from inside a blocking op it
 * is waiting in.  Returns at once: true if queued, false when that thread
 * has no env (any more).  It does not wait, so a thread being stopped by the
 * very thread it calls (a worker's sub-worker at its teardown) never hangs
 * in it. */
static napi_value
js_call_thread(napi_env env, napi_callback_info info)
{
	ARGS(2);
	int32_t tid = -1;
	void *data = NULL;
	size_t len = 0;
	bool is_buf = false;
	if (argc < 2 || napi_get_value_int32(env, argv[0], &tid) != napi_ok ||
	    napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf ||
	    napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL,
		    "callThread(threadId: number, bytes: Buffer)");
		return NULL;
	}
	bool ok = false;
	xenv *target = env_of_thread(tid);
	remote_call *r =
	    target != NULL ? calloc(1, sizeof *r + (len ? len : 1)) : NULL;
	if (r != NULL) {
		memcpy(r->data, data, len);
		r->len = len;
		r->call.run = run_remote;
		r->call.done = remote_done;
		ok = xn_jscall_post(target, &r->call) == XCHAN_OK;
		if (!ok)
			free(r);
	}
	if (target != NULL)
		xenv_release(target);
	return xn_boolean(env, ok);
}

/* serveCalls(): runs the JS calls other threads queued for this env now
 * (index.js calls it at 'beforeExit': the loop does not wake for them then,
 * its threadsafe function being unreferenced, and a clone asked of an env
 * that is about to end is still answered). */
static napi_value
js_serve_calls(napi_env env, napi_callback_info info)
{
	xenv *e = xn_env(env);
	if (e != NULL && xn_current_env() == e)
		xn_jscall_drain(e);
	return xn_undefined(env);
}

/* setRemoteHandler(fn | null): this env's receiver of callThread. */
static napi_value
js_set_remote_handler(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xenv *e = xn_env(env);
	napi_valuetype t = napi_undefined;
	if (argc >= 1)
		napi_typeof(env, argv[0], &t);
	if (t != napi_function && t != napi_null) {
		xn_throw(env, XCHAN_EINVAL, "setRemoteHandler(fn | null)");
		return NULL;
	}
	delete_ref(env, &e->remote_handler);
	if (t == napi_function)
		NAPI_CALL(env,
		    napi_create_reference(env, argv[0], 1, &e->remote_handler));
	return xn_undefined(env);
}

/* ---- teardown ----------------------------------------------------------- */

static void
delete_ref(napi_env env, napi_ref *r)
{
	if (*r != NULL)
		napi_delete_reference(env, *r);
	*r = NULL;
}

/* Runs when the environment goes away: the main thread exiting, a worker
 * ending or being terminated.  After it, no thread calls into this env. */
static void
env_cleanup(void *arg)
{
	xenv *e = arg;
	cancel_fire(e->cancel);
	threads_unregister(e);
	xn_cancel_all_ops(e);
	pthread_mutex_lock(&e->lock);
	e->alive = false;
	pthread_mutex_unlock(&e->lock);
	/* JS calls queued by other threads finish as not run (their steps
	 * fail with ERUNTIME); no new one is queued. */
	xn_jscall_env_close(e);
	/* Nothing can be pushed any more: settle what is queued (the promises
	 * die with the env; their values are released). */
	xn_drain_ops(e);
	xn_drain_clones(e);
	xn_drain_dead_refs(e);
	/* From here the core never calls our release hook. */
	xchan_runtime_unregister(e->runtime_id);
	if (e->tsfn != NULL)
		napi_release_threadsafe_function(e->tsfn, napi_tsfn_abort);
	e->tsfn = NULL;
	delete_ref(e->env, &e->make_error);
	delete_ref(e->env, &e->wrap_chan);
	delete_ref(e->env, &e->report_xf);
	delete_ref(e->env, &e->task_fail);
	delete_ref(e->env, &e->pending_sentinel);
	delete_ref(e->env, &e->remote_handler);
	delete_ref(e->env, &e->serialize);
	delete_ref(e->env, &e->deserialize);
	if (e->cancel != NULL)
		xchan_cancel_release(e->cancel);
	e->cancel = NULL;
	xenv_release(e);
}

static void
instance_finalize(napi_env env, void *data, void *hint)
{
	/* The env's reference is dropped by env_cleanup, which always runs
	 * first; nothing to do here. */
}

/* ---- initialisation ----------------------------------------------------- */

static napi_value
create_env(napi_env env)
{
	xenv *e = calloc(1, sizeof *e);
	if (e == NULL) {
		napi_throw_error(env, "ENOMEM", "xchan: out of memory");
		return NULL;
	}
	atomic_init(&e->refs, 1);
	atomic_init(&e->woken, 0);
	atomic_init(&e->done_ops, NULL);
	atomic_init(&e->dead_refs, NULL);
	atomic_init(&e->clones_done, NULL);
	e->env = env;
	e->thread = pthread_self();
	e->alive = true;
	pthread_mutex_init(&e->lock, NULL);
	xn_jscall_env_init(e);
	xchan_runtime rt = xn_runtime_hooks;
	rt.user = e;
	int32_t rc = xchan_runtime_register(&e->runtime_id, &rt);
	bool registered = rc == XCHAN_OK;
	if (rc == XCHAN_OK && !runtimes_add(e->runtime_id))
		rc = XCHAN_ENOMEM;
	if (rc == XCHAN_OK)
		rc = xchan_cancel_new(&e->cancel);
	if (rc != XCHAN_OK) {
		if (registered)
			xchan_runtime_unregister(e->runtime_id);
		char msg[160];
		snprintf(msg, sizeof msg,
		    "xchan: cannot set up this environment: %s",
		    xchan_strerror(rc));
		napi_throw_error(env, xchan_err_name(rc), msg);
		xn_jscall_env_close(e);
		xn_jscall_env_destroy(e);
		pthread_mutex_destroy(&e->lock);
		free(e);
		return NULL;
	}
	napi_value name;
	napi_create_string_utf8(env, "xchan", NAPI_AUTO_LENGTH, &name);
	if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL,
	        NULL, e, on_wake, &e->tsfn) != napi_ok) {
		xn_throw_last(env);
		return NULL;
	}
	/* Idle channels do not keep the process alive: referenced only while
	 * a promise is pending. */
	napi_unref_threadsafe_function(env, e->tsfn);
	napi_set_instance_data(env, e, instance_finalize, NULL);
	napi_add_env_cleanup_hook(env, env_cleanup, e);
	return xn_undefined(env);
}

/* initEnv({threadId, isMain, makeError, wrapChan, reportXformError,
 *          TaskFailure, pending, serialize, deserialize}): called once by
 * index.js in each environment. */
static napi_value
js_init_env(napi_env env, napi_callback_info info)
{
	ARGS(1);
	xenv *e = xn_env(env);
	if (e == NULL) {
		if (create_env(env) == NULL)
			return NULL;
		e = xn_env(env);
	}
	if (argc < 1) {
		xn_throw(env, XCHAN_EINVAL, "initEnv needs its options");
		return NULL;
	}
	napi_value v;
	NAPI_CALL(env, napi_get_named_property(env, argv[0], "threadId", &v));
	NAPI_CALL(env, napi_get_value_int32(env, v, &e->thread_id));
	NAPI_CALL(env, napi_get_named_property(env, argv[0], "isMain", &v));
	NAPI_CALL(env, napi_get_value_bool(env, v, &e->is_main));
	static const char *names[] = {"makeError", "wrapChan",
	    "reportXformError", "TaskFailure", "pending", "serialize",
	    "deserialize"};
	napi_ref *refs[] = {&e->make_error, &e->wrap_chan, &e->report_xf,
	    &e->task_fail, &e->pending_sentinel, &e->serialize,
	    &e->deserialize};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		NAPI_CALL(env,
		    napi_get_named_property(env, argv[0], names[i], &v));
		delete_ref(env, refs[i]);
		NAPI_CALL(env, napi_create_reference(env, v, 1, refs[i]));
	}
	if (e->cancel != NULL)
		threads_register(e);
	return xn_undefined(env);
}

/* interruptThread(threadId): fires the cancel token of that worker (used by
 * the patched Worker.prototype.terminate). */
static napi_value
js_interrupt_thread(napi_env env, napi_callback_info info)
{
	ARGS(1);
	int32_t tid = -1;
	if (argc < 1 || napi_get_value_int32(env, argv[0], &tid) != napi_ok) {
		xn_throw(env, XCHAN_EINVAL,
		    "interruptThread(threadId: number)");
		return NULL;
	}
	xn_interrupt_thread(tid);
	return xn_undefined(env);
}

/* interruptAllThreads(): at process exit, every worker's token. */
static napi_value
js_interrupt_all(napi_env env, napi_callback_info info)
{
	xn_interrupt_all_threads();
	return xn_undefined(env);
}

/* liveCounts() -> {chans, refs, ops}: the addon's live native objects. */
static napi_value
js_live_counts(napi_env env, napi_callback_info info)
{
	napi_value o, v;
	napi_create_object(env, &o);
	napi_create_int64(env, atomic_load(&xn_live_chans), &v);
	napi_set_named_property(env, o, "chans", v);
	napi_create_int64(env, atomic_load(&xn_live_refs), &v);
	napi_set_named_property(env, o, "refs", v);
	napi_create_int64(env, atomic_load(&xn_live_ops), &v);
	napi_set_named_property(env, o, "ops", v);
	return o;
}

/* pendingCount(): unsettled promises of this env (tests). */
static napi_value
js_pending_count(napi_env env, napi_callback_info info)
{
	xenv *e = xn_env(env);
	napi_value r;
	napi_create_uint32(env, e ? e->pending : 0, &r);
	return r;
}

napi_value
xn_init_env(napi_env env, napi_value exports)
{
	if (create_env(env) == NULL)
		return NULL;
	static const xn_fn_entry fns[] = {{"initEnv", js_init_env},
	    {"interruptThread", js_interrupt_thread},
	    {"interruptAllThreads", js_interrupt_all},
	    {"liveCounts", js_live_counts}, {"pendingCount", js_pending_count},
	    {"callThread", js_call_thread},
	    {"setRemoteHandler", js_set_remote_handler},
	    {"serveCalls", js_serve_calls}};
	if (XN_EXPORT_TABLE(env, exports, fns) != napi_ok)
		return NULL;
	return exports;
}
