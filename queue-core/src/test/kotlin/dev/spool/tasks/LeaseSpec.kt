package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

class LeaseSpec : FunSpec({
    val clock = MutableClock()
    val config = TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = 1.seconds, jitter = 0.0), staleWorkerTimeout = 1.minutes)

    test("heartbeat extends a worker's leases by the TTL it claimed with") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("w", leaseTtl = 7.seconds).single().leaseExpiresAt shouldBe clock.now.plusSeconds(7)
            clock.advance(5.seconds)
            q.heartbeat("w") shouldBe setOf(id)
            q.get(id)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(7)
        }
    }

    test("heartbeat of an unknown worker holds nothing") {
        withTasks(config) { q -> q.heartbeat("ghost").shouldBeEmpty() }
    }

    test("renew extends one lease, only for its holder when a worker is named") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("w", leaseTtl = 10.seconds)
            q.renew(id, 60.seconds, workerId = "other") shouldBe false
            q.renew(id, 60.seconds, workerId = "w") shouldBe true
            q.get(id)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(60)
            clock.advance(61.seconds)
            q.renew(id, 60.seconds) shouldBe false
        }
    }

    test("the sweeper returns expired leases to the queue and counts the attempt") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("w", leaseTtl = 10.seconds)
            q.sweep() shouldBe SweepResult(0, 0, 0)
            clock.advance(11.seconds)
            q.sweep() shouldBe SweepResult(requeued = 1, deadLettered = 0, staleWorkers = 0)
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 1
            task.leaseOwner shouldBe null
            task.lastError!! shouldContain "lease expired"
            task.runAfter shouldBe clock.now.plusSeconds(1)
        }
    }

    test("an expired lease on the last attempt goes to the dead letter state") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 1)
            q.claim("w", leaseTtl = 10.seconds)
            clock.advance(11.seconds)
            q.sweep() shouldBe SweepResult(requeued = 0, deadLettered = 1, staleWorkers = 0)
            q.get(id)!!.state shouldBe TaskState.DEAD_LETTER
        }
    }

    test("a stale worker is detected, removed and its valid leases reclaimed") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("sleepy", capabilities = setOf("gpu"), leaseTtl = 10.minutes)
            q.registerWorker("alive", emptySet(), 30.seconds)
            clock.advance(50.seconds)
            q.heartbeat("alive")
            clock.advance(20.seconds)
            q.workers().associate { it.workerId to it.stale } shouldBe mapOf("alive" to false, "sleepy" to true)
            q.workers().single { it.workerId == "sleepy" }.capabilities shouldBe setOf("gpu")
            q.sweep() shouldBe SweepResult(requeued = 1, deadLettered = 0, staleWorkers = 1)
            q.get(id)!!.lastError!! shouldContain "worker stale"
            q.workers().map { it.workerId } shouldContainExactly listOf("alive")
            q.heartbeat("sleepy").shouldBeEmpty()
        }
    }

    test("complete by the lease holder succeeds") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("w")
            q.complete(id, "w") shouldBe AckResult.COMPLETED
            q.get(id)!!.state shouldBe TaskState.SUCCEEDED
            q.complete(id, "w") shouldBe AckResult.LEASE_LOST
        }
    }

    test("a stale worker's ack is refused and not applied") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("old", leaseTtl = 10.seconds)
            clock.advance(11.seconds)
            // Expired but not yet swept: the lease is already lost.
            q.complete(id, "old") shouldBe AckResult.LEASE_LOST
            q.sweep()
            clock.advance(2.seconds)
            q.claim("new", leaseTtl = 10.seconds).single().id shouldBe id
            q.complete(id, "old") shouldBe AckResult.LEASE_LOST
            q.fail(id, "old", "boom") shouldBe AckResult.LEASE_LOST
            q.release(id, "old") shouldBe AckResult.LEASE_LOST
            val task = q.get(id)!!
            task.state shouldBe TaskState.LEASED
            task.leaseOwner shouldBe "new"
            q.complete(id, "new") shouldBe AckResult.COMPLETED
        }
    }

    test("an ack for a missing task says so") {
        withTasks(config) { q -> q.complete(TaskId(404), "w") shouldBe AckResult.NOT_FOUND }
    }

    test("release hands a task back without counting the attempt") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("w")
            q.release(id, "w") shouldBe AckResult.RELEASED
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 0
            q.claim("w2").single().id shouldBe id
        }
    }

    test("cancel stops a queued task from being claimed") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            q.cancel(id) shouldBe true
            q.get(id)!!.state shouldBe TaskState.CANCELLED
            q.claim("w").shouldBeEmpty()
            q.cancel(id) shouldBe false
        }
    }

    test("cancelling a leased task is observable by its worker") {
        withTasks(config) { q ->
            val id = q.enqueue("job", payload(1))
            val other = q.enqueue("job", payload(2))
            q.claim("w", limit = 2)
            q.cancel(id) shouldBe true
            q.heartbeat("w") shouldBe setOf(other)
            q.complete(id, "w") shouldBe AckResult.CANCELLED
            q.get(id)!!.state shouldBe TaskState.CANCELLED
        }
    }

    test("unregistering a worker releases its tasks") {
        withTasks(config) { q ->
            repeat(3) { q.enqueue("job", payload(it)) }
            q.claim("w", limit = 3)
            q.unregisterWorker("w") shouldBe 3
            q.workers().shouldBeEmpty()
            q.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks.map { it.attempts } shouldBe listOf(0, 0, 0)
        }
    }
})
