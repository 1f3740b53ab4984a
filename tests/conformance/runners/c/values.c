/*
 * values.c — values in JSON (tests/conformance/README.md, "Values"):
 *   123 -> INT, {"int": "9223372036854775807"} -> INT beyond 2^53,
 *   {"double": 1.5} / {"double": "nan" | "inf" | "-inf"} -> DOUBLE,
 *   true/false -> BOOL, "text" -> STRING, {"bytes": "00ff"} -> BYTES,
 *   [ ... ] -> ARRAY, {"chan": "name"} -> CHAN, {"host": "tag"} -> HOST of
 *   this runtime, {"foreign_host": "tag"} -> HOST of another runtime,
 *   {"box": "tag"} -> BOX, null -> NIL (only ever as a bad input).
 * A host object here is a reference-counted tag; the runner registers two
 * runtimes ("conformance-c" and "conformance-c-foreign").
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

typedef struct host_obj {
	atomic_int rc;
	char tag[];
} host_obj;

static void
host_retain(void *user, void *obj)
{
	atomic_fetch_add(&((host_obj *)obj)->rc, 1);
}

static void
host_release(void *user, void *obj)
{
	if (atomic_fetch_sub(&((host_obj *)obj)->rc, 1) == 1)
		free(obj);
}

static uint32_t rt_id, rt_foreign_id;
static pthread_once_t rt_once = PTHREAD_ONCE_INIT;

static void
rt_register(void)
{
	xchan_runtime rt = {sizeof rt, 0, "conformance-c", host_retain,
	    host_release, NULL};
	xchan_runtime_register(&rt_id, &rt);
	rt.name = "conformance-c-foreign";
	xchan_runtime_register(&rt_foreign_id, &rt);
}

uint32_t
conf_runtime_id(void)
{
	pthread_once(&rt_once, rt_register);
	return rt_id;
}

static host_obj *
host_new(const char *tag)
{
	size_t n = strlen(tag) + 1;
	host_obj *h = malloc(sizeof *h + n);
	atomic_init(&h->rc, 1);
	memcpy(h->tag, tag, n);
	return h;
}

int32_t
conf_foreign_host(xchan_val *out, const char *tag)
{
	conf_runtime_id();
	return xchan_val_host(out, rt_foreign_id, host_new(tag));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int32_t
json_to_val(world *w, const cJSON *j, xchan_val *out)
{
	*out = xchan_val_nil();
	if (!j || cJSON_IsNull(j))
		return XCHAN_OK; /* nil: the op decides */
	if (cJSON_IsBool(j)) {
		*out = xchan_val_bool(cJSON_IsTrue(j));
		return XCHAN_OK;
	}
	if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (d != floor(d))
			return XCHAN_EINVAL; /* floats are {"double": x} */
		*out = xchan_val_int((int64_t)d);
		return XCHAN_OK;
	}
	if (cJSON_IsString(j))
		return xchan_val_string(out, j->valuestring,
		    strlen(j->valuestring));
	if (cJSON_IsArray(j)) {
		int n = cJSON_GetArraySize(j);
		xchan_val *items = calloc(n ? n : 1, sizeof *items);
		int i = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, j)
		{
			int32_t rc = json_to_val(w, e, &items[i]);
			if (rc != XCHAN_OK) {
				while (i-- > 0)
					xchan_val_release(items[i]);
				free(items);
				return rc;
			}
			i++;
		}
		int32_t rc = xchan_val_array(out, items, n);
		free(items);
		return rc;
	}
	const cJSON *x;
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "double"))) {
		double d;
		if (cJSON_IsNumber(x))
			d = x->valuedouble;
		else if (cJSON_IsString(x) && !strcmp(x->valuestring, "nan"))
			d = NAN;
		else if (cJSON_IsString(x) && !strcmp(x->valuestring, "inf"))
			d = INFINITY;
		else if (cJSON_IsString(x) && !strcmp(x->valuestring, "-inf"))
			d = -INFINITY;
		else
			return XCHAN_EINVAL;
		*out = xchan_val_double(d);
		return XCHAN_OK;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "int")) &&
	    cJSON_IsString(x)) {
		*out = xchan_val_int(strtoll(x->valuestring, NULL, 10));
		return XCHAN_OK;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "bytes")) &&
	    cJSON_IsString(x)) {
		size_t n = strlen(x->valuestring) / 2;
		unsigned char *b = malloc(n ? n : 1);
		for (size_t i = 0; i < n; i++)
			b[i] =
			    (unsigned char)(hexval(x->valuestring[2 * i]) * 16 +
			                    hexval(x->valuestring[2 * i + 1]));
		int32_t rc = xchan_val_bytes(out, b, n);
		free(b);
		return rc;
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "chan")) &&
	    cJSON_IsString(x)) {
		xchan_chan *ch = world_get(w, x->valuestring, OBJ_CHAN);
		if (!ch)
			return XCHAN_EINVAL;
		return xchan_val_chan(out, ch);
	}
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "host")) &&
	    cJSON_IsString(x))
		return xchan_val_host(out, conf_runtime_id(),
		    host_new(x->valuestring));
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "foreign_host")) &&
	    cJSON_IsString(x))
		return conf_foreign_host(out, x->valuestring);
	if ((x = cJSON_GetObjectItemCaseSensitive(j, "box")) &&
	    cJSON_IsString(x))
		return xchan_val_box(out, strdup(x->valuestring), free);
	return XCHAN_EINVAL;
}

