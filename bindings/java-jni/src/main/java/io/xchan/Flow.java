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
        return adopt(Native.pipe(from.handle(), to.handle(), close));
    }

    /** Each element of {@code from} through {@code xf} on the COMPUTE executor, in order, n at a time. */
    public static Chan<Void> pipeline(int n, Chan<?> to, Xf xf, Chan<?> from, boolean close,
            Function<? super Throwable, ?> exHandler) {
        return adopt(Native.pipeline(0, n, to.handle(), new XfRuntime.Spec(xf, exHandler), from.handle(), close));
    }

    public static Chan<Void> pipeline(int n, Chan<?> to, Xf xf, Chan<?> from) {
        return pipeline(n, to, xf, from, true, null);
    }

    /** As {@link #pipeline}, on the MIXED executor (steps may block). */
    public static Chan<Void> pipelineBlocking(int n, Chan<?> to, Xf xf, Chan<?> from, boolean close,
            Function<? super Throwable, ?> exHandler) {
        return adopt(Native.pipeline(1, n, to.handle(), new XfRuntime.Spec(xf, exHandler), from.handle(), close));
    }

    /**
     * core.async pipeline-async: {@code af} gets each element and a result
     * channel; it must return at once, arrange for the outputs to be put on
     * the result channel, then close it.
     */
    public static <A, B> Chan<Void> pipelineAsync(int n, Chan<B> to, BiConsumer<A, Chan<B>> af,
            Chan<A> from, boolean close) {
        return adopt(Native.pipelineAsync(n, to.handle(), af, from.handle(), close));
    }

    /** One source, many taps (core.async mult). */
    public static <T> Mult<T> mult(Chan<T> src) {
        return new Mult<>(Native.multNew(src.handle()), src);
    }

    /** Routing by topic (core.async pub): topicFn(value) chooses the topic. */
    public static <T> Pub<T> pub(Chan<T> src, Function<? super T, ?> topicFn) {
        return new Pub<>(Native.pubNew(src.handle(), topicFn), src);
    }

    /** Many inputs, one output, with mute/pause/solo (core.async mix). */
    public static <T> Mix<T> mix(Chan<T> out) {
        return new Mix<>(Native.mixNew(out.handle()), out);
    }

    /** Every value of {@code chans} on one new unbuffered channel, closed when all have closed. */
    @SafeVarargs
    public static <T> Chan<T> merge(Chan<? extends T>... chans) {
        return merge(List.of(chans), 0);
    }

    /** As merge, with an output buffer of {@code buf} (0: unbuffered). */
    public static <T> Chan<T> merge(Collection<? extends Chan<? extends T>> chans, long buf) {
        return adopt(Native.merge(handles(chans), buf > 0 ? 1 : 0, buf));
    }

    /** Values satisfying {@code pred} go to result[0], the others to result[1]. */
    @SuppressWarnings("unchecked")
    public static <T> Chan<T>[] split(Predicate<? super T> pred, Chan<T> src) {
        long[] out = new long[2];
        Native.split(src.handle(), pred, 0, 0, 0, 0, out);
        return new Chan[] {adopt(out[0]), adopt(out[1])};
    }

    /** core.async map: f of one value from each channel (in order), until any closes. */
    public static <R> Chan<R> map(Function<List<Object>, ? extends R> f, List<? extends Chan<?>> chans) {
        return adopt(Native.mapN(handles(chans), f, 0, 0));
    }

    /** At most n values of {@code src}, then closed. */
    public static <T> Chan<T> take(long n, Chan<T> src) {
        return adopt(Native.takeN(src.handle(), n, 0, 0));
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
        Native.Enc e = new Native.Enc();
        if (init != null) Native.encode(init, e);
        return adopt(Native.reduce(src.handle(), f, spec, init == null ? Native.NIL : e.kind, e.bits,
                e.ref, e.data));
    }

    /** One List of {@code init}'s items then every value of src, once src closes. */
    public static <T> Chan<List<Object>> into(Collection<?> init, Chan<T> src) {
        Enc n = encodeAll(init);
        return adopt(Native.into(src.handle(), n.kinds, n.bits, n.refs, n.datas));
    }

    /** Puts the items on {@code ch} in order, then closes it if {@code close}. */
    public static Chan<Void> ontoChan(Chan<?> ch, Collection<?> items, boolean close) {
        Enc n = encodeAll(items);
        return adopt(Native.ontoChan(ch.handle(), n.kinds, n.bits, n.refs, n.datas, close));
    }

    /** A channel that yields the items and then closes. */
    public static <T> Chan<T> toChan(Collection<? extends T> items) {
        Enc n = encodeAll(items);
        return adopt(Native.ontoChan(0, n.kinds, n.bits, n.refs, n.datas, false));
    }

    private static long[] handles(Collection<? extends Chan<?>> chans) {
        long[] h = new long[chans.size()];
        int i = 0;
        for (Chan<?> c : chans) h[i++] = c.handle();
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

        Mult(long m, Chan<T> src) {
            this.h = new Handle(m, Native::multRelease, this);
            this.src = src;
        }

        /** Adds a tap (closed with the source if {@code close}). */
        public Mult<T> tap(Chan<? super T> ch, boolean close) {
            Native.multTap(h.get(), ch.handle(), close);
            return this;
        }

        public Mult<T> tap(Chan<? super T> ch) { return tap(ch, true); }

        public Mult<T> untap(Chan<? super T> ch) {
            Native.multUntap(h.get(), ch.handle());
            return this;
        }

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

        Pub(long p, Chan<T> src) {
            this.h = new Handle(p, Native::pubRelease, this);
            this.src = src;
        }

        /** Subscribes {@code ch} to {@code topic}; the topic's channel gets a buffer of {@code buf} (0: none). */
        public Pub<T> sub(Object topic, Chan<? super T> ch, boolean close, long buf) {
            ctl(0, topic, ch, close, buf);
            return this;
        }

        public Pub<T> sub(Object topic, Chan<? super T> ch) { return sub(topic, ch, true, 0); }

        public Pub<T> unsub(Object topic, Chan<? super T> ch) {
            ctl(1, topic, ch, false, 0);
            return this;
        }

        public Pub<T> unsubAll(Object topic) {
            ctl(2, topic, null, false, 0);
            return this;
        }

        public Pub<T> unsubAll() {
            Native.pubCtl(h.get(), 3, 0, 0, null, null, 0, false, 0, 0);
            return this;
        }

        private void ctl(int op, Object topic, Chan<?> ch, boolean close, long buf) {
            Native.Enc e = new Native.Enc();
            Native.encode(topic, e);
            Native.pubCtl(h.get(), op, e.kind, e.bits, e.ref, e.data, ch == null ? 0 : ch.handle(), close,
                    buf > 0 ? 1 : 0, buf);
        }

        public Chan<T> source() { return src; }

        @Override public void close() { h.release(); }
    }

    /** A mix handle; {@link #close()} releases the handle. */
    public static final class Mix<T> implements AutoCloseable {
        public static final int MUTE = 1, PAUSE = 2, SOLO = 4;
        private final Handle h;
        private final Chan<T> out;

        Mix(long m, Chan<T> out) {
            this.h = new Handle(m, Native::mixRelease, this);
            this.out = out;
        }

        public Mix<T> admix(Chan<? extends T> ch) { Native.mixCtl(h.get(), 0, ch.handle(), 0, 0); return this; }
        public Mix<T> unmix(Chan<? extends T> ch) { Native.mixCtl(h.get(), 1, ch.handle(), 0, 0); return this; }
        public Mix<T> unmixAll() { Native.mixCtl(h.get(), 2, 0, 0, 0); return this; }

        /** Sets the attributes in {@code mask} (MUTE|PAUSE|SOLO) of ch to those in {@code flags}. */
        public Mix<T> toggle(Chan<? extends T> ch, int mask, int flags) {
            Native.mixCtl(h.get(), 3, ch.handle(), mask, flags);
            return this;
        }

        /** Non-solo inputs are paused (true) or muted (false, the default) while any is solo. */
        public Mix<T> soloPause(boolean pause) { Native.mixCtl(h.get(), 4, 0, pause ? 1 : 0, 0); return this; }

        /** The attributes of input ch. */
        public int get(Chan<? extends T> ch) { return Native.mixCtl(h.get(), 5, ch.handle(), 0, 0); }

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
