package dev.spool.benchmarks

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
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.infra.IterationParams
import org.openjdk.jmh.runner.IterationType

/**
 * Q1: claim + complete on Spool's TaskQueue on PostgreSQL, the plain-JDBC `SKIP LOCKED` baseline
 * on the same server, and Spool's TaskQueue on SQLite, with [workers] worker threads claiming
 * [batch] tasks per claim (issue #11).
 *
 * One invocation claims and completes [OPS] tasks, split evenly over the workers; each worker
 * claims until it has done its share. Before it (outside the measurement) [OPS] tasks are added,
 * on top of a backlog of [BACKLOG] queued tasks made at the start of the trial, so every claim
 * finds work and the queue's depth is the same at every invocation. Each claim-and-complete cycle
 * is timed per worker (HdrHistogram, measurement iterations only). Target (issue #11): PostgreSQL
 * TaskQueue with batch 32 and 4 workers at 0.9× the baseline or more.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class TaskComparisonBenchmark {
    /** Which system ([TaskSystem.Kind]). */
    @Param("POSTGRES", "JDBC_SKIP_LOCKED", "SQLITE")
    public var system: String = "POSTGRES"

    /** Worker threads. */
    @Param("1", "4")
    public var workers: Int = 1

    /** Tasks per claim. */
    @Param("1", "32")
    public var batch: Int = 1

    private lateinit var tasks: TaskSystem
    private lateinit var gang: WorkerGang
    private lateinit var latency: Array<LatencyRecorder>

    /** Opens the system, its workers and the backlog. */
    @Setup(Level.Trial)
    public fun setUp() {
        require(OPS % (workers * batch) == 0) { "OPS must split into whole batches per worker" }
        tasks = TaskSystem.open(TaskSystem.Kind.valueOf(system))
        gang = WorkerGang(workers)
        latency = Array(workers) { LatencyRecorder() }
        tasks.refill(BACKLOG)
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        latency.forEach { it.recording = iteration.type == IterationType.MEASUREMENT }
    }

    /** Makes [OPS] more tasks claimable for the next invocation. */
    @Setup(Level.Invocation)
    public fun refill() {
        tasks.refill(OPS)
    }

    /** Writes the cycle latencies and closes the system (dropping its schema or file). */
    @TearDown(Level.Trial)
    public fun tearDown() {
        val all = LatencyRecorder()
        latency.forEach(all::add)
        all.summarize(
            "qClaimAndComplete",
            mapOf("batch" to "$batch", "system" to system, "workers" to "$workers"),
            what = "one claim and its completes, per worker",
        )
        gang.close()
        tasks.close()
    }

    /** The system under test, for the module's tests. */
    internal val underTest: TaskSystem get() = tasks

    /** Q1: [OPS] tasks claimed and completed by [workers] workers, [batch] per claim. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public fun qClaimAndComplete() {
        val share = OPS / workers
        gang.run { w ->
            val recorder = latency[w]
            var done = 0
            var empty = 0
            while (done < share) {
                val n = recorder.time { tasks.claimAndComplete(w, minOf(batch, share - done)) }
                if (n == 0) check(++empty < MAX_EMPTY_CLAIMS) { "ran out of tasks" }
                done += n
            }
        }
    }

    internal companion object {
        /** Tasks per invocation: whole batches of 32 for 1 and 4 workers. */
        const val OPS: Int = 1024

        /** Queued tasks under the ones each invocation adds. */
        const val BACKLOG: Int = 1024

        /** Empty claims (skipped rows only) a worker tolerates in one invocation before it fails. */
        const val MAX_EMPTY_CLAIMS: Int = 1000
    }
}

/**
 * Q2: enqueue on the same three systems as [TaskComparisonBenchmark], one task at a time from each
 * of [workers] threads, each call awaiting its commit (the TaskQueue has no batch enqueue, so
 * neither does the baseline here). Each call is timed (HdrHistogram, measurement iterations only).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class TaskComparisonEnqueueBenchmark {
    /** Which system ([TaskSystem.Kind]). */
    @Param("POSTGRES", "JDBC_SKIP_LOCKED", "SQLITE")
    public var system: String = "POSTGRES"

    /** Producer threads. */
    @Param("1", "4")
    public var workers: Int = 1

    private lateinit var tasks: TaskSystem
    private lateinit var gang: WorkerGang
    private val invocations = java.util.concurrent.atomic.AtomicInteger()
    private lateinit var latency: Array<LatencyRecorder>

    /** Opens the system and its producers. */
    @Setup(Level.Trial)
    public fun setUp() {
        tasks = TaskSystem.open(TaskSystem.Kind.valueOf(system))
        gang = WorkerGang(workers)
        latency = Array(workers) { LatencyRecorder() }
    }

    /** Records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        latency.forEach { it.recording = iteration.type == IterationType.MEASUREMENT }
    }

    /** Writes the latencies and closes the system. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        val all = LatencyRecorder()
        latency.forEach(all::add)
        all.summarize("qEnqueue", mapOf("system" to system, "workers" to "$workers"), what = "one enqueue call")
        gang.close()
        tasks.close()
    }

    /** The system under test, for the module's tests. */
    internal val underTest: TaskSystem get() = tasks

    /** Q2: [OPS] enqueues split over [workers] threads. */
    @Benchmark
    @OperationsPerInvocation(OPS)
    public fun qEnqueue() {
        val share = OPS / workers
        val base = invocations.getAndIncrement() * OPS
        gang.run { w ->
            val recorder = latency[w]
            val first = base + w * share
            for (n in first until first + share) recorder.time { tasks.enqueue(w, n, 1) }
        }
    }

    internal companion object {
        const val OPS: Int = 256
    }
}
