package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The executor factory is resolved once per JVM, so each case runs in a
 * fresh JVM (Child.main below) and reports what it saw.
 */
class ExecutorFactoryTest {
    /** Named by -Dxchan.executor-factory in a child JVM. */
    public static final class Recording implements ExecutorFactory {
        static final List<Workload> ASKED = Collections.synchronizedList(new ArrayList<>());

        @Override public Executor executorFor(Workload w) {
            ASKED.add(w);
            if (w == Workload.MIXED) {
                return Executors.newCachedThreadPool(r -> {
                    Thread t = new Thread(r, "factory-mixed");
                    t.setDaemon(true);
                    return t;
                });
            }
            return null; // the default for the others
        }
    }

    public static final class Child {
        public static void main(String[] args) throws Exception {
            if (args[0].equals("api")) {
                Xchan.setExecutorFactory(new Recording());
                try {
                    Xchan.setExecutorFactory(new Recording());
                    System.out.println("second-set=allowed");
                } catch (XchanException.ESTATE e) {
                    System.out.println("second-set=ESTATE");
                }
            }
            System.out.println("thread=" + Xchan.thread(() -> Thread.currentThread().getName()).take());
            System.out.println("go=" + Xchan.go(() -> Thread.currentThread().getName()).take());
            System.out.println("io=" + Xchan.ioThread(() -> Thread.currentThread().getName()).take());
            System.out.println("asked=" + Recording.ASKED);
        }
    }

    static List<String> runChild(String... extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        for (String e : extra) cmd.add(e);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return List.of(out.split("\n"));
    }

    @Test
    void systemPropertyNamesTheFactoryClass() throws Exception {
        List<String> out = runChild("-Dxchan.executor-factory=" + Recording.class.getName(),
                Child.class.getName(), "property");
        assertTrue(out.contains("thread=factory-mixed"), out.toString());
        assertTrue(out.contains("go=factory-mixed"), "DISPATCH null -> the factory's MIXED: " + out);
        assertFalse(out.contains("io=factory-mixed"), out.toString());
        assertTrue(out.stream().anyMatch(l -> l.startsWith("asked=") && l.contains("DISPATCH")
                && l.contains("IO")), out.toString());
    }

    @Test
    void apiInstallsTheFactoryOnce() throws Exception {
        List<String> out = runChild(Child.class.getName(), "api");
        assertTrue(out.contains("second-set=ESTATE"), out.toString());
        assertTrue(out.contains("thread=factory-mixed"), out.toString());
    }

    @Test
    void badClassNameIsAClearError() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Dxchan.executor-factory=no.such.Factory",
                Child.class.getName(), "property");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, p.exitValue());
        assertTrue(out.contains("ELOAD") && out.contains("no.such.Factory"), out);
    }
}
