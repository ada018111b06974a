package dev.spool.benchmarks

import com.squareup.tape2.QueueFile
import dev.spool.queue.BlockingOfflineQueue
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
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import org.openjdk.jmh.annotations.Level
import java.nio.file.Files
import java.nio.file.Path

/**
 * P1: one caller adding events one at a time, each durable before the next: Tape's `add` against
 * Spool's `queueEvent` through each way a caller can reach it. Compared with L@1 (raw JDBC, one
 * insert per transaction) at the same `synchronous` setting.
 *
 * [caller]:
 * - `TAPE`: `QueueFile.add` (always synchronous, whatever [durability] says);
 * - `SPOOL_BLOCKING`: the blocking Java facade (`BlockingOfflineQueue.queueEvent`);
 * - `SPOOL_SUSPEND`: the suspend API from `runBlocking`, as S1;
 * - `SPOOL_SUSPEND_ON_DEFAULT`: the suspend API from a coroutine on `Dispatchers.Default`, which
 *   always hands its write to the writer thread (the path every caller took before issue #15).
 *
 * Throughput in events per second. Both stores start each iteration at [depth] events.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class LoneCallerBenchmark {
    /** Events in the store before each iteration. */
    @Param("5000")
    public var depth: Int = 0

    /** Spool's durability (Tape always syncs). */
    @Param("FULL")
    public var durability: String = "FULL"

    /** Which store, through which API. */
    @Param("TAPE", "SPOOL_BLOCKING", "SPOOL_SUSPEND", "SPOOL_SUSPEND_ON_DEFAULT")
    public var caller: String = "TAPE"

    private val fixture = SpoolFixture("lone")
    private lateinit var blocking: BlockingOfflineQueue
    private var tapeFile: Path? = null
    private var tape: QueueFile? = null

    /** Opens the store on a copy of its template. */
    @Setup(Level.Trial)
    public fun setUp() {
        if (caller == "TAPE") {
            tapeFile = TapeFiles.copy(depth, "lone")
            tape = TapeFiles.open(tapeFile!!)
        } else {
            fixture.open(depth, durability)
            blocking = fixture.queue.blocking()
        }
    }

    /** Brings the store back to [depth] events. */
    @Setup(Level.Iteration)
    public fun resetIteration() {
        val tape = tape
        if (tape != null) {
            if (tape.size() > depth) tape.remove(tape.size() - depth)
        } else {
            fixture.resetIteration()
        }
    }

    /** Closes the store and deletes its file. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        tape?.close()
        tapeFile?.let(Files::deleteIfExists)
        fixture.close()
    }

    /** P1: one durable add. */
    @Benchmark
    public fun p1LoneAdd() {
        when (caller) {
            "TAPE" -> tape!!.add(TapeFiles.encode(Events.next()))
            "SPOOL_BLOCKING" -> blocking.queueEvent(Events.next())
            "SPOOL_SUSPEND" -> runBlocking { fixture.queue.queueEvent(Events.next()) }
            "SPOOL_SUSPEND_ON_DEFAULT" -> runBlocking(Dispatchers.Default) { fixture.queue.queueEvent(Events.next()) }
            else -> error("unknown caller $caller")
        }
    }
}
