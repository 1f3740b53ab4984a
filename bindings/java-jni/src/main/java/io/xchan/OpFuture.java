package io.xchan;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The future of one asynchronous put, take or alts, and the handle of the
 * core's operation behind it (an {@code xchan_op}).
 *
 * <p>Three ways to start one, on {@link Chan} and {@link Alts}:
 * <ul>
 * <li>{@code putAsync(v)}, {@code takeAsync()}, {@code selectAsync()}: the
 * binding collects the result and completes this future on the future's
 * default executor, so no continuation of the user ever runs on an xchan
 * thread or inside a lock.</li>
 * <li>{@code putAsync(v, placement, callback)} and the like: the callback
 * form, as the core's callbacks. With {@link Placement#COMPLETER} the
 * callback runs on the thread that completes the op: the caller itself,
 * before the start call returns, when it completes at once (the start call
 * then returns null: there is no pending op, as the core's {@code out}
 * handle is NULL), otherwise the counterpart (a putter, a taker, the
 * closer, the core's timer thread or a canceller). With
 * {@link Placement#DISPATCH} it always runs on the DISPATCH executor. The
 * returned handle may be dropped: the callback still runs exactly once.
 * (A counterpart that completes the op while the start call is still
 * registering it leaves the delivery to the caller, which then runs the
 * callback before returning the handle.)</li>
 * <li>{@code putAsyncNotify(v, notifier)} and the like: the core's notify
 * mode, for users who run their own loop. The notifier runs exactly once,
 * when the op completes (on the completing thread: keep it tiny and
 * non-blocking), and the result waits in the op until {@link #collect()}
 * (or {@link #cancelEx()}) takes it; this future completes then.</li>
 * </ul>
 * Callbacks and notifiers never run as part of a go body: when a go body's
 * operation completes them, they run with {@link Xchan#inGo()} false.
 *
 * <p>The low-level surface mirrors the core: {@link #state()}
 * (xchan_op_state_get), {@link #collect()} (xchan_op_collect),
 * {@link #cancelEx()} (xchan_op_cancel_ex), and {@link #cancel(boolean)}
 * (cancel-or-collect, so no value is lost: if the cancel wins, nothing was
 * transferred and the future is cancelled, a put's value staying the
 * caller's; if the op had already completed, cancel returns false and the
 * future completes with the op's result instead).
 *
 * <p>How it works: the op is registered with the core in notify mode under a
 * token (the same natives as the blocking calls, jx_chan.c). The core's
 * notifier calls {@link Native#wake}, which hands the token to
 * {@link #notified(long)}.
 *
 * <p>Locks: only this object's monitor, held around the collect/cancel
 * natives and the freeing of the native record (none of them waits) and
 * never while the future is completed or user code runs. Invariants
 * (guarded by the monitor): {@code pending} is 0 until the start call
 * returned the native record; {@code resolved} becomes true exactly once,
 * by whichever of collect and cancel takes the result, and that one frees
 * the record. A notification that arrives before the start call returned is
 * remembered in {@code notified} and handled by {@link #started}.
 *
 * @param <R> the value the future completes with
 */
public final class OpFuture<R> extends CompletableFuture<R> {
    /** The states of an op, as the core names them (xchan_op_state). */
    public enum State {
        /** Registered, not completed. */
        PENDING,
        /** Completed; the result is not delivered yet (notify mode: not collected). */
        COMPLETED,
        /** The result was delivered: the future completed, the callback ran, or it was collected. */
        DELIVERED,
        /** Cancelled: nothing was transferred. */
        CANCELED
    }

    /** Turns a native result (object, io as in jx_chan.c) into the future's value. */
    interface Outcome<R> {
        R of(Object o, long[] io);
    }

    /** Which operation: a put's result hands its value back, an alts' names a clause. */
    enum Kind { PUT, TAKE, ALTS }

    /** How the result reaches the user. */
    enum Mode { AUTO, COMPLETER, DISPATCH, NOTIFY }

    private static final ConcurrentHashMap<Long, OpFuture<?>> PENDING = new ConcurrentHashMap<>();

    final long token = Native.newToken();
    private final Outcome<R> outcome;
    private final Kind kind;
    private final Mode mode;
    private final Runnable notifier;
    /** A put's value (handed back when the put did not happen); the alts' put clauses. */
    private final Object putValue;
    private final boolean[] altsPuts;
    /** The channels of the op, reachable while it is pending (their cleaners must not run). */
    private Object keepAlive;
    private long pending;
    private boolean notified;
    private boolean resolved;
    /** Notify mode: a result that completed during the start call, not collected yet. */
    private Object heldObject;
    private long[] heldIo;

    private OpFuture(Outcome<R> outcome, Object keepAlive, Kind kind, Mode mode, Runnable notifier,
            Object putValue, boolean[] altsPuts) {
        this.outcome = outcome;
        this.keepAlive = keepAlive;
        this.kind = kind;
        this.mode = mode;
        this.notifier = notifier;
        this.putValue = putValue;
        this.altsPuts = altsPuts;
    }

    /** A future registered under a fresh token: start the native op with {@link #token} next. */
    static <R> OpFuture<R> open(Outcome<R> outcome, Object keepAlive) {
        return open(outcome, keepAlive, Kind.TAKE, Mode.AUTO, null, null, null, null);
    }

    /**
     * As {@link #open(Outcome, Object)} with the mode, the user's callback
     * (attached before the op starts, so it sees the completion wherever it
     * happens) or notifier, and what {@link #collect()} reports.
     */
    static <R> OpFuture<R> open(Outcome<R> outcome, Object keepAlive, Kind kind, Mode mode,
            BiConsumer<? super R, ? super Throwable> callback, Runnable notifier, Object putValue,
            boolean[] altsPuts) {
        OpFuture<R> f = new OpFuture<>(outcome, keepAlive, kind, mode, notifier, putValue, altsPuts);
        if (callback != null) {
            f.whenComplete((v, e) -> Xchan.outsideGo(() -> callback.accept(v, e)));
        }
        PENDING.put(f.token, f);
        return f;
    }

    /** The start call threw: nothing was registered. */
    void abandon() {
        PENDING.remove(token);
    }

    /** The start call returned io: EAGAIN with the record in io[2], or a result now. */
    void started(Object o, long[] io) {
        if (io[0] != Native.EAGAIN) {
            PENDING.remove(token);
            if (mode == Mode.NOTIFY) {
                synchronized (this) {
                    heldObject = o;
                    heldIo = io.clone();
                    notified = true;
                }
                runNotifier();
                return;
            }
            synchronized (this) {
                resolved = true;
            }
            if (mode == Mode.DISPATCH) deliver(o, io);
            else settle(o, io); // on the caller, before the start call returns
            return;
        }
        boolean notifyNow;
        synchronized (this) {
            pending = io[2];
            notifyNow = notified;
        }
        if (notifyNow) onNotified();
    }

    /** Completed during the start call (only meaningful right after it). */
    boolean completedAtStart() {
        synchronized (this) {
            return pending == 0 && (resolved || heldIo != null);
        }
    }

    /** From {@link Native#wake}: false when the token is not an async op's. */
    static boolean notified(long token) {
        OpFuture<?> f = PENDING.get(token);
        if (f == null) return false;
        synchronized (f) {
            f.notified = true;
            if (f.pending == 0) return true; // started() handles it
        }
        f.onNotified();
        return true;
    }

    private void onNotified() {
        if (mode == Mode.NOTIFY) {
            runNotifier();
            return;
        }
        long[] io = new long[4];
        Object o;
        synchronized (this) {
            if (resolved) return;
            o = Native.collect(pending, io);
            if (io[0] == Native.EAGAIN) return; // not completed: the notifier comes later
            resolved = true;
            Native.pendingFree(pending);
        }
        PENDING.remove(token);
        deliver(o, io);
    }

    private void runNotifier() {
        if (notifier != null) Xchan.outsideGo(notifier);
    }

    /** Completes the future where the mode says. */
    private void deliver(Object o, long[] io) {
        switch (mode) {
            case COMPLETER:
                settle(o, io);
                break;
            case DISPATCH:
                try {
                    Xchan.executorFor(Workload.DISPATCH).execute(() -> settle(o, io));
                } catch (RuntimeException refused) {
                    settle(o, io); // shut down (or a refusing executor): here, rather than never
                }
                break;
            default:
                defaultExecutor().execute(() -> settle(o, io));
        }
    }

    /**
     * Cancels the op unless it already completed. Returns true when the
     * cancel won (nothing transferred); false when the op had completed:
     * the future then completes with its result, not as cancelled.
     */
    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        long[] io = new long[4];
        Object o;
        synchronized (this) {
            if (resolved) return isCancelled();
            o = resolveByCancel(io);
        }
        PENDING.remove(token);
        keepAlive = null;
        if (io[0] == Native.ECANCELED) return super.cancel(mayInterruptIfRunning);
        settle(o, io);
        return false;
    }

    /**
     * The cancel-or-collect of {@link #cancel(boolean)} and {@link #cancelEx()}:
     * resolves the op and returns its final result, with io filled in (the
     * result held back in notify mode, else the core's: ECANCELED when the
     * cancel won).  The caller holds the lock and has checked the op is not
     * resolved yet.
     */
    private Object resolveByCancel(long[] io) {
        resolved = true;
        if (heldIo != null) {
            System.arraycopy(heldIo, 0, io, 0, io.length);
            return heldObject;
        }
        Object o = Native.cancel(pending, io);
        Native.pendingFree(pending);
        return o;
    }

    /**
     * Cancel-or-collect (xchan_op_cancel_ex): if the op is still pending it
     * is cancelled and the result says ECANCELED (a put's value handed back
     * in {@link OpResult#value()}; this future is cancelled); if it had
     * completed and its result was not delivered yet, that result is
     * returned (and this future completes with it).
     *
     * @throws XchanException.EDONE when the result was already delivered
     */
    public OpResult cancelEx() {
        long[] io = new long[4];
        Object o;
        synchronized (this) {
            if (resolved) throw XchanException.of(Native.EDONE, "cancelEx: the result was already delivered");
            o = resolveByCancel(io);
        }
        PENDING.remove(token);
        keepAlive = null;
        if (io[0] == Native.ECANCELED) {
            super.cancel(false);
            return new OpResult("ECANCELED", kind == Kind.PUT ? putValue : null, -1);
        }
        OpResult r = raw(o, io);
        settle(o, io);
        return r;
    }

    /**
     * Notify mode's collect (xchan_op_collect): the result of a completed
     * op, moved to the caller; this future completes with it too.
     *
     * @throws XchanException.EAGAIN when the op has not completed yet
     * @throws XchanException.EDONE when the result was already collected
     *     (or taken by {@link #cancelEx()})
     * @throws XchanException.EINVAL when the op was not started in notify
     *     mode (its result goes to the future or the callback by itself)
     */
    public OpResult collect() {
        if (mode != Mode.NOTIFY) {
            throw XchanException.of(Native.EINVAL, "collect: the op was not started in notify mode");
        }
        long[] io = new long[4];
        Object o;
        synchronized (this) {
            if (resolved) throw XchanException.of(Native.EDONE, "collect: the result was already collected");
            if (heldIo != null) {
                o = heldObject;
                io = heldIo;
            } else {
                o = Native.collect(pending, io);
                if (io[0] == Native.EAGAIN) {
                    throw XchanException.of(Native.EAGAIN, "collect: the op has not completed yet");
                }
                Native.pendingFree(pending);
            }
            resolved = true;
        }
        PENDING.remove(token);
        OpResult r = raw(o, io);
        settle(o, io);
        return r;
    }

    /** A snapshot of the op's state (xchan_op_state_get). */
    public State state() {
        synchronized (this) {
            if (resolved) return isCancelled() ? State.CANCELED : State.DELIVERED;
            if (heldIo != null) return State.COMPLETED;
            if (pending == 0) return State.PENDING;
            int s = Native.opState(pending);
            return s >= 0 && s < 4 ? State.values()[s] : State.PENDING;
        }
    }

    /** The result as the core gives it (collect, cancelEx). */
    private OpResult raw(Object o, long[] io) {
        int err = (int) io[0];
        int index = (int) io[3];
        String name = XchanException.name(err);
        Object value = null;
        if (kind == Kind.PUT) {
            if (err != Native.OK) value = putValue;
        } else if (err == Native.OK && !(kind == Kind.ALTS && index >= 0 && altsPuts[index])) {
            value = Native.result(o, io);
        }
        return new OpResult(name, value, kind == Kind.ALTS ? index : -1);
    }

    private void settle(Object o, long[] io) {
        keepAlive = null;
        try {
            complete(outcome.of(o, io));
        } catch (RuntimeException e) {
            completeExceptionally(e);
        }
    }

    /** Ops started and not yet resolved (tests: none must be left behind). */
    static int openCount() {
        return PENDING.size();
    }
}
