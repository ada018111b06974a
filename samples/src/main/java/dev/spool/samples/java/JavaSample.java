package dev.spool.samples.java;

import dev.spool.queue.AsyncOfflineQueue;
import dev.spool.queue.BatchEventResult;
import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.EnqueueOutcome;
import dev.spool.queue.EnqueueResult;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueConfig;
import dev.spool.queue.QueueEvent;
import dev.spool.queue.QueueStats;
import dev.spool.queue.QueuedEvent;
import dev.spool.queue.SyncStatus;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Spool from plain Java: enqueue with the blocking facade and with {@link CompletableFuture}s,
 * read a batch, acknowledge it, print the stats.
 *
 * <p>Run it with {@code mvn -B -q -pl samples -am compile -Pjava-sample}.
 */
public final class JavaSample {
    private JavaSample() {}

    /** Runs the sample on a queue in a new temporary directory. */
    public static void main(String[] args) throws Exception {
        Path db = Files.createTempDirectory("spool-java-sample").resolve("events.db");
        run(db, System.out);
    }

    /**
     * Runs the sample on the queue at {@code db} and returns the final stats.
     *
     * @throws IOException if the queue cannot be opened or written
     * @throws ExecutionException if an asynchronous call failed
     * @throws InterruptedException if the thread was interrupted while waiting
     */
    public static QueueStats run(Path db, PrintStream out)
            throws IOException, ExecutionException, InterruptedException {
        QueueConfig config = QueueConfig.builder().name("java-sample").maxQueueSize(10_000).build();
        try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(db, config)) {
            // 1. Blocking enqueue: returns once the event is durable.
            for (int i = 0; i < 10; i++) {
                queue.queueEvent(new QueueEvent("tap-" + i, "tap", "{\"n\":" + i + "}"));
            }
            out.println("enqueued 10 taps (blocking), queue size " + queue.size());

            // 2. Asynchronous enqueue: the futures complete on commit; concurrent calls share commits.
            AsyncOfflineQueue async = queue.async();
            List<CompletableFuture<EnqueueResult>> futures = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                futures.add(async.queueEvent(new QueueEvent("view-" + i, "view", "{\"n\":" + i + "}")));
            }
            // Screen states coalesce: only the latest state of "home" stays queued. They are chained,
            // so "latest" is well defined.
            CompletableFuture<List<EnqueueOutcome>> screens = CompletableFuture.completedFuture(new ArrayList<>());
            for (int i = 0; i < 3; i++) {
                QueueEvent state = new QueueEvent("home-" + i, "screen_state", "{\"scroll\":" + i + "}", null, "screen:home");
                screens = screens.thenCompose(outcomes -> async.queueEvent(state).thenApply(result -> {
                    outcomes.add(result.getOutcome());
                    return outcomes;
                }));
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get();
            long coalesced = screens.get().stream().filter(o -> o == EnqueueOutcome.COALESCED).count();
            out.println("enqueued 13 more (CompletableFuture), " + coalesced + " coalesced, queue size " + queue.size());

            // 3. Read a batch, "upload" it, and acknowledge: one event refused by the server.
            List<QueuedEvent> batch = queue.peek(5);
            List<BatchEventResult> results = new ArrayList<>();
            for (QueuedEvent event : batch) {
                SyncStatus status = event.getEventId().equals("tap-2") ? SyncStatus.REJECTED : SyncStatus.SUCCESS;
                results.add(new BatchEventResult(event.getEventId(), status));
            }
            queue.processBatchResults(results);
            out.println("uploaded a batch of " + batch.size() + ": 4 acknowledged, 1 rejected (kept, retry count 1)");

            // 4. Stats, asynchronously.
            QueueStats stats = async.stats().get();
            out.println("stats: " + stats.getTotalQueued() + " queued, " + stats.getTotalRetried() + " retried, "
                    + "retries " + stats.getRetryDistribution() + ", top types " + stats.getTopEventTypes()
                    + ", oldest " + stats.getOldestEventAgeJava());
            out.println("size " + queue.size() + " == disk " + queue.sizeFromDisk());
            return stats;
        }
    }
}
