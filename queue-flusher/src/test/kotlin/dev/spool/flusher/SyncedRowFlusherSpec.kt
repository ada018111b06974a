package dev.spool.flusher

import dev.spool.queue.BatchEventResult
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.queue.SyncStatus
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.time.Duration.Companion.milliseconds

class SyncedRowFlusherSpec : FunSpec({
    test("the documented defaults: 512 ids or 100 ms, failures logged; the Java builder starts from the same") {
        for (config in listOf(FlusherConfig(), FlusherConfig.builder().build())) {
            config.maxBatch shouldBe 512
            config.maxDelay shouldBe kotlin.time.Duration.parse("100ms")
            config.errorHandler shouldBe FlushErrorHandler.LOG
        }
    }

    test("acknowledged rows are hidden from reads at once and stay counted until flushed") {
        withQueue { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                f.markSynced(ids(1, 2))

                q.peek().map { it.eventId } shouldBe ids(3)
                q.eventsBelowRetryCount(maxRetries = 5).map { it.eventId } shouldBe ids(3)
                f.pending shouldBe 2
                q.size() shouldBe 3
                q.sizeFromDisk() shouldBe 3
                f.unsyncedSize() shouldBe 1

                f.flush() shouldBe 2
                q.size() shouldBe 1
                q.sizeFromDisk() shouldBe 1
                f.pending shouldBe 0
                f.unsyncedSize() shouldBe 1
            }
        }
    }

    test("flush returns the rows the DELETE removed, not the number of ids recorded") {
        withQueue { q ->
            (1..2).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                f.markSynced(listOf("e1", "unknown", "e1"))
                f.pending shouldBe 2

                f.flush() shouldBe 1
                q.size() shouldBe q.sizeFromDisk()
                q.size() shouldBe 1
                f.flush() shouldBe 0
            }
        }
    }

    test("eviction deletes acknowledged rows before any unsynced row") {
        withQueue(QueueConfig(maxQueueSize = 5)) { q ->
            (1..5).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                f.markSynced(ids(2, 4))

                q.queueEvent(event(6)).evicted shouldBe 0
                f.pending shouldBe 0
                q.peek().map { it.eventId } shouldBe ids(1, 3, 5, 6)
                q.size() shouldBe 4
                q.sizeFromDisk() shouldBe 4

                q.queueEvent(event(7)).evicted shouldBe 0
                // Nothing acknowledged is left: now the oldest unsynced row goes.
                q.queueEvent(event(8)).evicted shouldBe 1
                q.peek().map { it.eventId } shouldBe ids(3, 5, 6, 7, 8)
                q.size() shouldBe q.sizeFromDisk()
            }
        }
    }

    test("an acknowledged row coalesced into a newer event before the flush keeps the newer event") {
        withQueue { q ->
            q.queueEvent(event(1, coalesceKey = "cursor"))
            q.withFlusher { f ->
                f.markSynced(ids(1))
                q.queueEvent(event(2, coalesceKey = "cursor")).outcome shouldBe EnqueueOutcome.COALESCED

                q.peek().map { it.eventId to it.payload } shouldBe listOf("e2" to """{"n":2}""")
                f.flush() shouldBe 0
                q.peek().map { it.eventId } shouldBe ids(2)
                q.sizeFromDisk() shouldBe 1
            }
        }
    }

    test("an acknowledged row coalesced under the same eventId keeps the newer payload") {
        withQueue { q ->
            q.queueEvent(event(1, coalesceKey = "cursor"))
            q.withFlusher { f ->
                f.markSynced(ids(1))
                q.queueEvent(event(1, coalesceKey = "cursor", payload = """{"n":"newer"}""")).outcome shouldBe
                    EnqueueOutcome.COALESCED

                f.flush() shouldBe 0
                q.peek().map { it.payload } shouldBe listOf("""{"n":"newer"}""")
            }
        }
    }

    test("an acknowledged row replaced with a newer payload before the flush keeps the newer payload") {
        withQueue { q ->
            q.queueEvent(event(1))
            q.withFlusher { f ->
                f.markSynced(ids(1))
                q.queueEvent(event(1, payload = """{"n":"newer"}""")).outcome shouldBe EnqueueOutcome.REPLACED

                q.peek().map { it.payload } shouldBe listOf("""{"n":"newer"}""")
                f.pending shouldBe 0
                f.flush() shouldBe 0
                q.sizeFromDisk() shouldBe 1
            }
        }
    }

    test("an acknowledgement by id covers the content its row holds when the id is recorded") {
        withQueue { q ->
            q.queueEvent(event(1))
            q.withFlusher { f ->
                q.peek() // The uploader reads revision 0 ...
                q.queueEvent(event(1, payload = """{"n":"newer"}""")) // ... the app replaces it ...
                f.markSynced(ids(1)) // ... and the id-only acknowledgement now covers the newer payload.

                q.peek().shouldBeEmpty()
                f.flush() shouldBe 1
            }
        }
    }

    test("acknowledging the events as read leaves a row replaced between the read and the acknowledgement") {
        withQueue { q ->
            (1..2).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                val uploaded = q.peek()
                q.queueEvent(event(1, payload = """{"n":"newer"}"""))
                f.markEventsSynced(uploaded)

                q.peek().map { it.eventId to it.payload } shouldBe listOf("e1" to """{"n":"newer"}""")
                f.flush() shouldBe 1
                q.peek().map { it.payload } shouldBe listOf("""{"n":"newer"}""")
                q.size() shouldBe 1
                q.sizeFromDisk() shouldBe 1
            }
        }
    }

    test("processBatchResults defers deleting verdicts and applies the others through the queue at once") {
        withQueue { q ->
            (1..5).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                f.processBatchResults(
                    listOf(
                        BatchEventResult("e1", SyncStatus.SUCCESS),
                        BatchEventResult("e2", SyncStatus.DUPLICATE),
                        BatchEventResult("e3", SyncStatus.FAILED_PERMANENT, "schema"),
                        BatchEventResult("e4", SyncStatus.REJECTED, "later"),
                        BatchEventResult("e5", SyncStatus.FAILED_TRANSIENT),
                    ),
                )

                f.pending shouldBe SyncStatus.entries.count { it.deletes }
                q.peek().map { it.eventId to it.retryCount } shouldBe listOf("e4" to 1, "e5" to 0)
                q.sizeFromDisk() shouldBe 5

                f.flush() shouldBe 3
                q.size() shouldBe 2
                q.sizeFromDisk() shouldBe 2
                q.peek().map { it.eventId to it.retryCount } shouldBe listOf("e4" to 1, "e5" to 0)
            }
        }
    }

    test("processBatchResults with the uploaded events leaves rows replaced after the upload") {
        withQueue { q ->
            (1..2).forEach { q.queueEvent(event(it)) }
            q.withFlusher { f ->
                val uploaded = q.peek()
                q.queueEvent(event(1, payload = """{"n":"newer"}"""))

                f.processBatchResults(ids(1, 2).map { BatchEventResult(it, SyncStatus.SUCCESS) }, uploaded)

                f.flush() shouldBe 1
                q.peek().map { it.eventId to it.payload } shouldBe listOf("e1" to """{"n":"newer"}""")
            }
        }
    }

    test("close deletes everything recorded, leaves the queue open, and can be called twice") {
        withQueue { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            val f = SyncedRowFlusher.create(q, manual)
            f.markSynced(ids(1, 2, 3))

            f.close()
            f.close()

            f.pending shouldBe 0
            q.size() shouldBe 0
            q.sizeFromDisk() shouldBe 0
            q.queueEvent(event(4)).outcome shouldBe EnqueueOutcome.INSERTED
        }
    }

    test("a closed flusher refuses new work with IllegalStateException") {
        withQueue { q ->
            val f = SyncedRowFlusher.create(q, manual)
            f.close()

            shouldThrow<IllegalStateException> { f.markSynced(ids(1)) }.message shouldContain "closed"
            shouldThrow<IllegalStateException> { f.markEventsSynced(q.peek()) }
            shouldThrow<IllegalStateException> { f.flush() }
            shouldThrow<IllegalStateException> {
                f.processBatchResults(listOf(BatchEventResult("e1", SyncStatus.SUCCESS)))
            }
        }
    }

    test("closing the queue first fails the flusher's close with IllegalStateException, and the rows are uploaded again") {
        val path = tempDb()
        val q = OfflineQueue.open(path)
        (1..2).forEach { q.queueEvent(event(it)) }
        val f = SyncedRowFlusher.create(q, manual)
        f.markSynced(ids(1))
        q.close()

        shouldThrow<IllegalStateException> { f.close() }.message shouldContain "uploaded again"
        f.close() // Harmless the second time.

        withQueue(path = path) { reopened ->
            reopened.peek().map { it.eventId } shouldBe ids(1, 2)
            reopened.size() shouldBe 2
        }
    }

    test("closing the queue first with nothing pending lets the flusher close quietly") {
        val q = OfflineQueue.open(tempDb())
        val f = SyncedRowFlusher.create(q, manual)
        q.close()
        f.close()
        f.pending shouldBe 0
    }

    test("bad configuration is refused naming the field") {
        shouldThrow<IllegalArgumentException> { FlusherConfig(maxBatch = 0) }.message shouldContain "maxBatch"
        shouldThrow<IllegalArgumentException> {
            FlusherConfig(maxDelay = (-1).milliseconds)
        }.message shouldContain "maxDelay"
    }
})
