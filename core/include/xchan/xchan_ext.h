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

#include "xchan/xchan.h"
#include <stddef.h>

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

/* The function table.  `size` is sizeof(xchan_api) of the library that
 * filled it; `version` its XCHAN_VERSION_NUMBER.  Then one pointer per
 * public function of xchan.h and xchan_combinators.h, named as the
 * function without its `xchan_` prefix (api->chan_new is xchan_chan_new),
 * in the order of 0.2's headers.  Append-only: a later version only adds
 * fields at the end (docs/api-stability.md), so an extension built against
 * this header works with every later library of the same major; one built
 * against a later header checks XCHAN_API_HAS for the fields it needs. */
struct xchan_api {
	uint32_t size;
	uint32_t version;
	/* ---- 0.2 ---- */
	int32_t (*version_number)(void);
	const char *(*version_string)(void);
	int32_t (*check_version)(int32_t header_number);
	const char *(*strerror)(int32_t err);
	const char *(*err_name)(int32_t err);
	int32_t (*init)(const xchan_init_params *params);
	void (*set_log_hook)(xchan_log_hook hook, void *user);
	int32_t (*shutdown)(void);
	int64_t (*now)(void);
	xchan_deadline (*deadline_in_ms)(int64_t ms);
	xchan_deadline (*deadline_in_ns)(int64_t ns);
	xchan_val (*val_nil)(void);
	xchan_val (*val_bool)(int32_t b);
	xchan_val (*val_int)(int64_t i);
	xchan_val (*val_double)(double d);
	int32_t (*val_string)(xchan_val *out, const char *utf8, size_t len);
	int32_t (*val_bytes)(xchan_val *out, const void *data, size_t len);
	int32_t (*val_chan)(xchan_val *out, struct xchan_chan *ch);
	int32_t (*val_box)(xchan_val *out, void *ptr, void (*dtor)(void *ptr));
	int32_t (*val_array)(xchan_val *out, xchan_val *items, size_t n);
	int32_t (*runtime_register)(uint32_t *out_id, const xchan_runtime *rt);
	int32_t (*runtime_unregister)(uint32_t id);
	int32_t (*val_host)(xchan_val *out, uint32_t runtime_id, void *obj);
	int32_t (*val_string_host)(xchan_val *out, const char *utf8, size_t len,
	    uint32_t runtime_id, void *obj);
	int32_t (*val_bytes_host)(xchan_val *out, const void *data, size_t len,
	    uint32_t runtime_id, void *obj);
	xchan_val (*val_retain)(xchan_val v);
	void (*val_release)(xchan_val v);
	int32_t (*get_bool)(xchan_val v, int32_t *out);
	int32_t (*get_int)(xchan_val v, int64_t *out);
	int32_t (*get_double)(xchan_val v, double *out);
	int32_t (*get_string)(xchan_val v, const char **out, size_t *len);
	int32_t (*get_bytes)(xchan_val v, const void **out, size_t *len);
	int32_t (*get_chan)(xchan_val v, struct xchan_chan **out);
	int32_t (*get_box)(xchan_val v, void **out);
	int32_t (*get_array)(xchan_val v, const xchan_val **items, size_t *n);
	int32_t (*get_host)(xchan_val v, uint32_t runtime_id, void **out);
	int32_t (*val_equal)(xchan_val a, xchan_val b);
	const char *(*kind_name)(uint32_t kind);
	int32_t (*emit_push)(xchan_emit *e, xchan_val v);
	void (*emit_fail)(xchan_emit *e, xchan_val error);
	int32_t (*xform_new)(xchan_xform **out, const xchan_xform_vtbl *vt,
	    void *state);
	void (*xform_free)(xchan_xform *xf);
	int32_t (*xform_map)(xchan_xform **out, xchan_map_fn fn, void *user);
	int32_t (
	    *xform_filter)(xchan_xform **out, xchan_pred_fn pred, void *user);
	int32_t (
	    *xform_mapcat)(xchan_xform **out, xchan_mapcat_fn fn, void *user);
	int32_t (*xform_take)(xchan_xform **out, uint64_t n);
	int32_t (*xform_partition_all)(xchan_xform **out, uint64_t n);
	int32_t (*xform_repeat)(xchan_xform **out, uint64_t n);
	int32_t (
	    *xform_comp)(xchan_xform **out, xchan_xform **xforms, size_t n);
	int32_t (*chan_new)(xchan_chan **out, const xchan_chan_opts *opts);
	int32_t (
	    *chan_make)(xchan_chan **out, uint32_t buf_kind, uint64_t capacity);
	xchan_chan *(*chan_retain)(xchan_chan *ch);
	void (*chan_release)(xchan_chan *ch);
	int32_t (*chan_close)(xchan_chan *ch);
	int32_t (*put)(xchan_chan *ch, xchan_val v, xchan_deadline deadline);
	int32_t (
	    *take)(xchan_val *out, xchan_chan *ch, xchan_deadline deadline);
	int32_t (*offer)(xchan_chan *ch, xchan_val v);
	int32_t (*poll)(xchan_val *out, xchan_chan *ch);
	int32_t (*put_async)(xchan_op **out, xchan_chan *ch, xchan_val v,
	    uint32_t flags, xchan_callback cb, void *user);
	int32_t (*take_async)(xchan_op **out, xchan_chan *ch, uint32_t flags,
	    xchan_callback cb, void *user);
	int32_t (*op_cancel)(xchan_op *op);
	int32_t (*op_cancel_ex)(xchan_op *op, xchan_result *out);
	int32_t (*op_collect)(xchan_op *op, xchan_result *out);
	int32_t (*op_state_get)(const xchan_op *op);
	void (*op_release)(xchan_op *op);
	int32_t (*cancel_new)(xchan_cancel **out);
	int32_t (*cancel_fire)(xchan_cancel *c);
	int32_t (*cancel_reset)(xchan_cancel *c);
	int32_t (*cancel_fired)(const xchan_cancel *c);
	void (*cancel_release)(xchan_cancel *c);
	int32_t (*put_ex)(xchan_chan *ch, xchan_val v, xchan_deadline deadline,
	    const xchan_wait_opts *opts);
	int32_t (*take_ex)(xchan_val *out, xchan_chan *ch,
	    xchan_deadline deadline, const xchan_wait_opts *opts);
	int32_t (*alts)(xchan_result *out, const xchan_clause *clauses,
	    size_t n, uint32_t flags, xchan_deadline deadline);
	int32_t (*alts_async)(xchan_op **out, const xchan_clause *clauses,
	    size_t n, uint32_t flags, xchan_deadline deadline,
	    xchan_callback cb, void *user);
	int32_t (*alts_ex)(xchan_result *out, const xchan_clause *clauses,
	    size_t n, uint32_t flags, xchan_deadline deadline,
	    const xchan_wait_opts *opts);
	void (*random_seed)(uint64_t seed);
	int32_t (*timeout)(xchan_chan **out, int64_t ms);
	int32_t (*timeout_at)(xchan_chan **out, xchan_deadline deadline);
	int32_t (*chan_info_get)(xchan_chan_info *out, xchan_chan *ch);
	int32_t (*executor_new)(xchan_executor **out,
	    const xchan_executor_vtbl *vt, void *self);
	int32_t (*executor_for)(xchan_executor **out, uint32_t workload);
	int32_t (*execute)(xchan_executor *ex, xchan_task_fn fn, void *arg);
	int32_t (*set_executor_factory)(xchan_executor_factory f, void *user);
	int32_t (*go)(xchan_chan **out, xchan_go_fn fn, void *arg,
	    const xchan_go_opts *opts);
	int32_t (*thread)(xchan_chan **out, xchan_go_fn fn, void *arg,
	    const xchan_go_opts *opts);
	int32_t (*io_thread)(xchan_chan **out, xchan_go_fn fn, void *arg,
	    const xchan_go_opts *opts);
	int32_t (*in_go)(void);
	void (*set_task_error_hook)(xchan_task_error_hook hook, void *user);
	int32_t (*set_go_checking)(int64_t threshold_ms,
	    xchan_go_check_hook hook, void *user);
	int32_t (*pipe)(xchan_chan **out_done, xchan_chan *from, xchan_chan *to,
	    int32_t close);
	int32_t (*pipeline)(xchan_chan **out_done, uint32_t n, xchan_chan *to,
	    xchan_chan *from, int32_t close, xchan_xform_factory factory,
	    void *factory_user, const xchan_pipeline_opts *opts);
	int32_t (*pipeline_blocking)(xchan_chan **out_done, uint32_t n,
	    xchan_chan *to, xchan_chan *from, int32_t close,
	    xchan_xform_factory factory, void *factory_user,
	    const xchan_pipeline_opts *opts);
	int32_t (*pipeline_async)(xchan_chan **out_done, uint32_t n,
	    xchan_chan *to, xchan_chan *from, int32_t close, xchan_async_fn af,
	    void *user, const xchan_pipeline_opts *opts);
	int32_t (*mult_new)(xchan_mult **out, xchan_chan **out_done,
	    xchan_chan *src);
	int32_t (*mult_tap)(xchan_mult *m, xchan_chan *ch, int32_t close);
	int32_t (*mult_untap)(xchan_mult *m, xchan_chan *ch);
	int32_t (*mult_untap_all)(xchan_mult *m);
	xchan_mult *(*mult_retain)(xchan_mult *m);
	void (*mult_release)(xchan_mult *m);
	int32_t (*pub_new)(xchan_pub **out, xchan_chan **out_done,
	    xchan_chan *src, xchan_map_fn topic_fn, void *topic_user,
	    xchan_pub_buf_fn buf_fn, void *buf_user);
	int32_t (*pub_sub)(xchan_pub *p, xchan_val topic, xchan_chan *ch,
	    int32_t close);
	int32_t (*pub_unsub)(xchan_pub *p, xchan_val topic, xchan_chan *ch);
	int32_t (*pub_unsub_topic)(xchan_pub *p, xchan_val topic);
	int32_t (*pub_unsub_all)(xchan_pub *p);
	xchan_pub *(*pub_retain)(xchan_pub *p);
	void (*pub_release)(xchan_pub *p);
	int32_t (*mix_new)(xchan_mix **out, xchan_chan **out_done,
	    xchan_chan *out_ch);
	int32_t (*mix_admix)(xchan_mix *m, xchan_chan *ch);
	int32_t (*mix_unmix)(xchan_mix *m, xchan_chan *ch);
	int32_t (*mix_unmix_all)(xchan_mix *m);
	int32_t (*mix_toggle)(xchan_mix *m,
	    const xchan_mix_toggle_entry *entries, size_t n);
	int32_t (*mix_solo_mode)(xchan_mix *m, uint32_t mode);
	int32_t (*mix_get)(uint32_t *out_flags, xchan_mix *m, xchan_chan *ch);
	xchan_mix *(*mix_retain)(xchan_mix *m);
	void (*mix_release)(xchan_mix *m);
	int32_t (*merge)(xchan_chan **out, xchan_chan **out_done,
	    xchan_chan *const *chans, size_t n,
	    const xchan_chan_opts *out_opts);
	int32_t (*split)(xchan_chan **out_true, xchan_chan **out_false,
	    xchan_chan **out_done, xchan_chan *src, xchan_pred_fn pred,
	    void *user, const xchan_chan_opts *true_opts,
	    const xchan_chan_opts *false_opts);
	int32_t (*map)(xchan_chan **out, xchan_chan **out_done,
	    xchan_chan *const *chans, size_t n, xchan_map_n_fn fn, void *user,
	    const xchan_chan_opts *out_opts);
	int32_t (*take_n)(xchan_chan **out, xchan_chan **out_done,
	    xchan_chan *src, uint64_t n, const xchan_chan_opts *out_opts);
	int32_t (*reduce)(xchan_chan **out, xchan_chan *src, xchan_reduce_fn f,
	    void *user, xchan_val init);
	int32_t (*transduce)(xchan_chan **out, xchan_chan *src,
	    xchan_xform *xform, xchan_reduce_fn f, void *user, xchan_val init);
	int32_t (*into)(xchan_chan **out, xchan_chan *src, xchan_val init);
	int32_t (*onto_chan)(xchan_chan **out_done, xchan_chan *ch,
	    xchan_val *vals, size_t n, int32_t close);
	int32_t (*to_chan)(xchan_chan **out, xchan_val *vals, size_t n);
	/* New fields go here, at the end, never in between. */
};

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

