/*
 * xchan.h — the stable C ABI of xchan.
 *
 * xchan is Clojure core.async's model of concurrency (channels, buffers, alts,
 * timeouts, go/thread/io-thread executors) as one C library.  This header is
 * the specification: every declaration says what it does, who owns what,
 * whether and how long it blocks, which threads may call it, and its errors.
 * Conformance cases point at its sentences.  Anything not declared here (or in
 * xchan_ext.h, which carries no ABI promise) is unsupported.
 *
 * General rules (unless a declaration says otherwise):
 *  - Every function may be called from any thread, including from inside a
 *    callback and from inside a go task.
 *  - Functions that can fail return an xchan_err; XCHAN_OK is 0.  No function
 *    sets errno as its error channel.
 *  - Out-parameters come first; an object returned through one is owned by the
 *    caller and has a matching release.  A pointer returned by a getter is
 *    borrowed.
 *  - Using an object after its last reference was released is undefined
 *    behaviour; so is passing a pointer that was never produced by xchan.
 *    (A debug build, XCHAN_DEBUG_CHECKS, aborts with a message naming the
 *    function on most uses of a released channel or value.)
 *    Everything else gives an error code, never a crash.
 *  - Callbacks run with no xchan lock held, so they may call back into xchan.
 *
 * The header compiles as C99 (and C++) with -Wall -Wextra -pedantic.
 */
#ifndef XCHAN_XCHAN_H
#define XCHAN_XCHAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Export macro.  XCHAN_BUILDING is defined while building the library;
 * XCHAN_STATIC when linking the static library.
 * ------------------------------------------------------------------------- */
#if defined(XCHAN_BUILDING) && defined(XCHAN_USING_SHARED)
#error "XCHAN_BUILDING and XCHAN_USING_SHARED must not both be defined"
#endif
#if defined(XCHAN_STATIC)
#define XCHAN_API
#elif defined(_WIN32)
#if defined(XCHAN_BUILDING)
#define XCHAN_API __declspec(dllexport)
#else
#define XCHAN_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define XCHAN_API __attribute__((visibility("default")))
#else
#define XCHAN_API
#endif

/* ---------------------------------------------------------------------------
 * Versions.  CMake reads these lines; keep their shape.
 * ------------------------------------------------------------------------- */
#define XCHAN_VERSION_MAJOR 0
#define XCHAN_VERSION_MINOR 2
#define XCHAN_VERSION_PATCH 0
#define XCHAN_VERSION_NUMBER                                                   \
	(XCHAN_VERSION_MAJOR * 10000 + XCHAN_VERSION_MINOR * 100 +             \
	    XCHAN_VERSION_PATCH)

/* The library's XCHAN_VERSION_NUMBER.  A binding compares it with the header
 * it was built with; the majors must match (docs/api-stability.md).
 * Thread-safety: any thread. */
XCHAN_API int32_t xchan_version_number(void);

/* The library's version as "MAJOR.MINOR.PATCH" (static storage). */
XCHAN_API const char *xchan_version_string(void);

/* XCHAN_OK if a program built with header version `header_number` may use the
 * loaded library (same major, library minor >= header minor), else
 * XCHAN_EVERSION (also for a negative number).  Bindings call it at load time with XCHAN_VERSION_NUMBER. */
XCHAN_API int32_t xchan_check_version(int32_t header_number);

/* ---------------------------------------------------------------------------
 * Errors.  One list defines codes, names and messages; the values are fixed
 * for ever and never equal errno numbers by intent.  Bindings generate their
 * exception tables from XCHAN_ERRORS.
 * ------------------------------------------------------------------------- */
#define XCHAN_ERRORS(X)                                                        \
	X(OK, 0, "success")                                                    \
	X(EINVAL, 1, "invalid argument")                                       \
	X(ENOMEM, 2, "out of memory")                                          \
	X(ECLOSED, 3, "channel is closed")                                     \
	X(ETIMEDOUT, 4, "deadline passed before the operation completed")      \
	X(EAGAIN, 5, "operation cannot complete now")                          \
	X(ECANCELED, 6, "operation was canceled")                              \
	X(ELIMIT, 7, "too many pending operations on this channel")            \
	X(ENIL, 8, "nil cannot be put on a channel")                           \
	X(ERUNTIME, 9, "host value of an unregistered or different runtime")   \
	X(EDONE, 10, "operation has already completed")                        \
	X(ESTATE, 11, "call not allowed in the current state")                 \
	X(EVERSION, 12, "library and header versions do not match")            \
	X(ELOAD, 13, "cannot load library or symbol")                          \
	X(EXFORM, 14, "channel transform failed")                              \
	X(ETYPE, 15, "value is of a different kind")                           \
	X(ESHUTDOWN, 16, "xchan is shut down")                                 \
	X(ETASK, 17, "task failed")                                            \
	X(EINTERNAL, 18, "internal error")                                     \
	X(EINTR, 19, "wait interrupted by a signal")                           \
	X(EFORK, 20, "xchan cannot be used in a child process after fork()")

typedef enum xchan_err {
#define XCHAN_ERR_ENUM_(name, num, msg) XCHAN_##name = num,
	XCHAN_ERRORS(XCHAN_ERR_ENUM_)
#undef XCHAN_ERR_ENUM_
	    XCHAN_ERR_COUNT_ = 21
} xchan_err;

/* A one-line English message for `err` (static storage); an unknown code gives
 * "unknown error".  Thread-safety: any thread. */
XCHAN_API const char *xchan_strerror(int32_t err);

/* The symbolic name of `err` without the prefix, e.g. "ECLOSED" (static
 * storage); an unknown code gives "EUNKNOWN". */
XCHAN_API const char *xchan_err_name(int32_t err);

/* ---------------------------------------------------------------------------
 * Library set-up.  Calling xchan_init is optional: the first use of xchan
 * initialises it with defaults.
 * ------------------------------------------------------------------------- */
typedef struct xchan_init_params {
	uint32_t size; /* sizeof(xchan_init_params); lets the struct grow */
	uint32_t reserved;
	/* Allocation hooks; both NULL means malloc/free.  `free` receives the
	 * size that was asked of `alloc`.  They may be called while xchan
	 * holds internal locks, so they must not call back into xchan. */
	void *(*alloc)(void *user, size_t size);
	void (*free)(void *user, void *ptr, size_t size);
	void *alloc_user;
	/* --- fields below were added in 0.2; a smaller `size` leaves them
	 * zero (the defaults). --- */
	uint32_t flags; /* XCHAN_INIT_* bits */
	uint32_t reserved2;
	/* Called on every thread xchan starts (executor workers, timer),
	 * first thing on that thread, and on its way out.  Lets a binding
	 * attach the thread to its VM (JNI AttachCurrentThreadAsDaemon).
	 * `name` is the thread's name.  Either may be NULL. */
	void (*thread_start)(void *user, const char *name);
	void (*thread_exit)(void *user, const char *name);
	void *thread_hook_user;
	/* Stack size of the threads xchan starts; 0: the default (1 MiB).
	 * Otherwise 64 KiB .. 1 GiB. */
	uint64_t thread_stack_size;
} xchan_init_params;

