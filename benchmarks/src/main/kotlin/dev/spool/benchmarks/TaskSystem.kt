package dev.spool.benchmarks

import com.zaxxer.hikari.HikariDataSource
import dev.spool.storage.Durability
import dev.spool.tasks.AckResult
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import dev.spool.tasks.postgres.PostgresTaskQueue
import dev.spool.tasks.postgres.PostgresTaskQueueConfig
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import java.nio.file.Files
import kotlin.time.Duration.Companion.seconds

/**
 * One of the three task systems of the PostgreSQL comparison (Q1, Q2), driven the same way: a
 * worker thread enqueues one task at a time, or claims up to `batch` tasks and completes them.
 *
 * Implementations are safe for concurrent use by the benchmark's worker threads; each worker passes
 * its own index, which names it to the system (`bench-w<index>`).
 */
public interface TaskSystem : AutoCloseable {
    /** Enqueues [count] tasks one at a time, each awaiting its commit, numbered from [first]. */
    public fun enqueue(worker: Int, first: Int, count: Int)

    /** Makes [count] more tasks claimable as fast as the system allows (not measured). */
    public fun refill(count: Int)

    /**
     * Claims up to [batch] tasks for [worker] and completes each; returns how many it completed
     * (0 when it found none).
     */
    public fun claimAndComplete(worker: Int, batch: Int): Int

    /** How many tasks are completed (for tests and checks; not on the measured path). */
    public fun completed(): Int

    /** How many tasks are queued (for tests and checks; not on the measured path). */
    public fun queued(): Int

    /** Which system: the `system` parameter of the benchmarks. */
    public enum class Kind {
        /** Spool's TaskQueue on PostgreSQL (queue-postgres), pool of [PostgresBench.POOL_SIZE]. */
        POSTGRES,

        /** The hand-written plain-JDBC `SKIP LOCKED` table ([SkipLockedJobs]), same server and pool size. */
        JDBC_SKIP_LOCKED,

        /** Spool's TaskQueue on SQLite (one file, FULL durability: an fsync per commit, as PostgreSQL's). */
        SQLITE,
    }

    /** Opens systems by [Kind]. */
    public companion object {
        /** Opens a fresh [kind] system: a new schema, or a new file under [Workspace.directory]. */
        public fun open(kind: Kind): TaskSystem = when (kind) {
            Kind.POSTGRES -> {
                val pool = PostgresBench.pool("spool-bench")
                val schema = PostgresBench.newSchema("bench_spool")
                val queue = PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema = schema))
                SpoolTasks(queue) {
                    PostgresBench.dropSchema(pool, schema)
                    pool.close()
                }
            }
            Kind.JDBC_SKIP_LOCKED -> {
                val pool = PostgresBench.pool("jdbc-bench")
                val schema = PostgresBench.newSchema("bench_jdbc")
                JdbcTasks(SkipLockedJobs(pool, schema).also { it.create() }, pool, schema)
            }
            Kind.SQLITE -> {
                val dir = Files.createTempDirectory(Workspace.directory, "tasks-cmp")
                val queue = TaskQueue.open(dir.resolve("tasks.db"), TaskQueueConfig(durability = Durability.FULL))
                SpoolTasks(queue) { dir.toFile().deleteRecursively() }
            }
        }

        /** The payload of task [n]: small JSON, as the other task benchmarks use. */
        internal fun payload(n: Int): String = """{"n":$n}"""

        /** Priorities 0..9 spread over the tasks, so the claim's order by priority does work. */
        internal fun priority(n: Int): Int = n % 10

        internal const val TYPE = "bench"
    }
}

/**
 * A Spool [TaskQueue] (either backend). Each worker call runs in `runBlocking` on the worker's own
 * thread; the completes of one claimed batch run concurrently, as [dev.spool.tasks.TaskWorker]'s
 * handlers finish, since the TaskQueue has no batch complete.
 */
internal class SpoolTasks(private val queue: TaskQueue, private val cleanUp: () -> Unit) : TaskSystem {
    override fun enqueue(worker: Int, first: Int, count: Int) = runBlocking {
        for (n in first until first + count) {
            queue.enqueue(TaskSystem.TYPE, TaskSystem.payload(n), priority = TaskSystem.priority(n))
        }
    }

    override fun refill(count: Int) = runBlocking {
        // Concurrent producers, so commits group (not measured).
        coroutineScope {
            repeat(REFILL_PRODUCERS) { k ->
                launch {
                    for (n in k until count step REFILL_PRODUCERS) {
                        queue.enqueue(TaskSystem.TYPE, TaskSystem.payload(n), priority = TaskSystem.priority(n))
                    }
                }
            }
        }
    }

    override fun claimAndComplete(worker: Int, batch: Int): Int = runBlocking {
        val tasks = queue.claim("bench-w$worker", limit = batch, leaseTtl = 60.seconds, strategy = ClaimStrategy.PRIORITY)
        when (tasks.size) {
            0 -> Unit
            1 -> check(queue.complete(tasks[0].lease!!) == AckResult.COMPLETED) { "complete refused" }
            else -> {
                val results = tasks.map { task -> async { queue.complete(task.lease!!) } }.awaitAll()
                check(results.all { it == AckResult.COMPLETED }) { "complete refused: $results" }
            }
        }
        tasks.size
    }

    override fun completed(): Int = count(TaskState.SUCCEEDED)

    override fun queued(): Int = count(TaskState.QUEUED)

    private fun count(state: TaskState): Int = runBlocking { queue.stats().depth.values.sumOf { it[state] ?: 0 } }

    override fun close() {
        queue.close()
        cleanUp()
    }

    private companion object {
        const val REFILL_PRODUCERS = 8
    }
}

/** The plain-JDBC baseline: one statement per claim and one per completed batch. */
internal class JdbcTasks(
    private val jobs: SkipLockedJobs,
    private val pool: HikariDataSource,
    private val schema: String,
) : TaskSystem {
    override fun enqueue(worker: Int, first: Int, count: Int) {
        for (n in first until first + count) jobs.enqueue(TaskSystem.TYPE, TaskSystem.payload(n), TaskSystem.priority(n))
    }

    override fun refill(count: Int) = jobs.enqueueMany(count, TaskSystem.TYPE, TaskSystem::payload, TaskSystem::priority)

    override fun claimAndComplete(worker: Int, batch: Int): Int {
        val name = "bench-w$worker"
        val ids = jobs.claim(name, batch)
        if (ids.isEmpty()) return 0
        check(jobs.complete(name, ids) == ids.size) { "complete refused" }
        return ids.size
    }

    override fun completed(): Int = jobs.count(SkipLockedJobs.DONE)

    override fun queued(): Int = jobs.count(SkipLockedJobs.QUEUED)

    override fun close() {
        PostgresBench.dropSchema(pool, schema)
        pool.close()
    }
}
