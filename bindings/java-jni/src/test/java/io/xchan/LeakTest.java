package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A million operations leave no JNI global refs (host wrappers, each holding
 * one) and no native memory behind.
 */
class LeakTest {
    static long rssKb() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmRSS");
    }

    static void round(Chan<Object> buf, Chan<Object> rv, int n) throws Exception {
        Object host = new Object();
        byte[] bytes = {1, 2, 3};
        // offer/poll of every reference kind
        for (int i = 0; i < n; i++) {
            Object v = switch (i & 3) {
                case 0 -> host;
                case 1 -> "s" + (i & 15);
                case 2 -> bytes;
                default -> (long) i;
            };
            assertTrue(buf.offer(v));
            assertNotNull(buf.poll());
        }
        // blocking rendezvous across threads (register, notify, collect)
        int m = n / 10;
        Thread t = new Thread(() -> {
            try {
                for (int i = 0; i < m; i++) rv.put(i % 2 == 0 ? host : "x");
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        for (int i = 0; i < m; i++) assertNotNull(rv.take());
        t.join();
        // timeouts (cancel-or-collect) and alts registrations
        for (int i = 0; i < 200; i++) {
            assertThrows(XchanException.ETIMEDOUT.class, () -> rv.take(Duration.ofNanos(1000)));
            new Alts().put(rv, host).take(buf).orElse(null).select();
        }
    }

    @Test
    void millionOperationsLeaveNoGlobalRefsOrNativeMemory() throws Exception {
        Chan<Object> buf = Chan.fixed(4), rv = Chan.unbuffered();
        long baseRefs = Native.liveHostValues();
        round(buf, rv, 100_000); // warm-up: JIT, pools, arenas
        System.gc();
        long heap0 = Native.mallocInUse(), rss0 = rssKb();
        for (int r = 0; r < 10; r++) round(buf, rv, 100_000);
        System.gc();
        long heap1 = Native.mallocInUse(), rss1 = rssKb();
        System.out.println("LeakTest: C heap " + (heap1 - heap0) + " B, RSS " + (rss1 - rss0)
                + " KiB, host values " + Native.liveHostValues() + " (baseline " + baseRefs + ")");
        assertEquals(baseRefs, Native.liveHostValues(), "host values (global refs) still alive");
        // The C heap (xchan's and the JVM's own) is the native memory a
        // leak would grow; RSS also counts the Java heap, so only a loose
        // bound on it.
        assertTrue(heap0 >= 0, "mallinfo2 unavailable");
        assertTrue(heap1 - heap0 < 16 << 20, "C heap grew by " + (heap1 - heap0) + " bytes over 1M ops");
        assertTrue(rss1 - rss0 < 512 * 1024, "RSS grew by " + (rss1 - rss0) + " KiB over 1M ops");
    }
}
