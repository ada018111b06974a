package dev.spool.queue.internal

import dev.spool.queue.QueuedEvent
import org.jetbrains.exposed.v1.core.ResultRow
import org.jetbrains.exposed.v1.core.Table
import java.time.Instant

/** The `queue` table as Exposed sees it, for reads and admin queries. DDL lives in [Schema]. */
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
