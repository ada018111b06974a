package dev.spool.benchmarks

import dev.spool.flusher.FlusherConfig
import dev.spool.flusher.SyncedRowFlusher
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

/**
 * S6: the full sync cycle of an uploader, in events per second through the cycle.
 *
 * One invocation enqueues [BATCH] events (from [BATCH] concurrent coroutines, so the enqueue
 * side is the same group-committed cost for every variant), peeks the [BATCH] oldest events
 * and acknowledges each of them. The variants differ only in how acknowledgements reach the disk:
 * - per ack: an immediate `markSynced(listOf(id))` for each, awaited in turn ([BATCH] commits);
 * - per batch: one `markSynced(ids)` for the batch (one commit);
 * - flusher: `SyncedRowFlusher.markSynced(listOf(id))` for each, which records the id and returns
 *   at once; the flusher deletes in batches (default [FlusherConfig]: 512 ids or 100 ms) through
 *   the same writer, so its deletes are part of the measured cost.
 *
 * The queue stays at its depth: each cycle adds and removes [BATCH] rows. No per-iteration
 * trim, since the cycle deletes the oldest (prefilled) rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class SyncCycleBenchmark {
    /** Rows in the queue (the uploader's backlog). */
    @Param("5000")
    public var depth: Int = 0

    /** The queue's [dev.spool.storage.Durability]. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    private val fixture = SpoolFixture("cycle")
    private var flusher: SyncedRowFlusher? = null

    /** Opens the queue on a copy of the template. */
    @Setup(Level.Trial)
    public fun setUp(): Unit = fixture.open(depth, durability)

    /** Closes the flusher (which flushes), then the queue, and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        flusher?.close()
        fixture.close()
    }

    /** S6 with an immediate `markSynced` per acknowledgement. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public fun s6CycleMarkSyncedPerAck(): Unit = runBlocking {
        val queue = fixture.queue
        enqueueBatch()
        for (event in queue.peek(BATCH)) queue.markSynced(listOf(event.eventId))
    }

    /** S6 with one `markSynced` per batch. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public fun s6CycleMarkSyncedPerBatch(): Unit = runBlocking {
        val queue = fixture.queue
        enqueueBatch()
        queue.markSynced(queue.peek(BATCH).map { it.eventId })
    }

    /** S6 with the flusher: `markSynced` per acknowledgement, deleted in batches. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public fun s6CycleFlusher(): Unit = runBlocking {
        val queue = fixture.queue
        val flusher = flusher ?: SyncedRowFlusher.create(queue, FlusherConfig()).also { flusher = it }
        enqueueBatch()
        for (event in queue.peek(BATCH)) flusher.markSynced(listOf(event.eventId))
    }

    private fun enqueueBatch() = runBlocking {
        val queue = fixture.queue
        repeat(BATCH) { launch { queue.queueEvent(Events.next()) } }
    }

    private companion object {
        const val BATCH = 100
    }
}
