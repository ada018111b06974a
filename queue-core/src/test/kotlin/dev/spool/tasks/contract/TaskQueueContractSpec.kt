package dev.spool.tasks.contract

import dev.spool.tasks.AckResult
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.MutableClock
import dev.spool.tasks.Recurrence
import dev.spool.tasks.RetryPolicy
import dev.spool.tasks.SweepResult
import dev.spool.tasks.Task
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskLease
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import dev.spool.tasks.UniquePolicy
import dev.spool.tasks.payload
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.nulls.shouldNotBeNull
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.transformWhile
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import java.time.Instant
import java.time.ZoneOffset
import kotlin.time.Duration
import kotlin.time.Duration.Companion.hours
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * Every documented behaviour of [TaskQueue], run against one implementation: subclass it with a
 * [TaskQueueFactory] (SQLDelight's `DriverTest` pattern). It uses only the public API and a
 * controllable clock, never the storage underneath.
 */
abstract class TaskQueueContractSpec(factory: TaskQueueFactory) : FunSpec({
    val clock = MutableClock()
    val config = TaskQueueConfig(
        clock = clock,
        retryPolicy = RetryPolicy(base = 1.seconds, factor = 2.0, max = 10.seconds, jitter = 0.0),
        staleWorkerTimeout = 1.minutes,
        observeInterval = 20.milliseconds,
    )

    beforeTest { clock.now = Instant.parse("2026-01-01T00:00:00Z") }

    suspend fun <T> tasks(cfg: TaskQueueConfig = config, block: suspend (TaskQueue) -> T): T =
        factory.open(cfg).use { block(it) }

    suspend fun TaskQueue.claimOne(worker: String = "w", ttl: Duration = 10.seconds): Task =
        claim(worker, leaseTtl = ttl).single()

    // ---- enqueue and bad input ----

    test("enqueue stores a queued task with its fields") {
        tasks { q ->
            val id = q.enqueue("render", payload(1), priority = 7, maxAttempts = 3, requires = setOf("gpu"))
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.type shouldBe "render"
            task.payload shouldBe payload(1)
            task.priority shouldBe 7
            task.maxAttempts shouldBe 3
            task.attempts shouldBe 0
            task.requires shouldBe setOf("gpu")
            task.runAfter shouldBe clock.now
            task.createdAt shouldBe clock.now
            task.lease shouldBe null
        }
    }

    test("bad input is refused with an IllegalArgumentException naming the field, and nothing is written") {
        tasks { q ->
            shouldThrow<IllegalArgumentException> { q.enqueue(" ", payload(1)) }.message shouldContain "type"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", "{not json") }.message shouldContain "payload"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), priority = -1) }.message shouldContain "priority"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), maxAttempts = 0) }.message shouldContain "maxAttempts"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), idempotencyKey = "") }.message shouldContain "idempotencyKey"
            shouldThrow<IllegalArgumentException> { q.enqueue("t", payload(1), requires = setOf("")) }.message shouldContain "requires"
            shouldThrow<IllegalArgumentException> { q.claim("w", limit = 0) }.message shouldContain "limit"
            shouldThrow<IllegalArgumentException> { q.claim("", limit = 1) }.message shouldContain "workerId"
            shouldThrow<IllegalArgumentException> { q.claim("w", leaseTtl = 0.seconds) }.message shouldContain "leaseTtl"
            shouldThrow<IllegalArgumentException> { q.claim("w", types = emptySet()) }.message shouldContain "types"
            shouldThrow<IllegalArgumentException> { q.schedule(" ", "t", payload(1), Recurrence.Every(1.minutes)) }.message shouldContain "name"
            shouldThrow<IllegalArgumentException> { Recurrence.Cron("not a cron") }.message shouldContain "cron"
            shouldThrow<IllegalArgumentException> { Recurrence.Every(10.milliseconds) }.message shouldContain "every"
            q.list().tasks.shouldBeEmpty()
            q.schedules().shouldBeEmpty()
        }
    }

    // ---- claims ----

    test("claim returns exactly the tasks it leased, each with its own lease, and never hands one out twice") {
        tasks { q ->
            val ids = (1..5).map { q.enqueue("job", payload(it)) }
            val first = q.claim("w1", limit = 3, strategy = ClaimStrategy.FIFO)
            first.map { it.id } shouldContainExactly ids.take(3)
            first.forEach {
                it.state shouldBe TaskState.LEASED
                it.leaseOwner shouldBe "w1"
                it.attempts shouldBe 1
                it.lease shouldBe TaskLease(it.id, "w1", it.lease!!.token)
            }
            val second = q.claim("w1", limit = 3, strategy = ClaimStrategy.FIFO)
            second.map { it.id } shouldContainExactly ids.drop(3)
            q.claim("w1", limit = 3).shouldBeEmpty()
            q.get(ids[0])!!.lease shouldBe first[0].lease
        }
    }

    test("FIFO, LIFO and PRIORITY order the claimed tasks, typed or untyped") {
        for (types in listOf(null, setOf("job"))) {
            tasks { q ->
                val a = q.enqueue("job", payload(1), priority = 5)
                val b = q.enqueue("job", payload(2), priority = 1)
                val c = q.enqueue("job", payload(3), priority = 5)
                val d = q.enqueue("job", payload(4), priority = 1)
                q.claim("w", limit = 2, strategy = ClaimStrategy.FIFO, types = types).map { it.id } shouldContainExactly listOf(a, b)
                q.unregisterWorker("w") shouldBe 2
                q.claim("w", limit = 2, strategy = ClaimStrategy.LIFO, types = types).map { it.id } shouldContainExactly listOf(d, c)
                q.unregisterWorker("w") shouldBe 2
                q.claim("w", limit = 4, strategy = ClaimStrategy.PRIORITY, types = types).map { it.id } shouldContainExactly listOf(b, d, a, c)
            }
        }
    }

    test("WEIGHTED_RANDOM claims every eligible task, each once") {
        tasks { q ->
            val ids = (1..20).map { q.enqueue("job", payload(it), priority = it * 10) }
            val claimed = buildList {
                while (true) {
                    val batch = q.claim("w", limit = 3, strategy = ClaimStrategy.WEIGHTED_RANDOM)
                    if (batch.isEmpty()) break
                    addAll(batch.map { it.id })
                }
            }
            claimed shouldHaveSize 20
            claimed.toSet() shouldBe ids.toSet()
        }
    }

    test("claim skips tasks whose runAfter has not passed, to the millisecond") {
        tasks { q ->
            val later = q.enqueue("job", payload(1), runAfter = clock.now.plusSeconds(60))
            val now = q.enqueue("job", payload(2))
            q.claim("w", limit = 10).map { it.id } shouldContainExactly listOf(now)
            clock.advance(60.seconds - 1.milliseconds)
            q.claim("w", limit = 10).shouldBeEmpty()
            clock.advance(1.milliseconds)
            q.claim("w", limit = 10).map { it.id } shouldContainExactly listOf(later)
        }
    }

    test("claim takes only tasks whose requires are a subset of the capabilities") {
        tasks { q ->
            val none = q.enqueue("job", payload(1))
            val gpu = q.enqueue("job", payload(2), requires = setOf("gpu"))
            val both = q.enqueue("job", payload(3), requires = setOf("gpu", "ssd"))
            q.claim("cpu-only", capabilities = emptySet(), limit = 10).map { it.id } shouldContainExactly listOf(none)
            q.claim("gpu-box", capabilities = setOf("gpu", "net"), limit = 10).map { it.id } shouldContainExactly listOf(gpu)
            q.claim("full", capabilities = setOf("ssd", "gpu"), limit = 10).map { it.id } shouldContainExactly listOf(both)
        }
    }

    test("claim takes only the given types, leaving others queued and uncounted") {
        tasks { q ->
            val known = q.enqueue("known", payload(1))
            val unknown = q.enqueue("unknown", payload(2))
            q.claim("w", limit = 10, types = setOf("known")).map { it.id } shouldContainExactly listOf(known)
            q.get(unknown)!!.state shouldBe TaskState.QUEUED
            q.get(unknown)!!.attempts shouldBe 0
        }
    }

    test("concurrent batch claims from two queue objects on one store split the tasks without overlap") {
        val pair = factory.openTwo(config) ?: return@test
        pair.first.use { a ->
            pair.second.use { b ->
                val ids = (1..200).map { a.enqueue("job", payload(it)) }
                val claimed = coroutineScope {
                    listOf(a to "wa", b to "wb", a to "wc", b to "wd").map { (q, worker) ->
                        async(Dispatchers.Default) {
                            buildList {
                                while (true) {
                                    val batch = q.claim(worker, limit = 7, strategy = ClaimStrategy.WEIGHTED_RANDOM)
                                    if (batch.isEmpty()) break
                                    batch.forEach { add(it.id) }
                                }
                            }
                        }
                    }.awaitAll().flatten()
                }
                claimed shouldHaveSize 200
                claimed.toSet() shouldBe ids.toSet()
            }
        }
    }

    // ---- acknowledgements and fencing ----

    test("complete with the current lease succeeds once") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val lease = q.claimOne().lease!!
            q.complete(lease) shouldBe AckResult.COMPLETED
            q.get(id)!!.state shouldBe TaskState.SUCCEEDED
            q.get(id)!!.lease shouldBe null
            q.complete(lease) shouldBe AckResult.LEASE_LOST
        }
    }

    test("an ack from an earlier attempt of the same worker is refused after the task was claimed again") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val first = q.claim("w", leaseTtl = 10.seconds).single()
            clock.advance(11.seconds)
            q.sweep().requeued shouldBe 1
            clock.advance(1.seconds) // the backoff after attempt 1
            val second = q.claim("w", leaseTtl = 10.seconds).single()
            second.id shouldBe id
            second.attempts shouldBe 2
            second.lease shouldNotBe first.lease
            q.complete(first.lease!!) shouldBe AckResult.LEASE_LOST
            q.fail(first.lease!!, "late") shouldBe AckResult.LEASE_LOST
            q.release(first.lease!!) shouldBe AckResult.LEASE_LOST
            q.renew(first.lease!!, 1.hours) shouldBe AckResult.LEASE_LOST
            q.get(id)!!.state shouldBe TaskState.LEASED
            q.complete(second.lease!!) shouldBe AckResult.COMPLETED
        }
    }

    test("a released task claimed again by the same worker gets a new lease; the old one is refused") {
        tasks { q ->
            q.enqueue("job", payload(1))
            val first = q.claimOne().lease!!
            q.release(first) shouldBe AckResult.RELEASED
            val second = q.claimOne().lease!!
            second.token shouldNotBe first.token
            q.complete(first) shouldBe AckResult.LEASE_LOST
            q.complete(second) shouldBe AckResult.COMPLETED
        }
    }

    test("an expired lease is refused before the sweep, and another worker's ack is refused") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val old = q.claim("old", leaseTtl = 10.seconds).single().lease!!
            clock.advance(10.seconds)
            q.complete(old) shouldBe AckResult.LEASE_LOST
            q.sweep()
            clock.advance(2.seconds)
            val current = q.claim("new", leaseTtl = 10.seconds).single().lease!!
            q.complete(TaskLease(id, "old", current.token)) shouldBe AckResult.LEASE_LOST
            q.get(id)!!.leaseOwner shouldBe "new"
            q.complete(current) shouldBe AckResult.COMPLETED
        }
    }

    test("an ack for a missing task says so; one for a cancelled task says cancelled") {
        tasks { q ->
            q.complete(TaskLease(TaskId(404), "w", 1)) shouldBe AckResult.NOT_FOUND
            val id = q.enqueue("job", payload(1))
            val lease = q.claimOne().lease!!
            q.cancel(id) shouldBe true
            q.complete(lease) shouldBe AckResult.CANCELLED
            q.heartbeat("w", listOf(lease)).shouldBeEmpty()
        }
    }

    test("failures back off exponentially up to the max, then dead-letter with the last error") {
        tasks { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 6)
            val waits = mutableListOf<Long>()
            repeat(5) { attempt ->
                val task = q.claimOne()
                task.attempts shouldBe attempt + 1
                q.fail(task.lease!!, "error ${attempt + 1}") shouldBe AckResult.RETRY_SCHEDULED
                val queued = q.get(id)!!
                queued.state shouldBe TaskState.QUEUED
                waits += queued.runAfter.toEpochMilli() - clock.millis()
                clock.advance((waits.last() - 1).milliseconds)
                q.claim("w").shouldBeEmpty()
                clock.advance(1.milliseconds)
            }
            waits shouldBe listOf(1000L, 2000L, 4000L, 8000L, 10000L)
            val last = q.claimOne()
            last.attempts shouldBe 6
            q.fail(last.lease!!, "final error") shouldBe AckResult.DEAD_LETTERED
            q.get(id)!!.state shouldBe TaskState.DEAD_LETTER
            q.get(id)!!.lastError shouldBe "final error"
            clock.advance(1000.seconds)
            q.claim("w").shouldBeEmpty()
        }
    }

    test("a policy per task type overrides the queue's policy") {
        val cfg = TaskQueueConfig(
            clock = clock,
            retryPolicy = RetryPolicy(base = 1.seconds, jitter = 0.0),
            retryPolicies = mapOf("slow" to RetryPolicy(base = 30.seconds, jitter = 0.0)),
        )
        tasks(cfg) { q ->
            val fast = q.enqueue("fast", payload(1))
            val slow = q.enqueue("slow", payload(2))
            q.claim("w", limit = 2).forEach { q.fail(it.lease!!, "x") }
            q.get(fast)!!.runAfter shouldBe clock.now.plusSeconds(1)
            q.get(slow)!!.runAfter shouldBe clock.now.plusSeconds(30)
        }
    }

    test("a failure that is not retryable dead-letters at once") {
        tasks { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 5)
            q.fail(q.claimOne().lease!!, "bad input", retryable = false) shouldBe AckResult.DEAD_LETTERED
            q.get(id)!!.state shouldBe TaskState.DEAD_LETTER
            q.get(id)!!.lastError shouldBe "bad input"
        }
    }

    test("release hands a valid lease back without counting the attempt") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            q.release(q.claimOne().lease!!) shouldBe AckResult.RELEASED
            q.get(id)!!.state shouldBe TaskState.QUEUED
            q.get(id)!!.attempts shouldBe 0
            q.claim("w2").single().id shouldBe id
        }
    }

    test("release of an expired lease is refused and the sweep counts the attempt") {
        tasks { q ->
            val id = q.enqueue("job", payload(1), maxAttempts = 1)
            val lease = q.claimOne(ttl = 10.seconds).lease!!
            clock.advance(10.seconds)
            q.release(lease) shouldBe AckResult.LEASE_LOST
            q.sweep().deadLettered shouldBe 1
            q.get(id)!!.state shouldBe TaskState.DEAD_LETTER
        }
    }

    // ---- heartbeats, renewals, sweep, workers ----

    test("heartbeat extends the leases passed by the TTL the worker claimed with, and only those") {
        tasks { q ->
            q.enqueue("job", payload(1))
            q.enqueue("job", payload(2))
            val (a, b) = q.claim("w", limit = 2, leaseTtl = 7.seconds).map { it.lease!! }
            clock.advance(5.seconds)
            q.heartbeat("w", listOf(a)) shouldBe setOf(a)
            q.get(a.taskId)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(7)
            q.get(b.taskId)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(2)
            clock.advance(2.seconds)
            q.heartbeat("w", listOf(a, b)) shouldBe setOf(a)
        }
    }

    test("a heartbeat never shortens a longer renewal") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val lease = q.claimOne(ttl = 10.seconds).lease!!
            q.renew(lease, 1.hours) shouldBe AckResult.RENEWED
            q.get(id)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(3600)
            clock.advance(1.seconds)
            q.heartbeat("w", listOf(lease)) shouldBe setOf(lease)
            q.get(id)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(3599)
        }
    }

    test("renew extends a valid lease and refuses an expired one") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val lease = q.claimOne(ttl = 10.seconds).lease!!
            q.renew(lease, 60.seconds) shouldBe AckResult.RENEWED
            q.get(id)!!.leaseExpiresAt shouldBe clock.now.plusSeconds(60)
            clock.advance(60.seconds)
            q.renew(lease, 60.seconds) shouldBe AckResult.LEASE_LOST
            shouldThrow<IllegalArgumentException> { q.renew(lease, Duration.ZERO) }.message shouldContain "ttl"
        }
    }

    test("heartbeat of an unknown worker holds nothing, and leases of another worker are refused") {
        tasks { q ->
            q.heartbeat("ghost", emptyList()).shouldBeEmpty()
            shouldThrow<IllegalArgumentException> { q.heartbeat("w", listOf(TaskLease(TaskId(1), "other", 1))) }
                .message shouldContain "leases"
        }
    }

    test("the sweeper returns expired leases to the queue and counts the attempt") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            q.claimOne(ttl = 10.seconds)
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

    test("a stale worker is detected, removed and its valid leases reclaimed") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            q.claim("sleepy", capabilities = setOf("gpu"), leaseTtl = 10.minutes)
            q.registerWorker("alive", emptySet(), 30.seconds)
            clock.advance(50.seconds)
            q.heartbeat("alive", emptyList())
            clock.advance(20.seconds)
            q.workers().associate { it.workerId to it.stale } shouldBe mapOf("alive" to false, "sleepy" to true)
            q.workers().single { it.workerId == "sleepy" }.capabilities shouldBe setOf("gpu")
            q.sweep() shouldBe SweepResult(requeued = 1, deadLettered = 0, staleWorkers = 1)
            q.get(id)!!.lastError!! shouldContain "worker stale"
            q.workers().map { it.workerId } shouldContainExactly listOf("alive")
        }
    }

    test("unregistering a worker refunds only its valid leases") {
        tasks { q ->
            val short = q.enqueue("job", payload(1), maxAttempts = 1)
            q.claim("w", leaseTtl = 5.seconds)
            repeat(2) { q.enqueue("job", payload(it + 2)) }
            q.claim("w", limit = 2, leaseTtl = 1.minutes)
            clock.advance(5.seconds)
            q.unregisterWorker("w") shouldBe 2
            q.workers().shouldBeEmpty()
            q.get(short)!!.state shouldBe TaskState.DEAD_LETTER
            q.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks.map { it.attempts } shouldBe listOf(0, 0)
        }
    }

    test("cancel stops a queued task from being claimed and is refused for a final one") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            q.cancel(id) shouldBe true
            q.get(id)!!.state shouldBe TaskState.CANCELLED
            q.claim("w").shouldBeEmpty()
            q.cancel(id) shouldBe false
            q.cancel(TaskId(404)) shouldBe false
        }
    }

    test("requeue puts a dead-lettered task back in the queue with fresh attempts and a new fencing token") {
        tasks { q ->
            val id = q.enqueue("mail", payload(1), maxAttempts = 1)
            val other = q.enqueue("mail", payload(2), priority = 500)
            val first = q.claimOne()
            first.id shouldBe id
            q.fail(first.lease!!, "smtp down") shouldBe AckResult.DEAD_LETTERED
            clock.advance(5.seconds)

            q.requeue(id) shouldBe true
            val task = q.get(id)!!
            task.state shouldBe TaskState.QUEUED
            task.attempts shouldBe 0
            task.runAfter shouldBe clock.now
            task.lastError shouldBe "smtp down"
            q.taskLog(id).last().let { it.from to it.to } shouldBe (TaskState.DEAD_LETTER to TaskState.QUEUED)
            val again = q.claimOne()
            again.id shouldBe id
            again.lease!!.token shouldNotBe first.lease!!.token
            q.complete(first.lease!!) shouldBe AckResult.LEASE_LOST

            q.requeue(id) shouldBe false // leased now
            q.requeue(other) shouldBe false // queued, never dead
            q.requeue(TaskId(9_999)) shouldBe false
        }
    }

    // ---- unique work ----

    test("KEEP returns the existing holder of a key and adds nothing") {
        tasks { q ->
            val first = q.enqueue("download", payload(1), idempotencyKey = "file-42")
            q.enqueue("download", payload(2), idempotencyKey = "file-42") shouldBe first
            q.get(first)!!.payload shouldBe payload(1)
            q.list().tasks shouldHaveSize 1
        }
    }

    test("REPLACE cancels a queued holder and inserts the new task in its place") {
        tasks { q ->
            val old = q.enqueue("sync", payload(1), idempotencyKey = "k")
            val new = q.enqueue("sync", payload(2), idempotencyKey = "k", unique = UniquePolicy.REPLACE)
            new shouldNotBe old
            q.get(old)!!.state shouldBe TaskState.CANCELLED
            q.get(old)!!.idempotencyKey shouldBe null
            q.get(new)!!.payload shouldBe payload(2)
            q.get(new)!!.idempotencyKey shouldBe "k"
        }
    }

    test("REPLACE keeps a running holder: the work never runs twice at once") {
        tasks { q ->
            val running = q.enqueue("sync", payload(1), idempotencyKey = "k")
            q.claimOne()
            q.enqueue("sync", payload(2), idempotencyKey = "k", unique = UniquePolicy.REPLACE) shouldBe running
            q.get(running)!!.state shouldBe TaskState.LEASED
            q.list().tasks shouldHaveSize 1
        }
    }

    test("a finished task holds its key forever by default, and for the window given otherwise") {
        tasks { q ->
            val done = q.enqueue("job", payload(1), idempotencyKey = "k")
            q.complete(q.claimOne().lease!!)
            clock.advance(1000.hours)
            q.enqueue("job", payload(2), idempotencyKey = "k") shouldBe done
            val window = UniquePolicy(finishedHoldsKeyFor = 1.hours)
            clock.advance(1000.hours)
            val fresh = q.enqueue("job", payload(3), idempotencyKey = "other", unique = window)
            q.complete(q.claimOne().lease!!)
            clock.advance(1.hours - 1.milliseconds)
            q.enqueue("job", payload(4), idempotencyKey = "other", unique = window) shouldBe fresh
            clock.advance(1.milliseconds)
            val again = q.enqueue("job", payload(5), idempotencyKey = "other", unique = window)
            again shouldNotBe fresh
            q.get(fresh)!!.idempotencyKey shouldBe null
            q.get(again)!!.state shouldBe TaskState.QUEUED
        }
    }

    test("with finishedHoldsKeyFor zero only unfinished tasks hold a key") {
        tasks { q ->
            val onlyUnfinished = UniquePolicy(finishedHoldsKeyFor = Duration.ZERO)
            val first = q.enqueue("job", payload(1), idempotencyKey = "k", unique = onlyUnfinished)
            q.enqueue("job", payload(2), idempotencyKey = "k", unique = onlyUnfinished) shouldBe first
            q.cancel(first)
            q.enqueue("job", payload(3), idempotencyKey = "k", unique = onlyUnfinished) shouldNotBe first
        }
    }

    test("concurrent enqueues with one key from two queue objects leave exactly one holder, with every policy") {
        for (policy in listOf(UniquePolicy.KEEP, UniquePolicy.REPLACE)) {
            val pair = factory.openTwo(config) ?: return@test
            pair.first.use { a ->
                pair.second.use { b ->
                    coroutineScope {
                        (0 until 40).map { n ->
                            async(Dispatchers.Default) { (if (n % 2 == 0) a else b).enqueue("job", payload(n), idempotencyKey = "same", unique = policy) }
                        }.awaitAll()
                    }
                    a.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks shouldHaveSize 1
                    a.list().tasks.count { it.idempotencyKey == "same" } shouldBe 1
                }
            }
        }
    }

    // ---- schedules ----

    test("a schedule enqueues its first occurrence at once and the next when the previous completes") {
        tasks { q ->
            val start = clock.now
            val schedule = q.schedule("tick", "tick", payload(0), Recurrence.Every(1.minutes))
            schedule.nextFireAt shouldBe start
            val first = q.claimOne()
            first.idempotencyKey shouldBe "schedule:tick:${start.toEpochMilli()}"
            q.claim("w").shouldBeEmpty()
            q.complete(first.lease!!)
            val next = q.schedules().single()
            next.nextFireAt shouldBe start.plusSeconds(60)
            q.get(next.pendingTaskId!!)!!.runAfter shouldBe start.plusSeconds(60)
            q.claim("w").shouldBeEmpty()
            clock.advance(1.minutes)
            q.claimOne().runAfter shouldBe start.plusSeconds(60)
        }
    }

    test("a dead-lettered or cancelled occurrence still moves the schedule on") {
        tasks { q ->
            q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes), maxAttempts = 1)
            q.fail(q.claimOne().lease!!, "boom") shouldBe AckResult.DEAD_LETTERED
            val pending = q.schedules().single().pendingTaskId!!
            q.cancel(pending) shouldBe true
            q.schedules().single().nextFireAt shouldBe clock.now.plusSeconds(120)
        }
    }

    test("defining a schedule again identically changes nothing; changing it replaces the queued occurrence") {
        tasks { q ->
            val first = q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes), startAt = clock.now.plusSeconds(30))
            clock.advance(1.seconds)
            q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes)) shouldBe first
            val changed = q.schedule("s", "job", payload(9), Recurrence.Every(1.minutes))
            q.get(first.pendingTaskId!!)!!.state shouldBe TaskState.CANCELLED
            q.get(changed.pendingTaskId!!)!!.payload shouldBe payload(9)
            q.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks shouldHaveSize 1
        }
    }

    test("cron schedules fire at the times the expression names") {
        tasks { q ->
            clock.now = Instant.parse("2026-01-01T02:59:00Z")
            val s = q.schedule("nightly", "job", payload(0), Recurrence.Cron("0 3 * * *", ZoneOffset.UTC))
            s.nextFireAt shouldBe Instant.parse("2026-01-01T03:00:00Z")
            clock.now = Instant.parse("2026-01-01T03:00:00Z")
            q.complete(q.claimOne().lease!!)
            q.schedules().single().nextFireAt shouldBe Instant.parse("2026-01-02T03:00:00Z")
        }
    }

    test("misfire SKIP waits for the next fire time ahead; RUN_ONCE runs the latest missed one at once") {
        for ((policy, expected) in listOf(MisfirePolicy.SKIP to 300L, MisfirePolicy.RUN_ONCE to 240L)) {
            tasks { q ->
                val start = clock.now
                q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes), misfire = policy)
                val lease = q.claimOne(ttl = 1.hours).lease!!
                clock.advance(4.minutes + 30.seconds) // fire times at 1, 2, 3 and 4 minutes pass while it runs
                q.complete(lease)
                q.schedules().single().nextFireAt shouldBe start.plusSeconds(expected)
            }
        }
    }

    test("a paused schedule enqueues nothing until resumed; list, pause, resume and delete") {
        tasks { q ->
            val start = clock.now
            q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes), misfire = MisfirePolicy.SKIP)
            val queued = q.schedules().single().pendingTaskId!!
            q.pauseSchedule("s") shouldBe true
            q.pauseSchedule("s") shouldBe true
            q.get(queued)!!.state shouldBe TaskState.CANCELLED
            q.schedules().single().paused shouldBe true
            clock.advance(10.minutes + 1.seconds)
            q.sweep()
            q.claim("w").shouldBeEmpty()
            q.resumeSchedule("s") shouldBe true
            q.schedules().single().nextFireAt shouldBe start.plusSeconds(660)
            q.deleteSchedule("s") shouldBe true
            q.schedules().shouldBeEmpty()
            q.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks.shouldBeEmpty()
            q.pauseSchedule("s") shouldBe false
            q.resumeSchedule("s") shouldBe false
            q.deleteSchedule("s") shouldBe false
        }
    }

    test("a schedule whose withdrawn occurrence was purged enqueues it again on resume") {
        tasks { q ->
            q.schedule("s", "job", payload(0), Recurrence.Every(1.minutes))
            q.pauseSchedule("s")
            q.purgeFinished(clock.now.plusSeconds(1)) shouldBe 1
            q.resumeSchedule("s")
            q.schedules().single().pendingTaskId.shouldNotBeNull()
            q.list(TaskFilter(states = setOf(TaskState.QUEUED))).tasks shouldHaveSize 1
        }
    }

    test("each fire time is enqueued once when two queue objects complete and sweep concurrently") {
        val pair = factory.openTwo(config) ?: return@test
        pair.first.use { a ->
            pair.second.use { b ->
                a.schedule("tick", "tick", payload(0), Recurrence.Every(1.minutes))
                repeat(30) { n ->
                    coroutineScope {
                        listOf(a to "wa", b to "wb").map { (q, w) ->
                            async(Dispatchers.Default) {
                                q.sweep()
                                q.claim(w, types = setOf("tick")).forEach { q.complete(it.lease!!) }
                                q.sweep()
                            }
                        }.awaitAll()
                    }
                    clock.advance(1.minutes)
                }
                val fires = a.list(TaskFilter(type = "tick", limit = 1000)).tasks.map { it.runAfter }
                val start = Instant.parse("2026-01-01T00:00:00Z")
                fires.sorted() shouldBe (0..30).map { start.plusSeconds(60L * it) }
            }
        }
    }

    // ---- observation ----

    test("observe emits the task now and again only when it changes, and null for a missing task") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            withTimeout(30.seconds) { q.observe(id).first() }!!.state shouldBe TaskState.QUEUED
            coroutineScope {
                val seen = async {
                    withTimeout(30.seconds) { q.observe(id).transformWhile { emit(it); it?.state != TaskState.SUCCEEDED }.toList() }
                }
                q.complete(q.claimOne().lease!!)
                val states = seen.await()
                states.last()!!.state shouldBe TaskState.SUCCEEDED
                states.zipWithNext().none { (a, b) -> a == b } shouldBe true
            }
            withTimeout(30.seconds) { q.observe(TaskId(404)).first() } shouldBe null
        }
    }

    test("awaitFinal returns the finished task, and null for a missing one") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            coroutineScope {
                val finished = async { withTimeout(30.seconds) { q.awaitFinal(id) } }
                q.fail(q.claimOne().lease!!, "no", retryable = false)
                finished.await()!!.state shouldBe TaskState.DEAD_LETTER
            }
            withTimeout(30.seconds) { q.awaitFinal(TaskId(404)) } shouldBe null
        }
    }

    test("observe sees changes made through another queue object on the same store") {
        val pair = factory.openTwo(config) ?: return@test
        pair.first.use { a ->
            pair.second.use { b ->
                val id = a.enqueue("job", payload(1))
                coroutineScope {
                    val done = async { withTimeout(30.seconds) { a.awaitFinal(id) } }
                    b.complete(b.claimOne().lease!!)
                    done.await()!!.state shouldBe TaskState.SUCCEEDED
                }
            }
        }
    }

    // ---- reads ----

    test("list filters by state and type and pages with a cursor") {
        tasks { q ->
            val jobs = (1..25).map { q.enqueue("job", payload(it)) }
            q.enqueue("other", payload(0))
            q.claim("w", limit = 1, types = setOf("job"), strategy = ClaimStrategy.FIFO)
            val seen = mutableListOf<TaskId>()
            var cursor: TaskId? = null
            var pages = 0
            do {
                val page = q.list(TaskFilter(states = setOf(TaskState.QUEUED), type = "job", limit = 10), cursor)
                seen += page.tasks.map { it.id }
                cursor = page.nextCursor
                pages++
            } while (cursor != null)
            pages shouldBe 3
            seen shouldContainExactly jobs.drop(1)
        }
    }

    test("stats report depth by type and state, oldest age, outcomes and active workers") {
        tasks { q ->
            q.enqueue("a", payload(1))
            clock.advance(10.seconds)
            q.enqueue("a", payload(2))
            q.enqueue("b", payload(3))
            q.complete(q.claim("w", strategy = ClaimStrategy.FIFO).single().lease!!)
            q.fail(q.claim("w", strategy = ClaimStrategy.FIFO).single().lease!!, "x")
            clock.advance(5.seconds)
            val stats = q.stats()
            stats.depth shouldBe mapOf(
                "a" to mapOf(TaskState.SUCCEEDED to 1, TaskState.QUEUED to 1),
                "b" to mapOf(TaskState.QUEUED to 1),
            )
            stats.count(TaskState.QUEUED) shouldBe 2
            stats.oldestQueuedAge shouldBe 5.seconds
            stats.succeeded shouldBe 1
            stats.failed shouldBe 1
            stats.activeWorkers shouldBe 1
        }
    }

    test("the task log records every state change with its time, worker and error") {
        tasks { q ->
            val id = q.enqueue("job", payload(1))
            val t0 = clock.now
            q.fail(q.claimOne("w1").lease!!, "timeout")
            clock.advance(1.seconds)
            q.complete(q.claimOne("w2").lease!!)
            q.taskLog(id).map { listOf(it.from, it.to, it.workerId, it.attempt, it.error, it.at) } shouldBe listOf(
                listOf(null, TaskState.QUEUED, null, 0, null, t0),
                listOf(TaskState.QUEUED, TaskState.LEASED, "w1", 1, null, t0),
                listOf(TaskState.LEASED, TaskState.QUEUED, "w1", 1, "timeout", t0),
                listOf(TaskState.QUEUED, TaskState.LEASED, "w2", 2, null, clock.now),
                listOf(TaskState.LEASED, TaskState.SUCCEEDED, "w2", 2, null, clock.now),
            )
            q.taskLog(TaskId(999)) shouldBe emptyList()
        }
    }

    test("the transitions flow emits committed state changes in order") {
        tasks { q ->
            coroutineScope {
                val collected = async(start = CoroutineStart.UNDISPATCHED) { q.transitions.take(4).toList() }
                val id = q.enqueue("job", payload(1))
                q.claim("w")
                q.cancel(id)
                q.enqueue("job", payload(2))
                collected.await().map { it.to } shouldContainExactly
                    listOf(TaskState.QUEUED, TaskState.LEASED, TaskState.CANCELLED, TaskState.QUEUED)
                collected.await()[2].taskId shouldBe id
            }
        }
    }

    test("purging deletes only final tasks older than the cutoff, with their log") {
        tasks { q ->
            val done = q.enqueue("job", payload(1))
            val cancelled = q.enqueue("job", payload(2))
            val leased = q.enqueue("job", payload(3))
            val queued = q.enqueue("job", payload(4))
            q.complete(q.claim("w", strategy = ClaimStrategy.FIFO).single().lease!!)
            q.cancel(cancelled)
            q.claim("w", strategy = ClaimStrategy.FIFO).single().id shouldBe leased
            clock.advance(10.seconds)
            val recent = q.enqueue("job", payload(5))
            q.cancel(recent)
            q.purgeFinished(clock.now.minusSeconds(5)) shouldBe 2
            q.list().tasks.map { it.id } shouldContainExactly listOf(leased, queued, recent)
            q.taskLog(done) shouldBe emptyList()
            q.taskLog(queued).size shouldBe 1
        }
    }

    // ---- close ----

    test("use after close fails clearly and closing twice is harmless") {
        val q = factory.open(config)
        q.close()
        q.close()
        shouldThrow<IllegalStateException> { q.enqueue("job", payload(1)) }
        shouldThrow<IllegalStateException> { q.get(TaskId(1)) }
        shouldThrow<IllegalStateException> { q.complete(TaskLease(TaskId(1), "w", 1)) }
        shouldThrow<IllegalStateException> { q.schedules() }
    }
})
