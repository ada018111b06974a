package dev.spool.queue

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.flow.first

class QueueBehaviourSpec : FunSpec({
    test("peek returns events oldest first and deletes nothing") {
        withQueue { q ->
            (1..5).forEach { q.queueEvent(event(it)) }
            q.peek().map { it.eventId } shouldContainExactly listOf("e1", "e2", "e3", "e4", "e5")
            q.peek().map { it.eventId } shouldContainExactly listOf("e1", "e2", "e3", "e4", "e5")
            q.sizeFromDisk() shouldBe 5
        }
    }

    test("peek honours its limit") {
        withQueue { q ->
            (1..10).forEach { q.queueEvent(event(it)) }
            q.peek(3).map { it.eventId } shouldContainExactly listOf("e1", "e2", "e3")
            q.peek(0).shouldBeEmpty()
        }
    }

    test("a queued event reads back with every field") {
        withQueue { q ->
            q.queueEvent(QueueEvent("a", "screen", """{"x": [1, 2]}""", projectId = "p1", coalesceKey = "k"))
            val read = q.peek().single()
            read.eventId shouldBe "a"
            read.eventType shouldBe "screen"
            read.payload shouldBe """{"x": [1, 2]}"""
            read.projectId shouldBe "p1"
            read.coalesceKey shouldBe "k"
            read.retryCount shouldBe 0
            read.toQueueEvent() shouldBe QueueEvent("a", "screen", """{"x": [1, 2]}""", "p1", "k")
        }
    }

    test("markSynced deletes the given ids and counts only rows that existed") {
        withQueue { q ->
            (1..4).forEach { q.queueEvent(event(it)) }
            q.markSynced(listOf("e1", "e3", "unknown")) shouldBe 2
            q.peek().map { it.eventId } shouldContainExactly listOf("e2", "e4")
            q.size() shouldBe 2
            q.sizeFromDisk() shouldBe 2
        }
    }

    test("markSynced of an empty list or of unknown ids changes nothing") {
        withQueue { q ->
            q.queueEvent(event(1))
            q.markSynced(emptyList()) shouldBe 0
            q.markSynced(listOf("nope", "never")) shouldBe 0
            q.size() shouldBe 1
        }
    }

    test("clear deletes every row and reports how many") {
        withQueue { q ->
            (1..7).forEach { q.queueEvent(event(it)) }
            q.clear() shouldBe 7
            q.size() shouldBe 0
            q.sizeFromDisk() shouldBe 0
            q.peek().shouldBeEmpty()
            q.clear() shouldBe 0
        }
    }

    test("a duplicate eventId rewrites its row with the new payload and timestamp, so it moves to the back, and keeps its retry count") {
        // A clock that ticks on every read: the replacement's timestamp is strictly newer than e2's.
        val ticks = java.util.concurrent.atomic.AtomicLong(1_000_000)
        dev.spool.queue.internal.RealOfflineQueue.open(tempDb(), QueueConfig(), clock = { ticks.incrementAndGet() }).use { q ->
            q.queueEvent(event(1))
            q.queueEvent(event(2))
            q.incrementRetry(listOf("e1"))
            val result = q.queueEvent(QueueEvent("e1", "click", """{"n":"new"}"""))
            result shouldBe EnqueueResult(EnqueueOutcome.REPLACED, evicted = 0)
            q.size() shouldBe 2
            q.sizeFromDisk() shouldBe 2
            val rows = q.peek()
            rows.map { it.eventId } shouldContainExactly listOf("e2", "e1")
            rows[1].payload shouldBe """{"n":"new"}"""
            rows[1].retryCount shouldBe 1
        }
    }

    test("events persist across instances in order, 100 of them") {
        val path = tempDb()
        OfflineQueue.open(path).use { q -> (1..100).forEach { q.queueEvent(event(it)) } }
        OfflineQueue.open(path).use { q ->
            q.size() shouldBe 100
            q.peek(1000).map { it.eventId } shouldContainExactly (1..100).map { "e$it" }
        }
    }

    test("incrementRetry counts changed rows and eventsBelowRetryCount filters by it") {
        withQueue { q ->
            (1..4).forEach { q.queueEvent(event(it)) }
            q.incrementRetry(listOf("e1", "e2", "missing")) shouldBe 2
            q.incrementRetry(listOf("e1")) shouldBe 1
            q.eventsBelowRetryCount(1).map { it.eventId } shouldContainExactly listOf("e3", "e4")
            q.eventsBelowRetryCount(2).map { it.eventId } shouldContainExactly listOf("e2", "e3", "e4")
            q.eventsBelowRetryCount(3, limit = 2).map { it.eventId } shouldContainExactly listOf("e1", "e2")
            q.peek().first { it.eventId == "e1" }.retryCount shouldBe 2
        }
    }

    test("processBatchResults deletes, retries or keeps each event by its status") {
        withQueue { q ->
            (1..6).forEach { q.queueEvent(event(it)) }
            q.processBatchResults(
                listOf(
                    BatchEventResult("e1", SyncStatus.SUCCESS),
                    BatchEventResult("e2", SyncStatus.DUPLICATE),
                    BatchEventResult("e3", SyncStatus.FAILED_PERMANENT, "schema mismatch"),
                    BatchEventResult("e4", SyncStatus.REJECTED, "try later"),
                    BatchEventResult("e5", SyncStatus.FAILED_TRANSIENT),
                    BatchEventResult("unknown", SyncStatus.SUCCESS),
                ),
            )
            val left = q.peek().associateBy { it.eventId }
            left.keys shouldBe setOf("e4", "e5", "e6")
            left.getValue("e4").retryCount shouldBe 1
            left.getValue("e5").retryCount shouldBe 0
            q.size() shouldBe 3
            q.sizeFromDisk() shouldBe 3
        }
    }

    test("removeProjectEvents deletes only that project's rows") {
        withQueue { q ->
            q.queueEvent(event(1, projectId = "a"))
            q.queueEvent(event(2, projectId = "b"))
            q.queueEvent(event(3, projectId = "a"))
            q.queueEvent(event(4))
            q.removeProjectEvents("a") shouldBe 2
            q.peek().map { it.eventId } shouldContainExactly listOf("e2", "e4")
            q.removeProjectEvents("absent") shouldBe 0
            q.size() shouldBe 2
        }
    }

    test("sizes publishes the count after each commit") {
        withQueue { q ->
            q.sizes.value shouldBe 0
            q.queueEvent(event(1))
            q.queueEvent(event(2))
            q.sizes.first { it == 2 } shouldBe 2
            q.markSynced(listOf("e1"))
            q.sizes.value shouldBe 1
        }
    }

    test("the count loaded at open equals the disk") {
        val path = tempDb()
        OfflineQueue.open(path).use { q -> (1..37).forEach { q.queueEvent(event(it)) } }
        OfflineQueue.open(path).use { q ->
            q.size() shouldBe 37
            q.sizes.value shouldBe 37
        }
    }

    test("peek refuses a negative limit") {
        withQueue { q ->
            io.kotest.assertions.throwables.shouldThrow<IllegalArgumentException> { q.peek(-1) }
        }
    }
})
