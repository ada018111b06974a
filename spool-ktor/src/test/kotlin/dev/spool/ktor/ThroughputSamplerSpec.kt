package dev.spool.ktor

import dev.spool.ktor.internal.ThroughputSampler
import dev.spool.tasks.TaskQueue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive
import kotlinx.serialization.json.long
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

class ThroughputSamplerSpec : FunSpec({
    test("each sample counts the completions and failures since the previous one, and the window keeps the newest") {
        // stats() is exact at every call (nothing cached), so each sample sees the work just done.
        TaskQueue.open(tempDir().resolve("tasks.db")).use { q ->
            val sampler = ThroughputSampler(q, interval = 1.minutes, window = 2.minutes)
            sampler.sample()
            repeat(3) {
                val id = q.enqueue("email", "{}")
                val task = q.claim("w").single()
                task.id shouldBe id
                q.complete(task.lease!!)
            }
            sampler.sample()
            q.deadLetter()
            sampler.sample()
            sampler.sample()

            val json = sampler.toJson()
            json["intervalMs"]!!.jsonPrimitive.long shouldBe 60_000
            val samples = json["samples"]!!.jsonArray.map { it.jsonObject }
            // Window of 2 intervals: 3 totals kept, 2 deltas; the first sample has fallen out.
            samples.map { it["succeeded"]!!.jsonPrimitive.long to it["failed"]!!.jsonPrimitive.long } shouldContainExactly
                listOf(0L to 1L, 0L to 0L)
        }
    }

    test("a closed queue leaves a gap instead of failing the sampler") {
        val q = TaskQueue.open(tempDir().resolve("tasks.db"))
        val sampler = ThroughputSampler(q, interval = 1.seconds, window = 10.seconds)
        q.close()
        sampler.sample()
        sampler.toJson()["samples"]!!.jsonArray.size shouldBe 0
    }
})