/* xchan_init_params.flags: do not register an atexit() shutdown (the host
 * calls xchan_shutdown itself, or lets the process exit without it). */
#define XCHAN_INIT_NO_ATEXIT 1u

/* Sets process-wide parameters.  The first call wins: it must come before any
 * other xchan call that allocates.  Returns XCHAN_ESTATE if xchan was already
 * initialised (by an earlier xchan_init or by first use), XCHAN_EINVAL if
 * `params` is NULL, its size is below the first version's (32 bytes: up to
 * alloc_user), only one hook is set, flags has an unknown bit, or
 * thread_stack_size is out of range; XCHAN_EFORK in a forked child.
 * Thread-safety: any thread, concurrently with other xchan_init calls and
 * with first use: exactly one of them initialises, and its parameters are
 * the ones in force (the others get XCHAN_ESTATE and change nothing).
 *
 * Fork: in a child process created by fork() after xchan was used, calls
 * that need xchan's threads or shared state (channel operations, channel
 * and timeout creation, go/thread/io_thread, executors, runtimes and new
 * host values, xchan_shutdown) return XCHAN_EFORK; releasing a channel
 * there leaks it.
 * The atexit shutdown does nothing in such a child.  Values and
 * everything else that needs no shared state keep working. */
XCHAN_API int32_t xchan_init(const xchan_init_params *params);

/* Diagnostics.  The library never prints by itself when a hook is set: every
 * message (a transform failure without an error handler, a value dropped for
 * lack of memory, a failed task without a task error hook) goes to the hook.
 * Without a hook, messages go to stderr prefixed "xchan: ".  The hook runs
 * with no xchan lock held, on the thread that found the problem (never a go
 * task's stack).  NULL restores the default.  Thread-safety: any thread. */
typedef enum xchan_log_level {
	XCHAN_LOG_ERROR = 0,
	XCHAN_LOG_WARN = 1,
	XCHAN_LOG_INFO = 2
} xchan_log_level;
typedef void (*xchan_log_hook)(void *user, int32_t level, const char *msg);
XCHAN_API void xchan_set_log_hook(xchan_log_hook hook, void *user);

/* Stops xchan's own threads cleanly: executors finish the tasks they are
 * running and join their threads, the timer thread exits.  Then it
 * completes what still waits, on the calling thread: pending timers fire
 * (a timeout channel closes; an alts_async deadline completes with
 * XCHAN_ESHUTDOWN), and every async operation still pending on a channel
 * completes with XCHAN_ESHUTDOWN (a put's value handed back).  Channels stay
 * usable from threads the caller owns; starting new tasks, timeouts or
 * deadlines afterwards gives XCHAN_ESHUTDOWN.  Safe to call more than once.
 * Must not be called from an xchan thread (returns XCHAN_ESTATE).  Blocks
 * until the threads are joined.  The library also runs it at process exit,
 * without the completions (no user code runs while the process exits). */
XCHAN_API int32_t xchan_shutdown(void);

/* ---------------------------------------------------------------------------
 * Time.  One monotonic clock in nanoseconds.  A deadline is an absolute time
 * on that clock, with two sentinels.
 * ------------------------------------------------------------------------- */
typedef int64_t xchan_deadline;
#define XCHAN_DEADLINE_NEVER ((xchan_deadline)-1) /* block for ever */
#define XCHAN_DEADLINE_POLL ((xchan_deadline)0)   /* try once, never wait */

/* Nanoseconds on the monotonic clock (never goes backwards, unaffected by
 * wall-clock changes).  Always > 0. */
XCHAN_API int64_t xchan_now(void);

/* The deadline `ms` milliseconds from now.  ms < 0 gives
 * XCHAN_DEADLINE_NEVER; ms == 0 gives a deadline that has already passed
 * (which behaves like XCHAN_DEADLINE_POLL).  Saturating: a duration too
 * large for the clock gives XCHAN_DEADLINE_NEVER, never a past deadline. */
XCHAN_API xchan_deadline xchan_deadline_in_ms(int64_t ms);

/* The same in nanoseconds. */
XCHAN_API xchan_deadline xchan_deadline_in_ns(int64_t ns);

/* ---------------------------------------------------------------------------
 * Values.
 *
 * A channel carries 16-byte tagged values passed by value.  There is no nil
 * payload: the zero value (kind XCHAN_NIL) means "nothing / closed", exactly
 * as nil does in core.async, so putting it is an error (XCHAN_ENIL).
 *
 * Ownership: values of the reference kinds (STRING, BYTES, CHAN, BOX, HOST,
 * ARRAY) own one reference.  A successful put moves that reference into the
 * channel; a failed put leaves it with the caller; a take moves it to the
 * taker.  A value the channel drops (dropping/sliding buffer, promise
 * channel's later puts, a channel freed with items left) is released by the
 * channel after it has dropped its locks.  Copy a value with
 * xchan_val_retain, drop it with xchan_val_release.  Strings and bytes are
 * immutable, so fanning them out never copies the payload.
 *
 * The fields are public so that values pass by value across every FFI; read
 * `kind` directly, use the accessors for the payload.
 * ------------------------------------------------------------------------- */
typedef enum xchan_kind {
	XCHAN_NIL = 0,
	XCHAN_BOOL = 1,
	XCHAN_INT = 2,
	XCHAN_DOUBLE = 3,
	XCHAN_STRING = 4, /* immutable UTF-8, reference-counted */
	XCHAN_BYTES = 5,  /* immutable bytes, reference-counted */
	XCHAN_CHAN = 6,   /* a channel (holds a channel reference) */
	XCHAN_BOX = 7,    /* a native pointer with its destructor */
	XCHAN_HOST = 8,   /* a binding's own object, tagged with its runtime */
	XCHAN_ARRAY = 9   /* immutable vector of values, reference-counted */
} xchan_kind;

typedef struct xchan_val {
	uint32_t kind; /* an xchan_kind */
	uint32_t aux;  /* HOST: the runtime id; otherwise 0 (a non-zero aux on
	                  another kind is malformed: XCHAN_EINVAL) */
	uint64_t bits; /* the payload; read it through the accessors */
} xchan_val;

