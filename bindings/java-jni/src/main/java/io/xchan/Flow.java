package io.xchan;

import java.util.Collection;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * core.async's flow combinators over the core's own (xchan_combinators.h):
 * pipe, pipeline, pipelineBlocking, pipelineAsync, mult, pub, mix, merge,
 * split, map, take, reduce, transduce, into, ontoChan, toChan.
 *
 * <p>Processes run in the core (go tasks and executor jobs). The Java
 * functions given to them run on the core's worker threads ({@code
 * xchan-disp-N}, or for pipeline transducers the executor threads), on
 * the thread's own stack, never a go task's; they should not block (a
 * blocked function holds up its worker).
 * A function that throws is reported to the thread's uncaught-exception
 * handler: for split it counts as false, for map and pipelineAsync the
 * element yields nothing, for reduce the result channel closes empty.
 *
 * <p>Channels returned as "done" close when the process has ended.
 */
public final class Flow {
    private Flow() {}

    /** Marks an early result of a {@link #reduce} function (Clojure's reduced). */
    public static final class Reduced {
        final Object value;
        Reduced(Object value) { this.value = value; }
    }

    /** Stops a reduce with {@code acc} as its result. */
    public static Reduced reduced(Object acc) { return new Reduced(acc); }

    private static <T> Chan<T> adopt(long h) { return Chan.adopt(h); }

    /** Copies {@code from} to {@code to}; closes {@code to} when from closes if {@code close}. */
    public static Chan<Void> pipe(Chan<?> from, Chan<?> to, boolean close) {
        return adopt(Native.pipe(Chan.handleOf(from, "from"), Chan.handleOf(to, "to"), close));
    }

    /** Each element of {@code from} through {@code xf} on the COMPUTE executor, in order, n at a time. */
    public static Chan<Void> pipeline(int n, Chan<?> to, Xf xf, Chan<?> from, boolean close,
            Function<? super Throwable, ?> exHandler) {
        return adopt(Native.pipeline(0, n, Chan.handleOf(to, "to"), new XfRuntime.Spec(xf, exHandler),
                Chan.handleOf(from, "from"), close));
    }

    public static Chan<Void> pipeline(int n, Chan<?> to, Xf xf, Chan<?> from) {
        return pipeline(n, to, xf, from, true, null);
    }

    /** As {@link #pipeline}, on the MIXED executor (steps may block). */
    public static Chan<Void> pipelineBlocking(int n, Chan<?> to, Xf xf, Chan<?> from, boolean close,
            Function<? super Throwable, ?> exHandler) {
        return adopt(Native.pipeline(1, n, Chan.handleOf(to, "to"), new XfRuntime.Spec(xf, exHandler),
                Chan.handleOf(from, "from"), close));
    }

    /**
     * core.async pipeline-async: {@code af} gets each element and a result
     * channel; it must return at once, arrange for the outputs to be put on
     * the result channel, then close it.
     */
    public static <A, B> Chan<Void> pipelineAsync(int n, Chan<B> to, BiConsumer<A, Chan<B>> af,
            Chan<A> from, boolean close) {
        return adopt(Native.pipelineAsync(n, Chan.handleOf(to, "to"), af, Chan.handleOf(from, "from"), close));
    }

    /** One source, many taps (core.async mult). */
    public static <T> Mult<T> mult(Chan<T> src) {
        long[] done = new long[1];
        long m = Native.multNew(Chan.handleOf(src, "src"), done);
        return new Mult<>(m, src, adopt(done[0]));
    }

    /** Routing by topic (core.async pub): topicFn(value) chooses the topic. */
    public static <T> Pub<T> pub(Chan<T> src, Function<? super T, ?> topicFn) {
        return pub(src, topicFn, null);
    }

    /**
     * As {@link #pub(Chan, Function)}, with {@code bufFn(topic)} choosing
     * the buffer of each topic's channel (core.async pub's buf-fn), so that
     * a slow subscriber does not stall the source; null or a null answer:
     * unbuffered. Called when {@link Pub#sub} is given no buffer of its own.
     */
    public static <T> Pub<T> pub(Chan<T> src, Function<? super T, ?> topicFn, Function<Object, Buffer> bufFn) {
        if (topicFn == null) throw XchanException.of(Native.EINVAL, "topicFn must not be null");
        long[] done = new long[1];
        long p = Native.pubNew(Chan.handleOf(src, "src"), topicFn, done);
        return new Pub<>(p, src, adopt(done[0]), bufFn);
    }

