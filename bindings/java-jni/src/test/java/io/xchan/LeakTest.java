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
        for (int r = 0; r < 3; r++) round(buf, rv, 100_000); // warm-up: JIT, pools, arenas
        // Two halves of 500k operations each: a leak grows the C heap in
        // both; the JVM's own allocations (JIT, other tests' background
        // work) come and go.
        long[] heap = new long[3];
        long rss0 = rssKb();
        heap[0] = Native.mallocInUse();
        for (int half = 1; half <= 2; half++) {
            for (int r = 0; r < 5; r++) round(buf, rv, 100_000);
            heap[half] = Native.mallocInUse();
        }
        long rss1 = rssKb();
        long grow1 = heap[1] - heap[0], grow2 = heap[2] - heap[1];
        System.out.println("LeakTest: C heap +" + grow1 + " B then +" + grow2 + " B per 500k ops, RSS "
                + (rss1 - rss0) + " KiB, host values " + Native.liveHostValues() + " (baseline " + baseRefs + ")");
        assertEquals(baseRefs, Native.liveHostValues(), "host values (global refs) still alive");
        assertTrue(heap[0] >= 0, "mallinfo2 unavailable");
        // 8 bytes per operation would be 4 MB per half.
        assertTrue(Math.min(grow1, grow2) < 4 << 20,
                "the C heap grew in both halves: +" + grow1 + " B, +" + grow2 + " B");
        assertTrue(rss1 - rss0 < 512 * 1024, "RSS grew by " + (rss1 - rss0) + " KiB over 1M ops");
    }
}
