package io.xchan;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * core.async alts!!: waits on several takes and puts, exactly one of which
 * completes.
 *
 * <pre>{@code
 * Alts.Result r = new Alts().take(a).put(b, "x").take(Chan.timeout(Duration.ofSeconds(1))).select();
 * if (r.chan() == a) ...
 * }</pre>
 *
 * Clauses are tried in a uniformly random order, or in the order added with
 * {@link #priority()}. {@link #orElse(Object)} (core.async's :default)
 * returns at once when nothing is ready. A put to a closed channel is ready
 * and completes the alts with {@code ok() == false}. The wait parks in Java
 * like {@link Chan#take()} and is interruptible the same way.
 */
public final class Alts {
    private final List<Chan<?>> chans = new ArrayList<>();
    private final List<Object> puts = new ArrayList<>(); // null: a take
    private boolean priority;
    private boolean hasDefault;
    private Object defaultValue;

    /** Adds a take from {@code ch}. */
    public Alts take(Chan<?> ch) {
        Chan.handleOf(ch, "alts clause " + chans.size() + ": the channel");
        chans.add(ch);
        puts.add(null);
        return this;
    }

    /** Adds a put of {@code v} (not null) to {@code ch}. */
    public <T> Alts put(Chan<T> ch, T v) {
        Chan.handleOf(ch, "alts clause " + chans.size() + ": the channel");
        if (v == null) throw new NullPointerException("xchan: null cannot be put on a channel");
        chans.add(ch);
        puts.add(v);
        return this;
    }

    /**
     * Adds a clause by name, for clauses described as data: "take" (then
     * {@code v} must be null) or "put".
     *
     * @throws XchanException.EINVAL for another name
     */
    @SuppressWarnings("unchecked")
    public Alts clause(String op, Chan<?> ch, Object v) {
        if ("take".equals(op)) {
            if (v != null) throw XchanException.of(Native.EINVAL, "a take clause has no value");
            return take(ch);
        }
        if ("put".equals(op)) return put((Chan<Object>) ch, v);
        throw XchanException.of(Native.EINVAL, "unknown alts clause \"" + op + "\" (take or put)");
    }

    /** Tries the clauses in the order they were added. */
    public Alts priority() {
        priority = true;
        return this;
    }

    /** When no clause is ready now, return at once with this value and chan() null. */
    public Alts orElse(Object v) {
        hasDefault = true;
        defaultValue = v;
        return this;
    }

    /** Waits until one clause completes. */
    public Result select() throws InterruptedException {
        return select(Native.NO_DEADLINE, null);
    }

    /** As {@link #select()}, giving up after {@code timeout}: ETIMEDOUT. */
    public Result select(Duration timeout) throws InterruptedException {
        return select(System.nanoTime() + Math.max(0, timeout.toNanos()), null);
    }

    /**
     * As {@link #select()}, stopped by {@code cancel}: once the token is
     * fired (also before the call), {@link XchanException.ECANCELED}, no
     * clause completed.
     */
    public Result select(CancelToken cancel) throws InterruptedException {
        return select(Native.NO_DEADLINE, cancel);
    }

    /** As {@link #select(Duration)} and {@link #select(CancelToken)}. */
    public Result select(Duration timeout, CancelToken cancel) throws InterruptedException {
        return select(System.nanoTime() + Math.max(0, timeout.toNanos()), cancel);
    }

    /** The clauses as the altsTry native takes them. */
    private final class Clauses {
        final List<Chan<?>> cs = List.copyOf(chans);
        final int n = cs.size();
        final long[] handles = new long[n];
        final int[] ops = new int[n], kinds = new int[n];
        final long[] bits = new long[n];
        final Object[] refs = new Object[n];
        final byte[][] datas = new byte[n][];
        final int flags = priority ? 1 : 0;

        Clauses() {
            if (n == 0) throw XchanException.of(Native.EINVAL, "alts needs at least one clause");
            Native.Enc e = new Native.Enc();
            for (int i = 0; i < n; i++) {
                handles[i] = cs.get(i).handle();
                Object v = puts.get(i);
                ops[i] = v == null ? 1 : 2;
                if (v != null) {
                    Native.encode(v, e);
                    kinds[i] = e.kind;
                    bits[i] = e.bits;
                    refs[i] = e.ref;
                    datas[i] = e.data;
                }
            }
        }

        Object attempt(long token, long[] io) {
            return attempt(token, -1, io);
        }

        Object attempt(long token, long timeoutNanos, long[] io) {
            return Native.altsTry(handles, ops, kinds, bits, refs, datas, flags, token, timeoutNanos, io);
        }

        Result result(Object o, long[] io) {
            Native.check(io);
            int idx = (int) io[3];
            boolean isPut = ops[idx] == 2;
            Object val = isPut ? null : Native.result(o, io);
            boolean ok = isPut ? io[0] == Native.OK : val != null;
            return new Result(cs.get(idx), val, ok, idx);
        }
    }

    private Result select(long deadline, CancelToken cancel) throws InterruptedException {
        CancelToken.check(cancel);
        Clauses c = new Clauses();
        long[] io = new long[4];
        Object o = c.attempt(0, io);
        if (io[0] == Native.EAGAIN) {
            if (hasDefault) return new Result(null, defaultValue, true, -1);
            if (Thread.interrupted()) throw new InterruptedException();
            Native.Waiter w = Native.register();
            io[0] = Native.EINVAL;
            try {
                o = c.attempt(w.token, io);
            } finally {
                if (io[0] != Native.EAGAIN) Native.unregister(w);
            }
            if (io[0] == Native.EAGAIN) {
                o = Native.await(io[2], w, deadline, cancel, io);
                if (io[0] == Native.ETIMEDOUT) {
                    throw XchanException.of(Native.ETIMEDOUT, "alts timed out");
                }
                if (io[0] == Native.ECANCELED) {
                    throw XchanException.of(Native.ECANCELED, "alts cancelled");
                }
            }
        }
        return c.result(o, io);
    }

    /**
     * Starts the alts without waiting (core.async alts!): the future
     * completes with the {@link Result} of the one clause that completed, or
     * at once with the default's when {@link #orElse} was given and nothing
     * is ready. {@code cancel} works as for {@link Chan#putAsync}: true when
     * no clause completed (no put value was delivered, no value taken);
     * false when one had, and the future then completes with its result. The
     * clauses are read now; changing this Alts later does not affect the op.
     */
    public OpFuture<Result> selectAsync() {
        return start(-1, OpFuture.Mode.AUTO, null, null);
    }

    /**
     * As {@link #selectAsync()}, with a deadline kept by the core's timer:
     * when no clause completed within {@code timeout}, the future completes
     * exceptionally with {@link XchanException.ETIMEDOUT}, nothing
     * transferred.
     */
    public OpFuture<Result> selectAsync(Duration timeout) {
        return start(nanos(timeout), OpFuture.Mode.AUTO, null, null);
    }

    /**
     * The callback form of {@link #selectAsync()} (see
     * {@link Chan#putAsync(Object, Placement, BiConsumer)}): the callback
     * gets (result, null) or (null, error); the handle is null when the
     * alts completed during this call (also by its default).
     */
    public OpFuture<Result> selectAsync(Placement placement, BiConsumer<? super Result, ? super Throwable> callback) {
        OpFuture<Result> f = start(-1, Chan.mode(placement), Chan.requireCallback(callback), null);
        return f.completedAtStart() ? null : f;
    }

    /** As {@link #selectAsync(Placement, BiConsumer)} with the deadline of {@link #selectAsync(Duration)}. */
    public OpFuture<Result> selectAsync(Duration timeout, Placement placement,
            BiConsumer<? super Result, ? super Throwable> callback) {
        OpFuture<Result> f = start(nanos(timeout), Chan.mode(placement), Chan.requireCallback(callback), null);
        return f.completedAtStart() ? null : f;
    }

    /** The notify form of {@link #selectAsync()}; see {@link Chan#putAsyncNotify}. */
    public OpFuture<Result> selectAsyncNotify(Runnable notifier) {
        if (notifier == null) throw XchanException.of(Native.EINVAL, "notifier must not be null");
        return start(-1, OpFuture.Mode.NOTIFY, null, notifier);
    }

    private static long nanos(Duration timeout) {
        try {
            return Math.max(0, timeout.toNanos());
        } catch (ArithmeticException e) {
            return -1; // beyond the clock: no deadline
        }
    }

    private OpFuture<Result> start(long timeoutNanos, OpFuture.Mode mode,
            BiConsumer<? super Result, ? super Throwable> cb, Runnable notifier) {
        Clauses c = new Clauses();
        boolean[] isPut = new boolean[c.n];
        for (int i = 0; i < c.n; i++) isPut[i] = c.ops[i] == 2;
        OpFuture<Result> f = OpFuture.open(c::result, c, OpFuture.Kind.ALTS, mode, cb, notifier, null, isPut);
        long[] io = new long[4];
        Object o = c.attempt(0, io);
        if (io[0] == Native.EAGAIN && hasDefault) {
            f.abandon();
            OpFuture<Result> d = OpFuture.open((x, y) -> new Result(null, defaultValue, true, -1), c,
                    OpFuture.Kind.ALTS, mode, cb, notifier, null, isPut);
            d.abandon();
            d.started(null, new long[] {Native.OK, 0, 0, -1});
            return d;
        }
        if (io[0] != Native.EAGAIN) {
            f.started(o, io);
            return f;
        }
        try {
            io[0] = Native.EINVAL;
            o = c.attempt(f.token, timeoutNanos, io);
        } catch (RuntimeException | Error x) {
            f.abandon();
            throw x;
        }
        f.started(o, io);
        return f;
    }

    /** What completed: the channel, the value taken, and whether it succeeded. */
    public static final class Result {
        private final Chan<?> chan;
        private final Object value;
        private final boolean ok;
        private final int index;

        Result(Chan<?> chan, Object value, boolean ok, int index) {
            this.chan = chan;
            this.value = value;
            this.ok = ok;
            this.index = index;
        }

        /** The clause's channel; null for the default. */
        public Chan<?> chan() { return chan; }

        /** The value taken (null: closed), the default's value, or null for a put. */
        public Object value() { return value; }

        /** A take got a value, a put was accepted, or the default was chosen. */
        public boolean ok() { return ok; }

        /** The clause's position in the order added; -1 for the default. */
        public int index() { return index; }

        /** True when no clause was ready and the default was returned. */
        public boolean isDefault() { return index < 0; }
    }
}
