package dev.spool.tasks

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlin.random.Random
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/**
 * Random sequences of enqueue, claim, heartbeat, complete, fail, release, cancel, sweep and clock
 * moves, run against a TaskQueue and against a small in-memory model of the documented rules.
 * After every step the results and every task's state, attempts, owner and runAfter must agree.
 */
class TaskModelSpec : FunSpec({
    class ModelTask(val id: Long, val priority: Int, val maxAttempts: Int) {
        var state = TaskState.QUEUED
        var attempts = 0
        var runAfter = 0L
        var owner: String? = null
        var expires = 0L
        var token = 0L
        fun view() = listOf(state, attempts, owner, runAfter)
    }

    val ttl = 10_000L
    val policy = RetryPolicy(base = 1.seconds, factor = 2.0, max = 8.seconds, jitter = 0.0)

    test("the queue agrees with the model over random operation sequences") {
        for (seed in 1..25) {
            val random = Random(seed)
            val clock = MutableClock()
            val model = LinkedHashMap<Long, ModelTask>()
            val registered = HashSet<String>()
            val issued = ArrayList<TaskLease>()
            withTasks(TaskQueueConfig(clock = clock, retryPolicy = policy, staleWorkerTimeout = 100.hours)) { q ->
                fun now() = clock.millis()
                fun worker() = if (random.nextBoolean()) "a" else "b"
                fun refusal(t: ModelTask?, lease: TaskLease): AckResult? = when {
                    t == null -> AckResult.NOT_FOUND
                    t.state == TaskState.CANCELLED -> AckResult.CANCELLED
                    t.state != TaskState.LEASED || t.owner != lease.workerId || t.token != lease.token || t.expires <= now() ->
                        AckResult.LEASE_LOST
                    else -> null
                }
                // Acks use a lease ever issued (current or stale), or one for a task that does not exist.
                fun someLease(): TaskLease =
                    if (issued.isEmpty() || random.nextInt(10) == 0) TaskLease(TaskId(999), worker(), 1) else issued.random(random)
                fun failModel(t: ModelTask, retryable: Boolean): AckResult {
                    t.owner = null
                    return if (retryable && t.attempts < t.maxAttempts) {
                        t.state = TaskState.QUEUED
                        t.runAfter = now() + policy.nominalDelay(t.attempts).inWholeMilliseconds
                        AckResult.RETRY_SCHEDULED
                    } else {
                        t.state = TaskState.DEAD_LETTER
                        AckResult.DEAD_LETTERED
                    }
                }
                repeat(80) { step ->
                    val worker = worker()
                    val someId = if (model.isEmpty() || random.nextInt(10) == 0) 999L else model.keys.random(random)
                    when (random.nextInt(10)) {
                        0, 1 -> {
                            val priority = random.nextInt(4)
                            val max = random.nextInt(1, 4)
                            val id = q.enqueue("job", payload(step), priority = priority, maxAttempts = max).value
                            model[id] = ModelTask(id, priority, max).also { it.runAfter = now() }
                        }
                        2 -> {
                            val limit = random.nextInt(1, 4)
                            registered += worker
                            val expected = model.values
                                .filter { it.state == TaskState.QUEUED && it.runAfter <= now() }
                                .sortedWith(compareBy<ModelTask> { it.priority }.thenBy { it.id })
                                .take(limit)
                            expected.forEach {
                                it.state = TaskState.LEASED
                                it.attempts++
                                it.owner = worker
                                it.expires = now() + ttl
                                it.token++
                            }
                            val claimed = q.claim(worker, limit = limit, leaseTtl = ttl.milliseconds)
                            claimed.map { it.id.value } shouldBe expected.map { it.id }
                            claimed.map { it.lease } shouldBe expected.map { TaskLease(TaskId(it.id), worker, it.token) }
                            issued += claimed.map { it.lease!! }
                        }
                        3 -> {
                            val passed = issued.filter { it.workerId == worker && random.nextInt(4) != 0 }
                            val held = if (worker !in registered) emptySet() else passed.filter { lease ->
                                val t = model.getValue(lease.taskId.value)
                                (t.state == TaskState.LEASED && t.owner == worker && t.token == lease.token && t.expires > now())
                                    .also { valid -> if (valid) t.expires = maxOf(t.expires, now() + ttl) }
                            }.toSet()
                            q.heartbeat(worker, passed) shouldBe held
                        }
                        4 -> {
                            val lease = someLease()
                            val t = model[lease.taskId.value]
                            val expected = refusal(t, lease) ?: AckResult.COMPLETED.also { t!!.state = TaskState.SUCCEEDED; t.owner = null }
                            q.complete(lease) shouldBe expected
                        }
                        5 -> {
                            val lease = someLease()
                            val t = model[lease.taskId.value]
                            val retryable = random.nextInt(4) != 0
                            val expected = refusal(t, lease) ?: failModel(t!!, retryable)
                            q.fail(lease, "e$step", retryable) shouldBe expected
                        }
                        6 -> {
                            val lease = someLease()
                            val t = model[lease.taskId.value]
                            val expected = refusal(t, lease) ?: AckResult.RELEASED.also {
                                t!!.state = TaskState.QUEUED
                                t.attempts--
                                t.owner = null
                                t.runAfter = now()
                            }
                            q.release(lease) shouldBe expected
                        }
                        7 -> {
                            val t = model[someId]
                            val expected = t != null && (t.state == TaskState.QUEUED || t.state == TaskState.LEASED)
                            if (expected) {
                                t!!.state = TaskState.CANCELLED
                                t.owner = null
                            }
                            q.cancel(TaskId(someId)) shouldBe expected
                        }
                        8 -> clock.advance(random.nextLong(0, 15_000).milliseconds)
                        9 -> {
                            var requeued = 0
                            var dead = 0
                            model.values.filter { it.state == TaskState.LEASED && it.expires <= now() }.forEach {
                                if (failModel(it, retryable = true) == AckResult.DEAD_LETTERED) dead++ else requeued++
                            }
                            q.sweep() shouldBe SweepResult(requeued, dead, 0)
                        }
                    }
                    val actual = q.list(TaskFilter(limit = 1000)).tasks.associate {
                        it.id.value to listOf(it.state, it.attempts, it.leaseOwner, it.runAfter.toEpochMilli())
                    }
                    actual shouldBe model.mapValues { it.value.view() }
                }
            }
        }
    }
})