static cJSON *
tagged(const char *key, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, key, v);
	return o;
}

cJSON *
val_to_json(world *w, xchan_val v, int32_t *err)
{
	switch (v.kind) {
	case XCHAN_NIL:
		return cJSON_CreateNull();
	case XCHAN_BOOL: {
		int32_t b = 0;
		xchan_get_bool(v, &b);
		return cJSON_CreateBool(b);
	}
	case XCHAN_INT: {
		int64_t i = 0;
		xchan_get_int(v, &i);
		if (i > (1LL << 53) || i < -(1LL << 53)) {
			char buf[32];
			snprintf(buf, sizeof buf, "%" PRId64, i);
			return tagged("int", cJSON_CreateString(buf));
		}
		return cJSON_CreateNumber((double)i);
	}
	case XCHAN_DOUBLE: {
		double d = 0;
		xchan_get_double(v, &d);
		if (isnan(d))
			return tagged("double", cJSON_CreateString("nan"));
		if (isinf(d))
			return tagged("double",
			    cJSON_CreateString(d > 0 ? "inf" : "-inf"));
		return tagged("double", cJSON_CreateNumber(d));
	}
	case XCHAN_STRING: {
		const char *s;
		size_t n;
		xchan_get_string(v, &s, &n);
		char *c = strndup(s, n);
		cJSON *r = cJSON_CreateString(c);
		free(c);
		return r;
	}
	case XCHAN_BYTES: {
		const void *p;
		size_t n;
		xchan_get_bytes(v, &p, &n);
		char *hex = malloc(2 * n + 1);
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x",
			    ((const unsigned char *)p)[i]);
		hex[2 * n] = 0;
		cJSON *r = tagged("bytes", cJSON_CreateString(hex));
		free(hex);
		return r;
	}
	case XCHAN_CHAN: {
		xchan_chan *ch = NULL;
		xchan_get_chan(v, &ch);
		const char *n = world_chan_name(w, ch);
		return tagged("chan", cJSON_CreateString(n ? n : "?"));
	}
	case XCHAN_BOX: {
		void *p = NULL;
		xchan_get_box(v, &p);
		return tagged("box", cJSON_CreateString(p ? p : "?"));
	}
	case XCHAN_HOST: {
		void *p = NULL;
		int32_t rc = xchan_get_host(v, conf_runtime_id(), &p);
		if (rc != XCHAN_OK) {
			if (err)
				*err = rc;
			return cJSON_CreateNull();
		}
		return tagged("host", cJSON_CreateString(((host_obj *)p)->tag));
	}
	case XCHAN_ARRAY: {
		const xchan_val *items;
		size_t n;
		xchan_get_array(v, &items, &n);
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(a, val_to_json(w, items[i], err));
		return a;
	}
	}
	return tagged("unknown_kind", cJSON_CreateNumber(v.kind));
}
