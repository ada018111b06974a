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
import java.nio.file.Path
import java.sql.DriverManager

/**
 * B1 and B2: the per-event pattern Spool replaces, in plain JDBC, written from its description.
 *
 * Each event opens a new connection, (B1) runs `SELECT COUNT(*) FROM queue` for the size cap,
 * inserts, commits and closes. The file uses SQLite's default rollback journal (DELETE) and
 * default `synchronous` (FULL), as the original did. B2 is the original's own fix: the same,
 * with the count cached in memory instead of recounted.
 *
 * Throughput in events per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class BaselineBenchmark {
    /** Rows in the queue before each iteration. */
    @Param("5000", "50000", "500000")
    public var depth: Int = 0

    private lateinit var file: Path
    private lateinit var url: String
    private var cachedCount = 0L

    /** Copies the template and switches the copy to the default rollback journal. */
    @Setup(Level.Trial)
    public fun setUp() {
        file = Workspace.copy(depth, "baseline")
        url = "jdbc:sqlite:$file"
        DriverManager.getConnection(url).use { connection ->
            connection.createStatement().use { it.execute("PRAGMA journal_mode=DELETE") }
        }
    }

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration() {
        Workspace.trim(file, depth)
        cachedCount = depth.toLong()
    }

    /** Deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        Workspace.delete(file)
    }

    /** B1: connect, COUNT(*), INSERT, commit, close, for every event. */
    @Benchmark
    public fun b1CountPerEvent(): Long = DriverManager.getConnection(url).use { connection ->
        connection.autoCommit = false
        val count = connection.createStatement().use { statement ->
            statement.executeQuery("SELECT COUNT(*) FROM queue").use { it.next(); it.getLong(1) }
        }
        insert(connection)
        connection.commit()
        count
    }

    /** B2: the same with a cached count. */
    @Benchmark
    public fun b2CachedCount(): Long = DriverManager.getConnection(url).use { connection ->
        connection.autoCommit = false
        insert(connection)
        connection.commit()
        ++cachedCount
    }

    private fun insert(connection: java.sql.Connection) {
        val event = Events.next()
        connection.prepareStatement(
            "INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES (?, ?, ?, ?)",
        ).use { insert ->
            insert.setString(1, event.eventId)
            insert.setString(2, event.eventType)
            insert.setString(3, event.payload)
            insert.setLong(4, System.currentTimeMillis())
            insert.executeUpdate()
        }
    }
}
