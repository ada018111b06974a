package dev.spool.tasks.postgres.internal

import dev.spool.storage.QueueStorageException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext
import org.slf4j.LoggerFactory
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.SQLException
import java.sql.SQLTransientConnectionException
import java.sql.Types
import javax.sql.DataSource

/**
 * How the PostgreSQL queue runs a call: borrow a connection from the caller's [DataSource], run one
 * statement (autocommit) or one transaction on it, give it back; failures become
 * [QueueStorageException]s.
 *
 * **Retries.** A call is retried, at most [MAX_TRIES] times in all, when PostgreSQL certainly
 * rolled it back (serialization failure `40001`, deadlock `40P01`), and, for calls marked
 * [Retry.SAFE], when the connection was lost (class `08`, or `57P01` from `pg_terminate_backend` or
 * a restart). A lost connection during an unsafe call (one whose outcome could have committed just
 * before the loss and would differ when repeated) is reported, never guessed at.
 */
internal class PgDatabase(
    private val dataSource: DataSource,
    private val dispatcher: CoroutineDispatcher,
    private val describe: String,
    private val clock: java.time.Clock? = null,
) {
    /** Whether a call may be repeated after a lost connection. */
    enum class Retry { SAFE, UNSAFE }

    suspend fun <T> call(what: String, retry: Retry, block: (Connection) -> T): T =
        withContext(dispatcher) { callBlocking(what, retry, block) }

    fun <T> callBlocking(what: String, retry: Retry, block: (Connection) -> T): T {
        var tries = 0
        while (true) {
            tries++
            val connection = try {
                dataSource.connection
            } catch (e: SQLException) {
                // Nothing was sent: always safe to try again, unless the pool already waited its timeout.
                if (tries < MAX_TRIES && e !is SQLTransientConnectionException && isConnectionLoss(e)) continue
                throw QueueStorageException("$describe: no database connection for $what: ${e.message}", e)
            }
            try {
                return connection.use { c ->
                    if (clock == null) return@use block(c)
                    c.prepareStatement("SELECT set_config('${PgSql.CLOCK_SETTING}', ?, false)").use { s ->
                        s.setString(1, clock.millis().toString())
                        s.execute()
                    }
                    try {
                        block(c)
                    } finally {
                        runCatching { c.createStatement().use { it.execute("RESET ${PgSql.CLOCK_SETTING}") } }
                    }
                }
            } catch (e: SQLException) {
                val rolledBack = e.sqlState == SERIALIZATION_FAILURE || e.sqlState == DEADLOCK
                val lost = isConnectionLoss(e)
                if (tries < MAX_TRIES && (rolledBack || (lost && retry == Retry.SAFE))) {
                    logger.debug("{}: {} failed ({}); trying again", describe, what, e.sqlState)
                    continue
                }
                val outcome = if (lost && retry == Retry.UNSAFE) " (connection lost: it may or may not have committed)" else ""
                throw QueueStorageException("$describe: $what failed$outcome: ${e.message}", e)
            }
        }
    }

    companion object {
        const val MAX_TRIES = 3
        private const val SERIALIZATION_FAILURE = "40001"
        private const val DEADLOCK = "40P01"
        private val logger = LoggerFactory.getLogger(PgDatabase::class.java)

        fun isConnectionLoss(e: SQLException): Boolean {
            val state = e.sqlState ?: return e.cause is java.io.IOException
            return state.startsWith("08") || state == "57P01" || state == "57P02" || state == "57P03"
        }
    }
}

/** Runs [block] in one transaction on this connection; rolls back if it throws. */
internal inline fun <T> Connection.transaction(block: () -> T): T {
    autoCommit = false
    try {
        val result = block()
        commit()
        return result
    } catch (t: Throwable) {
        runCatching { rollback() }
        throw t
    } finally {
        runCatching { autoCommit = true }
    }
}

internal fun PreparedStatement.setNullableString(index: Int, value: String?) {
    if (value == null) setNull(index, Types.VARCHAR) else setString(index, value)
}

internal fun PreparedStatement.setNullableLong(index: Int, value: Long?) {
    if (value == null) setNull(index, Types.BIGINT) else setLong(index, value)
}

internal fun Connection.textArray(values: Collection<String>): java.sql.Array = createArrayOf("text", values.toTypedArray())
