/*
 * xchan_ext.h — the function table, and other experimental interfaces.
 *
 * The function table (xchan_api) is how a C extension loaded by a host
 * language reaches the one copy of the core that the host's binding loaded:
 * Python hands it out in the capsule `xchan._C_API`, Node as an external
 * (`xchan.api()`), Java as a `long` (`Xchan.apiHandle()`).  An extension
 * compiled against this header calls the core only through the table, so it
 * never links libxchan itself and a version mismatch is detected, not
 * crashed on.
 *
 * Growth rules (docs/api-stability.md): the table is append-only.  A field,
 * once added, never moves or changes type; new functions go at the end and
 * `size` grows.  A consumer checks `XCHAN_API_HAS(api, field)` before using a
 * field newer than the oldest library it supports, and checks
 * `api->version` (the library's XCHAN_VERSION_NUMBER) against its own
 * header's with the rule of xchan_check_version.
 */
#ifndef XCHAN_XCHAN_EXT_H
#define XCHAN_XCHAN_EXT_H

#include <stddef.h>
#include "xchan/xchan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct xchan_api xchan_api; /* defined below, field by field */

/* The library's function table (static storage, never freed). */
XCHAN_API const xchan_api *xchan_get_api(void);

/* 1 if `api` is large enough to hold `field`. */
#define XCHAN_API_HAS(api, field)                                              \
	((api) != NULL &&                                                      \
	    (api)->size >= offsetof(xchan_api, field) + sizeof((api)->field))

/* The struct xchan_api definition follows (filled in by the core). */

#ifdef __cplusplus
}
#endif

#endif /* XCHAN_XCHAN_EXT_H */
