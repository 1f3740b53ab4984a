package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The op handle's low-level surface: state, collect, cancelEx, notify mode, callback placement. */
class OpHandleTest {
    @Test
    void stateFollowsTheOpAndCancelExHandsAPutsValueBack() throws Exception {
        Chan<String> c = Chan.unbuffered();
        OpFuture<Boolean> p = c.putAsync("mine");
        assertEquals(OpFuture.State.PENDING, p.state());
        OpResult r = p.cancelEx();
        assertEquals("ECANCELED", r.err());
        assertEquals("mine", r.value(), "the cancelled put's value is handed back");
        assertTrue(p.isCancelled());
        assertEquals(OpFuture.State.CANCELED, p.state());
        assertNull(c.poll(), "nothing was transferred");
        assertThrows(XchanException.EDONE.class, p::cancelEx);

        OpFuture<String> t = c.takeAsync();
        assertTrue(c.put("v"));
        assertEquals("v", t.get(5, TimeUnit.SECONDS));
        assertEquals(OpFuture.State.DELIVERED, t.state());
        assertThrows(XchanException.EDONE.class, t::cancelEx, "already delivered");
        assertThrows(XchanException.EINVAL.class, t::collect, "not a notify-mode op");
    }

    @Test
    void notifyModeWaitsForCollect() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CountDownLatch rang = new CountDownLatch(1);
        OpFuture<Long> t = c.takeAsyncNotify(rang::countDown);
        assertThrows(XchanException.EAGAIN.class, t::collect, "not completed yet");
        assertTrue(c.put(4L));
        assertTrue(rang.await(5, TimeUnit.SECONDS), "the notifier ran");
        assertEquals(OpFuture.State.COMPLETED, t.state(), "completed, not collected");
        assertFalse(t.isDone(), "the future waits for collect");
        OpResult r = t.collect();
        assertEquals("OK", r.err());
        assertEquals(4L, r.value());
        assertEquals(4L, t.getNow(null));
        assertEquals(OpFuture.State.DELIVERED, t.state());
        assertThrows(XchanException.EDONE.class, t::collect);

        // Completed during the call: the notifier has run, the result waits.
        Chan<Long> b = Chan.fixed(1);
        CountDownLatch now = new CountDownLatch(1);
        OpFuture<Boolean> p = b.putAsyncNotify(1L, now::countDown);
        assertEquals(0, now.getCount());
        assertEquals(OpFuture.State.COMPLETED, p.state());
        assertEquals("OK", p.collect().err());

        // cancelEx takes a completed, uncollected result.
        OpFuture<Long> t2 = c.takeAsyncNotify(() -> { });
        assertTrue(c.put(5L));
        OpResult got = t2.cancelEx();
        assertEquals("OK", got.err());
        assertEquals(5L, got.value());
        assertThrows(XchanException.EDONE.class, t2::collect);
        assertEquals(0, OpFuture.openCount());
    }

    @Test
    void completerPlacementRunsOnTheCallerOrTheCounterpartAndGivesNoHandleWhenDone() throws Exception {
        Chan<Long> b = Chan.fixed(1);
        AtomicReference<Thread> ran = new AtomicReference<>();
        OpFuture<Boolean> h = b.putAsync(1L, Placement.COMPLETER, (ok, e) -> ran.set(Thread.currentThread()));
        assertNull(h, "completed during the call: no handle");
        assertSame(Thread.currentThread(), ran.get(), "the callback ran on the caller");

        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Thread> where = new CompletableFuture<>();
        CompletableFuture<Long> got = new CompletableFuture<>();
        OpFuture<Long> t = c.takeAsync(Placement.COMPLETER, (v, e) -> {
            where.complete(Thread.currentThread());
            got.complete(v);
        });
        assertNotNull(t, "pending: a handle");
        Thread putter = new Thread(() -> {
            try {
                c.put(2L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        putter.start();
        assertEquals(2L, got.get(5, TimeUnit.SECONDS));
        assertSame(putter, where.get(), "the callback ran on the counterpart");
        putter.join();

        CompletableFuture<Thread> d = new CompletableFuture<>();
        assertNull(b.takeAsync(Placement.DISPATCH, (v, e) -> d.complete(Thread.currentThread())));
        assertNotSame(Thread.currentThread(), d.get(5, TimeUnit.SECONDS), "DISPATCH runs elsewhere");
    }

    @Test
    void aDroppedHandleStillGetsItsCallbackOnceAndCancelRunsItWithCancellation() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Long> got = new CompletableFuture<>();
        c.takeAsync(Placement.COMPLETER, (v, e) -> got.complete(v)); // no handle kept
        assertTrue(c.put(3L));
        assertEquals(3L, got.get(5, TimeUnit.SECONDS));

        CompletableFuture<Throwable> err = new CompletableFuture<>();
        OpFuture<Long> t = c.takeAsync(Placement.COMPLETER, (v, e) -> err.complete(e));
        assertTrue(t.cancel(false));
        assertInstanceOf(java.util.concurrent.CancellationException.class, err.getNow(null),
                "a winning cancel runs the callback on the canceller");
    }

    @Test
    void callbacksAndNotifiersRunOutsideGoBodies() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CompletableFuture<Boolean> inGo = new CompletableFuture<>();
        OpFuture<Long> t = c.takeAsyncNotify(() -> inGo.complete(Xchan.inGo()));
        Chan<Boolean> g = Xchan.go(() -> {
            boolean was = Xchan.inGo();
            c.put(8L); // completes the take: its notifier runs inside this put
            return was && Xchan.inGo();
        });
        assertEquals(Boolean.TRUE, g.take(), "the go body is in go context before and after");
        assertFalse(inGo.get(5, TimeUnit.SECONDS), "the notifier ran outside the go body");
        assertEquals(8L, t.collect().value());
    }

    @Test
    void selectAsyncNotifyCollectsWhatAltsWouldReturn() throws Exception {
        Chan<Long> a = Chan.unbuffered(), b = Chan.unbuffered();
        CountDownLatch rang = new CountDownLatch(1);
        OpFuture<Alts.Result> x = new Alts().take(a).take(b).selectAsyncNotify(rang::countDown);
        assertTrue(b.put(6L));
        assertTrue(rang.await(5, TimeUnit.SECONDS));
        OpResult r = x.collect();
        assertEquals(1, r.index());
        assertEquals(6L, r.value());
        assertEquals(0, a.info().pendingTakes, "the other clause was withdrawn");
    }
}
