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

/* ===========================================================================
 * Native workers (experimental): run a function of a plain shared library on
 * go / thread / io_thread, called through libffi.
 *
 * A C library that knows nothing of any host language can produce into and
 * consume from channels that the host hands it: Python, Ruby, Node or Java
 * code names the library, the symbol and a signature, passes channels and
 * scalars, and gets the function's return value on a result channel.
 * Available when xchan was built with libffi (the CMake option XCHAN_FFI);
 * otherwise every call returns XCHAN_ELOAD ("built without libffi").
 *
 * Signature grammar (no spaces):
 *
 *   signature := ret "(" arg* ")"          at most XCHAN_NATIVE_MAX_ARGS args
 *   ret       := "v" | type                "v": void
 *   arg       := type
 *   type      := letter, one of
 *     i  int64_t        argument: an XCHAN_INT value
 *     d  double         argument: an XCHAN_DOUBLE (or XCHAN_INT, converted)
 *     b  bool (_Bool)   argument: an XCHAN_BOOL value
 *     s  const char *   argument: an XCHAN_STRING value; NUL-terminated,
 *                       borrowed for the duration of the call only; a
 *                       string with an embedded NUL is refused
 *     p  void *         argument: an XCHAN_BOX value (its pointer, borrowed)
 *                       or nil (NULL)
 *     c  xchan_chan *   argument: an XCHAN_CHAN value; the channel is
 *                       borrowed for the call (xchan_chan_retain it to keep
 *                       it longer)
 *
 *   e.g. "v(ci)" is `void f(xchan_chan *, int64_t)`, "i(c)" is
 *   `int64_t f(xchan_chan *)`, "d(dd)" is `double f(double, double)`.
 *
 * The return value becomes the task's result: "v" closes the result channel
 * without a value; i/d/b give an int/double/bool value; "s" gives a string
 * value holding a COPY of the returned text (the library keeps ownership of
 * its buffer; NULL gives no value; text that is not UTF-8 fails the task
 * with XCHAN_EINVAL); "p" gives a box with no destructor (NULL: no value);
 * "c" gives a channel value that takes over the reference the function
 * returns (return xchan_chan_retain(ch) to keep your own; NULL: no value).
 * ======================================================================== */
#ifdef __cplusplus
extern "C" {
#endif

#define XCHAN_NATIVE_MAX_ARGS 16

/* Runs `symbol` of the shared library `lib_path` with `args` on the
 * executor of `workload`: XCHAN_WORKLOAD_DISPATCH as a go task (channel
 * operations inside it, at any call depth, park the task; it must not block
 * in the OS, and it runs on the task's stack: 64 KiB unless
 * opts->stack_size), XCHAN_WORKLOAD_MIXED as xchan_thread,
 * XCHAN_WORKLOAD_IO as xchan_io_thread.  `*out_result` (optional, as xchan_go) receives the
 * result channel: the return value converted as above, then closed.
 *
 * Everything is checked before anything runs: the signature, the argument
 * count and each argument's kind against its letter, then the library is
 * loaded (dlopen, RTLD_NOW | RTLD_LOCAL, a path without '/' is searched as
 * dlopen searches) and the symbol found (dlsym).  Loaded libraries are
 * cached for the life of the process and never unloaded (a task may still
 * run their code).  `args` stay the caller's: the call holds its own
 * references (xchan_val_retain) until the function has returned.
 * `opts` as for xchan_go (NULL: defaults; the task's default name is
 * `symbol`).
 *
 * Errors (nothing started, nothing retained): XCHAN_EINVAL (lib_path,
 * symbol or signature NULL, args NULL with nargs > 0, a malformed
 * signature, nargs different from the signature's count, a string
 * argument with an embedded NUL, an unknown workload, bad opts),
 * XCHAN_ETYPE (an argument of a kind its letter does not accept),
 * XCHAN_ELOAD (the library cannot be loaded, the symbol is not in it, or
 * xchan was built without libffi), XCHAN_ENOMEM, XCHAN_ESHUTDOWN.
 * xchan_native_check gives the message that names the problem.
 * Blocks only while the library loads (its constructors run on this
 * thread).  Thread-safety: any thread. */
XCHAN_API int32_t xchan_native_run(xchan_chan **out_result, uint32_t workload,
    const char *lib_path, const char *symbol, const char *signature,
    const xchan_val *args, size_t nargs, const xchan_go_opts *opts);

/* Runs every check xchan_native_run makes (including loading the library
 * and finding the symbol) without running anything, and returns the same
 * code.  On an error, writes a one-line message naming the problem into
 * `msg` (NUL-terminated, truncated to `msg_size`; msg may be NULL), e.g.
 *   "argument 2 of \"stream\" (signature \"v(ci)\") must be int, got string"
 * On XCHAN_OK, msg is set to "".  Bindings call it after a failed
 * xchan_native_run to build their exception's message.  Thread-safety: any
 * thread. */
XCHAN_API int32_t xchan_native_check(char *msg, size_t msg_size,
    const char *lib_path, const char *symbol, const char *signature,
    const xchan_val *args, size_t nargs);

#ifdef __cplusplus
}
#endif

#endif /* XCHAN_XCHAN_EXT_H */
