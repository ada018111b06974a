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
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Level

/**
 * S2: [callers] coroutines each calling `queueEvent` at once, which the single writer
 * group-commits.
 *
 * One invocation is a round: [callers] coroutines are launched, each enqueues one event and
 * awaits it, and the round ends when the last one has committed. SampleTime mode samples rounds,
 * so its percentiles are the latency of the slowest caller of a round (an upper bound on each
 * caller's latency), and events per second are `callers / mean round time` (the report does that
 * division).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(BenchmarkTimeUnit.MICROSECONDS)
public open class ConcurrentEnqueueBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000", "50000", "500000")
    public var depth: Int = 0

    /** The queue's [dev.spool.queue.Durability]. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    /** Concurrent callers per round. */
    @Param("8", "64", "256")
    public var callers: Int = 0

    private val fixture = SpoolFixture("concurrent")

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp(): Unit = fixture.open(depth, durability)

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration(): Unit = fixture.resetIteration()

    /** Closes the queue and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown(): Unit = fixture.close()

    /** S2: one round of [callers] concurrent `queueEvent` calls. */
    @Benchmark
    public fun s2ConcurrentQueueEvent() {
        val queue = fixture.queue
        runBlocking {
            repeat(callers) { launch { queue.queueEvent(Events.next()) } }
        }
    }
}
