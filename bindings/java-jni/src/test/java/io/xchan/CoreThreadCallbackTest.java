package io.xchan;

import static io.xchan.XfTest.drain;
import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * Java reached from the core's go tasks runs directly on the core's worker
 * thread (attached to the JVM by the thread_start hook under the core's
 * name), never on a binding service thread: the core runs every callback
 * on the worker's own stack (docs/threading.md), so nothing is relayed.
 */
class CoreThreadCallbackTest {
    static final Duration T = Duration.ofSeconds(20);
    /** The core's dispatch pool, which runs its combinators' go tasks. */
    static final String CORE_WORKER = "xchan-disp-";

    static void assertOnCoreWorkers(Queue<String> threads, int expected) {
        List<String> names = new ArrayList<>(threads);
        assertEquals(expected, names.size(), "calls recorded: " + names);
        for (String n : names) {
            assertTrue(n.startsWith(CORE_WORKER), "Java ran on thread '" + n + "', not a core worker");
        }
    }

    static String here() { return Thread.currentThread().getName(); }

    @Test
    void combinatorFunctionRunsOnCoreWorker() throws Exception {
        Queue<String> seen = new ConcurrentLinkedQueue<>();
        Chan<Long> out = Flow.map(vals -> {
            seen.add(here());
            return (Long) vals.get(0) + (Long) vals.get(1);
        }, List.of(Flow.toChan(List.of(1L, 2L, 3L)), Flow.toChan(List.of(10L, 20L, 30L))));
        assertEquals(List.of(11L, 22L, 33L), drain(out));
        assertOnCoreWorkers(seen, 3);
    }

    @Test
    void reduceFunctionRunsOnCoreWorker() throws Exception {
        Queue<String> seen = new ConcurrentLinkedQueue<>();
        Chan<Long> sum = Flow.reduce((Long acc, Long x) -> {
            seen.add(here());
            return acc + x;
        }, 0L, Flow.toChan(List.of(1L, 2L, 3L, 4L)));
        assertEquals(10L, sum.take(T));
        assertOnCoreWorkers(seen, 4);
    }

    @Test
    void transducerStepFromGoTaskRunsOnCoreWorker() throws Exception {
        Queue<String> seen = new ConcurrentLinkedQueue<>();
        // Room for every value: the pipe task's puts complete at once, so
        // the steps run on the putter (the task's worker), not on a taker.
        Chan<Object> to = Chan.builder().fixed(16).xf(Xf.map((Long x) -> {
            seen.add(here());
            return x * 2;
        })).build();
        Chan<Void> done = Flow.pipe(Flow.toChan(List.of(1L, 2L, 3L)), to, true);
        assertNull(done.take(T)); // the pipe task has put everything and closed `to`
        assertOnCoreWorkers(seen, 3);
        assertEquals(List.of(2L, 4L, 6L), drain(to));
    }
}
