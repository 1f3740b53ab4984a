package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * XCHAN_EXECUTOR_FACTORY configures Java's executors too (Xchan.executorFor
 * resolves to the core's executors). The variable is read once per process,
 * so each case runs a child JVM (Child.main) with the environment set and
 * reads what it printed. The real factory is tests/cross/factory's
 * libxchan_test_factory.so, built next to the JNI library: its threads are
 * named "xtf-<workload>" and it logs one line per task it runs.
 */
class CoreExecutorTest {
    static final String UNLOADABLE = "/nonexistent/libnope.so:factory";

    public static final class Child {
        static String attempt(Callable<?> c) {
            try {
                return "ok:" + c.call();
            } catch (XchanException e) {
                return e.code() + ":" + e.getMessage();
            } catch (Exception e) {
                return "unexpected:" + e;
            }
        }

        static String threadName() { return Thread.currentThread().getName(); }

        public static void main(String[] args) throws Exception {
            switch (args[0]) {
                case "unloadable":
                    System.out.println("executorFor=" + attempt(() -> Xchan.executorFor(Workload.MIXED)));
                    System.out.println("execute=" + attempt(() -> {
                        Xchan.execute(Workload.COMPUTE, () -> {});
                        return "ran";
                    }));
                    System.out.println("thread=" + attempt(() -> Xchan.thread(Child::threadName)));
                    System.out.println("go=" + attempt(() -> Xchan.go(Child::threadName)));
                    System.out.println("io=" + attempt(() -> Xchan.ioThread(Child::threadName)));
                    break;
                case "factory": {
                    System.out.println("thread=" + Xchan.thread(Child::threadName).take());
                    System.out.println("go=" + Xchan.go(() -> threadName() + "/" + Xchan.inGo()).take());
                    System.out.println("io=" + Xchan.ioThread(Child::threadName).take());
                    Chan<String> ch = Chan.fixed(1);
                    Xchan.execute(Workload.COMPUTE, () -> ch.offer(threadName() + "/" + Thread.currentThread().isDaemon()));
                    System.out.println("compute=" + ch.take());
                    // A failing Runnable goes to its thread's uncaught handler.
                    AtomicReference<String> caught = new AtomicReference<>();
                    Chan<String> seen = Chan.fixed(1);
                    Thread.setDefaultUncaughtExceptionHandler((t, e) -> {
                        seen.offer(t.getName() + ":" + e.getMessage());
                    });
                    Xchan.execute(Workload.COMPUTE, () -> {
                        throw new IllegalStateException("boom");
                    });
                    System.out.println("uncaught=" + seen.take());
                    // A failing go body goes to the task error hook; its result channel closes.
                    Xchan.setTaskErrorHook((name, e) -> caught.set(name + ":" + e.getMessage()));
                    Object r = Xchan.thread("bad", () -> {
                        throw new IllegalStateException("bad body");
                    }).take();
                    System.out.println("failed=" + r + "/" + caught.get());
                    System.out.println("executor=" + Xchan.executorFor(Workload.IO));
                    // After shutdown the core's executor refuses, with the core's error as the cause.
                    java.util.concurrent.Executor mixed = Xchan.executorFor(Workload.MIXED);
                    Xchan.shutdown();
                    try {
                        mixed.execute(() -> {});
                        System.out.println("refused=no");
                    } catch (java.util.concurrent.RejectedExecutionException e) {
                        System.out.println("refused=" + ((XchanException) e.getCause()).code());
                    }
                    System.out.println("thread-after=" + attempt(() -> Xchan.thread(Child::threadName)));
                    break;
                }
                case "serial": {
                    // XCHAN_TEST_FACTORY_SERIAL=1: one thread per workload, attached once.
                    Chan<Thread> ch = Chan.fixed(2);
                    Xchan.execute(Workload.MIXED, () -> ch.offer(Thread.currentThread()));
                    Xchan.execute(Workload.MIXED, () -> ch.offer(Thread.currentThread()));
                    Thread a = ch.take(), b = ch.take();
                    System.out.println("same=" + (a == b) + "/" + a.getName() + "/" + a.isDaemon());
                    break;
                }
                case "interrupt": {
                    // XCHAN_TEST_FACTORY_SERIAL=1: both tasks run on the one MIXED thread, which
                    // lives on; a task's interrupt must not reach the next task (as on a JVM pool).
                    Chan<String> ch = Chan.fixed(2);
                    Xchan.execute(Workload.MIXED, () -> {
                        Thread.currentThread().interrupt();
                        ch.offer(Thread.currentThread().getName());
                    });
                    Xchan.execute(Workload.MIXED, () -> ch.offer(Thread.currentThread().getName() + "/"
                            + Thread.currentThread().isInterrupted()));
                    Chan<String> later = Chan.fixed(1);
                    Object taken = Xchan.thread(() -> {
                        Xchan.execute(Workload.IO, () -> later.offer("late"));
                        return later.take(); // blocks: throws if the flag were still set
                    }).take();
                    System.out.println("interrupt=" + ch.take() + "," + ch.take() + "," + taken);
                    break;
                }
                case "hook": {
                    // A shutdown hook submits until the JVM's exit is seen: the core's executor
                    // refuses (a task could no longer enter the JVM) instead of dropping it.
                    System.out.println("before=" + attempt(() -> {
                        Xchan.execute(Workload.MIXED, () -> {});
                        return "ran";
                    }));
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        String r = "never refused";
                        while (System.nanoTime() < deadline) {
                            String a = attempt(() -> Xchan.thread(Child::threadName));
                            if (!a.startsWith("ok:")) {
                                r = a.substring(0, a.indexOf(':'));
                                break;
                            }
                            Thread.onSpinWait();
                        }
                        System.out.println("hook=" + r);
                    }));
                    break;
                }
                case "detach": {
                    // A thread per task: each is attached for its task and detached when it exits.
                    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                    Chan<String> done = Chan.fixed(1);
                    Xchan.execute(Workload.IO, () -> done.offer("warm"));
                    done.take();
                    int before = mx.getThreadCount();
                    int tasks = 50;
                    for (int i = 0; i < tasks; i++) {
                        Xchan.execute(Workload.IO, () -> done.offer("x"));
                        done.take();
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    int after = mx.getThreadCount();
                    while (after > before + 5 && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                        after = mx.getThreadCount();
                    }
                    System.out.println("threads=" + (after <= before + 5 ? "released" : before + "->" + after)
                            + " started=" + (mx.getTotalStartedThreadCount() >= tasks));
                    break;
                }
                case "java-factory-first":
                    System.out.println("thread=" + Xchan.thread(Child::threadName).take());
                    System.out.println("io=" + attempt(() -> Xchan.ioThread(Child::threadName)));
                    break;
                default:
                    throw new IllegalArgumentException(args[0]);
            }
        }
    }

    static List<String> runChild(Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 22) cmd.add("--enable-native-access=ALL-UNNAMED");
        for (String p : new String[] {"xchan.library.path", "xchan.test.native"}) {
            if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        Collections.addAll(cmd, args);
        // Output to a file, not a pipe read to its end: a child that hangs (a JVM in its
        // shutdown ignores SIGTERM) fails the test after the timeout instead of hanging it.
        Path log = Files.createTempFile("xchan-child", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            if (!ended) p.destroyForcibly().waitFor();
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(ended, "child JVM did not finish: " + out);
            assertEquals(0, p.exitValue(), out);
            return List.of(out.split("\n"));
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static String line(List<String> out, String key) {
        return out.stream().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1))
                .findFirst().orElseThrow(() -> new AssertionError("no " + key + "= in " + out));
    }

    static String testFactory() {
        Path lib = Path.of(System.getProperty("xchan.test.native"), "libxchan_test_factory.so");
        assertTrue(Files.exists(lib), lib + " is built by build-native.sh");
        return lib + ":xchan_test_factory";
    }

    @Test
    void unloadableFactoryGivesEloadFromEveryEntryPoint() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", UNLOADABLE), Child.class.getName(), "unloadable");
        for (String k : new String[] {"executorFor", "execute", "thread", "go", "io"}) {
            String v = line(out, k);
            assertTrue(v.startsWith("ELOAD:"), k + ": " + v);
            assertTrue(v.contains("XCHAN_EXECUTOR_FACTORY") && v.contains(UNLOADABLE), k + ": " + v);
        }
    }

    @Test
    void javaBodiesRunOnTheCoresExecutors() throws Exception {
        Path log = Files.createTempFile("xchan-factory", ".log");
        try {
            List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", testFactory(),
                    "XCHAN_TEST_FACTORY_LOG", log.toString()), Child.class.getName(), "factory");
            assertEquals("xtf-mixed", line(out, "thread"));
            // The factory returns NULL for DISPATCH: the core falls back to MIXED.
            assertEquals("xtf-mixed/true", line(out, "go"));
            assertEquals("xtf-io", line(out, "io"));
            assertEquals("xtf-compute/true", line(out, "compute"));
            assertEquals("xtf-compute:boom", line(out, "uncaught"));
            assertEquals("null/bad:bad body", line(out, "failed"));
            assertEquals("CoreExecutor[IO]", line(out, "executor"));
            assertEquals("ESHUTDOWN", line(out, "refused"));
            assertTrue(line(out, "thread-after").startsWith("ESHUTDOWN:"), out.toString());
            List<String> ran = Files.readAllLines(log);
            assertEquals(3, Collections.frequency(ran, "mixed"), ran.toString()); // thread, go, bad
            assertEquals(1, Collections.frequency(ran, "io"), ran.toString());
            assertEquals(2, Collections.frequency(ran, "compute"), ran.toString());
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void aCoreThreadIsAttachedOnceForItsLife() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", testFactory(),
                "XCHAN_TEST_FACTORY_SERIAL", "1"), Child.class.getName(), "serial");
        assertEquals("true/xtf-mixed/true", line(out, "same"));
    }

    @Test
    void anInterruptDoesNotOutliveItsTask() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", testFactory(),
                "XCHAN_TEST_FACTORY_SERIAL", "1"), Child.class.getName(), "interrupt");
        assertEquals("xtf-mixed,xtf-mixed/false,late", line(out, "interrupt"));
    }

    @Test
    void onceTheJvmExitsTheCoresExecutorRefusesJavaTasks() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", testFactory()), Child.class.getName(), "hook");
        assertEquals("ok:ran", line(out, "before"));
        assertEquals("ESHUTDOWN", line(out, "hook"));
    }

    @Test
    void runClearsTheFlagForTheTaskAndGivesBackTheThreadsOwn() {
        // As the trampoline calls it, here on a thread that is interrupted (an executor
        // that runs tasks inline on the submitting Java thread).
        boolean[] seen = new boolean[2];
        Thread.currentThread().interrupt();
        CoreExecutor.run(() -> {
            seen[0] = Thread.currentThread().isInterrupted();
            Thread.currentThread().interrupt();
        });
        boolean after = Thread.interrupted();
        CoreExecutor.run(() -> Thread.currentThread().interrupt());
        boolean afterClean = Thread.interrupted();
        assertFalse(seen[0], "the task started interrupted");
        assertTrue(after, "the thread's own interrupt was lost");
        assertFalse(afterClean, "a task's interrupt outlived it");
    }

    @Test
    void aCoreThreadIsDetachedWhenItExits() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", testFactory()), Child.class.getName(), "detach");
        assertEquals("released started=true", line(out, "threads"));
    }

    @Test
    void aJavaFactoryStillComesFirst() throws Exception {
        List<String> out = runChild(Map.of("XCHAN_EXECUTOR_FACTORY", UNLOADABLE),
                "-Dxchan.executor-factory=" + ExecutorFactoryTest.Recording.class.getName(),
                Child.class.getName(), "java-factory-first");
        assertEquals("factory-mixed", line(out, "thread"));
        // The Java factory's null for IO falls to the environment's factory.
        assertTrue(line(out, "io").startsWith("ELOAD:"), out.toString());
    }
}
