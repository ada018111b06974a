package dev.spool.queue

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.ByteArrayOutputStream
import java.io.PrintStream

class CapAndEvictionSpec : FunSpec({
    test("at the cap the oldest event is evicted, the newest kept, and one warning names the cap") {
        val log = captureStderr {
            withQueue(QueueConfig(maxQueueSize = 8, name = "cap8")) { q ->
                val results = (1..9).map { q.queueEvent(event(it)) }
                results.dropLast(1).forEach { it shouldBe EnqueueResult(EnqueueOutcome.INSERTED, 0) }
                results.last() shouldBe EnqueueResult(EnqueueOutcome.INSERTED, evicted = 1)
                q.size() shouldBe 8
                q.sizeFromDisk() shouldBe 8
                q.peek().first().eventId shouldBe "e2"
            }
        }
        val warnings = log.lines().filter { "reached its cap" in it }
        warnings.size shouldBe 1
        warnings.single() shouldContain "'cap8'"
        warnings.single() shouldContain "cap of 8 events"
        warnings.single() shouldContain "evicted the 1 oldest"
    }

    test("cap 32, then drain 10 and sync them, leaves the 22 newest") {
        withQueue(QueueConfig(maxQueueSize = 32)) { q ->
            (1..40).forEach { q.queueEvent(event(it)) }
            q.size() shouldBe 32
            q.peek(1).single().eventId shouldBe "e9"
            val batch = q.peek(10)
            q.markSynced(batch.map { it.eventId }) shouldBe 10
            q.size() shouldBe 22
            q.sizeFromDisk() shouldBe 22
            q.peek(100).map { it.eventId } shouldContainExactly (19..40).map { "e$it" }
        }
    }

    test("a duplicate at the cap replaces in place and evicts nothing") {
        withQueue(QueueConfig(maxQueueSize = 3)) { q ->
            (1..3).forEach { q.queueEvent(event(it)) }
            q.queueEvent(QueueEvent("e1", "click", """{"v":2}""")) shouldBe EnqueueResult(EnqueueOutcome.REPLACED, 0)
            q.peek().map { it.eventId }.toSet() shouldBe setOf("e1", "e2", "e3")
        }
    }

    test("a queue already over the cap is brought back to exactly the cap") {
        val path = tempDb()
        OfflineQueue.open(path).use { q -> (1..10).forEach { q.queueEvent(event(it)) } }
        OfflineQueue.open(path, QueueConfig(maxQueueSize = 4)).use { q ->
            q.queueEvent(event(11)).evicted shouldBe 7
            q.size() shouldBe 4
            q.peek().map { it.eventId } shouldContainExactly listOf("e8", "e9", "e10", "e11")
        }
    }

    test("the strict cap at 4 throws with cap and current, storing nothing") {
        withQueue(QueueConfig(strictCap = 4)) { q ->
            (1..4).forEach { q.append(event(it)).outcome shouldBe EnqueueOutcome.INSERTED }
            val full = shouldThrow<OfflineQueueFullException> { q.append(event(5)) }
            full.cap shouldBe 4
            full.current shouldBe 4
            full.message shouldContain "drainToFile"
            q.size() shouldBe 4
            q.sizeFromDisk() shouldBe 4
            q.peek().map { it.eventId } shouldContainExactly listOf("e1", "e2", "e3", "e4")
        }
    }

    test("append of a duplicate at the strict cap still throws, as the original did") {
        withQueue { q ->
            (1..2).forEach { q.append(event(it), cap = 2) }
            shouldThrow<OfflineQueueFullException> { q.append(event(1), cap = 2) }
            q.size() shouldBe 2
        }
    }

    test("a coalescing append never throws, even at the strict cap") {
        withQueue { q ->
            q.append(event(1, coalesceKey = "screen:home"), cap = 1)
            val result = q.append(event(2, coalesceKey = "screen:home"), cap = 1)
            result.outcome shouldBe EnqueueOutcome.COALESCED
            q.size() shouldBe 1
            q.peek().single().eventId shouldBe "e2"
        }
    }

    test("append below the cap never evicts") {
        withQueue(QueueConfig(maxQueueSize = 2)) { q ->
            (1..5).forEach { q.append(event(it), cap = 10).evicted shouldBe 0 }
            q.size() shouldBe 5
        }
    }

    test("a strict cap below 1 is refused") {
        withQueue { q ->
            shouldThrow<IllegalArgumentException> { q.append(event(1), cap = 0) }
            q.size() shouldBe 0
        }
    }
})

/** Runs [block] with System.err captured (slf4j-simple logs there) and returns what was written. */
suspend fun captureStderr(block: suspend () -> Unit): String {
    val original = System.err
    val buffer = ByteArrayOutputStream()
    System.setErr(PrintStream(buffer, true))
    try {
        block()
    } finally {
        System.setErr(original)
    }
    return buffer.toString()
}
