/*
 * api_misuse_test.c — every public function of xchan.h with bad input:
 * NULLs, out-of-range sizes and counts, wrong kinds, and misuse (double
 * close, cancel twice, collect twice, operations after xchan_shutdown).
 * Each row must give the error the header documents, never a crash or a
 * hang.  Each row runs in a child process of its own (testing/xchild.h) with
 * a 20 s alarm, so a crash or a hang fails that row and names it, and rows
 * that initialise or shut the library down start from a fresh process.
 *
 * A row's function returns the code it got; checks beyond the code (an
 * out-parameter left nil, a destructor that must have run) print what was
 * wrong and return ROW_BAD.  Only the public API is used.
 */
#include <stdatomic.h>
#include <string.h>

#include "testing/xchild.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

#define ROW_BAD (-1000)

static _Atomic int g_dtor_runs;

static void
count_dtor(void *p)
{
	(void)p;
	atomic_fetch_add(&g_dtor_runs, 1);
}

static xchan_val
box(void)
{
	xchan_val v = xchan_val_nil();
	xchan_val_box(&v, &g_dtor_runs, count_dtor);
	return v;
}

static xchan_chan *
chan(uint32_t kind, uint64_t cap)
{
	xchan_chan *c = NULL;
	xchan_chan_make(&c, kind, cap);
	return c;
}

/* A channel whose pending puts and takes are limited to one. */
static xchan_chan *
chan_limit1(void)
{
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_NONE,
	    .max_pending = 1};
	xchan_chan *c = NULL;
	xchan_chan_new(&c, &o);
	return c;
}

static void
ignore_cb(void *user, xchan_result *r)
{
	(void)user;
	xchan_val_release(r->val);
}

static void
notify_cb(void *user, xchan_result *r)
{
	(void)user;
	(void)r;
}

#define BAD(...)                                                               \
	do {                                                                   \
		fprintf(stderr, "  " __VA_ARGS__);                             \
		fprintf(stderr, "\n");                                         \
		return ROW_BAD;                                                \
	} while (0)

/* ---- versions, errors, init -------------------------------------------- */

static int32_t
check_version_other_major(void)
{
	return xchan_check_version(XCHAN_VERSION_NUMBER + 10000);
}

static int32_t
check_version_negative(void)
{
	return xchan_check_version(-1);
}

static int32_t
unknown_error_codes(void)
{
	if (strcmp(xchan_strerror(-1), "unknown error") != 0 ||
	    strcmp(xchan_strerror(XCHAN_ERR_COUNT_), "unknown error") != 0 ||
	    strcmp(xchan_err_name(999), "EUNKNOWN") != 0 ||
	    strcmp(xchan_err_name(-3), "EUNKNOWN") != 0)
		BAD("unknown codes are not named 'unknown error' / EUNKNOWN");
	return XCHAN_OK;
}

static int32_t
init_null(void)
{
	return xchan_init(NULL);
}

static int32_t
init_size_too_small(void)
{
	xchan_init_params p;
	memset(&p, 0, sizeof(p));
	p.size = 4;
	return xchan_init(&p);
}

static void *
my_alloc(void *u, size_t n)
{
	(void)u;
	return malloc(n);
}

static int32_t
init_one_hook(void)
{
	xchan_init_params p;
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	p.alloc = my_alloc;
	return xchan_init(&p);
}

static int32_t
init_after_first_use(void)
{
	xchan_chan_release(chan(XCHAN_BUF_FIXED, 1));
	xchan_init_params p;
	memset(&p, 0, sizeof(p));
	p.size = sizeof(p);
	return xchan_init(&p);
}

static int32_t
log_hook_null(void)
{
	xchan_set_log_hook(NULL, NULL);
	xchan_set_task_error_hook(NULL, NULL);
	return XCHAN_OK;
}

static int32_t
deadlines_out_of_range(void)
{
	int64_t now = xchan_now();
	if (xchan_deadline_in_ms(-5) != XCHAN_DEADLINE_NEVER)
		BAD("deadline_in_ms(-5) is not NEVER");
	xchan_deadline d = xchan_deadline_in_ms(0);
	if (d == XCHAN_DEADLINE_NEVER || d > xchan_now())
		BAD("deadline_in_ms(0) has not passed");
	d = xchan_deadline_in_ms(INT64_MAX);
	if (d != XCHAN_DEADLINE_NEVER && d < now)
		BAD("deadline_in_ms(INT64_MAX) overflowed into the past "
		    "(%lld)",
		    (long long)d);
	d = xchan_deadline_in_ns(INT64_MAX);
	if (d != XCHAN_DEADLINE_NEVER && d < now)
		BAD("deadline_in_ns(INT64_MAX) overflowed into the past "
		    "(%lld)",
		    (long long)d);
	return XCHAN_OK;
}

/* ---- values --------------------------------------------------------------- */

static int32_t
val_string_null_out(void)
{
	return xchan_val_string(NULL, "x", 1);
}

static int32_t
val_string_null_text(void)
{
	xchan_val v;
	return xchan_val_string(&v, NULL, 3);
}

static int32_t
val_string_bad_utf8(void)
{
	xchan_val v;
	return xchan_val_string(&v, "a\xff", 2);
}

static int32_t
val_bytes_null(void)
{
	xchan_val v;
	int32_t e = xchan_val_bytes(NULL, "x", 1);
	if (e != XCHAN_EINVAL)
		return e;
	return xchan_val_bytes(&v, NULL, 5);
}

static int32_t
val_chan_null(void)
{
	xchan_val v;
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	int32_t e = xchan_val_chan(NULL, c);
	xchan_chan_release(c);
	if (e != XCHAN_EINVAL)
		return e;
	return xchan_val_chan(&v, NULL);
}

static int32_t
val_box_null_out(void)
{
	return xchan_val_box(NULL, &g_dtor_runs, count_dtor);
}

