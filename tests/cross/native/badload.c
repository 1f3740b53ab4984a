/*
 * badload.c — libbadload.so: a native library whose xchan_native_onload
 * refuses the core (as a library built for another major version would),
 * so every call into it must fail with XCHAN_ELOAD, its functions never
 * running.
 */
#include <stdint.h>

#include "xchan/xchan_ext.h"

#define BADLOAD_API __attribute__((visibility("default")))

static int g_ran;

BADLOAD_API int32_t
xchan_native_onload(const xchan_api *api)
{
	(void)api;
	return XCHAN_EVERSION;
}

/* i(): must never run. */
BADLOAD_API int64_t
ran(void)
{
	return ++g_ran;
}
