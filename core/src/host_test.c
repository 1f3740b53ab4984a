/*
 * host_test.c — host values (issue 9, §3): the core owns their reference
 * count, the runtime's release hook runs exactly once from any thread,
 * runtimes come and go without a cap, unregistered runtimes are never
 * called, another runtime's value is a clear XCHAN_ERUNTIME, and strings
 * and bytes can carry their host object.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

typedef struct obj {
	_Atomic int released; /* release hook calls */
	_Atomic int on_main;  /* ... of which on the test's main thread */
	_Atomic int in_go;    /* ... of which on a go task's stack */
} obj;

static _Atomic int g_retain_calls;
static pthread_t g_main;

static void
rt_retain(void *user, void *o)
{
	(void)user;
	(void)o;
	atomic_fetch_add(&g_retain_calls, 1);
}

static void
rt_release(void *user, void *o)
{
	(void)user;
	obj *ob = o;
	atomic_fetch_add(&ob->released, 1);
	if (pthread_equal(pthread_self(), g_main))
		atomic_fetch_add(&ob->on_main, 1);
	if (xchan_in_go())
		atomic_fetch_add(&ob->in_go, 1);
}

static uint32_t
reg(const char *name)
{
	xchan_runtime rt = {sizeof(rt), 0, name, rt_retain, rt_release, NULL};
	uint32_t id = 0;
	XCHECK_ERR(xchan_runtime_register(&id, &rt), XCHAN_OK);
	return id;
}

/* ---- the core counts; the hook runs once ---------------------------------- */

typedef struct copies {
	xchan_val v[64];
	int n;
} copies;

static void *
drop_copies(void *p)
{
	copies *c = p;
	for (int i = 0; i < c->n; i++)
		xchan_val_release(c->v[i]);
	return NULL;
}

XTEST(host_retain_never_calls_host_and_release_runs_once)
{
	g_main = pthread_self();
	uint32_t id = reg("count");
	for (int round = 0; round < 200; round++) {
		obj o = {0};
		xchan_val v;
		XREQUIRE(xchan_val_host(&v, id, &o) == XCHAN_OK);
		XCHECK_EQ(v.kind, XCHAN_HOST);
		XCHECK_EQ(v.aux, id);
		copies c[4];
		for (int t = 0; t < 4; t++) {
			c[t].n = 64;
			for (int i = 0; i < 64; i++)
				c[t].v[i] = xchan_val_retain(v);
		}
		XCHECK(xchan_val_equal(v, c[0].v[0]));
		xchan_val_release(v);
		pthread_t th[4];
		for (int t = 0; t < 4; t++)
			pthread_create(&th[t], NULL, drop_copies, &c[t]);
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		XCHECK_EQ(atomic_load(&o.released), 1);
	}
	XCHECK_EQ(atomic_load(&g_retain_calls), 0);
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
}

/* A promise channel hands a copy to every taker: with host values that
 * used to call the host's retain under the channel lock. */
