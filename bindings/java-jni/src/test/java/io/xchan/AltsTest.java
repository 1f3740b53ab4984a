package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class AltsTest {
    @Test
    void priorityTakesTheFirstReadyClause() throws Exception {
        Chan<Long> a = Chan.fixed(1), b = Chan.fixed(1);
        a.put(1L);
        b.put(2L);
        Alts.Result r = new Alts().take(b).take(a).priority().select();
        assertSame(b, r.chan());
        assertEquals(2L, r.value());
        assertEquals(0, r.index());
    }

    @Test
    void randomOrderPicksBothOverManyRounds() throws Exception {
        Chan<Long> a = Chan.fixed(1), b = Chan.fixed(1);
        int firstA = 0;
        for (int i = 0; i < 400; i++) {
            a.offer(1L);
            b.offer(2L);
            Alts.Result r = new Alts().take(a).take(b).select();
            if (r.chan() == a) firstA++;
            (r.chan() == a ? b : a).poll();
        }
        assertTrue(firstA > 120 && firstA < 280, "a won " + firstA + " of 400");
    }

    @Test
    void defaultWhenNothingIsReady() throws Exception {
        Chan<Long> a = Chan.unbuffered();
        Alts.Result r = new Alts().take(a).orElse("none").select();
        assertTrue(r.isDefault());
        assertEquals("none", r.value());
        assertEquals(0, a.info().pendingTakes);
    }

    @Test
    void putClauseAndClosedPut() throws Exception {
        Chan<String> a = Chan.fixed(1);
        Alts.Result r = new Alts().put(a, "v").select();
        assertTrue(r.ok());
        assertEquals("v", a.take());
        a.close();
        r = new Alts().put(a, "w").select();
        assertFalse(r.ok(), "a put to a closed channel completes with ok() false");
        assertSame(a, r.chan());
    }

    @Test
    void waitsForATimeoutChannel() throws Exception {
        Chan<Long> never = Chan.unbuffered();
        long t0 = System.nanoTime(); // before the timer starts: it may fire no earlier
        Chan<Object> t = Chan.timeout(Duration.ofMillis(40));
        Alts.Result r = new Alts().take(never).take(t).select();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertSame(t, r.chan());
        assertNull(r.value(), "a timeout channel closes");
        assertTrue(ms >= 39, "returned after " + ms + " ms");
        assertEquals(0, never.info().pendingTakes, "the losing registration was removed");
    }

    @Test
    void blockedAltsIsCompletedByAnotherThreadsPut() throws Exception {
        Chan<Long> a = Chan.unbuffered(), b = Chan.unbuffered();
        Thread t = new Thread(() -> {
            try {
                InterruptTest.awaitPendingTakes(b, 1);
                b.put(9L);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        t.start();
        Alts.Result r = new Alts().take(a).take(b).select(Duration.ofSeconds(10));
        assertSame(b, r.chan());
        assertEquals(9L, r.value());
        t.join();
    }

    @Test
    void altsPutValueNotChosenStaysOutOfTheChannel() throws Exception {
        Chan<String> full = Chan.fixed(1);
        full.put("x");
        Chan<Long> ready = Chan.fixed(1);
        ready.put(1L);
        Alts.Result r = new Alts().put(full, "lost?").take(ready).priority().select();
        assertSame(ready, r.chan());
        assertEquals("x", full.take());
        assertNull(full.poll());
    }
}
