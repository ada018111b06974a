package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.comparables.shouldBeGreaterThanOrEqualTo
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import java.time.Instant
import kotlin.random.Random
import kotlin.time.Duration
import kotlin.time.Duration.Companion.days
import kotlin.time.Duration.Companion.microseconds
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/** Backoff is exact Duration arithmetic that saturates: no NaN, no overflow, no lost sub-millisecond delay. */
class RetryArithmeticSpec : FunSpec({
    test("a zero base gives zero delays for any number of failures, even when the growth overflows to infinity") {
        val policy = RetryPolicy(base = Duration.ZERO, factor = 1e300, max = 1.minutes, jitter = 0.5)
        for (failures in listOf(1, 2, 3, 1025, Int.MAX_VALUE)) {
            policy.nominalDelay(failures) shouldBe Duration.ZERO
            policy.delay(failures, Random(failures)) shouldBe Duration.ZERO
        }
    }

    test("huge failure counts saturate at max, and jitter stays within max") {
        val policy = RetryPolicy(base = 1.seconds, factor = 2.0, max = 5.minutes, jitter = 0.2)
        for (failures in listOf(10, 64, 1025, Int.MAX_VALUE)) {
            policy.nominalDelay(failures) shouldBe 5.minutes
            val jittered = policy.delay(failures, Random(failures))
            jittered shouldBeLessThanOrEqualTo 5.minutes
            jittered shouldBeGreaterThanOrEqualTo 4.minutes
        }
        policy.nominalDelay(3) shouldBe 4.seconds
    }

    test("max = Duration.INFINITE grows without overflowing and saturates at infinity") {
        val policy = RetryPolicy(base = 1.seconds, factor = 2.0, max = Duration.INFINITE, jitter = 0.3)
        policy.nominalDelay(11) shouldBe 1024.seconds
        policy.nominalDelay(Int.MAX_VALUE) shouldBe Duration.INFINITE
        policy.delay(Int.MAX_VALUE, Random(1)) shouldBe Duration.INFINITE
    }

    test("a sub-millisecond base is honoured exactly") {
        val policy = RetryPolicy(base = 250.microseconds, factor = 2.0, max = 1.seconds, jitter = 0.0)
        policy.nominalDelay(1) shouldBe 250.microseconds
        policy.nominalDelay(3) shouldBe 1.milliseconds
        policy.nominalDelay(5) shouldBe 4.milliseconds
    }

    test("a sub-millisecond retry is stored one millisecond later, never at once") {
        val clock = MutableClock()
        val policy = RetryPolicy(base = 250.microseconds, factor = 2.0, max = 1.seconds, jitter = 0.0)
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = policy)) { q ->
            val id = q.enqueue("job", payload(1))
            val lease = q.claim("w").single().lease!!
            q.fail(lease, "boom") shouldBe AckResult.RETRY_SCHEDULED
            q.get(id)!!.runAfter shouldBe clock.instant().plusMillis(1)
            q.claim("w").shouldBeEmpty()
            clock.advance(1.milliseconds)
            q.claim("w").single().id shouldBe id
        }
    }

    test("with max = INFINITE a retry is scheduled at the end of storable time, never in the past") {
        val clock = MutableClock()
        val policy = RetryPolicy(base = 1.seconds, factor = 1e300, max = Duration.INFINITE, jitter = 0.0)
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = policy)) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 5)
            q.fail(q.claim("w").single().lease!!, "first") shouldBe AckResult.RETRY_SCHEDULED
            clock.advance(1.seconds)
            val second = q.claim("w").single()
            second.attempts shouldBe 2
            q.fail(second.lease!!, "second") shouldBe AckResult.RETRY_SCHEDULED
            val task = q.get(id)!!
            task.runAfter shouldBe Instant.ofEpochMilli(Long.MAX_VALUE)
            clock.advance(100_000.days)
            q.claim("w").shouldBeEmpty()
        }
    }

    test("sweeping an expired lease whose backoff would be 0 times infinity requeues it instead of failing") {
        val clock = MutableClock()
        val policy = RetryPolicy(base = Duration.ZERO, factor = 1e300, max = 1.minutes, jitter = 0.0)
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = policy)) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 10)
            repeat(2) {
                q.fail(q.claim("w").single().lease!!, "again") shouldBe AckResult.RETRY_SCHEDULED
            }
            q.claim("w", leaseTtl = 1.seconds).single().attempts shouldBe 3
            clock.advance(2.seconds)
            q.sweep().requeued shouldBe 1
            q.get(id)!!.state shouldBe TaskState.QUEUED
            q.get(id)!!.runAfter shouldBe clock.instant()
        }
    }
})
