package dev.spool.benchmarks

import dev.spool.storage.Durability
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import kotlinx.benchmark.Benchmark
import kotlinx.benchmark.BenchmarkMode
import kotlinx.benchmark.BenchmarkTimeUnit
import kotlinx.benchmark.Mode
import kotlinx.benchmark.OutputTimeUnit
import kotlinx.benchmark.Param
import kotlinx.benchmark.Scope
import kotlinx.benchmark.Setup
import kotlinx.benchmark.State
import kotlinx.benchmark.TearDown
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.infra.IterationParams
import org.openjdk.jmh.runner.IterationType
import org.sqlite.SQLiteConfig
import java.nio.file.Files
import java.nio.file.Path
import java.sql.Connection
import kotlin.time.Duration.Companion.seconds

/**
 * T1: TaskQueue claims and completes, one caller, [claimBatch] tasks per claim call.
 *
 * One invocation claims and completes [OPS] tasks; before it (outside the measurement) [OPS] tasks
 * are enqueued, so every claim finds work. The completes of one claim run concurrently, as
 * `TaskWorker`'s handlers finish, so with batches they share group commits. Each claim call is
 * timed (HdrHistogram, measurement iterations only) and its p50/p99 land in the report. Target
 * (issue #15): with `claimBatch` 1, at least the plain-JDBC baseline ([JdbcTaskBaselineBenchmark]),
 * and claim p99 under 1 ms.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class TaskQueueBenchmark {
    /** Tasks claimed per claim call. */
    @Param("1", "32")
    public var claimBatch: Int = 1

    /** The queue's [Durability]. */
    @Param("NORMAL")
    public var durability: String = "NORMAL"

    private lateinit var dir: Path
    private lateinit var queue: TaskQueue
    private val claimLatency = LatencyRecorder()
    private var counter = 0

    /** Opens a queue on a fresh file. */
    @Setup(Level.Trial)
    public fun setUp() {
        dir = Files.createTempDirectory(Workspace.directory, "tasks")
        queue = TaskQueue.open(dir.resolve("tasks.db"), TaskQueueConfig(durability = Durability.valueOf(durability)))
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        claimLatency.recording = iteration.type == IterationType.MEASUREMENT
    }

    /** Makes [OPS] tasks eligible for the next invocation. */
    @Setup(Level.Invocation)
    public fun refill() {
        runBlocking { repeat(OPS) { queue.enqueue("bench", """{"n":${counter++}}""", priority = counter % 10) } }
    }

    /** Writes the claim latencies, closes the queue and deletes the file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        claimLatency.summarize(
            "taskClaimAndComplete",
            mapOf("claimBatch" to "$claimBatch", "durability" to durability),
            what = "one claim call",
        )
        queue.close()
        dir.toFile().deleteRecursively()
    }

    /** T1: claims and completes [OPS] tasks, [claimBatch] per claim (PRIORITY strategy). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public fun taskClaimAndComplete(): Unit = runBlocking {
        var done = 0
        while (done < OPS) {
            val tasks = claimLatency.time {
                queue.claim("bench", limit = claimBatch, leaseTtl = 60.seconds, strategy = ClaimStrategy.PRIORITY)
            }
            check(tasks.isNotEmpty()) { "ran out of tasks" }
            if (tasks.size == 1) {
                queue.complete(tasks[0].lease!!)
            } else {
                // Completed concurrently, as TaskWorker's handlers finish: the acks share group commits.
                coroutineScope { tasks.map { task -> async { queue.complete(task.lease!!) } }.awaitAll() }
            }
            done += tasks.size
        }
    }

    internal companion object {
        const val OPS: Int = 1000
    }
}

/**
 * T2 and T3: TaskQueue enqueue from one caller awaiting each, and the idle worker's poll (a claim
 * for a type no task has). Each call is timed (HdrHistogram, measurement iterations only).
 * Target (issue #15): enqueue p99 under 0.5 ms.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class TaskEnqueueBenchmark {
    /** The queue's [Durability]. */
    @Param("NORMAL")
    public var durability: String = "NORMAL"

    private lateinit var dir: Path
    private lateinit var queue: TaskQueue
    private val latency = LatencyRecorder()
    private var counter = 0
    private var method = ""

    /** Opens a queue on a fresh file. */
    @Setup(Level.Trial)
    public fun setUp() {
        dir = Files.createTempDirectory(Workspace.directory, "tasks")
        queue = TaskQueue.open(dir.resolve("tasks.db"), TaskQueueConfig(durability = Durability.valueOf(durability)))
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        latency.recording = iteration.type == IterationType.MEASUREMENT
    }

    /** Writes the latencies, closes the queue and deletes the file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        val what = if (method == "taskEnqueue") "one enqueue call" else "one empty claim call"
        latency.summarize(method, mapOf("durability" to durability), what)
        queue.close()
        dir.toFile().deleteRecursively()
    }

    /** T2: [TaskQueueBenchmark.OPS] enqueues from one caller, each awaiting its commit. */
    @Benchmark
    @OperationsPerInvocation(TaskQueueBenchmark.OPS)
    public fun taskEnqueue(): Unit = runBlocking {
        method = "taskEnqueue"
        repeat(TaskQueueBenchmark.OPS) { latency.time { queue.enqueue("bench", """{"n":${counter++}}""") } }
    }

    /** T3: a claim that finds nothing eligible (a type no task has). */
    @Benchmark
    public fun taskPollEmpty(): Int = runBlocking {
        method = "taskPollEmpty"
        latency.time { queue.claim("poller", limit = 1, types = setOf("no-such-type")).size }
    }
}

