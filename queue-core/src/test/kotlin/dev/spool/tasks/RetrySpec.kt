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
