package dev.spool.queue

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe

class SmokeSpec : FunSpec({
    test("enqueue, peek, sync") {
        withQueue { q ->
            q.queueEvent(event(1)).outcome shouldBe EnqueueOutcome.INSERTED
            q.queueEvent(event(2)).outcome shouldBe EnqueueOutcome.INSERTED
            q.size() shouldBe 2
            q.peek().map { it.eventId } shouldBe listOf("e1", "e2")
            q.markSynced(listOf("e1")) shouldBe 1
            q.sizeFromDisk() shouldBe 1
            q.stats().totalQueued shouldBe 1
        }
    }
})
