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
import org.sqlite.SQLiteConfig
import java.nio.file.Path
import java.sql.Connection
import java.sql.PreparedStatement

/**
 * L, the raw limit: one long-lived connection in WAL mode with Spool's `synchronous` setting for
 * [durability], and one reused PreparedStatement, committing 1, 100 or 1,000 inserts per
 * transaction. Nothing else: no validation, no cap, no cross-thread hand-off.
 *
 * Throughput in events per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class RawLimitBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000")
    public var depth: Int = 0

    /** Spool's Durability name, mapped to the same `synchronous` mode Spool uses. */
    @Param("NORMAL", "FULL")
    public var durability: String = "NORMAL"

    private lateinit var file: Path
    private lateinit var connection: Connection
    private lateinit var insert: PreparedStatement

    /** Copies the template and opens the one connection. */
    @Setup(Level.Trial)
    public fun setUp() {
        file = Workspace.copy(depth, "raw")
        connection = SQLiteConfig().apply {
            setJournalMode(SQLiteConfig.JournalMode.WAL)
            setSynchronous(SQLiteConfig.SynchronousMode.valueOf(durability))
            setGetGeneratedKeys(false)
        }.createConnection("jdbc:sqlite:$file")
        connection.autoCommit = false
        insert = connection.prepareStatement(
            "INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES (?, ?, ?, ?)",
        )
    }

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration() {
        connection.commit()
        Workspace.trim(file, depth)
    }

    /** Closes the connection and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        insert.close()
        connection.close()
        Workspace.delete(file)
    }

    /** L at 1 insert per transaction. */
    @Benchmark
    public fun l1PerTransaction() {
        insertOne()
        connection.commit()
    }

    /** L at 100 inserts per transaction. */
    @Benchmark
    @OperationsPerInvocation(100)
    public fun l100PerTransaction() {
        repeat(100) { insertOne() }
        connection.commit()
    }

    /** L at 1,000 inserts per transaction. */
    @Benchmark
    @OperationsPerInvocation(1000)
    public fun l1000PerTransaction() {
        repeat(1000) { insertOne() }
        connection.commit()
    }

    private fun insertOne() {
        val event = Events.next()
        insert.setString(1, event.eventId)
        insert.setString(2, event.eventType)
        insert.setString(3, event.payload)
        insert.setLong(4, System.currentTimeMillis())
        insert.executeUpdate()
    }
}
