package dev.spool.queue

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe

class CoalescingSpec : FunSpec({
    test("an event with a queued coalesceKey overwrites that row in place") {
        withQueue { q ->
            q.queueEvent(event(1, type = "screen", coalesceKey = "screen:home"))
            q.queueEvent(event(2))
            q.incrementRetry(listOf("e1"))
            val result = q.queueEvent(QueueEvent("e3", "screen", """{"v":3}""", "p", "screen:home"))
            result shouldBe EnqueueResult(EnqueueOutcome.COALESCED, 0)
            q.size() shouldBe 2
            q.sizeFromDisk() shouldBe 2
            val row = q.peek().single { it.coalesceKey == "screen:home" }
            row.eventId shouldBe "e3"
            row.payload shouldBe """{"v":3}"""
            row.projectId shouldBe "p"
            row.retryCount shouldBe 1
        }
    }

    test("coalescing overwrites the event type along with the id and payload") {
        withQueue { q ->
            q.queueEvent(QueueEvent("e1", "screen_view", """{"v":1}""", coalesceKey = "last-screen"))
            q.queueEvent(QueueEvent("e2", "screen_leave", """{"v":2}""", coalesceKey = "last-screen")).outcome shouldBe
                EnqueueOutcome.COALESCED
            val row = q.peek().single()
            row.eventId shouldBe "e2"
            row.eventType shouldBe "screen_leave"
            row.payload shouldBe """{"v":2}"""
        }
    }

    test("coalescing works on a full queue and evicts nothing") {
        withQueue(QueueConfig(maxQueueSize = 2)) { q ->
            q.queueEvent(event(1, coalesceKey = "k"))
            q.queueEvent(event(2))
            q.queueEvent(event(3, coalesceKey = "k")) shouldBe EnqueueResult(EnqueueOutcome.COALESCED, 0)
            q.peek().map { it.eventId }.toSet() shouldBe setOf("e3", "e2")
        }
    }

    test("different coalesce keys do not interfere") {
        withQueue { q ->
            q.queueEvent(event(1, coalesceKey = "a"))
            q.queueEvent(event(2, coalesceKey = "b"))
            q.queueEvent(event(3, coalesceKey = "a"))
            q.queueEvent(event(4, coalesceKey = "b"))
            q.size() shouldBe 2
            q.peek().map { it.eventId }.toSet() shouldBe setOf("e3", "e4")
        }
    }

    test("a coalesced row changes its revision, so readers can tell the content changed") {
        withQueue { q ->
            q.queueEvent(event(1, coalesceKey = "a"))
            val before = q.peek().single().revision
            q.queueEvent(event(2, coalesceKey = "a"))
            (q.peek().single().revision > before) shouldBe true
        }
    }

    test("coalescing into an id another row holds is refused and changes nothing") {
        withQueue { q ->
            q.queueEvent(event(1, coalesceKey = "a"))
            q.queueEvent(event(2))
            val error = io.kotest.assertions.throwables.shouldThrow<InvalidEventException> {
                q.queueEvent(QueueEvent("e2", "click", "{}", coalesceKey = "a"))
            }
            error.field shouldBe "eventId"
            q.peek().map { it.eventId } shouldContainExactly listOf("e1", "e2")
            q.size() shouldBe 2
        }
    }
})
