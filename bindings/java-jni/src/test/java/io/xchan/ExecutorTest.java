package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExecutorTest {
    @Test
    void goThreadAndIoThreadDeliverTheirResultThenClose() throws Exception {
        Chan<Long> g = Xchan.go(() -> 1L);
        Chan<String> t = Xchan.thread(() -> Thread.currentThread().getName());
        Chan<Long> io = Xchan.ioThread(() -> 3L);
        assertEquals(1L, g.take());
        assertNull(g.take(), "the result channel closes after the value");
        assertTrue(t.take().startsWith("xchan-thread-"));
        assertEquals(3L, io.take());
    }

    @Test
    void failingBodyClosesTheResultChannelEmpty() throws Exception {
        Thread.UncaughtExceptionHandler old = Thread.getDefaultUncaughtExceptionHandler();
        AtomicInteger reported = new AtomicInteger();
        Thread.setDefaultUncaughtExceptionHandler((th, e) -> reported.incrementAndGet());
        try {
            Chan<Long> c = Xchan.thread(() -> {
                throw new IllegalStateException("fails");
            });
            assertNull(c.take());
            assertEquals(1, reported.get());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(old);
        }
    }

    @Test
    void nullResultJustCloses() throws Exception {
        assertNull(Xchan.go(() -> null).take());
    }
}
