package io.xchan;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The JNI boundary. Loads libxchanjni from the jar (extracted to a temporary
 * file, as sqlite-jdbc and netty do), checks its version, and declares the
 * natives. No native method here ever waits: waits park in Java
 * ({@link #await}) and the core's notifier calls {@link #wake} from whichever
 * thread completed the operation.
 *
 * Waiters: a wait registers its thread under a fresh token in WAITERS before
 * it registers the op and removes it afterwards, so a late or duplicate wake
 * finds nothing or unparks a thread that will re-check (a harmless spurious
 * wake-up); no native code ever holds a reference to a Java thread.
 */
final class Native {
    private Native() {}

    // ---- xchan constants (xchan.h) -----------------------------------------
    static final int OK = 0, EINVAL = 1, ECLOSED = 3, ETIMEDOUT = 4, EAGAIN = 5,
            ECANCELED = 6, ENIL = 8, EDONE = 10, ESTATE = 11, EVERSION = 12, ESHUTDOWN = 16;
    static final int NIL = 0, BOOL = 1, INT = 2, DOUBLE = 3, STRING = 4, BYTES = 5,
            CHAN = 6, BOX = 7, HOST = 8, ARRAY = 9;
    static final int STEP_CONTINUE = 0, STEP_REDUCED = 1, STEP_FAILED = 2;

    static final String VERSION;

    static {
        VERSION = readVersion();
        load();
        int lib = libraryVersion();
        int expected = versionNumber(VERSION);
        if (lib / 10000 != expected / 10000 || lib / 100 % 100 < expected / 100 % 100
                || checkVersion(headerVersion()) != OK) {
            throw new UnsatisfiedLinkError("xchan: the native library has version "
                    + lib + " but this jar (" + VERSION + ") needs " + expected
                    + " (same major, minor at least)");
        }
        // From the JVM's exit on, xchan's threads must not enter or leave it.
        Runtime.getRuntime().addShutdownHook(new Thread(Native::vmExiting, "xchan-exit"));
    }

    static void ensureLoaded() {}

    private static String readVersion() {
        try (InputStream in = Native.class.getResourceAsStream("xchan.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException | NullPointerException e) {
            throw new ExceptionInInitializerError("xchan: xchan.properties missing from the jar");
        }
    }

    static int versionNumber(String v) {
        String[] parts = v.replaceAll("[^0-9.].*$", "").split("\\.");
        return Integer.parseInt(parts[0]) * 10000 + Integer.parseInt(parts[1]) * 100
                + Integer.parseInt(parts[2]);
    }

    static String platform() {
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86_64";
        else if (arch.equals("aarch64") || arch.equals("arm64")) arch = "aarch64";
        String os = System.getProperty("os.name").toLowerCase().startsWith("linux") ? "linux"
                : System.getProperty("os.name").toLowerCase().replace(' ', '-');
        return os + "-" + arch;
    }

    /**
     * Loads the library: -Dxchan.library.path=FILE wins (for development);
     * otherwise the copy in the jar for this platform, extracted to a
     * temporary file that is deleted when the JVM exits.
     */
    private static void load() {
        String explicit = System.getProperty("xchan.library.path");
        if (explicit != null) {
            System.load(explicit);
            return;
        }
        String res = "native/" + platform() + "/libxchanjni.so";
        try (InputStream in = Native.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("xchan: this jar has no native library for "
                        + platform() + " (looked for io/xchan/" + res + ")");
            }
            Path tmp = Files.createTempFile("libxchanjni-" + VERSION + "-", ".so");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
        } catch (IOException e) {
            throw new UnsatisfiedLinkError("xchan: cannot extract " + res + ": " + e);
        }
    }

    // ---- waiting ------------------------------------------------------------

    /**
     * One wait of one thread. The notifier sets {@code notified} and unparks
     * the thread only if it announced that it parks ({@code parked}); both
     * fields are volatile, so either the waiter sees {@code notified} before
     * parking or the notifier sees {@code parked} and unparks it.
     */
    static final class Waiter {
        final long token = newToken();
        final Thread thread = Thread.currentThread();
        /** Spin before parking: platform threads only (parking a virtual thread is cheap). */
        final int spins = SPINS > 0 && !isVirtual(thread) ? SPINS : 0;
        volatile boolean notified;
        volatile boolean parked;
    }

    private static final java.lang.invoke.MethodHandle IS_VIRTUAL = isVirtualHandle();

    private static java.lang.invoke.MethodHandle isVirtualHandle() {
        try {
            return java.lang.invoke.MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                    java.lang.invoke.MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            return null; // before 21: no virtual threads
        }
    }

    static boolean isVirtual(Thread t) {
        if (IS_VIRTUAL == null) return false;
        try {
            return (boolean) IS_VIRTUAL.invokeExact(t);
        } catch (Throwable e) {
            return false;
        }
    }

    private static final ConcurrentHashMap<Long, Waiter> WAITERS = new ConcurrentHashMap<>();
    private static final AtomicLong TOKENS = new AtomicLong();

    /** A new wait, registered for the current thread. */
    static Waiter register() {
        Waiter w = new Waiter();
        WAITERS.put(w.token, w);
        return w;
    }

    /** Called by the core's notifier (any thread, attached by the library). */
    static void wake(long token) {
        Waiter w = WAITERS.get(token);
        if (w != null) {
            w.notified = true;
            if (w.parked) LockSupport.unpark(w.thread);
        } else {
            OpFuture.notified(token); // an async op's, or a late wake of a finished wait
        }
    }

    /** A fresh token for a wait or an async op (never 0: 0 means "do not register"). */
    static long newToken() {
        return TOKENS.incrementAndGet();
    }

    /**
     * How many times a waiting platform thread checks for its notification
     * before parking (0 on one CPU): waking a parked thread costs
     * microseconds, but on a loaded machine a spin only delays the
     * counterpart (measured: bench/java), so the default is 0.
     */
    static final int SPINS = Runtime.getRuntime().availableProcessors() > 1
            ? Integer.getInteger("xchan.spins", 0) : 0;

    /** How many times put/take retry offer/poll before registering (0 on one CPU). */
    static final int TRY_SPINS = Runtime.getRuntime().availableProcessors() > 1
            ? Integer.getInteger("xchan.try-spins", 8) : 0;

    static final long NO_DEADLINE = Long.MIN_VALUE;

    /**
     * Waits until the pending op completes, the deadline passes or the thread
     * is interrupted, and returns its result (io as in jx_chan.c). On a
     * deadline, io[0] is ETIMEDOUT unless the op completed meanwhile. On an
     * interrupt the op is canceled: if the cancel won, InterruptedException
     * (nothing was transferred); if the op had completed, its result is
     * returned and the interrupt flag stays set. Always frees the op.
     */
    static Object await(long pending, Waiter w, long deadline, long[] io)
            throws InterruptedException {
        return await(pending, w, deadline, null, io);
    }

    /**
     * As above, also stopped by {@code cancel} (may be null): once it is
     * fired the op is cancelled; io[0] is then ECANCELED unless the op had
     * completed meanwhile (its result is returned).
     */
    static Object await(long pending, Waiter w, long deadline, CancelToken cancel, long[] io)
            throws InterruptedException {
        boolean done = false;
        if (cancel != null) cancel.enter(w.thread);
        try {
            for (int spins = 0; ; spins++) {
                if (w.notified || spins >= w.spins) {
                    Object o = collect(pending, io);
                    if (io[0] != EAGAIN) {
                        done = true;
                        return o;
                    }
                }
                if (spins < w.spins) { // the counterpart is often just about to come
                    Thread.onSpinWait();
                    continue;
                }
                if (cancel != null && cancel.isFired()) {
                    Object o = cancel(pending, io);
                    done = true;
                    return o;
                }
                if (Thread.interrupted()) {
                    Object o = cancel(pending, io);
                    done = true;
                    if (io[0] == ECANCELED) throw new InterruptedException();
                    Thread.currentThread().interrupt();
                    return o;
                }
                w.parked = true;
                if (w.notified) continue; // collect (the notifier may not unpark)
                if (deadline != NO_DEADLINE) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        Object o = cancel(pending, io);
                        done = true;
                        if (io[0] == ECANCELED) io[0] = ETIMEDOUT;
                        return o;
                    }
                    LockSupport.parkNanos(Native.class, left);
                } else {
                    LockSupport.park(Native.class);
                }
            }
        } finally {
            if (cancel != null) cancel.leave(w.thread);
            if (!done) cancel(pending, new long[4]);
            WAITERS.remove(w.token);
            pendingFree(pending);
        }
    }

    static void unregister(Waiter w) {
        WAITERS.remove(w.token);
    }

    // ---- values ---------------------------------------------------------------

    /** The value as the core sees it: kind, bits, ref and data (see put). */
    static final class Enc {
        int kind;
        long bits;
        Object ref;
        byte[] data;
        boolean reduced; // a reduce step's early stop (Flow.reduced)
    }

    static void encode(Object v, Enc e) {
        e.ref = null;
        e.data = null;
        e.bits = 0;
        if (v == null) throw new NullPointerException("xchan: null cannot be put on a channel");
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            e.kind = INT;
            e.bits = ((Number) v).longValue();
        } else if (v instanceof Double || v instanceof Float) {
            e.kind = DOUBLE;
            e.bits = Double.doubleToRawLongBits(((Number) v).doubleValue());
        } else if (v instanceof Boolean) {
            e.kind = BOOL;
            e.bits = ((Boolean) v) ? 1 : 0;
        } else if (v instanceof String) {
            e.kind = STRING;
            e.ref = v;
            e.data = ((String) v).getBytes(StandardCharsets.UTF_8);
        } else if (v instanceof byte[]) {
            e.kind = BYTES;
            e.ref = v;
        } else if (v instanceof Chan) {
            e.kind = CHAN;
            e.bits = ((Chan<?>) v).handle();
        } else if (v instanceof Box) {
            e.kind = BOX;
            e.bits = ((Box) v).ptr();
        } else if (v instanceof Object[]) {
            e.kind = ARRAY;
            e.ref = encodeItems((Object[]) v);
        } else {
            e.kind = HOST;
            e.ref = v;
        }
    }

    /**
     * The items of an array value as the natives take them: {int[] kinds,
     * long[] bits, Object[] refs, byte[][] datas}; a null item is kind NIL,
     * which the core refuses (EINVAL), and a nested Object[] is an array.
     */
    static Object[] encodeItems(Object[] items) {
        int n = items.length;
        int[] kinds = new int[n];
        long[] bits = new long[n];
        Object[] refs = new Object[n];
        byte[][] datas = new byte[n][];
        Enc e = new Enc();
        for (int i = 0; i < n; i++) {
            if (items[i] == null) {
                kinds[i] = NIL;
                continue;
            }
            encode(items[i], e);
            kinds[i] = e.kind;
            bits[i] = e.bits;
            refs[i] = e.ref;
            datas[i] = e.data;
        }
        return new Object[] {kinds, bits, refs, datas};
    }

    /** Builds the Java object for a value the core handed over. */
    static Object decode(int kind, long bits, Object ref) {
        switch (kind) {
            case NIL: return null;
            case BOOL: return bits != 0;
            case INT: return bits;
            case DOUBLE: return Double.longBitsToDouble(bits);
            case STRING: return new String((byte[]) ref, StandardCharsets.UTF_8);
            case CHAN: return Chan.adopt(bits);
            case BOX: return new Box(bits);
            case ARRAY: return Collections.unmodifiableList(Arrays.asList((Object[]) ref));
            default: throw new IllegalStateException("xchan: unexpected value kind " + kind);
        }
    }

    /** The value of a result: an object, or scalars carried in io. */
    static Object result(Object o, long[] io) {
        if (o != null) return o;
        int kind = (int) io[1];
        return kind == NIL ? null : decode(kind, io[2], null);
    }

    static void check(long[] io) {
        int err = (int) io[0];
        if (err != OK && err != ECLOSED) throw XchanException.of(err, strerror(err));
    }

    // ---- transform and callback upcalls (from jx_xform.c / jx_comb.c) ---------
    static int step(Object xf, Object in, long emit) {
        return ((XfRuntime.Instance) xf).step(in, emit);
    }

    static int complete(Object xf, long emit) {
        return ((XfRuntime.Instance) xf).complete(emit);
    }

    static Object callback(Object fn, int what, Object a, Object b) {
        return Callbacks.call(fn, what, a, b);
    }

    // ---- natives ---------------------------------------------------------------
    static native void vmExiting();
    static native int libraryVersion();
    static native int headerVersion();
    static native int checkVersion(int number);
    static native String errName(int err);
    static native String strerror(int err);
    static native long apiHandle();

    /** The core's executor of a workload (xchan_executor_for); throws XchanException (ELOAD...). */
    static native long coreExecutorFor(int workload);
    /** xchan_execute(executor, task) through CoreExecutor.run; OK or the executor's refusal. */
    static native int coreExecute(long executor, Runnable task);

    static native long chanNew(int bufKind, long capacity, long xform, int maxPending);
    static native long timeout(long ms);
    static native void chanRetain(long ch);
    static native void chanRelease(long ch);
    static native void chanClose(long ch);
    static native void chanInfo(long ch, long[] out);
    static native Object takeTry(long ch, long token, long[] io);
    static native int putTry(long ch, int kind, long bits, Object ref, byte[] data, long token,
            long[] io);
    static native Object collect(long pending, long[] io);
    static native Object cancel(long pending, long[] io);
    static native void pendingFree(long pending);
    static native int opState(long pending);
    static native Object altsTry(long[] chans, int[] ops, int[] kinds, long[] bits,
            Object[] refs, byte[][] datas, int flags, long token, long timeoutNanos, long[] io);
    static native void boxFree(long ptr);
    static native long boxRetain(long valueAddress);
    static native long boxPointer(long ptr);
    static native int shutdown();
    static native void randomSeed(long seed);
    static native long liveHostValues();
    static native long mallocInUse();

    static native long xformNew(Object instanceFactory);
    static native int emitPush(long emit, int kind, long bits, Object ref, byte[] data);

    // combinators (jx_comb.c)
    static native long pipe(long from, long to, boolean close);
    static native long pipeline(int mode, int n, long to, Object spec, long from, boolean close);
    static native long pipelineAsync(int n, long to, Object af, long from, boolean close);
    static native long multNew(long src, long[] done);
    static native void multTap(long m, long ch, boolean close);
    static native void multUntap(long m, long ch);
    static native void multRelease(long m);
    static native long pubNew(long src, Object topicFn, long[] done);
    static native void pubCtl(long p, int op, int kind, long bits, Object ref, byte[] data, long ch,
            boolean close, int bufKind, long cap);
    static native void pubRelease(long p);
    static native long mixNew(long out, long[] done);
    static native int mixCtl(long m, int op, long ch, int mask, int flags);
    static native void mixRelease(long m);
    static native long merge(long[] chans, int kind, long cap, long[] done);
    static native long split(long src, Object pred, int tkind, long tcap, int fkind, long fcap,
            long[] out);
    static native long mapN(long[] chans, Object fn, int kind, long cap);
    static native long takeN(long src, long n, int kind, long cap);
    static native long reduce(long src, Object fn, Object spec, int kind, long bits, Object ref,
            byte[] data);
    static native long into(long src, int kind, long bits, Object ref, byte[] data);
    static native long ontoChan(long ch, int[] kinds, long[] bits, Object[] refs, byte[][] datas,
            boolean close);

    // ---- native workers (jx_native_run.c, NativeWorkers) -------------------
    static native long nativeRun(int workload, String lib, String symbol, String signature,
            int[] kinds, long[] bits, Object[] refs, byte[][] datas);
}
