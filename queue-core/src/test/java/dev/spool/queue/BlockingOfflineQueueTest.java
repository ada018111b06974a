package dev.spool.queue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kotlin.Pair;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The blocking facade, used the way a Java application would use it. */
class BlockingOfflineQueueTest {
  @TempDir Path dir;

  private Path file;
  private BlockingOfflineQueue queue;

  @BeforeEach
  void open() throws IOException {
    file = dir.resolve("data").resolve("queue.db");
    queue = OfflineQueue.openBlocking(file, QueueConfig.builder().strictCap(3).build());
  }

  @AfterEach
  void close() {
    queue.close();
  }

  private static QueueEvent click(String id) {
    return new QueueEvent(id, "click", "{\"id\":\"" + id + "\"}");
  }

  private static List<String> ids(List<QueuedEvent> events) {
    return events.stream().map(QueuedEvent::getEventId).collect(Collectors.toList());
  }

  @Test
  @DisplayName("peekPage pages oldest first with a cursor that survives a trip through text")
  void peekPageWithCursor() throws IOException {
    queue.queueEvent(click("a"));
    queue.queueEvent(click("b"));
    queue.queueEvent(click("c"));

    EventPage first = queue.peekPage(2);
    assertEquals(List.of("a", "b"), ids(first.getEvents()));
    assertNotNull(first.getNextCursor());
    EventPage second = queue.peekPage(2, EventCursor.parse(first.getNextCursor().toString()));
    assertEquals(List.of("c"), ids(second.getEvents()));
    assertNull(second.getNextCursor());
    assertThrows(IllegalArgumentException.class, () -> EventCursor.parse("not a cursor"));
  }

  @Test
  @DisplayName("enqueued events are peeked oldest first and markSynced deletes them")
  void enqueuePeekAndMarkSynced() throws IOException {
    EnqueueResult first = queue.queueEvent(click("a"));
    queue.queueEvent(click("b"));
    queue.queueEvent(new QueueEvent("c", "view", "{}", "project-1"));

    assertEquals(EnqueueOutcome.INSERTED, first.getOutcome());
    assertEquals(0, first.getEvicted());
    assertEquals(List.of("a", "b", "c"), ids(queue.peek()));
    assertEquals(List.of("a", "b"), ids(queue.peek(2)));
    assertEquals("project-1", queue.peek().get(2).getProjectId());

    assertEquals(2, queue.markSynced(List.of("a", "c", "unknown")));
    assertEquals(List.of("b"), ids(queue.peek()));
    assertEquals(1, queue.size());
    assertEquals(1, queue.sizeFromDisk());
  }

  @Test
  @DisplayName("enqueueing an eventId again replaces the row instead of adding one")
  void duplicateEventIdIsReplaced() throws IOException {
    queue.queueEvent(click("a"));

    EnqueueResult again = queue.queueEvent(new QueueEvent("a", "click", "{\"v\":2}"));

    assertEquals(EnqueueOutcome.REPLACED, again.getOutcome());
    assertEquals(1, queue.size());
    assertEquals("{\"v\":2}", queue.peek().get(0).getPayload());
  }

  @Test
  @DisplayName("processBatchResults applies every server verdict in one call")
  void processBatchResultsAppliesVerdicts() throws IOException {
    for (String id : List.of("ok", "dup", "bad", "rejected", "transient")) {
      queue.queueEvent(click(id));
    }

    queue.processBatchResults(
        List.of(
            new BatchEventResult("ok", SyncStatus.SUCCESS),
            new BatchEventResult("dup", SyncStatus.DUPLICATE),
            new BatchEventResult("bad", SyncStatus.FAILED_PERMANENT, "schema mismatch"),
            new BatchEventResult("rejected", SyncStatus.REJECTED, "try later"),
            new BatchEventResult("transient", SyncStatus.FAILED_TRANSIENT)));

    List<QueuedEvent> left = queue.peek();
    assertEquals(List.of("rejected", "transient"), ids(left));
    assertEquals(1, left.get(0).getRetryCount());
    assertEquals(0, left.get(1).getRetryCount());
    assertEquals(List.of("transient"), ids(queue.eventsBelowRetryCount(1)));
  }

