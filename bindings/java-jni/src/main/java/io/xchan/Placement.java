package io.xchan;

/**
 * Where the callback of an asynchronous op runs (the callback forms of
 * {@link Chan#putAsync(Object, Placement, java.util.function.BiConsumer)},
 * {@link Chan#takeAsync(Placement, java.util.function.BiConsumer)} and
 * {@link Alts#selectAsync(Placement, java.util.function.BiConsumer)}).
 */
public enum Placement {
    /**
     * On the thread that completes the op, as the core's default: the
     * caller, before the start call returns, when the op completes at once;
     * otherwise the counterpart (a putter, a taker, the closer, the core's
     * timer thread, {@link Xchan#shutdown()} or a canceller). Keep such
     * callbacks short and non-blocking: they run on someone else's thread.
     */
    COMPLETER,
    /** Always on the DISPATCH executor ({@link Xchan#executorFor}), as XCHAN_ASYNC_DISPATCH. */
    DISPATCH
}
