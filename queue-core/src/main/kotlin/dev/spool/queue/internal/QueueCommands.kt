package dev.spool.queue.internal

import dev.spool.engine.CommandRejected
import dev.spool.engine.LogEvents
import dev.spool.engine.WriteCommand
import dev.spool.engine.query
import dev.spool.queue.BatchEventResult
import dev.spool.queue.EnqueueOutcome
import dev.spool.queue.EnqueueResult
import dev.spool.queue.InvalidEventException
import dev.spool.queue.JsonLinesWriter
import dev.spool.queue.OfflineQueueFullException
import dev.spool.queue.QueueEvent
import dev.spool.queue.SyncStatus
import org.slf4j.Logger
import org.sqlite.SQLiteErrorCode
import org.sqlite.SQLiteException
import java.nio.file.Path
import java.sql.Connection
import java.sql.PreparedStatement

// The offline queue's write commands. Each runs on the writer thread inside a group transaction
// (see WriteEngine) and keeps the writer's cached count in step with the rows it changes.

/** Enqueue with eviction at the configured cap, or refusal at [strictCap] when given. */
internal class Enqueue(
    private val w: QueueWriter,
    private val event: QueueEvent,
    private val strictCap: Int?,
    private val warnings: EvictionWarnings,
) : WriteCommand<EnqueueResult>() {
    private var rewritten: String? = null

    override fun execute(connection: Connection): EnqueueResult {
        // A retried command runs again from scratch: forget what a rolled-back attempt saw.
        rewritten = null
        w.rewrittenInTx += event.eventId
        val timestamp = w.nextTimestamp()
        if (event.coalesceKey != null && coalesce(timestamp)) return EnqueueResult(EnqueueOutcome.COALESCED)
        if (strictCap != null) {
            // Acknowledged rows awaiting their batched delete do not count against the cap.
            if (w.txCount >= strictCap) w.applyLedger()
            if (w.txCount >= strictCap) throw CommandRejected(OfflineQueueFullException(strictCap, w.txCount))
            return insertOrReplace(timestamp, evicted = 0)
        }
        val cap = w.config.maxQueueSize
        if (w.txCount < cap) return insertOrReplace(timestamp, evicted = 0)
        if (w.statements.exists(event.eventId)) {
            w.statements.replace(event, timestamp)
            return EnqueueResult(EnqueueOutcome.REPLACED)
        }
        w.applyLedger()
        val excess = w.txCount - cap + 1
        val evicted = if (excess > 0) w.statements.evictOldest(excess) else 0
        w.txCount -= evicted
        return insertOrReplace(timestamp, evicted)
    }

    private fun coalesce(timestamp: Long): Boolean {
        val previousId = w.statements.findCoalesced(event.coalesceKey!!) ?: return false
        try {
            w.statements.coalesce(previousId.first, event, timestamp)
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
        w.rewrittenInTx += previousId.second
        return true
    }

    private fun insertOrReplace(timestamp: Long, evicted: Int): EnqueueResult =
        if (w.statements.insert(event, timestamp, retryCount = 0)) {
            w.txCount++
            EnqueueResult(EnqueueOutcome.INSERTED, evicted)
        } else {
            w.statements.replace(event, timestamp)
            EnqueueResult(EnqueueOutcome.REPLACED)
        }

    override fun onCommitted(value: EnqueueResult) {
        w.ledger.invalidate(event.eventId)
        rewritten?.let(w.ledger::invalidate)
        warnings.evicted(w.config.maxQueueSize, value.evicted)
    }
}

/** Deletes the acknowledged rows of the ledger. */
internal class FlushDeferred(private val w: QueueWriter) : WriteCommand<Int>() {
    private var acks: Map<String, Long> = emptyMap()

    override fun execute(connection: Connection): Int {
        acks = w.ledgerSnapshot()
        val deleted = w.statements.deleteAcknowledged(acks)
        w.txCount -= deleted
        return deleted
    }

    override fun onCommitted(value: Int) = w.ledger.forget(acks)
}

/** Re-inserts rows read from a `drainToFile` export, coalescing and capping as enqueue does. */
internal class Replay(private val w: QueueWriter, private val rows: List<ExportedRow>) : WriteCommand<Unit>() {
    private val touched = ArrayList<String>()

    override fun execute(connection: Connection) {
        touched.clear()
        val cap = w.config.maxQueueSize
        for (row in rows) {
            val event = row.event
            val coalesced = event.coalesceKey?.let { w.statements.findCoalesced(it) }
            when {
                coalesced != null -> {
                    w.statements.coalesce(coalesced.first, event, row.timestamp)
                    touched += coalesced.second
                }
                w.statements.insert(event, row.timestamp, row.retryCount) -> {
                    w.txCount++
                    if (w.txCount > cap) w.applyLedger()
                    val excess = w.txCount - cap
                    if (excess > 0) w.txCount -= w.statements.evictOldest(excess)
                }
                else -> w.statements.replace(event, row.timestamp)
            }
            touched += event.eventId
            w.rewrittenInTx += event.eventId
            coalesced?.let { w.rewrittenInTx += it.second }
        }
    }

    override fun onCommitted(value: Unit) = touched.forEach(w.ledger::invalidate)
}

internal class DeleteByIds(private val w: QueueWriter, private val ids: List<String>) : WriteCommand<Int>() {
    override fun execute(connection: Connection): Int {
        val deleted = ids.sumOf { w.statements.deleteById(it) }
        w.txCount -= deleted
        return deleted
    }
}

internal class IncrementRetry(private val w: QueueWriter, private val ids: List<String>) : WriteCommand<Int>() {
    override fun execute(connection: Connection): Int = ids.sumOf { w.statements.incrementRetry(it) }
}

/** Applies a flush's per-event outcomes, all in one transaction. */
internal class ProcessResults(
    private val w: QueueWriter,
    private val results: List<BatchEventResult>,
    private val logger: Logger,
) : WriteCommand<Unit>() {
    private val dropped = ArrayList<String>()

    override fun execute(connection: Connection) {
        dropped.clear()
        for (result in results) {
            when {
                result.status == SyncStatus.FAILED_PERMANENT -> {
                    val deleted = w.statements.deleteById(result.eventId)
                    w.txCount -= deleted
                    if (deleted > 0) dropped += result.eventId
                }
                result.status.deletes -> w.txCount -= w.statements.deleteById(result.eventId)
                result.status == SyncStatus.REJECTED -> w.statements.incrementRetry(result.eventId)
                else -> Unit // FAILED_TRANSIENT: untouched.
            }
        }
    }

    override fun onCommitted(value: Unit) {
        if (dropped.isEmpty()) return
        val sample = if (dropped.size <= 10) dropped.toString() else dropped.take(10).toString() + " and ${dropped.size - 10} more"
        LogEvents.warn(logger, "queue.dead_lettered", w.config.name, LogEvents.DEAD_LETTERED, dropped.size, sample)
    }
}

/** Runs one of the bulk deletes of [Statements], bound by [bind]. */
internal class DeleteWhere(
    private val w: QueueWriter,
    private val select: (Statements) -> PreparedStatement,
    private val bind: (PreparedStatement) -> Unit,
) : WriteCommand<Int>() {
    override fun execute(connection: Connection): Int {
        val statement = select(w.statements)
        bind(statement)
        val deleted = statement.executeUpdate()
        w.txCount -= deleted
        return deleted
    }
}

/** Exports every row to [target] as JSON Lines and deletes exactly those rows. */
internal class Drain(private val w: QueueWriter, private val target: Path) : WriteCommand<Int>() {
    override fun execute(connection: Connection): Int {
        // Holding the write lock: the rows exported are exactly the rows the DELETE removes.
        val exported = try {
            writeAtomically(target) { writer ->
                val lines = JsonLinesWriter(writer)
                var rows = 0
                connection.query(EXPORT_QUERY) { rs ->
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
        val deleted = w.statements.clear.executeUpdate()
        check(deleted == exported) { "drainToFile exported $exported rows but would delete $deleted" }
        w.txCount -= deleted
        return deleted
    }
}
