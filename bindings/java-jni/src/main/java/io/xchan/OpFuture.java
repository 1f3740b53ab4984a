package io.xchan;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The future of one asynchronous put, take or alts ({@link Chan#putAsync},
 * {@link Chan#takeAsync}, {@link Alts#selectAsync}).
 *
 * <p>How it works: the op is registered with the core in notify mode under a
 * token (the same natives as the blocking calls, jx_chan.c). The core's
 * notifier calls {@link Native#wake}, which hands the token to
 * {@link #notified(long)}: the result is collected there (a non-blocking
 * native) and the future is completed on {@link #defaultExecutor()}, so no
 * continuation of the user ever runs on an xchan thread or inside a lock.
 *
 * <p>{@link #cancel(boolean)} uses the core's cancel-or-collect
 * (xchan_op_cancel_ex), so no value is lost: if the cancel wins, nothing was
 * transferred and the future is cancelled (a put's value stays the
 * caller's); if the op had already completed, cancel returns false and the
 * future completes with the op's result instead, before cancel returns
 * unless the notifier was already delivering it.
 *
 * <p>Locks: only this object's monitor, held around the collect/cancel
 * natives and the freeing of the native record (none of them waits) and
 * never while the future is completed. Invariants (guarded by the monitor):
 * {@code pending} is 0 until the start call returned the native record;
 * {@code resolved} becomes true exactly once, by whichever of collect and
 * cancel takes the result, and that one frees the record. A notification
 * that arrives before the start call returned is remembered in
 * {@code notified} and collected by {@link #started}.
 */
final class OpFuture<R> extends CompletableFuture<R> {
    /** Turns a native result (object, io as in jx_chan.c) into the future's value. */
    interface Outcome<R> {
        R of(Object o, long[] io);
    }

    private static final ConcurrentHashMap<Long, OpFuture<?>> PENDING = new ConcurrentHashMap<>();

    final long token = Native.newToken();
    private final Outcome<R> outcome;
    /** The channels of the op, reachable while it is pending (their cleaners must not run). */
    private Object keepAlive;
    private long pending;
    private boolean notified;
    private boolean resolved;

    private OpFuture(Outcome<R> outcome, Object keepAlive) {
        this.outcome = outcome;
        this.keepAlive = keepAlive;
    }

    /** A future registered under a fresh token: start the native op with {@link #token} next. */
    static <R> OpFuture<R> open(Outcome<R> outcome, Object keepAlive) {
        OpFuture<R> f = new OpFuture<>(outcome, keepAlive);
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
            synchronized (this) {
                resolved = true;
            }
            PENDING.remove(token);
            settle(o, io);
            return;
        }
        boolean collectNow;
        synchronized (this) {
            pending = io[2];
            collectNow = notified;
        }
        if (collectNow) collect();
    }

    /** From {@link Native#wake}: false when the token is not an async op's. */
    static boolean notified(long token) {
        OpFuture<?> f = PENDING.get(token);
        if (f == null) return false;
        synchronized (f) {
            f.notified = true;
            if (f.pending == 0) return true; // started() collects
        }
        f.collect();
        return true;
    }

    private void collect() {
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
        defaultExecutor().execute(() -> settle(o, io));
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
            resolved = true;
            o = Native.cancel(pending, io);
            Native.pendingFree(pending);
        }
        PENDING.remove(token);
        if (io[0] == Native.ECANCELED) return super.cancel(mayInterruptIfRunning);
        settle(o, io);
        return false;
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
