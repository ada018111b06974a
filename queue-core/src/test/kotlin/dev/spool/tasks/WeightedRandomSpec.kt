package dev.spool.tasks

import io.kotest.assertions.fail
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlin.math.abs
import kotlin.math.sqrt

/**
 * WEIGHTED_RANDOM gives each eligible task a chance proportional to 1 / (1 + priority). Each
 * trial claims one task and releases it, so the same tasks compete again. Bounds are six standard
 * deviations: a correct implementation fails about once in 10^8 runs, an unweighted one always.
 */
class WeightedRandomSpec : FunSpec({
    suspend fun firstPicks(q: TaskQueue, trials: Int): Map<TaskId, Int> {
        val counts = HashMap<TaskId, Int>()
        repeat(trials) {
            val task = q.claim("w", strategy = ClaimStrategy.WEIGHTED_RANDOM).single()
            counts.merge(task.id, 1, Int::plus)
            q.release(task.lease!!) shouldBe AckResult.RELEASED
        }
        return counts
    }

    fun expect(count: Int, trials: Int, p: Double) {
        val sd = sqrt(trials * p * (1 - p))
        abs(count - trials * p) shouldBeLessThan 6 * sd
    }

    test("one task against one with very different priorities is picked in proportion to weight") {
        withTasks { q ->
            val urgent = q.enqueue("job", payload(1), priority = 0)
            q.enqueue("job", payload(2), priority = 9)
            val trials = 2000
            // Weights 1 and 1/10: the urgent task first 10 times out of 11, not half the time.
            expect(firstPicks(q, trials)[urgent] ?: 0, trials, 10.0 / 11)
        }
    }

    test("three priorities share claims as 4 : 2 : 1") {
        withTasks { q ->
            val p0 = q.enqueue("job", payload(0), priority = 0) // weight 1
            val p1 = q.enqueue("job", payload(1), priority = 1) // weight 1/2
            val p3 = q.enqueue("job", payload(3), priority = 3) // weight 1/4
            val trials = 2100
            val counts = firstPicks(q, trials)
            expect(counts[p0] ?: 0, trials, 4.0 / 7)
            expect(counts[p1] ?: 0, trials, 2.0 / 7)
            expect(counts[p3] ?: 0, trials, 1.0 / 7)
        }
    }

    test("equal priorities are picked evenly") {
        withTasks { q ->
            val ids = (1..5).map { q.enqueue("job", payload(it), priority = 50) }
            val trials = 2000
            val counts = firstPicks(q, trials)
            ids.forEach { expect(counts[it] ?: 0, trials, 0.2) }
        }
    }

    test("a batch claim is a sample without replacement") {
        withTasks { q ->
            repeat(10) { q.enqueue("job", payload(it), priority = it * 10) }
            val batch = q.claim("w", limit = 10, strategy = ClaimStrategy.WEIGHTED_RANDOM)
            batch.map { it.id }.toSet().size shouldBe 10
            q.claim("w", strategy = ClaimStrategy.WEIGHTED_RANDOM).shouldBeEmpty()
        }
    }

    test("a low-priority task is not starved by a steady supply of urgent ones") {
        withTasks { q ->
            val low = q.enqueue("job", payload(-1), priority = 20) // weight 1/21 against 10 tasks of weight 1
            repeat(10) { q.enqueue("job", payload(it), priority = 0) }
            // Under PRIORITY it would wait forever while urgent tasks keep coming.
            repeat(50) {
                val task = q.claim("w", strategy = ClaimStrategy.PRIORITY).single()
                (task.id == low) shouldBe false
                q.complete(task.lease!!)
                q.enqueue("job", payload(it), priority = 0)
            }
            // Under WEIGHTED_RANDOM each claim takes it with chance (1/21) / (10 + 1/21), about 1 in 211.
            var rounds = 0
            while (true) {
                rounds++
                val task = q.claim("w", strategy = ClaimStrategy.WEIGHTED_RANDOM).single()
                if (task.id == low) break
                q.complete(task.lease!!)
                q.enqueue("job", payload(rounds), priority = 0)
                // Missing it 5,000 times in a row has a chance of about e^-23.7 if the weights are right.
                if (rounds >= 5000) fail("the low-priority task starved: not claimed in $rounds weighted claims")
            }
        }
    }
})