/* The nil value (all zero). */
XCHAN_API xchan_val xchan_val_nil(void);
XCHAN_API xchan_val xchan_val_bool(int32_t b);
XCHAN_API xchan_val xchan_val_int(int64_t i);
XCHAN_API xchan_val xchan_val_double(double d);

/* A string value holding a copy of `len` bytes of UTF-8 at `utf8` (need not
 * be NUL-terminated; the stored copy is).  Errors: XCHAN_EINVAL (out NULL,
 * utf8 NULL with len > 0, or invalid UTF-8), XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_val_string(xchan_val *out, const char *utf8,
    size_t len);

/* A bytes value holding a copy of `len` bytes.  Errors: XCHAN_EINVAL,
 * XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_val_bytes(xchan_val *out, const void *data, size_t len);

/* A value referring to channel `ch`; takes a new reference to `ch` (the
 * caller keeps its own).  Errors: XCHAN_EINVAL. */
struct xchan_chan;
XCHAN_API int32_t xchan_val_chan(xchan_val *out, struct xchan_chan *ch);

/* A boxed native pointer.  `dtor(ptr)` runs once, when the last copy of the
 * value is released, on whatever thread releases it (it may be NULL).
 * Errors: XCHAN_EINVAL (out NULL), XCHAN_ENOMEM (dtor is NOT called). */
XCHAN_API int32_t xchan_val_box(xchan_val *out, void *ptr,
    void (*dtor)(void *ptr));

/* An array value that takes over the references of `n` items (the caller no
 * longer owns them, even on error they are released).  Items may be any
 * kind but NIL.  Errors: XCHAN_EINVAL (out NULL, items NULL with n > 0, a nil
 * item), XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_val_array(xchan_val *out, xchan_val *items, size_t n);

/* Host runtimes.  A binding registers its runtime once and gets an id; host
 * values carry the id so that another runtime taking them gets a clear error
 * (XCHAN_ERUNTIME) instead of a crash. */
typedef struct xchan_runtime {
	uint32_t size; /* sizeof(xchan_runtime) */
	uint32_t reserved;
	const char *name; /* e.g. "cpython", "node", "jvm"; copied */
	/* Not called since 0.2 (the core counts host values' references
	 * itself; xchan_val_retain never calls the host) and may be NULL.
	 * Kept so that the struct's layout stays that of 0.1. */
	void (*retain)(void *user, void *obj);
	/* Drops the reference the core held on `obj`: called exactly once per
	 * xchan_val_host (or _string_host/_bytes_host) call, when the last
	 * copy of that value is released, or when that call fails after
	 * taking `obj` over.  May run on any thread, including one the
	 * runtime does not know; never under an xchan lock; never on a go
	 * task's stack; never after xchan_runtime_unregister returned. */
	void (*release)(void *user, void *obj);
	void *user;
} xchan_runtime;

/* Registers a host runtime; `*out_id` receives its id (> 0).  Ids are never
 * reused; a process may register any number of runtimes over its life.
 * Errors: XCHAN_EINVAL (NULL, no release hook, or size below the first
 * version's), XCHAN_ENOMEM, XCHAN_ELIMIT (2^32 - 2 ids used up),
 * XCHAN_EFORK. */
XCHAN_API int32_t xchan_runtime_register(uint32_t *out_id,
    const xchan_runtime *rt);

/* Unregisters runtime `id`.  From then on, host values of that runtime that
 * are still alive are never handed back to it: their release hook is not
 * called (the objects are deliberately leaked, since the runtime that could
 * free them is gone; the leak is reported through the log hook), and
 * xchan_get_host for them gives XCHAN_ERUNTIME.  Before returning it waits
 * for release hooks of this runtime already running on other threads (so
 * do not call it while holding a lock such a hook needs: release the GIL
 * around it); a hook may unregister its own runtime.  The id is never
 * reused.  Errors: XCHAN_EINVAL (unknown id, or already unregistered). */
XCHAN_API int32_t xchan_runtime_unregister(uint32_t id);

/* Wraps a host object; takes over the caller's reference to `obj` on
 * success (on error the caller keeps it).  The core counts the value's
 * copies itself and calls the runtime's release hook once, when the last
 * copy is released.  Errors: XCHAN_EINVAL (out or obj NULL),
 * XCHAN_ERUNTIME (runtime id not registered), XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_val_host(xchan_val *out, uint32_t runtime_id,
    void *obj);

/* A string (or bytes, with xchan_val_bytes_host) value that also carries the
 * host object it was made from: C code reads it as an ordinary string, and
 * the runtime `runtime_id` gets `obj` itself back through xchan_get_host (so
 * a host string round-trips as the very same object).  Takes over the
 * caller's reference to `obj` (also on error, where it is released through
 * the runtime's hook; except XCHAN_ERUNTIME, where there is no runtime to
 * hand it to and the caller keeps it).  Errors: as xchan_val_string (and
 * XCHAN_EINVAL for obj NULL), XCHAN_ERUNTIME. */
XCHAN_API int32_t xchan_val_string_host(xchan_val *out, const char *utf8,
    size_t len, uint32_t runtime_id, void *obj);
XCHAN_API int32_t xchan_val_bytes_host(xchan_val *out, const void *data,
    size_t len, uint32_t runtime_id, void *obj);

/* Returns a copy of `v` holding a new reference (reference kinds), or `v`
 * itself (scalars).  Never fails and never calls the host (host values'
 * references are counted by the core), so it is safe on any thread. */
XCHAN_API xchan_val xchan_val_retain(xchan_val v);

/* Drops the reference `v` holds; scalars and nil are ignored.  Safe from any
 * thread. */
XCHAN_API void xchan_val_release(xchan_val v);

/* Accessors.  Each returns XCHAN_ETYPE if `v` is of another kind and
 * XCHAN_EINVAL if an out pointer is NULL.  What they return is borrowed from
 * `v` and lives as long as `v` does. */
XCHAN_API int32_t xchan_get_bool(xchan_val v, int32_t *out);
XCHAN_API int32_t xchan_get_int(xchan_val v, int64_t *out);
XCHAN_API int32_t xchan_get_double(xchan_val v, double *out);
XCHAN_API int32_t xchan_get_string(xchan_val v, const char **out, size_t *len);
XCHAN_API int32_t xchan_get_bytes(xchan_val v, const void **out, size_t *len);
XCHAN_API int32_t xchan_get_chan(xchan_val v, struct xchan_chan **out);
XCHAN_API int32_t xchan_get_box(xchan_val v, void **out);
XCHAN_API int32_t xchan_get_array(xchan_val v, const xchan_val **items,
    size_t *n);
/* HOST values, and STRING/BYTES values made with a host object: the host
 * object (borrowed).  XCHAN_ERUNTIME if the value belongs to a runtime other
 * than `runtime_id` (or that runtime was unregistered); XCHAN_ETYPE for any
 * other value. */
