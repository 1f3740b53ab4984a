package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class XfTest {
    static List<Object> drain(Chan<?> c) throws InterruptedException {
        List<Object> out = new ArrayList<>();
        for (Object v; (v = c.take()) != null; ) out.add(v);
        return out;
    }

    @Test
    void mapFilterCompose() throws Exception {
        Chan<Object> c = Chan.builder().fixed(10)
                .xf(Xf.filter((Long x) -> x % 2 == 0).andThen(Xf.map((Long x) -> x * 10))).build();
        for (long i = 0; i < 6; i++) c.put(i);
        c.close();
        assertEquals(List.of(0L, 20L, 40L), drain(c));
    }

    @Test
    void takeStopsTheChannelAndPartitionAllFlushesAtClose() throws Exception {
        Chan<Object> t = Chan.builder().fixed(10).xf(Xf.take(2)).build();
        assertTrue(t.put(1L));
        assertTrue(t.put(2L));
        assertFalse(t.put(3L), "take(2) closed the channel after the 2nd value");
        assertEquals(List.of(1L, 2L), drain(t));

        Chan<Object> p = Chan.builder().fixed(10).xf(Xf.partitionAll(2)).build();
        for (long i = 1; i <= 5; i++) p.put(i);
        p.close();
        assertEquals(List.of(List.of(1L, 2L), List.of(3L, 4L), List.of(5L)), drain(p));
    }

    @Test
    void takeAndPartitionAllOfZeroOrLessAreEinval() {
        XchanException e = assertThrows(XchanException.EINVAL.class, () -> Xf.take(0));
        assertTrue(e.getMessage().contains("take"), e.getMessage());
        assertThrows(XchanException.EINVAL.class, () -> Xf.take(-1));
        assertThrows(XchanException.EINVAL.class, () -> Xf.partitionAll(0));
    }

    @Test
    void mapcatExpandsAndDedupeDistinctInterpose() throws Exception {
        Chan<Object> c = Chan.builder().fixed(1)
                .xf(Xf.mapcat((Long x) -> List.of(x, x)).andThen(Xf.dedupe())).build();
        Thread t = new Thread(() -> {
            try {
                for (long i = 0; i < 3; i++) c.put(i);
                c.close();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        assertEquals(List.of(0L, 1L, 2L), drain(c));
        t.join();
        Chan<Object> d = Chan.builder().fixed(20).xf(Xf.comp(Xf.distinct(), Xf.interpose("-"))).build();
        for (long v : new long[] {1, 2, 1, 3}) d.put(v);
        d.close();
        assertEquals(List.of(1L, "-", 2L, "-", 3L), drain(d));
    }

    @Test
    void exceptionGoesToTheHandlerWhoseValueIsAdded() throws Exception {
        List<Throwable> seen = new ArrayList<>();
        Chan<Object> c = Chan.builder().fixed(10).xf(Xf.map((Long x) -> {
            if (x == 2) throw new IllegalStateException("boom");
            return x;
        })).exHandler(e -> {
            seen.add(e);
            return "handled";
        }).build();
        for (long i = 1; i <= 3; i++) c.put(i);
        c.close();
        assertEquals(List.of(1L, "handled", 3L), drain(c));
        assertEquals(1, seen.size());
        assertEquals("boom", seen.get(0).getMessage());
    }

    @Test
    void transducerNeedsABuffer() {
        assertThrows(XchanException.EINVAL.class, () -> Chan.builder().xf(Xf.map(x -> x)).build());
    }

    @Test
    void stepsRunOnTheTakerWhenItPullsInAPendingPut() throws Exception {
        List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
        Chan<Object> c = Chan.builder().fixed(1).xf(Xf.map((Long x) -> {
            threads.add(Thread.currentThread().getName());
            return x;
        })).build();
        c.put(1L); // fills the buffer on this thread
        Thread p = new Thread(() -> {
            try {
                c.put(2L); // waits: buffer full
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }, "putter");
        p.start();
        InterruptTest.awaitPendingPuts(c, 1);
        assertEquals(1L, c.take());
        assertEquals(2L, c.take());
        p.join();
        assertEquals(2, threads.size());
    }
}
