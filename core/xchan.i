/*
 * xchan.i — the SWIG description of xchan's public API, for the languages
 * that have no hand-written binding (Ruby is generated and tested from it:
 * bindings/ruby).
 *
 * What it describes
 *   channels (make, close, release, info), values (every scalar, strings,
 *   bytes, channels, boxes, arrays; typemaps per language), put/take with
 *   deadlines, offer/poll, alts, timeouts, native workers on go / thread /
 *   io_thread (xchan_native_run, called through libffi), the clock and
 *   deadlines, and the error codes.
 *
 * How it maps
 *  - Every call that the core reports with an xchan_err returns the type
 *    `xchan_status` here; its out typemap raises the target language's
 *    exception for any code but XCHAN_OK (one exception class per code,
 *    generated from XCHAN_ERRORS; see xchan_swig_raise below).
 *  - Out parameters (`xchan_chan **`, `xchan_val *`, `xchan_result *`)
 *    become return values.
 *  - A channel is a proxy object that owns one reference; the language's
 *    garbage collector releases it (xchan_chan_release is safe from any
 *    thread, including a finaliser).
 *  - Blocking calls (put, take, alts) go through xchan_swig_put/_take/
 *    _alts, which release the language's global lock while they wait
 *    (Ruby: the GVL, through rb_thread_call_without_gvl) and stay
 *    interruptible (see "Blocking" below).
 *
 * The language-specific part (core/xchan_<lang>.swg; Ruby's is
 * xchan_ruby.swg) provides: xchan_swig_to_val / xchan_swig_from_val (value
 * conversion), xchan_swig_to_clauses / _to_vals / _from_alts_result (the
 * lists of alts and native calls), xchan_swig_raise (the exception classes)
 * and XCHAN_SWIG_VOID; for a language with a global lock, the blocking
 * helper below gets a branch that releases it.
 *
 * Blocking: a call that must wait does so without the language's lock,
 * with a cancel token of its own (xchan_put_ex / take_ex / alts_ex); the
 * language's interrupt (Ruby's Thread#raise, Thread#kill, Ctrl-C) fires
 * the token, so the wait ends at once with nothing transferred, and the
 * interrupt is then raised in the language.
 */
#if defined(SWIGRUBY)
%module "Xchan::Raw"
#else
%module xchan
#endif

%{
#include <string.h>

#include "xchan/xchan.h"
#include "xchan/xchan_ext.h"
%}

%include <stdint.i>

/* xchan_chan_make -> chan_make, xchan_now -> now (the module is the
 * namespace). */
%rename("%(strip:[xchan_])s") "";

/* ---- errors ----------------------------------------------------------- */

typedef int32_t xchan_status;
typedef int64_t xchan_deadline;

%{
typedef int32_t xchan_status;

static void xchan_swig_raise(int32_t err, const char *detail);
%}

%typemap(out) xchan_status {
	if ($1 != XCHAN_OK) {
		xchan_swig_raise($1, NULL);
		SWIG_fail;
	}
	$result = XCHAN_SWIG_VOID;
}

/* ---- constants ---------------------------------------------------------- */

%constant int32_t OK = XCHAN_OK;
%constant int32_t EINVAL = XCHAN_EINVAL;
%constant int32_t ECLOSED = XCHAN_ECLOSED;
%constant int32_t ETIMEDOUT = XCHAN_ETIMEDOUT;
%constant int32_t EAGAIN = XCHAN_EAGAIN;

%constant uint32_t BUF_NONE = XCHAN_BUF_NONE;
%constant uint32_t BUF_FIXED = XCHAN_BUF_FIXED;
%constant uint32_t BUF_DROPPING = XCHAN_BUF_DROPPING;
%constant uint32_t BUF_SLIDING = XCHAN_BUF_SLIDING;
%constant uint32_t BUF_PROMISE = XCHAN_BUF_PROMISE;

