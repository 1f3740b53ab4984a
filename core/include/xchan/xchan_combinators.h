/*
 * xchan_combinators.h — channel combinators, part of the stable ABI.
 * Included by xchan.h; do not include it alone.
 *
 * core.async's "flow and combinators" (pipe, pipeline, mult, pub, mix, merge,
 * split, map, take, reduce, transduce, into, onto-chan, to-chan), built only
 * on the public channel API above, so every binding gets them by wrapping
 * these functions.  docs/combinators.md lists them with their tests.
 *
 * Rules common to every combinator (unless a declaration says otherwise):
 *  - Processes.  A combinator that moves values starts a process: a go task
 *    (on the DISPATCH executor) or, for pipelines, jobs on an executor.  A
 *    process ends by itself when its input channel(s) close (or as each
 *    declaration says), leaving no task, timer or reference behind.
 *  - Done channels.  `out_done` (optional, may be NULL) receives a new
 *    channel, owned by the caller, that closes (without a value) when the
 *    process has ended: from then on it never calls the caller's callbacks
 *    again and no longer uses their `user` pointers, so a binding may drop
 *    the host functions it passed.  Wait on it with xchan_take (which then
 *    returns XCHAN_ECLOSED) or xchan_take_async.
 *  - Channels passed in are retained by the combinator for as long as its
 *    process needs them; the caller keeps its own references.  Channels
 *    returned through an out-parameter carry one reference for the caller.
 *  - Output channel options: `const xchan_chan_opts *` exactly as for
 *    xchan_chan_new (NULL: unbuffered); a transform in them is taken over,
 *    even when the call fails.
 *  - Values follow the header's ownership rules: a value a combinator
 *    cannot deliver (closed destination, no taps, no subscribers, muted) is
 *    released by it; fanning a value out retains one reference per extra
 *    copy (strings, bytes and arrays are never copied).
 *  - Callbacks run on the thread of the process (a DISPATCH worker, inside a
 *    go task, unless a declaration says otherwise).  They must not block for
 *    long; channel operations inside them park the task.  They run with no
 *    xchan lock held, but must not themselves call control functions of the
 *    same object (e.g. xchan_pub_sub from a topic function) while expecting
 *    the process to make progress.
 *  - `close` parameters follow core.async's `close?` (pass 1 for its
 *    default): non-zero closes the destination when the source closes.
 *  - Handles (xchan_mult, xchan_pub, xchan_mix) are reference-counted:
 *    releasing the last handle reference never stops a running process;
 *    control calls are safe from any thread, including from callbacks.
 *  - Errors common to all: XCHAN_EINVAL (a required pointer is NULL, an
 *    options struct too small), XCHAN_ENOMEM, XCHAN_ESHUTDOWN (the process
 *    could not be started after xchan_shutdown).  On any error nothing was
 *    started and out-parameters are NULL.
 */
#ifndef XCHAN_COMBINATORS_H
#define XCHAN_COMBINATORS_H
#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * pipe
 * ------------------------------------------------------------------------- */

/* Copies every value taken from `from` to `to` (core.async pipe).  When
 * `from` closes, closes `to` if `close` is non-zero.  Stops as soon as a put
 * to `to` fails (`to` was closed); the value taken is released and `from`
 * is left as it is.  Blocks: never.  Thread-safety: any thread. */
XCHAN_API int32_t xchan_pipe(xchan_chan **out_done, xchan_chan *from,
    xchan_chan *to, int32_t close);

/* ---------------------------------------------------------------------------
 * pipelines
 *
 * Each element taken from `from` goes through a transform of its own (a
 * transform has state and belongs to one channel, so the pipeline asks a
 * factory for a fresh one per element); its outputs (zero or more values)
 * are put on `to` in the order of the inputs, whatever order the elements
 * finish in.  At most `n` elements are in flight (being transformed, or
 * transformed and waiting for their turn).  When `from` closes and every
 * element is delivered, `to` is closed if `close` is non-zero.  If `to`
 * closes early, the pipeline keeps consuming `from` and releases what it
 * would have delivered (core.async does the same), so upstream never
 * stalls.  If memory runs out (or the executor refuses a job after
 * xchan_shutdown) while the pipeline runs, that element is dropped and a
 * line goes to stderr; the pipeline goes on.
 * ------------------------------------------------------------------------- */

