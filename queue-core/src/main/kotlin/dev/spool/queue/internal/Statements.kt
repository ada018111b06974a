package dev.spool.queue.internal

import dev.spool.queue.QueueEvent
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.Types

/**
 * The write connection's prepared statements, prepared once and reused: the hot path never
 * re-parses SQL. Writer thread only.
 *
 * A reused `PreparedStatement` is kept on the insert path instead of Exposed's DSL: the DSL
 * allocates a statement, arguments and a transaction wrapper per row (compared in the
 * benchmarks module, `InsertPathBenchmark`). Column and table names come from [QueueTable].
 */
internal class Statements(connection: Connection) : AutoCloseable {
    private val dataVersion = connection.prepareStatement("PRAGMA data_version")
    private val count = connection.prepareStatement("SELECT COUNT(*) FROM $QUEUE")
    private val insert = connection.prepareStatement(
        "INSERT INTO $QUEUE (${T.eventId.sql}, ${T.eventType.sql}, ${T.payload.sql}, ${T.projectId.sql}, " +
            "${T.coalesceKey.sql}, ${T.timestamp.sql}, ${T.retryCount.sql}) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (${T.eventId.sql}) DO NOTHING",
    )
    private val replace = connection.prepareStatement(
        "UPDATE $QUEUE SET ${T.payload.sql} = ?, ${T.timestamp.sql} = ?, ${T.revision.sql} = ${T.revision.sql} + 1 " +
            "WHERE ${T.eventId.sql} = ?",
    )
    private val exists = connection.prepareStatement("SELECT 1 FROM $QUEUE WHERE ${T.eventId.sql} = ?")
    private val findCoalesced = connection.prepareStatement(
        "SELECT ${T.id.sql}, ${T.eventId.sql} FROM $QUEUE WHERE ${T.coalesceKey.sql} = ? ORDER BY ${T.id.sql} DESC LIMIT 1",
    )
    private val coalesce = connection.prepareStatement(
        "UPDATE $QUEUE SET ${T.eventId.sql} = ?, ${T.eventType.sql} = ?, ${T.payload.sql} = ?, ${T.projectId.sql} = ?, " +
            "${T.timestamp.sql} = ?, ${T.revision.sql} = ${T.revision.sql} + 1 WHERE ${T.id.sql} = ?",
    )
    private val evictOldest = connection.prepareStatement(
        "DELETE FROM $QUEUE WHERE ${T.id.sql} IN " +
            "(SELECT ${T.id.sql} FROM $QUEUE ORDER BY ${T.timestamp.sql}, ${T.id.sql} LIMIT ?)",
    )
    private val deleteById = connection.prepareStatement("DELETE FROM $QUEUE WHERE ${T.eventId.sql} = ?")
    private val deleteRevision =
        connection.prepareStatement("DELETE FROM $QUEUE WHERE ${T.eventId.sql} = ? AND ${T.revision.sql} = ?")
    private val incrementRetry = connection.prepareStatement(
        "UPDATE $QUEUE SET ${T.retryCount.sql} = ${T.retryCount.sql} + 1 WHERE ${T.eventId.sql} = ?",
    )
    val deleteProject: PreparedStatement =
        connection.prepareStatement("DELETE FROM $QUEUE WHERE ${T.projectId.sql} = ?")
    val clear: PreparedStatement = connection.prepareStatement("DELETE FROM $QUEUE")

    private val all = listOf(
        dataVersion, count, insert, replace, exists, findCoalesced, coalesce, evictOldest,
        deleteById, deleteRevision, incrementRetry, deleteProject, clear,
    )

    fun dataVersion(): Long = dataVersion.executeQuery().use { it.next(); it.getLong(1) }

    /** The only full scan: run at open, and when another connection wrote to the file. */
    fun count(): Int = count.executeQuery().use { it.next(); it.getInt(1) }

    /** Inserts a new row; false if [QueueEvent.eventId] is already queued (nothing written). */
    fun insert(event: QueueEvent, timestamp: Long, retryCount: Int): Boolean {
        insert.setString(1, event.eventId)
        insert.setString(2, event.eventType)
        insert.setString(3, event.payload)
        insert.setNullableString(4, event.projectId)
        insert.setNullableString(5, event.coalesceKey)
        insert.setLong(6, timestamp)
        insert.setInt(7, retryCount)
        return insert.executeUpdate() == 1
    }

    fun replace(event: QueueEvent, timestamp: Long) {
        replace.setString(1, event.payload)
        replace.setLong(2, timestamp)
        replace.setString(3, event.eventId)
        replace.executeUpdate()
    }

    fun exists(eventId: String): Boolean {
        exists.setString(1, eventId)
        return exists.executeQuery().use { it.next() }
    }

    /** The newest row with [coalesceKey], as its rowid and eventId. */
    fun findCoalesced(coalesceKey: String): Pair<Long, String>? {
        findCoalesced.setString(1, coalesceKey)
        return findCoalesced.executeQuery().use { if (it.next()) it.getLong(1) to it.getString(2) else null }
    }

    fun coalesce(rowId: Long, event: QueueEvent, timestamp: Long) {
        coalesce.setString(1, event.eventId)
        coalesce.setString(2, event.eventType)
        coalesce.setString(3, event.payload)
        coalesce.setNullableString(4, event.projectId)
        coalesce.setLong(5, timestamp)
        coalesce.setLong(6, rowId)
        coalesce.executeUpdate()
    }

    fun evictOldest(rows: Int): Int {
        evictOldest.setInt(1, rows)
        return evictOldest.executeUpdate()
    }

    fun deleteById(eventId: String): Int {
        deleteById.setString(1, eventId)
        return deleteById.executeUpdate()
    }

    /** Deletes acknowledged rows, honouring pinned revisions; returns the change count. */
    fun deleteAcknowledged(acks: Map<String, Long>): Int {
        var deleted = 0
        for ((eventId, revision) in acks) {
            deleted += if (revision == ANY_REVISION) {
                deleteById(eventId)
            } else {
                deleteRevision.setString(1, eventId)
                deleteRevision.setLong(2, revision)
                deleteRevision.executeUpdate()
            }
        }
        return deleted
    }

    fun incrementRetry(eventId: String): Int {
        incrementRetry.setString(1, eventId)
        return incrementRetry.executeUpdate()
    }

    override fun close() {
        all.forEach { runCatching { it.close() } }
    }

    private fun PreparedStatement.setNullableString(index: Int, value: String?) {
        if (value == null) setNull(index, Types.VARCHAR) else setString(index, value)
    }
}

private val T = QueueTable
private val QUEUE = QueueTable.tableName
