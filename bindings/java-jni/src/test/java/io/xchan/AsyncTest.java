package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Chan.putAsync / takeAsync and Alts.selectAsync: completion, cancel, and cancel storms. */
class AsyncTest {
    private static <T> T get(CompletableFuture<T> f) throws Exception {
        return f.get(10, TimeUnit.SECONDS);
    }

    @Test
    void putAsyncCompletesWithTrueNowOrWhenTakenAndFalseWhenClosed() throws Exception {
        Chan<Long> buf = Chan.fixed(1);
        CompletableFuture<Boolean> now = buf.putAsync(1L);
        assertTrue(now.isDone(), "room in the buffer: completed during the call");
        assertTrue(get(now));

        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Boolean> p = c.putAsync(7L);
        assertFalse(p.isDone(), "no taker yet");
        assertEquals(7L, c.take());
        assertTrue(get(p));

        CompletableFuture<Boolean> q = c.putAsync(8L);
        c.close();
        assertFalse(q.isDone(), "a pending put survives close (core.async)");
        assertEquals(8L, c.take());
        assertTrue(get(q));
        assertFalse(get(c.putAsync(9L)), "a put on a closed channel is false");
        assertThrows(NullPointerException.class, () -> c.putAsync(null));
    }

    @Test
    void takeAsyncGetsTheValueOrNullWhenClosedAndRunsOffXchanThreads() throws Exception {
        Chan<String> c = Chan.unbuffered();
        CompletableFuture<String> t = c.takeAsync();
        assertFalse(t.isDone());
        Thread putter = Thread.currentThread();
        CompletableFuture<Thread> ranOn = t.thenApply(v -> Thread.currentThread());
        assertTrue(c.put("hello")); // completes the take: the notifier runs inside this put
        assertNotEquals(putter, get(ranOn), "the continuation does not run inside the putter's put");
        assertEquals("hello", get(t));

        CompletableFuture<String> t2 = c.takeAsync();
        c.close();
        assertNull(get(t2), "closed and drained: null");
        assertNull(get(c.takeAsync()));
    }

    @Test
    void selectAsyncCompletesWithTheClauseThatWonAndDefaultAtOnce() throws Exception {
        Chan<Long> a = Chan.unbuffered(), b = Chan.unbuffered();
        CompletableFuture<Alts.Result> f = new Alts().take(a).put(b, 5L).selectAsync();
        assertFalse(f.isDone());
        assertEquals(5L, b.take());
        Alts.Result r = get(f);
        assertSame(b, r.chan());
        assertTrue(r.ok());
        assertEquals(1, r.index());
        assertNull(a.poll(), "the take clause got nothing");

        Alts.Result d = get(new Alts().take(a).orElse("none").selectAsync());
        assertTrue(d.isDefault());
        assertEquals("none", d.value());

        CompletableFuture<Alts.Result> g = new Alts().take(a).take(b).selectAsync();
        a.close();
        Alts.Result closed = get(g);
        assertSame(a, closed.chan());
        assertNull(closed.value());
        assertFalse(closed.ok());
    }

    @Test
    void cancelOfAPendingOpWinsAndTransfersNothing() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Boolean> p = c.putAsync(1L);
        assertTrue(p.cancel(true));
        assertTrue(p.isCancelled());
        assertThrows(CancellationException.class, () -> p.get());
        assertNull(c.poll(), "the cancelled put left nothing to take");
        assertEquals(0, c.info().pendingPuts);

        CompletableFuture<Long> t = c.takeAsync();
        assertTrue(t.cancel(false));
        assertFalse(c.offer(2L), "no taker is left to take an offer");
        assertEquals(0, c.info().pendingTakes);
        assertTrue(t.cancel(true), "cancelling again answers isCancelled(), as CompletableFuture");
        assertTrue(t.isCancelled());