XCHAN_API int32_t xchan_get_host(xchan_val v, uint32_t runtime_id, void **out);

/* 1 if the two values are equal: same kind and same payload (strings, bytes
 * and arrays compare by content, channels/boxes/hosts by identity). */
XCHAN_API int32_t xchan_val_equal(xchan_val a, xchan_val b);

/* The kind's name, e.g. "int" (static storage). */
XCHAN_API const char *xchan_kind_name(uint32_t kind);

/* ---------------------------------------------------------------------------
 * Transducers (channel transforms).
 *
 * A transform sits in front of a channel's buffer: every value added to the
 * buffer goes through its step, which may emit zero or more values (filter,
 * map, mapcat), stop the channel early (take), or fail.  Steps of one channel
 * are serialized, and run with no channel lock held (a separate per-channel
 * step lock orders them), on whichever thread adds: a putter, a taker that
 * pulls a pending put into the buffer, or close running the completion.
 * Consequences, as in core.async:
 *  - an expanding step may overfill the buffer; the channel counts as full
 *    while count >= capacity;
 *  - a step that returns XCHAN_STEP_REDUCED closes the channel; pending
 *    putters complete with XCHAN_OK (their values are discarded);
 *  - on close, the completion runs once buffered puts are drained (so
 *    partition_all flushes its last batch to pending and later takers);
 *  - a failing step goes to the channel's error handler; a non-nil result
 *    is added to the buffer without going through the transform.
 * A binding whose host code runs in a step must not hold its host lock (the
 * GIL, ...) while it waits to enter an operation on that channel.
 * ------------------------------------------------------------------------- */
typedef enum xchan_step_result {
	XCHAN_STEP_CONTINUE = 0,
	XCHAN_STEP_REDUCED = 1, /* stop: the channel closes */
	XCHAN_STEP_FAILED = 2   /* call xchan_emit_fail first */
} xchan_step_result;

/* Where a step sends its output.  Only valid during the step call. */
typedef struct xchan_emit xchan_emit;

/* Emits `v` downstream, moving its reference.  Returns XCHAN_STEP_REDUCED
 * if downstream stopped (the step should return XCHAN_STEP_REDUCED too),
 * XCHAN_STEP_FAILED if downstream failed or `v` is nil (propagate it), else
 * XCHAN_STEP_CONTINUE. */
XCHAN_API int32_t xchan_emit_push(xchan_emit *e, xchan_val v);

/* Records why the step fails; `error` (any kind, e.g. a host exception or a
 * string) is moved to the channel's error handler.  The step then returns
 * XCHAN_STEP_FAILED. */
XCHAN_API void xchan_emit_fail(xchan_emit *e, xchan_val error);

typedef struct xchan_xform_vtbl {
	uint32_t size; /* sizeof(xchan_xform_vtbl) */
	uint32_t reserved;
	/* Processes `in` (moved to the step).  Required. */
	int32_t (*step)(void *state, xchan_val in, xchan_emit *out);
	/* Flushes at close; may emit.  A channel calls it once: at close if
	 * no puts are pending, else when they have drained (core.async calls
	 * it on every take from a closed empty channel).  A transform reused
	 * by a combinator may see it again, so tolerate repeats.  Optional. */
	int32_t (*complete)(void *state, xchan_emit *out);
	/* Frees `state` when the transform is destroyed, on the freeing
	 * thread's own stack (never a go task's).  Optional. */
	void (*destroy)(void *state);
} xchan_xform_vtbl;

/* A transform object.  Owned by the caller until given to a channel (which
 * takes it over, even on error) or destroyed with xchan_xform_free.  A
 * transform belongs to at most one channel: it has state. */
typedef struct xchan_xform xchan_xform;

/* A transform from a vtable and its state.  Errors: XCHAN_EINVAL (no step,
 * size too small), XCHAN_ENOMEM (destroy(state) is called). */
XCHAN_API int32_t xchan_xform_new(xchan_xform **out, const xchan_xform_vtbl *vt,
    void *state);
XCHAN_API void xchan_xform_free(xchan_xform *xf);

/* Built-ins.  `fn` receives its `user` pointer and borrows `in`.
 * map: emits fn(in); a nil result fails the step (XCHAN_EXFORM).
 * filter: emits in when pred(in) != 0.
 * mapcat: fn pushes any number of values to `out` itself.
 * take: emits the first n values, then stops (REDUCED) after the n-th.
 * partition_all: emits arrays of n values; the completion emits the rest.
 * repeat: emits each value n times (an expanding step for tests).
 * comp: a pipeline of `n` transforms, first applied first; takes them over.
 * Errors: XCHAN_EINVAL (NULL fn, n == 0), XCHAN_ENOMEM. */
typedef xchan_val (*xchan_map_fn)(void *user, xchan_val in);
typedef int32_t (*xchan_pred_fn)(void *user, xchan_val in);
typedef int32_t (*xchan_mapcat_fn)(void *user, xchan_val in, xchan_emit *out);
XCHAN_API int32_t xchan_xform_map(xchan_xform **out, xchan_map_fn fn,
    void *user);
XCHAN_API int32_t xchan_xform_filter(xchan_xform **out, xchan_pred_fn pred,
    void *user);
XCHAN_API int32_t xchan_xform_mapcat(xchan_xform **out, xchan_mapcat_fn fn,
    void *user);
XCHAN_API int32_t xchan_xform_take(xchan_xform **out, uint64_t n);
XCHAN_API int32_t xchan_xform_partition_all(xchan_xform **out, uint64_t n);
XCHAN_API int32_t xchan_xform_repeat(xchan_xform **out, uint64_t n);
XCHAN_API int32_t xchan_xform_comp(xchan_xform **out, xchan_xform **xforms,
    size_t n);

/* A channel's error handler: gets the error value (moved) recorded by the
 * failing step; returns a value to inject into the buffer, or nil.  Runs
 * with no channel lock held, under the channel's step lock, never on a go
 * task's stack (as steps: docs/threading.md).  The default
 * prints "xchan: transform failed: ..." to stderr and returns nil. */
typedef xchan_val (*xchan_error_handler)(void *user, xchan_val error);

/* ---------------------------------------------------------------------------
 * Channels.
 * ------------------------------------------------------------------------- */
typedef struct xchan_chan xchan_chan;

typedef enum xchan_buf_kind {
	XCHAN_BUF_NONE = 0,     /* unbuffered: a put waits for a taker */
	XCHAN_BUF_FIXED = 1,    /* FIFO of `capacity`; puts wait when full */
	XCHAN_BUF_DROPPING = 2, /* when full, the new value is dropped */
	XCHAN_BUF_SLIDING = 3,  /* when full, the oldest value is dropped */
	XCHAN_BUF_PROMISE = 4   /* first value kept and given to every taker */
} xchan_buf_kind;

