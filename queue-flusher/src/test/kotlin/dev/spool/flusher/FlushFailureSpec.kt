package dev.spool.flusher

import dev.spool.queue.BatchEventResult
import dev.spool.queue.OfflineQueue
import dev.spool.queue.SyncStatus
import dev.spool.queue.QueueConfig
import dev.spool.storage.QueueStorageException
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import kotlinx.coroutines.isActive
import java.nio.file.Path
import java.sql.Connection
import java.sql.DriverManager
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/** Holds SQLite's write lock on [path] from a second connection, as another process would. */
private fun lockForWriting(path: Path): Connection =
    DriverManager.getConnection("jdbc:sqlite:$path").apply { createStatement().use { it.execute("BEGIN IMMEDIATE") } }

private fun Connection.unlock() {
    createStatement().use { it.execute("ROLLBACK") }
    close()
}

class FlushFailureSpec : FunSpec({
    val delay = 100.milliseconds
    // No busy wait: a locked database fails the write at once.
    val failFast = QueueConfig(busyTimeout = Duration.ZERO)

    test("a background flush that cannot commit keeps its ids pending and hidden, and reports the failure") {
        val path = tempDb()
        withQueue(failFast, path) { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            VirtualClock().use { clock ->
                val errors = CopyOnWriteArrayList<Throwable>()
                val f = SyncedRowFlusher(q, FlusherConfig(maxDelay = delay, errorHandler = errors::add), clock.scope)
                val lock = lockForWriting(path)

                f.markSynced(ids(1, 2))
                clock.runCurrent()
                clock.advance(delay)
                clock.settle(q)

                errors.single().shouldBeInstanceOf<QueueStorageException>()
                f.pending shouldBe 2
                q.peek().map { it.eventId } shouldBe ids(3)
                q.size() shouldBe 3
                q.sizeFromDisk() shouldBe 3
                clock.scope.isActive shouldBe true

                lock.unlock()
                // The next flush() deletes the pending ids, then surfaces the earlier failure.
                shouldThrow<QueueStorageException> { f.flush() } shouldBe errors.single()
                f.pending shouldBe 0
                q.size() shouldBe 1
                q.sizeFromDisk() shouldBe 1
                f.flush() shouldBe 0

                // The timer survived the failure: the next batch fires on its own.
                f.markSynced(ids(3))
                clock.runCurrent()
                clock.advance(delay)
                clock.settle(q)
                q.sizeFromDisk() shouldBe 0
                errors shouldHaveSize 1
                f.close()
            }
        }
    }

    test("an explicit flush that cannot commit throws and keeps its ids for the next try") {
        val path = tempDb()
        withQueue(failFast, path) { q ->
            (1..2).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                f.markSynced(ids(1, 2))
                val lock = lockForWriting(path)

                shouldThrow<QueueStorageException> { f.flush() }
                f.pending shouldBe 2
                q.peek().shouldHaveSize(0)
                q.sizeFromDisk() shouldBe 2

                lock.unlock()
                f.flush() shouldBe 2
                q.size() shouldBe 0
                q.sizeFromDisk() shouldBe 0
            }
        }
    }

    test("a background failure is thrown by close after it deletes what it can") {
        val path = tempDb()
        withQueue(failFast, path) { q ->
            q.queueEvent(event(1))
            VirtualClock().use { clock ->
                val errors = CopyOnWriteArrayList<Throwable>()
                val f = SyncedRowFlusher(q, FlusherConfig(maxBatch = 1, errorHandler = errors::add), clock.scope)
                val lock = lockForWriting(path)
                f.markSynced(ids(1))
                clock.settle(q)
                lock.unlock()

                shouldThrow<QueueStorageException> { f.close() } shouldBe errors.single()
                q.sizeFromDisk() shouldBe 0
                f.pending shouldBe 0
            }
        }
    }

    test("closing the queue under an open flusher makes its batches fail with IllegalStateException, without hanging") {
        val path = tempDb()
        val q = OfflineQueue.open(path)
        (1..2).forEach { q.queueEvent(event(it)) }
        VirtualClock().use { clock ->
            val errors = CopyOnWriteArrayList<Throwable>()
            val f = SyncedRowFlusher(q, FlusherConfig(maxDelay = delay, errorHandler = errors::add), clock.scope)
            f.markSynced(ids(1))
            q.close()
            clock.runCurrent()
            clock.advance(delay)

            errors.single().shouldBeInstanceOf<IllegalStateException>().message shouldContain "Close the flusher before the queue"
            f.pending shouldBe 1
            clock.scope.isActive shouldBe true
            shouldThrow<IllegalStateException> { f.close() } shouldBe errors.single()
        }
        withQueue(path = path) { reopened -> reopened.peek().map { it.eventId } shouldBe ids(1, 2) }
    }

    test("an error handler that throws neither stops the flusher nor cancels its scope") {
        val path = tempDb()
        withQueue(failFast, path) { q ->
            (1..2).forEach { q.queueEvent(event(it)) }
            VirtualClock().use { clock ->
                var calls = 0
                val handler = FlushErrorHandler { calls++; throw IllegalArgumentException("handler bug") }
                val f = SyncedRowFlusher(q, FlusherConfig(maxBatch = 1, errorHandler = handler), clock.scope)
                val lock = lockForWriting(path)
                f.markSynced(ids(1))
                clock.settle(q)
                calls shouldBe 1
                lock.unlock()

                f.markSynced(ids(2)) // Retries the pending e1 together with e2.
                clock.settle(q)
                q.sizeFromDisk() shouldBe 0
                clock.scope.isActive shouldBe true
                shouldThrow<QueueStorageException> { f.flush() } // The failure still surfaces once.
                f.close()
            }
        }
    }

    test("processBatchResults is all or nothing: when the queue's part cannot commit, no ack is recorded either") {
        val path = tempDb()
        withQueue(failFast, path) { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            val uploaded = q.peek()
            VirtualClock().use { clock ->
                val f = SyncedRowFlusher(q, FlusherConfig(maxDelay = delay), clock.scope)
                val results = listOf(
                    BatchEventResult("e1", SyncStatus.SUCCESS),
                    BatchEventResult("e2", SyncStatus.REJECTED),
                    BatchEventResult("e3", SyncStatus.DUPLICATE),
                )
                val lock = lockForWriting(path)
                shouldThrow<QueueStorageException> { f.processBatchResults(results, uploaded) }
                lock.unlock()
                // Nothing applied: no ack pending or hidden, no retry counted.
                f.pending shouldBe 0
                q.peek().map { it.eventId to it.retryCount } shouldBe listOf("e1" to 0, "e2" to 0, "e3" to 0)

                f.processBatchResults(results, uploaded)
                q.peek().map { it.eventId to it.retryCount } shouldBe listOf("e2" to 1)
                f.close()
                q.sizeFromDisk() shouldBe 1
                q.size() shouldBe 1
            }
        }
    }
})
