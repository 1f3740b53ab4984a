package io.xchan;

import static io.xchan.XfTest.drain;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FlowTest {
    static final Duration T = Duration.ofSeconds(20);

    static List<Long> range(long n) {
        List<Long> l = new ArrayList<>();
        for (long i = 0; i < n; i++) l.add(i);
        return l;
    }

    @Test
    void pipeCopiesAndCloses() throws Exception {
        Chan<Long> a = Flow.toChan(range(5));
        Chan<Long> b = Chan.fixed(10);
        Chan<Void> done = Flow.pipe(a, b, true);
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), drain(b));
        assertNull(done.take(T));
    }

    @Test
    void pipelineKeepsOrderThroughJavaTransducers() throws Exception {
        Chan<Long> from = Flow.toChan(range(200));
        Chan<Object> to = Chan.fixed(10);
        Flow.pipeline(4, to, Xf.map((Long x) -> x * 2).andThen(Xf.filter((Long x) -> x % 3 != 0)), from);
        List<Object> expect = new ArrayList<>();
        for (long i = 0; i < 200; i++) if ((i * 2) % 3 != 0) expect.add(i * 2);
        assertEquals(expect, drain(to));
    }

    @Test
    void pipelineBlockingAndExceptionHandler() throws Exception {
        Chan<Long> from = Flow.toChan(range(5));
        Chan<Object> to = Chan.fixed(10);
        Flow.pipelineBlocking(2, to, Xf.map((Long x) -> {
            if (x == 3) throw new IllegalArgumentException("three");
            return x;
        }), from, true, e -> "err:" + e.getMessage());
        assertEquals(List.of(0L, 1L, 2L, "err:three", 4L), drain(to));
    }

    @Test
    void pipelineAsyncDeliversEachElementsResultsInOrder() throws Exception {
        Chan<Long> from = Flow.toChan(range(20));
        Chan<Long> to = Chan.fixed(5);
        Flow.<Long, Long>pipelineAsync(3, to, (x, res) -> Xchan.thread(() -> {
            res.put(x);
            res.put(x + 100);
            res.close();
            return null;
        }), from, true);
        List<Object> expect = new ArrayList<>();
        for (long i = 0; i < 20; i++) {
            expect.add(i);
            expect.add(i + 100);
        }
        assertEquals(expect, drain(to));
    }

    @Test
    void multFansOutToEveryTap() throws Exception {
        Chan<Long> src = Chan.unbuffered();
        Chan<Long> t1 = Chan.fixed(10), t2 = Chan.fixed(10);
        try (Flow.Mult<Long> m = Flow.mult(src)) {
            m.tap(t1).tap(t2);
            Flow.ontoChan(src, range(3), true);
            assertEquals(List.of(0L, 1L, 2L), drain(t1));
            assertEquals(List.of(0L, 1L, 2L), drain(t2));
            assertThrows(XchanException.ESTATE.class, () -> {
                m.close();
                m.untapAll();
            });
        }
    }

    @Test
    void pubRoutesByTopic() throws Exception {
        Chan<String> src = Chan.unbuffered();
        Flow.Pub<String> p = Flow.pub(src, s -> s.substring(0, 1));
        Chan<String> a = Chan.fixed(10), b = Chan.fixed(10);
        p.sub("a", a).sub("b", b);
        Flow.ontoChan(src, List.of("a1", "b1", "c1", "a2"), true);
        assertEquals(List.of("a1", "a2"), drain(a));
        assertEquals(List.of("b1"), drain(b));
        p.close();
    }

    @Test
    void mixWithMute() throws Exception {
        Chan<Long> out = Chan.fixed(100);
        Chan<Long> in1 = Chan.fixed(10), in2 = Chan.fixed(10);
        Flow.Mix<Long> m = Flow.mix(out);
        m.admix(in1).admix(in2).toggle(in2, Flow.Mix.MUTE, Flow.Mix.MUTE);
        assertEquals(Flow.Mix.MUTE, m.get(in2));
        in2.put(99L);
        in1.put(1L);
        assertEquals(1L, out.take(T));
        in2.close();
        in1.put(2L);
        assertEquals(2L, out.take(T));
        assertNull(out.poll(), "the muted input's value was dropped");
        m.close();
    }

    @Test
    void mergeSplitMapTake() throws Exception {
        Chan<Long> merged = Flow.merge(Flow.toChan(range(3)), Flow.toChan(List.of(10L, 11L)));
        Set<Object> got = new HashSet<>(drain(merged));
        assertEquals(Set.of(0L, 1L, 2L, 10L, 11L), got);

        Chan<Long>[] s = Flow.split((Long x) -> x % 2 == 0, Flow.toChan(range(6)));
        List<Object> even = Collections.synchronizedList(new ArrayList<>());
        Chan<Object> drainedEven = Xchan.thread(() -> {
            even.addAll(drain(s[0]));
            return "ok";
        });
        assertEquals(List.of(1L, 3L, 5L), drain(s[1]));
        assertEquals("ok", drainedEven.take(T));
        assertEquals(List.of(0L, 2L, 4L), even);

        Chan<Object> sums = Flow.map(vals -> (Long) vals.get(0) + (Long) vals.get(1),
                List.of(Flow.toChan(range(4)), Flow.toChan(List.of(10L, 20L, 30L))));
        assertEquals(List.of(10L, 21L, 32L), drain(sums));

        assertEquals(List.of(0L, 1L), drain(Flow.take(2, Flow.toChan(range(10)))));
    }

    @Test
    void reduceTransduceInto() throws Exception {
        Chan<Long> r = Flow.reduce((Long acc, Long x) -> acc + x, 0L, Flow.toChan(range(101)));
        assertEquals(5050L, r.take(T));
        assertNull(r.take(T));

        Chan<Long> early = Flow.reduce((Long acc, Long x) -> x >= 3 ? Flow.reduced(acc) : acc + x, 0L,
                Flow.toChan(range(10)));
        assertEquals(3L, early.take(T), "0+1+2, stopped at 3");

        Chan<Long> t = Flow.transduce(Xf.map((Long x) -> x * x), (Long acc, Long x) -> acc + x, 0L,
                Flow.toChan(range(4)));
        assertEquals(14L, t.take(T));

        Chan<List<Object>> into = Flow.into(List.of("start"), Flow.toChan(List.of(1L, 2L)));
        assertEquals(List.of("start", 1L, 2L), into.take(T));
    }

    @Test
    void ontoChanWithoutClose() throws Exception {
        Chan<Long> c = Chan.fixed(5);
        Chan<Void> done = Flow.ontoChan(c, range(3), false);
        assertNull(done.take(T));
        assertEquals(0L, c.take());
        assertFalse(c.isClosed());
    }
}
