package dev.spool.engine

import java.nio.file.Path
import java.sql.Connection
import kotlin.time.Duration

/**
 * What `Maintenance` needs from a Spool component that owns a database file and its single
 * writer. [SqliteDatabase] implements it for both queues; each queue delegates to its own.
 */
internal interface MaintenanceHost {
    /** The database file, absolute. */
    val path: Path

    /** Which kind of queue this is, for log lines. */
    val kind: QueueKind

    /** The component's name, for logs and backup file names. */
    val name: String

    /** How long a maintenance connection waits for locks. */
    val busyTimeout: Duration

    /** @throws IllegalStateException if the component is closed. */
    fun checkOpen()

    /**
     * Runs [block] on the writer thread with the writer connection, outside any transaction and
     * between two groups of writes, and suspends until it returned.
     */
    suspend fun <T> onWriterBare(block: (Connection) -> T): T
}
