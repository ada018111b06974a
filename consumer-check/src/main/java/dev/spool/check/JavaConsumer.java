package dev.spool.check;

import dev.spool.flusher.BlockingSyncedRowFlusher;
import dev.spool.flusher.FlusherConfig;
import dev.spool.flusher.SyncedRowFlusher;
import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.EnqueueOutcome;
import dev.spool.queue.EnqueueResult;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueConfig;
import dev.spool.queue.QueueEvent;
import dev.spool.queue.QueuedEvent;
import dev.spool.tasks.AckResult;
import dev.spool.tasks.BlockingTaskQueue;
import dev.spool.tasks.Task;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** A Java application's use of Spool: blocking and CompletableFuture facades only. */
final class JavaConsumer {
  private JavaConsumer() {}

  static void run(Path dir) throws Exception {
    try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(
        dir.resolve("events.db"), QueueConfig.builder().maxQueueSize(1_000).build())) {
      EnqueueResult first = queue.queueEvent(new QueueEvent("java-1", "click", "{\"n\":1}"));
      ConsumerCheck.require(first.getOutcome() == EnqueueOutcome.INSERTED, "Java: first event inserted");
      queue.queueEvent(new QueueEvent("java-2", "click", "{\"n\":2}"));
      queue.async().queueEvent(new QueueEvent("java-3", "view", "{}")).get(60, TimeUnit.SECONDS);

      List<QueuedEvent> batch = queue.peek(100);
      ConsumerCheck.require(batch.size() == 3, "Java: peek returns the 3 queued events, got " + batch.size());
      ConsumerCheck.require("java-1".equals(batch.get(0).getEventId()), "Java: oldest first");

      try (BlockingSyncedRowFlusher flusher = SyncedRowFlusher.createBlocking(
          queue, FlusherConfig.builder().maxDelay(Duration.ofMillis(50)).build())) {
        flusher.markEventsSynced(batch);
        ConsumerCheck.require(flusher.unsyncedSize() == 0, "Java: acknowledged rows are no longer unsynced");
        flusher.flush();
      }
      ConsumerCheck.require(queue.sizeFromDisk() == 0, "Java: the flusher deleted the acknowledged rows");
    }

    try (BlockingTaskQueue tasks = BlockingTaskQueue.openBlocking(dir.resolve("tasks.db"))) {
      long id = tasks.enqueue("render", "{\"page\":1}");
      List<Task> claimed = tasks.claim("java-worker", Set.of(), 1, Duration.ofSeconds(30));
      ConsumerCheck.require(claimed.size() == 1 && claimed.get(0).getIdValue() == id, "Java: the task is claimed");
      AckResult done = tasks.complete(claimed.get(0).getLease());
      ConsumerCheck.require(done == AckResult.COMPLETED, "Java: the task completes, got " + done);
    }
  }
}
