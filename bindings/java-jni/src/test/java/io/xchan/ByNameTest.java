package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Buffers, workloads, alts clauses and solo modes given as data; null channels; versions; arrays. */
class ByNameTest {
    @Test
    void buffersByNameAndTheCoresChecksOfTheirCapacity() {
        assertEquals(4, Chan.of(Buffer.of("sliding", 4)).info().capacity);
        assertEquals(Chan.BUF_NONE, Chan.of(Buffer.of("unbuffered", 0)).info().bufKind);
        assertEquals(Chan.BUF_PROMISE, Chan.of(Buffer.of("promise", 0)).info().bufKind);
        assertThrows(XchanException.EINVAL.class, () -> Buffer.of("bottomless", 1));
        assertThrows(XchanException.EINVAL.class, () -> Chan.of(Buffer.of("none", 3)), "the core refuses it");
        assertThrows(XchanException.EINVAL.class, () -> Chan.of(Buffer.of("promise", 1)));
        assertThrows(XchanException.EINVAL.class, () -> Chan.of(Buffer.of("fixed", 0)));
    }

    @Test
    void workloadsByNameAndExecute() throws Exception {
        assertEquals(Workload.IO, Workload.named("io"));
        assertThrows(XchanException.EINVAL.class, () -> Workload.named("nonsense"));
        Chan<Long> c = Chan.fixed(1);
        Xchan.execute(Workload.named("compute"), () -> c.offer(1L));
        assertEquals(1L, c.take());
    }

    @Test
    void altsClausesByNameAndNullChannelsAreEinvalNamingTheArgument() {
        Chan<Long> a = Chan.fixed(1);
        assertTrue(a.offer(1L));
        XchanException e = assertThrows(XchanException.EINVAL.class, () -> new Alts().clause("peek", a, null));
        assertTrue(e.getMessage().contains("peek"));
        e = assertThrows(XchanException.EINVAL.class, () -> new Alts().take(null));
        assertTrue(e.getMessage().contains("alts clause 0"), e.getMessage());
        e = assertThrows(XchanException.EINVAL.class, () -> Flow.pipe(null, a, true));
        assertTrue(e.getMessage().contains("from must be a Chan"), e.getMessage());
        assertThrows(XchanException.EINVAL.class, () -> Flow.mult(null));
        assertThrows(XchanException.EINVAL.class, () -> Flow.take(1, null));
        assertThrows(XchanException.EINVAL.class, () -> Flow.reduce((x, y) -> x, 0L, null));
        assertThrows(XchanException.EINVAL.class, () -> Flow.merge(java.util.Arrays.asList(a, null), 0));
        Flow.Mix<Long> m = Flow.mix(Chan.<Long>unbuffered());
        assertThrows(XchanException.EINVAL.class, () -> m.toggle(null, Flow.Mix.MUTE, Flow.Mix.MUTE));
        assertThrows(XchanException.EINVAL.class, () -> m.soloMode("loud"));
        m.soloMode("pause");
    }

    @Test
    void checkVersionAndSeed() throws Exception {
        Xchan.checkVersion();
        Xchan.checkVersion(Xchan.libraryVersion());
        assertThrows(XchanException.EVERSION.class, () -> Xchan.checkVersion(990000));
        assertThrows(XchanException.EVERSION.class, () -> Xchan.checkVersion(9900));
        Chan<Long> a = Chan.fixed(1), b = Chan.fixed(1);
        int[][] wins = new int[2][2];
        for (int round = 0; round < 2; round++) {
            Xchan.randomSeed(7);
            for (int i = 0; i < 64; i++) {
                a.offer(0L);
                b.offer(1L);
                int k = new Alts().take(a).take(b).select().index();
                wins[round][k]++;
                a.poll();
                b.poll();
            }
        }
        assertArrayEquals(wins[0], wins[1], "the same seed, the same choices");
    }

    @Test
    void objectArraysAreTheCoresArraysAndCannotHoldNull() throws Exception {
        Chan<Object> c = Chan.fixed(2);
        assertTrue(c.put(new Object[] {1L, "a", new Object[] {true}}));
        assertEquals(List.of(1L, "a", List.of(true)), c.take());
        assertThrows(XchanException.EINVAL.class, () -> c.put(new Object[] {1L, null}));
        assertNull(c.poll(), "nothing was put");
        Chan<Long> src = Chan.unbuffered();
        assertThrows(XchanException.ETYPE.class, () -> Flow.into((Object) 5L, src));
        Chan<List<Object>> r = Flow.into((Object) new Object[] {0L}, src);
        src.close();
        assertEquals(List.of(0L), r.take());
    }
}
