package dev.spool.queue

import dev.spool.maintenance.Maintenance
import dev.spool.tasks.TaskQueue
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.FileTime
import java.time.Instant
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name

/**
 * Backups, drains and restores never write over a database a queue of this JVM has open (or its
 * WAL, shared-memory or journal file), whatever spelling of the path they are given; rotation
 * never deletes the backup it has just made.
 */
class TargetGuardSpec : FunSpec({
    /** Opens a queue on a fresh file holding [n] events. */
    suspend fun filled(path: Path, n: Int = 10): OfflineQueue =
        OfflineQueue.open(path, roomy).also { q -> repeat(n) { q.queueEvent(event(it)) } }

    test("a backup onto the live file, another spelling of it, or its WAL is refused and the queue keeps its rows") {
        val dir = tempDir()
        val path = dir.resolve("queue.db")
        filled(path).use { q ->
            val maintenance = Maintenance.of(q)
            for (target in listOf(path, dir.resolve("sub/../queue.db"), Path.of("$path-wal"), Path.of("$path-shm"))) {
                val refused = shouldThrow<IllegalArgumentException> { maintenance.backup(target) }
                refused.message shouldContain "target"
                refused.message shouldContain target.toString()
            }
            q.sizeFromDisk() shouldBe 10
            q.peek().map { it.eventId } shouldBe (0 until 10).map { "e$it" }
        }
    }

    test("a backup onto a file another queue of this process has open is refused, through a symbolic link too") {
        val dir = tempDir()
        filled(dir.resolve("a.db")).use { a ->
            TaskQueue.open(dir.resolve("tasks.db")).use { tasks ->
                tasks.enqueue("t", "{}")
                shouldThrow<IllegalArgumentException> { Maintenance.of(a).backup(dir.resolve("tasks.db")) }
                val link = Files.createSymbolicLink(tempDir().resolve("link"), dir)
                shouldThrow<IllegalArgumentException> { Maintenance.of(a).backup(link.resolve("tasks.db")) }
                shouldThrow<IllegalArgumentException> { Maintenance.of(tasks).backup(link.resolve("a.db")) }
                tasks.get(dev.spool.tasks.TaskId(1))?.type shouldBe "t"
            }
            a.sizeFromDisk() shouldBe 10
        }
    }

    test("drainToFile onto the live file or another open queue's file is refused and moves nothing") {
        val dir = tempDir()
        val path = dir.resolve("queue.db")
        filled(path).use { q ->
            filled(dir.resolve("other.db"), 3).use { other ->
                for (target in listOf(path, Path.of("$path-wal"), dir.resolve("other.db"), dir.resolve("./other.db-journal"))) {
                    shouldThrow<IllegalArgumentException> { q.drainToFile(target) }.message shouldContain "path"
                }
                q.sizeFromDisk() shouldBe 10
                other.sizeFromDisk() shouldBe 3
            }
            q.drainToFile(dir.resolve("other.db")) shouldBe 10 // closed now: an ordinary file
        }
    }

    test("restore onto the WAL of an open queue, or from a file onto itself, is refused") {
        val dir = tempDir()
        val path = dir.resolve("queue.db")
        val backup = dir.resolve("backup.db")
        filled(path).use { q ->
            Maintenance.of(q).backup(backup)
            shouldThrow<IllegalArgumentException> { Maintenance.restore(backup, Path.of("$path-wal")) }.message shouldContain "-wal"
            q.sizeFromDisk() shouldBe 10
        }
        shouldThrow<IllegalArgumentException> { Maintenance.restore(backup, dir.resolve("x/../backup.db")) }
            .message shouldContain "same file"
    }

    test("rotation keeps the backup it just wrote even when a backup stamped in the future sorts first") {
        val dir = tempDir()
        val backups = Files.createDirectories(dir.resolve("backups"))
        val future = backups.resolve("orders-29991231T235959999Z.db").apply { Files.writeString(this, "from a wrong clock") }
        val old = backups.resolve("orders-20200101T000000000Z.db").apply { Files.writeString(this, "old") }
        Files.setLastModifiedTime(future, FileTime.from(Instant.parse("2021-01-01T00:00:00Z")))
        Files.setLastModifiedTime(old, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")))
        OfflineQueue.open(dir.resolve("queue.db"), QueueConfig(name = "orders")).use { q ->
            q.queueEvent(event(1))
            val made = Maintenance.of(q).backupRotating(backups, keep = 1)
            backups.listDirectoryEntries().map { it.name } shouldBe listOf(made.name)
            OfflineQueue.open(made).use { it.size() shouldBe 1 }
            val second = Maintenance.of(q).backupRotating(backups, keep = 2)
            backups.listDirectoryEntries().map { it.name } shouldContainExactlyInAnyOrder listOf(made.name, second.name)
        }
    }

    test("rotation never deletes a matching file that a queue of this process has open") {
        val dir = tempDir()
        val backups = Files.createDirectories(dir.resolve("backups"))
        OfflineQueue.open(dir.resolve("queue.db"), QueueConfig(name = "orders")).use { q ->
            q.queueEvent(event(1))
            val first = Maintenance.of(q).backupRotating(backups, keep = 1)
            Files.setLastModifiedTime(first, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")))
            OfflineQueue.open(first).use { opened ->
                val second = Maintenance.of(q).backupRotating(backups, keep = 1)
                backups.listDirectoryEntries().map { it.name } shouldContain second.name
                backups.listDirectoryEntries().map { it.name } shouldContain first.name
                opened.size() shouldBe 1
            }
        }
    }
})
