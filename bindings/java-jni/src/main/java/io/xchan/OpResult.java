package io.xchan;

/**
 * The result of an asynchronous op as the core reports it (an
 * {@code xchan_result}), from {@link OpFuture#collect()} and
 * {@link OpFuture#cancelEx()}.
 */
public final class OpResult {
    private final String err;
    private final Object value;
    private final int index;

    OpResult(String err, Object value, int index) {
        this.err = err;
        this.value = value;
        this.index = index;
    }

    /** The core's error name: "OK", "ECLOSED", "ECANCELED", "ETIMEDOUT", "ESHUTDOWN", ... */
    public String err() { return err; }

    /**
     * A take's value (null when closed); for a put that did not happen
     * (closed, cancelled, shut down) the put's value, handed back; null for
     * a put that happened.
     */
    public Object value() { return value; }

    /** alts: the clause that completed, -1 if none (and for put and take). */
    public int index() { return index; }

    @Override public String toString() {
        return "OpResult[" + err + (value != null ? ", " + value : "") + (index >= 0 ? ", #" + index : "") + "]";
    }
}
