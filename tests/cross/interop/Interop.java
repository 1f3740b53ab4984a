/*
 * The interop test's Java side (tests/cross/run java).
 *
 *   javac -cp xchan.jar -d CLASSES Interop.java
 *   java --enable-native-access=ALL-UNNAMED -cp xchan.jar:CLASSES Interop /path/to/libinterop.so
 *
 * Starts interop.c's `produce` on a native thread (NativeWorkers.thread) into
 * a Chan made here, takes the 19 values and checks each one's Java type and
 * content, in order (the sequence is in interop.c): INT arrives as Long,
 * DOUBLE as Double, BOOL as Boolean, STRING as String, BYTES as byte[], CHAN
 * as Chan, ARRAY as an unmodifiable List.  Then it sends the returned
 * sequence (items 0-16) to interop.c's `consume` on another native thread
 * and prints its verdict.  Exit status 0 only when both directions match.
 */
import io.xchan.Chan;
import io.xchan.NativeWorkers;
import io.xchan.Xchan;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

public final class Interop {
    /** For any one take: a hang fails, it does not block CI. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);
    static final String UTF8_TEXT = "h\u00e9llo \u20ac \uD83D\uDE42";

    record Item(String what, Predicate<Object> ok) {}

    static Predicate<Object> exact(Object want) {
        return v -> v != null && v.getClass() == want.getClass() && v.equals(want);
    }

    /** Double.equals compares bits: -0.0 differs from 0.0, NaN equals NaN. */
    static Predicate<Object> bytes(int... want) {
        byte[] b = new byte[want.length];
        for (int i = 0; i < want.length; i++) b[i] = (byte) want[i];
        return v -> v instanceof byte[] got && Arrays.equals(got, b);
    }

    static boolean chanWith42(Object v) {
        try {
            if (!(v instanceof Chan<?> c)) return false;
            return Long.valueOf(42).equals(c.take(TIMEOUT)) && c.take(TIMEOUT) == null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static boolean nestedArray(Object v) {
        if (!(v instanceof List<?> l) || l.size() != 4) return false;
        if (!exact(1L).test(l.get(0)) || !exact("two").test(l.get(1))) return false;
        if (!(l.get(2) instanceof List<?> m) || m.size() != 2 || !exact(3.5).test(m.get(0))) return false;
        if (!(m.get(1) instanceof List<?> n) || !n.equals(List.of(true))) return false;
        return bytes(0).test(l.get(3));
    }

    static final List<Item> EXPECTED = List.of(
        new Item("bool true", exact(true)),
        new Item("bool false", exact(false)),
        new Item("int 0", exact(0L)),
        new Item("int -1", exact(-1L)),
        new Item("int INT64_MIN", exact(Long.MIN_VALUE)),
        new Item("int INT64_MAX", exact(Long.MAX_VALUE)),
        new Item("double 1.5", exact(1.5)),
        new Item("double -0.0", exact(-0.0)),
        new Item("double 1e308", exact(1e308)),
        new Item("double NaN", v -> v instanceof Double d && d.isNaN()),
        new Item("string 'hello'", exact("hello")),
        new Item("string multi-byte UTF-8", exact(UTF8_TEXT)),
        new Item("string ''", exact("")),
        new Item("string 'a\\0b'", exact("a\0b")),
        new Item("bytes 00 ff 00 7f", bytes(0, 0xff, 0, 0x7f)),
        new Item("bytes ''", bytes()),
        new Item("chan holding 42, then closed", Interop::chanWith42),
        new Item("array [1, 'two', [3.5, [true]], <00>]", Interop::nestedArray),
        new Item("array []", v -> v instanceof List<?> l && l.isEmpty()));

    static List<Object> returned() {
        Chan<Object> inner = Chan.fixed(1);
        inner.offer(42L);
        return List.of(true, false, 0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1.5, -0.0, 1e308,
            Double.NaN, "hello", UTF8_TEXT, "", "a\0b", new byte[] {0, (byte) 0xff, 0, 0x7f},
            new byte[0], inner);
    }

    static String show(Object v) {
        if (v == null) return "null";
        if (v instanceof byte[] b) return "byte" + Arrays.toString(b);
        return v + " (" + v.getClass().getSimpleName() + ")";
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: java Interop LIBINTEROP.so");
            System.exit(2);
        }
        String lib = args[0];
        List<String> failures = new ArrayList<>();
        Chan<Object> out = Chan.unbuffered();
        Chan<Object> done = NativeWorkers.thread(lib, "produce", "v(c)", out);
        int i = 0;
        for (; i < EXPECTED.size(); i++) {
            Item it = EXPECTED.get(i);
            Object v = out.take(TIMEOUT);
            if (v == null) {
                failures.add("C->java item " + i + " (" + it.what() + "): channel closed early");
                break;
            }
            if (!it.ok().test(v)) failures.add("C->java item " + i + " (" + it.what() + "): got " + show(v));
        }
        if (i == EXPECTED.size()) {
            Object extra = out.take(TIMEOUT);
            if (extra != null) failures.add("C->java: extra value after the sequence: " + show(extra));
        }
        done.take(TIMEOUT);
        System.out.println("  C->java: " + EXPECTED.size() + " values checked");

        Chan<Object> back = Chan.unbuffered();
        Chan<Object> verdict = NativeWorkers.thread(lib, "consume", "s(c)", back);
        for (Object v : returned()) back.put(v, TIMEOUT);
        back.close();
        Object answer = verdict.take(TIMEOUT);
        System.out.println("  java->C: consume says " + show(answer));
        if (!(answer instanceof String s && s.startsWith("ok "))) failures.add("java->C: " + show(answer));
        for (String f : failures) System.out.println("  " + f);
        System.out.println("java (" + System.getProperty("java.version") + ", xchan " + Xchan.version() + "): "
            + (failures.isEmpty() ? "PASS" : "FAIL"));
        System.exit(failures.isEmpty() ? 0 : 1);
    }
}
