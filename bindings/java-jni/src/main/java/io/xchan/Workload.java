package io.xchan;

import java.util.Locale;

/** The kinds of work an executor serves, as core.async names them. */
public enum Workload {
    /** go blocks (core.async :core-async-dispatch). */
    DISPATCH,
    /** {@link Xchan#thread} bodies (:mixed). */
    MIXED,
    /** {@link Xchan#ioThread} bodies (:io). */
    IO,
    /** CPU-bound work (:compute). */
    COMPUTE;

    /**
     * The workload named {@code name} ("dispatch", "mixed", "io" or
     * "compute", any case), for workloads given as data.
     *
     * @throws XchanException.EINVAL for another name
     */
    public static Workload named(String name) {
        if (name != null) {
            for (Workload w : values()) {
                if (w.name().equals(name.toUpperCase(Locale.ROOT))) return w;
            }
        }
        throw XchanException.of(Native.EINVAL, "unknown workload \"" + name + "\" (dispatch, mixed, io or compute)");
    }
}
