package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** CancelToken stops blocking puts, takes and alts, with nothing transferred. */
class CancelTokenTest {
    @Test
    void firingStopsAWaitingTakeAndLaterCallsUntilReset() throws Exception {
        Chan<Long> c = Chan.unbuffered();
        CancelToken tok = new CancelToken();
        CompletableFuture<Throwable> out = new CompletableFuture<>();
        Thread waiter = new Thread(() -> {
            try {
                c.take(tok);
                out.complete(null);
            } catch (Throwable e) {
                out.complete(e);
            }
        });
        waiter.start();
        long end = System.nanoTime() + 5_000_000_000L;
        while (c.info().pendingTakes == 0 && System.nanoTime() < end) Thread.sleep(1);
        tok.fire();
        assertInstanceOf(XchanException.ECANCELED.class, out.get(5, TimeUnit.SECONDS));
        assertEquals(0, c.info().pendingTakes, "the take was withdrawn");

        assertThrows(XchanException.ECANCELED.class, () -> c.put(1L, tok), "fired: every later call");
        assertThrows(XchanException.ECANCELED.class, () -> new Alts().take(c).select(tok));
        tok.reset();
        assertThrows(XchanException.ETIMEDOUT.class, () -> c.put(1L, Duration.ofMillis(10), tok));
        assertNull(c.poll(), "nothing was transferred");
    }

    @Test
    void anUnfiredTokenChangesNothing() throws Exception {
        Chan<Long> c = Chan.fixed(1);
        CancelToken tok = new CancelToken();
        assertTrue(c.put(5L, tok));
        assertEquals(5L, c.take(tok));
    }
}
