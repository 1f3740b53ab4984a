package io.xchan;

/** The kinds of work an executor serves, as core.async names them. */
public enum Workload {
    /** go blocks (core.async :core-async-dispatch). */
    DISPATCH,
    /** {@link Xchan#thread} bodies (:mixed). */
    MIXED,
    /** {@link Xchan#ioThread} bodies (:io). */
    IO,
    /** CPU-bound work (:compute). */
    COMPUTE
}
