package io.xchan;

import java.util.Locale;

/**
 * A channel's buffer named by its kind, as data: {@code Buffer.of("sliding", 8)}.
 * For configuration files, other languages' specs, and
 * {@link Flow#pub(Chan, java.util.function.Function, java.util.function.Function)}'s
 * per-topic buffers. Kinds: "none" (or "unbuffered"), "fixed", "dropping",
 * "sliding", "promise". The capacity is checked by the core when a channel
 * is made: fixed, dropping and sliding need one > 0, none and promise take
 * none (0), else {@link XchanException.EINVAL}.
 */
public final class Buffer {
    private static final String[] NAMES = {"none", "fixed", "dropping", "sliding", "promise"};
    private final int code;
    private final long capacity;

    private Buffer(int code, long capacity) {
        this.code = code;
        this.capacity = capacity;
    }

    /**
     * The buffer of kind {@code kind} with {@code capacity}.
     *
     * @throws XchanException.EINVAL for a kind that is not one of the above
     */
    public static Buffer of(String kind, long capacity) {
        if (kind == null) throw XchanException.of(Native.EINVAL, "buffer kind must be a name, got null");
        String k = kind.toLowerCase(Locale.ROOT);
        if (k.equals("unbuffered")) k = "none";
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(k)) return new Buffer(i, capacity);
        }
        throw XchanException.of(Native.EINVAL, "unknown buffer kind \"" + kind
                + "\" (none, fixed, dropping, sliding or promise)");
    }

    /** The kind's name: none, fixed, dropping, sliding or promise. */
    public String kind() { return NAMES[code]; }

    public long capacity() { return capacity; }

    /** The core's xchan_buf_kind. */
    int code() { return code; }

    @Override public String toString() { return "Buffer[" + kind() + ", " + capacity + "]"; }
}