#define XCHAN_DEFAULT_MAX_PENDING 1024u

typedef struct xchan_chan_opts {
	uint32_t size;     /* sizeof(xchan_chan_opts) */
	uint32_t buf_kind; /* an xchan_buf_kind */
	uint64_t capacity; /* FIXED/DROPPING/SLIDING: > 0; NONE/PROMISE: 0 */
	/* A transform (needs a buffer, as in core.async); taken over by the
	 * channel, even when creation fails. */
	xchan_xform *xform;
	xchan_error_handler on_error; /* NULL: the default handler */
	void *on_error_user;
	/* Most pending puts, and separately most pending takes; 0 means
	 * XCHAN_DEFAULT_MAX_PENDING (1024). */
	uint32_t max_pending;
	uint32_t reserved;
} xchan_chan_opts;

/* Creates a channel with one reference, owned by the caller.  `opts` NULL
 * means unbuffered.  Errors: XCHAN_EINVAL (out NULL, unknown buf_kind,
 * capacity 0 for FIXED/DROPPING/SLIDING or non-zero for NONE/PROMISE, an
 * xform on an unbuffered channel, size too small), XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_chan_new(xchan_chan **out, const xchan_chan_opts *opts);

/* Shorthand: a channel of `buf_kind` with `capacity` and defaults. */
XCHAN_API int32_t xchan_chan_make(xchan_chan **out, uint32_t buf_kind,
    uint64_t capacity);

/* Adds a reference.  Returns `ch`. */
XCHAN_API xchan_chan *xchan_chan_retain(xchan_chan *ch);

/* Drops a reference; the last one frees the channel and releases values still
 * buffered.  Does not close it: a channel with waiters is kept alive by them
 * (blocking and parked put/take/alts as well as async operations).
 * Safe from any thread, including a garbage collector's finaliser.  NULL is
 * ignored. */
XCHAN_API void xchan_chan_release(xchan_chan *ch);

/* Closes the channel.  Idempotent.  Buffered values and pending puts stay
 * takeable (each pending putter completes with XCHAN_OK when taken); pending
 * takers that cannot be served complete with XCHAN_ECLOSED; later puts fail
 * with XCHAN_ECLOSED.  A promise channel closed without a value gives
 * XCHAN_ECLOSED to every taker.  Never blocks on other operations' callbacks,
 * which run on this thread after the lock is dropped, after the blocked
 * threads and tasks it released were woken.  Called from inside the
 * channel's own transform (a step, its completion or its error handler) it
 * is recorded and takes effect when that step ends (core.async's inner
 * close), returning XCHAN_OK.  Errors: XCHAN_EINVAL (NULL). */
XCHAN_API int32_t xchan_chan_close(xchan_chan *ch);

/* Puts `v` on `ch`, waiting until `deadline` for room or a taker.  Inside a
 * go task it parks the task instead of blocking the thread.  On XCHAN_OK the
 * channel owns `v`; on any error the caller still does.
 * Errors: XCHAN_ECLOSED (closed before the put completed), XCHAN_ETIMEDOUT
 * (deadline passed, nothing was transferred; with XCHAN_DEADLINE_POLL this
 * is XCHAN_EAGAIN, exactly as xchan_offer), XCHAN_ELIMIT (max_pending puts already waiting),
 * XCHAN_ENIL (v is nil), XCHAN_EINVAL (ch NULL, bad kind). */
XCHAN_API int32_t xchan_put(xchan_chan *ch, xchan_val v,
    xchan_deadline deadline);

/* Takes a value from `ch` into `*out` (which then owns it), waiting until
 * `deadline`.  Parks inside a go task.  Errors: XCHAN_ECLOSED (closed and
 * drained; *out is nil), XCHAN_ETIMEDOUT, XCHAN_EAGAIN (POLL and nothing
 * ready), XCHAN_ELIMIT (max_pending takes waiting), XCHAN_EINVAL.
 * On any error *out is nil. */
XCHAN_API int32_t xchan_take(xchan_val *out, xchan_chan *ch,
    xchan_deadline deadline);

/* Puts only if it can complete now (core.async offer!).  Never waits, never
 * queues.  XCHAN_OK, XCHAN_EAGAIN (full / no taker, or a transform channel
 * whose step another thread is running), XCHAN_ECLOSED, or the argument
 * errors of xchan_put.  Work bound: one channel-lock section; on a
 * transform channel, plus this value's own step (never another thread's:
 * the step lock is only tried). */
XCHAN_API int32_t xchan_offer(xchan_chan *ch, xchan_val v);

/* Takes only if a value is ready now (core.async poll!).  XCHAN_OK,
 * XCHAN_EAGAIN (nothing ready, or ready only after a step another thread's
 * step lock holds up: that holder does the work), XCHAN_ECLOSED (closed
 * and drained).  Never waits.  Work bound: one channel-lock section, plus on
 * a transform channel whose step lock is free the steps of the pending puts
 * that fit in the room it made (at most max_pending) and the completion. */
XCHAN_API int32_t xchan_poll(xchan_val *out, xchan_chan *ch);

/* ---------------------------------------------------------------------------
 * Asynchronous operations.
 *
 * An async put/take/alts calls `cb` exactly once with its result, unless the
 * starting call returns an error (then never).  By default (as core.async's
 * on-caller? true) the callback runs on the thread that completes the
 * operation: the caller itself when it completes at once, otherwise the
 * counterpart (a putter, a taker, close, the timer thread, xchan_shutdown,
 * or a canceller).  With XCHAN_ASYNC_DISPATCH it runs on the dispatch
 * executor, except for a cancel's (always inline on the canceller).
 *
 * The completion contract (docs/threading.md): a callback or notifier runs
 * with no xchan lock held (no channel lock, no step lock, no timer lock),
 * never on a go task's stack (a go task that completes an operation runs
 * the callback on its worker thread's own stack, with xchan_in_go() == 0),
 * and only after the completer has woken the blocked threads and tasks it
 * completed in the same step: a slow callback delays no unrelated waiter.
 * The timer thread runs the callbacks of deadlines (an ordinary thread).
 *
 * Registration never waits for another thread: on a transform channel whose
 * step another thread runs, the operation is queued and that thread serves
 * it when its step ends.  Work bound of a start call: the attempt (as
 * offer/poll), then one channel-lock section per clause.
 *
 * The result's value is moved to the callback: the taken value, or for a
 * put_async that did not happen (closed, canceled) the caller's value handed
 * back.  For alts_async, as for xchan_alts, only a put clause that completed
 * with XCHAN_OK moves its value; every other put value stays the caller's,
 * and the callback tells which clause (if any) completed.
 * ------------------------------------------------------------------------- */