%constant uint32_t WORKLOAD_DISPATCH = XCHAN_WORKLOAD_DISPATCH;
%constant uint32_t WORKLOAD_MIXED = XCHAN_WORKLOAD_MIXED;
%constant uint32_t WORKLOAD_IO = XCHAN_WORKLOAD_IO;

%constant uint32_t ALT_TAKE = XCHAN_ALT_TAKE;
%constant uint32_t ALT_PUT = XCHAN_ALT_PUT;
%constant uint32_t ALTS_PRIORITY = XCHAN_ALTS_PRIORITY;

%constant int64_t DEADLINE_NEVER = XCHAN_DEADLINE_NEVER;
%constant int64_t DEADLINE_POLL = XCHAN_DEADLINE_POLL;
%constant uint32_t NATIVE_MAX_ARGS = XCHAN_NATIVE_MAX_ARGS;

/* ---- library, clock ----------------------------------------------------- */

int32_t xchan_version_number(void);
const char *xchan_version_string(void);
const char *xchan_strerror(int32_t err);
const char *xchan_err_name(int32_t err);
xchan_status xchan_shutdown(void);
int64_t xchan_now(void);
xchan_deadline xchan_deadline_in_ms(int64_t ms);
xchan_deadline xchan_deadline_in_ns(int64_t ns);

/* ---- channels ----------------------------------------------------------- */

%{
static xchan_chan_info
xchan_swig_chan_info(xchan_chan *ch)
{
	xchan_chan_info info;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	xchan_chan_info_get(&info, ch);
	return info;
}

static uint64_t
xchan_swig_chan_id(xchan_chan *ch)
{
	return xchan_swig_chan_info(ch).id;
}
%}

#if defined(SWIGRUBY)
/* Ruby: a channel argument is checked by class (one rb_obj_is_kind_of)
 * instead of SWIG's generic check, which reads an instance variable and
 * compares type names on every call: put/take's hot path. */
%typemap(in) xchan_chan * {
	$1 = xchan_swig_chan_arg($input, $descriptor(xchan_chan *));
	if ($1 == NULL && !NIL_P($input)) {
		void *p_ = NULL;
		int res_ = SWIG_ConvertPtr($input, &p_, $descriptor, 0);
		if (!SWIG_IsOK(res_))
			SWIG_exception_fail(SWIG_ArgError(res_),
			    "expected an Xchan::Chan");
		$1 = (xchan_chan *)p_;
	}
}
%{
static xchan_chan *
xchan_swig_chan_arg(VALUE obj, swig_type_info *ty)
{
	swig_class *k = (swig_class *)ty->clientdata;
	if (k != NULL && !NIL_P(obj) && TYPE(obj) == T_DATA &&
	    !RTYPEDDATA_P(obj) && rb_obj_is_kind_of(obj, k->klass))
		return (xchan_chan *)DATA_PTR(obj);
	return NULL;
}
%}
#endif

/* xchan_chan_info, read-only (a snapshot: it may be stale at once). */
%rename(ChanInfo) xchan_chan_info;
%immutable;
typedef struct xchan_chan_info {
	uint32_t buf_kind;
	uint64_t capacity;
	uint64_t count;
	uint32_t closed;
	uint32_t pending_puts;
	uint32_t pending_takes;
	uint32_t max_pending;
	uint64_t id;
} xchan_chan_info;
%mutable;

%rename(info) xchan_chan::snapshot;
%rename(Chan) xchan_chan;
%nodefaultctor xchan_chan;
typedef struct xchan_chan {
} xchan_chan;

%extend xchan_chan {
	~xchan_chan() { xchan_chan_release($self); }
	/* Closes the channel (idempotent): the core's xchan_chan_close. */
	xchan_status close();
	/* The channel's unique id (for ==, hash and inspect). */
	uint64_t id() { return xchan_swig_chan_id($self); }
	/* Values in the buffer now, and whether it is closed. */
	uint64_t count() { return xchan_swig_chan_info($self).count; }
	int closed() { return (int)xchan_swig_chan_info($self).closed; }
	/* A snapshot of the channel's state (core.async datafy); `info` in
	 * the language (a C name xchan_chan_info would clash). */
	xchan_chan_info snapshot() { return xchan_swig_chan_info($self); }
}




