package dev.spool.benchmarks

import dev.spool.queue.EnqueueResult
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
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Level

/**
 * S1 and S4: one caller awaiting each write, so every event pays a full commit.
 *
 * S1 runs in JMH's SampleTime mode: its percentiles are the per-event latency of `queueEvent`,
 * and its throughput is one over the mean (a single caller). S4 (`append`, the strict-cap path)
 * runs in Throughput mode.
 */
@State(Scope.Benchmark)
@OutputTimeUnit(BenchmarkTimeUnit.MICROSECONDS)
public open class EnqueueBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000", "50000", "500000")
    public var depth: Int = 0

    /** The queue's [dev.spool.storage.Durability]. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    private val fixture = SpoolFixture("enqueue")

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp(): Unit = fixture.open(depth, durability)

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration(): Unit = fixture.resetIteration()

    /** Closes the queue and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown(): Unit = fixture.close()

    /** S1: one `queueEvent`, awaited. */
    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    public fun s1QueueEvent(): EnqueueResult = runBlocking { fixture.queue.queueEvent(Events.next()) }

    /** S4: one `append` under the strict cap, awaited. */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
    public fun s4Append(): EnqueueResult = runBlocking { fixture.queue.append(Events.next()) }
}