/* Creates the transform for one element.  Called once per element, on the
 * pipeline's coordinator task (calls are serialized), with no lock held.
 * Returns XCHAN_OK and sets *out (taken over by the pipeline, which destroys
 * it when the element is done), or an error code: the element is then
 * handled as a failing step whose error value is that code as an INT. */
typedef int32_t (*xchan_xform_factory)(void *user, xchan_xform **out);

/* Options of the three pipelines.  Zero (or a NULL pointer) means default. */
typedef struct xchan_pipeline_opts {
	uint32_t size; /* sizeof(xchan_pipeline_opts) */
	uint32_t reserved;
	/* Called when an element's transform fails (xchan_emit_fail, or the
	 * factory's error as an INT).  Its non-nil result takes the failing
	 * element's place in the output, in order (core.async ex-handler).
	 * NULL: the default handler (a line on stderr, nothing emitted).
	 * Runs on the executor thread that ran the step.  Ignored by
	 * xchan_pipeline_async. */
	xchan_error_handler on_error;
	void *on_error_user;
	/* The executor that runs the transforms; NULL: COMPUTE for
	 * xchan_pipeline, MIXED for xchan_pipeline_blocking.  Ignored by
	 * xchan_pipeline_async. */
	xchan_executor *executor;
} xchan_pipeline_opts;

/* core.async pipeline: runs each element's transform on the COMPUTE
 * executor, at most `n` at a time, preserving order.  Steps must not block
 * (use xchan_pipeline_blocking for that).  `factory` and `factory_user` are
 * used until `out_done` closes.  Errors: XCHAN_EINVAL also when n == 0. */
XCHAN_API int32_t xchan_pipeline(xchan_chan **out_done, uint32_t n,
    xchan_chan *to, xchan_chan *from, int32_t close,
    xchan_xform_factory factory, void *factory_user,
    const xchan_pipeline_opts *opts);

/* core.async pipeline-blocking: as xchan_pipeline, on the MIXED executor
 * (threads that may block: I/O, sleeps, blocking channel operations). */
XCHAN_API int32_t xchan_pipeline_blocking(xchan_chan **out_done, uint32_t n,
    xchan_chan *to, xchan_chan *from, int32_t close,
    xchan_xform_factory factory, void *factory_user,
    const xchan_pipeline_opts *opts);

/* An asynchronous pipeline function: receives the element `in` (moved) and
 * `result`, a fixed(1) channel whose reference it owns.  It must return at
 * once, arrange for its outputs to be put on `result` (from another task or
 * thread, or with xchan_put_async), then close `result` and release it.
 * Runs on the coordinator task (calls are serialized). */
typedef void (*xchan_async_fn)(void *user, xchan_val in, xchan_chan *result);

/* core.async pipeline-async: calls af for each element, at most `n`
 * elements in flight, and delivers each element's results in order.  The
 * pipeline waits for every `result` channel to close; one that never closes
 * stalls it.  `af`/`user` are used until `out_done` closes.  `opts` may be
 * NULL (no field applies today). */
XCHAN_API int32_t xchan_pipeline_async(xchan_chan **out_done, uint32_t n,
    xchan_chan *to, xchan_chan *from, int32_t close, xchan_async_fn af,
    void *user, const xchan_pipeline_opts *opts);

/* ---------------------------------------------------------------------------
 * mult: one source, many taps
 * ------------------------------------------------------------------------- */
typedef struct xchan_mult xchan_mult;

/* Creates a mult of `src` (core.async mult): every value taken from `src`
 * is put on every current tap, concurrently, and every tap must accept it
 * (or close) before the next value is taken, so a slow tap slows them all;
 * give taps dropping or sliding buffers to avoid that.  A value taken while
 * there are no taps is released (dropped).  A tap whose put finds it closed
 * is removed.  A tap whose put cannot even start (its pending-put limit is
 * reached, out of memory) misses that value.  When `src` closes, taps
 * tapped with `close` are closed and the process ends.  `*out` is a handle
 * with one reference.  Errors: common ones. */
XCHAN_API int32_t xchan_mult_new(xchan_mult **out, xchan_chan **out_done,
    xchan_chan *src);

/* Adds `ch` as a tap (retained until untapped or the mult ends); tapping a
 * channel again only updates its `close` flag.  Tapping after the source
 * closed closes `ch` at once if `close` is set.  The mult reads its taps
 * when it fans out a value it has taken, as core.async does: a value whose
 * put to the source completed before the tap may still reach the new tap if
 * the mult had not yet fanned it out; every value taken after the tap does.
 * Thread-safety: any thread.  Errors: XCHAN_EINVAL, XCHAN_ENOMEM. */
