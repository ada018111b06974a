package dev.spool.queue.internal

import dev.spool.engine.BackgroundCheckpointer
import dev.spool.engine.BareCommand
import dev.spool.engine.CommandRejected
import dev.spool.engine.EngineListeners
import dev.spool.engine.LogEvents
import dev.spool.engine.MaintenanceHost
import dev.spool.engine.OpenFiles
import dev.spool.engine.ReadConnection
import dev.spool.engine.ThrottledCount
import dev.spool.engine.TransactionHooks
import dev.spool.engine.WalPolicy
import dev.spool.engine.WriteCommand
import dev.spool.engine.WriteEngine
import dev.spool.engine.checkIsSqliteFile
import dev.spool.engine.execute
import dev.spool.engine.integrityProblems
import dev.spool.engine.openConnection
import dev.spool.engine.query
import dev.spool.engine.recording
import dev.spool.engine.storageError
import dev.spool.queue.AsyncOfflineQueue
import dev.spool.queue.BatchEventResult
import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.DeferredSync
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.EnqueueResult
import dev.spool.queue.InvalidEventException
import dev.spool.queue.JsonLinesWriter
import dev.spool.queue.OfflineQueue
import dev.spool.queue.OfflineQueueFullException
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.QueueStats
import dev.spool.storage.QueueStorageException
import dev.spool.queue.QueuedEvent
import dev.spool.queue.SyncStatus
import java.nio.file.Files
import java.nio.file.Path
import java.sql.Connection
import java.sql.PreparedStatement
import kotlin.concurrent.withLock
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.withContext
import org.jetbrains.exposed.v1.core.SortOrder
import org.jetbrains.exposed.v1.core.and
import org.jetbrains.exposed.v1.core.count
import org.jetbrains.exposed.v1.core.eq
import org.jetbrains.exposed.v1.core.greater
import org.jetbrains.exposed.v1.core.greaterEq
import org.jetbrains.exposed.v1.core.less
import org.jetbrains.exposed.v1.core.lessEq
import org.jetbrains.exposed.v1.core.min
import org.jetbrains.exposed.v1.jdbc.JdbcTransaction
import org.jetbrains.exposed.v1.jdbc.select
import org.jetbrains.exposed.v1.jdbc.selectAll
import org.jetbrains.exposed.v1.jdbc.transactions.transaction
import org.slf4j.LoggerFactory
import org.sqlite.SQLiteErrorCode
import org.sqlite.SQLiteException

/**
 * The engine behind [OfflineQueue]: a [WriteEngine] owning the write connection and the cached
 * count, plus a read connection (Exposed) for queries.
 *
 * Fields marked "writer" are touched only on the writer thread. The cached count exists twice:
 * [txCount], the writer's view inside the open transaction, and [committedCount], what callers
 * see; [committed] copies one to the other, [rolledBack] re-reads the disk.
 */
