package io.xchan;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/**
 * Runs after the suite (a second surefire execution, JDK 21+ profile in
 * pom.xml): the suite ran under a JFR recording of every pinning of a
 * carrier thread (src/test/resources/pinning.jfc); this asserts there was
 * none, that the recording did cover virtual threads, and (control) that
 * the same event settings do catch a virtual thread parked under a native
 * frame.
 */
class PinnedEventsCheck {
    @Test
    void theSuiteNeverPinnedACarrier() throws Exception {
        String file = System.getProperty("xchan.test.jfr.file");
        assumeTrue(file != null && Xchan.hasVirtualThreads(), "JDK 21+ with the suite recording");
        String filter = System.getProperty("xchan.test.filter", "");
        assumeTrue(filter.isEmpty() || filter.startsWith("${"),
                "the suite ran only -Dtest=" + filter + ": no whole-suite recording to check");
        Path p = Path.of(file);
        assertTrue(Files.exists(p), "the suite's recording " + p + " is missing");
        long starts = 0;
        List<String> pinned = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(p)) {
            String name = e.getEventType().getName();
            if (name.equals("jdk.VirtualThreadStart")) starts++;
            if (name.equals("jdk.VirtualThreadPinned")) pinned.add(e.toString());
        }
        assertTrue(starts >= 10_000, "the recording covered only " + starts + " virtual threads");
        assertEquals(List.of(), pinned, "virtual threads pinned their carriers");
    }

    /** Control: a transducer step that sleeps runs under a native frame and pins. */
    @Test
    void theRecordingCatchesPinningWhenItHappens() throws Exception {
        assumeTrue(Xchan.hasVirtualThreads(), "JDK 21+");
        Path out = Files.createTempFile("xchan-pin-control", ".jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO);
            r.start();
            Chan<Long> c = Chan.<Long>builder().fixed(1).xf(Xf.map((Long x) -> {
                try {
                    Thread.sleep(30); // Java code under a native frame
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return x;
            })).build();
            ThreadFactory vt = Xchan.virtualThreads();
            Thread t = vt.newThread(() -> c.offer(1L));
            t.start();
            t.join();
            r.stop();
            r.dump(out);
        }
        long pinned = RecordingFile.readAllEvents(out).stream()
                .filter(e -> e.getEventType().getName().equals("jdk.VirtualThreadPinned")).count();
        Files.deleteIfExists(out);
        assertTrue(pinned >= 1, "the control did not see its own pinning");
    }
}
