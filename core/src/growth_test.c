/*
 * growth_test.c — struct growth (issue 9, §5; docs/api-stability.md):
 * every size from a struct's first version on is accepted and read only as
 * far as it goes (the rest reads as zero), a larger size from a newer
 * header is accepted without reading past the library's own fields, sizes
 * below the first version are XCHAN_EINVAL, and options too small to be
 * accepted do not leak what they were handed.
 */
#include <stdatomic.h>
#include <string.h>

#include "common.h"
#include "testing/xchild.h"
#include "testing/xtest.h"

/* A caller's struct followed by bytes a newer header would have added:
 * poison that an old library must not read. */
#define WITH_TAIL(type)                                                        \
	struct {                                                               \
		type s;                                                        \
		unsigned char tail[64];                                        \
	}

/* ---- xchan_init_params of the 0.1 size ----------------------------------------- */

static _Atomic long g_allocs;

static void *
count_alloc(void *user, size_t size)
{
	(void)user;
	atomic_fetch_add(&g_allocs, 1);
	return malloc(size);
}

static void
count_free(void *user, void *p, size_t size)
{
	(void)user;
	(void)size;
	free(p);
}

XTEST(child_init_params_of_0_1_size)
{
	XCHILD_ONLY();
	/* A 0.1 binary's struct: 32 bytes, followed here by garbage where
	 * 0.2's flags and thread hooks would be. */
	union {
		xchan_init_params p;
		unsigned char bytes[sizeof(xchan_init_params)];
	} u;
	memset(u.bytes, 0xA5, sizeof(u.bytes));
	u.p.size = XCHAN__INIT_PARAMS_V1_SIZE;
	u.p.reserved = 0;
	u.p.alloc = count_alloc;
	u.p.free = count_free;
	u.p.alloc_user = NULL;
	XCHECK_EQ(u.p.size, 32);
	XCHECK_ERR(xchan_init(&u.p), XCHAN_OK);
	XCHECK_EQ(xchan__init_flags(), 0); /* garbage beyond size not read */
	xchan_val v;
	XCHECK_ERR(xchan_val_string(&v, "x", 1), XCHAN_OK);
	XCHECK(atomic_load(&g_allocs) >= 1);
	xchan_val_release(v);
	/* xchan's threads work: no thread hooks were read from the garbage */
	xchan_chan *t;
	XCHECK_ERR(xchan_timeout(&t, 1), XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, t, xchan_deadline_in_ms(10000)),
	    XCHAN_ECLOSED);
	xchan_chan_release(t);
}

XTEST(child_init_params_too_small)
{
	XCHILD_ONLY();
	xchan_init_params p = {.size = XCHAN__INIT_PARAMS_V1_SIZE - 8};
	XCHECK_ERR(xchan_init(&p), XCHAN_EINVAL);
	p.size = XCHAN__INIT_PARAMS_V1_SIZE;
	XCHECK_ERR(xchan_init(&p), XCHAN_OK);
}

XTEST(init_params_first_version_size)
{
	char out[4096];
	XCHECK(xchild_ok(xchild_run("child_init_params_of_0_1_size", NULL, NULL,
	    out, sizeof(out))));
	XCHECK(xchild_ok(xchild_run("child_init_params_too_small", NULL, NULL,
	    out, sizeof(out))));
}

/* ---- a newer caller's larger structs ---------------------------------------------- */

static int32_t
one(void *arg, xchan_val *out)
{
	(void)arg;
	*out = xchan_val_int(1);
	return XCHAN_OK;
}

static _Atomic int g_destroyed;
static int32_t
id_step(void *st, xchan_val in, xchan_emit *out)
{
	(void)st;
	return xchan_emit_push(out, in);
}
static void
count_destroy(void *st)
{
	(void)st;
	atomic_fetch_add(&g_destroyed, 1);
}

