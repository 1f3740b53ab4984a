/*
 * val.h — internal view of values: the reference-counted payloads behind
 * STRING, BYTES, BOX and ARRAY, and the host runtime table.
 */
#ifndef XCHAN_VAL_H
#define XCHAN_VAL_H

#include "common.h"

/* True for the kinds whose value owns a reference. */
static inline bool
xchan__val_is_ref(xchan_val v)
{
	return v.kind >= XCHAN_STRING && v.kind <= XCHAN_ARRAY;
}

/* True for a well-formed value: a kind xchan knows, and `aux` zero unless
 * the kind is HOST, whose aux is its runtime id (never 0).  Puts, offers,
 * alts, arrays and pub topics check it. */
static inline bool
xchan__val_kind_valid(xchan_val v)
{
	return v.kind <= XCHAN_ARRAY &&
	       (v.kind == XCHAN_HOST ? v.aux != 0 : v.aux == 0);
}

/* Releases n values (after locks are dropped). */
void xchan__vals_release(xchan_val *vals, size_t n);

#endif