static int32_t
val_array_nil_item(void)
{
	xchan_val items[2] = {box(), xchan_val_nil()};
	xchan_val v;
	int32_t e = xchan_val_array(&v, items, 2);
	if (atomic_load(&g_dtor_runs) != 1)
		BAD("the items were not released on error (%d destructor "
		    "runs)",
		    atomic_load(&g_dtor_runs));
	return e;
}

static int32_t
val_array_null_items(void)
{
	xchan_val v;
	int32_t e = xchan_val_array(&v, NULL, 3);
	if (e != XCHAN_EINVAL)
		return e;
	xchan_val items[1] = {box()};
	e = xchan_val_array(NULL, items, 1);
	if (atomic_load(&g_dtor_runs) != 1)
		BAD("the item was not released on error");
	return e;
}

static void
rt_retain(void *u, void *o)
{
	(void)u;
	(void)o;
}

static void
rt_release(void *u, void *o)
{
	(void)u;
	(void)o;
}

static int32_t
runtime_register_bad(void)
{
	uint32_t id;
	xchan_runtime rt = {sizeof(rt), 0, "t", rt_retain, rt_release, NULL};
	int32_t e;
	if ((e = xchan_runtime_register(NULL, &rt)) != XCHAN_EINVAL)
		return e;
	if ((e = xchan_runtime_register(&id, NULL)) != XCHAN_EINVAL)
		return e;
	rt.release = NULL;
	if ((e = xchan_runtime_register(&id, &rt)) != XCHAN_EINVAL)
		return e;
	rt.release = rt_release;
	rt.size = 4;
	return xchan_runtime_register(&id, &rt);
}

static int32_t
runtime_unregister_twice(void)
{
	xchan_runtime rt = {sizeof(rt), 0, "t", rt_retain, rt_release, NULL};
	uint32_t id;
	int32_t e;
	if ((e = xchan_runtime_unregister(12345)) != XCHAN_EINVAL)
		return e;
	if (xchan_runtime_register(&id, &rt) != XCHAN_OK)
		BAD("register failed");
	if (xchan_runtime_unregister(id) != XCHAN_OK)
		BAD("first unregister failed");
	return xchan_runtime_unregister(id);
}

static int32_t
val_host_bad(void)
{
	xchan_runtime rt = {sizeof(rt), 0, "t", rt_retain, rt_release, NULL};
	uint32_t id, other;
	int obj;
	void *got;
	xchan_val v;
	int32_t e;
	xchan_runtime_register(&id, &rt);
	xchan_runtime_register(&other, &rt);
	if ((e = xchan_val_host(NULL, id, &obj)) != XCHAN_EINVAL)
		return e;
	if ((e = xchan_val_host(&v, id, NULL)) != XCHAN_EINVAL)
		return e;
	if ((e = xchan_val_host(&v, 999, &obj)) != XCHAN_ERUNTIME)
		BAD("unregistered id: %s", xchan_err_name(e));
	if (xchan_val_host(&v, id, &obj) != XCHAN_OK)
		BAD("a good host value failed");
	if ((e = xchan_get_host(v, other, &got)) != XCHAN_ERUNTIME)
		BAD("get_host of another runtime: %s", xchan_err_name(e));
	if ((e = xchan_get_host(xchan_val_int(1), id, &got)) != XCHAN_ETYPE)
		BAD("get_host of an int: %s", xchan_err_name(e));
	xchan_runtime_unregister(id);
	e = xchan_get_host(v, id, &got);
	xchan_val_release(v);
	return e; /* ERUNTIME: unregistered */
}

static int32_t
accessors_wrong_kind(void)
{
	xchan_val s;
	xchan_val_string(&s, "x", 1);
	int32_t b;
	int64_t i;
	double d;
	const char *t;
	const void *p;
	size_t n;
	xchan_chan *c;
	void *bx;
	const xchan_val *items;
	int32_t e[8] = {xchan_get_bool(s, &b), xchan_get_int(s, &i),
	    xchan_get_double(s, &d), xchan_get_bytes(s, &p, &n),
	    xchan_get_chan(s, &c), xchan_get_box(s, &bx),
	    xchan_get_array(s, &items, &n),
	    xchan_get_string(xchan_val_int(1), &t, &n)};
	xchan_val_release(s);
	for (int k = 0; k < 8; k++)
		if (e[k] != XCHAN_ETYPE)
			BAD("accessor %d of a wrong kind: %s", k,
			    xchan_err_name(e[k]));
	return XCHAN_ETYPE;
}

static int32_t
accessors_null_out(void)
{
	xchan_val s, y, bx = box();
	xchan_val_string(&s, "x", 1);
	xchan_val_bytes(&y, "x", 1);
	size_t n;
	const char *t;
	int32_t e[8] = {xchan_get_bool(xchan_val_bool(1), NULL),
	    xchan_get_int(xchan_val_int(1), NULL),
	    xchan_get_double(xchan_val_double(1), NULL),
	    xchan_get_string(s, NULL, &n), xchan_get_string(s, &t, NULL),
	    xchan_get_bytes(y, NULL, &n), xchan_get_box(bx, NULL),
	    xchan_get_chan(xchan_val_int(1), NULL)};
	xchan_val_release(s);
	xchan_val_release(y);
	xchan_val_release(bx);
	for (int k = 0; k < 8; k++)
		if (e[k] != XCHAN_EINVAL && !(k == 7 && e[k] == XCHAN_ETYPE))
			BAD("accessor %d with a NULL out: %s", k,
			    xchan_err_name(e[k]));
	return XCHAN_EINVAL;
}

static int32_t
release_nil_and_scalars(void)
{
	xchan_val_release(xchan_val_nil());
	xchan_val_release(xchan_val_retain(xchan_val_int(5)));
	xchan_val_release(xchan_val_retain(xchan_val_nil()));
	if (!xchan_val_equal(xchan_val_nil(), xchan_val_nil()))
		BAD("nil != nil");
	if (xchan_kind_name(999) == NULL)
		BAD("kind_name(999) is NULL");
	return XCHAN_OK;
}

