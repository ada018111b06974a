package dev.spool.tasks.postgres

import dev.spool.tasks.MutableClock
import dev.spool.tasks.SweepResult
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking
import java.time.Instant
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes
import kotlin.time.Duration.Companion.seconds

/**
 * A claim registers its worker, but a busy worker's claims do not rewrite its registry row every
 * time: only once its heartbeat is a tenth of the shorter of its lease TTL and the stale-worker
 * timeout old, or when its capabilities or TTL change. A worker that keeps claiming never looks
 * stale. Time comes from a controllable clock (`serverClock = false`).
 */
class ClaimRefreshSpec : FunSpec({
    val clock = MutableClock()
    val config = TaskQueueConfig(clock = clock, staleWorkerTimeout = 1.minutes)

    beforeTest { clock.now = Instant.parse("2026-01-01T00:00:00Z") }

    fun withQueue(block: suspend (TaskQueue, String) -> Unit) {
        val schema = TestDatabase.newSchema()
        TestDatabase.pool(2, "refresh-$schema").use { pool ->
            PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, config, listen = false, serverClock = false)).use { q ->
                runBlocking { block(q, schema) }
            }
        }
        TestDatabase.drop(schema)
    }

    /** The worker row's version: a new one whenever the row is rewritten or locked. */
    fun rowVersion(schema: String, worker: String): String = TestDatabase.sql { c ->
        c.prepareStatement("SELECT xmin::text || '/' || ctid::text FROM $schema.task_workers WHERE worker_id = ?").use { s ->
            s.setString(1, worker)
            s.executeQuery().use { rs -> if (rs.next()) rs.getString(1) else "none" }
        }
    }

    suspend fun TaskQueue.heartbeatOf(worker: String): Instant = workers().single { it.workerId == worker }.lastHeartbeat

    test("claims leave a fresh worker row alone and refresh it once it is a tenth of the lease TTL old") {
        withQueue { q, schema ->
            val start = clock.now
            q.claim("w", leaseTtl = 10.seconds) // registers
            q.heartbeatOf("w") shouldBe start
            val registered = rowVersion(schema, "w")

            clock.advance(900.milliseconds)
            q.claim("w", leaseTtl = 10.seconds)
            q.heartbeatOf("w") shouldBe start
            rowVersion(schema, "w") shouldBe registered

            clock.advance(200.milliseconds)
            q.claim("w", leaseTtl = 10.seconds)
            q.heartbeatOf("w") shouldBe start.plusMillis(1100)
        }
    }

    test("a claim with other capabilities or another TTL updates the worker row at once") {
        withQueue { q, _ ->
            q.claim("w", leaseTtl = 10.seconds)
            clock.advance(100.milliseconds)
            q.claim("w", capabilities = setOf("gpu"), leaseTtl = 10.seconds)
            q.workers().single().capabilities shouldBe setOf("gpu")
            q.heartbeatOf("w") shouldBe clock.now
            clock.advance(100.milliseconds)
            q.claim("w", capabilities = setOf("gpu"), leaseTtl = 20.seconds)
            q.workers().single().leaseTtl shouldBe 20.seconds
            q.heartbeatOf("w") shouldBe clock.now
        }
    }

    test("a worker that keeps claiming never looks stale, even with a lease TTL longer than the stale timeout") {
        withQueue { q, _ ->
            val step: Duration = 5.seconds
            repeat(30) {
                q.claim("busy", leaseTtl = 10.minutes)
                clock.advance(step)
                q.workers().single().stale shouldBe false
                q.sweep() shouldBe SweepResult(requeued = 0, deadLettered = 0, staleWorkers = 0)
            }
            // It stops claiming: a stale-worker timeout later it is stale.
            clock.advance(1.minutes)
            q.workers().single().stale shouldBe true
        }
    }
})
