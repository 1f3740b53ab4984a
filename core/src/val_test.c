/*
 * val_test.c — values, errors, versions, host runtimes, init, and
 * out-of-memory sweeps over the constructors.
 */
#include "common.h"
#include "testing/xtest.h"
#include "testing/xthread.h"

XTEST(scalars_and_accessors)
{
	int64_t i;
	double d;
	int32_t b;
	XCHECK_ERR(xchan_get_int(xchan_val_int(-5), &i), XCHAN_OK);
	XCHECK_EQ(i, -5);
	XCHECK_ERR(xchan_get_double(xchan_val_double(1.25), &d), XCHAN_OK);
	XCHECK(d == 1.25);
	XCHECK_ERR(xchan_get_bool(xchan_val_bool(7), &b), XCHAN_OK);
	XCHECK_EQ(b, 1);
	XCHECK_ERR(xchan_get_int(xchan_val_double(1.0), &i), XCHAN_ETYPE);
	XCHECK_ERR(xchan_get_int(xchan_val_int(1), NULL), XCHAN_EINVAL);
	XCHECK_EQ(xchan_val_nil().kind, XCHAN_NIL);
	XCHECK(!strcmp(xchan_kind_name(XCHAN_STRING), "string"));
	XCHECK(!strcmp(xchan_kind_name(99), "unknown"));
}

XTEST(strings_bytes_arrays)
{
	xchan_val s, t, bad;
	XCHECK_ERR(xchan_val_string(&s, "abc", 3), XCHAN_OK);
	XCHECK_ERR(xchan_val_string(&bad, "\xff\xfe", 2), XCHAN_EINVAL);
	XCHECK_ERR(xchan_val_string(&bad, "\xed\xa0\x80", 3),
	    XCHAN_EINVAL); /* surrogate */
	XCHECK_ERR(xchan_val_string(&bad, "\xc0\x80", 2),
	    XCHAN_EINVAL); /* overlong */
	XCHECK_ERR(xchan_val_string(&t, "", 0), XCHAN_OK);
	XCHECK(xchan_val_equal(s, s));
	XCHECK(!xchan_val_equal(s, t));
	xchan_val items[2] = {xchan_val_retain(s), xchan_val_int(3)};
	xchan_val arr;
	XCHECK_ERR(xchan_val_array(&arr, items, 2), XCHAN_OK);
	const xchan_val *got;
	size_t n;
	XCHECK_ERR(xchan_get_array(arr, &got, &n), XCHAN_OK);
	XCHECK(n == 2 && xchan_val_equal(got[0], s));
	xchan_val copy = xchan_val_retain(arr);
	XCHECK(xchan_val_equal(copy, arr));
	xchan_val_release(copy);
	xchan_val_release(arr);
	xchan_val nil_items[1] = {xchan_val_nil()};
	XCHECK_ERR(xchan_val_array(&arr, nil_items, 1), XCHAN_EINVAL);
	xchan_val_release(s);
	xchan_val_release(t);
}

static _Atomic int g_dtor_calls;
static void
dtor(void *p)
{
	XCHECK(p == (void *)&g_dtor_calls);
	atomic_fetch_add(&g_dtor_calls, 1);
}

XTEST(box_destructor_runs_once)
{
	xchan_val b;
	XCHECK_ERR(xchan_val_box(&b, (void *)&g_dtor_calls, dtor), XCHAN_OK);
	xchan_val c = xchan_val_retain(b);
	xchan_val_release(b);
	XCHECK_EQ(atomic_load(&g_dtor_calls), 0);
	void *p;
	XCHECK_ERR(xchan_get_box(c, &p), XCHAN_OK);
	xchan_val_release(c);
	XCHECK_EQ(atomic_load(&g_dtor_calls), 1);
	/* a sliding buffer drops the oldest: the channel releases it */
	xchan_chan *ch;
	xchan_chan_make(&ch, XCHAN_BUF_SLIDING, 1);
	xchan_val_box(&b, (void *)&g_dtor_calls, dtor);
	xchan_put(ch, b, XCHAN_DEADLINE_NEVER);
	xchan_put(ch, xchan_val_int(1), XCHAN_DEADLINE_NEVER);
	XCHECK_EQ(atomic_load(&g_dtor_calls), 2);
	xchan_chan_release(ch);
}

typedef struct fake_obj {
	_Atomic int refs;
} fake_obj;
static void
rt_retain(void *user, void *obj)
{
	(void)user;
	atomic_fetch_add(&((fake_obj *)obj)->refs, 1);
}
static void
rt_release(void *user, void *obj)
{
	(void)user;
	atomic_fetch_sub(&((fake_obj *)obj)->refs, 1);
}