/* The optional load hook of a native library.  A library that exports
 *
 *   int32_t xchan_native_onload(const xchan_api *api);
 *
 * gets the function table of the core that loads it, once, when
 * xchan_native_run first loads it and before any of its functions runs.
 * Through the table it needs no link to libxchan and always uses the very
 * core that calls it (tests/cross/native/sensor.c does this).  It should
 * check XCHAN_API_HAS for what it uses and may check api->version.  A
 * result other than XCHAN_OK makes every call into the library fail with
 * XCHAN_ELOAD (the library stays loaded).  It runs on the loading thread
 * while first loads are serialized: it must not block, park, or load
 * other libraries through xchan_native_run (that gives XCHAN_ELOAD). */
typedef int32_t (*xchan_native_onload_fn)(const xchan_api *api);

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
 * dlopen searches; its xchan_native_onload, if any, runs) and the symbol
 * found (dlsym).  Loaded libraries are
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
 * XCHAN_ELOAD (the library cannot be loaded, its onload failed, the symbol
 * is not in it, or xchan was built without libffi), XCHAN_ENOMEM,
 * XCHAN_ESHUTDOWN.  An XCHAN_ELOAD is also reported, with the message that
 * names the problem, through the log hook (xchan_set_log_hook; stderr
 * without one); xchan_native_check gives the message of any error.
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