typedef struct xchan_result {
	int32_t err;   /* XCHAN_OK, XCHAN_ECLOSED, XCHAN_ETIMEDOUT, ... */
	int32_t index; /* alts: the clause that completed, -1 if none */
	xchan_val val; /* take: the value; put: see above */
} xchan_result;

typedef void (*xchan_callback)(void *user, xchan_result *result);

/* A pending asynchronous operation, for cancelling it. */
typedef struct xchan_op xchan_op;

#define XCHAN_ASYNC_DISPATCH                                                   \
	0x100u /* run the callback on the dispatch executor */

/* Notify mode, for bindings.  The completer stores the result in the op and
 * calls `cb(user, NULL)`: a tiny non-blocking notifier (write an eventfd,
 * push the op on a lock-free list, call a threadsafe function), exactly once,
 * with no xchan lock held and never on a go task's stack.  The binding then
 * collects the result on its own thread with xchan_op_collect.  `out` must
 * not be NULL: the op handle is how the result is collected. */
#define XCHAN_ASYNC_NOTIFY 0x200u
/* (XCHAN_ASYNC_DISPATCH is ignored in notify mode: the notifier is already
 * the hand-off.  The notifier is suppressed only by a winning
 * xchan_op_cancel_ex; xchan_op_collect before it runs does not stop it.) */

/* With XCHAN_ASYNC_NOTIFY: the notifier runs exactly once in EVERY case,
 * even after xchan_op_cancel_ex took the result or the cancel won (then on
 * the cancelling thread, or later on the completing one).  A binding that
 * keeps a per-operation record can then free it in one place, the
 * notification, without knowing whether a notifier had already started when
 * it cancelled; xchan_op_collect there answers XCHAN_EDONE for a result that
 * cancel_ex took. */
#define XCHAN_ASYNC_NOTIFY_ALWAYS 0x400u

/* Starts an asynchronous put.  If `out` is not NULL it receives a handle
 * (release it with xchan_op_release), or NULL when the operation already
 * completed during the call (in notify mode, always the handle).  Returns XCHAN_OK when the callback will run
 * exactly once (it may already have run, with XCHAN_OK or XCHAN_ECLOSED);
 * errors (the callback never runs, `v` stays the caller's): XCHAN_ENIL,
 * XCHAN_ELIMIT, XCHAN_EINVAL (ch or cb NULL), XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_put_async(xchan_op **out, xchan_chan *ch, xchan_val v,
    uint32_t flags, xchan_callback cb, void *user);

/* Starts an asynchronous take; as xchan_put_async.  The callback gets
 * XCHAN_OK and the value, or XCHAN_ECLOSED and nil. */
XCHAN_API int32_t xchan_take_async(xchan_op **out, xchan_chan *ch,
    uint32_t flags, xchan_callback cb, void *user);

/* Cancels a pending operation.  Never loses a value: either the cancel wins,
 * nothing was transferred and the callback runs (on this thread, before the
 * call returns, even with XCHAN_ASYNC_DISPATCH; in notify mode the notifier
 * runs and the collected result is XCHAN_ECANCELED) with XCHAN_ECANCELED and
 * it returns XCHAN_OK; or the operation had already completed (its callback
 * delivers the result) and it returns XCHAN_EDONE.  Errors: XCHAN_EINVAL
 * (NULL). */
XCHAN_API int32_t xchan_op_cancel(xchan_op *op);

/* Cancel-or-collect.  Never loses a value and never leaves the caller
 * guessing.  Returns XCHAN_OK and fills `*out` in both of these cases, after
 * which the callback (or notifier) will not run — or, if it already ran as
 * a notifier, the result is simply not collectable again:
 *  - the cancel won: out->err is XCHAN_ECANCELED, out->index -1, and out->val
 *    is a put's value handed back (nil for takes and alts; alts put values
 *    always stay the caller's);
 *  - the operation had completed but its result was not yet delivered (the
 *    callback had not started, or notify mode and not yet collected):
 *    `*out` is that result, moved to the caller.
 * Returns XCHAN_EDONE (and *out nil) when the result was already delivered:
 * the callback has run or is running, or it was already collected.
 * If the operation is completing on another thread right now (claimed, its
 * result not yet stored), it waits for that store: a few instructions, no
 * user code.  Errors: XCHAN_EINVAL (op or out NULL). */
XCHAN_API int32_t xchan_op_cancel_ex(xchan_op *op, xchan_result *out);

/* Notify mode: moves the completed result into `*out` and returns XCHAN_OK;
 * XCHAN_EAGAIN if the op has not completed yet; XCHAN_EDONE if the result
 * was already collected or taken by xchan_op_cancel_ex; XCHAN_EINVAL (NULL,
 * or an op not started with XCHAN_ASYNC_NOTIFY). */
XCHAN_API int32_t xchan_op_collect(xchan_op *op, xchan_result *out);

typedef enum xchan_op_state {
	XCHAN_OP_PENDING = 0,   /* registered, not completed */
	XCHAN_OP_COMPLETED = 1, /* completed, result not yet delivered */
	XCHAN_OP_DELIVERED = 2, /* callback ran / result collected */
	XCHAN_OP_CANCELED = 3   /* canceled (result handed back by cancel) */
} xchan_op_state;

/* A snapshot of the op's state (an xchan_op_state); -XCHAN_EINVAL for NULL. */
XCHAN_API int32_t xchan_op_state_get(const xchan_op *op);

/* Drops the handle.  Does not cancel.  Any thread; NULL is ignored. */
XCHAN_API void xchan_op_release(xchan_op *op);

/* ---------------------------------------------------------------------------
 * Interruptible blocking waits.
 *
 * A cancel token lets another thread stop blocking put/take/alts calls made
 * with it: xchan_cancel_fire makes every call waiting with the token (and
 * every later one, until xchan_cancel_reset) return XCHAN_ECANCELED with
 * nothing transferred.  A token may be shared by many waiters.
 * ------------------------------------------------------------------------- */
typedef struct xchan_cancel xchan_cancel;

/* A new, unfired token with one reference.  Errors: XCHAN_EINVAL,
 * XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_cancel_new(xchan_cancel **out);
/* Fires the token (idempotent) and wakes its waiters.  Any thread. */
XCHAN_API int32_t xchan_cancel_fire(xchan_cancel *c);
/* Unfires it, for reuse.  Waiters already woken stay woken. */
XCHAN_API int32_t xchan_cancel_reset(xchan_cancel *c);
/* 1 if fired, 0 if not, -XCHAN_EINVAL for NULL. */
XCHAN_API int32_t xchan_cancel_fired(const xchan_cancel *c);
/* Drops the reference.  NULL is ignored. */
XCHAN_API void xchan_cancel_release(xchan_cancel *c);

