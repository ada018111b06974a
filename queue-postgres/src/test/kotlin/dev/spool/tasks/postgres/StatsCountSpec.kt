package dev.spool.tasks.postgres

import dev.spool.queue.CheckedThread
import dev.spool.tasks.AckResult
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking
import java.time.Instant
import java.util.concurrent.atomic.AtomicLong
import kotlin.random.Random
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.minutes

/**
 * The O(1) stats stay exact under concurrency: real threads on their own connections enqueue,
 * claim in batches, complete, fail (retried and dead-lettered), release, cancel and purge at once,
 * and afterwards stats() equals a `GROUP BY` count over the tasks table.
 */
class StatsCountSpec : FunSpec({
    test("stats equal a GROUP BY count after threads claim, complete, fail, release, cancel and purge concurrently") {
        val config = TaskQueueConfig(statsTtl = 1.milliseconds)
        PgQueue(config, poolSize = 10, listen = false).use { pg ->
            val q = pg.queue
            val failed = AtomicLong()
            val completed = AtomicLong()
            runBlocking { repeat(600) { q.enqueue("type${it % 3}", "{}", maxAttempts = 2) } }
            val threads = (1..4).map { w ->
                CheckedThread("worker-$w") {
                    val random = Random(w)
                    runBlocking {
                        repeat(40) {
                            q.enqueue("type${random.nextInt(3)}", "{}", maxAttempts = 2)
                            for (task in q.claim("w$w", limit = 8, leaseTtl = 5.minutes)) {
                                val lease = task.lease!!
                                when (random.nextInt(5)) {
                                    0 -> if (q.complete(lease) == AckResult.COMPLETED) completed.incrementAndGet()
                                    1 -> q.fail(lease, "boom").also { if (it == AckResult.RETRY_SCHEDULED || it == AckResult.DEAD_LETTERED) failed.incrementAndGet() }
                                    2 -> q.release(lease)
                                    3 -> q.cancel(task.id)
                                    // Another thread may have cancelled it meanwhile: then nothing is counted.
                                    else -> if (q.fail(lease, "fatal", retryable = false) == AckResult.DEAD_LETTERED) failed.incrementAndGet()
                                }
                            }
                            q.cancel(TaskId(random.nextLong(1, 700)))
                        }
                    }
                }
            } + CheckedThread("purger") {
                runBlocking { repeat(20) { q.purgeFinished(Instant.now().plusSeconds(3600)) } }
            }
            threads.forEach { it.join() }

            val counted = TestDatabase.sql { c ->
                c.createStatement().executeQuery("SELECT type, state, count(*) FROM ${pg.schema}.tasks GROUP BY type, state").use { rs ->
                    buildMap<String, MutableMap<TaskState, Int>> {
                        while (rs.next()) getOrPut(rs.getString(1)) { mutableMapOf() }[TaskState.valueOf(rs.getString(2))] = rs.getInt(3)
                    }
                }
            }
            val stats = runBlocking { q.stats() }
            stats.depth shouldBe counted
            stats.failed shouldBe failed.get()
            // Purged successes still count: succeeded is every completion ever.
            stats.succeeded shouldBe completed.get()
        }
    }
})