    /** Many inputs, one output, with mute/pause/solo (core.async mix). */
    public static <T> Mix<T> mix(Chan<T> out) {
        long[] done = new long[1];
        long m = Native.mixNew(Chan.handleOf(out, "out"), done);
        return new Mix<>(m, out, adopt(done[0]));
    }

    /**
     * A combinator's result with its done channel, which closes when the
     * combinator's process has ended (every value handled).
     */
    public static final class WithDone<R> {
        private final R result;
        private final Chan<Void> done;

        WithDone(R result, Chan<Void> done) {
            this.result = result;
            this.done = done;
        }

        /** What the plain combinator returns. */
        public R result() { return result; }

        /** Closes when the process has ended. */
        public Chan<Void> done() { return done; }
    }

    /** Every value of {@code chans} on one new unbuffered channel, closed when all have closed. */
    @SafeVarargs
    public static <T> Chan<T> merge(Chan<? extends T>... chans) {
        return merge(List.of(chans), 0);
    }

    /** As merge, with an output buffer of {@code buf} (0: unbuffered). */
    public static <T> Chan<T> merge(Collection<? extends Chan<? extends T>> chans, long buf) {
        return mergeWithDone(chans, buf).result();
    }

    /** As {@link #merge(Collection, long)}, with the process's done channel. */
    public static <T> WithDone<Chan<T>> mergeWithDone(Collection<? extends Chan<? extends T>> chans, long buf) {
        long[] done = new long[1];
        long out = Native.merge(handles(chans, "chans"), buf > 0 ? 1 : 0, buf, done);
        return new WithDone<>(adopt(out), adopt(done[0]));
    }

    /** Values satisfying {@code pred} go to result[0], the others to result[1]. */
    public static <T> Chan<T>[] split(Predicate<? super T> pred, Chan<T> src) {
        return splitWithDone(pred, src).result();
    }

    /** As {@link #split}, with the process's done channel. */
    @SuppressWarnings("unchecked")
    public static <T> WithDone<Chan<T>[]> splitWithDone(Predicate<? super T> pred, Chan<T> src) {
        if (pred == null) throw XchanException.of(Native.EINVAL, "pred must not be null");
        long[] out = new long[3];
        Native.split(Chan.handleOf(src, "src"), pred, 0, 0, 0, 0, out);
        return new WithDone<>(new Chan[] {adopt(out[0]), adopt(out[1])}, adopt(out[2]));
    }

    /** core.async map: f of one value from each channel (in order), until any closes. */
    public static <R> Chan<R> map(Function<List<Object>, ? extends R> f, List<? extends Chan<?>> chans) {
        return adopt(Native.mapN(handles(chans, "chans"), f, 0, 0));
    }

    /** At most n values of {@code src}, then closed. */
    public static <T> Chan<T> take(long n, Chan<T> src) {
        return adopt(Native.takeN(Chan.handleOf(src, "src"), n, 0, 0));
    }

    /**
     * Folds {@code src} with {@code f} from {@code init} (may be null); the
     * result channel gets the final value when src closes (nothing if null).
     */
    public static <A, T> Chan<A> reduce(BiFunction<A, T, ?> f, A init, Chan<T> src) {
        return reduce(f, init, src, null);
    }

    /** reduce over the outputs of {@code xf} applied to src's values. */
    public static <A, T> Chan<A> transduce(Xf xf, BiFunction<A, ?, ?> f, A init, Chan<T> src) {
        return reduce(f, init, src, new XfRuntime.Spec(xf, null));
    }

    private static <A> Chan<A> reduce(BiFunction<A, ?, ?> f, A init, Chan<?> src, XfRuntime.Spec spec) {
        long s = Chan.handleOf(src, "src");
        Native.Enc e = new Native.Enc();
        if (init != null) Native.encode(init, e);
        return adopt(Native.reduce(s, f, spec, init == null ? Native.NIL : e.kind, e.bits,
                e.ref, e.data));
    }

    /** One List of {@code init}'s items then every value of src, once src closes. */
    public static <T> Chan<List<Object>> into(Collection<?> init, Chan<T> src) {
        return into((Object) (init == null ? null : init.toArray()), src);
    }

    /**
     * As {@link #into(Collection, Chan)} with {@code init} given as a value,
     * as the core takes it: null, a Collection or an {@code Object[]} (an
     * array); anything else is {@link XchanException.ETYPE}.
     */
    public static <T> Chan<List<Object>> into(Object init, Chan<T> src) {
        long s = Chan.handleOf(src, "src");
        if (init instanceof Collection) init = ((Collection<?>) init).toArray();
        Native.Enc e = new Native.Enc();
        if (init != null) Native.encode(init, e);
        return adopt(Native.into(s, init == null ? Native.NIL : e.kind, e.bits, e.ref, e.data));
    }

