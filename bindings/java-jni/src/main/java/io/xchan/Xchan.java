package io.xchan;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Library-wide entry points: go/thread/ioThread, executors, versions and the
 * function table for C code.
 *
 * <p>Executors (defaults; an {@link ExecutorFactory} may replace any):
 * {@link #go} and {@link #ioThread} run on virtual threads when the JVM has
 * them (21+) and on cached pools of platform daemon threads otherwise;
 * {@link #thread} always runs on a cached pool of platform daemon threads
 * ("xchan-thread-N"); COMPUTE is a fixed pool of one thread per CPU.
 * Because a blocking {@link Chan#take()} parks in Java, a go body may block
 * on channels freely.
 */
public final class Xchan {
    private Xchan() {}

    static {
        Native.ensureLoaded();
    }

    /** The binding's version (the jar's). */
    public static String version() { return Native.VERSION; }

    /** The loaded native library's XCHAN_VERSION_NUMBER (major*10000+minor*100+patch). */
    public static int libraryVersion() { return Native.libraryVersion(); }

    /**
     * The core's function table ({@code const xchan_api *}, see
     * xchan_ext.h) for C code loaded by this process, so that it uses the
     * same copy of the core as this binding. Never 0 with a core that has
     * the table.
     */
    public static long apiHandle() { return Native.apiHandle(); }

    /** The factory of virtual threads named "xchan-virtual-N" (null before 21). */
    static ThreadFactory virtualThreads() { return VIRTUAL; }

    /** True when this JVM has virtual threads (21+). */
    public static boolean hasVirtualThreads() { return VIRTUAL != null; }

    // ---- executors ------------------------------------------------------------------

    private static final ThreadFactory VIRTUAL = virtualFactory();
    private static volatile ExecutorFactory factory;
    private static final Map<Workload, Executor> RESOLVED = new EnumMap<>(Workload.class);

    /** Thread.ofVirtual().name(prefix, 0).factory(), through reflection (runs on 17). */
    private static ThreadFactory virtualFactory() {
        try {
            MethodHandles.Lookup l = MethodHandles.publicLookup();
            Class<?> builder = Class.forName("java.lang.Thread$Builder");
            Object b = l.findStatic(Thread.class, "ofVirtual",
                    MethodType.methodType(Class.forName("java.lang.Thread$Builder$OfVirtual"))).invoke();
            MethodHandle name = l.findVirtual(builder, "name",
                    MethodType.methodType(builder, String.class, long.class));
            b = name.invoke(b, "xchan-virtual-", 0L);
            return (ThreadFactory) l.findVirtual(builder, "factory",
                    MethodType.methodType(ThreadFactory.class)).invoke(b);
        } catch (Throwable t) {
            return null;
        }
    }

    private static ThreadFactory platform(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private static Executor defaultFor(Workload w) {
        switch (w) {
            case DISPATCH:
            case IO:
                if (VIRTUAL != null) return perTask(VIRTUAL);
                return Executors.newCachedThreadPool(platform(w == Workload.IO ? "xchan-io-" : "xchan-go-"));
            case MIXED:
                return Executors.newCachedThreadPool(platform("xchan-thread-"));
            default:
                return Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(),
                        platform("xchan-compute-"));
        }
    }

    /** A new thread per task (how virtual threads are meant to be used). */
    private static Executor perTask(ThreadFactory f) {
        return r -> f.newThread(r).start();
    }

    /**
     * Installs the executor factory. Allowed once, before any executor was
     * resolved; otherwise {@link XchanException.ESTATE}.
     */
    public static void setExecutorFactory(ExecutorFactory f) {
        synchronized (RESOLVED) {
            if (!RESOLVED.isEmpty() || factory != null) {
                throw XchanException.of(11, "the executor factory must be set once, before first use");
            }
            factory = f;
        }
    }

    private static ExecutorFactory propertyFactory() {
        String name = System.getProperty("xchan.executor-factory");
        if (name == null || name.isEmpty()) return null;
        try {
            return (ExecutorFactory) Class.forName(name, true, Thread.currentThread().getContextClassLoader() != null
                    ? Thread.currentThread().getContextClassLoader() : Xchan.class.getClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw XchanException.of(13, "xchan.executor-factory=" + name
                    + " is not an io.xchan.ExecutorFactory with a public no-argument constructor: " + e);
        }
    }

    /** The executor of {@code w}: the factory's, else the default. Cached. */
    public static Executor executorFor(Workload w) {
        synchronized (RESOLVED) {
            Executor e = RESOLVED.get(w);
            if (e != null) return e;
            if (factory == null) factory = propertyFactory();
            ExecutorFactory f = factory;
            if (f != null) {
                e = f.executorFor(w);
                if (e == null && w == Workload.DISPATCH) e = f.executorFor(Workload.MIXED);
            }
            if (e == null) e = defaultFor(w);
            RESOLVED.put(w, e);
            return e;
        }
    }

    // ---- go, thread, ioThread ----------------------------------------------------------

    /**
     * Runs {@code body} as a go block and returns a channel that receives
     * its result (unless null) and then closes. An exception goes to the
     * running thread's uncaught-exception handler and the channel closes
     * without a value.
     */
    public static <T> Chan<T> go(Callable<? extends T> body) {
        return run(Workload.DISPATCH, body);
    }

    /** As {@link #go}, on the MIXED executor (platform threads: may block on anything). */
    public static <T> Chan<T> thread(Callable<? extends T> body) {
        return run(Workload.MIXED, body);
    }

    /** As {@link #go}, on the IO executor (virtual threads on 21+). */
    public static <T> Chan<T> ioThread(Callable<? extends T> body) {
        return run(Workload.IO, body);
    }

    private static <T> Chan<T> run(Workload w, Callable<? extends T> body) {
        Chan<T> result = Chan.fixed(1);
        Runnable task = () -> {
            try {
                T v = body.call();
                if (v != null) result.offer(v);
            } catch (Throwable t) {
                Thread th = Thread.currentThread();
                th.getUncaughtExceptionHandler().uncaughtException(th, t);
            } finally {
                result.close();
            }
        };
        try {
            executorFor(w).execute(task);
        } catch (RejectedExecutionException e) {
            result.close();
            throw XchanException.of(16, "the " + w + " executor refused the task: " + e.getMessage());
        }
        return result;
    }
}
