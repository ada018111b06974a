package dev.spool.engine

import java.sql.Connection

/**
 * The prepared statements of a queue's writer hooks, owned by the engine: [current] prepares them
 * on first use, and the [WriteEngine] calls [invalidate] after every failed transaction, so the
 * next use prepares them afresh.
 *
 * sqlite-jdbc finalizes a prepared statement that failed with most error codes (SQLITE_FULL,
 * SQLITE_IOERR, SQLITE_READONLY …): reusing it would fail every later write until the queue is
 * reopened. With this cache no queue has to remember that; it never holds a statement across a
 * rollback. Writer thread only (and the opening thread before the writer starts).
 */
internal class StatementCache<S : AutoCloseable>(
    private val connection: Connection,
    private val prepare: (Connection) -> S,
) : AutoCloseable {
    private var statements: S? = null

    /** The statements, prepared now if a failure (or nothing yet) left none. */
    val current: S
        get() = statements ?: prepare(connection).also { statements = it }

    /** Closes the statements; the next [current] prepares new ones. Never throws. */
    fun invalidate() {
        val old = statements ?: return
        statements = null
        runCatching { old.close() }
    }

    override fun close(): Unit = invalidate()
}