XTEST(host_runtimes)
{
	xchan_runtime rt = {sizeof(rt), 0, "fake", rt_retain, rt_release, NULL};
	uint32_t id1, id2;
	XCHECK_ERR(xchan_runtime_register(&id1, &rt), XCHAN_OK);
	XCHECK_ERR(xchan_runtime_register(&id2, &rt), XCHAN_OK);
	XCHECK(id1 > 0 && id2 != id1);
	xchan_runtime bad = {4, 0, "x", rt_retain, rt_release, NULL};
	XCHECK_ERR(xchan_runtime_register(&id2, &bad), XCHAN_EINVAL);
	fake_obj o = {1};
	xchan_val v;
	XCHECK_ERR(xchan_val_host(&v, id1, &o), XCHAN_OK);
	/* The core counts copies itself: retain never calls the host. */
	xchan_val c = xchan_val_retain(v);
	XCHECK_EQ(atomic_load(&o.refs), 1);
	void *p;
	XCHECK_ERR(xchan_get_host(v, id1, &p), XCHAN_OK);
	XCHECK(p == &o);
	XCHECK_ERR(xchan_get_host(v, id2, &p),
	    XCHAN_ERUNTIME); /* other runtime */
	xchan_val w;
	XCHECK_ERR(xchan_val_host(&w, 63, &o), XCHAN_ERUNTIME);
	xchan_val_release(c);
	XCHECK_EQ(atomic_load(&o.refs), 1); /* v still holds it */
	xchan_val_release(v);
	XCHECK_EQ(atomic_load(&o.refs), 0);
	atomic_store(&o.refs, 1);
	/* channel freed with a host value left: released through the hook */
	xchan_chan *ch;
	xchan_chan_make(&ch, XCHAN_BUF_FIXED, 1);
	xchan_val_host(&v, id1, &o);
	xchan_put(ch, v, XCHAN_DEADLINE_NEVER);
	xchan_chan_release(ch);
	XCHECK_EQ(atomic_load(&o.refs), 0);
}

XTEST(errors_and_versions)
{
	for (int e = 0; e < XCHAN_ERR_COUNT_; e++) {
		XCHECK(strcmp(xchan_strerror(e), "unknown error") != 0);
		XCHECK(strcmp(xchan_err_name(e), "EUNKNOWN") != 0);
	}
	XCHECK(!strcmp(xchan_err_name(XCHAN_ECLOSED), "ECLOSED"));
	XCHECK(!strcmp(xchan_err_name(-1), "EUNKNOWN"));
	XCHECK(!strcmp(xchan_strerror(1000), "unknown error"));
	XCHECK_EQ(xchan_version_number(), XCHAN_VERSION_NUMBER);
	XCHECK_ERR(xchan_check_version(XCHAN_VERSION_NUMBER), XCHAN_OK);
	XCHECK_ERR(xchan_check_version(XCHAN_VERSION_NUMBER + 10000),
	    XCHAN_EVERSION);
	XCHECK_ERR(xchan_check_version(XCHAN_VERSION_NUMBER + 100),
	    XCHAN_EVERSION);
	XCHECK(strlen(xchan_version_string()) >= 5);
	/* initialised already (first use): later init is refused */
	xchan_init_params p = {.size = sizeof(p)};
	XCHECK_ERR(xchan_init(&p), XCHAN_ESTATE);
	XCHECK_ERR(xchan_init(NULL), XCHAN_EINVAL);
}

/* Out-of-memory sweep: the N-th allocation fails, for N = 1.. until the
 * call succeeds; every failure is a clean ENOMEM (ASan/LSan check leaks). */
XTEST(out_of_memory_sweeps)
{
	int saw_enomem = 0;
	for (long n = 1; n < 20; n++) {
		xchan__fail_alloc_after(n);
		xchan_chan *ch = NULL;
		int32_t e = xchan_chan_make(&ch, XCHAN_BUF_FIXED, 4);
		xchan__fail_alloc_after(0);
		if (e == XCHAN_ENOMEM) {
			saw_enomem++;
			XCHECK(ch == NULL);
			continue;
		}
		XCHECK_ERR(e, XCHAN_OK);
		xchan_chan_release(ch);
		break;
	}
	XCHECK(saw_enomem >= 1);
	for (long n = 1; n < 20; n++) {
		xchan_xform *xf = NULL;
		xchan__fail_alloc_after(n);
		int32_t e = xchan_xform_partition_all(&xf, 3);
		xchan__fail_alloc_after(0);
		if (e == XCHAN_OK) {
			xchan_xform_free(xf);
			break;
		}
		XCHECK_ERR(e, XCHAN_ENOMEM);
	}
	for (long n = 1; n < 20; n++) {
		xchan_val v;
		xchan__fail_alloc_after(n);
		int32_t e = xchan_val_string(&v, "x", 1);
		xchan__fail_alloc_after(0);
		if (e == XCHAN_OK) {
			xchan_val_release(v);
			break;
		}
		XCHECK_ERR(e, XCHAN_ENOMEM);
		XCHECK_EQ(v.kind, XCHAN_NIL);
	}
	/* a put that must queue asynchronously but cannot allocate its op */
	xchan_chan *u;
	xchan_chan_make(&u, XCHAN_BUF_NONE, 0);
	xt_rec r = {0};
	xchan__fail_alloc_after(1);
	XCHECK_ERR(xchan_put_async(NULL, u, xchan_val_int(1), 0, xt_record, &r),
	    XCHAN_ENOMEM);
	xchan__fail_alloc_after(0);
	XCHECK_EQ(atomic_load(&r.calls), 0);
	xchan_chan_release(u);
}

XTEST_MAIN()