XCHAN_API int32_t xchan_mult_tap(xchan_mult *m, xchan_chan *ch, int32_t close);

/* Removes `ch` (a put to it already in progress still completes when it is
 * taken or closed).  Not a tap: no-op.  Errors: XCHAN_EINVAL. */
XCHAN_API int32_t xchan_mult_untap(xchan_mult *m, xchan_chan *ch);

/* Removes every tap.  Errors: XCHAN_EINVAL. */
XCHAN_API int32_t xchan_mult_untap_all(xchan_mult *m);

/* Reference counting of the handle.  Releasing does not stop the mult. */
XCHAN_API xchan_mult *xchan_mult_retain(xchan_mult *m);
XCHAN_API void xchan_mult_release(xchan_mult *m);

/* ---------------------------------------------------------------------------
 * pub/sub: routing by topic
 * ------------------------------------------------------------------------- */
typedef struct xchan_pub xchan_pub;

/* Chooses the buffer of a topic's channel: sets *out_kind (an
 * xchan_buf_kind) and *out_capacity as for xchan_chan_make, from `topic`
 * (borrowed).  Returns XCHAN_OK or an error, which xchan_pub_sub returns.
 * Runs on the thread calling xchan_pub_sub. */
typedef int32_t (*xchan_pub_buf_fn)(void *user, uint32_t *out_kind,
    uint64_t *out_capacity, xchan_val topic);

/* Creates a pub of `src` (core.async pub).  For each value taken from
 * `src`, `topic_fn(topic_user, v)` (v borrowed) returns the topic (owned by
 * the pub; nil is a valid topic); topics are compared with xchan_val_equal.
 * The value goes to the topic's channel (buffered by `buf_fn`, NULL:
 * unbuffered), which feeds a mult of that topic's subscribers; a value whose
 * topic has no subscription is released.  When `src` closes, the topics'
 * channels close, then subscribers subscribed with `close`.  `topic_fn` is
 * used until `out_done` closes.  Errors: common ones. */
XCHAN_API int32_t xchan_pub_new(xchan_pub **out, xchan_chan **out_done,
    xchan_chan *src, xchan_map_fn topic_fn, void *topic_user,
    xchan_pub_buf_fn buf_fn, void *buf_user);

/* Subscribes `ch` to `topic` (borrowed; the pub keeps a copy).  Creates the
 * topic (calling buf_fn) on first use.  Subscribing after the source closed
 * closes `ch` at once if `close` is set.  Errors: XCHAN_EINVAL, XCHAN_ENOMEM,
 * buf_fn's error, or an invalid buffer from it (XCHAN_EINVAL). */
XCHAN_API int32_t xchan_pub_sub(xchan_pub *p, xchan_val topic, xchan_chan *ch,
    int32_t close);

/* Unsubscribes `ch` from `topic`; no-op if it is not subscribed. */
XCHAN_API int32_t xchan_pub_unsub(xchan_pub *p, xchan_val topic,
    xchan_chan *ch);

/* Drops every subscription of `topic` (the topic is forgotten; its
 * subscribers are not closed). */
XCHAN_API int32_t xchan_pub_unsub_topic(xchan_pub *p, xchan_val topic);

/* Drops every subscription of every topic. */
XCHAN_API int32_t xchan_pub_unsub_all(xchan_pub *p);

XCHAN_API xchan_pub *xchan_pub_retain(xchan_pub *p);
XCHAN_API void xchan_pub_release(xchan_pub *p);

/* ---------------------------------------------------------------------------
 * mix: many inputs, one output, with mute/pause/solo
 * ------------------------------------------------------------------------- */
typedef struct xchan_mix xchan_mix;

/* Attributes of a mixed input (core.async's state map keys).  MUTE: taken
 * from, but its values are dropped.  PAUSE: not taken from.  SOLO: if any
 * input is solo, only solo inputs are heard; the others are muted or
 * paused, as the solo mode says. */
#define XCHAN_MIX_MUTE 1u
#define XCHAN_MIX_PAUSE 2u
#define XCHAN_MIX_SOLO 4u

