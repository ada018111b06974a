package dev.spool.queue

import dev.spool.storage.QueueStorageException
import dev.spool.queue.WriterGate.Companion.holdWriter
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldContainIgnoringCase
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import java.io.RandomAccessFile
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ExecutionException
import kotlin.concurrent.thread
import kotlin.io.path.listDirectoryEntries
import kotlin.random.Random

class FaultSpec : FunSpec({

    // ---- Bad input ----

    data class BadInput(val why: String, val event: QueueEvent, val field: String)

    val badInputs = listOf(
        BadInput("a blank eventId", QueueEvent("  ", "click", "{}"), "eventId"),
        BadInput("an empty eventId", QueueEvent("", "click", "{}"), "eventId"),
        BadInput("an eventId of 257 characters", QueueEvent("x".repeat(257), "click", "{}"), "eventId"),
        BadInput("a blank eventType", QueueEvent("bad-1", " \t", "{}"), "eventType"),
        BadInput("a blank projectId", QueueEvent("bad-7", "click", "{}", projectId = " "), "projectId"),
        BadInput("an empty coalesceKey", QueueEvent("bad-8", "click", "{}", coalesceKey = ""), "coalesceKey"),
        BadInput("a payload that is not JSON", QueueEvent("bad-2", "click", "not json"), "payload"),
        BadInput("a truncated JSON payload", QueueEvent("bad-3", "click", """{"a": 1"""), "payload"),
        BadInput("an empty payload", QueueEvent("bad-4", "click", ""), "payload"),
        BadInput("a payload one byte over maxPayloadBytes", QueueEvent("bad-5", "click", "\"" + "x".repeat(63) + "\""), "payload"),
        BadInput("a payload within maxPayloadBytes in characters but not in UTF-8 bytes", QueueEvent("bad-6", "click", "\"" + "é".repeat(40) + "\""), "payload"),
    )
    val smallPayloads = QueueConfig(maxPayloadBytes = 64)

    for (bad in badInputs) {
        test("${bad.why} is refused naming '${bad.field}', by queueEvent and append, and nothing is stored") {
            withQueue(smallPayloads) { q ->
                repeat(3) { q.queueEvent(event(it)) }
                val before = q.peek()

                val viaQueue = shouldThrow<InvalidEventException> { q.queueEvent(bad.event) }
                val viaAppend = shouldThrow<InvalidEventException> { q.append(bad.event) }
                val viaBlocking = shouldThrow<InvalidEventException> { q.blocking().queueEvent(bad.event) }

                for (e in listOf(viaQueue, viaAppend, viaBlocking)) {
                    e.shouldBeInstanceOf<IllegalArgumentException>()
                    e.field shouldBe bad.field
                    e.message shouldContain bad.field
                }
                q.size() shouldBe 3
                q.sizeFromDisk() shouldBe 3
                q.peek() shouldBe before
            }
        }
    }

    test("the limits themselves are accepted: a 256-character eventId and a payload of exactly maxPayloadBytes") {
        withQueue(smallPayloads) { q ->
            val longId = "i".repeat(256)
            val fullPayload = "\"" + "x".repeat(62) + "\"" // 64 bytes
            q.queueEvent(QueueEvent(longId, "click", fullPayload)).outcome shouldBe EnqueueOutcome.INSERTED
            q.peek().single().eventId shouldBe longId
            q.sizeFromDisk() shouldBe 1
        }
    }

    // ---- Files that are not healthy Spool databases ----

    test("a file that is not SQLite fails open with QueueStorageException and is left byte for byte as it was") {
        val dir = tempDir()
        val db = dir.resolve("queue.db")
        val bytes = "This is somebody's notes file, not a database.\n".repeat(300).toByteArray()
        Files.write(db, bytes)

        val e = shouldThrow<QueueStorageException> { OfflineQueue.open(db) }

        e.message shouldContain db.toString()
        e.message shouldContainIgnoringCase "not a SQLite database"
        Files.readAllBytes(db) shouldBe bytes
        dir.listDirectoryEntries().map { it.fileName.toString() } shouldContainExactly listOf("queue.db")
    }

    test("a file shorter than the SQLite header fails open and is left as it was") {
        val db = tempDb()
        Files.write(db, byteArrayOf(1, 2, 3))
        shouldThrow<QueueStorageException> { OfflineQueue.open(db) }
        Files.readAllBytes(db) shouldBe byteArrayOf(1, 2, 3)
    }

    fun queueFileWithRows(rows: Int): Path {
        val db = tempDb()
        runBlocking {
            withQueue(path = db) { q ->
                repeat(rows) { q.queueEvent(QueueEvent("e$it", "click", """{"pad":"${"p".repeat(200)}","n":$it}""")) }
            }
        }
        return db
    }

    fun garble(db: Path, from: Long, to: Long) {
        val random = Random(42)
        RandomAccessFile(db.toFile(), "rw").use { file ->
            file.seek(from)
            file.write(random.nextBytes((to - from).toInt()))
        }
    }

    test("a SQLite file whose data pages are garbage fails open with QueueStorageException and is not overwritten") {
        val db = queueFileWithRows(300)
        val pageSize = withJdbc(db) { it.queryInt("PRAGMA page_size") }.toLong()
        check(Files.size(db) > 10 * pageSize) { "want a multi-page file" }
        garble(db, from = pageSize, to = Files.size(db))
        val corrupted = Files.readAllBytes(db)

        val e = shouldThrow<QueueStorageException> { OfflineQueue.open(db) }

        e.message shouldContain db.toString()
        e.message shouldContainIgnoringCase "malformed"
        Files.readAllBytes(db) shouldBe corrupted
    }

    test("a SQLite file whose schema page is garbage fails open with QueueStorageException and is not overwritten") {
        val db = queueFileWithRows(50)
        val pageSize = withJdbc(db) { it.queryInt("PRAGMA page_size") }.toLong()
        garble(db, from = 100, to = pageSize) // keep the 100-byte header, trash the schema b-tree
        val corrupted = Files.readAllBytes(db)

        val e = shouldThrow<QueueStorageException> { OfflineQueue.open(db) }

        e.message shouldContain db.toString()
        Files.readAllBytes(db) shouldBe corrupted
    }

    // ---- Read-only storage ----

    test("a read-only database file opens for reading, and every write fails with a clear QueueStorageException")
        .config(enabledIf = { readOnlyFilesPossible }) {
            val db = tempDb()
            withQueue(path = db) { q -> repeat(3) { q.queueEvent(event(it)) } }
            val how = checkNotNull(makeReadOnly(db))
            try {
                val bytes = Files.readAllBytes(db)
                OfflineQueue.open(db).use { q ->
                    q.peek().map { it.eventId } shouldContainExactly listOf("e0", "e1", "e2")

                    val writes: List<Pair<String, suspend () -> Any?>> = listOf(
                        "queueEvent" to { q.queueEvent(event(10)) },
                        "append" to { q.append(event(11)) },
                        "markSynced" to { q.markSynced(listOf("e0")) },
                        "incrementRetry" to { q.incrementRetry(listOf("e1")) },
                        "clear" to { q.clear() },
                        "queueEvent again" to { q.queueEvent(event(12)) },
                    )
                    for ((name, write) in writes) {
                        val e = shouldThrow<QueueStorageException> { write() }
                        withClue(name, how) { e.message shouldContainIgnoringCase "readonly" }
                    }
                    q.size() shouldBe 3
                    q.sizeFromDisk() shouldBe 3
                }
                Files.readAllBytes(db) shouldBe bytes
            } finally {
                makeWritable(db)
            }
            withQueue(path = db) { q -> q.peek().map { it.eventId } shouldContainExactly listOf("e0", "e1", "e2") }
        }

    test("a database in a read-only directory fails open with a clear QueueStorageException")
        .config(enabledIf = { readOnlyFilesPossible }) {
            val dir = tempDir()
            val db = dir.resolve("queue.db")
            withQueue(path = db) { q -> q.queueEvent(event(1)) }
            checkNotNull(makeReadOnly(db))
            checkNotNull(makeReadOnly(dir))
            try {
                val e = shouldThrow<QueueStorageException> { OfflineQueue.open(db) }
                e.message shouldContain db.toString()
            } finally {
                makeWritable(dir)
                makeWritable(db)
            }
            withQueue(path = db) { q -> q.sizeFromDisk() shouldBe 1 }
        }

    // ---- Disk full in the middle of a group ----

    test("a disk-full error fails only the write that needed space: the rest of its group commits and nothing committed is lost") {
        val db = tempDb()
        OfflineQueue.open(db, QueueConfig(maxQueueSize = 50)).use { q ->
            // Leave free pages behind so small rows still fit once the file may not grow.
            repeat(40) { q.queueEvent(QueueEvent("bulk$it", "bulk", "\"${"b".repeat(3000)}\"")) }
            q.markSynced((0 until 40).map { "bulk$it" }) shouldBe 40
            repeat(50) { q.queueEvent(event(it)) } // at the cap: every insert now evicts one row
            real(q).onWriter { c ->
                val pages = c.createStatement().use { s -> s.executeQuery("PRAGMA page_count").use { it.next(); it.getLong(1) } }
                c.createStatement().use { it.execute("PRAGMA max_page_count = $pages") }
            }
            val huge = QueueEvent("huge", "big", "\"${"h".repeat(600_000)}\"")

            coroutineScope {
                val gate = holdWriter(q)
                // Queued behind the gate, these three run as one group: s1, s2, then the huge one.
                val s1 = async(start = CoroutineStart.UNDISPATCHED) { runCatching { q.queueEvent(event(100, id = "s1")) } }
                val s2 = async(start = CoroutineStart.UNDISPATCHED) { runCatching { q.queueEvent(event(101, id = "s2")) } }
                val big = async(start = CoroutineStart.UNDISPATCHED) { runCatching { q.queueEvent(huge) } }
                gate.release()

                s1.await().getOrThrow() shouldBe EnqueueResult(EnqueueOutcome.INSERTED, evicted = 1)
                s2.await().getOrThrow() shouldBe EnqueueResult(EnqueueOutcome.INSERTED, evicted = 1)
                val failure = big.await().exceptionOrNull()
                failure.shouldBeInstanceOf<QueueStorageException>()
                failure.message shouldContain "SQLITE_FULL"
            }

            val expected = (2 until 50).map { "e$it" } + listOf("s1", "s2")
            q.peek().map { it.eventId } shouldContainExactly expected // e2, which the huge write evicted, came back
            q.size() shouldBe 50
            q.sizeFromDisk() shouldBe 50
            q.sizes.value shouldBe 50

            // Once the disk has room again, the same queue accepts the same write.
            real(q).onWriter { c -> c.createStatement().use { it.execute("PRAGMA max_page_count = 1073741823") } }
            q.queueEvent(huge) shouldBe EnqueueResult(EnqueueOutcome.INSERTED, evicted = 1)
            q.size() shouldBe 50
            q.sizeFromDisk() shouldBe 50
        }
        withQueue(path = db) { q ->
            q.size() shouldBe 50
            q.peek().map { it.eventId } shouldContainExactly (3 until 50).map { "e$it" } + listOf("s1", "s2", "huge")
        }
    }

    test("processBatchResults is all or nothing: when the write cannot commit, no row is deleted and no retry counted") {
        val db = tempDb()
        OfflineQueue.open(db, QueueConfig(busyTimeout = kotlin.time.Duration.ZERO)).use { q ->
            repeat(4) { q.queueEvent(event(it)) }
            val before = q.peek()
            val results = listOf(
                BatchEventResult("e0", SyncStatus.SUCCESS),
                BatchEventResult("e1", SyncStatus.REJECTED),
                BatchEventResult("e2", SyncStatus.FAILED_PERMANENT),
            )
            // Another connection (as another process would) holds SQLite's write lock.
            java.sql.DriverManager.getConnection("jdbc:sqlite:$db").use { other ->
                other.createStatement().use { it.execute("BEGIN IMMEDIATE") }
                shouldThrow<QueueStorageException> { q.processBatchResults(results) }
                shouldThrow<java.io.IOException> { q.blocking().processBatchResults(results) }
                other.createStatement().use { it.execute("ROLLBACK") }
            }
            q.peek() shouldBe before
            q.size() shouldBe 4
            q.sizeFromDisk() shouldBe 4

            q.processBatchResults(results)
            q.peek().map { it.eventId to it.retryCount } shouldContainExactly listOf("e1" to 1, "e3" to 0)
            q.size() shouldBe q.sizeFromDisk()
        }
    }

    test("a write that fails alone still leaves the queue usable for the next writes") {
        withQueue(QueueConfig(maxQueueSize = 1000)) { q ->
            repeat(5) { q.queueEvent(event(it)) }
            real(q).onWriter { c ->
                val pages = c.createStatement().use { s -> s.executeQuery("PRAGMA page_count").use { it.next(); it.getLong(1) } }
                c.createStatement().use { it.execute("PRAGMA max_page_count = $pages") }
            }
            repeat(3) {
                shouldThrow<QueueStorageException> { q.queueEvent(QueueEvent("huge$it", "big", "\"${"h".repeat(200_000)}\"")) }
            }
            q.queueEvent(event(5)).outcome shouldBe EnqueueOutcome.INSERTED
            q.markSynced(listOf("e0")) shouldBe 1
            q.size() shouldBe 5
            q.sizeFromDisk() shouldBe 5
        }
    }

    // ---- Closing ----

    test("every call after close throws IllegalStateException saying the queue is closed") {
        val q = OfflineQueue.open(tempDb(), QueueConfig(name = "orders"))
        q.queueEvent(event(1))
        q.close()
        val out = tempDir().resolve("drain.jsonl")
        val calls: List<Pair<String, suspend () -> Any?>> = listOf(
            "queueEvent" to { q.queueEvent(event(2)) },
            "append" to { q.append(event(3)) },
            "size" to { q.size() },
            "sizeFromDisk" to { q.sizeFromDisk() },
            "peek" to { q.peek() },
            "markSynced" to { q.markSynced(listOf("e1")) },
            "markSynced of nothing" to { q.markSynced(emptyList()) },
            "incrementRetry" to { q.incrementRetry(listOf("e1")) },
            "eventsBelowRetryCount" to { q.eventsBelowRetryCount(3) },
            "processBatchResults" to { q.processBatchResults(listOf(BatchEventResult("e1", SyncStatus.SUCCESS))) },
            "removeProjectEvents" to { q.removeProjectEvents("p") },
            "clear" to { q.clear() },
            "drainToFile" to { q.drainToFile(out) },
            "stats" to { q.stats() },
            "blocking().queueEvent" to { q.blocking().queueEvent(event(4)) },
        )
        for ((name, call) in calls) {
            val e = shouldThrow<IllegalStateException> { call() }
            withClue(name, "") { e.message shouldBe "Queue 'orders' is closed" }
        }
        val future = q.async().queueEvent(event(5))
        val e = shouldThrow<ExecutionException> { future.get() }
        e.cause.shouldBeInstanceOf<IllegalStateException>()
        Files.exists(out) shouldBe false
    }

    test("closing twice is harmless, from Kotlin and from the Java facade") {
        val db = tempDb()
        val q = OfflineQueue.open(db)
        q.queueEvent(event(1))
        q.close()
        q.close()
        q.blocking().close()
        withQueue(path = db) { it.sizeFromDisk() shouldBe 1 }
    }

    test("close lets every write already accepted commit, and refuses new ones") {
        val db = tempDb()
        val q = OfflineQueue.open(db)
        coroutineScope {
            val gate = holdWriter(q)
            val accepted = (0 until 100).map { n -> async(start = CoroutineStart.UNDISPATCHED) { q.queueEvent(event(n)) } }
            val closer = thread(name = "closer") { q.close() }
            // sizeFromDisk reads on the read connection; size() could queue a recount behind the
            // held writer and wait for the gate this test releases only afterwards.
            awaitCondition("close() has begun") { runCatching { q.sizeFromDisk() }.isFailure }
            shouldThrow<IllegalStateException> { q.queueEvent(event(1000)) }
            gate.release()
            closer.join()
            accepted.forEach { it.await().outcome shouldBe EnqueueOutcome.INSERTED }
        }
        withQueue(path = db) { reopened ->
            reopened.size() shouldBe 100
            reopened.peek().map { it.eventId } shouldContainExactly (0 until 100).map { "e$it" }
            reopened.peek().map { it.eventId } shouldNotContain "e1000"
        }
    }
})

private inline fun <T> withClue(what: String, how: String, block: () -> T): T =
    io.kotest.assertions.withClue(if (how.isEmpty()) what else "$what ($how)", block)