/* ---- transforms ------------------------------------------------------------ */

static xchan_val
id_map(void *u, xchan_val v)
{
	(void)u;
	return xchan_val_retain(v);
}

static int32_t
xform_bad_args(void)
{
	xchan_xform *x = NULL, *parts[2] = {NULL, NULL};
	int32_t e[10] = {xchan_xform_map(&x, NULL, NULL),
	    xchan_xform_filter(&x, NULL, NULL),
	    xchan_xform_mapcat(&x, NULL, NULL), xchan_xform_take(&x, 0),
	    xchan_xform_partition_all(&x, 0), xchan_xform_repeat(&x, 0),
	    xchan_xform_comp(&x, NULL, 2), xchan_xform_comp(&x, parts, 0),
	    xchan_xform_map(NULL, id_map, NULL), xchan_xform_take(NULL, 1)};
	for (int k = 0; k < 10; k++)
		if (e[k] != XCHAN_EINVAL)
			BAD("case %d: %s", k, xchan_err_name(e[k]));
	xchan_xform_free(NULL);
	return XCHAN_EINVAL;
}

static int32_t
nil_step(void *st, xchan_val in, xchan_emit *out)
{
	(void)st;
	xchan_val_release(in);
	return xchan_emit_push(out, xchan_val_nil());
}

static int32_t
xform_new_bad(void)
{
	xchan_xform *x;
	xchan_xform_vtbl vt = {sizeof(vt), 0, NULL, NULL, NULL};
	int32_t e;
	if ((e = xchan_xform_new(&x, &vt, NULL)) != XCHAN_EINVAL)
		BAD("no step: %s", xchan_err_name(e));
	vt.step = nil_step;
	vt.size = 4;
	if ((e = xchan_xform_new(&x, &vt, NULL)) != XCHAN_EINVAL)
		BAD("size 4: %s", xchan_err_name(e));
	vt.size = sizeof(vt);
	if ((e = xchan_xform_new(&x, NULL, NULL)) != XCHAN_EINVAL)
		BAD("NULL vtable: %s", xchan_err_name(e));
	return xchan_xform_new(NULL, &vt, NULL);
}

static _Atomic int g_handler_runs;

static xchan_val
count_handler(void *u, xchan_val err)
{
	(void)u;
	xchan_val_release(err);
	atomic_fetch_add(&g_handler_runs, 1);
	return xchan_val_nil();
}

/* A step that emits nil fails (emit_push answers XCHAN_STEP_FAILED): the
 * channel's error handler runs, nothing enters the buffer. */
static int32_t
emit_nil_fails_the_step(void)
{
	xchan_xform_vtbl vt = {sizeof(vt), 0, nil_step, NULL, NULL};
	xchan_chan_opts o = {.size = sizeof(o),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 2,
	    .on_error = count_handler};
	xchan_val v;
	if (xchan_xform_new(&o.xform, &vt, NULL) != XCHAN_OK)
		BAD("xform_new failed");
	xchan_chan *c = NULL;
	if (xchan_chan_new(&c, &o) != XCHAN_OK)
		BAD("chan_new failed");
	int32_t e = xchan_put(c, xchan_val_int(1), XCHAN_DEADLINE_POLL);
	if (atomic_load(&g_handler_runs) != 1)
		BAD("the error handler ran %d times",
		    atomic_load(&g_handler_runs));
	if (xchan_poll(&v, c) != XCHAN_EAGAIN)
		BAD("something entered the buffer");
	xchan_chan_release(c);
	return e; /* the put itself succeeded */
}

/* ---- channels --------------------------------------------------------------- */

static int32_t
chan_new_bad(void)
{
	xchan_chan *c = NULL;
	xchan_chan_opts o = {.size = sizeof(o)};
	int32_t e;
	if ((e = xchan_chan_new(NULL, &o)) != XCHAN_EINVAL)
		BAD("out NULL: %s", xchan_err_name(e));
	struct {
		uint32_t kind;
		uint64_t cap;
	} bad[] = {{9, 1}, {XCHAN_BUF_FIXED, 0}, {XCHAN_BUF_DROPPING, 0},
	    {XCHAN_BUF_SLIDING, 0}, {XCHAN_BUF_NONE, 3},
	    {XCHAN_BUF_PROMISE, 1}};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		o.buf_kind = bad[k].kind;
		o.capacity = bad[k].cap;
		if ((e = xchan_chan_new(&c, &o)) != XCHAN_EINVAL)
			BAD("kind %u cap %llu: %s", bad[k].kind,
			    (unsigned long long)bad[k].cap, xchan_err_name(e));
		if ((e = xchan_chan_make(&c, bad[k].kind, bad[k].cap)) !=
		    XCHAN_EINVAL)
			BAD("make kind %u cap %llu: %s", bad[k].kind,
			    (unsigned long long)bad[k].cap, xchan_err_name(e));
	}
	o.buf_kind = XCHAN_BUF_FIXED;
	o.capacity = 1;
	o.size = 4;
	if ((e = xchan_chan_new(&c, &o)) != XCHAN_EINVAL)
		BAD("size 4: %s", xchan_err_name(e));
	if ((e = xchan_chan_make(NULL, XCHAN_BUF_FIXED, 1)) != XCHAN_EINVAL)
		BAD("make out NULL: %s", xchan_err_name(e));
	/* A transform on an unbuffered channel; the transform is taken over
	 * (ASan's leak check sees it if not). */
	o.size = sizeof(o);
	o.buf_kind = XCHAN_BUF_NONE;
	o.capacity = 0;
	xchan_xform_take(&o.xform, 1);
	return xchan_chan_new(&c, &o);
}

