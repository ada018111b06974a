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
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.openjdk.jmh.infra.IterationParams
import org.openjdk.jmh.runner.IterationType

/**
 * S2: [callers] coroutines calling `queueEvent` concurrently, which the single writer
 * group-commits.
 *
 * One invocation is [EVENTS] events: [callers] coroutines each enqueue `EVENTS / callers` events
 * in turn, each awaiting its own commit, so [callers] writes are in flight until the last ones
 * drain. Throughput is events per second. Each `queueEvent` is timed on its own by a
 * [LatencyRecorder] (measurement iterations only), giving per-event p50 and p99.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class ConcurrentEnqueueBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000", "50000", "500000")
    public var depth: Int = 0

    /** The queue's [dev.spool.storage.Durability]. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    /** Concurrent callers; each of 8, 64 and 256 divides [EVENTS]. */
    @Param("8", "64", "256")
    public var callers: Int = 0

    private val fixture = SpoolFixture("concurrent")
    private val latencies = LatencyRecorder()

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp() {
        require(EVENTS % callers == 0) { "callers must divide $EVENTS, was $callers" }
        fixture.open(depth, durability)
    }

    /** Trims back to [depth] rows; records latencies in measurement iterations only. */
    @Setup(Level.Iteration)
    public fun resetIteration(iteration: IterationParams) {
        fixture.resetIteration()
        latencies.recording = iteration.type == IterationType.MEASUREMENT
    }

    /** Writes the latency summary, closes the queue and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        latencies.summarize(
            "s2ConcurrentQueueEvent",
            mapOf("depth" to "$depth", "durability" to durability, "callers" to "$callers"),
            what = "one queueEvent call",
        )
        fixture.close()
    }

    /** S2: [EVENTS] events from [callers] concurrent coroutines. */
    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public fun s2ConcurrentQueueEvent() {
        val queue = fixture.queue
        val perCaller = EVENTS / callers
        runBlocking {
            repeat(callers) {
                launch {
                    repeat(perCaller) {
                        val start = System.nanoTime()
                        queue.queueEvent(Events.next())
                        latencies.record(System.nanoTime() - start)
                    }
                }
            }
        }
    }

    private companion object {
        const val EVENTS = 1024
    }
}
