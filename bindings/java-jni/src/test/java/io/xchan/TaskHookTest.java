package io.xchan;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** setTaskErrorHook, task names and inGo. */
class TaskHookTest {
    @AfterEach
    void restore() {
        Xchan.setTaskErrorHook(null);
    }

    @Test
    void failingBodiesCloseTheirResultAndReachTheHookByName() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        Xchan.setTaskErrorHook((name, e) -> seen.add(name + ":" + e.getMessage()));
        Chan<Object> g = Xchan.go("bad-go", () -> { throw new IllegalStateException("g"); });
        Chan<Object> t = Xchan.thread("bad-thread", () -> { throw new IllegalStateException("t"); });
        Chan<Object> i = Xchan.ioThread("bad-io", () -> { throw new IllegalStateException("i"); });
        assertNull(g.take());
        assertNull(t.take());
        assertNull(i.take());
        long end = System.nanoTime() + 5_000_000_000L;
        while (seen.size() < 3 && System.nanoTime() < end) Thread.sleep(1);
        assertEquals(3, seen.size());
        assertTrue(seen.containsAll(List.of("bad-go:g", "bad-thread:t", "bad-io:i")), seen.toString());
    }

    @Test
    void inGoIsTrueOnlyInsideGoBodies() throws Exception {
        assertFalse(Xchan.inGo());
        assertEquals(Boolean.TRUE, Xchan.go(Xchan::inGo).take());
        assertEquals(Boolean.FALSE, Xchan.thread(Xchan::inGo).take());
        assertEquals(Boolean.FALSE, Xchan.ioThread(Xchan::inGo).take());
        Chan<String> r = Xchan.go(() -> {
            try {
                Xchan.shutdown();
                return "shut down";
            } catch (XchanException.ESTATE e) {
                return "ESTATE";
            }
        });
        assertEquals("ESTATE", r.take(), "shutdown from a go body would wait for itself");
    }
}
