package dev.spool.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CompletableFuture facade, used the way a non-blocking Java application would use it. */
class AsyncOfflineQueueTest {
  @TempDir Path dir;

  private OfflineQueue queue;
  private AsyncOfflineQueue async;

  @BeforeEach
  void open() throws IOException {
    QueueConfig config = QueueConfig.builder().strictCap(2).busyTimeout(Duration.ofSeconds(10)).build();
    queue = OfflineQueue.open(dir.resolve("queue.db"), config);
    async = queue.async();
  }

  @AfterEach
  void close() {
    queue.close();
  }

  private static QueueEvent click(String id) {
    return new QueueEvent(id, "click", "{\"id\":\"" + id + "\"}");
  }

  private static <T> T await(CompletableFuture<T> future) throws Exception {
    return future.get(30, TimeUnit.SECONDS);
  }

  @Test
  @DisplayName("peekPage completes with a page and the cursor of the next one")
  void peekPage() throws Exception {
    await(async.queueEvent(click("a")));
    await(async.queueEvent(click("b")));
    EventPage first = await(async.peekPage(1, null));
    assertEquals("a", first.getEvents().get(0).getEventId());
    EventPage second = await(async.peekPage(1, first.getNextCursor()));
    assertEquals("b", second.getEvents().get(0).getEventId());
    assertEquals(null, second.getNextCursor());
  }

  @Test
  @DisplayName("a chain of futures enqueues, peeks and marks events synced")
  void enqueuePeekAndMarkSynced() throws Exception {
    CompletableFuture<Integer> synced =
        async
            .queueEvent(click("a"))
            .thenCompose(result -> async.queueEvent(click("b")))
            .thenCompose(result -> async.peek(10))
            .thenCompose(
                events -> async.markSynced(events.stream().map(QueuedEvent::getEventId).collect(Collectors.toList())));

    assertEquals(2, await(synced));
    assertEquals(0, await(async.sizeFromDisk()));
  }

  @Test
  @DisplayName("many futures in flight at once all commit")
  void manyFuturesInFlight() throws Exception {
    List<CompletableFuture<EnqueueResult>> futures = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      futures.add(async.queueEvent(click("e" + i)));
    }

    await(CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])));

    for (CompletableFuture<EnqueueResult> future : futures) {
      assertEquals(EnqueueOutcome.INSERTED, future.join().getOutcome());
    }
    assertEquals(500, await(async.sizeFromDisk()));
    assertEquals(500, queue.blocking().size());
  }

  @Test
  @DisplayName("processBatchResults completes once the verdicts are applied")
  void processBatchResults() throws Exception {
    await(async.queueEvent(click("ok")));
    await(async.queueEvent(click("rejected")));

    await(
        async.processBatchResults(
            List.of(
                new BatchEventResult("ok", SyncStatus.SUCCESS),
                new BatchEventResult("rejected", SyncStatus.REJECTED, "later"))));

    List<QueuedEvent> left = await(async.peek(10));
    assertEquals(1, left.size());
    assertEquals("rejected", left.get(0).getEventId());
    assertEquals(1, left.get(0).getRetryCount());
  }

  @Test
  @DisplayName("append past the strict cap completes exceptionally with OfflineQueueFullException")
  void appendPastStrictCapFails() throws Exception {
    await(async.append(click("a")));
    await(async.append(click("b")));

    ExecutionException e = assertThrows(ExecutionException.class, () -> await(async.append(click("c"))));

    OfflineQueueFullException full = assertInstanceOf(OfflineQueueFullException.class, e.getCause());
    assertEquals(2, full.getCap());
    assertEquals(2, full.getCurrent());
    assertEquals(2, await(async.sizeFromDisk()));
  }

  @Test
  @DisplayName("stats arrive as a future")
  void stats() throws Exception {
    await(async.queueEvent(click("a")));
    await(async.queueEvent(new QueueEvent("b", "view", "{}")));

    QueueStats stats = await(async.stats());

    assertEquals(2, stats.getTotalQueued());
    assertEquals(0, stats.getTotalRetried());
    assertEquals(2, stats.getTopEventTypes().size());
  }

  @Test
  @DisplayName("after close, futures complete exceptionally with IllegalStateException")
  void useAfterClose() throws Exception {
    await(async.queueEvent(click("a")));
    queue.close();
    queue.close();

    ExecutionException e = assertThrows(ExecutionException.class, () -> await(async.queueEvent(click("b"))));

    assertInstanceOf(IllegalStateException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
  }
}
