package dev.spool.queue.internal

import dev.spool.engine.checkpoint
import dev.spool.engine.longPragma
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.tempDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeoutOrNull
import java.nio.file.Files

class BackgroundCheckpointSpec : FunSpec({
    test("committed pages reach the database file through background checkpoints, never the writer's commits") {
        val path = tempDb()
        // The hard WAL bound (a writer-side TRUNCATE) is off: only the background checkpointer copies pages.
        RealOfflineQueue.open(path, QueueConfig(walSizeLimitBytes = 0)).use { q ->
            q.onWriter { c -> c.longPragma("wal_autocheckpoint") } shouldBe 0L
            val before = Files.size(path)
            val payload = """{"blob":"${"x".repeat(64 * 1024)}"}"""
            repeat(160) { i -> q.queueEvent(QueueEvent("e$i", "blob", payload)) } // ~10 MiB
            val copied = withTimeoutOrNull(10_000) {
                while (Files.size(path) - before < 8L * 1024 * 1024) delay(20)
                Files.size(path)
            }
            (copied ?: Files.size(path)) - before shouldBeGreaterThan 8L * 1024 * 1024
            q.sizeFromDisk() shouldBe 160
        }
    }
})

class CheckpointCollisionSpec : FunSpec({
    test("a maintenance checkpoint waits for a background checkpoint instead of failing with BUSY") {
        val path = tempDb()
        // No busy timeout: SQLite answers a colliding checkpoint with SQLITE_BUSY at once.
        RealOfflineQueue.open(path, QueueConfig(busyTimeout = kotlin.time.Duration.ZERO)).use { q ->
            val maintenance = dev.spool.maintenance.Maintenance.of(q)
            val payload = """{"blob":"${"x".repeat(16 * 1024)}"}"""
            val incomplete = (0 until 150).count { round ->
                repeat(4) { q.queueEvent(QueueEvent("e$round-$it", "blob", payload)) }
                !maintenance.checkpoint(dev.spool.storage.CheckpointMode.TRUNCATE).completed
            }
            incomplete shouldBe 0
        }
    }
})
