package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The combinators' done channels (close when the process has ended) and pub's per-topic buffers. */
class DoneChannelTest {
    private static void closesSoon(Chan<Void> done) throws Exception {
        assertNull(done.take(Duration.ofSeconds(5)), "the done channel closed");
    }

    @Test
    void multPubMixMergeSplitExposeTheirDoneChannels() throws Exception {
        Chan<Long> src = Chan.unbuffered();
        Flow.Mult<Long> m = Flow.mult(src);
        assertFalse(m.done().isClosed());
        src.close();
        closesSoon(m.done());

        Chan<Long> psrc = Chan.unbuffered();
        Flow.Pub<Long> p = Flow.pub(psrc, v -> v % 2 == 0 ? "even" : "odd");
        psrc.close();
        closesSoon(p.done());

        Chan<Long> out = Chan.unbuffered(), in = Chan.unbuffered();
        Flow.Mix<Long> mix = Flow.mix(out);
        mix.admix(in);
        out.close();
        assertTrue(in.put(1L)); // the mix takes it and fails to put it on the closed output
        closesSoon(mix.done());
        assertThrows(XchanException.ECLOSED.class, () -> mix.admix(Chan.unbuffered()));

        Chan<Long> a = Chan.fixed(2), b = Chan.fixed(2);
        Flow.WithDone<Chan<Long>> mg = Flow.mergeWithDone(List.of(a, b), 4);
        a.put(1L);
        b.put(2L);
        a.close();
        b.close();
        long sum = 0;
        for (Long v; (v = mg.result().take()) != null; ) sum += v;
        assertEquals(3, sum);
        closesSoon(mg.done());

        Chan<Long> s = Chan.fixed(4);
        Flow.WithDone<Chan<Long>[]> sp = Flow.splitWithDone(v -> v % 2 == 0, s);
        sp.result()[0].close();
        s.put(2L);
        closesSoon(sp.done());
        assertNull(sp.result()[1].take(Duration.ofSeconds(5)), "xchan closes both");
    }

    @Test
    void pubBufferFunctionBuffersEachTopic() throws Exception {
        Chan<Long> src = Chan.fixed(10);
        Flow.Pub<Long> p = Flow.pub(src, v -> v % 2 == 0 ? "even" : "odd", topic -> Buffer.of("fixed", 10));
        Chan<Long> evens = Chan.unbuffered(), odds = Chan.fixed(10);
        p.sub("even", evens);
        p.sub("odd", odds);
        Flow.ontoChan(src, List.of(2L, 1L, 4L, 3L), true);
        // The even topic's buffer holds 2 and 4 while nobody takes them, so the odds arrive.
        assertEquals(1L, odds.take(Duration.ofSeconds(5)));
        assertEquals(3L, odds.take(Duration.ofSeconds(5)));
        assertEquals(2L, evens.take(Duration.ofSeconds(5)));
        assertEquals(4L, evens.take(Duration.ofSeconds(5)));
    }
}
