package dev.spool.queue

import dev.spool.maintenance.Maintenance
import dev.spool.storage.CheckpointMode
import dev.spool.storage.QueueStorageException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import kotlin.io.path.writeText

class MaintenanceSpec : FunSpec({
    test("a backup taken while writers keep writing passes integrity_check and opens as a working queue") {
        val dir = tempDir()
        val source = dir.resolve("queue.db")
        val copy = dir.resolve("backups/copy.db")
        OfflineQueue.open(source, roomy).use { q ->
            repeat(2000) { q.queueEvent(event(it)) }
            val run = whileWriting(q) { Maintenance.of(q).backup(copy) }
            run.result shouldBe copy
            q.size() shouldBe 2000 + run.after
            q.sizeFromDisk() shouldBe q.size()
        }
        rawConnection(copy).use { it.createStatement().executeQuery("PRAGMA integrity_check").use { rs -> rs.next(); rs.getString(1) } } shouldBe "ok"
        Files.list(copy.parent).use { it.toList() }.map { it.name } shouldBe listOf("copy.db") // no temporary left behind
        OfflineQueue.open(copy, roomy).use { restored ->
            val size = restored.size()
            (size >= 2000) shouldBe true
            restored.sizeFromDisk() shouldBe size
            restored.peek(2000).map { it.eventId } shouldBe (0 until 2000).map { "e$it" }
            restored.queueEvent(event(99_999)).outcome shouldBe EnqueueOutcome.INSERTED
            restored.size() shouldBe size + 1
        }
    }

    test("rotating backups keep the newest N of this queue and leave other files alone") {
        val dir = tempDir()
        val backups = dir.resolve("backups")
        Files.createDirectories(backups)
        val unrelated = backups.resolve("notes.txt").apply { writeText("keep me") }
        val otherQueue = backups.resolve("other-20200101T000000000Z.db").apply { writeText("not ours") }
        OfflineQueue.open(dir.resolve("queue.db"), QueueConfig(name = "orders", maxQueueSize = 2_000_000)).use { q ->
            val maintenance = Maintenance.of(q)
            val made = whileWriting(q) { List(5) { maintenance.backupRotating(backups, keep = 3) } }.result
            made.toSet() shouldHaveSize 5
            val left = backups.listDirectoryEntries().map { it.name }.sorted()
            left shouldContainExactly (made.takeLast(3).map { it.name } + "notes.txt" + otherQueue.name).sorted()
            shouldThrow<IllegalArgumentException> { maintenance.backupRotating(backups, keep = 0) }.message shouldContain "keep"
        }
        Files.readString(unrelated) shouldBe "keep me"
    }

    test("restore is refused while the queue is open, and brings the backup back once it is closed") {
        val dir = tempDir()
        val path = dir.resolve("queue.db")
        val backup = dir.resolve("backup.db")
        val q = OfflineQueue.open(path, roomy)
        repeat(100) { q.queueEvent(event(it)) }
        Maintenance.of(q).backup(backup)
        whileWriting(q) {
            val refused = shouldThrow<IllegalStateException> { Maintenance.restore(backup, path) }
            refused.message shouldContain "open in this process"
            // The same file under another spelling is the same file.
            shouldThrow<IllegalStateException> { Maintenance.restore(backup, dir.resolve("./x/../queue.db")) }
        }
        q.size() shouldBe q.sizeFromDisk()
        q.close()

        Maintenance.restore(backup, path)
        OfflineQueue.open(path, roomy).use { restored ->
            restored.size() shouldBe 100
            restored.peek().map { it.eventId } shouldBe (0 until 100).map { "e$it" }
        }
    }

    test("restore refuses a damaged backup and leaves the target untouched") {
        val dir = tempDir()
        val path = dir.resolve("queue.db")
        val backup = dir.resolve("backup.db")
        withQueue(path = path) { q -> repeat(10) { q.queueEvent(event(it)) } }
        withQueue(path = backup) { q -> repeat(500) { q.queueEvent(event(it)) } }
        corruptIndex(backup)
        shouldThrow<QueueStorageException> { Maintenance.restore(backup, path) }.message shouldContain "integrity"
        val notSqlite = dir.resolve("notes.db").apply { writeText("hello") }
        shouldThrow<QueueStorageException> { Maintenance.restore(notSqlite, path) }
        shouldThrow<QueueStorageException> { Maintenance.restore(dir.resolve("missing.db"), path) }
        val tooNew = dir.resolve("too-new.db")
        withQueue(path = tooNew) { q -> q.queueEvent(event(1)) }
        rawConnection(tooNew).use { c -> c.createStatement().use { it.execute("PRAGMA user_version = 99") } }
        shouldThrow<QueueStorageException> { Maintenance.restore(tooNew, path) }.message shouldContain "schema version 99"
        withQueue(path = path) { q -> q.sizeFromDisk() shouldBe 10 }
    }

    test("restore into a new path creates a working queue") {
        val dir = tempDir()
        val backup = dir.resolve("backup.db")
        withQueue(path = dir.resolve("queue.db")) { q ->
            repeat(10) { q.queueEvent(event(it)) }
            Maintenance.of(q).backup(backup)
        }
        val fresh = dir.resolve("elsewhere/restored.db")
        Maintenance.restore(backup, fresh)
        withQueue(path = fresh) { q -> q.size() shouldBe 10 }
    }

    test("every checkpoint mode completes while writers keep writing, and TRUNCATE empties the WAL") {
        withQueue(roomy) { q ->
            val maintenance = Maintenance.of(q)
            val run = whileWriting(q) {
                CheckpointMode.entries.map { maintenance.checkpoint(it) }
            }
            run.result.map { it.completed } shouldBe listOf(true, true, true, true)
            q.size() shouldBe run.after
            q.sizeFromDisk() shouldBe run.after
            maintenance.walSizeBytes() shouldBeGreaterThan 0
            maintenance.checkpoint(CheckpointMode.TRUNCATE).completed shouldBe true
            maintenance.walSizeBytes() shouldBe 0
        }
    }

    test("a checkpoint held back by a reader is reported as not completed, not thrown") {
        val path = tempDb()
        withQueue(QueueConfig(busyTimeout = kotlin.time.Duration.ZERO), path) { q ->
            repeat(10) { q.queueEvent(event(it)) }
            rawConnection(path).use { reader ->
                reader.autoCommit = false
                reader.scalar("SELECT count(*) FROM queue") shouldBe 10 // holds a snapshot
                repeat(10) { q.queueEvent(event(100 + it)) }
                val result = Maintenance.of(q).checkpoint(CheckpointMode.TRUNCATE)
                result.completed shouldBe false
                reader.rollback()
            }
            Maintenance.of(q).checkpoint(CheckpointMode.TRUNCATE).completed shouldBe true
        }
    }

    test("vacuum shrinks the file while writers keep writing, and converts an old file to incremental auto-vacuum") {
        val path = tempDb()
        withQueue(roomy, path) { q -> repeat(5000) { q.queueEvent(QueueEvent("e$it", "t", """{"pad":"${"x".repeat(400)}"}""")) } }
        // A file as older versions created it: auto_vacuum NONE.
        rawConnection(path).use { c ->
            c.createStatement().use { it.execute("PRAGMA auto_vacuum = NONE"); it.execute("VACUUM") }
            c.scalar("PRAGMA auto_vacuum") shouldBe 0
        }
        withQueue(roomy, path) { q ->
            val maintenance = Maintenance.of(q)
            q.markSynced((0 until 5000).map { "e$it" }) shouldBe 5000
            maintenance.incrementalVacuum() shouldBe 0 // NONE: nothing to give back yet
            val run = whileWriting(q) { maintenance.vacuum() }
            run.result shouldBeGreaterThan 1_000_000
            q.size() shouldBe run.after
            q.sizeFromDisk() shouldBe run.after
        }
        rawConnection(path).use { it.scalar("PRAGMA auto_vacuum") shouldBe 2 }
    }

    test("a queue that held a million rows and drained gives its disk back by incremental vacuum") {
        // A million rows written by another connection in one statement (seconds, not minutes);
        // the queue counts them at open. Small rows keep the file near 60 MB.
        val path = tempDb()
        withQueue(roomy, path) { }
        rawConnection(path).use { c ->
            c.createStatement().use {
                it.execute(
                    """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
                    INSERT INTO queue (event_id, event_type, payload, timestamp) SELECT 'm' || i, 't', '{}', i FROM n
                    """.trimIndent(),
                )
            }
        }
        withQueue(roomy, path) { q ->
            q.size() shouldBe 1_000_000
            val full = diskBytes(path)
            full shouldBeGreaterThan 30_000_000
            q.clear() shouldBe 1_000_000
            val maintenance = Maintenance.of(q)
            val run = whileWriting(q) { maintenance.incrementalVacuum() }
            run.result shouldBeGreaterThan 30_000_000
            diskBytes(path) shouldBeLessThan full / 20
            q.size() shouldBe run.after
            q.sizeFromDisk() shouldBe run.after
        }
        path.parent.toFile().deleteRecursively()
    }

    test("analyze runs on the writer while writers keep writing and records planner statistics") {
        val path = tempDb()
        withQueue(roomy, path) { q ->
            val run = whileWriting(q) { Maintenance.of(q).analyze() }
            q.sizeFromDisk() shouldBe run.after
            q.size() shouldBe run.after
        }
        rawConnection(path).use { it.scalar("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'queue'") shouldBeGreaterThan 0 }
    }

    test("an integrity check while writers keep writing finds a sound file, and names the damage in a broken one") {
        val path = tempDb()
        withQueue(roomy, path) { q ->
            val run = whileWriting(q) { Maintenance.of(q).integrityCheck() }
            run.result.ok shouldBe true
            run.result.problems.shouldBeEmpty()
        }
        corruptIndex(path)
        withQueue(roomy, path) { q ->
            val report = Maintenance.of(q).integrityCheck()
            report.ok shouldBe false
            report.problems.joinToString() shouldContain "queue_fifo"
        }
    }

    test("integrity check at open refuses a damaged file, which opens without it") {
        val path = tempDb()
        withQueue(path = path) { q -> repeat(100) { q.queueEvent(event(it)) } }
        withQueue(QueueConfig(checkIntegrityOnOpen = true), path) { q -> q.size() shouldBe 100 }
        corruptIndex(path)
        val refused = shouldThrow<QueueStorageException> { OfflineQueue.open(path, QueueConfig(checkIntegrityOnOpen = true)) }
        refused.message shouldContain "integrity"
        // Refusal released the file: a restore is not blocked by a half-open queue.
        withQueue(path = path) { q -> q.size() shouldBe 100 }
    }

    test("new files are created with incremental auto-vacuum") {
        val path = tempDb()
        withQueue(path = path) { }
        rawConnection(path).use { it.scalar("PRAGMA auto_vacuum") shouldBe 2 }
    }

    test("maintenance after close fails with IllegalStateException") {
        val q = OfflineQueue.open(tempDb())
        val maintenance = Maintenance.of(q)
        q.close()
        shouldThrow<IllegalStateException> { maintenance.checkpoint() }
        shouldThrow<IllegalStateException> { maintenance.backup(tempDb()) }
        shouldThrow<IllegalStateException> { maintenance.integrityCheck() }
        shouldThrow<IllegalStateException> { maintenance.vacuum() }
    }
})
