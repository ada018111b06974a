package dev.spool.samples

import dev.spool.samples.client.Backoff
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.comparables.shouldBeGreaterThanOrEqualTo
import io.kotest.matchers.comparables.shouldBeLessThanOrEqualTo
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

class BackoffSpec : FunSpec({
    test("each delay lies between half and all of the doubled base, capped at max") {
        val backoff = Backoff(base = 100.milliseconds, max = 2.seconds, random = Random(1))
        for (failures in 1..40) {
            val ceiling = minOf(2.seconds, 100.milliseconds * (1L shl minOf(failures - 1, 30)).toDouble())
            repeat(20) {
                val delay = backoff.delayFor(failures)
                delay shouldBeGreaterThanOrEqualTo ceiling / 2
                delay shouldBeLessThanOrEqualTo ceiling
            }
        }
    }

    test("delays are jittered, and the same seed gives the same delays") {
        val a = (1..10).map { Backoff(random = Random(7)).delayFor(5) }
        a.toSet().size shouldBe 1
        val sequence = Backoff(random = Random(7)).let { b -> (1..10).map { b.delayFor(5) } }
        sequence.toSet().size shouldNotBe 1
        sequence.first() shouldBe a.first()
    }

    test("bad settings and failure counts are refused") {
        shouldThrow<IllegalArgumentException> { Backoff(base = 0.milliseconds) }
        shouldThrow<IllegalArgumentException> { Backoff(base = 2.seconds, max = 1.seconds) }
        shouldThrow<IllegalArgumentException> { Backoff().delayFor(0) }
    }
})