  @Test
  @DisplayName("append at the strict cap throws OfflineQueueFullException and stores nothing")
  void appendAtStrictCapThrows() throws IOException {
    queue.append(click("a"));
    queue.append(click("b"));
    queue.append(click("c"));

    OfflineQueueFullException full = assertThrows(OfflineQueueFullException.class, () -> queue.append(click("d")));

    assertEquals(3, full.getCap());
    assertEquals(3, full.getCurrent());
    assertTrue(full.getMessage().contains("drainToFile"), full.getMessage());
    assertEquals(3, queue.sizeFromDisk());
    assertEquals(EnqueueOutcome.INSERTED, queue.append(click("d"), 10).getOutcome());
  }

  @Test
  @DisplayName("invalid events are refused with an IllegalArgumentException naming the field")
  void invalidEventIsRefused() throws IOException {
    InvalidEventException e =
        assertThrows(InvalidEventException.class, () -> queue.queueEvent(new QueueEvent("a", "click", "{oops")));

    assertEquals("payload", e.getField());
    assertTrue(e instanceof IllegalArgumentException);
    assertEquals(0, queue.sizeFromDisk());
  }

  @Test
  @DisplayName("stats report the count, the retry buckets and the top event types")
  void statsDescribeTheQueue() throws IOException {
    java.time.Instant beforeFirst = java.time.Instant.now();
    queue.queueEvent(click("a"));
    queue.queueEvent(click("b"));
    queue.queueEvent(new QueueEvent("c", "view", "{}"));
    queue.incrementRetry(List.of("a"));

    QueueStats stats = queue.stats();

    assertEquals(3, stats.getTotalQueued());
    assertEquals(100_000, stats.getMaxQueueSize());
    assertEquals(1, stats.getTotalRetried());
    assertEquals(Map.of("0 retries", 2, "1-3 retries", 1), stats.getRetryDistribution());
    List<Pair<String, Integer>> top = stats.getTopEventTypes();
    assertEquals(new Pair<>("click", 2), top.get(0));
    assertEquals(new Pair<>("view", 1), top.get(1));
    // The age of "a", in the right unit: no older than the time since just before it was queued.
    // Timestamps are stored in whole milliseconds, so allow the one the truncation can add.
    java.time.Duration sinceFirst =
        java.time.Duration.between(beforeFirst, java.time.Instant.now()).plusMillis(1);
    assertNotNull(stats.getOldestEventAgeJava());
    assertTrue(stats.getOldestEventAgeJava().compareTo(sinceFirst) <= 0,
        "oldest age " + stats.getOldestEventAgeJava() + " exceeds the " + sinceFirst + " since it was queued");
  }

  @Test
  @DisplayName("an empty queue has no oldest event")
  void emptyQueueStats() throws IOException {
    QueueStats stats = queue.stats();

    assertEquals(0, stats.getTotalQueued());
    assertNull(stats.getOldestEventAgeJava());
    assertTrue(stats.getRetryDistribution().isEmpty());
  }

  @Test
  @DisplayName("events survive closing and reopening the file, in order")
  void eventsSurviveReopening() throws IOException {
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      queue.queueEvent(click("e" + i));
      expected.add("e" + i);
    }
    queue.close();

    try (BlockingOfflineQueue reopened = OfflineQueue.openBlocking(file, QueueConfig.builder().build())) {
      assertEquals(100, reopened.size());
      assertEquals(expected, ids(reopened.peek(1000)));
    }
  }

  @Test
  @DisplayName("after close every call throws IllegalStateException, and closing again is harmless")
  void useAfterCloseThrows() throws IOException {
    queue.queueEvent(click("a"));
    queue.close();
    queue.close();

    IllegalStateException e = assertThrows(IllegalStateException.class, () -> queue.queueEvent(click("b")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> queue.peek());
    assertThrows(IllegalStateException.class, () -> queue.size());
  }

  @Test
  @DisplayName("threads sharing one queue all get their writes committed")
  void threadsShareOneQueue() throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      threads.add(
          new Thread(
              () -> {
                try {
                  for (int i = 0; i < 250; i++) {
                    queue.queueEvent(click("t" + thread + "-" + i));
                  }
                } catch (IOException | RuntimeException e) {
                  failures.add(e);
                }
              }));
    }
    threads.forEach(Thread::start);
    for (Thread thread : threads) {
      thread.join();
    }

    assertEquals(List.of(), failures);
    assertEquals(1000, queue.size());
    assertEquals(1000, queue.sizeFromDisk());
  }
}
