package dev.spool.queue.internal

import dev.spool.engine.ReadConnection
import dev.spool.engine.query
import dev.spool.queue.EventCursor
import dev.spool.queue.EventPage
import dev.spool.queue.QueueStats
import dev.spool.queue.QueuedEvent
import org.jetbrains.exposed.v1.core.Op
import org.jetbrains.exposed.v1.core.SortOrder
import org.jetbrains.exposed.v1.core.and
import org.jetbrains.exposed.v1.core.count
import org.jetbrains.exposed.v1.core.eq
import org.jetbrains.exposed.v1.core.greater
import org.jetbrains.exposed.v1.core.greaterEq
import org.jetbrains.exposed.v1.core.less
import org.jetbrains.exposed.v1.core.lessEq
import org.jetbrains.exposed.v1.core.min
import org.jetbrains.exposed.v1.jdbc.Query
import org.jetbrains.exposed.v1.jdbc.select
import org.jetbrains.exposed.v1.jdbc.selectAll
import java.sql.Connection

/**
 * The offline queue's reads on the read connection: rows for a flush (hiding acknowledged ones
 * through the [ledger]), the on-disk count and the statistics. Any thread; each read is one
 * transaction of [reader].
 */
internal class QueueReads(
    private val reader: ReadConnection,
    private val ledger: DeferredLedger,
    private val maxQueueSize: Int,
    private val clock: () -> Long,
    private val checkOpen: () -> Unit,
) {
    suspend fun sizeFromDisk(): Int = reader.read { QueueTable.selectAll().count().toInt() }

    suspend fun peek(limit: Int): List<QueuedEvent> {
        require(limit >= 0) { "limit must not be negative, was $limit" }
        return visible(limit) { fetch -> QueueTable.selectAll().fifo().limit(fetch) }
    }

    /**
     * A page in FIFO order after [cursor], leaving out acknowledged rows as [peek] does. The
     * cursor is the position (timestamp, id) of the last row looked at, so the next page starts
     * after it whatever was deleted or appended meanwhile; `queue_fifo` finds it (see PAGE).
     */
    suspend fun peekPage(limit: Int, cursor: EventCursor?): EventPage {
        require(limit >= 1) { "limit must be at least 1, was $limit" }
        val acks = Acknowledged()
        val fetch = acks.fetch(limit + 1)
        val rows = reader.read {
            (connection.connection as Connection).query(PAGE, cursor?.timestamp ?: Long.MIN_VALUE, cursor?.rowId ?: 0L, fetch) { rs ->
                buildList { while (rs.next()) add(EventCursor(rs.getLong(QueueTable.timestamp.sql), rs.getLong(QueueTable.id.sql)) to QueueTable.toQueuedEvent(rs)) }
            }
        }
        val visible = rows.filterNot { (_, event) -> acks.hides(event) }
        return when {
            visible.size > limit -> EventPage(visible.take(limit).map { it.second }, visible[limit - 1].first)
            // Hidden rows made room: the page is short, yet rows follow the last one read.
            rows.size == fetch -> EventPage(visible.map { it.second }, rows.last().first)
            else -> EventPage(visible.map { it.second }, null)
        }
    }

    suspend fun eventsBelowRetryCount(maxRetries: Int, limit: Int): List<QueuedEvent> {
        require(limit >= 0) { "limit must not be negative, was $limit" }
        return visible(limit) { fetch ->
            QueueTable.selectAll().where { QueueTable.retryCount less maxRetries }.fifo().limit(fetch)
        }
    }

    private val statsCache = StatsCache()

    /** How many times [stats] scanned the table (a test seam: polling without writes scans once). */
    val statsScans: Long get() = statsCache.scans

    /**
     * The statistics, exact: from [statsCache] while nothing committed to the file since the last
     * scan (one `PRAGMA data_version`), else aggregated from the table.
     */
    suspend fun stats(): QueueStats = reader.read {
        statsCache.get(connection.connection as Connection, clock()) {
            val count = QueueTable.id.count()
            fun countWhere(op: () -> Op<Boolean>): Int = QueueTable.select(count).where(op).single()[count].toInt()

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
            StatsCache.Snapshot(total, maxQueueSize, oldestMillis, buckets, types)
        }
    }

    private fun Query.fifo() = orderBy(QueueTable.timestamp to SortOrder.ASC, QueueTable.id to SortOrder.ASC)

    /** Reads up to [limit] rows, skipping rows recorded in the ledger (fetching enough extra). */
    private suspend fun visible(limit: Int, query: (fetch: Int) -> Query): List<QueuedEvent> {
        if (limit == 0) {
            checkOpen()
            return emptyList()
        }
        val acks = Acknowledged()
        val rows = reader.read { query(acks.fetch(limit)).map(QueueTable::toQueuedEvent) }
        if (acks.none()) return rows
        return rows.asSequence().filterNot(acks::hides).take(limit).toList()
    }

    /**
     * The acknowledgements a read must hide, taken BEFORE the read starts: a flush that commits
     * during the read forgets its ids, yet the read's snapshot may predate that commit and still
     * hold the rows. Hiding by the copy too keeps such rows hidden (never handed out twice).
     */
    private inner class Acknowledged {
        private val before: Map<String, Long> = if (ledger.isEmpty()) emptyMap() else ledger.snapshot()

        /** How many rows to read for [wanted] visible ones: enough to skip every hidden row. */
        fun fetch(wanted: Int): Int =
            (wanted.toLong() + maxOf(before.size, ledger.pending)).coerceAtMost(Int.MAX_VALUE.toLong()).toInt()

        fun none(): Boolean = before.isEmpty() && ledger.isEmpty()

        fun hides(event: QueuedEvent): Boolean =
            ledger.hides(event.eventId, event.revision) || hides(before, event.eventId, event.revision)
    }

    internal companion object {
        /**
         * A page after a position: ?1 timestamp, ?2 id (Long.MIN_VALUE and 0 for the first page),
         * ?3 rows. The row value comparison is a range on `queue_fifo (timestamp, id)`.
         */
        val PAGE: String = "SELECT ${QueueTable.columns.joinToString { it.sql }} FROM ${QueueTable.tableName} " +
            "WHERE (${QueueTable.timestamp.sql}, ${QueueTable.id.sql}) > (?, ?) " +
            "ORDER BY ${QueueTable.timestamp.sql}, ${QueueTable.id.sql} LIMIT ?"
    }
}
