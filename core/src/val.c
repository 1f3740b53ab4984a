/*
 * val.c — tagged values: constructors, accessors, reference counting, the
 * host runtime table.
 *
 * Concurrency: payload reference counts are atomic (acq_rel on the final
 * decrement so the destroying thread sees every write made through other
 * references).  The runtime table is append-only: a slot is filled under
 * g_rt_lock and published by a release store of g_rt_count; readers use an
 * acquire load and never see a half-filled slot.
 */
#include <string.h>

#include "chan.h"
#include "lock.h"
#include "val.h"

typedef struct blob {
	_Atomic uint32_t refs;
	uint32_t pad;
	size_t len;
	char data[];
} blob;

typedef struct box {
	_Atomic uint32_t refs;
	uint32_t pad;
	void *ptr;
	void (*dtor)(void *);
} box;

typedef struct array {
	_Atomic uint32_t refs;
	uint32_t pad;
	size_t n;
	xchan_val items[];
} array;

#define MAX_RUNTIMES 64
typedef struct runtime_slot {
	void (*retain)(void *, void *);
	void (*release)(void *, void *);
	void *user;
	char name[32];
} runtime_slot;
static runtime_slot g_rt[MAX_RUNTIMES + 1]; /* ids start at 1 */
static _Atomic uint32_t g_rt_count;
static xchan__lock g_rt_lock;

static inline void *
val_ptr(xchan_val v)
{
	return (void *)(uintptr_t)v.bits;
}

static inline xchan_val
mk(uint32_t kind, uint64_t bits)
{
	xchan_val v = {kind, 0, bits};
	return v;
}

xchan_val
xchan_val_nil(void)
{
	return mk(XCHAN_NIL, 0);
}

xchan_val
xchan_val_bool(int32_t b)
{
	return mk(XCHAN_BOOL, b != 0);
}

xchan_val
xchan_val_int(int64_t i)
{
	return mk(XCHAN_INT, (uint64_t)i);
}

