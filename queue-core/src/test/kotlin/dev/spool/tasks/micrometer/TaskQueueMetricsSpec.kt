package dev.spool.tasks.micrometer

import dev.spool.tasks.MutableClock
import dev.spool.tasks.RetryPolicy
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import dev.spool.tasks.payload
import dev.spool.tasks.withTasks
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.micrometer.core.instrument.Tag
import io.micrometer.core.instrument.simple.SimpleMeterRegistry
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

class TaskQueueMetricsSpec : FunSpec({
    test("meters report depth by type and state, oldest age, outcomes, lease losses and latencies, tagged with the queue name") {
        val clock = MutableClock()
        val config = TaskQueueConfig(name = "jobs", clock = clock, retryPolicy = RetryPolicy(base = Duration.ZERO, max = Duration.ZERO, jitter = 0.0))
        withTasks(config) { q ->
            val registry = SimpleMeterRegistry()
            TaskQueueMetrics(q, listOf(Tag.of("app", "test"))).use { metrics ->
                metrics.bindTo(registry)
                repeat(3) { q.enqueue("mail", payload(it), maxAttempts = 1) }
                q.enqueue("resize", payload(9))
                val (a, b, _) = q.claim("w", limit = 3, types = setOf("mail"))
                q.complete(a.lease!!)
                q.fail(b.lease!!, "boom")
                q.complete(a.lease!!) // refused: LEASE_LOST
                clock.advance(31.seconds)
                q.sweep().deadLettered shouldBe 1 // c's lease expired on its last attempt
                metrics.refresh()

                fun search(name: String, vararg tags: String) = registry.find(name).tags("queue", "jobs", "app", "test", *tags)
                search("spool.tasks.depth", "type", "mail", "state", TaskState.SUCCEEDED.name).gauge()!!.value() shouldBe 1.0
                search("spool.tasks.depth", "type", "mail", "state", TaskState.DEAD_LETTER.name).gauge()!!.value() shouldBe 2.0
                search("spool.tasks.depth", "type", "resize", "state", TaskState.QUEUED.name).gauge()!!.value() shouldBe 1.0
                search("spool.tasks.oldest.queued.age").gauge()!!.value() shouldBe 31.0
                search("spool.tasks.claims", "type", "mail").counter()!!.count() shouldBe 3.0
                search("spool.tasks.completions", "type", "mail").counter()!!.count() shouldBe 1.0
                search("spool.tasks.failures", "type", "mail").counter()!!.count() shouldBe 2.0
                search("spool.tasks.dead.letters", "type", "mail").counter()!!.count() shouldBe 2.0
                search("spool.tasks.lease.losses").counter()!!.count() shouldBe 2.0
                search("spool.tasks.claim").timer()!!.count() shouldBe 1
                search("spool.tasks.ack").timer()!!.count() shouldBe 3
            }
            // Closed: nothing more is recorded.
            q.enqueue("mail", payload(5))
            q.claim("w", types = setOf("mail"))
            registry.find("spool.tasks.claims").tags("type", "mail").counter()!!.count() shouldBe 3.0
        }
    }

    test("a refresh interval that is not positive is refused naming it") {
        withTasks { q ->
            shouldThrow<IllegalArgumentException> { TaskQueueMetrics(q, emptyList(), Duration.ZERO) }.message shouldBe
                "refreshInterval must be positive, was 0s"
        }
    }
})