        CompletableFuture<Alts.Result> s = new Alts().take(c).put(c, 3L).selectAsync();
        assertTrue(s.cancel(true));
        assertEquals(0, c.info().pendingPuts);
        assertEquals(0, c.info().pendingTakes);
    }

    @Test
    void cancelAfterCompletionKeepsTheValue() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Long> t = c.takeAsync();
        assertTrue(c.put(42L));
        boolean cancelled = t.cancel(true); // the take completed: the value must not be lost
        assertFalse(cancelled);
        assertEquals(42L, get(t));

        CompletableFuture<Boolean> now = Chan.<Long>fixed(1).putAsync(1L);
        assertFalse(now.cancel(true), "completed during the call");
        assertTrue(get(now));
    }

    @Test
    void elimitIsThrownAtStartAndLeavesTheChannelUsable() throws Exception {
        Chan<Long> c = Chan.<Long>builder().maxPending(2).build();
        CompletableFuture<Boolean> p1 = c.putAsync(1L), p2 = c.putAsync(2L);
        assertThrows(XchanException.ELIMIT.class, () -> c.putAsync(3L));
        assertEquals(1L, c.take());
        assertEquals(2L, c.take());
        assertTrue(get(p1));
        assertTrue(get(p2));
        assertEquals(0, OpFuture.openCount(), "no op left registered");
    }

    /**
     * Cancel storm: takers race cancels against puts. Every value put is
     * either taken by exactly one future that completed normally or still in
     * the channel; no future both lost its cancel and dropped the value.
     */
    @Test
    void cancelStormOfTakesLosesAndDuplicatesNothing() throws Exception {
        final int n = 20_000;
        Chan<Long> c = Chan.fixed(64);
        Thread producer = new Thread(() -> {
            try {
                for (long i = 0; i < n; i++) c.put(i);
                c.close(); // the values buffered stay takeable; pending takes then get null
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        producer.start();
        Set<Long> seen = new HashSet<>();
        int cancelled = 0;
        boolean closed = false;
        while (!closed) {
            // A batch under the channel's limit of 1024 pending takes; every other one cancelled at once.
            List<CompletableFuture<Long>> batch = new ArrayList<>();
            for (int i = 0; i < 256; i++) {
                CompletableFuture<Long> t = c.takeAsync();
                batch.add(t);
                if ((i & 1) == 0 && t.cancel(true)) cancelled++;
            }
            for (CompletableFuture<Long> t : batch) {
                if (t.isCancelled()) continue;
                Long v = get(t);
                if (v == null) closed = true;
                else assertTrue(seen.add(v), "value " + v + " delivered twice");
            }
        }
        producer.join(30_000);
        assertFalse(producer.isAlive());
        assertNull(c.poll());
        assertEquals(n, seen.size(), "every value exactly once (" + cancelled + " takes cancelled)");
        assertEquals(0, OpFuture.openCount());
    }

    @Test
    void cancelStormOfPutsAndSelectsLosesAndDuplicatesNothing() throws Exception {
        final int n = 10_000;
        Chan<Long> c = Chan.unbuffered();
        Chan<Long> other = Chan.unbuffered();
        Set<Long> taken = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread taker = new Thread(() -> {
            try {
                for (Long v; (v = c.take()) != null; ) assertTrue(taken.add(v), "taken twice: " + v);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        taker.start();
        List<CompletableFuture<Boolean>> puts = new ArrayList<>();
        List<CompletableFuture<Alts.Result>> sels = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            if ((i & 1) == 0) {
                CompletableFuture<Boolean> p = c.putAsync(i);
                puts.add(p);
                p.cancel(true);
            } else {
                CompletableFuture<Alts.Result> s = new Alts().put(c, i).take(other).selectAsync();
                sels.add(s);
                s.cancel(true);
            }
        }
        long delivered = 0;
        for (CompletableFuture<Boolean> p : puts) if (!p.isCancelled() && get(p)) delivered++;
        for (CompletableFuture<Alts.Result> s : sels) {
            if (s.isCancelled()) continue;
            Alts.Result r = get(s);
            assertSame(c, r.chan());
            if (r.ok()) delivered++;
        }
        c.close();
        taker.join(30_000);
        assertFalse(taker.isAlive());
        assertEquals(delivered, taken.size(),
                "a put completed (not cancelled) exactly when its value was taken");
        assertEquals(0, OpFuture.openCount());
    }
}