xchan_val
xchan_val_double(double d)
{
	uint64_t bits;
	memcpy(&bits, &d, sizeof(bits));
	return mk(XCHAN_DOUBLE, bits);
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static bool
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static int32_t
blob_new(xchan_val *out, uint32_t kind, const void *data, size_t len)
{
	if (out == NULL || (data == NULL && len > 0))
		return XCHAN_EINVAL;
	*out = xchan_val_nil();
	if (len > SIZE_MAX - sizeof(blob) - 1)
		return XCHAN_ENOMEM;
	blob *b = xchan__alloc(sizeof(blob) + len + 1);
	if (b == NULL)
		return XCHAN_ENOMEM;
	atomic_init(&b->refs, 1);
	b->len = len;
	if (len)
		memcpy(b->data, data, len);
	b->data[len] = 0;
	*out = mk(kind, (uint64_t)(uintptr_t)b);
	return XCHAN_OK;
}

int32_t
xchan_val_string(xchan_val *out, const char *utf8, size_t len)
{
	if (utf8 != NULL && !utf8_valid((const unsigned char *)utf8, len)) {
		if (out)
			*out = xchan_val_nil();
		return XCHAN_EINVAL;
	}
	return blob_new(out, XCHAN_STRING, utf8, len);
}

int32_t
xchan_val_bytes(xchan_val *out, const void *data, size_t len)
{
	return blob_new(out, XCHAN_BYTES, data, len);
}

int32_t
xchan_val_chan(xchan_val *out, xchan_chan *ch)
{
	if (out == NULL || ch == NULL)
		return XCHAN_EINVAL;
	*out = mk(XCHAN_CHAN, (uint64_t)(uintptr_t)xchan_chan_retain(ch));
	return XCHAN_OK;
}

int32_t
xchan_val_box(xchan_val *out, void *ptr, void (*dtor)(void *))
{
	if (out == NULL)
		return XCHAN_EINVAL;
	*out = xchan_val_nil();
	box *b = xchan__alloc(sizeof(*b));
	if (b == NULL)
		return XCHAN_ENOMEM;
	atomic_init(&b->refs, 1);
	b->ptr = ptr;
	b->dtor = dtor;
	*out = mk(XCHAN_BOX, (uint64_t)(uintptr_t)b);
	return XCHAN_OK;
}

int32_t
xchan_val_array(xchan_val *out, xchan_val *items, size_t n)
{
	int32_t err = XCHAN_OK;
	if (out == NULL || (items == NULL && n > 0)) {
		err = XCHAN_EINVAL;
		goto fail;
	}
	*out = xchan_val_nil();
	for (size_t i = 0; i < n; i++) {
		if (items[i].kind == XCHAN_NIL ||
		    !xchan__val_kind_valid(items[i])) {
			err = XCHAN_EINVAL;
			goto fail;
		}
	}
	if (n > (SIZE_MAX - sizeof(array)) / sizeof(xchan_val)) {
		err = XCHAN_ENOMEM;
		goto fail;
	}
	array *a = xchan__alloc(sizeof(array) + n * sizeof(xchan_val));
	if (a == NULL) {
		err = XCHAN_ENOMEM;
		goto fail;
	}
	atomic_init(&a->refs, 1);
	a->n = n;
	if (n)
		memcpy(a->items, items, n * sizeof(xchan_val));
	*out = mk(XCHAN_ARRAY, (uint64_t)(uintptr_t)a);
	return XCHAN_OK;
fail:
	/* The array takes its items over even when it fails. */
	if (items)
		xchan__vals_release(items, n);
	return err;
}

int32_t
xchan_runtime_register(uint32_t *out_id, const xchan_runtime *rt)
{
	if (out_id == NULL || rt == NULL || rt->size < sizeof(xchan_runtime) ||
	    rt->retain == NULL || rt->release == NULL)
		return XCHAN_EINVAL;
	xchan__lock_acquire(&g_rt_lock);
	uint32_t n = atomic_load_explicit(&g_rt_count, memory_order_relaxed);
	if (n >= MAX_RUNTIMES) {
		xchan__lock_release(&g_rt_lock);
		return XCHAN_ELIMIT;
	}
	runtime_slot *s = &g_rt[n + 1];
	s->retain = rt->retain;
	s->release = rt->release;
	s->user = rt->user;
	if (rt->name) {
		strncpy(s->name, rt->name, sizeof(s->name) - 1);
	}
	/* Publishes the filled slot to lock-free readers. */
	atomic_store_explicit(&g_rt_count, n + 1, memory_order_release);
	xchan__lock_release(&g_rt_lock);
	*out_id = n + 1;
	return XCHAN_OK;
}

static const runtime_slot *
runtime_get(uint32_t id)
{
	if (id == 0 ||
	    id > atomic_load_explicit(&g_rt_count, memory_order_acquire))
		return NULL;
	return &g_rt[id];
}

int32_t
xchan_val_host(xchan_val *out, uint32_t runtime_id, void *obj)
{
	if (out == NULL || obj == NULL)
		return XCHAN_EINVAL;
	*out = xchan_val_nil();
	if (runtime_get(runtime_id) == NULL)
		return XCHAN_ERUNTIME;
	xchan_val v = {XCHAN_HOST, runtime_id, (uint64_t)(uintptr_t)obj};
	*out = v;
	return XCHAN_OK;
}

xchan_val
xchan_val_retain(xchan_val v)
{
	switch (v.kind) {
	case XCHAN_STRING:
	case XCHAN_BYTES:
		/* Relaxed: taking a new reference needs no ordering, the
		 * caller already holds one. */
		atomic_fetch_add_explicit(&((blob *)val_ptr(v))->refs, 1,
		    memory_order_relaxed);
		break;
	case XCHAN_BOX:
		atomic_fetch_add_explicit(&((box *)val_ptr(v))->refs, 1,
		    memory_order_relaxed);
		break;
	case XCHAN_ARRAY:
		atomic_fetch_add_explicit(&((array *)val_ptr(v))->refs, 1,
		    memory_order_relaxed);
		break;
	case XCHAN_CHAN:
		xchan_chan_retain(val_ptr(v));
		break;
	case XCHAN_HOST: {
		const runtime_slot *rt = runtime_get(v.aux);
		if (rt)
			rt->retain(rt->user, val_ptr(v));
		break;
	}
	default:
		break;
	}
	return v;
}

void
xchan_val_release(xchan_val v)
{
	switch (v.kind) {
	case XCHAN_STRING:
	case XCHAN_BYTES: {
		blob *b = val_ptr(v);
		if (atomic_fetch_sub_explicit(&b->refs, 1,
		        memory_order_acq_rel) == 1)
			xchan__free(b, sizeof(blob) + b->len + 1);
		break;
	}
	case XCHAN_BOX: {
		box *b = val_ptr(v);
		if (atomic_fetch_sub_explicit(&b->refs, 1,
		        memory_order_acq_rel) == 1) {
			if (b->dtor)
				b->dtor(b->ptr);
			xchan__free(b, sizeof(*b));
		}
		break;
	}
	case XCHAN_ARRAY: {
		array *a = val_ptr(v);
		if (atomic_fetch_sub_explicit(&a->refs, 1,
		        memory_order_acq_rel) == 1) {
			xchan__vals_release(a->items, a->n);
			xchan__free(a,
			    sizeof(array) + a->n * sizeof(xchan_val));
		}
		break;
	}
	case XCHAN_CHAN:
		xchan_chan_release(val_ptr(v));
		break;
	case XCHAN_HOST: {
		const runtime_slot *rt = runtime_get(v.aux);
		if (rt)
			rt->release(rt->user, val_ptr(v));
		break;
	}
	default:
		break;
	}
}

void
xchan__vals_release(xchan_val *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xchan_val_release(vals[i]);
}

/* ---- accessors ----------------------------------------------------------- */

#define GET_CHECK(v, k, out)                                                   \
	do {                                                                   \
		if ((out) == NULL)                                             \
			return XCHAN_EINVAL;                                   \
		if ((v).kind != (k))                                           \
			return XCHAN_ETYPE;                                    \
	} while (0)

int32_t
xchan_get_bool(xchan_val v, int32_t *out)
{
	GET_CHECK(v, XCHAN_BOOL, out);
	*out = v.bits != 0;
	return XCHAN_OK;
}

int32_t
xchan_get_int(xchan_val v, int64_t *out)
{
	GET_CHECK(v, XCHAN_INT, out);
	*out = (int64_t)v.bits;
	return XCHAN_OK;
}

int32_t
xchan_get_double(xchan_val v, double *out)
{
	GET_CHECK(v, XCHAN_DOUBLE, out);
	memcpy(out, &v.bits, sizeof(*out));
	return XCHAN_OK;
}

static int32_t
get_blob(xchan_val v, uint32_t kind, const void **out, size_t *len)
{
	if (len == NULL)
		return XCHAN_EINVAL;
	GET_CHECK(v, kind, out);
	const blob *b = val_ptr(v);
	*out = b->data;
	*len = b->len;
	return XCHAN_OK;
}

int32_t
xchan_get_string(xchan_val v, const char **out, size_t *len)
{
	return get_blob(v, XCHAN_STRING, (const void **)out, len);
}

int32_t
xchan_get_bytes(xchan_val v, const void **out, size_t *len)
{
	return get_blob(v, XCHAN_BYTES, out, len);
}

int32_t
xchan_get_chan(xchan_val v, xchan_chan **out)
{
	GET_CHECK(v, XCHAN_CHAN, out);
	*out = val_ptr(v);
	return XCHAN_OK;
}

int32_t
xchan_get_box(xchan_val v, void **out)
{
	GET_CHECK(v, XCHAN_BOX, out);
	*out = ((box *)val_ptr(v))->ptr;
	return XCHAN_OK;
}

int32_t
xchan_get_array(xchan_val v, const xchan_val **items, size_t *n)
{
	if (n == NULL)
		return XCHAN_EINVAL;
	GET_CHECK(v, XCHAN_ARRAY, items);
	const array *a = val_ptr(v);
	*items = a->items;
	*n = a->n;
	return XCHAN_OK;
}

int32_t
xchan_get_host(xchan_val v, uint32_t runtime_id, void **out)
{
	GET_CHECK(v, XCHAN_HOST, out);
	if (v.aux != runtime_id)
		return XCHAN_ERUNTIME;
	*out = val_ptr(v);
	return XCHAN_OK;
}

int32_t
xchan_val_equal(xchan_val a, xchan_val b)
{
	if (a.kind != b.kind)
		return 0;
	switch (a.kind) {
	case XCHAN_STRING:
	case XCHAN_BYTES: {
		const blob *x = val_ptr(a), *y = val_ptr(b);
		return x->len == y->len &&
		       memcmp(x->data, y->data, x->len) == 0;
	}
	case XCHAN_ARRAY: {
		const array *x = val_ptr(a), *y = val_ptr(b);
		if (x->n != y->n)
			return 0;
		for (size_t i = 0; i < x->n; i++)
			if (!xchan_val_equal(x->items[i], y->items[i]))
				return 0;
		return 1;
	}
	case XCHAN_DOUBLE: {
		double x, y;
		memcpy(&x, &a.bits, sizeof(x));
		memcpy(&y, &b.bits, sizeof(y));
		return x == y;
	}
	default:
		return a.aux == b.aux && a.bits == b.bits;
	}
}

const char *
xchan_kind_name(uint32_t kind)
{
	static const char *const names[] = {"nil", "bool", "int", "double",
	    "string", "bytes", "chan", "box", "host", "array"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind]
	                                               : "unknown";
}