internal class RealOfflineQueue private constructor(
    override val path: Path,
    override val config: QueueConfig,
    private val writeConnection: Connection,
    private val readConnection: Connection,
    private val clock: () -> Long,
    private val fileKey: Path,
) : OfflineQueue, TransactionHooks, MaintenanceHost {
    private var statements = Statements(writeConnection) // writer; re-prepared after a rollback
    private val reader = ReadConnection(path, readConnection, config.readDispatcher) { engine.checkOpen() }
    private val warnings = EvictionWarnings(logger, config.name)
    private val ledger = DeferredLedger { engine.submit(FlushDeferred()) }
    private val checkpointer = BackgroundCheckpointer(
        path, config.durability, config.busyTimeout, config.name, logger, interval = CHECKPOINT_INTERVAL,
    )
    private val walPolicy = config.walSizeLimitBytes.takeIf { it > 0 }?.let {
        WalPolicy(path, it, config.busyTimeout, config.name, logger, checkpointer.lock)
    }
    private val refusals = ThrottledCount()
    private val released = java.util.concurrent.atomic.AtomicBoolean(false)

    private var txCount = 0 // writer
    private var dataVersion = 0L // writer
    private var lastTimestamp = 0L // writer
    /**
     * Acknowledgements deleted by the open transaction to make room (writer). They belong to the
     * transaction, not to the command that needed the room: they are forgotten from the ledger
     * when it commits, even if that command then refused itself.
     */
    private var ledgerAppliedInTx: Map<String, Long>? = null

    /**
     * EventIds whose rows were written by an earlier command of the open transaction (writer).
     * Their acknowledgements predate the new content, so the ledger must not delete them here;
     * the writing command drops those acknowledgements once it commits.
     */
    private val rewrittenInTx = HashSet<String>()

    @Volatile private var committedCount = 0
    private val mutableSizes = MutableStateFlow(0)

    private val engine: WriteEngine

    init {
        committedCount = statements.count()
        txCount = committedCount
        mutableSizes.value = committedCount
        dataVersion = statements.dataVersion()
        engine = WriteEngine(
            connection = writeConnection,
            hooks = this,
            maxBatch = config.maxBatchSize,
            capacity = config.writeBufferCapacity,
            name = config.name,
            dispatcher = config.writerDispatcher,
            translate = { storageError(path, "write to", it) },
        )
    }

    override val sizes: StateFlow<Int> = mutableSizes.asStateFlow()

    override val deferredSync: DeferredSync get() = ledger

    // ---- TransactionHooks (writer thread) ----

    override fun begin(connection: Connection) {
        val version = statements.dataVersion()
        if (version != dataVersion) {
            // Another connection committed to this file: the cache may be stale.
            dataVersion = version
            committedCount = statements.count()
            txCount = committedCount
        }
        ledgerAppliedInTx = null
        rewrittenInTx.clear()
    }

    override fun committed() {
        committedCount = txCount
        mutableSizes.value = txCount
        ledgerAppliedInTx?.let(ledger::forget)
        ledgerAppliedInTx = null
    }

    override fun afterGroup() {
        checkpointer.committed()
        walPolicy?.afterGroup(writeConnection)
    }

    override fun rolledBack() {
        txCount = committedCount
        ledgerAppliedInTx = null
        // The disk is the truth after any failure: re-read it now rather than trust the cache.
        runCatching {
            // sqlite-jdbc finalizes a statement that failed with e.g. SQLITE_FULL or
            // SQLITE_READONLY; reusing it would fail every later write.
            statements.close()
            statements = Statements(writeConnection)
            committedCount = statements.count()
            txCount = committedCount
            dataVersion = statements.dataVersion()
            mutableSizes.value = committedCount
        }.onFailure { dataVersion = Long.MIN_VALUE }
    }

    // ---- Writes ----

    override suspend fun queueEvent(event: QueueEvent): EnqueueResult {
        engine.checkOpen()
        validate(event, config.maxPayloadBytes)
        return timedEnqueue(Enqueue(event, strictCap = null))
    }

    override suspend fun append(event: QueueEvent, cap: Int): EnqueueResult {
        engine.checkOpen()
        if (cap < 1) throw InvalidEventException("cap", "must be at least 1, was $cap")
        validate(event, config.maxPayloadBytes)
        try {
            return timedEnqueue(Enqueue(event, strictCap = cap))
        } catch (e: OfflineQueueFullException) {
            refusals.add(1)?.let { LogEvents.warn(logger, "queue.strict_cap_refused", config.name, LogEvents.STRICT_CAP_REFUSED, it, e.cap) }
            throw e
        }
    }

    private suspend fun timedEnqueue(command: Enqueue): EnqueueResult {
        val listeners = engine.listeners
        if (!listeners.active) return engine.submit(command)
        val started = System.nanoTime()
        try {
            return engine.submit(command)
        } finally {
            listeners.enqueued(System.nanoTime() - started)
        }
    }

    /** Instrumentation hooks of this queue's engine, for the Micrometer binder. */
    internal val listeners: EngineListeners get() = engine.listeners

    override suspend fun markSynced(eventIds: Collection<String>): Int {
        engine.checkOpen()
        if (eventIds.isEmpty()) return 0
        return engine.submit(DeleteByIds(eventIds.toList()))
    }

    override suspend fun incrementRetry(eventIds: Collection<String>): Int {
        engine.checkOpen()
        if (eventIds.isEmpty()) return 0
        return engine.submit(IncrementRetry(eventIds.toList()))
    }

    override suspend fun processBatchResults(results: Collection<BatchEventResult>) {
        engine.checkOpen()
        if (results.isEmpty()) return
        engine.submit(ProcessResults(results.toList()))
    }

    override suspend fun removeProjectEvents(projectId: String): Int {
        engine.checkOpen()
        return engine.submit(DeleteWhere({ it.deleteProject }) { it.setString(1, projectId) })
    }

    override suspend fun clear(): Int {
        engine.checkOpen()
        return engine.submit(DeleteWhere({ it.clear }) {})
    }

    override suspend fun drainToFile(path: Path): Int {
        engine.checkOpen()
        return engine.submit(Drain(path))
    }

    override suspend fun replayFile(path: Path): Int {
        engine.checkOpen()
        val rows = withContext(config.readDispatcher) { readJsonLines(path) }
        rows.forEach { validate(it.event, config.maxPayloadBytes) }
        if (rows.isEmpty()) return 0
        engine.submit(Replay(rows))
        return rows.size
    }

    // ---- Reads ----

    override suspend fun size(): Int {
        engine.checkOpen()
        return committedCount
    }

    override suspend fun sizeFromDisk(): Int = read { QueueTable.selectAll().count().toInt() }

    override suspend fun peek(limit: Int): List<QueuedEvent> {
        require(limit >= 0) { "limit must not be negative, was $limit" }
        return visible(limit) { fetch -> QueueTable.selectAll().fifo().limit(fetch) }
    }

    override suspend fun eventsBelowRetryCount(maxRetries: Int, limit: Int): List<QueuedEvent> {
        require(limit >= 0) { "limit must not be negative, was $limit" }
        return visible(limit) { fetch ->
            QueueTable.selectAll().where { QueueTable.retryCount less maxRetries }.fifo().limit(fetch)
        }
    }

    override suspend fun stats(): QueueStats = read {
        val count = QueueTable.id.count()
        fun countWhere(op: () -> org.jetbrains.exposed.v1.core.Op<Boolean>): Int =
            QueueTable.select(count).where(op).single()[count].toInt()

        val total = QueueTable.select(count).single()[count].toInt()
        val oldest = QueueTable.timestamp.min()
        val oldestMillis = QueueTable.select(oldest).single()[oldest]
        val buckets = linkedMapOf(
            "0 retries" to countWhere { QueueTable.retryCount eq 0 },
            "1-3 retries" to countWhere { (QueueTable.retryCount greaterEq 1) and (QueueTable.retryCount lessEq 3) },
            "4+ retries" to countWhere { QueueTable.retryCount greater 3 },
        ).filterValues { it > 0 }
        val types = QueueTable.select(QueueTable.eventType, count)
            .groupBy(QueueTable.eventType)
            .orderBy(count to SortOrder.DESC, QueueTable.eventType to SortOrder.ASC)
            .limit(5)
            .map { it[QueueTable.eventType] to it[count].toInt() }
        QueueStats(
            totalQueued = total,
            maxQueueSize = config.maxQueueSize,
            totalRetried = (buckets["1-3 retries"] ?: 0) + (buckets["4+ retries"] ?: 0),
            oldestEventAge = oldestMillis?.let { (clock() - it).coerceAtLeast(0).milliseconds },
            retryDistribution = buckets,
            topEventTypes = types,
        )
    }

    private fun org.jetbrains.exposed.v1.jdbc.Query.fifo() =
        orderBy(QueueTable.timestamp to SortOrder.ASC, QueueTable.id to SortOrder.ASC)

    /** Reads up to [limit] rows, skipping rows recorded in the ledger (fetching enough extra). */
    private suspend fun visible(
        limit: Int,
        query: (fetch: Int) -> org.jetbrains.exposed.v1.jdbc.Query,
    ): List<QueuedEvent> {
        if (limit == 0) {
            engine.checkOpen()
            return emptyList()
        }
        // The acknowledgements are copied BEFORE the read starts: a flush that commits during
        // the read forgets its ids, yet the read's snapshot may predate that commit and still
        // hold the rows. Hiding by the copy too keeps such rows hidden (never handed out twice).
        val before = if (ledger.isEmpty()) emptyMap() else ledger.snapshot()
        val hidden = maxOf(before.size, ledger.pending)
        val fetch = (limit.toLong() + hidden).coerceAtMost(Int.MAX_VALUE.toLong()).toInt()
        val rows = read { query(fetch).map(QueueTable::toQueuedEvent) }
        if (before.isEmpty() && ledger.isEmpty()) return rows
        return rows.asSequence()
            .filterNot { ledger.hides(it.eventId, it.revision) || hides(before, it.eventId, it.revision) }
            .take(limit)
            .toList()
    }

    private fun hides(acks: Map<String, Long>, eventId: String, revision: Long): Boolean {
        val acked = acks[eventId] ?: return false
        return acked == ANY_REVISION || acked == revision
    }

    private suspend fun <T> read(block: JdbcTransaction.() -> T): T = reader.read(block)

    // ---- Facades and lifecycle ----

    override fun blocking(): BlockingOfflineQueue = BlockingOfflineQueue(this)

    override fun async(): AsyncOfflineQueue = AsyncOfflineQueue(this)

    override fun close() {
        engine.close()
        checkpointer.close()
        reader.close()
        statements.close()
        runCatching { writeConnection.close() }
        if (released.compareAndSet(false, true)) OpenFiles.release(fileKey)
    }

    // ---- MaintenanceHost ----

    override val name: String get() = config.name

    override val busyTimeout: kotlin.time.Duration get() = config.busyTimeout

    override fun checkOpen() = engine.checkOpen()

    override suspend fun <T> onWriterBare(block: (Connection) -> T): T {
        engine.checkOpen()
        return engine.submit(
            object : BareCommand<T>() {
                // Maintenance checkpoints and vacuums wait for a background checkpoint rather than collide with it.
                override fun execute(connection: Connection): T = checkpointer.lock.withLock { block(connection) }
            },
        )
    }

    /** Test hook: runs [block] on the writer connection inside a write transaction. */
    internal suspend fun <T> onWriter(block: (Connection) -> T): T = engine.submit(
        object : WriteCommand<T>() {
            override fun execute(connection: Connection): T = block(connection)
        },
    )

    // ---- Commands (writer thread) ----

    private fun nextTimestamp(): Long {
        val now = clock()
        lastTimestamp = if (now > lastTimestamp) now else lastTimestamp
        return lastTimestamp
    }

    private inner class Enqueue(private val event: QueueEvent, private val strictCap: Int?) :
        WriteCommand<EnqueueResult>() {
        private var rewritten: String? = null

        override fun execute(connection: Connection): EnqueueResult {
            // A retried command runs again from scratch: forget what a rolled-back attempt saw.
            rewritten = null
            rewrittenInTx += event.eventId
            val timestamp = nextTimestamp()
            if (event.coalesceKey != null && coalesce(timestamp)) return EnqueueResult(EnqueueOutcome.COALESCED)
            if (strictCap != null) {
                // Acknowledged rows awaiting their batched delete do not count against the cap.
                if (txCount >= strictCap) applyLedger()
                if (txCount >= strictCap) throw CommandRejected(OfflineQueueFullException(strictCap, txCount))
                return insertOrReplace(timestamp, evicted = 0)
            }
            val cap = config.maxQueueSize
            if (txCount < cap) return insertOrReplace(timestamp, evicted = 0)
            if (statements.exists(event.eventId)) {
                statements.replace(event, timestamp)
                return EnqueueResult(EnqueueOutcome.REPLACED)
            }
            applyLedger()
            val excess = txCount - cap + 1
            val evicted = if (excess > 0) statements.evictOldest(excess) else 0
            txCount -= evicted
            return insertOrReplace(timestamp, evicted)
        }

        private fun coalesce(timestamp: Long): Boolean {
            val previousId = statements.findCoalesced(event.coalesceKey!!) ?: return false
            try {
                statements.coalesce(previousId.first, event, timestamp)
            } catch (e: SQLiteException) {
                if (e.resultCode != SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE) throw e
                throw CommandRejected(
                    InvalidEventException(
                        "eventId",
                        "'${event.eventId}' is already queued in another row; cannot coalesce it into " +
                            "the row of coalesceKey '${event.coalesceKey}'",
                    ),
                )
            }
            rewritten = previousId.second
            rewrittenInTx += previousId.second
            return true
        }

        private fun insertOrReplace(timestamp: Long, evicted: Int): EnqueueResult =
            if (statements.insert(event, timestamp, retryCount = 0)) {
                txCount++
                EnqueueResult(EnqueueOutcome.INSERTED, evicted)
            } else {
                statements.replace(event, timestamp)
                EnqueueResult(EnqueueOutcome.REPLACED)
            }

        override fun onCommitted(value: EnqueueResult) {
            ledger.invalidate(event.eventId)
            rewritten?.let(ledger::invalidate)
            warnings.evicted(config.maxQueueSize, value.evicted)
        }
    }

    /**
     * Deletes the acknowledged rows when room is needed, before any unsynced row is evicted or a
     * strict cap refuses. At most once per transaction; see [ledgerAppliedInTx].
     */
    private fun applyLedger() {
        if (ledgerAppliedInTx != null || ledger.isEmpty()) return
        val acks = ledgerSnapshot()
        ledgerAppliedInTx = acks
        txCount -= statements.deleteAcknowledged(acks)
    }

    /** The acknowledgements the open transaction may apply: none for rows it rewrote. */
    private fun ledgerSnapshot(): Map<String, Long> {
        val acks = ledger.snapshot()
        return if (rewrittenInTx.isEmpty()) acks else acks.filterKeys { it !in rewrittenInTx }
    }

    private inner class FlushDeferred : WriteCommand<Int>() {
        private var acks: Map<String, Long> = emptyMap()

        override fun execute(connection: Connection): Int {
            acks = ledgerSnapshot()
            val deleted = statements.deleteAcknowledged(acks)
            txCount -= deleted
            return deleted
        }

        override fun onCommitted(value: Int) = ledger.forget(acks)
    }

    private inner class Replay(private val rows: List<ExportedRow>) : WriteCommand<Unit>() {
        private val touched = ArrayList<String>()

        override fun execute(connection: Connection) {
            touched.clear()
            for (row in rows) {
                val event = row.event
                val coalesced = event.coalesceKey?.let { statements.findCoalesced(it) }
                when {
                    coalesced != null -> {
                        statements.coalesce(coalesced.first, event, row.timestamp)
                        touched += coalesced.second
                    }
                    statements.insert(event, row.timestamp, row.retryCount) -> {
                        txCount++
                        if (txCount > config.maxQueueSize) applyLedger()
                        val excess = txCount - config.maxQueueSize
                        if (excess > 0) txCount -= statements.evictOldest(excess)
                    }
                    else -> statements.replace(event, row.timestamp)
                }
                touched += event.eventId
                rewrittenInTx += event.eventId
                coalesced?.let { rewrittenInTx += it.second }
            }
        }

        override fun onCommitted(value: Unit) = touched.forEach(ledger::invalidate)
    }

    private inner class DeleteByIds(private val ids: List<String>) : WriteCommand<Int>() {
        override fun execute(connection: Connection): Int {
            val deleted = ids.sumOf { statements.deleteById(it) }
            txCount -= deleted
            return deleted
        }
    }

    private inner class IncrementRetry(private val ids: List<String>) : WriteCommand<Int>() {
        override fun execute(connection: Connection): Int = ids.sumOf { statements.incrementRetry(it) }
    }

    private inner class ProcessResults(private val results: List<BatchEventResult>) : WriteCommand<Unit>() {
        private val dropped = ArrayList<String>()

        override fun execute(connection: Connection) {
            dropped.clear()
            for (result in results) {
                when {
                    result.status == SyncStatus.FAILED_PERMANENT -> {
                        val deleted = statements.deleteById(result.eventId)
                        txCount -= deleted
                        if (deleted > 0) dropped += result.eventId
                    }
                    result.status.deletes -> txCount -= statements.deleteById(result.eventId)
                    result.status == SyncStatus.REJECTED -> statements.incrementRetry(result.eventId)
                    else -> Unit // FAILED_TRANSIENT: untouched.
                }
            }
        }

        override fun onCommitted(value: Unit) {
            if (dropped.isEmpty()) return
            val sample = if (dropped.size <= 10) dropped.toString() else dropped.take(10).toString() + " and ${dropped.size - 10} more"
            LogEvents.warn(logger, "queue.dead_lettered", config.name, LogEvents.DEAD_LETTERED, dropped.size, sample)
        }
    }

    private inner class DeleteWhere(
        private val select: (Statements) -> PreparedStatement,
        private val bind: (PreparedStatement) -> Unit,
    ) : WriteCommand<Int>() {
        override fun execute(connection: Connection): Int {
            val statement = select(statements)
            bind(statement)
            val deleted = statement.executeUpdate()
            txCount -= deleted
            return deleted
        }
    }

    private inner class Drain(private val target: Path) : WriteCommand<Int>() {
        override fun execute(connection: Connection): Int {
            // Holding the write lock: the rows exported are exactly the rows the DELETE removes.
            val exported = try {
                writeAtomically(target) { writer ->
                    val lines = JsonLinesWriter(writer)
                    var rows = 0
                    connection.query("SELECT $EXPORT_COLUMNS FROM queue ORDER BY timestamp, id") { rs ->
                        while (rs.next()) {
                            lines.writeRow(rs)
                            rows++
                        }
                    }
                    rows
                }
            } catch (e: java.io.IOException) {
                throw CommandRejected(e)
            }
            val deleted = statements.clear.executeUpdate()
            check(deleted == exported) { "drainToFile exported $exported rows but would delete $deleted" }
            txCount -= deleted
            return deleted
        }
    }

    internal companion object {
        private val logger = LoggerFactory.getLogger(OfflineQueue::class.java)

        /** At most one background checkpoint per this interval under a steady write load. */
        val CHECKPOINT_INTERVAL = kotlin.time.Duration.parse("50ms")

        const val EXPORT_COLUMNS =
            "event_id, event_type, payload, project_id, coalesce_key, timestamp, retry_count"

        /**
         * Opens the queue. [sqlObserver] sees every statement the writer executes, and [clock]
         * supplies epoch milliseconds: both are seams for tests.
         */
        fun open(
            path: Path,
            config: QueueConfig,
            sqlObserver: ((String) -> Unit)? = null,
            clock: () -> Long = System::currentTimeMillis,
        ): RealOfflineQueue {
            val absolute = path.toAbsolutePath()
            try {
                absolute.parent?.let { Files.createDirectories(it) }
            } catch (e: java.io.IOException) {
                throw QueueStorageException("Could not create the directory of $absolute: $e", e)
            }
            checkIsSqliteFile(absolute)
            val opened = ArrayList<Connection>(2)
            var key: Path? = null
            try {
                val raw = openConnection(absolute, config.durability, config.busyTimeout).also(opened::add)
                // The file exists now: register it so Maintenance.restore refuses to overwrite it.
                key = OpenFiles.key(absolute).also { OpenFiles.acquire(it) }
                if (config.checkIntegrityOnOpen) {
                    val problems = raw.integrityProblems()
                    if (problems.isNotEmpty()) {
                        throw QueueStorageException("$absolute failed its integrity check: ${problems.take(5)}; not opened")
                    }
                }
                Schema.migrate(raw, absolute.toString())
                // Commits never checkpoint inline: BackgroundCheckpointer does it off the writer.
                raw.execute("PRAGMA wal_autocheckpoint = 0")
                val writer = if (sqlObserver != null) recording(raw, sqlObserver) else raw
                val reader = openConnection(absolute, config.durability, config.busyTimeout).also(opened::add)
                return RealOfflineQueue(absolute, config, writer, reader, clock, key)
            } catch (t: Throwable) {
                opened.forEach { runCatching { it.close() } }
                key?.let(OpenFiles::release)
                throw if (t is IllegalStateException) QueueStorageException(t.message.orEmpty(), t) else storageError(absolute, "open", t)
            }
        }

    }
}
