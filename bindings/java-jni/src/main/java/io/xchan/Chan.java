package io.xchan;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * A core.async channel backed by an xchan native channel.
 *
 * <p>Buffers: {@link #unbuffered()}, {@link #fixed}, {@link #dropping},
 * {@link #sliding}, {@link #promise()}; with a transducer and its exception
 * handler through {@link #builder()}.
 *
 * <p>Blocking calls ({@link #put}, {@link #take}) never block inside native
 * code: the native side tries, registers the operation and returns, and the
 * calling thread parks in Java until the completer unparks it. A virtual
 * thread waiting here therefore never pins its carrier. They are
 * interruptible: {@link Thread#interrupt()} cancels the operation and throws
 * {@link InterruptedException} with nothing transferred (the value stays in
 * the channel, or stays the putter's); if the operation had already
 * completed, its result is returned and the interrupt flag stays set.
 *
 * <p>Values: see the package README. {@code null} cannot be put
 * ({@link NullPointerException}); {@link #take()} returns {@code null} when
 * the channel is closed and drained, {@link #put} returns false when the
 * channel is closed.
 *
 * <p>Lifetime: {@link #close()} closes the channel (core.async close!);
 * that is also what try-with-resources does. The native reference is
 * released by a {@link Cleaner} when the Chan becomes unreachable; operations
 * in progress hold references of their own.
 *
 * @param <T> the element type
 */
public final class Chan<T> implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create();
    static final int BUF_NONE = 0, BUF_FIXED = 1, BUF_DROPPING = 2, BUF_SLIDING = 3,
            BUF_PROMISE = 4;

    private final long handle;

    static {
        Native.ensureLoaded();
    }

    private Chan(long handle) {
        this.handle = handle;
        CLEANER.register(this, new Release(handle));
    }

    /** Wraps a native channel reference that this Chan takes over. */
    static <T> Chan<T> adopt(long handle) {
        return new Chan<>(handle);
    }

    private static final class Release implements Runnable {
        private final long handle;
        Release(long handle) { this.handle = handle; }
        @Override public void run() { Native.chanRelease(handle); }
    }

    long handle() { return handle; }

    /** Releases a native handle once (Cleaner or explicit). */
    static final class Releaser implements Runnable {
        private final java.util.concurrent.atomic.AtomicLong ptr;
        private final java.util.function.LongConsumer release;

        Releaser(java.util.concurrent.atomic.AtomicLong ptr, java.util.function.LongConsumer release) {
            this.ptr = ptr;
            this.release = release;
        }

        @Override public void run() {
            long p = ptr.getAndSet(0);
            if (p != 0) release.accept(p);
        }
    }

    // ---- construction -----------------------------------------------------------

    /** An unbuffered channel: a put waits for a taker. */
    public static <T> Chan<T> unbuffered() { return new Builder<T>().build(); }

    /** A channel with a FIFO buffer of {@code n} (> 0); puts wait when full. */
    public static <T> Chan<T> fixed(long n) { return new Builder<T>().fixed(n).build(); }

    /** When full, new values are dropped; puts never wait. */
    public static <T> Chan<T> dropping(long n) { return new Builder<T>().dropping(n).build(); }

    /** When full, the oldest value is dropped; puts never wait. */
    public static <T> Chan<T> sliding(long n) { return new Builder<T>().sliding(n).build(); }

    /** A promise channel: the first value put is given to every taker, for ever. */
    public static <T> Chan<T> promise() { return new Builder<T>().promise().build(); }

    /** A channel that closes after {@code d} (core.async timeout). */
    public static <T> Chan<T> timeout(Duration d) {
        return adopt(Native.timeout(Math.max(0, d.toMillis())));
    }

    public static <T> Builder<T> builder() { return new Builder<>(); }

    /** A channel with buffer {@code b} (see {@link Buffer#of}). */
    public static <T> Chan<T> of(Buffer b) { return new Builder<T>().buffer(b).build(); }

    /** The native channel of {@code ch}, which names the argument {@code what} when null (EINVAL). */
    static long handleOf(Chan<?> ch, String what) {
        if (ch == null) throw XchanException.of(Native.EINVAL, what + " must be a Chan, got null");
        return ch.handle;
    }

    /** Options of a new channel. */
    public static final class Builder<T> {
        private int kind = BUF_NONE;
        private long capacity;
        private Xf xf;
        private java.util.function.Function<? super Throwable, ?> exHandler;
        private int maxPending;

        public Builder<T> fixed(long n) { kind = BUF_FIXED; capacity = n; return this; }
        public Builder<T> dropping(long n) { kind = BUF_DROPPING; capacity = n; return this; }
        public Builder<T> sliding(long n) { kind = BUF_SLIDING; capacity = n; return this; }
        public Builder<T> promise() { kind = BUF_PROMISE; capacity = 0; return this; }

        /**
         * The buffer {@code b} (a kind by name and a capacity, as the core
         * checks them: a capacity with an unbuffered or promise channel is
         * {@link XchanException.EINVAL} from {@link #build()}).
         */
        public Builder<T> buffer(Buffer b) {
            if (b == null) throw XchanException.of(Native.EINVAL, "buffer must not be null");
            kind = b.code();
            capacity = b.capacity();
            return this;
        }

        /**
         * A transducer applied to every value added to the buffer (needs a
         * buffer). Its Java code runs on the thread that adds the value: a
         * putter, a taker pulling in a pending put, or the closer. Threads
         * of C code are attached to the JVM for it; a go task of the C core
         * hands the call to an xchan service thread.
         */
        public Builder<T> xf(Xf xf) { this.xf = xf; return this; }

        /**
         * Called with what a transducer step threw; a non-null result is
         * added to the buffer in place of the failed step's output. Default:
         * the thread's uncaught-exception handler, nothing added.
         */
        public Builder<T> exHandler(java.util.function.Function<? super Throwable, ?> h) {
            this.exHandler = h;
            return this;
        }

        /** Most pending puts (and, separately, takes); 0: 1024. */
        public Builder<T> maxPending(int n) { maxPending = n; return this; }

        public Chan<T> build() {
            if (kind != BUF_NONE && kind != BUF_PROMISE && capacity <= 0) {
                throw XchanException.of(Native.EINVAL, "buffer capacity must be > 0, got " + capacity);
            }
            long x = 0;
            if (xf != null) {
                if (kind == BUF_NONE) {
                    throw XchanException.of(Native.EINVAL, "a transducer needs a buffered channel");
                }
                x = XfRuntime.nativeXform(xf, exHandler);
            }
            return adopt(Native.chanNew(kind, capacity, x, maxPending));
        }
    }

    // ---- operations ---------------------------------------------------------------

    private static long deadline(Duration d) {
        long n;
        try {
            n = d.toNanos();
        } catch (ArithmeticException e) {
            return Native.NO_DEADLINE;
        }
        return System.nanoTime() + Math.max(0, n);
    }

    /**
     * Puts {@code v}, waiting for room or a taker. Returns true when the
     * channel accepted it, false when it was closed (core.async put!).
     */
    public boolean put(T v) throws InterruptedException {
        return put(v, Native.NO_DEADLINE, null);
    }

    /**
     * As {@link #put(Object)}, giving up after {@code timeout}:
     * {@link XchanException.ETIMEDOUT}, nothing transferred.
     */
    public boolean put(T v, Duration timeout) throws InterruptedException {
        return put(v, deadline(timeout), null);
    }

    /**
     * As {@link #put(Object)}, stopped by {@code cancel}: once the token is
     * fired (also before the call), {@link XchanException.ECANCELED} with
     * nothing transferred.
     */
    public boolean put(T v, CancelToken cancel) throws InterruptedException {
        return put(v, Native.NO_DEADLINE, cancel);
    }

    /** As {@link #put(Object, Duration)} and {@link #put(Object, CancelToken)}. */
    public boolean put(T v, Duration timeout, CancelToken cancel) throws InterruptedException {
        return put(v, deadline(timeout), cancel);
    }

    private boolean put(T v, long deadline, CancelToken cancel) throws InterruptedException {
        CancelToken.check(cancel);
        Native.Enc e = new Native.Enc();
        Native.encode(v, e);
        long[] io = new long[4];
        int err = Native.putTry(handle, e.kind, e.bits, e.ref, e.data, 0, io);
        for (int i = 0; err == Native.EAGAIN && i < Native.TRY_SPINS; i++) {
            Thread.onSpinWait(); // room is often about to appear: cheaper than registering
            err = Native.putTry(handle, e.kind, e.bits, e.ref, e.data, 0, io);
        }
        if (err == Native.OK) return true;
        if (err == Native.ECLOSED) return false;
        if (Thread.interrupted()) throw new InterruptedException();
        Native.Waiter w = Native.register();
        try {
            err = Native.putTry(handle, e.kind, e.bits, e.ref, e.data, w.token, io);
        } finally {
            if (io[0] != Native.EAGAIN) Native.unregister(w);
        }
        if (err != Native.EAGAIN) return err == Native.OK;
        Native.await(io[2], w, deadline, cancel, io);
        return putOutcome(io);
    }

    static boolean putOutcome(long[] io) {
        int err = (int) io[0];
        if (err == Native.OK) return true;
        if (err == Native.ECLOSED) return false;
        throw XchanException.of(err, err == Native.ETIMEDOUT ? "put timed out"
                : err == Native.ECANCELED ? "put cancelled" : "put");
    }

    /** Takes a value, waiting; null when the channel is closed and drained. */
    public T take() throws InterruptedException {
        return take(Native.NO_DEADLINE, null);
    }

    /**
     * As {@link #take()}, giving up after {@code timeout}:
     * {@link XchanException.ETIMEDOUT}, nothing transferred.
     */
    public T take(Duration timeout) throws InterruptedException {
        return take(deadline(timeout), null);
    }

    /**
     * As {@link #take()}, stopped by {@code cancel}: once the token is
     * fired (also before the call), {@link XchanException.ECANCELED} with
     * nothing transferred.
     */
    public T take(CancelToken cancel) throws InterruptedException {
        return take(Native.NO_DEADLINE, cancel);
    }

    /** As {@link #take(Duration)} and {@link #take(CancelToken)}. */
    public T take(Duration timeout, CancelToken cancel) throws InterruptedException {
        return take(deadline(timeout), cancel);
    }

    @SuppressWarnings("unchecked")
    private T take(long deadline, CancelToken cancel) throws InterruptedException {
        CancelToken.check(cancel);
        long[] io = new long[4];
        Object o = Native.takeTry(handle, 0, io);
        for (int i = 0; io[0] == Native.EAGAIN && i < Native.TRY_SPINS; i++) {
            Thread.onSpinWait();
            o = Native.takeTry(handle, 0, io);
        }
        if (io[0] == Native.EAGAIN) {
            if (Thread.interrupted()) throw new InterruptedException();
            Native.Waiter w = Native.register();
            io[0] = Native.EINVAL;
            try {
                o = Native.takeTry(handle, w.token, io);
            } finally {
                if (io[0] != Native.EAGAIN) Native.unregister(w);
            }
            if (io[0] == Native.EAGAIN) {
                o = Native.await(io[2], w, deadline, cancel, io);
                if (io[0] == Native.ETIMEDOUT) {
                    throw XchanException.of(Native.ETIMEDOUT, "take timed out");
                }
                if (io[0] == Native.ECANCELED) {
                    throw XchanException.of(Native.ECANCELED, "take cancelled");
                }
            }
        }
        Native.check(io);
        return (T) Native.result(o, io);
    }

    /**
     * Starts a put of {@code v} without waiting (core.async put!): the future
     * completes with true when the channel accepted the value, false when it
     * was closed. Completions run on the future's default executor, never on
     * an xchan thread.
     *
     * <p>{@code cancel(true)} (or false) withdraws a pending put: it returns
     * true when nothing was transferred (the future is then cancelled), and
     * false when the put had already completed, in which case the future
     * completes with that result instead of being cancelled. No value is lost
     * or delivered twice either way.
     *
     * <p>Start errors are thrown here, nothing registered:
     * {@link NullPointerException} for null, {@link XchanException.ELIMIT}
     * when the channel already has its maximum of pending puts.
     */
    public OpFuture<Boolean> putAsync(T v) {
        return startPut(v, OpFuture.Mode.AUTO, null, null);
    }

    /**
     * The callback form of {@link #putAsync(Object)}: {@code callback} gets
     * (true, null) when the channel accepted the value, (false, null) when
     * it was closed, or (null, error): a {@link
     * java.util.concurrent.CancellationException} after a winning cancel,
     * an {@link XchanException} such as ESHUTDOWN. It runs exactly once,
     * where {@code placement} says (see {@link Placement}), never as part of
     * a go body. Returns the op's handle, or null when the put completed
     * during this call (the callback has then run, or with DISPATCH been
     * handed to its executor): there is nothing left to cancel, as the
     * core's {@code out} handle is NULL then. Start errors as
     * {@link #putAsync(Object)}.
     */
    public OpFuture<Boolean> putAsync(T v, Placement placement,
            BiConsumer<? super Boolean, ? super Throwable> callback) {
        OpFuture<Boolean> f = startPut(v, mode(placement), requireCallback(callback), null);
        return f.completedAtStart() ? null : f;
    }

    /**
     * The notify form of {@link #putAsync(Object)}, for users who run their
     * own loop: {@code notifier} runs exactly once when the put completes
     * (also during this call), on the completing thread, and must only
     * signal the loop (no blocking, no channel operations); the loop then
     * takes the result with {@link OpFuture#collect()}, which also
     * completes the returned future. An op whose result is never collected
     * (nor taken by {@link OpFuture#cancelEx()} or {@code cancel}) stays
     * registered, holding its value, as in the core.
     */
    public OpFuture<Boolean> putAsyncNotify(T v, Runnable notifier) {
        if (notifier == null) throw XchanException.of(Native.EINVAL, "notifier must not be null");
        return startPut(v, OpFuture.Mode.NOTIFY, null, notifier);
    }

    private OpFuture<Boolean> startPut(T v, OpFuture.Mode mode, BiConsumer<? super Boolean, ? super Throwable> cb,
            Runnable notifier) {
        Native.Enc e = new Native.Enc();
        Native.encode(v, e);
        OpFuture<Boolean> f = OpFuture.open((o, io) -> putOutcome(io), this, OpFuture.Kind.PUT, mode, cb,
                notifier, v, null);
        long[] io = new long[4];
        try {
            io[0] = Native.putTry(handle, e.kind, e.bits, e.ref, e.data, f.token, io);
        } catch (RuntimeException | Error x) {
            f.abandon();
            throw x;
        }
        f.started(null, io);
        return f;
    }

    static OpFuture.Mode mode(Placement p) {
        if (p == null) throw XchanException.of(Native.EINVAL, "placement must not be null");
        return p == Placement.DISPATCH ? OpFuture.Mode.DISPATCH : OpFuture.Mode.COMPLETER;
    }

    static <C> C requireCallback(C cb) {
        if (cb == null) throw XchanException.of(Native.EINVAL, "callback must not be null");
        return cb;
    }

    /**
     * Starts a take without waiting (core.async take!): the future completes
     * with the value, or null when the channel is closed and drained.
     * Cancelling works as for {@link #putAsync}: a take that already got its
     * value completes with it (the value is never dropped).
     * {@link XchanException.ELIMIT} when the channel already has its maximum
     * of pending takes.
     */
    public OpFuture<T> takeAsync() {
        return startTake(OpFuture.Mode.AUTO, null, null);
    }

    /**
     * The callback form of {@link #takeAsync()}: {@code callback} gets
     * (value, null), (null, null) when the channel is closed and drained,
     * or (null, error) as for {@link #putAsync(Object, Placement,
     * BiConsumer)}, whose placement and returned handle (null when the take
     * completed during this call) it shares.
     */
    public OpFuture<T> takeAsync(Placement placement, BiConsumer<? super T, ? super Throwable> callback) {
        OpFuture<T> f = startTake(mode(placement), requireCallback(callback), null);
        return f.completedAtStart() ? null : f;
    }

    /** The notify form of {@link #takeAsync()}; see {@link #putAsyncNotify}. */
    public OpFuture<T> takeAsyncNotify(Runnable notifier) {
        if (notifier == null) throw XchanException.of(Native.EINVAL, "notifier must not be null");
        return startTake(OpFuture.Mode.NOTIFY, null, notifier);
    }

    @SuppressWarnings("unchecked")
    private OpFuture<T> startTake(OpFuture.Mode mode, BiConsumer<? super T, ? super Throwable> cb,
            Runnable notifier) {
        OpFuture<T> f = OpFuture.open((o, io) -> {
            Native.check(io);
            return (T) Native.result(o, io);
        }, this, OpFuture.Kind.TAKE, mode, cb, notifier, null, null);
        long[] io = new long[4];
        Object o;
        try {
            io[0] = Native.EINVAL;
            o = Native.takeTry(handle, f.token, io);
        } catch (RuntimeException | Error x) {
            f.abandon();
            throw x;
        }
        f.started(o, io);
        return f;
    }

    /** Puts only if it can complete now (core.async offer!). */
    public boolean offer(T v) {
        Native.Enc e = new Native.Enc();
        Native.encode(v, e);
        long[] io = new long[4];
        return Native.putTry(handle, e.kind, e.bits, e.ref, e.data, 0, io) == Native.OK;
    }

    /** Takes only if a value is ready now (core.async poll!); else null. */
    @SuppressWarnings("unchecked")
    public T poll() {
        long[] io = new long[4];
        Object o = Native.takeTry(handle, 0, io);
        if (io[0] == Native.EAGAIN) return null;
        Native.check(io);
        return (T) Native.result(o, io);
    }

    /**
     * Closes the channel (core.async close!): buffered values and pending
     * puts stay takeable, later puts return false. Idempotent.
     */
    @Override
    public void close() {
        Native.chanClose(handle);
    }

    /** A snapshot of the channel's state. */
    public Info info() {
        long[] out = new long[8];
        Native.chanInfo(handle, out);
        return new Info(out);
    }

    /** True once {@link #close()} was called (a snapshot). */
    public boolean isClosed() { return info().closed; }

    /**
     * The native channel (an {@code xchan_chan *}) for C code loaded by this
     * process, valid while this Chan is reachable. C code that keeps it must
     * take its own reference (xchan_chan_retain through the function table,
     * {@link Xchan#apiHandle()}).
     */
    public long nativeHandle() { return handle; }

    /**
     * A Chan for a native channel made by C code: takes a new reference to
     * {@code handle} (an {@code xchan_chan *} of this process's xchan).
     */
    public static <T> Chan<T> fromNativeHandle(long handle) {
        if (handle == 0) throw XchanException.of(Native.EINVAL, "null channel handle");
        Native.chanRetain(handle);
        return adopt(handle);
    }

    /** Equal when both wrap the same native channel. */
    @Override public boolean equals(Object o) {
        return o instanceof Chan && ((Chan<?>) o).handle == handle;
    }

    @Override public int hashCode() { return Long.hashCode(handle); }

    @Override public String toString() { return "Chan@" + Long.toHexString(handle); }

    /** A snapshot of a channel (core.async datafy). */
    public static final class Info {
        public final int bufKind;
        public final long capacity, count, id;
        public final boolean closed;
        public final int pendingPuts, pendingTakes, maxPending;

        Info(long[] o) {
            bufKind = (int) o[0];
            capacity = o[1];
            count = o[2];
            closed = o[3] != 0;
            pendingPuts = (int) o[4];
            pendingTakes = (int) o[5];
            maxPending = (int) o[6];
            id = o[7];
        }
    }
}
