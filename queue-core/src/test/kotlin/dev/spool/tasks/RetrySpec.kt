package dev.spool.tasks

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.longs.shouldBeInRange
import io.kotest.matchers.shouldBe
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

class RetrySpec : FunSpec({
    test("failures back off exponentially up to the max, then dead-letter with the last error") {
        val clock = MutableClock()
        val policy = RetryPolicy(base = 1.seconds, factor = 2.0, max = 10.seconds, jitter = 0.0)
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = policy)) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 6)
            val waits = mutableListOf<Long>()
            repeat(5) { attempt ->
                q.claim("w").single().attempts shouldBe attempt + 1
                q.fail(id, "w", "error ${attempt + 1}") shouldBe AckResult.RETRY_SCHEDULED
                val task = q.get(id)!!
                task.state shouldBe TaskState.QUEUED
                waits += task.runAfter.toEpochMilli() - clock.millis()
                clock.advance((waits.last() - 1).milliseconds)
                q.claim("w").shouldBeEmpty()
                clock.advance(1.milliseconds)
            }
            waits shouldBe listOf(1000L, 2000L, 4000L, 8000L, 10000L)
            q.claim("w").single().attempts shouldBe 6
            q.fail(id, "w", "final error") shouldBe AckResult.DEAD_LETTERED
            val dead = q.get(id)!!
            dead.state shouldBe TaskState.DEAD_LETTER
            dead.lastError shouldBe "final error"
            clock.advance(1000.seconds)
            q.claim("w").shouldBeEmpty()
        }
    }

    test("a policy per task type overrides the queue's policy") {
        val clock = MutableClock()
        val config = TaskQueueConfig(
            clock = clock,
            retryPolicy = RetryPolicy(base = 1.seconds, jitter = 0.0),
            retryPolicies = mapOf("slow" to RetryPolicy(base = 30.seconds, jitter = 0.0)),
        )
        withTasks(config) { q ->
            val fast = q.enqueue("fast", payload(1))
            val slow = q.enqueue("slow", payload(2))
            q.claim("w", limit = 2)
            q.fail(fast, "w", "x")
            q.fail(slow, "w", "x")
            q.get(fast)!!.runAfter shouldBe clock.now.plusSeconds(1)
            q.get(slow)!!.runAfter shouldBe clock.now.plusSeconds(30)
        }
    }

    test("a failure that is not retryable dead-letters at once") {
        withTasks { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 5)
            q.claim("w")
            q.fail(id, "w", "bad input", retryable = false) shouldBe AckResult.DEAD_LETTERED
            q.get(id)!!.state shouldBe TaskState.DEAD_LETTER
            q.get(id)!!.lastError shouldBe "bad input"
        }
    }

    test("jitter shortens delays by at most its fraction and spreads them") {
        val policy = RetryPolicy(base = 1.seconds, factor = 3.0, max = 1000.seconds, jitter = 0.5)
        val random = Random(42)
        val delays = (1..200).map { policy.delay(3, random).inWholeMilliseconds }
        delays.forEach { it shouldBeInRange 4500L..9000L }
        delays.toSet().size shouldBeGreaterThan 100
    }

    test("a bad retry policy is refused naming the field") {
        shouldThrow<IllegalArgumentException> { RetryPolicy(factor = 0.5) }.message shouldBe "factor must be finite and at least 1, was 0.5"
        shouldThrow<IllegalArgumentException> { RetryPolicy(jitter = 2.0) }
        shouldThrow<IllegalArgumentException> { RetryPolicy(base = 10.seconds, max = 1.seconds) }
    }
})
