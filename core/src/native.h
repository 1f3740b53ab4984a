/*
 * native.h — the parts of the native-worker runner (xchan_native_run):
 * the signature parser and argument check (native_sig.c) and the cache of
 * loaded libraries (native_lib.c).  native.c builds the libffi call.
 */
#ifndef XCHAN_NATIVE_H
#define XCHAN_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "xchan/xchan_ext.h"

/* A parsed signature: `ret` is the return letter ('v' or a type letter),
 * `args` the argument letters. */
typedef struct xchan__native_sig {
	char ret;
	uint32_t nargs;
	char args[XCHAN_NATIVE_MAX_ARGS];
} xchan__native_sig;

/* Parses `text`.  XCHAN_OK, or XCHAN_EINVAL with a message in msg. */
int32_t xchan__native_sig_parse(xchan__native_sig *out, const char *text,
    char *msg, size_t msg_size);

/* Checks `nargs` and every argument's kind against `sig`.  XCHAN_OK,
 * XCHAN_EINVAL (count, NULL args, a string with an embedded NUL) or
 * XCHAN_ETYPE, with a message naming the argument. */
int32_t xchan__native_sig_check_args(const xchan__native_sig *sig,
    const char *symbol, const char *text, const xchan_val *args, size_t nargs,
    char *msg, size_t msg_size);

/* The C type a letter stands for, e.g. "int64_t" (for messages). */
const char *xchan__native_letter_name(char letter);

/* Finds `symbol` in the library at `path`, loading the library on first
 * use and caching its handle for the life of the process.  XCHAN_OK and
 * *out, or XCHAN_ELOAD (ENOMEM) with a message. */
int32_t xchan__native_lib_symbol(void **out, const char *path,
    const char *symbol, char *msg, size_t msg_size);

#endif