typedef struct xchan_wait_opts {
	uint32_t size;        /* sizeof(xchan_wait_opts) */
	uint32_t flags;       /* XCHAN_WAIT_* bits */
	xchan_cancel *cancel; /* optional */
} xchan_wait_opts;

/* Return XCHAN_EINTR (nothing transferred) when a signal interrupts the
 * wait of an OS thread, so that the caller can run its host's signal
 * handling (Python's PyErr_CheckSignals) and wait again.  Inside a go task
 * it has no effect. */
#define XCHAN_WAIT_EINTR 1u

/* xchan_put / xchan_take (and xchan_alts_ex below) with wait options (NULL:
 * as the plain calls).  Additional errors: XCHAN_ECANCELED (the token fired,
 * before or during the wait), XCHAN_EINTR (XCHAN_WAIT_EINTR and a signal
 * interrupted the wait), XCHAN_EINVAL (size below the first version's,
 * unknown flags).  A waiting call holds a reference to its token. */
XCHAN_API int32_t xchan_put_ex(xchan_chan *ch, xchan_val v,
    xchan_deadline deadline, const xchan_wait_opts *opts);
XCHAN_API int32_t xchan_take_ex(xchan_val *out, xchan_chan *ch,
    xchan_deadline deadline, const xchan_wait_opts *opts);

/* ---------------------------------------------------------------------------
 * alts: wait on several operations, exactly one of which completes.
 *
 * Order: with XCHAN_ALTS_PRIORITY, clauses are tried in array order and the
 * first ready one wins; otherwise in a uniformly random order drawn from the
 * calling thread's generator (seed it with xchan_random_seed).  A put to a
 * closed channel is "ready" and completes the alts with XCHAN_ECLOSED
 * (ASYNC-204).  When nothing is ready: with XCHAN_DEADLINE_POLL the result is
 * XCHAN_EAGAIN with index -1 (core.async's :default; each clause is tried
 * once as xchan_offer / xchan_poll, with their bounds: never waits for
 * another thread's step); otherwise it waits until the deadline
 * (XCHAN_ETIMEDOUT, index -1).  Registrations of clauses that
 * did not complete are removed from their channels before the call returns
 * (or the callback runs).
 *
 * At most XCHAN_ALTS_MAX_CLAUSES (65,536) clauses per call; more is
 * XCHAN_EINVAL, before anything is tried.
 *
 * An alts never pairs its own put clause with its own take clause on the
 * same unbuffered channel: such a pair is not "ready" (a deliberate
 * difference from core.async, where the value can be lost there; Go's
 * select behaves the same way as xchan).
 * ------------------------------------------------------------------------- */
#define XCHAN_ALTS_MAX_CLAUSES 65536u
typedef enum xchan_alt_op {
	XCHAN_ALT_TAKE = 1,
	XCHAN_ALT_PUT = 2
} xchan_alt_op;

typedef struct xchan_clause {
	uint32_t op; /* an xchan_alt_op */
	uint32_t reserved;
	xchan_chan *chan;
	xchan_val val; /* PUT: the value (moved only if this clause wins) */
} xchan_clause;

#define XCHAN_ALTS_PRIORITY                                                    \
	1u /* flag bits of alts and async calls are distinct */

/* Blocking (or, in a go task, parking) alts.  `out->index` is the clause that
 * completed; `out->err` is XCHAN_OK (take got out->val, put delivered) or
 * XCHAN_ECLOSED (take on a closed drained channel, or put on a closed one: the
 * value stays the caller's).  Returns out->err, or XCHAN_EAGAIN /
 * XCHAN_ETIMEDOUT with index -1, or an argument error before anything is
 * tried: XCHAN_EINVAL (NULL, n == 0, bad op, NULL chan), XCHAN_ENIL (a put of
 * nil, ASYNC-255), XCHAN_ELIMIT (a channel's pending limit).  n above
 * XCHAN_ALTS_MAX_CLAUSES is XCHAN_EINVAL.  A put of a malformed value
 * (unknown kind, or non-zero aux on a non-host kind) is XCHAN_EINVAL. */
XCHAN_API int32_t xchan_alts(xchan_result *out, const xchan_clause *clauses,
    size_t n, uint32_t flags, xchan_deadline deadline);

/* Asynchronous alts; the callback gets what xchan_alts would return.  The
 * deadline, if any, is kept by the timer service (its callback then runs on
 * the timer thread).  Errors as xchan_alts, and XCHAN_ENOMEM or
 * XCHAN_ESHUTDOWN when the deadline cannot be armed (never silently
 * ignored; the callback does not run). */
XCHAN_API int32_t xchan_alts_async(xchan_op **out, const xchan_clause *clauses,
    size_t n, uint32_t flags, xchan_deadline deadline, xchan_callback cb,
    void *user);

/* xchan_alts with wait options (see xchan_put_ex). */
XCHAN_API int32_t xchan_alts_ex(xchan_result *out, const xchan_clause *clauses,
    size_t n, uint32_t flags, xchan_deadline deadline,
    const xchan_wait_opts *opts);

/* Seeds the calling thread's random generator (alts order).  For tests. */
XCHAN_API void xchan_random_seed(uint64_t seed);

/* ---------------------------------------------------------------------------
 * Timeouts.
 * ------------------------------------------------------------------------- */

/* A new unbuffered channel that closes `ms` milliseconds from now on the
 * monotonic clock (never earlier; a duration too large for the clock
 * never closes it).  Each call returns a channel of its own
 * (core.async shares them within 10 ms; xchan never does).  Releasing the
 * last reference before it fires cancels its timer.  ms <= 0 closes it on
 * the timer thread's next pass.  Errors: XCHAN_EINVAL, XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_timeout(xchan_chan **out, int64_t ms);

/* The same with an absolute deadline; XCHAN_DEADLINE_NEVER gives a channel
 * that never closes by itself. */
XCHAN_API int32_t xchan_timeout_at(xchan_chan **out, xchan_deadline deadline);

/* ---------------------------------------------------------------------------
 * Introspection (core.async datafy).  A snapshot: it may be stale at once.
 * ------------------------------------------------------------------------- */
typedef struct xchan_chan_info {
	uint32_t size; /* set by the caller: sizeof(xchan_chan_info) */
	uint32_t buf_kind;
	uint64_t capacity;
	uint64_t count; /* values in the buffer */
	uint32_t closed;
	uint32_t pending_puts;
	uint32_t pending_takes;
	uint32_t max_pending;
	uint64_t id; /* unique, increasing per channel */
} xchan_chan_info;

