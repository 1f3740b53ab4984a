package io.xchan;

import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

/** Dispatch of upcalls from jx_xform.c and jx_comb.c to Java functions. */
final class Callbacks {
    private Callbacks() {}

    static final int INSTANTIATE = 0, PREDICATE = 1, FUNCTION = 2, REDUCE = 3, ASYNC = 4, MAPN = 5;

    /** A result for C: null (nil), a Native.Enc, or Failed. */
    private static Object enc(Object r) {
        if (r == null) return null;
        Native.Enc e = new Native.Enc();
        if (r instanceof Flow.Reduced) {
            e.reduced = true;
            r = ((Flow.Reduced) r).value;
            if (r == null) return e; // kind NIL
        }
        Native.encode(r, e);
        return e;
    }

    @SuppressWarnings("unchecked")
    static Object call(Object fn, int what, Object a, Object b) {
        try {
            switch (what) {
                case INSTANTIATE:
                    return ((XfRuntime.Spec) fn).instantiate();
                case PREDICATE:
                    return enc(((Predicate<Object>) fn).test(a));
                case FUNCTION:
                    return enc(((Function<Object, Object>) fn).apply(a));
                case MAPN:
                    return enc(((Function<Object, Object>) fn).apply(List.of((Object[]) a)));
                case REDUCE:
                    return enc(((BiFunction<Object, Object, Object>) fn).apply(a, b));
                case ASYNC:
                    try {
                        ((BiConsumer<Object, Object>) fn).accept(a, b);
                    } catch (RuntimeException | Error e) {
                        ((Chan<?>) b).close(); // the element yields nothing
                        throw e;
                    }
                    return null;
                default:
                    throw new IllegalArgumentException("xchan: unknown callback " + what);
            }
        } catch (RuntimeException | Error e) {
            Thread t = Thread.currentThread();
            t.getUncaughtExceptionHandler().uncaughtException(t, e);
            return Failed.INSTANCE;
        }
    }

    /** Returned when a callback threw (already reported). */
    static final class Failed {
        static final Failed INSTANCE = new Failed();
    }

    static List<Object> list(Object o) {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) o;
        return l;
    }
}
