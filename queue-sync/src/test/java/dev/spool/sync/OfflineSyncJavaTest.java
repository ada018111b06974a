package dev.spool.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.queue.BatchEventResult;
import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueConfig;
import dev.spool.queue.QueueEvent;
import dev.spool.queue.SyncStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class OfflineSyncJavaTest {
    @Test
    void aJavaCallerStartsTheSyncFlushesWithAFutureHearsProgressAndStops() throws Exception {
        Path dir = Files.createTempDirectory("spool-sync-java");
        AtomicInteger calls = new AtomicInteger();
        List<String> threads = new CopyOnWriteArrayList<>();
        BlockingUploader uploader = batch -> {
            threads.add(Thread.currentThread().getName());
            if (calls.incrementAndGet() == 1) {
                return UploadOutcome.failed("HTTP 429", Duration.ofMillis(50));
            }
            return UploadOutcome.results(batch.stream()
                .map(e -> new BatchEventResult(e.getEventId(), e.getEventId().equals("e2") ? SyncStatus.FAILED_PERMANENT : SyncStatus.SUCCESS, "nope"))
                .collect(Collectors.toList()));
        };
        SyncConfig config = SyncConfig.builder()
            .maxBatchEvents(2)
            .policy(FlushPolicy.onDemand())
            .retryPolicy(dev.spool.tasks.RetryPolicy.of(Duration.ofMillis(10), 2.0, Duration.ofMillis(100), 0.0))
            .uploadTimeout(Duration.ofSeconds(30))
            .build();
        DeadLetterFile deadLetters = new DeadLetterFile(dir.resolve("dead.jsonl"));
        Connectivity connectivity = new Connectivity(true);

        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(dir.resolve("q.db"), QueueConfig.builder().build())) {
            for (int i = 1; i <= 5; i++) {
                queue.queueEvent(new QueueEvent("e" + i, "tap", "{\"n\":" + i + "}"));
            }
            List<SyncProgress> heard = new CopyOnWriteArrayList<>();
            try (BlockingOfflineSync sync = OfflineSync.createBlocking(queue, uploader, deadLetters, config, connectivity)) {
                AutoCloseable listener = sync.addListener(heard::add);
                sync.start();

                FlushResult first = sync.flushNow().get(10, TimeUnit.SECONDS);
                assertEquals("HTTP 429", first.getFailure());
                assertEquals(Duration.ofMillis(50), first.getJavaRetryIn());

                FlushResult second = sync.flushNow().get(10, TimeUnit.SECONDS);
                assertTrue(second.getDrained());
                assertEquals(4, second.getUploaded());
                assertEquals(1, second.getDeadLettered());
                assertEquals(List.of("e2"), deadLetters.eventIds());
                assertEquals(0, queue.peek(100).size());

                assertTrue(sync.stop(Duration.ofSeconds(10)));
                listener.close();
                assertEquals(SyncState.STOPPED, sync.progress().getState());
                assertEquals(4, sync.progress().getUploaded());
                assertTrue(heard.stream().anyMatch(p -> p.getUploaded() == 4), heard.toString());
            }
            assertEquals(0, queue.sizeFromDisk());
            assertTrue(threads.stream().noneMatch(name -> name.contains("main")), threads.toString());
        }
    }
}