/* Fills `*out`.  Errors: XCHAN_EINVAL (NULL, size too small). */
XCHAN_API int32_t xchan_chan_info_get(xchan_chan_info *out, xchan_chan *ch);

/* ---------------------------------------------------------------------------
 * Executors, go tasks, thread and io_thread.
 *
 * An executor runs tasks.  Four workloads, as core.async names them:
 * DISPATCH runs go tasks and XCHAN_ASYNC_DISPATCH callbacks (default: a
 * fixed pool of ncpu workers); MIXED runs xchan_thread (a cached pool that
 * grows on demand, threads "xchan-mixed-N"); IO runs xchan_io_thread (cached,
 * "xchan-io-N"); COMPUTE is a fixed pool of ncpu threads.
 * ------------------------------------------------------------------------- */
typedef enum xchan_workload {
	XCHAN_WORKLOAD_DISPATCH = 0,
	XCHAN_WORKLOAD_MIXED = 1,
	XCHAN_WORKLOAD_IO = 2,
	XCHAN_WORKLOAD_COMPUTE = 3
} xchan_workload;

typedef void (*xchan_task_fn)(void *arg);

typedef struct xchan_executor_vtbl {
	uint32_t size; /* sizeof(xchan_executor_vtbl) */
	uint32_t reserved;
	/* Runs fn(arg) some time later on a thread of the executor's
	 * choosing.  Must not run it inline.  Returns XCHAN_OK or an error
	 * (the task is then not run). */
	int32_t (*execute)(void *self, xchan_task_fn fn, void *arg);
	/* Optional: called once at xchan_shutdown. */
	void (*close)(void *self);
} xchan_executor_vtbl;

typedef struct xchan_executor xchan_executor;

/* Wraps a user executor.  The vtable and self must outlive the executor.
 * Errors: XCHAN_EINVAL, XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_executor_new(xchan_executor **out,
    const xchan_executor_vtbl *vt, void *self);

/* The executor for a workload (borrowed; lives until shutdown).  Resolves the
 * factory on first use.  Errors: XCHAN_EINVAL, XCHAN_ESHUTDOWN, XCHAN_ELOAD
 * (XCHAN_EXECUTOR_FACTORY names a library or symbol that cannot be loaded). */
XCHAN_API int32_t xchan_executor_for(xchan_executor **out, uint32_t workload);

/* Runs fn(arg) on `ex`.  Errors: XCHAN_EINVAL, XCHAN_ESHUTDOWN, or the
 * executor's own. */
XCHAN_API int32_t xchan_execute(xchan_executor *ex, xchan_task_fn fn,
    void *arg);

/* An executor factory: returns the executor for `workload`, or NULL for the
 * default.  When it returns NULL for DISPATCH, dispatch uses what MIXED
 * resolves to (as core.async).  Must return NULL for workloads it does not
 * know.  Called at most once per workload; results are cached. */
typedef xchan_executor *(
    *xchan_executor_factory)(void *user, uint32_t workload);

/* Installs the factory.  Allowed once, before any executor is resolved;
 * otherwise XCHAN_ESTATE.  Without a call, the environment variable
 * XCHAN_EXECUTOR_FACTORY="libfoo.so:symbol" names one (resolved at first use;
 * the symbol has the xchan_executor_factory type and gets as `user` the
 * core's function table, a `const xchan_api *` of xchan_ext.h: the library
 * is loaded RTLD_LOCAL and a core linked into a binding is invisible to it,
 * so it makes its executors with api->executor_new).  A library or symbol
 * that cannot be loaded makes every executor lookup fail with XCHAN_ELOAD. */
XCHAN_API int32_t xchan_set_executor_factory(xchan_executor_factory f,
    void *user);

/* A task body for go/thread/io_thread.  Returns XCHAN_OK and sets *result
 * (moved; nil means "no value"), or an error code: the task failed.  A
 * failed task's result channel closes without a value and the task error
 * hook is called with the task's name. */
typedef int32_t (*xchan_go_fn)(void *arg, xchan_val *result);

typedef struct xchan_go_opts {
	uint32_t size; /* sizeof(xchan_go_opts) */
	uint32_t reserved;
	const char *name;    /* for reports; copied; NULL: "go-<id>" */
	uint64_t stack_size; /* go only; 0: the default (64 KiB); a size the
	                        system cannot map fails the task (ENOMEM) */
} xchan_go_opts;

/* Starts fn(arg) as a go task: a stackful coroutine on the dispatch executor.
 * Every channel operation inside it (at any call depth) parks the task
 * instead of blocking the worker.  `*out` (optional) receives the result
 * channel (promise-like: buffer 1) that gets the task's value and then
 * closes.  Errors: XCHAN_EINVAL, XCHAN_ENOMEM, XCHAN_ESHUTDOWN.
 * The task's stack is mapped when it first runs, so a queued task holds
 * none; if the system cannot map it then, the task fails as if fn had
 * returned XCHAN_ENOMEM (error hook, result channel closed, fn not run). */
XCHAN_API int32_t xchan_go(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts);

/* Runs fn(arg) on the MIXED executor (an OS thread; blocking is fine).
 * Returns its result channel as xchan_go. */
XCHAN_API int32_t xchan_thread(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts);

/* Runs fn(arg) on the IO executor. */
XCHAN_API int32_t xchan_io_thread(xchan_chan **out, xchan_go_fn fn, void *arg,
    const xchan_go_opts *opts);

/* 1 if the caller runs inside a go task. */
XCHAN_API int32_t xchan_in_go(void);

/* Task error hook: called with the failing task's name and error code, on
 * the task's thread.  NULL restores the default (an error through the log
 * hook). */
typedef void (
    *xchan_task_error_hook)(void *user, const char *task_name, int32_t err);
XCHAN_API void xchan_set_task_error_hook(xchan_task_error_hook hook,
    void *user);

/* go-checking.  When enabled (this call, or XCHAN_GO_CHECKING=1 or
 * =<threshold ms> in the environment), a watchdog reports every go task that
 * holds a dispatch worker longer than `threshold_ms` without parking, naming
 * the task, through `hook` (NULL: a warning through the log hook).
 * threshold_ms <= 0 disables it; a huge threshold saturates (never wraps to
 * a small one). */
typedef void (
    *xchan_go_check_hook)(void *user, const char *task_name, int64_t held_ms);
XCHAN_API int32_t xchan_set_go_checking(int64_t threshold_ms,
    xchan_go_check_hook hook, void *user);

#ifdef __cplusplus
}
#endif

/* Channel combinators (pipe, pipeline, mult, pub, mix, merge, ...). */
#include "xchan/xchan_combinators.h"

#endif /* XCHAN_XCHAN_H */