/* A new channel comes back as an owning proxy. */
%typemap(in, numinputs=0) xchan_chan **OUT (xchan_chan *tmp = NULL) {
	$1 = &tmp;
}
%typemap(argout) xchan_chan **OUT {
	$result = SWIG_AppendOutput($result,
	    SWIG_NewPointerObj(tmp$argnum, $descriptor(xchan_chan *),
		SWIG_POINTER_OWN));
}

xchan_status xchan_chan_make(xchan_chan **OUT, uint32_t buf_kind,
    uint64_t capacity);
/* xchan_chan_new with the plain options (buffer, capacity, max_pending;
 * 0: the default 1024); transforms are not described here. */
%rename(chan_new) xchan_swig_chan_new;
xchan_status xchan_swig_chan_new(xchan_chan **OUT, uint32_t buf_kind,
    uint64_t capacity, uint32_t max_pending);
%{
static int32_t
xchan_swig_chan_new(xchan_chan **out, uint32_t buf_kind, uint64_t capacity,
    uint32_t max_pending)
{
	xchan_chan_opts o;
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.buf_kind = buf_kind;
	o.capacity = capacity;
	o.max_pending = max_pending;
	return xchan_chan_new(out, &o);
}
%}
/* Also as a module function (Chan#close is the same call). */
xchan_status xchan_chan_close(xchan_chan *ch);
/* Seeds the calling thread's alts order (for tests). */
void xchan_random_seed(uint64_t seed);
xchan_status xchan_timeout(xchan_chan **OUT, int64_t ms);
xchan_status xchan_timeout_at(xchan_chan **OUT, xchan_deadline deadline);

/* ---- values ------------------------------------------------------------- */

/* An owned value the language cannot represent natively (a box, or a
 * host value of another runtime): carried opaquely, so it can go back on
 * a channel or to a native function ("p" argument). */
%rename(Opaque) xchan_swig_opaque;
%nodefaultctor xchan_swig_opaque;
%inline %{
typedef struct xchan_swig_opaque {
	xchan_val v;
} xchan_swig_opaque;
%}
%extend xchan_swig_opaque {
	~xchan_swig_opaque() {
		xchan_val_release($self->v);
		free($self);
	}
	/* The value's kind name, e.g. "box". */
	const char *kind() { return xchan_kind_name($self->v.kind); }
}

/* Language-specific (xchan_<lang>.swg): xchan_swig_to_val turns a host
 * object into an owned value (XCHAN_OK, or an error with a message);
 * xchan_swig_from_val turns an owned value into a host object (releasing
 * the value). */

/* A value going INTO the call; the callee consumes it (moves or releases
 * it) whatever the outcome. */
%typemap(in) xchan_val MOVED {
	const char *why = NULL;
	int32_t err_ = xchan_swig_to_val($input, &$1, &why);
	if (err_ != XCHAN_OK) {
		xchan_swig_raise(err_, why);
		SWIG_fail;
	}
}
/* A value coming OUT of the call. */
%typemap(in, numinputs=0) xchan_val *OUT (xchan_val tmp) {
	tmp = xchan_val_nil();
	$1 = &tmp;
}
%typemap(argout) xchan_val *OUT {
	$result = SWIG_AppendOutput($result, xchan_swig_from_val(tmp$argnum));
}

/* ---- put, take, offer, poll ---------------------------------------------- */

%rename(put) xchan_swig_put;
%rename(take) xchan_swig_take;
%rename(offer) xchan_swig_offer;
%rename(poll) xchan_swig_poll;
%rename(alts) xchan_swig_alts;