/**
 * T1/T2's baseline, the usual hand-written pattern on plain JDBC: one `BEGIN IMMEDIATE` transaction
 * per claim (`SELECT … LIMIT 1` then a guarded `UPDATE`) and one per ack, one row at a time, on a
 * single connection in WAL mode with the same synchronous setting.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class JdbcTaskBaselineBenchmark {
    /** SQLite's synchronous setting, as [Durability] names it; `-p durability=FULL` for FULL. */
    @Param("NORMAL")
    public var durability: String = "NORMAL"

    private lateinit var dir: Path
    private lateinit var connection: Connection
    private val enqueueLatency = LatencyRecorder()
    private val claimLatency = LatencyRecorder()

    /** Creates the table on a fresh file. */
    @Setup(Level.Trial)
    public fun setUp() {
        dir = Files.createTempDirectory(Workspace.directory, "tasks-baseline")
        val config = SQLiteConfig().apply {
            setJournalMode(SQLiteConfig.JournalMode.WAL)
            setSynchronous(SQLiteConfig.SynchronousMode.valueOf(durability))
            setBusyTimeout(5000)
        }
        connection = config.createConnection("jdbc:sqlite:${dir.resolve("baseline.db")}")
        connection.autoCommit = true
        connection.createStatement().use {
            it.execute(
                "CREATE TABLE tasks (id INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL, " +
                    "priority INTEGER NOT NULL, state TEXT NOT NULL, owner TEXT, lease_until INTEGER, created_at INTEGER NOT NULL)",
            )
            it.execute("CREATE INDEX tasks_queued ON tasks(state, priority, id)")
        }
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        val measuring = iteration.type == IterationType.MEASUREMENT
        enqueueLatency.recording = measuring
        claimLatency.recording = measuring
    }

    /** Makes [TaskQueueBenchmark.OPS] tasks available for the next claim invocation. */
    @Setup(Level.Invocation)
    public fun refill() {
        repeat(TaskQueueBenchmark.OPS) { insert(it) }
    }

    /** Writes the latencies and deletes the file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        enqueueLatency.summarize("jdbcTaskEnqueue", mapOf("durability" to durability), "one INSERT")
        claimLatency.summarize("jdbcTaskClaimAndComplete", mapOf("durability" to durability), "one claim transaction")
        connection.close()
        dir.toFile().deleteRecursively()
    }

    private fun insert(n: Int) {
        connection.prepareStatement("INSERT INTO tasks (type, payload, priority, state, created_at) VALUES ('bench', ?, ?, 'QUEUED', ?)").use {
            it.setString(1, """{"n":$n}""")
            it.setInt(2, n % 10)
            it.setLong(3, System.currentTimeMillis())
            it.executeUpdate()
        }
    }

    private inline fun <T> transaction(block: () -> T): T {
        connection.createStatement().use { it.execute("BEGIN IMMEDIATE") }
        try {
            return block().also { connection.createStatement().use { it.execute("COMMIT") } }
        } catch (t: Throwable) {
            connection.createStatement().use { it.execute("ROLLBACK") }
            throw t
        }
    }

    /** [TaskQueueBenchmark.OPS] inserts, each its own autocommit transaction. */
    @Benchmark
    @OperationsPerInvocation(TaskQueueBenchmark.OPS)
    public fun jdbcTaskEnqueue() {
        repeat(TaskQueueBenchmark.OPS) { n -> enqueueLatency.time { insert(n) } }
    }

    /** Claims and acks [TaskQueueBenchmark.OPS] tasks, one transaction per claim and one per ack. */
    @Benchmark
    @OperationsPerInvocation(TaskQueueBenchmark.OPS)
    public fun jdbcTaskClaimAndComplete() {
        repeat(TaskQueueBenchmark.OPS) {
            val id = claimLatency.time {
                transaction {
                    val id = connection.prepareStatement(
                        "SELECT id FROM tasks WHERE state = 'QUEUED' ORDER BY priority, id LIMIT 1",
                    ).use { s -> s.executeQuery().use { rs -> check(rs.next()) { "ran out of tasks" }; rs.getLong(1) } }
                    connection.prepareStatement(
                        "UPDATE tasks SET state = 'LEASED', owner = 'bench', lease_until = ? WHERE id = ? AND state = 'QUEUED'",
                    ).use { s ->
                        s.setLong(1, System.currentTimeMillis() + 60_000)
                        s.setLong(2, id)
                        s.executeUpdate()
                    }
                    id
                }
            }
            transaction {
                connection.prepareStatement("UPDATE tasks SET state = 'SUCCEEDED' WHERE id = ? AND owner = 'bench'").use { s ->
                    s.setLong(1, id)
                    s.executeUpdate()
                }
            }
        }
    }
}
