/*
 * val.c — tagged values: constructors, accessors, reference counting.
 *
 * Design notes
 *  - A value is 16 bytes: kind, aux (a HOST value's runtime id, else 0) and
 *    a payload word.  The reference kinds point at core-allocated records
 *    whose reference counts are atomic (relaxed increments: the caller
 *    already holds a reference; acq_rel on the final decrement so the
 *    destroying thread sees every write made through other references).
 *  - The core owns the reference count of host values too: a HOST value
 *    points at a `host_rec` {refs, runtime record, obj}.  Copying a value
 *    (xchan_val_retain) never calls the host, so it is safe under any lock
 *    and on any thread; the runtime's release hook runs exactly once, when
 *    the last copy is released, through xchan__rt_release_obj (runtime.c:
 *    never under a lock, never into an unregistered runtime).
 *  - STRING/BYTES made with xchan_val_string_host/_bytes_host are ordinary
 *    blobs that also hold a host object and a reference to its runtime's
 *    record; the object goes back to its runtime when the blob dies.
 *  - No locks in this file.
 */
#include <string.h>

#include "chan.h"
#include "debugcheck.h"
#include "runtime.h"
#include "val.h"

typedef struct blob {
	_Atomic uint32_t refs;
	uint32_t pad;
	size_t len;
	xchan__rt *rt; /* with a host object: its runtime (a reference) */
	void *obj;     /* the host object, or NULL */
	char data[];
} blob;

typedef struct host_rec {
	_Atomic uint32_t refs;
	uint32_t pad;
	xchan__rt *rt; /* a reference to the runtime's record */
	void *obj;
} host_rec;

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
	b->rt = NULL;
	b->obj = NULL;
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

/* ---- host values ---------------------------------------------------------- */

int32_t
xchan_val_host(xchan_val *out, uint32_t runtime_id, void *obj)
{
	if (out == NULL || obj == NULL)
		return XCHAN_EINVAL;
	*out = xchan_val_nil();
	if (xchan__forked())
		return XCHAN_EFORK; /* the runtime table's lock may be stale */
	xchan__rt *rt = xchan__rt_get(runtime_id);
	if (rt == NULL)
		return XCHAN_ERUNTIME;
	host_rec *h = xchan__alloc(sizeof(*h));
	if (h == NULL) {
		/* The caller keeps its reference to obj. */
		xchan__rt_unget(rt);
		return XCHAN_ENOMEM;
	}
	atomic_init(&h->refs, 1);
	h->pad = 0;
	h->rt = rt;
	h->obj = obj;
	xchan_val v = {XCHAN_HOST, runtime_id, (uint64_t)(uintptr_t)h};
	*out = v;
	return XCHAN_OK;
}

static int32_t
blob_host(xchan_val *out, uint32_t kind, const void *data, size_t len,
    uint32_t runtime_id, void *obj)
{
	if (out != NULL)
		*out = xchan_val_nil();
	if (obj == NULL)
		return XCHAN_EINVAL;
	if (xchan__forked())
		return XCHAN_EFORK; /* obj stays the caller's, as for ERUNTIME */
	xchan__rt *rt = xchan__rt_get(runtime_id);
	if (rt == NULL)
		return XCHAN_ERUNTIME; /* no runtime to give obj back to */
	int32_t err;
	if (kind == XCHAN_STRING && data != NULL &&
	    !utf8_valid((const unsigned char *)data, len))
		err = XCHAN_EINVAL;
	else
		err = blob_new(out, kind, data, len);
	if (err != XCHAN_OK) {
		/* Takes obj over even on error (the header says so). */
		xchan__rt_release_obj(rt, obj);
		return err;
	}
	blob *b = val_ptr(*out);
	b->rt = rt;
	b->obj = obj;
	return XCHAN_OK;
}

int32_t
xchan_val_string_host(xchan_val *out, const char *utf8, size_t len,
    uint32_t runtime_id, void *obj)
{
	return blob_host(out, XCHAN_STRING, utf8, len, runtime_id, obj);
}

int32_t
xchan_val_bytes_host(xchan_val *out, const void *data, size_t len,
    uint32_t runtime_id, void *obj)
{
	return blob_host(out, XCHAN_BYTES, data, len, runtime_id, obj);
}

