package dev.spool.benchmarks

import dev.spool.queue.BlockingOfflineQueue
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
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.Threads

/**
 * S3: the blocking Java facade called from 8 JMH threads at once, sharing one queue.
 *
 * Throughput in events per second, summed over the threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class BlockingFacadeBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000", "500000")
    public var depth: Int = 0

    /** The queue's [dev.spool.storage.Durability]. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    private val fixture = SpoolFixture("blocking")
    private lateinit var blocking: BlockingOfflineQueue

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp() {
        fixture.open(depth, durability)
        blocking = fixture.queue.blocking()
    }

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration(): Unit = fixture.resetIteration()

    /** Closes the queue and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown(): Unit = fixture.close()

    /** S3: one blocking `queueEvent` on each of 8 threads. */
    @Benchmark
    @Threads(8)
    public fun s3BlockingQueueEvent8Threads(): EnqueueResult = blocking.queueEvent(Events.next())
}
