package io.xchan;

import static io.xchan.InterruptTest.awaitPendingPuts;
import static io.xchan.InterruptTest.awaitPendingTakes;
import static io.xchan.XfTest.drain;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** core.async's channel rules, as the core keeps them, through Java. */
class SemanticsTest {
    static <T> CompletableFuture<T> async(java.util.concurrent.Callable<T> c) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(c.call());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        });
        t.setDaemon(true);
        t.start();
        return f;
    }

    @Test
    void unbufferedPutWaitsForATaker() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Boolean> put = async(() -> c.put(1L));
        awaitPendingPuts(c, 1);
        assertFalse(put.isDone(), "the put waits");
        assertEquals(1L, c.take());
        assertTrue(put.get(10, TimeUnit.SECONDS));
    }

    @Test
    void closeKeepsPendingPutsTakeableAndTheirPuttersSucceed() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Boolean> put = async(() -> c.put(7L));
        awaitPendingPuts(c, 1);
        c.close();
        assertEquals(7L, c.take(), "a pending put survives close");
        assertTrue(put.get(10, TimeUnit.SECONDS), "and its putter completes with true");
        assertNull(c.take());
    }

    @Test
    void closeReleasesPendingTakersWithNull() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        List<CompletableFuture<Long>> takers = new ArrayList<>();
        for (int i = 0; i < 3; i++) takers.add(async(c::take));
        awaitPendingTakes(c, 3);
        c.close();
        for (CompletableFuture<Long> t : takers) assertNull(t.get(10, TimeUnit.SECONDS));
    }

    @Test
    void tooManyPendingTakesIsELIMIT() throws Exception {
        Chan<Long> c = Chan.<Long>builder().maxPending(2).build();
        CompletableFuture<Long> a = async(c::take), b = async(c::take);
        awaitPendingTakes(c, 2);
        XchanException e = assertThrows(XchanException.ELIMIT.class, c::take);
        assertEquals("ELIMIT", e.code());
        c.put(1L);
        c.put(2L);
        assertEquals(3L, a.get(10, TimeUnit.SECONDS) + b.get(10, TimeUnit.SECONDS));
    }

    @Test
    void promiseClosedWithoutValueGivesNullToEveryTaker() throws Exception {
        Chan<Long> p = Chan.promise();
        CompletableFuture<Long> t = async(p::take);
        awaitPendingTakes(p, 1);
        p.close();
        assertNull(t.get(10, TimeUnit.SECONDS));
        assertNull(p.take());
        assertFalse(p.put(1L), "a closed promise refuses puts");
    }

    @Test
    void completionFlushesToAPendingTakerAtClose() throws Exception {
        Chan<Object> c = Chan.builder().fixed(10).xf(Xf.partitionAll(3)).build();
        c.put(1L);
        c.put(2L);
        CompletableFuture<Object> t = async(c::take);
        awaitPendingTakes(c, 1);
        c.close();
        assertEquals(List.of(1L, 2L), t.get(10, TimeUnit.SECONDS));
        assertNull(c.take());
    }

    @Test
    void perProducerOrderIsKeptAmongManyProducers() throws Exception {
        Chan<Long> c = Chan.fixed(8);
        int producers = 4, each = 5000;
        List<CompletableFuture<Boolean>> ps = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            final long base = p * 1_000_000L;
            ps.add(async(() -> {
                for (long i = 0; i < each; i++) c.put(base + i);
                return true;
            }));
        }
        long[] last = new long[producers];
        java.util.Arrays.fill(last, -1);
        for (int i = 0; i < producers * each; i++) {
            long v = c.take();
            int p = (int) (v / 1_000_000L);
            assertTrue(v % 1_000_000L > last[p], "producer " + p + " out of order");
            last[p] = v % 1_000_000L;
        }
        for (CompletableFuture<Boolean> f : ps) assertTrue(f.get(10, TimeUnit.SECONDS));
    }

    @Test
    void timeoutChannelClosesNoEarlierThanItsDuration() throws Exception {
        long t0 = System.nanoTime();
        Chan<Object> t = Chan.timeout(Duration.ofMillis(30));
        assertNull(t.take());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms >= 29, "closed after " + ms + " ms");
        assertNull(Chan.timeout(Duration.ZERO).take(Duration.ofSeconds(10)));
    }

    @Test
    void channelsTravelThroughChannels() throws Exception {
        Chan<Chan<String>> outer = Chan.fixed(1);
        Chan<String> reply = Chan.fixed(1);
        outer.put(reply);
        Chan<String> got = outer.take();
        assertEquals(reply, got);
        got.put("answer");
        assertEquals("answer", reply.take());
    }

    @Test
    void errorNamesMatchTheCore() {
        for (int i = 1; i <= 20; i++) {
            XchanException e = XchanException.of(i, "x");
            assertEquals(Native.errName(i), e.code(), "error " + i);
            assertEquals(e.code(), e.getClass().getSimpleName(), "subclass named after the core's name");
        }
        assertEquals("EUNKNOWN", Native.errName(99));
    }

    @Test
    void infoReportsTheBuffer() throws Exception {
        Chan<Long> c = Chan.sliding(3);
        c.put(1L);
        Chan.Info i = c.info();
        assertEquals(Chan.BUF_SLIDING, i.bufKind);
        assertEquals(3, i.capacity);
        assertEquals(1, i.count);
        assertFalse(i.closed);
    }
}