/* Put until `deadline` (DEADLINE_NEVER, DEADLINE_POLL or xchan_deadline_in_*).
 * Raises ECLOSED, ETIMEDOUT (EAGAIN for POLL), ENIL, ELIMIT. */
xchan_status xchan_swig_put(xchan_chan *ch, xchan_val MOVED,
    xchan_deadline deadline);
/* Take until `deadline`; returns the value.  Raises ECLOSED when closed and
 * drained, ETIMEDOUT, EAGAIN (POLL). */
xchan_status xchan_swig_take(xchan_val *OUT, xchan_chan *ch,
    xchan_deadline deadline);
/* Never waits.  Raise EAGAIN (not now) or ECLOSED. */
xchan_status xchan_swig_offer(xchan_chan *ch, xchan_val MOVED);
xchan_status xchan_swig_poll(xchan_val *OUT, xchan_chan *ch);

/* ---- alts --------------------------------------------------------------- */

/* Clauses come from the language's list of clauses (Ruby: an Array of
 * [ALT_TAKE, chan] / [ALT_PUT, chan, value]).  The result is
 * [index, value]: for a take the value taken (nil: closed); for a put
 * true (delivered) or false (the channel was closed), as core.async's
 * alts! gives.  Raises ETIMEDOUT / EAGAIN (POLL: nothing ready). */
%typemap(in) (xchan_clause *clauses, size_t n) {
	const char *why = NULL;
	int32_t err_ = xchan_swig_to_clauses($input, &$1, &$2, &why);
	if (err_ != XCHAN_OK) {
		xchan_swig_raise(err_, why);
		SWIG_fail;
	}
}
/* xchan_swig_alts consumes the clause array (and the put values that did
 * not move) on every path, so raising afterwards leaks nothing. */
%typemap(in, numinputs=0) xchan_result *OUT (xchan_result tmp) {
	memset(&tmp, 0, sizeof(tmp));
	tmp.index = -1;
	$1 = &tmp;
}
%typemap(argout) xchan_result *OUT {
	$result = SWIG_AppendOutput($result,
	    xchan_swig_from_alts_result(&tmp$argnum));
}
xchan_status xchan_swig_alts(xchan_result *OUT, xchan_clause *clauses,
    size_t n, uint32_t flags, xchan_deadline deadline);

/* ---- native workers (xchan_ext.h) ----------------------------------------- */

/* Runs `symbol` of the shared library `lib_path` with the arguments given
 * as the language's list, on WORKLOAD_DISPATCH (go), WORKLOAD_MIXED
 * (thread) or WORKLOAD_IO (io_thread); returns the result channel.  Errors
 * raise with xchan_native_check's message (ELOAD, EINVAL, ETYPE). */
%typemap(in) (const xchan_val *args, size_t nargs) {
	const char *why = NULL;
	int32_t err_ = xchan_swig_to_vals($input, &$1, &$2, &why);
	if (err_ != XCHAN_OK) {
		xchan_swig_raise(err_, why);
		SWIG_fail;
	}
}
%typemap(freearg) (const xchan_val *args, size_t nargs) {
	xchan_swig_free_vals((xchan_val *)$1, $2);
}
%typemap(in, numinputs=0) const xchan_go_opts *opts {
	$1 = NULL;
}
%exception xchan_native_run {
	$action
	if (result != XCHAN_OK) {
		char msg_[256];
		xchan_native_check(msg_, sizeof(msg_), arg3, arg4, arg5, arg6,
		    arg7);
		/* Raising jumps past freearg: drop the arguments first. */
		xchan_swig_free_vals((xchan_val *)arg6, arg7);
		arg6 = NULL;
		xchan_swig_raise(result, msg_[0] ? msg_ : NULL);
		SWIG_fail;
	}
}
%rename(native_run) xchan_native_run;
xchan_status xchan_native_run(xchan_chan **OUT, uint32_t workload,
    const char *lib_path, const char *symbol, const char *signature,
    const xchan_val *args, size_t nargs, const xchan_go_opts *opts);