/* Solo modes: non-solo inputs are muted (the default) or paused. */
#define XCHAN_MIX_SOLO_MUTE 0u
#define XCHAN_MIX_SOLO_PAUSE 1u

/* One entry of xchan_mix_toggle: sets the attributes in `mask` of `chan` to
 * their values in `flags`; the others keep theirs. */
typedef struct xchan_mix_toggle_entry {
	xchan_chan *chan;
	uint32_t mask;  /* XCHAN_MIX_* bits to change */
	uint32_t flags; /* their new values */
} xchan_mix_toggle_entry;

/* Creates a mix writing to `out` (core.async mix).  Values of the inputs are
 * taken (in a uniformly random order when several are ready) and put on
 * `out`.  An input that closes is removed.  The mix never closes `out`.  The
 * process ends when a put to `out` fails (`out` was closed), or when the
 * last handle reference is released and no input remains.  Errors: common
 * ones. */
XCHAN_API int32_t xchan_mix_new(xchan_mix **out, xchan_chan **out_done,
    xchan_chan *out_ch);

/* Adds `ch` as an input with no attributes (an input already mixed has its
 * attributes reset, as core.async's admix).  Errors: XCHAN_EINVAL,
 * XCHAN_ENOMEM, XCHAN_ECLOSED (the mix has ended: its output closed). */
XCHAN_API int32_t xchan_mix_admix(xchan_mix *m, xchan_chan *ch);

/* Removes `ch`; no-op if it is not an input.  A value already taken from it
 * is still delivered. */
XCHAN_API int32_t xchan_mix_unmix(xchan_mix *m, xchan_chan *ch);

/* Removes every input. */
XCHAN_API int32_t xchan_mix_unmix_all(xchan_mix *m);

/* Applies `n` entries atomically (core.async toggle with a state map);
 * a channel not yet in the mix is added.  Errors: XCHAN_EINVAL (entries NULL
 * with n > 0, a NULL chan, unknown bits), XCHAN_ENOMEM (nothing changed),
 * XCHAN_ECLOSED (the mix has ended). */
XCHAN_API int32_t xchan_mix_toggle(xchan_mix *m,
    const xchan_mix_toggle_entry *entries, size_t n);

/* Sets the solo mode (XCHAN_MIX_SOLO_MUTE or _PAUSE).  Errors: XCHAN_EINVAL
 * (unknown mode). */
XCHAN_API int32_t xchan_mix_solo_mode(xchan_mix *m, uint32_t mode);

/* Reads the attributes of input `ch`.  Errors: XCHAN_EINVAL (NULL, or `ch`
 * is not an input). */
XCHAN_API int32_t xchan_mix_get(uint32_t *out_flags, xchan_mix *m,
    xchan_chan *ch);

XCHAN_API xchan_mix *xchan_mix_retain(xchan_mix *m);
/* Drops a handle reference; the last one lets the process end once no
 * input remains (inputs still mixed keep it running). */
XCHAN_API void xchan_mix_release(xchan_mix *m);

/* ---------------------------------------------------------------------------
 * merge, split, map, take
 * ------------------------------------------------------------------------- */

/* core.async merge: a new channel (`out_opts`) receiving every value of the
 * `n` channels in `chans` (taken in a uniformly random order when several
 * are ready); it closes once every input has closed (at once when n == 0).
 * A value whose put fails (the output was closed) is released and merging
 * goes on, as in core.async.  Errors: XCHAN_EINVAL also for chans NULL with
 * n > 0 or a NULL element. */
XCHAN_API int32_t xchan_merge(xchan_chan **out, xchan_chan **out_done,
    xchan_chan *const *chans, size_t n, const xchan_chan_opts *out_opts);

/* core.async split: values of `src` for which pred(user, v) (v borrowed)
 * is non-zero go to *out_true, the others to *out_false.  Both close when
 * `src` closes, or when a put to either fails (xchan closes both; core.async
 * would leave the other open).  Errors: common ones. */
XCHAN_API int32_t xchan_split(xchan_chan **out_true, xchan_chan **out_false,
    xchan_chan **out_done, xchan_chan *src, xchan_pred_fn pred, void *user,
    const xchan_chan_opts *true_opts, const xchan_chan_opts *false_opts);

/* Combines one value of each of `n` inputs: gets the values (borrowed) in
 * input order and returns the output value (owned); a nil result puts
 * nothing for this round. */
typedef xchan_val (
    *xchan_map_n_fn)(void *user, const xchan_val *vals, size_t n);

