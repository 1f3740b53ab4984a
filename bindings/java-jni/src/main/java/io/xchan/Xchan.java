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
import java.util.function.BiConsumer;

/**
 * Library-wide entry points: go/thread/ioThread (named for the task error
 * hook), the go context ({@link #inGo()}), executors, {@link #shutdown()},
 * versions, the alts seed and the function table for C code.
 *
 * <p>Executors (defaults; an {@link ExecutorFactory} may replace any):
 * {@link #go} and {@link #ioThread} run on virtual threads when the JVM has
 * them (21+) and on cached pools of platform daemon threads otherwise;
 * {@link #thread} always runs on a cached pool of platform daemon threads
 * ("xchan-thread-N"); COMPUTE is a fixed pool of one thread per CPU.
 * Because a blocking {@link Chan#take()} parks in Java, a go body may block
 * on channels freely.
 *
 * <p>When the environment variable {@code XCHAN_EXECUTOR_FACTORY}
 * ("libfoo.so:symbol", a C xchan_executor_factory) is set, the workloads no
 * Java factory answers for run on the core's executors instead (see
 * {@link #executorFor}): one set of executors for Java, C and the core. A
 * factory that cannot be loaded makes executorFor, execute, go, thread and
 * ioThread throw {@link XchanException.ELOAD}.
 *
 * <p>State and locks: the executor table and the shutdown flag are guarded
 * by the RESOLVED map's monitor (never held while a task runs); the task
 * error hook is a volatile field; the go context is a ThreadLocal set around
 * go bodies and cleared around callbacks ({@link #outsideGo}).
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
     * Checks that code built against version {@code number}
     * (major*10000+minor*100+patch) may use the loaded library
     * (xchan_check_version: same major, library minor at least as new).
     *
     * @throws XchanException.EVERSION otherwise (also for a negative number)
     */
    public static void checkVersion(int number) {
        int err = Native.checkVersion(number);
        if (err != Native.OK) {
            throw XchanException.of(err, "version " + number + " cannot use the loaded library "
                    + libraryVersion());
        }
    }

    /** {@link #checkVersion(int)} with the version this jar was built against. */
    public static void checkVersion() { checkVersion(Native.headerVersion()); }

    /**
     * Seeds the calling thread's random generator, which orders the clauses
     * of its {@link Alts} (xchan_random_seed): the same seed gives the same
     * choices, for reproducible tests.
     */
    public static void randomSeed(long seed) { Native.randomSeed(seed); }

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
    /** The executors made here (not a factory's): shutdown() stops them. */
    private static final java.util.List<Executor> OWNED = new java.util.ArrayList<>();

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

    /** True when XCHAN_EXECUTOR_FACTORY names a C factory for the core's executors. */
    private static boolean coreFactoryNamed() {
        String spec = System.getenv("XCHAN_EXECUTOR_FACTORY");
        return spec != null && !spec.isEmpty();
    }

    /**
     * The executor of {@code w}, resolved at first use and cached:
     * <ol>
     * <li>the Java factory's ({@link #setExecutorFactory}, else the class
     *     named by {@code -Dxchan.executor-factory}); its null for DISPATCH
     *     uses its MIXED executor;
     * <li>else, when the environment variable {@code XCHAN_EXECUTOR_FACTORY}
     *     is set, the core's executor of {@code w} (xchan_executor_for: the
     *     C factory it names, its DISPATCH-to-MIXED fallback and the core's
     *     defaults), so Java tasks share the core's executors;
     * <li>else this binding's default (see the class comment).
     * </ol>
     *
     * @throws XchanException.ELOAD when XCHAN_EXECUTOR_FACTORY names a
     *     library or symbol that cannot be loaded (the message names the
     *     variable; nothing is cached, every later call fails the same way)
     * @throws XchanException.ESHUTDOWN after {@link #shutdown()}
     */
    public static Executor executorFor(Workload w) {
        if (w == null) throw XchanException.of(Native.EINVAL, "workload must not be null");
        if (shutDown) throw XchanException.of(Native.ESHUTDOWN, "xchan is shut down");
        synchronized (RESOLVED) {
            Executor e = RESOLVED.get(w);
            if (e != null) return e;
            if (factory == null) factory = propertyFactory();
            ExecutorFactory f = factory;
            if (f != null) {
                e = f.executorFor(w);
                if (e == null && w == Workload.DISPATCH) e = f.executorFor(Workload.MIXED);
            }
            if (e == null && coreFactoryNamed()) {
                e = CoreExecutor.of(w); // the core's until the process ends: not OWNED
            }
            if (e == null) {
                e = defaultFor(w);
                OWNED.add(e);
            }
            RESOLVED.put(w, e);
            return e;
        }
    }

    /** The XchanException for an executor's refusal: the core's error when it gave one, else ESHUTDOWN. */
    private static XchanException refused(Workload w, RejectedExecutionException x) {
        int err = x.getCause() instanceof XchanException ? ((XchanException) x.getCause()).number() : Native.ESHUTDOWN;
        return XchanException.of(err, "the " + w + " executor refused the task: " + x.getMessage());
    }

    /**
     * Runs {@code task} on the executor of {@code w} (xchan_execute).
     *
     * @throws XchanException.ESHUTDOWN after {@link #shutdown()}
     * @throws XchanException.ELOAD when XCHAN_EXECUTOR_FACTORY cannot be
     *     loaded ({@link #executorFor})
     */
    public static void execute(Workload w, Runnable task) {
        if (task == null) throw XchanException.of(Native.EINVAL, "task must not be null");
        Executor e = executorFor(w);
        try {
            e.execute(task);
        } catch (RejectedExecutionException x) {
            throw refused(w, x);
        }
    }

    // ---- shutdown ----------------------------------------------------------------------

    private static volatile boolean shutDown;

    /**
     * Shuts xchan down (xchan_shutdown): the core's threads stop; pending
     * timers fire (a timeout channel closes, an async alts' deadline
     * completes with ESHUTDOWN), and every async op still pending on a
     * channel completes with {@link XchanException.ESHUTDOWN} (a put's value
     * handed back). The default executors of this binding stop taking
     * tasks (those running finish). Channels stay usable from threads the
     * caller owns; starting new tasks, timeouts or deadlines afterwards
     * gives ESHUTDOWN. Safe to call more than once.
     *
     * @throws XchanException.ESTATE when called from a go body or a thread
     *     of the core (it would wait for itself)
     */
    public static void shutdown() {
        if (inGo()) throw XchanException.of(Native.ESTATE, "shutdown must not be called from a go body");
        int err = Native.shutdown();
        if (err != Native.OK) throw XchanException.of(err, "shutdown");
        synchronized (RESOLVED) {
            shutDown = true;
            for (Executor e : OWNED) {
                if (e instanceof ExecutorService) ((ExecutorService) e).shutdown();
            }
        }
    }

    // ---- task errors -------------------------------------------------------------------

    private static volatile BiConsumer<String, Throwable> taskErrorHook;

    /**
     * The application's hook for failing go, thread and ioThread bodies
     * (xchan_set_task_error_hook): called with the task's name and what its
     * body threw, on the task's thread, before its result channel closes.
     * A failing body's result channel still closes without a value. Null
     * restores the default: the thread's uncaught-exception handler. A
     * hook that throws is reported to that handler.
     */
    public static void setTaskErrorHook(BiConsumer<String, Throwable> hook) { taskErrorHook = hook; }

    private static void taskFailed(String name, Throwable t) {
        Thread th = Thread.currentThread();
        BiConsumer<String, Throwable> hook = taskErrorHook;
        if (hook != null) {
            try {
                hook.accept(name, t);
                return;
            } catch (Throwable h) {
                t = h;
            }
        }
        th.getUncaughtExceptionHandler().uncaughtException(th, t);
    }

    // ---- go context --------------------------------------------------------------------

    private static final ThreadLocal<Boolean> IN_GO = new ThreadLocal<>();

    /** True when the caller runs inside a go body ({@link #go}) (xchan_in_go). */
    public static boolean inGo() { return IN_GO.get() == Boolean.TRUE; }

    /** Runs {@code r} outside the go context: callbacks and notifiers are not part of a go body. */
    static void outsideGo(Runnable r) {
        Boolean was = IN_GO.get();
        if (was == null) {
            r.run();
            return;
        }
        IN_GO.remove();
        try {
            r.run();
        } finally {
            IN_GO.set(was);
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
        return run(Workload.DISPATCH, "go-" + TASKS.incrementAndGet(), body);
    }

    /** As {@link #go(Callable)}, named {@code name} for the task error hook. */
    public static <T> Chan<T> go(String name, Callable<? extends T> body) {
        return run(Workload.DISPATCH, name, body);
    }

    /** As {@link #go}, on the MIXED executor (platform threads: may block on anything). */
    public static <T> Chan<T> thread(Callable<? extends T> body) {
        return run(Workload.MIXED, "thread-" + TASKS.incrementAndGet(), body);
    }

    /** As {@link #thread(Callable)}, named {@code name} for the task error hook. */
    public static <T> Chan<T> thread(String name, Callable<? extends T> body) {
        return run(Workload.MIXED, name, body);
    }

    /** As {@link #go}, on the IO executor (virtual threads on 21+). */
    public static <T> Chan<T> ioThread(Callable<? extends T> body) {
        return run(Workload.IO, "io-thread-" + TASKS.incrementAndGet(), body);
    }

    /** As {@link #ioThread(Callable)}, named {@code name} for the task error hook. */
    public static <T> Chan<T> ioThread(String name, Callable<? extends T> body) {
        return run(Workload.IO, name, body);
    }

    private static final AtomicInteger TASKS = new AtomicInteger();

    private static <T> Chan<T> run(Workload w, String name, Callable<? extends T> body) {
        if (body == null) throw XchanException.of(Native.EINVAL, "body must not be null");
        String taskName = name != null ? name : "task-" + TASKS.incrementAndGet();
        Executor ex = executorFor(w); // ESHUTDOWN after shutdown()
        Chan<T> result = Chan.fixed(1);
        boolean go = w == Workload.DISPATCH;
        Runnable task = () -> {
            Boolean was = IN_GO.get();
            if (go) IN_GO.set(Boolean.TRUE);
            else IN_GO.remove();
            try {
                T v = body.call();
                if (v != null) result.offer(v);
            } catch (Throwable t) {
                taskFailed(taskName, t);
            } finally {
                if (was == null) IN_GO.remove();
                else IN_GO.set(was);
                result.close();
            }
        };
        try {
            ex.execute(task);
        } catch (RejectedExecutionException e) {
            result.close();
            throw refused(w, e);
        }
        return result;
    }
}
