package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChanBasicsTest {
    @Test
    void fixedBufferFifoAndCloseSemantics() throws Exception {
        Chan<Long> c = Chan.fixed(3);
        assertTrue(c.put(1L));
        assertTrue(c.offer(2L));
        assertTrue(c.put(3L));
        assertFalse(c.offer(4L), "full buffer: offer refuses");
        c.close();
        assertFalse(c.put(5L), "put on a closed channel returns false");
        assertEquals(1L, c.take());
        assertEquals(2L, c.poll());
        assertEquals(3L, c.take());
        assertNull(c.take(), "closed and drained: null");
        assertNull(c.poll());
    }

    @Test
    void unbufferedRendezvousBetweenThreads() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        assertFalse(c.offer(1L), "no taker: offer refuses");
        Thread t = new Thread(() -> {
            try {
                for (long i = 0; i < 1000; i++) c.put(i);
                c.close();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        long sum = 0, n = 0;
        for (Long v; (v = c.take()) != null; ) {
            assertEquals(n, v);
            sum += v;
            n++;
        }
        assertEquals(1000, n);
        assertEquals(499500, sum);
        t.join();
    }

    @Test
    void blockedTakeIsReleasedByPutFromAnotherThread() throws Exception {
        Chan<String> c = Chan.unbuffered();
        CountDownLatch started = new CountDownLatch(1);
        String[] got = new String[1];
        Thread t = new Thread(() -> {
            started.countDown();
            try {
                got[0] = c.take();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        started.await();
        String s = new String("hello");
        assertTrue(c.put(s));
        t.join(10_000);
        assertSame(s, got[0], "a Java String comes back as the very same object");
    }

    @Test
    void droppingAndSlidingBuffers() throws Exception {
        Chan<Long> d = Chan.dropping(2);
        Chan<Long> s = Chan.sliding(2);
        for (long i = 1; i <= 4; i++) {
            assertTrue(d.put(i), "dropping: put never waits and reports success");
            assertTrue(s.put(i));
        }
        assertEquals(1L, d.take());
        assertEquals(2L, d.take());
        assertNull(d.poll());
        assertEquals(3L, s.take());
        assertEquals(4L, s.take());
        assertNull(s.poll());
    }

    @Test
    void promiseGivesItsFirstValueToEveryTaker() throws Exception {
        Chan<String> p = Chan.promise();
        assertTrue(p.put("first"));
        assertTrue(p.put("second"), "later puts are accepted and dropped");
        for (int i = 0; i < 3; i++) assertEquals("first", p.take());
        p.close();
        assertEquals("first", p.take(), "a closed promise keeps its value");
    }

    @Test
    void takeTimesOutWithNothingTransferred() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        long t0 = System.nanoTime();
        assertThrows(XchanException.ETIMEDOUT.class, () -> c.take(Duration.ofMillis(50)));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 45, "waited " + ms + " ms");
        assertEquals(0, c.info().pendingTakes, "the timed-out take left no registration");
        Chan<Long> full = Chan.fixed(1);
        full.put(1L);
        assertThrows(XchanException.ETIMEDOUT.class, () -> full.put(2L, Duration.ofMillis(20)));
        assertEquals(1L, full.take());
        assertNull(full.poll(), "the timed-out put transferred nothing");
    }

    @Test
    void nullPutIsRejected() {
        Chan<Object> c = Chan.fixed(1);
        assertThrows(NullPointerException.class, () -> c.put(null));
        assertThrows(NullPointerException.class, () -> c.offer(null));
    }

    @Test
    void badArgumentsGiveNamedErrors() {
        XchanException e = assertThrows(XchanException.EINVAL.class, () -> Chan.fixed(0));
        assertEquals("EINVAL", e.code());
        assertEquals(1, e.number());
    }

    @Test
    void valuesOfEveryInteropType() throws Exception {
        Chan<Object> c = Chan.fixed(16);
        byte[] bytes = {1, 2, 3};
        Object host = new Object();
        Chan<Object> inner = Chan.fixed(1);
        List<Object> list = List.of(1L, "x");
        c.put(42L);
        c.put(7);
        c.put(2.5);
        c.put(true);
        c.put("snow \u2603 \uD83D\uDE00");
        c.put(bytes);
        c.put(host);
        c.put(inner);
        c.put(list);
        assertEquals(42L, c.take());
        assertEquals(7L, c.take(), "Integer arrives as Long (C's int64)");
        assertEquals(2.5, c.take());
        assertEquals(true, c.take());
        assertEquals("snow \u2603 \uD83D\uDE00", c.take());
        assertSame(bytes, c.take());
        assertSame(host, c.take());
        assertEquals(inner, c.take(), "a Chan comes back wrapping the same native channel");
        assertSame(list, c.take(), "other objects come back as the very same object");
    }
}
