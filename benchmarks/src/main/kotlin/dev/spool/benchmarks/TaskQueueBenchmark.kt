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

/** Per-call latencies of one benchmark method, summarised as p50 and p99 at the end of a trial. */
public class TaskLatencies(private val name: String) {
    private var samples = LongArray(1 shl 16)
    private var size = 0

    /** True during measurement iterations only. */
    public var recording: Boolean = false

    /** Runs [block] and records how long it took. */
    public inline fun <T> time(block: () -> T): T {
        val start = System.nanoTime()
        val result = block()
        record(System.nanoTime() - start)
        return result
    }

    /** Records one latency in nanoseconds. */
    public fun record(nanos: Long) {
        if (!recording) return
        if (size == samples.size) samples = samples.copyOf(size * 2)
        samples[size++] = nanos
    }

    /** Prints `name params p50 p99` in microseconds, and forgets the samples. */
    public fun summarize(params: String) {
        if (size == 0) return
        val sorted = samples.copyOf(size).also { it.sort() }
        fun percentile(p: Double) = sorted[((size - 1) * p).toInt()] / 1000.0
        println("latency $name $params samples=$size p50=${"%.1f".format(percentile(0.50))}us p99=${"%.1f".format(percentile(0.99))}us")
        size = 0
    }
}

/**
 * TaskQueue throughput and latency: enqueue, claim + complete with batch claims (`claimBatch` 32)
 * and one-at-a-time claims (`claimBatch` 1), and a poll that finds nothing eligible.
 *
 * One invocation is [OPS] tasks. Before each claim invocation [OPS] tasks are enqueued (outside
 * the measurement), so every claim finds work. Latencies are per call: an enqueue, a claim (of up
 * to `claimBatch` tasks), and an empty poll. Targets from the original design: enqueue < 5 ms,
 * claim < 10 ms, poll < 5 ms at p99; Spool aims for 10x better.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class TaskQueueBenchmark {
    /** Tasks claimed per claim call. */
    @Param("1", "32")
    public var claimBatch: Int = 1

    /** The queue's [Durability]; pass `-p durability=FULL` for the power-loss-safe setting. */
    @Param("NORMAL")
    public var durability: String = "NORMAL"

    private lateinit var dir: Path
    private lateinit var queue: TaskQueue
    private val enqueueLatency = TaskLatencies("taskEnqueue")
    private val claimLatency = TaskLatencies("taskClaim")
    private val pollLatency = TaskLatencies("taskPollEmpty")
    private var counter = 0

    /** Opens a queue on a fresh file. */
    @Setup(Level.Trial)
    public fun setUp() {
        dir = Files.createTempDirectory("spool-task-bench")
        queue = TaskQueue.open(dir.resolve("tasks.db"), TaskQueueConfig(durability = Durability.valueOf(durability)))
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        val measuring = iteration.type == IterationType.MEASUREMENT
        listOf(enqueueLatency, claimLatency, pollLatency).forEach { it.recording = measuring }
    }

    /** Makes [OPS] tasks eligible for the next claim invocation. */
    @Setup(Level.Invocation)
    public fun refill() {
        runBlocking { repeat(OPS) { queue.enqueue("bench", """{"n":${counter++}}""", priority = counter % 10) } }
    }

    /** Prints latency summaries, closes the queue and deletes the file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        val params = "claimBatch=$claimBatch durability=$durability"
        listOf(enqueueLatency, claimLatency, pollLatency).forEach { it.summarize(params) }
        queue.close()
        dir.toFile().deleteRecursively()
    }

    /** [OPS] enqueues from one caller, each awaiting its commit. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public fun enqueue(): Unit = runBlocking {
        repeat(OPS) { enqueueLatency.time { queue.enqueue("bench", """{"n":${counter++}}""") } }
    }

    /** Claims and completes [OPS] tasks, `claimBatch` per claim (PRIORITY strategy). */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public fun claimAndComplete(): Unit = runBlocking {
        var done = 0
        while (done < OPS) {
            val tasks = claimLatency.time { queue.claim("bench", limit = claimBatch, leaseTtl = 60.seconds, strategy = ClaimStrategy.PRIORITY) }
            check(tasks.isNotEmpty()) { "ran out of tasks" }
            // Completed concurrently, as TaskWorker's handlers finish: the acks share group commits.
            coroutineScope { tasks.map { task -> async { queue.complete(task.lease!!) } }.awaitAll() }
            done += tasks.size
        }
    }

    /** A claim that finds nothing eligible (a type no task has): the idle worker's poll. */
    @Benchmark
    public fun pollEmpty(): Int = runBlocking {
        pollLatency.time { queue.claim("poller", limit = claimBatch, types = setOf("no-such-type")).size }
    }

    internal companion object {
        const val OPS: Int = 1000
    }
}

/**
 * The usual hand-written pattern on plain JDBC, as a baseline: one `BEGIN IMMEDIATE` transaction
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
    private val enqueueLatency = TaskLatencies("jdbcEnqueue")
    private val claimLatency = TaskLatencies("jdbcClaim")

    /** Creates the table on a fresh file. */
    @Setup(Level.Trial)
    public fun setUp() {
        dir = Files.createTempDirectory("spool-task-baseline")
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

    /** Prints latency summaries and deletes the file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        enqueueLatency.summarize("durability=$durability")
        claimLatency.summarize("durability=$durability")
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
    public fun enqueue() {
        repeat(TaskQueueBenchmark.OPS) { n -> enqueueLatency.time { insert(n) } }
    }

    /** Claims and acks [TaskQueueBenchmark.OPS] tasks, one transaction per claim and one per ack. */
    @Benchmark
    @OperationsPerInvocation(TaskQueueBenchmark.OPS)
    public fun claimAndComplete() {
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
