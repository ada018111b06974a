package dev.spool.tasks.postgres

import dev.spool.storage.QueueStorageException
import dev.spool.tasks.AckResult
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.RetryPolicy
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.collections.shouldHaveSize
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import java.time.Instant
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds

class PostgresTaskQueueSpec : FunSpec({
    test("a task goes from enqueue through claim to complete, logged with the server's times") {
        PgQueue().use { pg ->
            val q = pg.queue
            val id = q.enqueue("email", """{"to":"a"}""")
            val claimed = q.claim("w1", leaseTtl = 30.seconds)
            claimed.map { it.id } shouldContainExactly listOf(id)
            claimed.single().state shouldBe TaskState.LEASED
            claimed.single().attempts shouldBe 1
            q.complete(claimed.single().lease!!) shouldBe AckResult.COMPLETED
            q.get(id)!!.state shouldBe TaskState.SUCCEEDED
            q.taskLog(id).map { it.to } shouldContainExactly listOf(TaskState.QUEUED, TaskState.LEASED, TaskState.SUCCEEDED)
        }
    }

    test("an idempotency key yields one task however many hosts enqueue it at once") {
        PgQueue(poolSize = 8).use { pg ->
            val hosts = List(4) { pg.otherHost() }
            try {
                val ids = coroutineScope {
                    (0 until 32).map { i -> async(Dispatchers.IO) { hosts[i % 4].enqueue("t", "{}", idempotencyKey = "k") } }.awaitAll()
                }
                ids.toSet() shouldHaveSize 1
                pg.queue.stats().count(TaskState.QUEUED) shouldBe 1
            } finally {
                hosts.forEach { it.close() }
            }
        }
    }

    test("concurrent claimers on several hosts never get the same task") {
        PgQueue(poolSize = 8).use { pg ->
            repeat(200) { pg.queue.enqueue("t", "{}") }
            val hosts = List(4) { pg.otherHost() }
            try {
                val claimed = coroutineScope {
                    hosts.mapIndexed { i, h ->
                        async(Dispatchers.IO) {
                            buildList { while (true) { val batch = h.claim("w$i", limit = 7); if (batch.isEmpty()) break; addAll(batch) } }
                        }
                    }.awaitAll().flatten()
                }
                claimed.map { it.id }.toSet() shouldHaveSize 200
                claimed shouldHaveSize 200
            } finally {
                hosts.forEach { it.close() }
            }
        }
    }

    test("claims honour types, capabilities, runAfter and each strategy's order") {
        PgQueue().use { pg ->
            val q = pg.queue
            val low = q.enqueue("a", "{}", priority = 50)
            val high = q.enqueue("a", "{}", priority = 1)
            val gpu = q.enqueue("a", "{}", priority = 0, requires = setOf("gpu"))
            val other = q.enqueue("b", "{}", priority = 0)
            q.enqueue("a", "{}", priority = 0, runAfter = Instant.now().plusSeconds(3600))
            q.claim("w", limit = 10, types = setOf("a")).map { it.id } shouldContainExactly listOf(high, low)
            q.claim("w", capabilities = setOf("gpu"), types = setOf("a"), limit = 10).map { it.id } shouldContainExactly listOf(gpu)
            q.claim("w", strategy = ClaimStrategy.LIFO, limit = 10).map { it.id } shouldContainExactly listOf(other)
            q.claim("w", limit = 10).shouldBeEmpty()
        }
    }

    test("FIFO and LIFO take the oldest and newest first, typed or not") {
        PgQueue().use { pg ->
            val q = pg.queue
            val ids = (0 until 6).map { q.enqueue(if (it % 2 == 0) "a" else "b", "{}") }
            q.claim("w", strategy = ClaimStrategy.FIFO, limit = 2).map { it.id } shouldContainExactly ids.take(2)
            q.claim("w", strategy = ClaimStrategy.LIFO, limit = 2, types = setOf("a", "b")).map { it.id } shouldContainExactly listOf(ids[5], ids[4])
        }
    }

    test("an expired lease refuses the stale worker's ack, and sweep from another host requeues it") {
        PgQueue(TaskQueueConfig(retryPolicy = RetryPolicy(base = 0.seconds, jitter = 0.0, max = 0.seconds))).use { pg ->
            val q = pg.queue
            val id = q.enqueue("t", "{}", maxAttempts = 2)
            val first = q.claim("w1", leaseTtl = 1.milliseconds).single().lease!!
            Thread.sleep(20)
            q.complete(first) shouldBe AckResult.LEASE_LOST
            pg.otherHost().use { it.sweep().requeued shouldBe 1 }
            val second = q.claim("w1").single()
            second.attempts shouldBe 2
            second.lease!!.token shouldBe first.token + 1
            q.complete(first) shouldBe AckResult.LEASE_LOST
            q.fail(second.lease!!, "boom") shouldBe AckResult.DEAD_LETTERED
            q.get(id)!!.lastError shouldBe "boom"
            q.complete(second.lease!!) shouldBe AckResult.LEASE_LOST
            q.complete(dev.spool.tasks.TaskLease(dev.spool.tasks.TaskId(999_999), "w2", 1)) shouldBe AckResult.NOT_FOUND
        }
    }

    test("fail retries after backoff, release does not count the attempt, cancel reaches the holder's ack") {
        PgQueue(TaskQueueConfig(retryPolicy = RetryPolicy(base = 1.seconds * 3600, jitter = 0.0, max = 1.seconds * 3600))).use { pg ->
            val q = pg.queue
            q.enqueue("t", "{}")
            q.fail(q.claim("w").single().lease!!, "try later") shouldBe AckResult.RETRY_SCHEDULED
            q.claim("w").shouldBeEmpty()
            val b = q.enqueue("t", "{}")
            q.release(q.claim("w").single().lease!!) shouldBe AckResult.RELEASED
            q.get(b)!!.attempts shouldBe 0
            val lease = q.claim("w").single().lease!!
            q.cancel(b) shouldBe true
            q.complete(lease) shouldBe AckResult.CANCELLED
            q.stats().failed shouldBe 1
        }
    }

    test("heartbeat extends only the worker's valid leases and reports what it still holds") {
        PgQueue().use { pg ->
            val q = pg.queue
            val a = q.enqueue("t", "{}")
            val b = q.enqueue("t", "{}")
            val leases = q.claim("w", limit = 2, leaseTtl = 30.seconds).map { it.lease!! }
            q.cancel(b)
            q.heartbeat("w", leases).map { it.taskId } shouldBe listOf(a)
            q.heartbeat("nobody", emptyList()) shouldBe emptySet()
            q.renew(leases[0], 60.seconds) shouldBe AckResult.RENEWED
            q.renew(leases[1], 60.seconds) shouldBe AckResult.CANCELLED
            q.unregisterWorker("w") shouldBe 1
            q.get(a)!!.state shouldBe TaskState.QUEUED
        }
    }

    test("stats count depth, successes across purges, and active workers") {
        PgQueue(TaskQueueConfig(statsTtl = 0.seconds)).use { pg ->
            val q = pg.queue
            repeat(3) { q.enqueue("t", "{}") }
            q.claim("w", limit = 2).forEach { q.complete(it.lease!!) }
            q.stats().succeeded shouldBe 2
            q.purgeFinished(Instant.now().plusSeconds(60)) shouldBe 2
            val stats = q.stats()
            stats.succeeded shouldBe 2
            stats.count(TaskState.QUEUED) shouldBe 1
            stats.activeWorkers shouldBe 1
            q.workers().map { it.workerId } shouldContainExactly listOf("w")
        }
    }

    test("list pages through tasks by id with state and type filters") {
        PgQueue().use { pg ->
            val q = pg.queue
            val ids = (0 until 5).map { q.enqueue(if (it < 3) "a" else "b", "{}") }
            val first = q.list(dev.spool.tasks.TaskFilter(type = "a", limit = 2))
            first.tasks.map { it.id } shouldContainExactly ids.take(2)
            q.list(dev.spool.tasks.TaskFilter(type = "a", limit = 2), first.nextCursor).tasks.map { it.id } shouldContainExactly listOf(ids[2])
            q.list(dev.spool.tasks.TaskFilter(states = setOf(TaskState.QUEUED))).tasks shouldHaveSize 5
        }
    }

    test("bad input is refused with an error naming the field") {
        PgQueue().use { pg ->
            shouldThrow<IllegalArgumentException> { pg.queue.enqueue("", "{}") }.message shouldContain "type"
            shouldThrow<IllegalArgumentException> { pg.queue.enqueue("t", "not json") }.message shouldContain "payload"
            shouldThrow<IllegalArgumentException> { pg.queue.claim("w", limit = 0) }.message shouldContain "limit"
            shouldThrow<IllegalArgumentException> { PostgresTaskQueueConfig(schema = "Bad-Name") }.message shouldContain "schema"
        }
    }

    test("a closed queue refuses calls, and closing twice is harmless") {
        val pg = PgQueue()
        pg.close()
        pg.queue.close()
        shouldThrow<IllegalStateException> { runBlocking { pg.queue.enqueue("t", "{}") } }
    }

    test("a schema holding someone else's tables is refused, not adopted") {
        val schema = TestDatabase.newSchema()
        TestDatabase.sql { c -> c.createStatement().use { it.execute("CREATE SCHEMA $schema; CREATE TABLE $schema.tasks (x int)") } }
        try {
            TestDatabase.pool(1).use { pool ->
                shouldThrow<QueueStorageException> { PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema)) }.message shouldContain "not a Spool task queue"
            }
        } finally {
            TestDatabase.drop(schema)
        }
    }

    test("a schema migrated by a newer Spool is refused") {
        PgQueue().use { pg ->
            TestDatabase.sql { c -> c.createStatement().use { it.execute("INSERT INTO ${pg.schema}.spool_schema (version) VALUES (99)") } }
            shouldThrow<QueueStorageException> { pg.otherHost() }.message shouldContain "newer"
        }
    }

    test("hosts opening one schema at once migrate it once") {
        val schema = TestDatabase.newSchema()
        try {
            TestDatabase.pool(8).use { pool ->
                val queues = coroutineScope {
                    (0 until 6).map { async(Dispatchers.IO) { PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)) } }.awaitAll()
                }
                queues.forEach { it.close() }
            }
            TestDatabase.sql { c ->
                // One row per version, each applied once (a second application would have failed on its CREATE).
                c.createStatement().executeQuery("SELECT count(*) FROM $schema.spool_schema").use { it.next(); it.getInt(1) } shouldBe
                    dev.spool.tasks.postgres.internal.PgSchema.CURRENT
            }
        } finally {
            TestDatabase.drop(schema)
        }
    }

    test("the blocking facade works over the PostgreSQL queue") {
        PgQueue().use { pg ->
            val blocking = withContext(Dispatchers.IO) { pg.queue.blocking() }
            val id = withContext(Dispatchers.IO) { blocking.enqueue("t", "{}") }
            withContext(Dispatchers.IO) { blocking.claim("w", emptySet(), 1, java.time.Duration.ofSeconds(5)) }.single().idValue shouldBe id
        }
    }
})