/* core.async map: repeatedly takes one value from each input (in order),
 * then puts fn(vals) on the new channel *out.  Closes *out as soon as any
 * input closes (the values of that round are released) or the put fails.
 * With n == 0, *out is already closed (ASYNC-238).  Errors: XCHAN_EINVAL
 * also for chans NULL with n > 0 or a NULL element. */
XCHAN_API int32_t xchan_map(xchan_chan **out, xchan_chan **out_done,
    xchan_chan *const *chans, size_t n, xchan_map_n_fn fn, void *user,
    const xchan_chan_opts *out_opts);

/* core.async (take n ch): a new channel receiving at most `n` values of
 * `src`, closed after the n-th, when `src` closes, or when a put fails. */
XCHAN_API int32_t xchan_take_n(xchan_chan **out, xchan_chan **out_done,
    xchan_chan *src, uint64_t n, const xchan_chan_opts *out_opts);

/* ---------------------------------------------------------------------------
 * reduce, transduce, into
 * ------------------------------------------------------------------------- */

/* A reducing step: receives the accumulator `acc` and the input `in` (both
 * moved to it; either may be released or reused) and stores the new
 * accumulator (owned) in *out_acc, which is nil on entry.  Returns
 * XCHAN_STEP_CONTINUE, XCHAN_STEP_REDUCED (stop early: *out_acc is the
 * result, core.async's `reduced`), or XCHAN_STEP_FAILED (the reduce fails;
 * anything stored in *out_acc is released). */
typedef int32_t (*xchan_reduce_fn)(void *user, xchan_val *out_acc,
    xchan_val acc, xchan_val in);

/* core.async reduce: folds every value of `src` into `init` (moved; nil
 * allowed).  *out (the result channel, buffer 1) receives the final
 * accumulator once `src` closes or the step returns XCHAN_STEP_REDUCED, then
 * closes; a nil accumulator just closes it; a failed step closes it without
 * a value (and reports through the task error hook).  `src` is not closed
 * or drained after an early stop.  `f`/`user` are no longer used once *out
 * has closed.  Errors: common ones (init is released on error). */
XCHAN_API int32_t xchan_reduce(xchan_chan **out, xchan_chan *src,
    xchan_reduce_fn f, void *user, xchan_val init);

/* core.async transduce: as xchan_reduce over the outputs of `xform` (taken
 * over, even on error) applied to the values of `src`; the transform's
 * completion runs when `src` closes, and XCHAN_STEP_REDUCED from the
 * transform (e.g. take) ends the reduce like a closed source.  The reducer
 * has no completion arity in C: apply it to the result.  A failing
 * transform step goes to the default error handler and emits nothing. */
XCHAN_API int32_t xchan_transduce(xchan_chan **out, xchan_chan *src,
    xchan_xform *xform, xchan_reduce_fn f, void *user, xchan_val init);

/* core.async into: *out receives one XCHAN_ARRAY value holding the items of
 * `init` (moved; nil or an ARRAY, else XCHAN_ETYPE) followed by every value
 * of `src` in order, once `src` closes; then closes.  Errors: common ones,
 * XCHAN_ETYPE. */
XCHAN_API int32_t xchan_into(xchan_chan **out, xchan_chan *src, xchan_val init);

/* ---------------------------------------------------------------------------
 * onto-chan, to-chan
 * ------------------------------------------------------------------------- */

/* core.async onto-chan!: puts the `n` values of `vals` on `ch` in order
 * (the references are taken over, even on error; the array itself is
 * copied and may be reused at once), then closes `ch` if `close` is set.
 * If a put fails (ch closed) the remaining values are released.  `out_done`
 * closes when it is finished (core.async returns that channel).  Errors:
 * common ones, XCHAN_ENIL (a nil element; nothing is put). */
XCHAN_API int32_t xchan_onto_chan(xchan_chan **out_done, xchan_chan *ch,
    xchan_val *vals, size_t n, int32_t close);

/* core.async to-chan!: a new channel buffered to min(100, n) (unbuffered
 * when n == 0) that yields the `n` values (taken over, even on error) and
 * then closes.  With n <= 100 no process is started.  Errors: as
 * xchan_onto_chan. */
XCHAN_API int32_t xchan_to_chan(xchan_chan **out, xchan_val *vals, size_t n);

#ifdef __cplusplus
}
#endif
#endif