/* ---- the language-neutral helpers ----------------------------------------- */

%{
/* Clause arrays: put values are owned by the array until
 * xchan_swig_alts moves the winner's and marks it (kind NIL). */
static void
xchan_swig_free_clauses(xchan_clause *c, size_t n)
{
	if (c == NULL)
		return;
	for (size_t k = 0; k < n; k++)
		if (c[k].op == XCHAN_ALT_PUT)
			xchan_val_release(c[k].val);
	free(c);
}

static void
xchan_swig_free_vals(xchan_val *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t k = 0; k < n; k++)
		xchan_val_release(v[k]);
	free(v);
}

enum { XCHAN_SWIG_PUT, XCHAN_SWIG_TAKE, XCHAN_SWIG_ALTS };

/* One blocking operation.  `cancel` is the call's own token: the
 * language's interrupt fires it, which makes the core's wait return
 * XCHAN_ECANCELED with nothing transferred. */
typedef struct xchan_swig_wait {
	int what;
	xchan_chan *ch;
	xchan_val *val;
	xchan_result *res;
	const xchan_clause *clauses;
	size_t n;
	uint32_t flags;
	xchan_deadline deadline;
	xchan_cancel *cancel;
	int32_t err;
	int jump; /* Ruby: a pending non-local exit (rb_protect state) */
} xchan_swig_wait;

static int32_t
xchan_swig_attempt(xchan_swig_wait *w, xchan_deadline d)
{
	xchan_wait_opts o;
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.cancel = d == XCHAN_DEADLINE_POLL ? NULL : w->cancel;
	switch (w->what) {
	case XCHAN_SWIG_PUT:
		return xchan_put_ex(w->ch, *w->val, d, &o);
	case XCHAN_SWIG_TAKE:
		return xchan_take_ex(w->val, w->ch, d, &o);
	default:
		return xchan_alts_ex(w->res, w->clauses, w->n, w->flags, d, &o);
	}
}

/* Waits without the language's lock until done, the deadline, or the
 * token fires (w->err XCHAN_ECANCELED). */
static void *
xchan_swig_wait_unlocked(void *p)
{
	xchan_swig_wait *w = p;
	w->err = xchan_swig_attempt(w, w->deadline);
	return NULL;
}

/* The language's "unblocking function": may run on any thread, at any
 * time, even before the wait has started (the fired token then makes the
 * wait return at once). */
static void
xchan_swig_interrupt(void *p)
{
	xchan_cancel_fire(((xchan_swig_wait *)p)->cancel);
}

#if defined(SWIGRUBY)
#include <ruby/thread.h>

static VALUE
xchan_swig_check_ints(VALUE unused)
{
	(void)unused;
	rb_thread_check_ints();
	return Qnil;
}

/* Ruby: try once holding the GVL (no cost when the operation can complete
 * at once); otherwise wait without the GVL.  Ruby's unblocking function
 * fires the call's cancel token; then Ruby's pending interrupts are run
 * (they may raise: Thread#raise, Thread#kill, Interrupt) and, if none
 * raised (a spurious wake-up), the wait resumes with the token reset. */
static int32_t
xchan_swig_blocking(xchan_swig_wait *w)
{
	int32_t err = xchan_swig_attempt(w, XCHAN_DEADLINE_POLL);
	if (err != XCHAN_EAGAIN || w->deadline == XCHAN_DEADLINE_POLL)
		return err;
	if ((err = xchan_cancel_new(&w->cancel)) != XCHAN_OK)
		return err;
	for (;;) {
		rb_thread_call_without_gvl(xchan_swig_wait_unlocked, w,
		    xchan_swig_interrupt, w);
		if (w->err != XCHAN_ECANCELED)
			break;
		/* Interrupted: nothing was transferred.  If an interrupt
		 * raises, the caller cleans up, then xchan_swig_rethrow
		 * re-raises it. */
		int state = 0;
		rb_protect(xchan_swig_check_ints, Qnil, &state);
		if (state != 0) {
			w->jump = state;
			w->err = XCHAN_EINTR;
			break;
		}
		xchan_cancel_reset(w->cancel);
	}
	xchan_cancel_release(w->cancel);
	w->cancel = NULL;
	return w->err;
}

