package dev.spool.queue;

import dev.spool.maintenance.BlockingMaintenance;
import dev.spool.maintenance.Maintenance;
import dev.spool.storage.CheckpointMode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockingMaintenanceTest {
  @TempDir Path dir;

  @Test
  void javaCallersBackUpCheckpointAndRestoreWhileOtherThreadsWrite() throws Exception {
    Path path = dir.resolve("queue.db");
    Path backups = dir.resolve("backups");
    QueueConfig config = QueueConfig.builder().maxQueueSize(1_000_000).walSizeLimitBytes(8L << 20).build();
    Path backup;
    int committedBeforeBackup;
    try (BlockingOfflineQueue queue = OfflineQueue.openBlocking(path, config)) {
      for (int i = 0; i < 50; i++) queue.queueEvent(new QueueEvent("e" + i, "click", "{}", null, null));
      BlockingMaintenance maintenance = Maintenance.of(queue.suspending()).blocking();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicInteger written = new AtomicInteger();
      Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < 2; w++) {
        int writer = w;
        Thread thread = new Thread(() -> {
          for (int i = 0; !stop.get(); i++) {
            try {
              queue.queueEvent(new QueueEvent("w" + writer + "-" + i, "click", "{}", null, null));
              written.incrementAndGet();
            } catch (Throwable e) {
              failures.add(e); // handed back to the test below, never lost with the thread
              return;
            }
          }
        });
        thread.start();
        writers.add(thread);
      }
      committedBeforeBackup = queue.size();
      backup = maintenance.backupRotating(backups, 2);
      assertTrue(maintenance.checkpoint(CheckpointMode.PASSIVE).getCompleted());
      assertTrue(maintenance.integrityCheck().getOk());
      maintenance.analyze();
      stop.set(true);
      for (Thread thread : writers) thread.join();
      assertEquals(List.of(), new ArrayList<>(failures));
      assertTrue(written.get() > 0, "the writers wrote while maintenance ran");

      assertEquals(50 + written.get(), queue.size());
      assertEquals(queue.size(), queue.sizeFromDisk());
      assertThrows(IllegalStateException.class, () -> Maintenance.restore(backup, path));
    }
    assertTrue(Files.exists(backup));

    Maintenance.restore(backup, path);
    try (BlockingOfflineQueue restored = OfflineQueue.openBlocking(path, config)) {
      assertTrue(restored.size() >= committedBeforeBackup);
      assertEquals(restored.size(), restored.sizeFromDisk());
    }
  }
}
