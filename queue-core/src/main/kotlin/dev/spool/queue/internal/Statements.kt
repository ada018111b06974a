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
 * benchmarks module, `InsertPathBenchmark`).
 */
internal class Statements(connection: Connection) : AutoCloseable {
    private val dataVersion = connection.prepareStatement("PRAGMA data_version")
    private val count = connection.prepareStatement("SELECT COUNT(*) FROM queue")
    private val insert = connection.prepareStatement(
        "INSERT INTO queue (event_id, event_type, payload, project_id, coalesce_key, timestamp, retry_count) " +
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
    )
    private val replace = connection.prepareStatement(
        "UPDATE queue SET payload = ?, timestamp = ?, revision = revision + 1 WHERE event_id = ?",
    )
    private val exists = connection.prepareStatement("SELECT 1 FROM queue WHERE event_id = ?")
    private val findCoalesced = connection.prepareStatement(
        "SELECT id, event_id FROM queue WHERE coalesce_key = ? ORDER BY id DESC LIMIT 1",
    )
    private val coalesce = connection.prepareStatement(
        "UPDATE queue SET event_id = ?, event_type = ?, payload = ?, project_id = ?, timestamp = ?, " +
            "revision = revision + 1 WHERE id = ?",
    )
    private val evictOldest = connection.prepareStatement(
        "DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY timestamp, id LIMIT ?)",
    )
    private val deleteById = connection.prepareStatement("DELETE FROM queue WHERE event_id = ?")
    private val deleteRevision = connection.prepareStatement("DELETE FROM queue WHERE event_id = ? AND revision = ?")
    private val incrementRetry =
        connection.prepareStatement("UPDATE queue SET retry_count = retry_count + 1 WHERE event_id = ?")
    val deleteProject: PreparedStatement = connection.prepareStatement("DELETE FROM queue WHERE project_id = ?")
    val clear: PreparedStatement = connection.prepareStatement("DELETE FROM queue")

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
