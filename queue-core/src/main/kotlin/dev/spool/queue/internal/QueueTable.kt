package dev.spool.queue.internal

import dev.spool.queue.QueuedEvent
import org.jetbrains.exposed.v1.core.Column
import org.jetbrains.exposed.v1.core.ResultRow
import org.jetbrains.exposed.v1.core.Table
import java.sql.ResultSet
import java.time.Instant

/**
 * The `queue` table: the one definition of its column names and of the mapping of a row to a
 * [QueuedEvent]. [Schema]'s DDL, the SQL of [Statements] and the JSON Lines export take their
 * column names from here; `QueueTableSpec` checks that the DDL creates exactly these columns.
 */
internal object QueueTable : Table("queue") {
    val id = long("id").autoIncrement()
    val eventId = text("event_id")
    val eventType = text("event_type")
    val payload = text("payload")
    val projectId = text("project_id").nullable()
    val coalesceKey = text("coalesce_key").nullable()
    val timestamp = long("timestamp")
    val retryCount = integer("retry_count")
    val revision = long("revision")

    override val primaryKey: PrimaryKey = PrimaryKey(id)

    /** The columns `drainToFile` exports; each becomes the JSON key of the same name. */
    val exportColumns: List<Column<*>> = listOf(eventId, eventType, projectId, coalesceKey, timestamp, retryCount, payload)

    /** The same mapping for a hand-written statement's row, read by column name. */
    fun toQueuedEvent(rs: ResultSet): QueuedEvent = QueuedEvent(
        eventId = rs.getString(eventId.name),
        eventType = rs.getString(eventType.name),
        payload = rs.getString(payload.name),
        projectId = rs.getString(projectId.name),
        coalesceKey = rs.getString(coalesceKey.name),
        timestamp = Instant.ofEpochMilli(rs.getLong(timestamp.name)),
        retryCount = rs.getInt(retryCount.name),
        revision = rs.getLong(revision.name),
    )

    fun toQueuedEvent(row: ResultRow): QueuedEvent = QueuedEvent(
        eventId = row[eventId],
        eventType = row[eventType],
        payload = row[payload],
        projectId = row[projectId],
        coalesceKey = row[coalesceKey],
        timestamp = Instant.ofEpochMilli(row[timestamp]),
        retryCount = row[retryCount],
        revision = row[revision],
    )
}

/** The SQL name of this column, for hand-written statements. */
internal val Column<*>.sql: String get() = name

/** Every row in queue order, with [QueueTable.exportColumns]: what `drainToFile` writes. */
internal val EXPORT_QUERY: String =
    "SELECT ${QueueTable.exportColumns.joinToString { it.sql }} FROM ${QueueTable.tableName} " +
        "ORDER BY ${QueueTable.timestamp.sql}, ${QueueTable.id.sql}"