    /** Puts the items on {@code ch} in order, then closes it if {@code close}. */
    public static Chan<Void> ontoChan(Chan<?> ch, Collection<?> items, boolean close) {
        Enc n = encodeAll(items);
        return adopt(Native.ontoChan(Chan.handleOf(ch, "ch"), n.kinds, n.bits, n.refs, n.datas, close));
    }

    /** A channel that yields the items and then closes. */
    public static <T> Chan<T> toChan(Collection<? extends T> items) {
        Enc n = encodeAll(items);
        return adopt(Native.ontoChan(0, n.kinds, n.bits, n.refs, n.datas, false));
    }

    private static long[] handles(Collection<? extends Chan<?>> chans, String what) {
        if (chans == null) throw XchanException.of(Native.EINVAL, what + " must be a collection of Chan, got null");
        long[] h = new long[chans.size()];
        int i = 0;
        for (Chan<?> c : chans) {
            h[i] = Chan.handleOf(c, what + "[" + i + "]");
            i++;
        }
        return h;
    }

    private static final class Enc {
        int[] kinds;
        long[] bits;
        Object[] refs;
        byte[][] datas;
    }

    private static Enc encodeAll(Collection<?> items) {
        Enc n = new Enc();
        int k = items == null ? 0 : items.size();
        n.kinds = new int[k];
        n.bits = new long[k];
        n.refs = new Object[k];
        n.datas = new byte[k][];
        Native.Enc e = new Native.Enc();
        int i = 0;
        if (items != null) {
            for (Object o : items) {
                Native.encode(o, e);
                n.kinds[i] = e.kind;
                n.bits[i] = e.bits;
                n.refs[i] = e.ref;
                n.datas[i] = e.data;
                i++;
            }
        }
        return n;
    }

    /** A mult handle; {@link #close()} releases the handle (the mult keeps running). */
    public static final class Mult<T> implements AutoCloseable {
        private final Handle h;
        private final Chan<T> src;
        private final Chan<Void> done;

        Mult(long m, Chan<T> src, Chan<Void> done) {
            this.h = new Handle(m, Native::multRelease, this);
            this.src = src;
            this.done = done;
        }

        /** Adds a tap (closed with the source if {@code close}). */
        public Mult<T> tap(Chan<? super T> ch, boolean close) {
            Native.multTap(h.get(), Chan.handleOf(ch, "ch"), close);
            return this;
        }

        public Mult<T> tap(Chan<? super T> ch) { return tap(ch, true); }

        public Mult<T> untap(Chan<? super T> ch) {
            Native.multUntap(h.get(), Chan.handleOf(ch, "ch"));
            return this;
        }

        /** Closes when the mult's process has ended (its source closed and drained). */
        public Chan<Void> done() { return done; }

        public Mult<T> untapAll() {
            Native.multUntap(h.get(), 0);
            return this;
        }

        public Chan<T> source() { return src; }

        @Override public void close() { h.release(); }
    }

    /** A pub handle; {@link #close()} releases the handle. */
    public static final class Pub<T> implements AutoCloseable {
        private final Handle h;
        private final Chan<T> src;
        private final Chan<Void> done;
        private final Function<Object, Buffer> bufFn;

        Pub(long p, Chan<T> src, Chan<Void> done, Function<Object, Buffer> bufFn) {
            this.h = new Handle(p, Native::pubRelease, this);
            this.src = src;
            this.done = done;
            this.bufFn = bufFn;
        }

        /**
         * Subscribes {@code ch} to {@code topic}; a new topic's channel gets
         * a fixed buffer of {@code buf} (0: the pub's buffer function's
         * choice, else none).
         */
        public Pub<T> sub(Object topic, Chan<? super T> ch, boolean close, long buf) {
            Chan.handleOf(ch, "ch");
            if (buf > 0 || bufFn == null) {
                ctl(0, topic, ch, close, buf > 0 ? Chan.BUF_FIXED : Chan.BUF_NONE, buf);
            } else {
                Buffer b = bufFn.apply(topic);
                ctl(0, topic, ch, close, b == null ? Chan.BUF_NONE : b.code(), b == null ? 0 : b.capacity());
            }
            return this;
        }

