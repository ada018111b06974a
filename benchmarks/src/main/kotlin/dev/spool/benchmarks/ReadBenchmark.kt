package dev.spool.benchmarks

import dev.spool.queue.QueueStats
import dev.spool.queue.QueuedEvent
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
 * S5: the reads an uploader and a dashboard make: `peek(100)` and `stats()`, plus `stats()` right
 * after a write (a dashboard polling a queue that is being written to). Reads do not depend on
 * durability, so only NORMAL is measured.
 *
 * Throughput in calls per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class ReadBenchmark {
    /** Rows in the queue. */
    @Param("5000", "50000", "500000")
    public var depth: Int = 0

    private val fixture = SpoolFixture("read")

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp(): Unit = fixture.open(depth, "NORMAL")

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration(): Unit = fixture.resetIteration()

    /** Closes the queue and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown(): Unit = fixture.close()

    /** S5: the 100 oldest events. */
    @Benchmark
    public fun s5Peek100(): List<QueuedEvent> = runBlocking { fixture.queue.peek(100) }

    /** S5: a stats snapshot (aggregate queries over the whole table). */
    @Benchmark
    public fun s5Stats(): QueueStats = runBlocking { fixture.queue.stats() }

    /** S5: one `queueEvent`, then a stats snapshot that must include it. */
    @Benchmark
    public fun s5StatsAfterWrite(): QueueStats = runBlocking {
        fixture.queue.queueEvent(Events.next())
        fixture.queue.stats()
    }
}
