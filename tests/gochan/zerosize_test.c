/*
 * zerosize_test.c — after Go's test/chan/zerosize.go (channels of a
 * zero-sized type): values with an empty payload (an empty string, empty
 * bytes, an empty array) pass through unbuffered and one-slot channels,
 * sent from another task, and arrive intact with length 0.
 */
#include "gochan.h"

typedef struct zarg {
	xchan_chan *c;
} zarg;

static int32_t
sender(void *arg, xchan_val *res)
{
	zarg *z = arg;
	xchan_val s, b, a;
	XCHECK_ERR(xchan_val_string(&s, "", 0), XCHAN_OK);
	XCHECK_ERR(xchan_val_bytes(&b, NULL, 0), XCHAN_OK);
	XCHECK_ERR(xchan_val_array(&a, NULL, 0), XCHAN_OK);
	XCHECK_ERR(xchan_put(z->c, s, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_put(z->c, b, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_put(z->c, a, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

static void
through(uint64_t cap)
{
	zarg z = {chan_(cap)};
	go_(sender, &z);
	xchan_val v;
	const char *text;
	const void *data;
	const xchan_val *items;
	size_t len = 99;
	XCHECK_ERR(xchan_take(&v, z.c, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_get_string(v, &text, &len), XCHAN_OK);
	XCHECK_EQ(len, 0);
	xchan_val_release(v);
	len = 99;
	XCHECK_ERR(xchan_take(&v, z.c, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_get_bytes(v, &data, &len), XCHAN_OK);
	XCHECK_EQ(len, 0);
	xchan_val_release(v);
	len = 99;
	XCHECK_ERR(xchan_take(&v, z.c, XCHAN_DEADLINE_NEVER), XCHAN_OK);
	XCHECK_ERR(xchan_get_array(v, &items, &len), XCHAN_OK);
	XCHECK_EQ(len, 0);
	xchan_val_release(v);
	XCHECK(join_task_(atomic_load(&gochan_ntasks) - 1));
	xchan_chan_release(z.c);
}

static int32_t
program(void *arg, xchan_val *res)
{
	(void)arg;
	through(0);
	through(1);
	*res = xchan_val_nil();
	return XCHAN_OK;
}

GOCHAN_TESTS(zerosize, program)

XTEST_MAIN()