static void
xchan_swig_rethrow(xchan_swig_wait *w)
{
	if (w->jump != 0)
		rb_jump_tag(w->jump);
}
#else
/* Languages without a global lock: wait in place. */
static int32_t
xchan_swig_blocking(xchan_swig_wait *w)
{
	(void)xchan_swig_interrupt;
	xchan_swig_wait_unlocked(w);
	return w->err;
}

static void
xchan_swig_rethrow(xchan_swig_wait *w)
{
	(void)w;
}
#endif

static int32_t
xchan_swig_put(xchan_chan *ch, xchan_val v, xchan_deadline deadline)
{
	xchan_swig_wait w;
	memset(&w, 0, sizeof(w));
	w.what = XCHAN_SWIG_PUT;
	w.ch = ch;
	w.val = &v;
	w.deadline = deadline;
	int32_t err = ch == NULL ? XCHAN_EINVAL : xchan_swig_blocking(&w);
	if (err != XCHAN_OK)
		xchan_val_release(v);
	xchan_swig_rethrow(&w);
	return err;
}

static int32_t
xchan_swig_take(xchan_val *out, xchan_chan *ch, xchan_deadline deadline)
{
	xchan_swig_wait w;
	memset(&w, 0, sizeof(w));
	w.what = XCHAN_SWIG_TAKE;
	w.ch = ch;
	w.val = out;
	w.deadline = deadline;
	int32_t err = ch == NULL ? XCHAN_EINVAL : xchan_swig_blocking(&w);
	xchan_swig_rethrow(&w);
	return err;
}

static int32_t
xchan_swig_offer(xchan_chan *ch, xchan_val v)
{
	int32_t err = xchan_offer(ch, v);
	if (err != XCHAN_OK)
		xchan_val_release(v);
	return err;
}

static int32_t
xchan_swig_poll(xchan_val *out, xchan_chan *ch)
{
	return xchan_poll(out, ch);
}

/* Closed channels are an answer for alts, not an error: only timeouts,
 * POLL misses and argument errors raise.  A completed put clause's value
 * has moved into the channel; mark it so freearg does not release it. */
static int32_t
xchan_swig_alts(xchan_result *out, xchan_clause *clauses, size_t n,
    uint32_t flags, xchan_deadline deadline)
{
	xchan_swig_wait w;
	memset(&w, 0, sizeof(w));
	w.what = XCHAN_SWIG_ALTS;
	w.res = out;
	w.clauses = clauses;
	w.n = n;
	w.flags = flags;
	w.deadline = deadline;
	int32_t err = xchan_swig_blocking(&w);
	if ((err == XCHAN_OK || err == XCHAN_ECLOSED) && out->index >= 0 &&
	    (size_t)out->index < n &&
	    clauses[out->index].op == XCHAN_ALT_PUT) {
		if (out->err == XCHAN_OK)
			clauses[out->index].val = xchan_val_nil();
		out->val = xchan_val_bool(out->err == XCHAN_OK);
	}
	xchan_swig_free_clauses(clauses, n);
	xchan_swig_rethrow(&w);
	return err == XCHAN_ECLOSED ? XCHAN_OK : err;
}
%}

/* ---- the language-specific parts --------------------------------------- */

#if defined(SWIGRUBY)
%include "xchan_ruby.swg"
#else
#error "xchan.i: value typemaps exist for Ruby only; add xchan_<lang>.swg"
#endif
