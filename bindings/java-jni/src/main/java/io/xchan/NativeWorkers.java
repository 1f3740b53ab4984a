package io.xchan;

import java.nio.file.Path;

/**
 * Native workers: a function of a plain shared library, run through libffi on
 * the core's go, thread or io executor (the core's {@code xchan_native_run}).
 * The library needs no JNI: it receives channels and scalars as C arguments.
 *
 * <pre>{@code
 * Chan<Long> ch = Chan.create();
 * Chan<Object> done = NativeWorkers.ioThread("./libsensor.so", "stream", "v(ci)", ch, 100);
 * }</pre>
 *
 * <p>{@code signature} is the core's grammar: a return letter, then the
 * argument letters in parentheses, e.g. {@code "v(ci)"} is
 * {@code void f(xchan_chan *, int64_t)}. Letters: {@code i} Long/Integer,
 * {@code d} Double (or an integer), {@code b} Boolean, {@code s} String,
 * {@code p} {@link Box}, {@code c} {@link Chan}; {@code v} (return only) void.
 * Arguments are converted as a put converts them.
 *
 * <p>Each method returns a Chan that receives the function's return value and
 * then closes (a void function's closes empty). A wrong call runs nothing and
 * throws {@link XchanException}: {@code ELOAD} (library or symbol not found),
 * {@code EINVAL} (malformed signature, wrong argument count), {@code ETYPE}
 * (an argument of the wrong type), with a message naming the problem; a null
 * argument throws NullPointerException.
 *
 * <p>(The name {@code Native} is the binding's internal JNI boundary class,
 * hence {@code NativeWorkers}.)
 */
public final class NativeWorkers {
    private NativeWorkers() {}

    /** As a go task: its channel operations park the task; it must not block in the OS. */
    public static <T> Chan<T> go(String lib, String symbol, String signature, Object... args) {
        return run(Workload.DISPATCH, lib, symbol, signature, args);
    }

    /** On the core's thread executor (core.async {@code thread}). */
    public static <T> Chan<T> thread(String lib, String symbol, String signature, Object... args) {
        return run(Workload.MIXED, lib, symbol, signature, args);
    }

    /** On the core's IO executor (core.async {@code io-thread}). */
    public static <T> Chan<T> ioThread(String lib, String symbol, String signature, Object... args) {
        return run(Workload.IO, lib, symbol, signature, args);
    }

    /** Runs on {@code workload} (DISPATCH, MIXED or IO). */
    public static <T> Chan<T> run(Workload workload, String lib, String symbol, String signature,
            Object... args) {
        if (workload == Workload.COMPUTE) {
            throw XchanException.of(Native.EINVAL, "native: run on DISPATCH, MIXED or IO");
        }
        if (lib == null || symbol == null || signature == null) {
            throw new NullPointerException("native: lib, symbol and signature are required");
        }
        // A path with a slash is made absolute against user.dir (what Java
        // users mean by a relative path); a bare name is left to the loader.
        String path = lib.indexOf('/') >= 0 ? Path.of(lib).toAbsolutePath().toString() : lib;
        int n = args == null ? 0 : args.length;
        int[] kinds = new int[n];
        long[] bits = new long[n];
        Object[] refs = new Object[n];
        byte[][] datas = new byte[n][];
        Native.Enc e = new Native.Enc();
        for (int i = 0; i < n; i++) {
            if (args[i] == null) {
                throw new NullPointerException("native: argument " + (i + 1) + " of " + symbol + " is null");
            }
            Native.encode(args[i], e);
            kinds[i] = e.kind;
            bits[i] = e.bits;
            refs[i] = e.ref;
            datas[i] = e.data;
        }
        long h = Native.nativeRun(workload.ordinal(), path, symbol, signature, kinds, bits, refs, datas);
        return Chan.adopt(h);
    }
}
