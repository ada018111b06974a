package dev.spool.samples.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueStats;
import dev.spool.queue.QueuedEvent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class JavaSampleTest {
    @Test
    void theSampleAcknowledgesFourEventsKeepsTheRejectedOneAndCoalescesScreenStates() throws Exception {
        Path db = Files.createTempDirectory("spool-java-sample-test").resolve("events.db");
        ByteArrayOutputStream printed = new ByteArrayOutputStream();

        QueueStats stats = JavaSample.run(db, new PrintStream(printed, true, StandardCharsets.UTF_8));

        // 10 taps + 10 views + 1 coalesced screen state = 21, minus 4 acknowledged.
        assertEquals(17, stats.getTotalQueued());
        assertEquals(1, stats.getTotalRetried());
        String output = printed.toString(StandardCharsets.UTF_8);
        assertTrue(output.contains("2 coalesced"), output);
        assertTrue(output.contains("size 17 == disk 17"), output);

        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(db)) {
            List<String> ids = queue.peek().stream().map(QueuedEvent::getEventId).collect(Collectors.toList());
            assertEquals(17, ids.size());
            assertTrue(ids.contains("tap-2"), "the rejected event stays queued");
            assertTrue(ids.contains("home-2") && !ids.contains("home-0") && !ids.contains("home-1"),
                    "only the latest screen state stays: " + ids);
            assertEquals(List.of("tap-2", "tap-5"), ids.subList(0, 2), "acknowledged events are gone, FIFO kept");
        }
    }
}
