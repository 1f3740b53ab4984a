package io.xchan;

import java.util.Objects;
import java.util.function.Function;

/**
 * The native side of transducers: a recipe ({@link Xf}) with its exception
 * handler becomes an xchan transform (jx_xform.c) whose steps call back into
 * an {@link Instance} — the live, per-channel (or per-pipeline-element)
 * chain of steps. Not thread-safe by itself: the core serializes one
 * transform's steps.
 */
final class XfRuntime {
    private XfRuntime() {}

    /** A recipe plus its exception handler; instantiated per channel or element. */
    static final class Spec {
        final Xf xf;
        final Function<? super Throwable, ?> exHandler;

        Spec(Xf xf, Function<? super Throwable, ?> exHandler) {
            this.xf = xf;
            this.exHandler = exHandler;
        }

        Instance instantiate() { return new Instance(this); }
    }

    /** A native xchan_xform running {@code xf}, owned by the caller until given away. */
    static long nativeXform(Xf xf, Function<? super Throwable, ?> exHandler) {
        return Native.xformNew(new Spec(Objects.requireNonNull(xf), exHandler));
    }

    /** One channel's (or element's) live steps, called from jx_xform.c. */
    static final class Instance {
        private final Spec spec;
        private final Xf.Rf top;
        private final Emit bottom;

        Instance(Spec spec) {
            this.spec = spec;
            this.bottom = new Emit();
            this.top = spec.xf.apply(bottom);
        }

        int step(Object in, long emit) {
            bottom.emit = emit;
            bottom.status = Native.STEP_CONTINUE;
            try {
                boolean more = top.step(in);
                if (bottom.status != Native.STEP_CONTINUE) return bottom.status;
                return more ? Native.STEP_CONTINUE : Native.STEP_REDUCED;
            } catch (Throwable t) {
                return handle(t);
            } finally {
                bottom.emit = 0;
            }
        }

        int complete(long emit) {
            bottom.emit = emit;
            bottom.status = Native.STEP_CONTINUE;
            try {
                top.complete();
                return bottom.status == Native.STEP_FAILED ? Native.STEP_FAILED : Native.STEP_CONTINUE;
            } catch (Throwable t) {
                return handle(t);
            } finally {
                bottom.emit = 0;
            }
        }

        private int handle(Throwable t) {
            Object r = null;
            try {
                if (spec.exHandler != null) {
                    r = spec.exHandler.apply(t);
                } else {
                    Thread th = Thread.currentThread();
                    th.getUncaughtExceptionHandler().uncaughtException(th, t);
                }
            } catch (Throwable t2) {
                t2.printStackTrace();
            }
            if (r != null && !bottom.step(r)) return Native.STEP_REDUCED;
            return Native.STEP_CONTINUE;
        }
    }

    /** The bottom of the chain: hands values to the core's emitter. */
    static final class Emit extends Xf.Rf {
        long emit;
        int status;
        private final Native.Enc enc = new Native.Enc();

        Emit() { super(null); }

        @Override public boolean step(Object v) {
            if (emit == 0) throw new IllegalStateException("xchan: a transducer emitted after its step returned");
            Native.encode(v, enc);
            int s = Native.emitPush(emit, enc.kind, enc.bits, enc.ref, enc.data);
            if (s != Native.STEP_CONTINUE) status = s;
            return s == Native.STEP_CONTINUE;
        }

        @Override public void complete() {}
    }
}
