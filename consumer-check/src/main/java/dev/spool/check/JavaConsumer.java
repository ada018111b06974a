package dev.spool.check;

import dev.spool.flusher.BlockingSyncedRowFlusher;
import dev.spool.flusher.FlusherConfig;
import dev.spool.flusher.SyncedRowFlusher;
import dev.spool.ktor.InspectionServer;
import dev.spool.ktor.SpoolInspectionConfig;
import dev.spool.queue.BatchEventResult;
import dev.spool.queue.BlockingOfflineQueue;
import dev.spool.queue.EnqueueOutcome;
import dev.spool.queue.EnqueueResult;
import dev.spool.queue.OfflineQueue;
import dev.spool.queue.QueueConfig;
import dev.spool.queue.QueueEvent;
import dev.spool.queue.QueuedEvent;
import dev.spool.queue.SyncStatus;
import dev.spool.sync.BlockingOfflineSync;
import dev.spool.sync.DeadLetterFile;
import dev.spool.sync.FlushPolicy;
import dev.spool.sync.FlushResult;
import dev.spool.sync.OfflineSync;
import dev.spool.sync.SyncConfig;
import dev.spool.sync.UploadOutcome;
import dev.spool.tasks.AckResult;
import dev.spool.tasks.BlockingTaskQueue;
import dev.spool.tasks.Task;
import dev.spool.tasks.postgres.PostgresTaskQueue;
import dev.spool.tasks.postgres.PostgresTaskQueueConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.postgresql.ds.PGSimpleDataSource;

/** A Java application's use of Spool: blocking and CompletableFuture facades only. */
final class JavaConsumer {
  private JavaConsumer() {}

  static void run(Path dir, String pgUrl) throws Exception {
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

      sync(queue, dir);
    }

    try (BlockingTaskQueue tasks = BlockingTaskQueue.openBlocking(dir.resolve("tasks.db"))) {
      long id = tasks.enqueue("render", "{\"page\":1}");
      List<Task> claimed = tasks.claim("java-worker", Set.of(), 1, Duration.ofSeconds(30));
      ConsumerCheck.require(claimed.size() == 1 && claimed.get(0).getIdValue() == id, "Java: the task is claimed");
      AckResult done = tasks.complete(claimed.get(0).getLease());
      ConsumerCheck.require(done == AckResult.COMPLETED, "Java: the task completes, got " + done);

      inspect(tasks);
    }

    postgres(pgUrl);
  }

  /** queue-sync: OfflineSync with an in-process uploader that accepts every event, on demand only. */
  private static void sync(BlockingOfflineQueue queue, Path dir) throws Exception {
    for (int i = 0; i < 5; i++) queue.queueEvent(new QueueEvent("java-sync-" + i, "click", "{}"));
    List<String> uploaded = new CopyOnWriteArrayList<>();
    BlockingOfflineSync sync = OfflineSync.createBlocking(queue, events -> {
      List<BatchEventResult> verdicts = new ArrayList<>();
      for (QueuedEvent event : events) {
        uploaded.add(event.getEventId());
        verdicts.add(new BatchEventResult(event.getEventId(), SyncStatus.SUCCESS));
      }
      return UploadOutcome.results(verdicts);
    }, new DeadLetterFile(dir.resolve("dead.jsonl")), SyncConfig.builder().maxBatchEvents(2).policy(FlushPolicy.onDemand()).build());
    try {
      sync.start();
      FlushResult result = sync.flushNow().get(60, TimeUnit.SECONDS);
      ConsumerCheck.require(result.getDrained() && result.getUploaded() == 5,
          "Java: the sync drained 5 events, got " + result);
      ConsumerCheck.require(uploaded.size() == 5, "Java: the uploader saw each event once, got " + uploaded);
    } finally {
      ConsumerCheck.require(sync.stop(Duration.ofSeconds(30)), "Java: the sync stops");
    }
    ConsumerCheck.require(queue.sizeFromDisk() == 0, "Java: the sync's acknowledgements reached the disk");
  }

  /** spool-ktor without a Ktor application: InspectionServer, and one JSON route over HTTP. */
  private static void inspect(BlockingTaskQueue tasks) throws Exception {
    try (InspectionServer server =
        InspectionServer.create("127.0.0.1", 0, config -> config.taskQueue("jobs", tasks.suspending())).start()) {
      String body = Http.get(server.getDashboardUrl().resolve("api/queues"));
      ConsumerCheck.require(body.replaceAll("\\s", "").contains("\"name\":\"jobs\""),
          "Java: /spool/api/queues lists the task queue, got " + body);
      String page = Http.get(server.getDashboardUrl());
      ConsumerCheck.require(page.contains("<html") || page.contains("<!DOCTYPE"),
          "Java: the dashboard page is served");
    }
  }

  /** queue-postgres: enqueue, claim, complete in a schema of its own, dropped afterwards. */
  private static void postgres(String pgUrl) throws Exception {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setURL(pgUrl);
    String schema = "spool_consumer_java";
    Postgres.dropSchema(dataSource, schema);
    try {
      try (BlockingTaskQueue tasks = PostgresTaskQueue.openBlocking(dataSource, new PostgresTaskQueueConfig(schema))) {
        long id = tasks.enqueue("render", "{\"scene\":7}");
        List<Task> claimed = tasks.claim("java-pg-worker", Set.of(), 1, Duration.ofSeconds(30));
        ConsumerCheck.require(claimed.size() == 1 && claimed.get(0).getIdValue() == id,
            "Java: the PostgreSQL task is claimed, got " + claimed.stream().map(Task::toString).collect(Collectors.toList()));
        AckResult done = tasks.complete(claimed.get(0).getLease());
        ConsumerCheck.require(done == AckResult.COMPLETED, "Java: the PostgreSQL task completes, got " + done);
      }
    } finally {
      Postgres.dropSchema(dataSource, schema);
    }
  }
}
