package dev.spool.tasks

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import dev.spool.storage.QueueStorageException
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.withContext
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicInteger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

/** Waits (polling, bounded) until [condition] holds: for background work, never a timing assertion. */
suspend fun eventually(condition: suspend () -> Boolean) {
    withTimeout(20.seconds) { while (!condition()) delay(5.milliseconds) }
}

fun fastWorker(id: String = "w", leaseTtl: Duration = 5.seconds, grace: Duration = 5.seconds) = TaskWorkerConfig(
    workerId = id,
    leaseTtl = leaseTtl,
    heartbeatInterval = 20.milliseconds,
    pollInterval = 20.milliseconds,
    sweepInterval = 20.milliseconds,
    stopGracePeriod = grace,
)

class TaskWorkerSpec : FunSpec({
    val instant = TaskQueueConfig(retryPolicy = RetryPolicy(base = Duration.ZERO, max = Duration.ZERO, jitter = 0.0))

    test("runs every task once with at most `concurrency` handlers at a time") {
        withTasks { q ->
            val ids = (1..60).map { q.enqueue("job", payload(it)) }
            val runs = ConcurrentHashMap<TaskId, AtomicInteger>()
            val running = AtomicInteger()
            val peak = AtomicInteger()
            val handler = TaskHandler { task ->
                peak.accumulateAndGet(running.incrementAndGet(), ::maxOf)
                runs.computeIfAbsent(task.id) { AtomicInteger() }.incrementAndGet()
                yield()
                running.decrementAndGet()
            }
            TaskWorker(q, mapOf("job" to handler), concurrency = 4, config = fastWorker()).start().use {
                eventually { q.stats().count(TaskState.SUCCEEDED) == 60 }
            }
            runs.keys shouldBe ids.toSet()
            runs.values.all { it.get() == 1 } shouldBe true
            peak.get() shouldBeLessThanOrEqual 4
        }
    }

    test("claims in batches no larger than its free slots") {
        withTasks { q ->
            repeat(10) { q.enqueue("job", payload(it)) }
            val gate = CompletableDeferred<Unit>()
            TaskWorker(q, mapOf("job" to TaskHandler { gate.await() }), concurrency = 3, config = fastWorker()).start().use { worker ->
                eventually { worker.running == 3 }
                delay(100.milliseconds) // several poll rounds with no free slot
                q.stats().count(TaskState.LEASED) shouldBe 3
                gate.complete(Unit)
                eventually { q.stats().count(TaskState.SUCCEEDED) == 10 }
            }
        }
    }

    test("a handler exception fails the task, which retries and then dead-letters with the error") {
        withTasks(instant) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 3)
            val calls = AtomicInteger()
            val handler = TaskHandler { calls.incrementAndGet(); error("disk full") }
            TaskWorker(q, mapOf("job" to handler), config = fastWorker()).start().use {
                eventually { q.get(id)!!.state == TaskState.DEAD_LETTER }
            }
            calls.get() shouldBe 3
            q.get(id)!!.lastError!! shouldContain "disk full"
        }
    }

    test("a PermanentTaskFailure dead-letters at once") {
        withTasks(instant) { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 5)
            TaskWorker(q, mapOf("job" to TaskHandler { throw PermanentTaskFailure("bad payload") }), config = fastWorker()).start().use {
                eventually { q.get(id)!!.state == TaskState.DEAD_LETTER }
            }
            q.get(id)!!.attempts shouldBe 1
        }
    }

    test("a task type with no handler is never claimed, so never failed") {
        withTasks { q ->
            val unknown = q.enqueue("unknown", payload(1))
            val known = q.enqueue("known", payload(2))
            TaskWorker(q, mapOf("known" to TaskHandler { }), config = fastWorker()).start().use {
                eventually { q.get(known)!!.state == TaskState.SUCCEEDED }
                delay(60.milliseconds)
            }
            val task = q.get(unknown)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 0
            q.taskLog(unknown).size shouldBe 1
        }
    }

    test("cancelling a running task cancels its handler") {
        withTasks { q ->
            val id = q.enqueue("job", payload(1))
            val started = CompletableDeferred<Unit>()
            val cancelled = CompletableDeferred<Unit>()
            val handler = TaskHandler {
                started.complete(Unit)
                try { awaitCancellation() } finally { cancelled.complete(Unit) }
            }
            TaskWorker(q, mapOf("job" to handler), config = fastWorker()).start().use {
                started.await()
                q.cancel(id) shouldBe true
                withTimeout(10.seconds) { cancelled.await() }
            }
            q.get(id)!!.state shouldBe TaskState.CANCELLED
        }
    }

    test("a task cancelled from another process is noticed by the heartbeat") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { q ->
            TaskQueue.open(path).use { other ->
                val id = q.enqueue("job", payload(1))
                val started = CompletableDeferred<Unit>()
                val cancelled = CompletableDeferred<Unit>()
                val handler = TaskHandler {
                    started.complete(Unit)
                    try { awaitCancellation() } finally { cancelled.complete(Unit) }
                }
                TaskWorker(q, mapOf("job" to handler), config = fastWorker()).start().use {
                    started.await()
                    other.cancel(id) shouldBe true // not seen by q's transitions flow
                    withTimeout(10.seconds) { cancelled.await() }
                }
            }
        }
    }

    test("heartbeats keep a long task's lease alive by the configured TTL") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock)) { q ->
            val id = q.enqueue("job", payload(1))
            val gate = CompletableDeferred<Unit>()
            TaskWorker(q, mapOf("job" to TaskHandler { gate.await() }), config = fastWorker(leaseTtl = 10.seconds)).start().use {
                eventually { q.get(id)!!.state == TaskState.LEASED }
                val claimedAt = clock.now
                q.get(id)!!.leaseExpiresAt shouldBe claimedAt.plusSeconds(10)
                repeat(3) {
                    clock.advance(8.seconds)
                    eventually { q.get(id)!!.leaseExpiresAt == clock.now.plusSeconds(10) }
                }
                q.sweep().requeued shouldBe 0
                gate.complete(Unit)
                eventually { q.get(id)!!.state == TaskState.SUCCEEDED }
            }
        }
    }

    test("the worker sweeps a dead worker's expired lease and runs the task") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = Duration.ZERO, max = Duration.ZERO))) { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("dead", leaseTtl = 1.seconds)
            clock.advance(2.seconds)
            TaskWorker(q, mapOf("job" to TaskHandler { }), config = fastWorker()).start().use {
                eventually { q.get(id)!!.state == TaskState.SUCCEEDED }
            }
            q.get(id)!!.attempts shouldBe 2
        }
    }

    test("stop lets running handlers finish within the grace period") {
        withTasks { q ->
            val id = q.enqueue("job", payload(1))
            val started = CompletableDeferred<Unit>()
            val worker = TaskWorker(q, mapOf("job" to TaskHandler { started.complete(Unit); delay(50.milliseconds) }), config = fastWorker()).start()
            started.await()
            worker.stop()
            q.get(id)!!.state shouldBe TaskState.SUCCEEDED
            q.workers().none { it.workerId == "w" } shouldBe true
            worker.stop()
        }
    }

    test("stop releases tasks still running after the grace period, without counting the attempt") {
        withTasks { q ->
            val id = q.enqueue("job", payload(1))
            val started = CompletableDeferred<Unit>()
            val worker = TaskWorker(q, mapOf("job" to TaskHandler { started.complete(Unit); awaitCancellation() }), config = fastWorker(grace = 50.milliseconds)).start()
            started.await()
            worker.stop()
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 0
        }
    }

    test("a limiter bounds handlers per key across the worker's slots") {
        withTasks { q ->
            repeat(30) { q.enqueue("download", """{"host":"h${it % 2}"}""") }
            val perHost = ConcurrentHashMap<String, AtomicInteger>()
            val peak = ConcurrentHashMap<String, AtomicInteger>()
            val handler = TaskHandler { task ->
                val host = task.payload.substringAfter("\"host\":\"").substringBefore('"')
                val now = perHost.computeIfAbsent(host) { AtomicInteger() }.incrementAndGet()
                peak.computeIfAbsent(host) { AtomicInteger() }.accumulateAndGet(now, ::maxOf)
                delay(2.milliseconds)
                perHost.getValue(host).decrementAndGet()
            }
            val limiter = KeyedLimiter(defaultLimit = 2)
            val worker = TaskWorker(
                q, mapOf("download" to handler), concurrency = 8, limiter = limiter, config = fastWorker(),
                limitKey = { it.payload.substringAfter("\"host\":\"").substringBefore('"') },
            )
            worker.start().use { eventually { q.stats().count(TaskState.SUCCEEDED) == 30 } }
            peak.values.maxOf { it.get() } shouldBeLessThanOrEqual 2
        }
    }

    test("bad worker, limiter and queue settings are refused naming the field") {
        withTasks { q ->
            shouldThrow<IllegalArgumentException> { TaskWorker(q, emptyMap()) }.message shouldContain "handlers"
            shouldThrow<IllegalArgumentException> { TaskWorker(q, mapOf("job" to TaskHandler { }), concurrency = 0) }.message shouldContain "concurrency"
        }
        shouldThrow<IllegalArgumentException> { TaskWorkerConfig(leaseTtl = 1.seconds, heartbeatInterval = 2.seconds) }.message shouldContain "heartbeatInterval"
        shouldThrow<IllegalArgumentException> { KeyedLimiter(defaultLimit = 0) }.message shouldContain "defaultLimit"
        shouldThrow<IllegalArgumentException> { KeyedLimiter(1, limits = mapOf("h" to 0)) }.message shouldContain "limits[h]"
        shouldThrow<IllegalArgumentException> { TaskQueueConfig(maxBatchSize = 0) }.message shouldContain "maxBatchSize"
        shouldThrow<IllegalArgumentException> { TaskFilter(limit = 0) }.message shouldContain "limit"
    }

    test("a task whose lease was lost and that this worker claims again never runs two handlers at once, and running stays exact") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = Duration.ZERO, max = Duration.ZERO, jitter = 0.0))) { q ->
            val id = q.enqueue("job", payload(1))
            val active = AtomicInteger()
            val peak = AtomicInteger()
            val firstStarted = CompletableDeferred<Unit>()
            val firstMayStop = CompletableDeferred<Unit>()
            val secondStarted = CompletableDeferred<Unit>()
            val secondMayFinish = CompletableDeferred<Unit>()
            val handler = TaskHandler { task ->
                peak.accumulateAndGet(active.incrementAndGet(), ::maxOf)
                try {
                    if (task.attempts == 1) {
                        firstStarted.complete(Unit)
                        try { awaitCancellation() } finally { withContext(NonCancellable) { firstMayStop.await() } }
                    } else {
                        secondStarted.complete(Unit)
                        secondMayFinish.await()
                    }
                } finally {
                    active.decrementAndGet()
                }
            }
            val worker = TaskWorker(q, mapOf("job" to handler), concurrency = 2, config = fastWorker(leaseTtl = 10.seconds)).start()
            worker.use {
                firstStarted.await()
                worker.running shouldBe 1
                // The lease expires (a late heartbeat, say); the sweep requeues it and this worker claims it again.
                clock.advance(11.seconds)
                eventually { q.get(id)!!.attempts == 2 && q.get(id)!!.state == TaskState.LEASED }
                // The first attempt's handler is still stopping: the second waits for it.
                eventually { worker.running == 2 }
                secondStarted.isCompleted shouldBe false
                firstMayStop.complete(Unit)
                secondStarted.await()
                eventually { worker.running == 1 }
                secondMayFinish.complete(Unit)
                eventually { q.get(id)!!.state == TaskState.SUCCEEDED && worker.running == 0 }
            }
            peak.get() shouldBe 1
            q.get(id)!!.attempts shouldBe 2
        }
    }

    test("an ack that fails is retried while the lease is valid") {
        withTasks { q ->
            val id = q.enqueue("job", payload(1))
            val flaky = FlakyAcks(q, failures = 2)
            TaskWorker(flaky, mapOf("job" to TaskHandler { }), config = fastWorker()).start().use {
                eventually { q.get(id)!!.state == TaskState.SUCCEEDED }
            }
            flaky.failed.get() shouldBe 2
            q.get(id)!!.attempts shouldBe 1
        }
    }

    test("a task whose ack cannot be recorded is not stranded: its lease is left to expire and the task is retried") {
        val clock = MutableClock()
        withTasks(TaskQueueConfig(clock = clock, retryPolicy = RetryPolicy(base = Duration.ZERO, max = Duration.ZERO, jitter = 0.0))) { q ->
            val id = q.enqueue("job", payload(1))
            // Every ack of the first attempt fails (disk full, say); the second attempt's succeeds.
            val flaky = FlakyAcks(q, failures = Int.MAX_VALUE, onlyToken = 1)
            TaskWorker(flaky, mapOf("job" to TaskHandler { }), config = fastWorker(leaseTtl = 10.seconds)).start().use {
                eventually { flaky.failed.get() >= 1 }
                // Heartbeats go on, but no longer extend the finished handler's lease.
                val expires = q.get(id)!!.leaseExpiresAt!!
                clock.advance(5.seconds)
                delay(100.milliseconds) // several heartbeats (20 ms apart) happen meanwhile
                q.get(id)!!.leaseExpiresAt shouldBe expires
                clock.advance(6.seconds)
                eventually { q.get(id)!!.state == TaskState.SUCCEEDED }
            }
            q.get(id)!!.attempts shouldBe 2
            q.taskLog(id).mapNotNull { it.error }.single() shouldContain "lease expired"
        }
    }
})

/** A queue whose acks of some leases fail with a storage error, [failures] times. */
class FlakyAcks(private val inner: TaskQueue, private var failures: Int, private val onlyToken: Long? = null) : TaskQueue by inner {
    val failed = AtomicInteger()

    private fun maybeFail(lease: TaskLease) {
        if ((onlyToken == null || lease.token == onlyToken) && failures > 0) {
            failures--
            failed.incrementAndGet()
            throw QueueStorageException("database or disk is full")
        }
    }

    override suspend fun complete(lease: TaskLease): AckResult {
        maybeFail(lease)
        return inner.complete(lease)
    }

    override suspend fun fail(lease: TaskLease, error: String, retryable: Boolean): AckResult {
        maybeFail(lease)
        return inner.fail(lease, error, retryable)
    }
}
