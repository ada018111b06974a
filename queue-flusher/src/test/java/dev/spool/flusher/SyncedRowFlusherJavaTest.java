package dev.spool.flusher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.queue.BatchEventResult;
import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueEvent;
import dev.spool.queue.QueuedEvent;
import dev.spool.queue.SyncStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The flusher as a Java caller sees it: blocking calls, futures, and a builder with java.time. */
class SyncedRowFlusherJavaTest {
    /** Never fires on its own: only flush() and close() delete. */
    private static final FlusherConfig MANUAL =
        FlusherConfig.builder().maxBatch(Integer.MAX_VALUE).maxDelay(Duration.ofDays(1)).build();

    private Path path;

    @BeforeEach
    void freshDatabase() throws Exception {
        path = Files.createTempDirectory("spool-flusher-java").resolve("queue.db");
    }

    private static void enqueue(BlockingOfflineQueue queue, int count) throws Exception {
        for (int i = 1; i <= count; i++) {
            queue.queueEvent(new QueueEvent("e" + i, "click", "{\"n\":" + i + "}"));
        }
    }

    private static List<String> ids(List<QueuedEvent> events) {
        return events.stream().map(QueuedEvent::getEventId).collect(Collectors.toList());
    }

    @Test
    void blockingCallersHideAcknowledgedRowsAndDeleteThemOnFlush() throws Exception {
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path);
             BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(queue, MANUAL)) {
            enqueue(queue, 3);

            flusher.markSynced(List.of("e1", "e2"));

            assertEquals(List.of("e3"), ids(queue.peek()));
            assertEquals(2, flusher.getPending());
            assertEquals(1, flusher.unsyncedSize());
            assertEquals(3, queue.sizeFromDisk());

            assertEquals(2, flusher.flush());
            assertEquals(1, queue.size());
            assertEquals(1, queue.sizeFromDisk());
        }
    }

    @Test
    void closingTheFlusherBeforeTheQueueDeletesEverythingRecorded() throws Exception {
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path)) {
            enqueue(queue, 2);
            try (BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(queue, MANUAL)) {
                flusher.markEventsSynced(queue.peek());
            }
            assertEquals(0, queue.sizeFromDisk());
            assertEquals(0, queue.size());
        }
    }

    @Test
    void futuresRecordAtOnceAndCompleteWhenTheDeleteCommitted() throws Exception {
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path);
             BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(queue, MANUAL)) {
            enqueue(queue, 5);
            AsyncSyncedRowFlusher async = flusher.async();

            assertTrue(async.markSynced(List.of("e1")).isDone());
            async.processBatchResults(List.of(
                new BatchEventResult("e2", SyncStatus.DUPLICATE),
                new BatchEventResult("e3", SyncStatus.REJECTED, "try later"),
                new BatchEventResult("e4", SyncStatus.FAILED_TRANSIENT))).join();

            assertEquals(List.of("e3", "e4", "e5"), ids(queue.peek()));
            assertEquals(1, queue.peek().get(0).getRetryCount());
            assertEquals(2, async.flush().join());
            assertEquals(3, async.unsyncedSize().join());
            assertEquals(3, queue.sizeFromDisk());
        }
    }

    @Test
    void aFullBatchIsDeletedInTheBackground() throws Exception {
        List<Throwable> errors = new CopyOnWriteArrayList<>();
        FlusherConfig config = FlusherConfig.builder()
            .maxBatch(2)
            .maxDelay(Duration.ofDays(1))
            .errorHandler(errors::add)
            .build();
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path);
             BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(queue, config)) {
            enqueue(queue, 3);

            flusher.markSynced(List.of("e1", "e2"));

            // Wait (bounded) for the background batch: this checks that it happens, not how fast.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (queue.size() != 1 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(1, queue.size());
            assertEquals(1, queue.sizeFromDisk());
            assertEquals(List.of(), errors);
        }
    }

    @Test
    void aClosedFlusherRefusesWorkWithIllegalStateException() throws Exception {
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path)) {
            BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(queue);
            flusher.close();
            flusher.close();

            assertThrows(IllegalStateException.class, () -> flusher.markSynced(List.of("e1")));
            assertThrows(IllegalStateException.class, flusher::flush);
            CompletionException failed = assertThrows(CompletionException.class, () -> flusher.async().flush().join());
            assertTrue(failed.getCause() instanceof IllegalStateException);
        }
    }

    @Test
    void theBuilderRefusesBadValuesNamingTheField() {
        IllegalArgumentException batch =
            assertThrows(IllegalArgumentException.class, () -> FlusherConfig.builder().maxBatch(0).build());
        assertTrue(batch.getMessage().contains("maxBatch"));
        IllegalArgumentException delay = assertThrows(
            IllegalArgumentException.class, () -> FlusherConfig.builder().maxDelay(Duration.ofMillis(-1)).build());
        assertTrue(delay.getMessage().contains("maxDelay"));
        assertEquals(64, new FlusherConfig().newBuilder().maxBatch(64).build().getMaxBatch());
    }
}
