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
import org.jetbrains.exposed.v1.core.Table
import org.jetbrains.exposed.v1.jdbc.Database
import org.jetbrains.exposed.v1.jdbc.insert
import org.jetbrains.exposed.v1.jdbc.transactions.transaction
import org.openjdk.jmh.annotations.Level
import org.openjdk.jmh.annotations.OperationsPerInvocation
import org.sqlite.SQLiteConfig
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy
import java.nio.file.Path
import java.sql.Connection
import java.sql.PreparedStatement

/**
 * The insert path behind queue-core's choice (see `Statements` in queue-core): Exposed's DSL
 * `insert` against a reused `PreparedStatement`, both on the same kind of connection (WAL,
 * `synchronous=NORMAL`), 100 inserts per transaction so the commit is amortised and the
 * per-row cost shows.
 *
 * Exposed gets one long-lived connection too (wrapped so its `close` is a no-op), so the figure
 * is the DSL's own cost, not connection opening. Throughput in rows per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(BenchmarkTimeUnit.SECONDS)
public open class InsertPathBenchmark {
    /** Rows in the table before each iteration. */
    @Param("5000")
    public var depth: Int = 0

    private lateinit var file: Path
    private lateinit var connection: Connection
    private lateinit var insert: PreparedStatement
    private lateinit var database: Database

    /** Copies the template and opens the connection both paths share. */
    @Setup(Level.Trial)
    public fun setUp() {
        file = Workspace.copy(depth, "insert-path")
        connection = SQLiteConfig().apply {
            setJournalMode(SQLiteConfig.JournalMode.WAL)
            setSynchronous(SQLiteConfig.SynchronousMode.NORMAL)
        }.createConnection("jdbc:sqlite:$file")
        insert = connection.prepareStatement(
            "INSERT INTO queue (event_id, event_type, payload, timestamp) VALUES (?, ?, ?, ?)",
        )
        val shared = connection
        database = Database.connect(getNewConnection = { nonClosing(shared) })
    }

    /** Trims back to [depth] rows. */
    @Setup(Level.Iteration)
    public fun resetIteration() {
        Workspace.trim(file, depth)
    }

    /** Closes the connection and deletes the copy. */
    @TearDown(Level.Trial)
    public fun tearDown() {
        insert.close()
        connection.close()
        Workspace.delete(file)
    }

    /** 100 rows through Exposed's DSL in one Exposed transaction. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public fun exposedDslInsert() {
        transaction(database) {
            repeat(ROWS) {
                val event = Events.next()
                BenchQueueTable.insert { row ->
                    row[BenchQueueTable.eventId] = event.eventId
                    row[BenchQueueTable.eventType] = event.eventType
                    row[BenchQueueTable.payload] = event.payload
                    row[BenchQueueTable.timestamp] = System.currentTimeMillis()
                }
            }
        }
    }

    /** 100 rows through one reused PreparedStatement in one transaction. */
    @Benchmark
    @OperationsPerInvocation(ROWS)
    public fun reusedPreparedStatementInsert() {
        connection.autoCommit = false
        repeat(ROWS) {
            val event = Events.next()
            insert.setString(1, event.eventId)
            insert.setString(2, event.eventType)
            insert.setString(3, event.payload)
            insert.setLong(4, System.currentTimeMillis())
            insert.executeUpdate()
        }
        connection.commit()
        connection.autoCommit = true
    }

    /** The `queue` table's written columns, as an Exposed user would declare them. */
    private object BenchQueueTable : Table("queue") {
        val id = long("id").autoIncrement()
        val eventId = text("event_id")
        val eventType = text("event_type")
        val payload = text("payload")
        val timestamp = long("timestamp")
        override val primaryKey: PrimaryKey = PrimaryKey(id)
    }

    private companion object {
        const val ROWS = 100

        fun nonClosing(connection: Connection): Connection =
            Proxy.newProxyInstance(Connection::class.java.classLoader, arrayOf(Connection::class.java)) { _, method, args ->
                when (method.name) {
                    "close" -> Unit
                    "isClosed" -> false
                    else -> try {
                        method.invoke(connection, *(args ?: emptyArray()))
                    } catch (e: InvocationTargetException) {
                        throw e.targetException
                    }
                }
            } as Connection
    }
}
