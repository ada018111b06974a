package dev.spool.queue.internal

import dev.spool.engine.execute
import dev.spool.engine.longPragma
import dev.spool.engine.query
import dev.spool.storage.QueueStorageException
import java.sql.Connection

/**
 * The queue's schema and its migrations, versioned by `PRAGMA user_version`.
 *
 * - 0 with no `queue` table: a new file; create version [CURRENT].
 * - 0 with a `queue` table that has a `data` column: a file of Spool's Python ancestor. Its rows
 *   are copied into the new layout (ids, order and retry counts kept; the project id lifted out
 *   of the JSON; seconds turned into milliseconds) and its other tables are left alone.
 * - [CURRENT]: nothing to do. Newer: refused, so an old Spool never damages a newer file.
 *
 * A file created here gets `auto_vacuum = INCREMENTAL`, so `Maintenance.incrementalVacuum` can
 * give a drained queue's pages back to the disk. SQLite fixes that mode when page 1 is first
 * written, which in WAL mode already happens when the connection opens, so the mode is applied
 * by a `VACUUM` of the new, empty file (instant). Existing files, including migrated ones, keep
 * their mode (usually NONE) because a `VACUUM` at open could take long; `Maintenance.vacuum`
 * converts them.
 */
internal object Schema {
    const val CURRENT = 1

    private const val CREATE_TABLE = """
        CREATE TABLE queue (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            event_type TEXT NOT NULL,
            payload TEXT NOT NULL,
            project_id TEXT,
            coalesce_key TEXT,
            timestamp INTEGER NOT NULL,
            retry_count INTEGER NOT NULL DEFAULT 0,
            revision INTEGER NOT NULL DEFAULT 0
        )"""

    private val INDEXES = listOf(
        "CREATE INDEX queue_fifo ON queue(timestamp, id)",
        "CREATE INDEX queue_project ON queue(project_id) WHERE project_id IS NOT NULL",
        "CREATE INDEX queue_coalesce ON queue(coalesce_key) WHERE coalesce_key IS NOT NULL",
    )

    /** Brings the file at [connection] to [CURRENT], in one transaction. */
    fun migrate(connection: Connection, describe: String) {
        var fresh = false
        connection.execute("BEGIN IMMEDIATE")
        try {
            val version = connection.longPragma("user_version").toInt()
            // Nothing at all in the file yet (not even another component's tables).
            fresh = connection.query("SELECT count(*) FROM sqlite_schema") { rs -> rs.next(); rs.getInt(1) } == 0
            val columns = connection.query("PRAGMA table_info(queue)") { rs ->
                buildSet { while (rs.next()) add(rs.getString("name")) }
            }
            when {
                version > CURRENT -> throw QueueStorageException(
                    "$describe has schema version $version, newer than this Spool understands ($CURRENT)",
                )
                version == CURRENT -> Unit
                columns.isEmpty() -> createCurrent(connection)
                "data" in columns -> migrateLegacy(connection)
                else -> throw QueueStorageException(
                    "$describe has a 'queue' table Spool does not recognise (columns: ${columns.sorted()})",
                )
            }
            connection.execute("COMMIT")
        } catch (t: Throwable) {
            runCatching { connection.execute("ROLLBACK") }
            throw t
        }
        if (fresh) enableIncrementalVacuum(connection)
    }

    /** Outside any transaction, on a new and empty file: `VACUUM` is what applies the mode. */
    private fun enableIncrementalVacuum(connection: Connection) {
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("VACUUM")
    }

    private fun createCurrent(connection: Connection) {
        connection.execute(CREATE_TABLE)
        INDEXES.forEach(connection::execute)
        connection.execute("PRAGMA user_version = $CURRENT")
    }

    private fun migrateLegacy(connection: Connection) {
        connection.execute("ALTER TABLE queue RENAME TO queue_legacy")
        // The legacy index names may collide with ours; they go with the old table.
        createCurrent(connection)
        connection.execute(
            """
            INSERT INTO queue (id, event_id, event_type, payload, project_id, coalesce_key, timestamp, retry_count)
            SELECT id, event_id, event_type,
                   CASE WHEN json_valid(data) THEN coalesce(data -> '$.payload', json(data)) ELSE json_quote(data) END,
                   CASE WHEN json_valid(data)
                        THEN coalesce(data ->> '$.project_uuid', data ->> '$.payload.project_uuid') END,
                   coalesce_key,
                   CAST(timestamp * 1000 AS INTEGER),
                   coalesce(retry_count, 0)
            FROM queue_legacy
            ORDER BY id
            """.trimIndent(),
        )
        connection.execute("DROP TABLE queue_legacy")
    }
}