/* ---- reference counting ----------------------------------------------------- */

xchan_val
xchan_val_retain(xchan_val v)
{
	/* Relaxed: taking a new reference needs no ordering, the caller
	 * already holds one.  Never calls the host. */
	XCHAN__DBG_VAL(v);
	switch (v.kind) {
	case XCHAN_STRING:
	case XCHAN_BYTES:
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
	case XCHAN_HOST:
		atomic_fetch_add_explicit(&((host_rec *)val_ptr(v))->refs, 1,
		    memory_order_relaxed);
		break;
	default:
		break;
	}
	return v;
}

void
xchan_val_release(xchan_val v)
{
	XCHAN__DBG_VAL(v);
	switch (v.kind) {
	case XCHAN_STRING:
	case XCHAN_BYTES: {
		blob *b = val_ptr(v);
		if (atomic_fetch_sub_explicit(&b->refs, 1,
		        memory_order_acq_rel) == 1) {
			xchan__rt *rt = b->rt;
			void *obj = b->obj;
			xchan__retire(b, sizeof(blob) + b->len + 1, 0);
			if (rt != NULL)
				xchan__rt_release_obj(rt, obj);
		}
		break;
	}
	case XCHAN_BOX: {
		box *b = val_ptr(v);
		if (atomic_fetch_sub_explicit(&b->refs, 1,
		        memory_order_acq_rel) == 1) {
			if (b->dtor)
				b->dtor(b->ptr);
			xchan__retire(b, sizeof(*b), 0);
		}
		break;
	}
	case XCHAN_ARRAY: {
		array *a = val_ptr(v);
		if (atomic_fetch_sub_explicit(&a->refs, 1,
		        memory_order_acq_rel) == 1) {
			xchan__vals_release(a->items, a->n);
			xchan__retire(a,
			    sizeof(array) + a->n * sizeof(xchan_val), 0);
		}
		break;
	}
	case XCHAN_CHAN:
		xchan_chan_release(val_ptr(v));
		break;
	case XCHAN_HOST: {
		host_rec *h = val_ptr(v);
		if (atomic_fetch_sub_explicit(&h->refs, 1,
		        memory_order_acq_rel) == 1) {
			xchan__rt *rt = h->rt;
			void *obj = h->obj;
			xchan__retire(h, sizeof(*h), 0);
			xchan__rt_release_obj(rt, obj);
		}
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
		XCHAN__DBG_VAL(v);                                             \
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
	XCHAN__DBG_VAL(v);
	return get_blob(v, XCHAN_STRING, (const void **)out, len);
}

int32_t
xchan_get_bytes(xchan_val v, const void **out, size_t *len)
{
	XCHAN__DBG_VAL(v);
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

/* The runtime and object a value carries, or false if it carries none. */
static bool
host_of(xchan_val v, xchan__rt **rt, void **obj)
{
	if (v.kind == XCHAN_HOST) {
		const host_rec *h = val_ptr(v);
		*rt = h->rt;
		*obj = h->obj;
		return true;
	}
	if (v.kind == XCHAN_STRING || v.kind == XCHAN_BYTES) {
		const blob *b = val_ptr(v);
		*rt = b->rt;
		*obj = b->obj;
		return b->rt != NULL;
	}
	return false;
}

int32_t
xchan_get_host(xchan_val v, uint32_t runtime_id, void **out)
{
	if (out == NULL)
		return XCHAN_EINVAL;
	XCHAN__DBG_VAL(v);
	xchan__rt *rt;
	void *obj;
	if (!host_of(v, &rt, &obj))
		return XCHAN_ETYPE;
	/* Another runtime's object, or one whose runtime is gone, is never
	 * handed out: the caller could not use it safely. */
	if (xchan__rt_id(rt) != runtime_id || !xchan__rt_alive(rt))
		return XCHAN_ERUNTIME;
	*out = obj;
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
	case XCHAN_HOST: {
		const host_rec *x = val_ptr(a), *y = val_ptr(b);
		return x->rt == y->rt && x->obj == y->obj;
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
