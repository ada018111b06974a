package dev.spool.benchmarks

import com.squareup.tape2.QueueFile
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
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.OperationsPerInvocation
import java.nio.file.Files
import java.nio.file.Path

/**
 * P2: an uploader draining a backlog of [EVENTS] events: read a batch of [BATCH], acknowledge it,
 * until the store is empty. One invocation is one whole drain; the store is refilled from its
 * template before each (outside the measurement).
 *
 * [backend]:
 * - `TAPE`: iterate the first [BATCH] elements (reading each), then `remove(n)`;
 * - `SPOOL`: `peek(BATCH)`, then one `markSynced(ids)` per batch, awaited;
 * - `SPOOL_FLUSHER`: `peek(BATCH)`, then `SyncedRowFlusher.markSynced(ids)` (deferred; peek hides
 *   the acknowledged rows), and a final `flush()` so every acknowledgement is on disk at the end.
 *
 * Throughput in events per second through the drain.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class DrainCycleBenchmark {
    /** Spool's durability (Tape always syncs). */
    @Param("FULL")
    public var durability: String = "FULL"

    /** Which store and acknowledgement path. */
    @Param("TAPE", "SPOOL", "SPOOL_FLUSHER")
    public var backend: String = "TAPE"

    private val fixture = SpoolFixture("drain")
    private var tapeFile: Path? = null
    private var tape: QueueFile? = null
    private var flusher: SyncedRowFlusher? = null

    /** Opens a full store on a fresh copy of its template. */
    @Setup(Level.Invocation)
    public fun refill() {
        if (backend == "TAPE") {
            tapeFile = TapeFiles.copy(EVENTS, "drain")
            tape = TapeFiles.open(tapeFile!!)
        } else {
            fixture.open(EVENTS, durability)
            if (backend == "SPOOL_FLUSHER") flusher = SyncedRowFlusher.create(fixture.queue, FlusherConfig())
        }
    }

    /** Closes the store and deletes its file. */
    @TearDown(Level.Invocation)
    public fun close() {
        tape?.close()
        tape = null
        tapeFile?.let(Files::deleteIfExists)
        tapeFile = null
        flusher?.close()
        flusher = null
        fixture.close()
    }

    /** P2: one whole drain of [EVENTS] events. */
    @Benchmark
    @OperationsPerInvocation(EVENTS)
    public fun p2DrainCycle() {
        when (backend) {
            "TAPE" -> drainTape(tape!!)
            "SPOOL" -> runBlocking {
                val queue = fixture.queue
                while (true) {
                    val batch = queue.peek(BATCH)
                    if (batch.isEmpty()) break
                    queue.markSynced(batch.map { it.eventId })
                }
            }
            "SPOOL_FLUSHER" -> runBlocking {
                val queue = fixture.queue
                val flusher = flusher!!
                while (true) {
                    val batch = queue.peek(BATCH)
                    if (batch.isEmpty()) break
                    flusher.markSynced(batch.map { it.eventId })
                }
                flusher.flush()
            }
            else -> error("unknown backend $backend")
        }
    }

    private fun drainTape(tape: QueueFile) {
        var bytes = 0L
        while (!tape.isEmpty) {
            var n = 0
            val elements = tape.iterator()
            while (n < BATCH && elements.hasNext()) {
                bytes += elements.next().size
                n++
            }
            tape.remove(n)
        }
        check(bytes > 0)
    }

    private companion object {
        const val EVENTS = 5000
        const val BATCH = 100
    }
}