        /** Subscribes {@code ch} to {@code topic}, closed with the source if {@code close}. */
        public Pub<T> sub(Object topic, Chan<? super T> ch, boolean close) { return sub(topic, ch, close, 0); }

        public Pub<T> sub(Object topic, Chan<? super T> ch) { return sub(topic, ch, true, 0); }

        /** Closes when the pub's process has ended (its source closed and drained). */
        public Chan<Void> done() { return done; }

        public Pub<T> unsub(Object topic, Chan<? super T> ch) {
            Chan.handleOf(ch, "ch");
            ctl(1, topic, ch, false, 0, 0);
            return this;
        }

        public Pub<T> unsubAll(Object topic) {
            ctl(2, topic, null, false, 0, 0);
            return this;
        }

        public Pub<T> unsubAll() {
            Native.pubCtl(h.get(), 3, 0, 0, null, null, 0, false, 0, 0);
            return this;
        }

        private void ctl(int op, Object topic, Chan<?> ch, boolean close, int bufKind, long cap) {
            Native.Enc e = new Native.Enc();
            Native.encode(topic, e);
            Native.pubCtl(h.get(), op, e.kind, e.bits, e.ref, e.data, ch == null ? 0 : ch.handle(), close,
                    bufKind, cap);
        }

        public Chan<T> source() { return src; }

        @Override public void close() { h.release(); }
    }

    /** A mix handle; {@link #close()} releases the handle. */
    public static final class Mix<T> implements AutoCloseable {
        public static final int MUTE = 1, PAUSE = 2, SOLO = 4;
        private final Handle h;
        private final Chan<T> out;
        private final Chan<Void> done;

        Mix(long m, Chan<T> out, Chan<Void> done) {
            this.h = new Handle(m, Native::mixRelease, this);
            this.out = out;
            this.done = done;
        }

        public Mix<T> admix(Chan<? extends T> ch) {
            Native.mixCtl(h.get(), 0, Chan.handleOf(ch, "ch"), 0, 0);
            return this;
        }

        public Mix<T> unmix(Chan<? extends T> ch) {
            Native.mixCtl(h.get(), 1, Chan.handleOf(ch, "ch"), 0, 0);
            return this;
        }

        /** Closes when the mix's process has ended (a put to its output failed, or released with no input). */
        public Chan<Void> done() { return done; }
        public Mix<T> unmixAll() { Native.mixCtl(h.get(), 2, 0, 0, 0); return this; }

        /** Sets the attributes in {@code mask} (MUTE|PAUSE|SOLO) of ch to those in {@code flags}. */
        public Mix<T> toggle(Chan<? extends T> ch, int mask, int flags) {
            Native.mixCtl(h.get(), 3, Chan.handleOf(ch, "ch"), mask, flags);
            return this;
        }

        /**
         * The solo mode by name: "mute" (the default) or "pause", what
         * non-solo inputs become while any input is solo.
         *
         * @throws XchanException.EINVAL for another name
         */
        public Mix<T> soloMode(String mode) {
            if ("mute".equals(mode)) return soloPause(false);
            if ("pause".equals(mode)) return soloPause(true);
            throw XchanException.of(Native.EINVAL, "unknown solo mode \"" + mode + "\" (mute or pause)");
        }

        /** Non-solo inputs are paused (true) or muted (false, the default) while any is solo. */
        public Mix<T> soloPause(boolean pause) { Native.mixCtl(h.get(), 4, 0, pause ? 1 : 0, 0); return this; }

        /** The attributes of input ch. */
        public int get(Chan<? extends T> ch) { return Native.mixCtl(h.get(), 5, Chan.handleOf(ch, "ch"), 0, 0); }

        public Chan<T> output() { return out; }

        @Override public void close() { h.release(); }
    }

    /**
     * A native handle released once, by close() or by the Cleaner. Control
     * calls after close() give ESTATE.
     */
    static final class Handle {
        private final java.util.concurrent.atomic.AtomicLong ptr;
        private final Chan.Releaser rel;
        private final java.lang.ref.Cleaner.Cleanable cleanable;

        Handle(long p, java.util.function.LongConsumer release, Object owner) {
            this.ptr = new java.util.concurrent.atomic.AtomicLong(p);
            this.rel = new Chan.Releaser(ptr, release);
            this.cleanable = Chan.CLEANER.register(owner, rel);
        }

        long get() {
            long p = ptr.get();
            if (p == 0) throw XchanException.of(11, "the handle was closed");
            return p;
        }

        void release() { cleanable.clean(); }
    }
}
