package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class InterruptTest {
    /** Waits until `ch` has `n` pending takes (the taker is parked). */
    static void awaitPendingTakes(Chan<?> ch, int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ch.info().pendingTakes < n) {
            if (System.nanoTime() > end) fail("no pending take after 10 s");
            Thread.sleep(1);
        }
    }

    static void awaitPendingPuts(Chan<?> ch, int n) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ch.info().pendingPuts < n) {
            if (System.nanoTime() > end) fail("no pending put after 10 s");
            Thread.sleep(1);
        }
    }

    @Test
    void interruptedTakeThrowsAndTheValueStaysInTheChannel() throws Exception {
        Chan<String> c = Chan.unbuffered();
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                c.take();
                got.set(new AssertionError("take returned"));
            } catch (Throwable e) {
                got.set(e);
            }
        });
        t.start();
        awaitPendingTakes(c, 1);
        t.interrupt();
        t.join(10_000);
        assertInstanceOf(InterruptedException.class, got.get());
        assertEquals(0, c.info().pendingTakes, "the canceled take is gone");
        // A value put afterwards is not lost to the dead take.
        Chan<String> b = Chan.fixed(1);
        b.put("kept");
        assertEquals("kept", b.take());
        CompletableFuture<Boolean> putter = CompletableFuture.supplyAsync(() -> {
            try {
                return c.put("next");
            } catch (InterruptedException e) {
                return false;
            }
        });
        assertEquals("next", c.take());
        assertTrue(putter.get(10, TimeUnit.SECONDS));
    }

    @Test
    void interruptedPutThrowsAndTheValueIsNotDelivered() throws Exception {
        Chan<String> c = Chan.unbuffered();
        AtomicReference<Throwable> got = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                c.put("never");
                got.set(new AssertionError("put returned"));
            } catch (Throwable e) {
                got.set(e);
            }
        });
        t.start();
        awaitPendingPuts(c, 1);
        t.interrupt();
        t.join(10_000);
        assertInstanceOf(InterruptedException.class, got.get());
        assertNull(c.poll(), "the canceled put transferred nothing");
    }

    @Test
    void alreadyInterruptedThreadThrowsBeforeWaiting() {
        Chan<Long> c = Chan.unbuffered();
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, c::take);
        assertFalse(Thread.currentThread().isInterrupted());
        assertEquals(0, c.info().pendingTakes);
    }

    @Test
    void readyValueIsTakenEvenWhenInterrupted() throws Exception {
        Chan<Long> c = Chan.fixed(1);
        c.put(5L);
        Thread.currentThread().interrupt();
        try {
            assertEquals(5L, c.take(), "a ready value completes without waiting");
            assertTrue(Thread.currentThread().isInterrupted(), "the flag stays set");
        } finally {
            Thread.interrupted();
        }
    }

    /** Races interrupts against puts: every value is received exactly once. */
    @Test
    void interruptRaceNeverLosesOrDuplicatesAValue() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        final int rounds = 2000;
        java.util.concurrent.ConcurrentLinkedQueue<Long> received = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Thread taker = new Thread(() -> {
            while (true) {
                try {
                    Long v = c.take();
                    if (v == null) return;
                    received.add(v);
                    Thread.interrupted(); // a completed take may keep the flag
                } catch (InterruptedException e) {
                    // canceled: nothing taken, go on
                }
            }
        });
        taker.start();
        Thread interrupter = new Thread(() -> {
            while (taker.isAlive()) {
                taker.interrupt();
                Thread.onSpinWait();
                try { Thread.sleep(0, 50_000); } catch (InterruptedException e) { return; }
            }
        });
        interrupter.start();
        for (long i = 0; i < rounds; i++) assertTrue(c.put(i));
        c.close();
        taker.join(30_000);
        interrupter.join(10_000);
        assertEquals(rounds, received.size());
        assertEquals(rounds, received.stream().distinct().count());
    }
}
