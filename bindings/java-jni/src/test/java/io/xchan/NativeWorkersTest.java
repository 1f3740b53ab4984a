package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Native workers: libsensor.so (tests/cross/native/sensor.c, a plain C
 * library that reaches the core through its xchan_native_onload function
 * table) runs on the core's go / thread / io executors through libffi,
 * producing into and consuming from channels Java made.
 */
class NativeWorkersTest {
    static String sensor;
    static final Duration T = Duration.ofSeconds(10);

    @BeforeAll
    static void buildSensor() throws Exception {
        String env = System.getenv("XCHAN_SENSOR_LIB");
        if (env != null && !env.isEmpty()) {
            sensor = env;
            return;
        }
        Path root = Path.of(System.getProperty("user.dir")).resolve("../..").normalize();
        Path out = Path.of(System.getProperty("user.dir"), "target", "native-test", "libsensor.so");
        Files.createDirectories(out.getParent());
        String cc = System.getenv().getOrDefault("CC", "cc");
        Process p = new ProcessBuilder(cc, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", "-std=c11",
                "-fvisibility=hidden", "-Wl,--no-undefined",
                "-I", root.resolve("core/include").toString(),
                root.resolve("tests/cross/native/sensor.c").toString(), "-o", out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "cc timed out");
        assertEquals(0, p.exitValue(), log);
        sensor = out.toString();
    }

    static List<Object> drain(Chan<?> ch) throws InterruptedException {
        List<Object> got = new ArrayList<>();
        for (Object v; (v = ch.take(T)) != null; ) got.add(v);
        return got;
    }

    static List<Object> range(long a, long b, long k) {
        List<Object> r = new ArrayList<>();
        for (long i = a; i <= b; i++) r.add(k * i);
        return r;
    }

    @Test
    void streamProducesIntoAJavaChannelOnEveryExecutor() throws Exception {
        for (Workload w : new Workload[] {Workload.DISPATCH, Workload.MIXED, Workload.IO}) {
            Chan<Long> ch = Chan.unbuffered();
            Chan<Object> done = NativeWorkers.run(w, sensor, "stream", "v(ci)", ch, 100);
            assertEquals(range(1, 100, 1), drain(ch), w.name());
            assertNull(done.take(T), "void: the result channel closes empty");
        }
    }

    @Test
    void javaProducesAndCSums() throws Exception {
        Chan<Long> ch = Chan.fixed(4);
        Chan<Long> result = NativeWorkers.thread(sensor, "sum", "i(c)", ch);
        for (long i = 1; i <= 1000; i++) assertTrue(ch.put(i));
        ch.close();
        assertEquals(500_500L, result.take(T));
    }

    @Test
    void aPipelineOfCAndAVirtualThread() throws Exception {
        Chan<Long> src = Chan.fixed(8);
        Chan<Long> doubled = Chan.unbuffered();
        NativeWorkers.go(sensor, "stream", "v(ci)", src, 50);
        Chan<Long> relay = NativeWorkers.ioThread(sensor, "relay_double", "i(cc)", src, doubled);
        List<Object> got = new ArrayList<>();
        Runnable consume = () -> {
            try {
                got.addAll(drain(doubled));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        // A virtual thread on 21+ (the consumer parks, no carrier pinned).
        Thread t = Xchan.hasVirtualThreads() ? Xchan.virtualThreads().newThread(consume) : new Thread(consume);
        t.start();
        t.join(T.toMillis());
        assertFalse(t.isAlive());
        assertEquals(range(1, 50, 2), got);
        assertEquals(50L, relay.take(T));
    }

    @Test
    void returnKinds() throws Exception {
        assertEquals(6.0, NativeWorkers.go(sensor, "scale", "d(dd)", 1.5, 4).take(T));
        assertEquals(true, NativeWorkers.thread(sensor, "is_even", "b(i)", 8).take(T));
        assertEquals("odd", NativeWorkers.ioThread(sensor, "parity", "s(i)", 7).take(T));
        assertEquals(6L, NativeWorkers.go(sensor, "text_length", "i(s)", "héllo").take(T));
        Object counter = NativeWorkers.thread(sensor, "counter", "c(i)", 3).take(T);
        assertInstanceOf(Chan.class, counter);
        assertEquals(List.of(1L, 2L, 3L), drain((Chan<?>) counter));
    }

    static void expect(Class<? extends XchanException> cls, String code, String fragment, Executable call) {
        XchanException e = assertThrows(cls, call);
        assertEquals(code, e.code());
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void badCallsThrowBeforeAnythingRuns() {
        Chan<Long> ch = Chan.fixed(1);
        expect(XchanException.ELOAD.class, "ELOAD", "cannot load library \"/nonexistent/libx.so\"",
                () -> NativeWorkers.go("/nonexistent/libx.so", "stream", "v(ci)", ch, 1));
        expect(XchanException.ELOAD.class, "ELOAD", "no symbol \"no_such\"",
                () -> NativeWorkers.go(sensor, "no_such", "v(ci)", ch, 1));
        expect(XchanException.EINVAL.class, "EINVAL", "signature \"v(cx)\"",
                () -> NativeWorkers.thread(sensor, "stream", "v(cx)", ch, 1));
        expect(XchanException.EINVAL.class, "EINVAL", "takes 2 arguments, got 1",
                () -> NativeWorkers.thread(sensor, "stream", "v(ci)", ch));
        expect(XchanException.ETYPE.class, "ETYPE", "must be int, got string",
                () -> NativeWorkers.ioThread(sensor, "stream", "v(ci)", ch, "1"));
        expect(XchanException.ETYPE.class, "ETYPE", "argument 2",
                () -> NativeWorkers.ioThread(sensor, "stream", "v(ci)", ch, new Object()));
        Object[] many = new Object[17];
        for (int i = 0; i < many.length; i++) many[i] = (long) i;
        expect(XchanException.EINVAL.class, "EINVAL", "at most 16 arguments",
                () -> NativeWorkers.go(sensor, "stream", "v(ci)", many));
        assertThrows(NullPointerException.class, () -> NativeWorkers.thread(sensor, "stream", "v(ci)", ch, null));
        assertNull(ch.poll(), "nothing ran");
    }
}
