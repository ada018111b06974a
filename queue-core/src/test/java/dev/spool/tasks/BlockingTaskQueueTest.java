package dev.spool.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BlockingTaskQueueTest {
    private static Path newDb() throws Exception {
        return Files.createTempDirectory("spool-java-tasks").resolve("tasks.db");
    }

    @Test
    void enqueueClaimCompleteFromJava() throws Exception {
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(newDb())) {
            long id = queue.enqueue("render", "{\"frame\":1}");
            List<Task> claimed = queue.claim("java-worker", Set.of(), 10, Duration.ofSeconds(30));
            assertEquals(1, claimed.size());
            assertEquals(id, claimed.get(0).getIdValue());
            assertEquals(TaskState.LEASED, claimed.get(0).getState());
            TaskLease lease = claimed.get(0).getLease();
            assertEquals(id, lease.getTaskIdValue());
            assertEquals(Set.of(lease), queue.heartbeat("java-worker", List.of(lease)));
            assertEquals(AckResult.RENEWED, queue.renew(lease, Duration.ofMinutes(5)));
            assertEquals(AckResult.COMPLETED, queue.complete(lease));
            assertEquals(TaskState.SUCCEEDED, queue.get(id).getState());
            assertEquals(1, queue.stats().getSucceeded());
            assertEquals(3, queue.taskLog(id).size());
        }
    }

    @Test
    void idempotencyKeyAndOptionsFromJava() throws Exception {
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(newDb())) {
            long first = queue.enqueue("download", "{}", 10, null, 3, "file-1", Set.of("net"));
            long again = queue.enqueue("download", "{}", 10, null, 3, "file-1", Set.of("net"));
            assertEquals(first, again);
            assertTrue(queue.claim("no-net", Set.of(), 1, Duration.ofSeconds(5)).isEmpty());
            assertEquals(1, queue.claim("has-net", Set.of("net"), 1, Duration.ofSeconds(5), ClaimStrategy.FIFO).size());
        }
    }

    @Test
    void staleAckIsRefusedWithAValue() throws Exception {
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(newDb())) {
            long id = queue.enqueue("job", "{}");
            TaskLease lease = queue.claim("a", Set.of(), 1, Duration.ofSeconds(30)).get(0).getLease();
            assertEquals(AckResult.LEASE_LOST, queue.complete(TaskLease.of(id, "b", lease.getToken())));
            assertFalse(AckResult.LEASE_LOST.getApplied());
            assertEquals(AckResult.RETRY_SCHEDULED, queue.fail(lease, "boom"));
            assertEquals("boom", queue.get(id).getLastError());
            assertTrue(queue.cancel(id));
            assertNull(queue.get(999));
        }
    }

    @Test
    void uniqueWorkSchedulesAndAwaitFromJava() throws Exception {
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(newDb())) {
            long old = queue.enqueue("sync", "{}", 100, null, 5, "account-7", Set.of());
            long replaced = queue.enqueue("sync", "{\"v\":2}", 100, null, 5, "account-7", Set.of(), UniquePolicy.REPLACE);
            assertTrue(replaced != old);
            assertEquals(TaskState.CANCELLED, queue.awaitFinal(old, Duration.ofSeconds(10)).getState());

            Schedule schedule = queue.schedule("digest", "email", "{}", Recurrence.every(Duration.ofHours(1)));
            assertEquals(List.of(schedule), queue.schedules());
            assertTrue(queue.pauseSchedule("digest"));
            assertTrue(queue.schedules().get(0).getPaused());
            assertTrue(queue.resumeSchedule("digest"));
            assertTrue(queue.deleteSchedule("digest"));
            assertThrows(IllegalArgumentException.class, () -> Recurrence.cron("61 * * * *"));
        }
    }

    @Test
    void anInterruptedClaimThrowsKeepsTheFlagAndNeverOrphansALease() throws Exception {
        Path db = newDb();
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(db)) {
            long id = queue.enqueue("job", "{}");
            try (java.sql.Connection other = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db)) {
                // Another process holds the write lock: the claim waits for it, and is interrupted meanwhile.
                other.createStatement().execute("BEGIN IMMEDIATE");
                Thread.currentThread().interrupt();
                try {
                    assertThrows(java.io.InterruptedIOException.class, () -> queue.claim("w", Set.of(), 1, Duration.ofHours(1)));
                    assertTrue(Thread.currentThread().isInterrupted());
                } finally {
                    Thread.interrupted();
                }
                other.createStatement().execute("COMMIT");
            }
            // The claim commits once the lock is free; its lease is then handed back, uncounted.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (queue.taskLog(id).size() < 3) {
                assertTrue(System.nanoTime() < deadline, "the interrupted claim's lease was never released");
                Thread.sleep(5);
            }
            Task task = queue.get(id);
            assertEquals(TaskState.QUEUED, task.getState());
            assertEquals(0, task.getAttempts());
            assertEquals(List.of(TaskState.QUEUED, TaskState.LEASED, TaskState.QUEUED),
                    queue.taskLog(id).stream().map(TaskTransition::getTo).toList());
        }
    }

    @Test
    void badInputThrowsIllegalArgumentException() throws Exception {
        try (BlockingTaskQueue queue = BlockingTaskQueue.openBlocking(newDb())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> queue.enqueue("job", "not json"));
            assertTrue(e.getMessage().contains("payload"));
        }
    }

    @Test
    void futuresCompleteWithTheSameResults() throws Exception {
        TaskQueueConfig config = TaskQueueConfig.builder()
                .name("java")
                .retryPolicy(RetryPolicy.of(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(1), 0.0))
                .retryPolicy("slow", RetryPolicy.of(Duration.ofMinutes(1), 2.0, Duration.ofMinutes(10), 0.0))
                .build();
        try (TaskQueue queue = TaskQueue.open(newDb(), config)) {
            AsyncTaskQueue async = queue.async();
            long id = async.enqueue("slow", "{}").get(10, TimeUnit.SECONDS);
            CompletableFuture<AckResult> failed = async.claim("w", Set.of(), 1, Duration.ofSeconds(30))
                    .thenCompose(tasks -> async.fail(tasks.get(0).getLease(), "later"));
            assertEquals(AckResult.RETRY_SCHEDULED, failed.get(10, TimeUnit.SECONDS));
            Task task = async.get(id).get(10, TimeUnit.SECONDS);
            assertEquals(TaskState.QUEUED, task.getState());
            assertEquals(config.getRetryPolicies().get("slow"), config.retryPolicyFor("slow"));
        }
    }
}
