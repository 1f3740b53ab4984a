package io.xchan;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Virtual threads blocked in take never pin their carriers. The suite runs
 * with -Djdk.virtualThreadScheduler.parallelism=2 (pom.xml): if a blocked
 * take held its carrier, two of them would stop every virtual thread.
 */
class VirtualThreadTest {
    static ThreadFactory virtual() {
        assumeTrue(Xchan.hasVirtualThreads(), "virtual threads need JDK 21+");
        return Xchan.virtualThreads();
    }

    @Test
    void tenThousandVirtualTakersOnTwoCarriers() throws Exception {
        ThreadFactory vt = virtual();
        assertEquals("2", System.getProperty("jdk.virtualThreadScheduler.parallelism"));
        final int n = 10_000;
        Chan<Long> c = Chan.<Long>builder().maxPending(n).build();
        AtomicLong done = new AtomicLong(), sum = new AtomicLong();
        List<Thread> takers = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Thread t = vt.newThread(() -> {
                try {
                    sum.addAndGet(c.take());
                    done.incrementAndGet();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            takers.add(t);
            t.start();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (c.info().pendingTakes < n) {
            assertTrue(System.nanoTime() < end, "only " + c.info().pendingTakes + " takes registered");
            Thread.sleep(5);
        }
        // Every taker is parked; other virtual threads still run.
        AtomicLong ticks = new AtomicLong();
        Thread ticker = vt.newThread(() -> {
            for (int i = 0; i < 200; i++) {
                ticks.incrementAndGet();
                Thread.yield();
            }
        });
        ticker.start();
        ticker.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(200, ticks.get(), "a virtual thread ran while 10,000 were blocked");
        assertEquals(0, done.get());
        // Two virtual producers release them all.
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
            final long base = p * (n / 2);
            Thread t = vt.newThread(() -> {
                try {
                    for (long i = 1; i <= n / 2; i++) assertTrue(c.put(base + i));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            producers.add(t);
            t.start();
        }
        for (Thread t : producers) t.join(TimeUnit.SECONDS.toMillis(60));
        for (Thread t : takers) t.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(n, done.get());
        assertEquals((long) n * (n + 1) / 2, sum.get());
    }

    @Test
    void goRunsOnVirtualThreadsAndBlocksFreely() throws Exception {
        virtual();
        Chan<Long> in = Chan.unbuffered();
        List<Chan<Long>> results = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            results.add(Xchan.go(() -> {
                assertTrue(Thread.currentThread().getName().startsWith("xchan-virtual-"), "go body on a virtual thread");
                return in.take() * 2;
            }));
        }
        for (long i = 0; i < 1000; i++) in.put(i);
        long sum = 0;
        for (Chan<Long> r : results) sum += r.take();
        assertEquals(2 * 999 * 1000 / 2, sum);
    }
}