XTEST(larger_structs_from_newer_headers)
{
	WITH_TAIL(xchan_chan_opts) co;
	memset(&co, 0x5A, sizeof(co));
	co.s = (xchan_chan_opts) {.size = sizeof(co),
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 2};
	xchan_chan *ch;
	XCHECK_ERR(xchan_chan_new(&ch, &co.s), XCHAN_OK);
	WITH_TAIL(xchan_chan_info) info;
	memset(&info, 0x5A, sizeof(info));
	info.s.size = sizeof(info);
	XCHECK_ERR(xchan_chan_info_get(&info.s, ch), XCHAN_OK);
	XCHECK_EQ(info.s.capacity, 2);
	XCHECK_EQ(info.tail[0], 0x5A); /* nothing written past its fields */
	/* an old caller's info of the first size gets exactly that much */
	xchan_chan_info small;
	memset(&small, 0x5A, sizeof(small));
	small.size = XCHAN__CHAN_INFO_V1_SIZE;
	XCHECK_ERR(xchan_chan_info_get(&small, ch), XCHAN_OK);
	XCHECK_EQ(small.capacity, 2);
	small.size = XCHAN__CHAN_INFO_V1_SIZE - 1;
	XCHECK_ERR(xchan_chan_info_get(&small, ch), XCHAN_EINVAL);
	xchan_chan_release(ch);

	WITH_TAIL(xchan_go_opts) go;
	memset(&go, 0x5A, sizeof(go));
	go.s = (xchan_go_opts) {.size = sizeof(go), .name = "bigger"};
	xchan_chan *r;
	XCHECK_ERR(xchan_thread(&r, one, NULL, &go.s), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	xchan_chan_release(r);
	XCHECK_ERR(xchan_go(&r, one, NULL, &go.s), XCHAN_OK);
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	xchan_chan_release(r);

	WITH_TAIL(xchan_xform_vtbl) xv;
	memset(&xv, 0x5A, sizeof(xv));
	xv.s = (xchan_xform_vtbl) {.size = sizeof(xv),
	    .step = id_step,
	    .destroy = count_destroy};
	xchan_xform *xf;
	XCHECK_ERR(xchan_xform_new(&xf, &xv.s, NULL), XCHAN_OK);
	xchan_xform_free(xf);
	XCHECK_EQ(atomic_load(&g_destroyed), 1);
}

/* ---- first-version sizes and below ------------------------------------------------- */

static _Atomic int g_closed;
static int32_t
ex_execute(void *self, xchan_task_fn fn, void *arg)
{
	(void)self;
	(void)fn;
	(void)arg;
	return XCHAN_ESHUTDOWN;
}
static void
ex_close(void *self)
{
	(void)self;
	atomic_fetch_add(&g_closed, 1);
}

static void
rt_release(void *user, void *obj)
{
	(void)user;
	(void)obj;
}

XTEST(first_version_sizes_accepted_smaller_rejected)
{
	/* executor vtable without `close` (size 16): the close field beyond
	 * it is not read, even if it holds a function */
	xchan_executor_vtbl vt = {XCHAN__EXECUTOR_VTBL_V1_SIZE, 0, ex_execute,
	    ex_close};
	xchan_executor *e;
	XCHECK_ERR(xchan_executor_new(&e, &vt, NULL), XCHAN_OK);
	vt.size = XCHAN__EXECUTOR_VTBL_V1_SIZE - 1;
	XCHECK_ERR(xchan_executor_new(&e, &vt, NULL), XCHAN_EINVAL);

	xchan_go_opts go = {.size = XCHAN__GO_OPTS_V1_SIZE - 8, .name = "x"};
	xchan_chan *r = NULL;
	XCHECK_ERR(xchan_thread(&r, one, NULL, &go), XCHAN_EINVAL);
	XCHECK_ERR(xchan_go(&r, one, NULL, &go), XCHAN_EINVAL);
	go.size = XCHAN__GO_OPTS_V1_SIZE;
	XCHECK_ERR(xchan_thread(&r, one, NULL, &go), XCHAN_OK);
	xchan_val v;
	XCHECK_ERR(xchan_take(&v, r, xchan_deadline_in_ms(10000)), XCHAN_OK);
	xchan_chan_release(r);

	xchan_runtime rt = {XCHAN__RUNTIME_V1_SIZE - 8, 0, "x", NULL,
	    rt_release, NULL};
	uint32_t id;
	XCHECK_ERR(xchan_runtime_register(&id, &rt), XCHAN_EINVAL);
	rt.size = XCHAN__RUNTIME_V1_SIZE;
	XCHECK_ERR(xchan_runtime_register(&id, &rt), XCHAN_OK);
	XCHECK_ERR(xchan_runtime_unregister(id), XCHAN_OK);

	xchan_xform_vtbl xv = {XCHAN__XFORM_VTBL_V1_SIZE - 8, 0, id_step, NULL,
	    NULL};
	xchan_xform *xf;
	XCHECK_ERR(xchan_xform_new(&xf, &xv, NULL), XCHAN_EINVAL);

	xchan_pipeline_opts po = {.size = XCHAN__PIPELINE_OPTS_V1_SIZE - 8};
	xchan_chan *a, *b, *done = NULL;
	XREQUIRE(xchan_chan_make(&a, XCHAN_BUF_FIXED, 1) == XCHAN_OK);
	XREQUIRE(xchan_chan_make(&b, XCHAN_BUF_FIXED, 1) == XCHAN_OK);
	XCHECK_ERR(xchan_pipeline_async(&done, 1, b, a, 1, NULL, NULL, &po),
	    XCHAN_EINVAL);
	xchan_chan_release(a);
	xchan_chan_release(b);
}

/* ---- too-small options do not leak what they were handed ---------------------------- */

static xchan_xform *
counted_xform(void)
{
	xchan_xform_vtbl xv = {sizeof(xv), 0, id_step, NULL, count_destroy};
	xchan_xform *xf = NULL;
	XCHECK_ERR(xchan_xform_new(&xf, &xv, NULL), XCHAN_OK);
	return xf;
}

XTEST(too_small_options_free_their_xform)
{
	atomic_store(&g_destroyed, 0);
	/* reaches the xform field but is below the first version */
	size_t reach = XCHAN__END_OF(xchan_chan_opts, xform);
	XREQUIRE(reach < XCHAN__CHAN_OPTS_V1_SIZE);
	xchan_chan_opts o = {.size = (uint32_t)reach,
	    .buf_kind = XCHAN_BUF_FIXED,
	    .capacity = 1,
	    .xform = counted_xform()};
	xchan_chan *ch = NULL;
	XCHECK_ERR(xchan_chan_new(&ch, &o), XCHAN_EINVAL);
	XCHECK_EQ(atomic_load(&g_destroyed), 1);

	/* the combinators' output options follow the same rule */
	xchan_chan *src;
	XREQUIRE(xchan_chan_make(&src, XCHAN_BUF_FIXED, 1) == XCHAN_OK);
	o.xform = counted_xform();
	xchan_chan *out = NULL, *done = NULL;
	XCHECK_ERR(xchan_merge(&out, &done, &src, 1, &o), XCHAN_EINVAL);
	XCHECK_EQ(atomic_load(&g_destroyed), 2);
	o.xform = counted_xform();
	XCHECK_ERR(xchan_take_n(&out, &done, src, 1, &o), XCHAN_EINVAL);
	XCHECK_EQ(atomic_load(&g_destroyed), 3);
	xchan_chan_release(src);

	/* below the xform field the library cannot read it: the caller's */
	xchan_xform *mine = counted_xform();
	o.size = (uint32_t)offsetof(xchan_chan_opts, xform);
	o.xform = mine;
	XCHECK_ERR(xchan_chan_new(&ch, &o), XCHAN_EINVAL);
	XCHECK_EQ(atomic_load(&g_destroyed), 3);
	xchan_xform_free(mine);
	XCHECK_EQ(atomic_load(&g_destroyed), 4);
}

XTEST_MAIN()