XTEST(host_value_through_promise_channel)
{
	uint32_t id = reg("promise");
	obj o = {0};
	xchan_chan *p;
	XREQUIRE(xchan_chan_make(&p, XCHAN_BUF_PROMISE, 0) == XCHAN_OK);
	xchan_val v;
	XREQUIRE(xchan_val_host(&v, id, &o) == XCHAN_OK);
	XCHECK_ERR(xchan_put(p, v, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	for (int i = 0; i < 10; i++) {
		xchan_val got;
		XCHECK_ERR(xchan_take(&got, p, XCHAN_DEADLINE_POLL), XCHAN_OK);
		void *back = NULL;
		XCHECK_ERR(xchan_get_host(got, id, &back), XCHAN_OK);
		XCHECK(back == &o);
		xchan_val_release(got);
	}
	XCHECK_EQ(atomic_load(&o.released), 0);
	xchan_chan_release(p);
	XCHECK_EQ(atomic_load(&o.released), 1);
	XCHECK_EQ(atomic_load(&g_retain_calls), 0);
	xchan_runtime_unregister(id);
}

/* ---- runtimes come and go ----------------------------------------------------- */

XTEST(runtimes_have_no_cap_and_ids_are_never_reused)
{
	uint32_t last = 0;
	for (int i = 0; i < 1000; i++) {
		uint32_t id = reg("worker");
		XREQUIRE(id != 0);
		XCHECK(id > last);
		last = id;
		if (i % 3 != 0)
			XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
	}
	XCHECK_ERR(xchan_runtime_unregister(last), XCHAN_OK);
	XCHECK_ERR(xchan_runtime_unregister(last), XCHAN_EINVAL);
	XCHECK_ERR(xchan_runtime_unregister(0), XCHAN_EINVAL);
	XCHECK_ERR(xchan_runtime_unregister(UINT32_MAX), XCHAN_EINVAL);
	/* an unregistered id cannot make values */
	obj o = {0};
	xchan_val v;
	XCHECK_ERR(xchan_val_host(&v, last, &o), XCHAN_ERUNTIME);
	XCHECK_EQ(v.kind, XCHAN_NIL);
	/* retain is optional now, release is not */
	xchan_runtime no_retain = {sizeof(no_retain), 0, "r", NULL, rt_release,
	    NULL};
	uint32_t id;
	XCHECK_ERR(xchan_runtime_register(&id, &no_retain), XCHAN_OK);
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
	xchan_runtime no_release = {sizeof(no_release), 0, "r", rt_retain, NULL,
	    NULL};
	XCHECK_ERR(xchan_runtime_register(&id, &no_release), XCHAN_EINVAL);
}

typedef struct log_rec {
	_Atomic int n;
	char last[512];
} log_rec;
static log_rec g_log;

static void
log_hook(void *user, int32_t level, const char *msg)
{
	(void)user;
	(void)level;
	strncpy(g_log.last, msg, sizeof(g_log.last) - 1);
	atomic_fetch_add(&g_log.n, 1);
}

XTEST(unregistered_runtime_is_never_called_and_leaks_are_counted)
{
	xchan_set_log_hook(log_hook, NULL);
	uint32_t id = reg("gone");
	obj o = {0}, s = {0};
	xchan_val v, str;
	XREQUIRE(xchan_val_host(&v, id, &o) == XCHAN_OK);
	XREQUIRE(xchan_val_string_host(&str, "hi", 2, id, &s) == XCHAN_OK);
	xchan_val copy = xchan_val_retain(v);
	int logs = atomic_load(&g_log.n);
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
	XCHECK(atomic_load(&g_log.n) > logs); /* "... live host values" */
	XCHECK(strstr(g_log.last, "gone") != NULL);
	void *back;
	XCHECK_ERR(xchan_get_host(v, id, &back), XCHAN_ERUNTIME);
	XCHECK_ERR(xchan_get_host(str, id, &back), XCHAN_ERUNTIME);
	/* the string stays readable as a string */
	const char *text;
	size_t len;
	XCHECK_ERR(xchan_get_string(str, &text, &len), XCHAN_OK);
	XCHECK(len == 2 && memcmp(text, "hi", 2) == 0);
	uint64_t leaked = xchan__rt_leaked();
	xchan_val_release(v);
	xchan_val_release(copy);
	xchan_val_release(str);
	XCHECK_EQ(atomic_load(&o.released), 0);
	XCHECK_EQ(atomic_load(&s.released), 0);
	XCHECK_EQ(xchan__rt_leaked(), leaked + 2);
	xchan_set_log_hook(NULL, NULL);
}

/* ---- another runtime's values --------------------------------------------------- */

XTEST(other_runtime_gets_eruntime_never_a_crash)
{
	uint32_t a = reg("a"), b = reg("b");
	obj o = {0};
	xchan_val v;
	XREQUIRE(xchan_val_host(&v, a, &o) == XCHAN_OK);
	xchan_chan *ch;
	XREQUIRE(xchan_chan_make(&ch, XCHAN_BUF_FIXED, 2) == XCHAN_OK);
	XCHECK_ERR(xchan_put(ch, v, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	xchan_val got;
	XCHECK_ERR(xchan_take(&got, ch, XCHAN_DEADLINE_POLL), XCHAN_OK);
	void *back = NULL;
	XCHECK_ERR(xchan_get_host(got, b, &back), XCHAN_ERUNTIME);
	XCHECK(back == NULL);
	XCHECK_ERR(xchan_get_host(got, a, &back), XCHAN_OK);
	XCHECK(back == &o);
	XCHECK_ERR(xchan_get_host(got, a, NULL), XCHAN_EINVAL);
	XCHECK_ERR(xchan_get_host(xchan_val_int(3), a, &back), XCHAN_ETYPE);
	xchan_val plain;
	XREQUIRE(xchan_val_string(&plain, "x", 1) == XCHAN_OK);
	XCHECK_ERR(xchan_get_host(plain, a, &back), XCHAN_ETYPE);
	xchan_val_release(plain);
	xchan_val_release(got);
	XCHECK_EQ(atomic_load(&o.released), 1);
	xchan_chan_release(ch);
	xchan_runtime_unregister(a);
	xchan_runtime_unregister(b);
}

/* ---- strings and bytes that carry their host object ------------------------------ */

XTEST(string_and_bytes_host_round_trip)
{
	g_main = pthread_self();
	uint32_t a = reg("py"), b = reg("js");
	obj so = {0}, bo = {0};
	xchan_val s, by;
	XREQUIRE(xchan_val_string_host(&s, "h\xc3\xa9", 3, a, &so) == XCHAN_OK);
	XREQUIRE(xchan_val_bytes_host(&by, "\0\1\2", 3, a, &bo) == XCHAN_OK);
	XCHECK_EQ(s.kind, XCHAN_STRING);
	XCHECK_EQ(s.aux, 0);
	XCHECK_EQ(by.kind, XCHAN_BYTES);
	const char *text;
	const void *data;
	size_t len;
	XCHECK_ERR(xchan_get_string(s, &text, &len), XCHAN_OK);
	XCHECK(len == 3 && memcmp(text, "h\xc3\xa9", 3) == 0 && text[3] == 0);
	XCHECK_ERR(xchan_get_bytes(by, &data, &len), XCHAN_OK);
	XCHECK(len == 3 && memcmp(data, "\0\1\2", 3) == 0);
	void *back = NULL;
	XCHECK_ERR(xchan_get_host(s, a, &back), XCHAN_OK);
	XCHECK(back == &so);
	XCHECK_ERR(xchan_get_host(by, a, &back), XCHAN_OK);
	XCHECK(back == &bo);
	XCHECK_ERR(xchan_get_host(s, b, &back), XCHAN_ERUNTIME);
	/* equal to a plain string of the same text */
	xchan_val plain;
	XREQUIRE(xchan_val_string(&plain, "h\xc3\xa9", 3) == XCHAN_OK);
	XCHECK(xchan_val_equal(s, plain));
	xchan_val_release(plain);
	/* copies share the object; the last release hands it back, once,
	 * on whichever thread drops it */
	copies c = {.n = 3};
	for (int i = 0; i < 3; i++)
		c.v[i] = xchan_val_retain(s);
	xchan_val_release(s);
	XCHECK_EQ(atomic_load(&so.released), 0);
	pthread_t th;
	pthread_create(&th, NULL, drop_copies, &c);
	pthread_join(th, NULL);
	XCHECK_EQ(atomic_load(&so.released), 1);
	XCHECK_EQ(atomic_load(&so.on_main), 0);
	xchan_val_release(by);
	XCHECK_EQ(atomic_load(&bo.released), 1);
	/* errors: the object is taken over (released once) except when
	 * there is no runtime to give it to */
	obj bad = {0};
	XCHECK_ERR(xchan_val_string_host(&s, "\xff", 1, a, &bad), XCHAN_EINVAL);
	XCHECK_EQ(s.kind, XCHAN_NIL);
	XCHECK_EQ(atomic_load(&bad.released), 1);
	XCHECK_ERR(xchan_val_bytes_host(&s, NULL, 4, a, &bad), XCHAN_EINVAL);
	XCHECK_EQ(atomic_load(&bad.released), 2);
	XCHECK_ERR(xchan_val_string_host(&s, "x", 1, 999999, &bad),
	    XCHAN_ERUNTIME);
	XCHECK_EQ(atomic_load(&bad.released), 2);
	XCHECK_ERR(xchan_val_string_host(&s, "x", 1, a, NULL), XCHAN_EINVAL);
	/* out of memory: released once, nothing leaks (ASan) */
	for (long n = 1; n < 4; n++) {
		obj m = {0};
		xchan__fail_alloc_after(n);
		int32_t e = xchan_val_string_host(&s, "x", 1, a, &m);
		xchan__fail_alloc_after(0);
		if (e == XCHAN_OK) {
			xchan_val_release(s);
			XCHECK_EQ(atomic_load(&m.released), 1);
			break;
		}
		XCHECK_ERR(e, XCHAN_ENOMEM);
		XCHECK_EQ(atomic_load(&m.released), 1);
	}
	for (long n = 1; n < 4; n++) {
		obj m = {0};
		xchan__fail_alloc_after(n);
		int32_t e = xchan_val_host(&s, a, &m);
		xchan__fail_alloc_after(0);
		if (e == XCHAN_OK) {
			xchan_val_release(s);
			XCHECK_EQ(atomic_load(&m.released), 1);
			break;
		}
		XCHECK_ERR(e, XCHAN_ENOMEM);
		XCHECK_EQ(atomic_load(&m.released), 0); /* caller keeps it */
	}
	xchan_runtime_unregister(a);
	xchan_runtime_unregister(b);
}

/* ---- unregister against running hooks -------------------------------------------- */

static _Atomic int g_slow_entered, g_slow_done;

static void
slow_release(void *user, void *o)
{
	(void)user;
	(void)o;
	atomic_store(&g_slow_entered, 1);
	int64_t until = xchan_now() + 150000000; /* 150 ms */
	while (xchan_now() < until)
		sched_yield();
	atomic_store(&g_slow_done, 1);
}

static void *
drop_one(void *p)
{
	xchan_val_release(*(xchan_val *)p);
	return NULL;
}

XTEST(unregister_waits_for_hooks_running_elsewhere)
{
	xchan_runtime rt = {sizeof(rt), 0, "slow", NULL, slow_release, NULL};
	uint32_t id;
	XREQUIRE(xchan_runtime_register(&id, &rt) == XCHAN_OK);
	int o;
	xchan_val v;
	XREQUIRE(xchan_val_host(&v, id, &o) == XCHAN_OK);
	pthread_t th;
	pthread_create(&th, NULL, drop_one, &v);
	int64_t give_up = xchan_now() + 10000000000LL;
	while (!atomic_load(&g_slow_entered) && xchan_now() < give_up)
		sched_yield();
	XREQUIRE(atomic_load(&g_slow_entered));
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
	/* the hook had finished before unregister returned */
	XCHECK_EQ(atomic_load(&g_slow_done), 1);
	pthread_join(th, NULL);
}

static uint32_t g_self_id;
static _Atomic int g_self_calls;

static void
self_unregistering_release(void *user, void *o)
{
	(void)user;
	(void)o;
	atomic_fetch_add(&g_self_calls, 1);
	XCHECK_ERR(xchan_runtime_unregister(g_self_id), XCHAN_OK);
}

XTEST(release_hook_may_unregister_its_own_runtime)
{
	xchan_runtime rt = {sizeof(rt), 0, "self", NULL,
	    self_unregistering_release, NULL};
	XREQUIRE(xchan_runtime_register(&g_self_id, &rt) == XCHAN_OK);
	int o1, o2;
	xchan_val v1, v2;
	XREQUIRE(xchan_val_host(&v1, g_self_id, &o1) == XCHAN_OK);
	XREQUIRE(xchan_val_host(&v2, g_self_id, &o2) == XCHAN_OK);
	xchan_val_release(v1); /* returns: no wait for itself */
	xchan_val_release(v2); /* runtime gone: leaked, not called */
	XCHECK_EQ(atomic_load(&g_self_calls), 1);
}

/* ---- unregister racing releases on other threads -------------------------------- */

#define STORM_OBJS 4000
static _Atomic int g_storm_after; /* unregister has returned */
static _Atomic int g_storm_late;  /* hooks called after that */
static _Atomic int g_storm_calls[STORM_OBJS];

static void
storm_release(void *user, void *o)
{
	(void)user;
	if (atomic_load(&g_storm_after))
		atomic_fetch_add(&g_storm_late, 1);
	atomic_fetch_add(&g_storm_calls[(int *)o - (int *)user], 1);
}

typedef struct storm_part {
	xchan_val *v;
	int from, to;
} storm_part;

static void *
storm_drop(void *p)
{
	storm_part *sp = p;
	for (int i = sp->from; i < sp->to; i++)
		xchan_val_release(sp->v[i]);
	return NULL;
}

/* Four threads drop 4000 host values while the runtime unregisters: every
 * object is handed back at most once, none after unregister returned, and
 * the ones not handed back are exactly the ones counted as leaked. */
XTEST(unregister_racing_releases)
{
	static int objs[STORM_OBJS];
	static xchan_val vals[STORM_OBJS];
	xchan_runtime rt = {sizeof(rt), 0, "storm", NULL, storm_release, objs};
	uint32_t id;
	XREQUIRE(xchan_runtime_register(&id, &rt) == XCHAN_OK);
	for (int i = 0; i < STORM_OBJS; i++)
		XREQUIRE(xchan_val_host(&vals[i], id, &objs[i]) == XCHAN_OK);
	uint64_t leaked0 = xchan__rt_leaked();
	storm_part parts[4];
	pthread_t th[4];
	for (int t = 0; t < 4; t++) {
		parts[t] = (storm_part) {vals, t * (STORM_OBJS / 4),
		    (t + 1) * (STORM_OBJS / 4)};
		pthread_create(&th[t], NULL, storm_drop, &parts[t]);
	}
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);
	atomic_store(&g_storm_after, 1);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	int handed = 0;
	for (int i = 0; i < STORM_OBJS; i++) {
		int c = atomic_load(&g_storm_calls[i]);
		XCHECK(c == 0 || c == 1);
		handed += c;
	}
	XCHECK_EQ(atomic_load(&g_storm_late), 0);
	XCHECK_EQ((uint64_t)handed + (xchan__rt_leaked() - leaked0),
	    STORM_OBJS);
}

/* A go task dropping the last copy: the hook runs once, off the go stack. */
static int32_t
drop_in_go(void *arg, xchan_val *out)
{
	xchan_val_release(*(xchan_val *)arg);
	*out = xchan_val_int(1);
	return XCHAN_OK;
}

XTEST(release_hook_never_runs_on_a_go_stack)
{
	uint32_t id = reg("go");
	obj o = {0};
	xchan_val v;
	XREQUIRE(xchan_val_host(&v, id, &o) == XCHAN_OK);
	xchan_chan *r;
	XREQUIRE(xchan_go(&r, drop_in_go, &v, NULL) == XCHAN_OK);
	xchan_val got;
	XCHECK_ERR(xchan_take(&got, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	xchan_chan_release(r);
	XCHECK_EQ(atomic_load(&o.released), 1);
	XCHECK_EQ(atomic_load(&o.in_go), 0);
	xchan_runtime_unregister(id);
}

XTEST_MAIN()