static int32_t
close_null_and_twice(void)
{
	int32_t e;
	if ((e = xchan_chan_close(NULL)) != XCHAN_EINVAL)
		BAD("close(NULL): %s", xchan_err_name(e));
	xchan_chan_release(NULL);
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 1);
	xchan_chan_close(c);
	e = xchan_chan_close(c);
	xchan_chan_release(c);
	return e; /* idempotent: OK */
}

static int32_t
put_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 1);
	xchan_val bad = {77, 0, 0};
	int32_t e;
	if ((e = xchan_put(NULL, xchan_val_int(1), XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EINVAL)
		BAD("put(NULL): %s", xchan_err_name(e));
	if ((e = xchan_put(c, xchan_val_nil(), XCHAN_DEADLINE_POLL)) !=
	    XCHAN_ENIL)
		BAD("put(nil): %s", xchan_err_name(e));
	if ((e = xchan_offer(c, xchan_val_nil())) != XCHAN_ENIL)
		BAD("offer(nil): %s", xchan_err_name(e));
	if ((e = xchan_offer(NULL, xchan_val_int(1))) != XCHAN_EINVAL)
		BAD("offer(NULL): %s", xchan_err_name(e));
	if ((e = xchan_put(c, bad, XCHAN_DEADLINE_POLL)) != XCHAN_EINVAL)
		BAD("put(kind 77): %s", xchan_err_name(e));
	xchan_put(c, xchan_val_int(1), XCHAN_DEADLINE_POLL);
	if ((e = xchan_put(c, xchan_val_int(2), XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EAGAIN)
		BAD("put POLL on full: %s", xchan_err_name(e));
	if ((e = xchan_put(c, xchan_val_int(2), xchan_deadline_in_ms(0))) !=
	    XCHAN_ETIMEDOUT)
		BAD("put with a passed deadline on full: %s",
		    xchan_err_name(e));
	if ((e = xchan_offer(c, xchan_val_int(2))) != XCHAN_EAGAIN)
		BAD("offer on full: %s", xchan_err_name(e));
	xchan_chan_close(c);
	if ((e = xchan_offer(c, xchan_val_int(2))) != XCHAN_ECLOSED)
		BAD("offer on closed: %s", xchan_err_name(e));
	e = xchan_put(c, xchan_val_int(2), XCHAN_DEADLINE_NEVER);
	xchan_chan_release(c);
	return e; /* ECLOSED, at once */
}

static int32_t
take_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 1);
	xchan_val v = xchan_val_int(9);
	int32_t e;
	if ((e = xchan_take(NULL, c, XCHAN_DEADLINE_POLL)) != XCHAN_EINVAL)
		BAD("take(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_take(&v, NULL, XCHAN_DEADLINE_POLL)) != XCHAN_EINVAL)
		BAD("take(NULL): %s", xchan_err_name(e));
	if ((e = xchan_poll(NULL, c)) != XCHAN_EINVAL)
		BAD("poll(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_poll(&v, NULL)) != XCHAN_EINVAL)
		BAD("poll(NULL): %s", xchan_err_name(e));
	v = xchan_val_int(9);
	if ((e = xchan_take(&v, c, XCHAN_DEADLINE_POLL)) != XCHAN_EAGAIN ||
	    v.kind != XCHAN_NIL)
		BAD("take POLL on empty: %s, out kind %u", xchan_err_name(e),
		    v.kind);
	if ((e = xchan_take(&v, c, xchan_deadline_in_ms(0))) != XCHAN_ETIMEDOUT)
		BAD("take with a passed deadline: %s", xchan_err_name(e));
	xchan_chan_close(c);
	v = xchan_val_int(9);
	e = xchan_take(&v, c, XCHAN_DEADLINE_NEVER);
	if (v.kind != XCHAN_NIL)
		BAD("take on closed left out non-nil");
	xchan_chan_release(c);
	return e; /* ECLOSED */
}

static int32_t
pending_limit(void)
{
	xchan_chan *c = chan_limit1();
	xchan_op *op1 = NULL, *op2 = NULL;
	xchan_val v;
	int32_t e;
	if (xchan_put_async(&op1, c, xchan_val_int(1), 0, ignore_cb, NULL) !=
	    XCHAN_OK)
		BAD("first put_async failed");
	if ((e = xchan_put_async(&op2, c, xchan_val_int(2), 0, ignore_cb,
	         NULL)) != XCHAN_ELIMIT)
		BAD("second put_async: %s", xchan_err_name(e));
	/* ELIMIT comes at once; a short deadline could pass before the call
	 * looks at the channel (loaded machine, valgrind) and give ETIMEDOUT. */
	if ((e = xchan_put(c, xchan_val_int(2), xchan_deadline_in_ms(10000))) !=
	    XCHAN_ELIMIT)
		BAD("blocking put over the limit: %s", xchan_err_name(e));
	xchan_clause cl[1] = {{XCHAN_ALT_PUT, 0, c, xchan_val_int(3)}};
	xchan_result r;
	if ((e = xchan_alts(&r, cl, 1, 0, xchan_deadline_in_ms(10000))) !=
	    XCHAN_ELIMIT)
		BAD("alts put over the limit: %s", xchan_err_name(e));
	xchan_op_cancel(op1);
	xchan_op_release(op1);
	xchan_take_async(&op1, c, 0, ignore_cb, NULL);
	e = xchan_take(&v, c, xchan_deadline_in_ms(10000));
	xchan_op_cancel(op1);
	xchan_op_release(op1);
	xchan_chan_release(c);
	return e; /* ELIMIT */
}

/* ---- async ops, cancel, collect ----------------------------------------- */

static int32_t
async_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_op *op = NULL;
	int32_t e;
	if ((e = xchan_put_async(&op, NULL, xchan_val_int(1), 0, ignore_cb,
	         NULL)) != XCHAN_EINVAL)
		BAD("put_async(NULL chan): %s", xchan_err_name(e));
	if ((e = xchan_put_async(&op, c, xchan_val_int(1), 0, NULL, NULL)) !=
	    XCHAN_EINVAL)
		BAD("put_async(NULL cb): %s", xchan_err_name(e));
	if ((e = xchan_put_async(&op, c, xchan_val_nil(), 0, ignore_cb,
	         NULL)) != XCHAN_ENIL)
		BAD("put_async(nil): %s", xchan_err_name(e));
	if ((e = xchan_take_async(&op, NULL, 0, ignore_cb, NULL)) !=
	    XCHAN_EINVAL)
		BAD("take_async(NULL chan): %s", xchan_err_name(e));
	if ((e = xchan_take_async(&op, c, 0, NULL, NULL)) != XCHAN_EINVAL)
		BAD("take_async(NULL cb): %s", xchan_err_name(e));
	/* Notify mode needs the handle. */
	e = xchan_take_async(NULL, c, XCHAN_ASYNC_NOTIFY, notify_cb, NULL);
	xchan_chan_release(c);
	return e;
}

static int32_t
cancel_twice(void)
{
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_op *op = NULL;
	int32_t e;
	if ((e = xchan_op_cancel(NULL)) != XCHAN_EINVAL)
		BAD("cancel(NULL): %s", xchan_err_name(e));
	xchan_op_release(NULL);
	xchan_take_async(&op, c, 0, ignore_cb, NULL);
	if ((e = xchan_op_cancel(op)) != XCHAN_OK)
		BAD("first cancel: %s", xchan_err_name(e));
	if (xchan_op_state_get(op) != XCHAN_OP_CANCELED)
		BAD("state after cancel: %d", xchan_op_state_get(op));
	e = xchan_op_cancel(op);
	xchan_op_release(op);
	xchan_chan_release(c);
	return e; /* EDONE */
}

static int32_t
cancel_ex_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_op *op = NULL;
	xchan_result r;
	int32_t e;
	if ((e = xchan_op_cancel_ex(NULL, &r)) != XCHAN_EINVAL)
		BAD("cancel_ex(NULL): %s", xchan_err_name(e));
	xchan_put_async(&op, c, box(), 0, ignore_cb, NULL);
	if ((e = xchan_op_cancel_ex(op, NULL)) != XCHAN_EINVAL)
		BAD("cancel_ex(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_op_cancel_ex(op, &r)) != XCHAN_OK ||
	    r.err != XCHAN_ECANCELED || r.val.kind != XCHAN_BOX)
		BAD("cancel_ex: %s, result %s, value kind %u",
		    xchan_err_name(e), xchan_err_name(r.err), r.val.kind);
	xchan_val_release(r.val);
	e = xchan_op_cancel_ex(op, &r);
	if (r.val.kind != XCHAN_NIL)
		BAD("second cancel_ex left a value");
	if (xchan_op_cancel(op) != XCHAN_EDONE)
		BAD("cancel after cancel_ex is not EDONE");
	xchan_op_release(op);
	xchan_chan_release(c);
	if (atomic_load(&g_dtor_runs) != 1)
		BAD("the put value was released %d times",
		    atomic_load(&g_dtor_runs));
	return e; /* EDONE */
}

static int32_t
collect_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_op *op = NULL, *plain = NULL;
	xchan_result r;
	int32_t e;
	if ((e = xchan_op_collect(NULL, &r)) != XCHAN_EINVAL)
		BAD("collect(NULL): %s", xchan_err_name(e));
	if (xchan_op_state_get(NULL) != -XCHAN_EINVAL)
		BAD("op_state_get(NULL) is not -EINVAL");
	xchan_take_async(&plain, c, 0, ignore_cb, NULL);
	if ((e = xchan_op_collect(plain, &r)) != XCHAN_EINVAL)
		BAD("collect of a callback op: %s", xchan_err_name(e));
	xchan_op_cancel(plain);
	xchan_op_release(plain);
	xchan_take_async(&op, c, XCHAN_ASYNC_NOTIFY, notify_cb, NULL);
	if ((e = xchan_op_collect(op, NULL)) != XCHAN_EINVAL)
		BAD("collect(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_op_collect(op, &r)) != XCHAN_EAGAIN)
		BAD("collect while pending: %s", xchan_err_name(e));
	xchan_put(c, xchan_val_int(4), xt_deadline_s(5));
	if ((e = xchan_op_collect(op, &r)) != XCHAN_OK || r.err != XCHAN_OK)
		BAD("collect after completion: %s", xchan_err_name(e));
	e = xchan_op_collect(op, &r);
	xchan_op_release(op);
	xchan_chan_release(c);
	return e; /* EDONE */
}

/* ---- cancel tokens and wait options -------------------------------------- */

static int32_t
cancel_token_bad(void)
{
	int32_t e;
	if ((e = xchan_cancel_new(NULL)) != XCHAN_EINVAL)
		BAD("cancel_new(NULL): %s", xchan_err_name(e));
	if ((e = xchan_cancel_fire(NULL)) != XCHAN_EINVAL)
		BAD("cancel_fire(NULL): %s", xchan_err_name(e));
	if ((e = xchan_cancel_reset(NULL)) != XCHAN_EINVAL)
		BAD("cancel_reset(NULL): %s", xchan_err_name(e));
	if ((e = xchan_cancel_fired(NULL)) != -XCHAN_EINVAL)
		BAD("cancel_fired(NULL): %d", e);
	xchan_cancel_release(NULL);
	xchan_cancel *t = NULL;
	xchan_cancel_new(&t);
	xchan_cancel_fire(t);
	if ((e = xchan_cancel_fire(t)) != XCHAN_OK)
		BAD("second fire: %s", xchan_err_name(e));
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_wait_opts o = {sizeof(o), 0, t};
	xchan_val v;
	xchan_clause cl[1] = {{XCHAN_ALT_TAKE, 0, c, {0, 0, 0}}};
	xchan_result r;
	if ((e = xchan_put_ex(c, xchan_val_int(1), XCHAN_DEADLINE_NEVER, &o)) !=
	    XCHAN_ECANCELED)
		BAD("put_ex with a fired token: %s", xchan_err_name(e));
	if ((e = xchan_alts_ex(&r, cl, 1, 0, XCHAN_DEADLINE_NEVER, &o)) !=
	    XCHAN_ECANCELED)
		BAD("alts_ex with a fired token: %s", xchan_err_name(e));
	e = xchan_take_ex(&v, c, XCHAN_DEADLINE_NEVER, &o);
	xchan_cancel_release(t);
	xchan_chan_release(c);
	return e; /* ECANCELED */
}

/* ---- alts ------------------------------------------------------------------- */

static int32_t
alts_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 1);
	xchan_result r;
	xchan_op *op;
	int32_t e;
	xchan_clause ok[1] = {{XCHAN_ALT_TAKE, 0, c, {0, 0, 0}}};
	xchan_clause badop[1] = {{7, 0, c, {0, 0, 0}}};
	xchan_clause nullch[1] = {{XCHAN_ALT_TAKE, 0, NULL, {0, 0, 0}}};
	if ((e = xchan_alts(NULL, ok, 1, 0, XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EINVAL)
		BAD("alts(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_alts(&r, NULL, 1, 0, XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EINVAL)
		BAD("alts(clauses NULL): %s", xchan_err_name(e));
	if ((e = xchan_alts(&r, ok, 0, 0, XCHAN_DEADLINE_NEVER)) !=
	    XCHAN_EINVAL)
		BAD("alts(n 0): %s", xchan_err_name(e));
	if ((e = xchan_alts(&r, badop, 1, 0, XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EINVAL)
		BAD("alts(op 7): %s", xchan_err_name(e));
	if ((e = xchan_alts(&r, nullch, 1, 0, XCHAN_DEADLINE_POLL)) !=
	    XCHAN_EINVAL)
		BAD("alts(NULL chan): %s", xchan_err_name(e));
	if ((e = xchan_alts_async(&op, ok, 1, 0, XCHAN_DEADLINE_NEVER, NULL,
	         NULL)) != XCHAN_EINVAL)
		BAD("alts_async(cb NULL): %s", xchan_err_name(e));
	if ((e = xchan_alts_async(&op, NULL, 1, 0, XCHAN_DEADLINE_NEVER,
	         ignore_cb, NULL)) != XCHAN_EINVAL)
		BAD("alts_async(clauses NULL): %s", xchan_err_name(e));
	/* A nil put is refused before anything is tried: the first clause's
	 * value must not have been delivered. */
	xchan_clause withnil[2] = {{XCHAN_ALT_PUT, 0, c, box()},
	    {XCHAN_ALT_PUT, 0, c, {0, 0, 0}}};
	e = xchan_alts(&r, withnil, 2, XCHAN_ALTS_PRIORITY,
	    XCHAN_DEADLINE_POLL);
	xchan_chan_info info = xt_info(c);
	if (info.count != 0)
		BAD("a clause ran before the nil put was refused");
	xchan_val_release(withnil[0].val);
	xchan_chan_release(c);
	return e; /* ENIL */
}

/* ---- timeouts, info -------------------------------------------------------- */

static int32_t
timeout_bad(void)
{
	int32_t e;
	xchan_chan *t = NULL;
	xchan_val v;
	if ((e = xchan_timeout(NULL, 5)) != XCHAN_EINVAL)
		BAD("timeout(NULL): %s", xchan_err_name(e));
	if ((e = xchan_timeout_at(NULL, xchan_now())) != XCHAN_EINVAL)
		BAD("timeout_at(NULL): %s", xchan_err_name(e));
	if (xchan_timeout(&t, -5) != XCHAN_OK)
		BAD("timeout(-5) failed");
	e = xchan_take(&v, t, xt_deadline_s(5));
	xchan_chan_release(t);
	return e; /* ECLOSED: a negative timeout closes at once */
}

static int32_t
info_bad(void)
{
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 1);
	xchan_chan_info info = {.size = sizeof(info)};
	int32_t e;
	if ((e = xchan_chan_info_get(NULL, c)) != XCHAN_EINVAL)
		BAD("info(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_chan_info_get(&info, NULL)) != XCHAN_EINVAL)
		BAD("info(chan NULL): %s", xchan_err_name(e));
	info.size = 4;
	e = xchan_chan_info_get(&info, c);
	xchan_chan_release(c);
	return e; /* EINVAL */
}

/* ---- executors, go, thread, shutdown ----------------------------------- */

static int32_t
noop_exec(void *self, xchan_task_fn fn, void *arg)
{
	(void)self;
	(void)fn;
	(void)arg;
	return XCHAN_OK;
}

static int32_t
body_ok(void *arg, xchan_val *res)
{
	(void)arg;
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
task_noop(void *arg)
{
	(void)arg;
}

static int32_t
executor_bad(void)
{
	xchan_executor *ex;
	xchan_executor_vtbl vt = {sizeof(vt), 0, noop_exec, NULL};
	int32_t e;
	if ((e = xchan_executor_new(NULL, &vt, NULL)) != XCHAN_EINVAL)
		BAD("executor_new(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_executor_new(&ex, NULL, NULL)) != XCHAN_EINVAL)
		BAD("executor_new(vtbl NULL): %s", xchan_err_name(e));
	vt.execute = NULL;
	if ((e = xchan_executor_new(&ex, &vt, NULL)) != XCHAN_EINVAL)
		BAD("executor_new(execute NULL): %s", xchan_err_name(e));
	if ((e = xchan_executor_for(NULL, XCHAN_WORKLOAD_MIXED)) !=
	    XCHAN_EINVAL)
		BAD("executor_for(out NULL): %s", xchan_err_name(e));
	if ((e = xchan_executor_for(&ex, 99)) != XCHAN_EINVAL)
		BAD("executor_for(99): %s", xchan_err_name(e));
	if ((e = xchan_execute(NULL, task_noop, NULL)) != XCHAN_EINVAL)
		BAD("execute(NULL): %s", xchan_err_name(e));
	xchan_executor_for(&ex, XCHAN_WORKLOAD_MIXED);
	if ((e = xchan_execute(ex, NULL, NULL)) != XCHAN_EINVAL)
		BAD("execute(fn NULL): %s", xchan_err_name(e));
	/* The factory may only be set before an executor is resolved. */
	return xchan_set_executor_factory(NULL, NULL);
}

static int32_t
go_bad(void)
{
	xchan_chan *r;
	int32_t e;
	if ((e = xchan_go(&r, NULL, NULL, NULL)) != XCHAN_EINVAL)
		BAD("go(fn NULL): %s", xchan_err_name(e));
	if ((e = xchan_thread(&r, NULL, NULL, NULL)) != XCHAN_EINVAL)
		BAD("thread(fn NULL): %s", xchan_err_name(e));
	if ((e = xchan_io_thread(&r, NULL, NULL, NULL)) != XCHAN_EINVAL)
		BAD("io_thread(fn NULL): %s", xchan_err_name(e));
	if (xchan_in_go() != 0)
		BAD("in_go() on the main thread");
	if ((e = xchan_set_go_checking(0, NULL, NULL)) != XCHAN_OK)
		BAD("set_go_checking(0): %s", xchan_err_name(e));
	xchan_go_opts o = {4, 0, "x", 0};
	return xchan_go(&r, body_ok, NULL, &o); /* size too small */
}

static int32_t
shutdown_twice(void)
{
	int32_t e = xchan_shutdown();
	if (e != XCHAN_OK)
		BAD("first shutdown: %s", xchan_err_name(e));
	return xchan_shutdown();
}

static int32_t
spawn_after_shutdown(void)
{
	xchan_chan *r;
	xchan_executor *ex;
	int32_t e;
	xchan_shutdown();
	if ((e = xchan_go(&r, body_ok, NULL, NULL)) != XCHAN_ESHUTDOWN)
		BAD("go: %s", xchan_err_name(e));
	if ((e = xchan_thread(&r, body_ok, NULL, NULL)) != XCHAN_ESHUTDOWN)
		BAD("thread: %s", xchan_err_name(e));
	if ((e = xchan_io_thread(&r, body_ok, NULL, NULL)) != XCHAN_ESHUTDOWN)
		BAD("io_thread: %s", xchan_err_name(e));
	return xchan_executor_for(&ex, XCHAN_WORKLOAD_DISPATCH);
}

static int32_t
channels_after_shutdown(void)
{
	xchan_val v;
	xchan_chan *c = chan(XCHAN_BUF_FIXED, 2);
	xchan_shutdown();
	if (xchan_put(c, xchan_val_int(1), xt_deadline_s(5)) != XCHAN_OK)
		BAD("put after shutdown failed");
	int32_t e = xchan_take(&v, c, xt_deadline_s(5));
	xchan_chan_release(c);
	return e;
}

static _Atomic int g_cb_runs;

static void
counting_cb(void *u, xchan_result *r)
{
	(void)u;
	xchan_val_release(r->val);
	atomic_fetch_add(&g_cb_runs, 1);
}

/* A dispatched callback after shutdown must still run (inline). */
static int32_t
dispatch_callback_after_shutdown(void)
{
	xchan_chan *c = chan(XCHAN_BUF_NONE, 0);
	xchan_op *op = NULL;
	xchan_shutdown();
	xchan_take_async(&op, c, XCHAN_ASYNC_DISPATCH, counting_cb, NULL);
	int32_t e = xchan_put(c, xchan_val_int(1), xt_deadline_s(5));
	int64_t end = xt_deadline_s(5);
	while (atomic_load(&g_cb_runs) == 0 && xchan_now() < end)
		xt_sleep_ms(1);
	if (atomic_load(&g_cb_runs) != 1)
		BAD("the callback ran %d times", atomic_load(&g_cb_runs));
	xchan_op_release(op);
	xchan_chan_release(c);
	return e;
}

/* A timeout made after shutdown must close (or be refused), not hang. */
static int32_t
timeout_after_shutdown(void)
{
	xchan_chan *t = NULL;
	xchan_val v;
	xchan_shutdown();
	int32_t e = xchan_timeout(&t, 10);
	if (e != XCHAN_OK)
		return e == XCHAN_ESHUTDOWN ? XCHAN_ECLOSED : e;
	e = xchan_take(&v, t, xt_deadline_s(5));
	xchan_chan_release(t);
	return e; /* ECLOSED */
}

static int32_t
shutdown_in_go_body(void *arg, xchan_val *res)
{
	(void)arg;
	*res = xchan_val_int(xchan_shutdown());
	return XCHAN_OK;
}

static int32_t
shutdown_from_a_task(void)
{
	xchan_chan *r;
	xchan_val v;
	int64_t got = -1;
	xchan_go(&r, shutdown_in_go_body, NULL, NULL);
	if (xchan_take(&v, r, xt_deadline_s(10)) != XCHAN_OK)
		BAD("the task did not finish");
	xchan_get_int(v, &got);
	xchan_chan_release(r);
	return (int32_t)got; /* ESTATE */
}

/* ---- the table ---------------------------------------------------------- */

typedef struct row {
	const char *name;
	int32_t (*fn)(void);
	int32_t want;
} row;

static const row rows[] = {
    {"check_version: other major", check_version_other_major, XCHAN_EVERSION},
    {"check_version: negative", check_version_negative, XCHAN_EVERSION},
    {"strerror / err_name: unknown codes", unknown_error_codes, XCHAN_OK},
    {"init: NULL", init_null, XCHAN_EINVAL},
    {"init: size too small", init_size_too_small, XCHAN_EINVAL},
    {"init: only one allocation hook", init_one_hook, XCHAN_EINVAL},
    {"init: after first use", init_after_first_use, XCHAN_ESTATE},
    {"set_log_hook / set_task_error_hook: NULL", log_hook_null, XCHAN_OK},
    {"deadline_in_ms / _ns: out of range", deadlines_out_of_range, XCHAN_OK},
    {"val_string: out NULL", val_string_null_out, XCHAN_EINVAL},
    {"val_string: text NULL, len 3", val_string_null_text, XCHAN_EINVAL},
    {"val_string: invalid UTF-8", val_string_bad_utf8, XCHAN_EINVAL},
    {"val_bytes: NULLs", val_bytes_null, XCHAN_EINVAL},
    {"val_chan: NULLs", val_chan_null, XCHAN_EINVAL},
    {"val_box: out NULL", val_box_null_out, XCHAN_EINVAL},
    {"val_array: a nil item (items released)", val_array_nil_item,
        XCHAN_EINVAL},
    {"val_array: NULLs (items released)", val_array_null_items, XCHAN_EINVAL},
    {"runtime_register: NULLs, missing hook, size", runtime_register_bad,
        XCHAN_EINVAL},
    {"runtime_unregister: unknown, twice", runtime_unregister_twice,
        XCHAN_EINVAL},
    {"val_host / get_host: NULLs, other and gone runtimes", val_host_bad,
        XCHAN_ERUNTIME},
    {"get_*: wrong kind", accessors_wrong_kind, XCHAN_ETYPE},
    {"get_*: out NULL", accessors_null_out, XCHAN_EINVAL},
    {"val_release / retain: nil and scalars", release_nil_and_scalars,
        XCHAN_OK},
    {"xform built-ins: NULL fn, n 0, comp of none", xform_bad_args,
        XCHAN_EINVAL},
    {"xform_new: no step, size, NULLs", xform_new_bad, XCHAN_EINVAL},
    {"emit_push of nil fails the step", emit_nil_fails_the_step, XCHAN_OK},
    {"chan_new / chan_make: bad kinds, capacities, sizes", chan_new_bad,
        XCHAN_EINVAL},
    {"chan_close: NULL, twice", close_null_and_twice, XCHAN_OK},
    {"put / offer: NULL, nil, bad kind, full, closed", put_bad, XCHAN_ECLOSED},
    {"take / poll: NULLs, empty, passed deadline, closed", take_bad,
        XCHAN_ECLOSED},
    {"pending limit: put_async, put, alts, take", pending_limit, XCHAN_ELIMIT},
    {"put_async / take_async: NULLs, nil, notify without handle", async_bad,
        XCHAN_EINVAL},
    {"op_cancel: NULL, twice", cancel_twice, XCHAN_EDONE},
    {"op_cancel_ex: NULLs, twice", cancel_ex_bad, XCHAN_EDONE},
    {"op_collect: NULLs, callback op, pending, twice", collect_bad,
        XCHAN_EDONE},
    {"cancel tokens: NULLs, fired token", cancel_token_bad, XCHAN_ECANCELED},
    {"alts / alts_async: NULLs, n 0, bad op, nil put", alts_bad, XCHAN_ENIL},
    {"timeout: NULLs, negative", timeout_bad, XCHAN_ECLOSED},
    {"chan_info_get: NULLs, size", info_bad, XCHAN_EINVAL},
    {"executors: NULLs, workload 99, factory too late", executor_bad,
        XCHAN_ESTATE},
    {"go / thread / io_thread: NULL fn, opts size", go_bad, XCHAN_EINVAL},
    {"shutdown: twice", shutdown_twice, XCHAN_OK},
    {"after shutdown: go, thread, io_thread, executor_for",
        spawn_after_shutdown, XCHAN_ESHUTDOWN},
    {"after shutdown: channels still work", channels_after_shutdown, XCHAN_OK},
    {"after shutdown: a dispatched callback still runs",
        dispatch_callback_after_shutdown, XCHAN_OK},
    {"after shutdown: a timeout closes or is refused", timeout_after_shutdown,
        XCHAN_ECLOSED},
    {"shutdown from a go task", shutdown_from_a_task, XCHAN_ESTATE},
};

#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))

/* The child: runs the row named by API_ROW. */
XTEST(api_row)
{
	XCHILD_ONLY();
	const char *s = getenv("API_ROW");
	XREQUIRE(s != NULL);
	int i = atoi(s);
	XREQUIRE(i >= 0 && i < NROWS);
	int32_t got = rows[i].fn();
	if (got != rows[i].want)
		fprintf(stderr, "  row \"%s\": got %s, want %s\n", rows[i].name,
		    got == ROW_BAD ? "a wrong result (above)"
		                   : xchan_err_name(got),
		    xchan_err_name(rows[i].want));
	XCHECK_EQ(got, rows[i].want);
}

XTEST(every_public_function_with_bad_input)
{
	if (getenv("XTEST_CHILD"))
		return;
	int failed = 0;
	for (int i = 0; i < NROWS; i++) {
		char env[32], out[4096];
		snprintf(env, sizeof(env), "API_ROW=%d", i);
		int st = xchild_run("api_row", env, "XTEST_DEADLINE_S=20", out,
		    sizeof(out));
		if (xchild_ok(st))
			continue;
		failed++;
		fprintf(stderr, "  row %d \"%s\" failed (%s %d):\n%s", i,
		    rows[i].name,
		    st < 0                 ? "not started"
		    : WIFSIGNALED(st)      ? "killed by signal"
		    : WEXITSTATUS(st) == 3 ? "hung: exit"
		                           : "exit",
		    st < 0 ? -1
		           : (WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st)),
		    out);
	}
	fprintf(stderr, "  %d rows, %d failed\n", NROWS, failed);
	XCHECK_EQ(failed, 0);
}

XTEST_MAIN()
