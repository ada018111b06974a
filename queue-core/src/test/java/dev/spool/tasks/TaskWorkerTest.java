package dev.spool.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TaskWorkerTest {
    @Test
    void blockingHandlersRunFromJava() throws Exception {
        try (TaskQueue queue = TaskQueue.open(Files.createTempDirectory("spool-java-worker").resolve("tasks.db"))) {
            BlockingTaskQueue blocking = queue.blocking();
            for (int i = 0; i < 20; i++) blocking.enqueue("resize", "{\"image\":" + i + "}");
            long bad = blocking.enqueue("resize", "{\"image\":-1}");
            Set<Long> seen = ConcurrentHashMap.newKeySet();
            TaskHandler handler = TaskHandler.blocking(task -> {
                if (task.getIdValue() == bad) throw new PermanentTaskFailure("negative image");
                seen.add(task.getIdValue());
            });
            TaskWorkerConfig config = TaskWorkerConfig.builder()
                    .workerId("java-worker")
                    .leaseTtl(java.time.Duration.ofSeconds(30))
                    .pollInterval(java.time.Duration.ofMillis(20))
                    .build();
            try (TaskWorker worker = new TaskWorker(queue, Map.of("resize", handler), 3, Set.of(), null, config).start()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (blocking.stats().count(TaskState.SUCCEEDED) < 20 || blocking.get(bad).getState() != TaskState.DEAD_LETTER) {
                    assertTrue(System.nanoTime() < deadline, "worker did not finish");
                    Thread.sleep(5);
                }
            }
            assertEquals(20, seen.size());
            assertTrue(blocking.get(bad).getLastError().contains("negative image"));
        }
    }
}
