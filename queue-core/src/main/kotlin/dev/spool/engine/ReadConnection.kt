package dev.spool.engine

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import org.jetbrains.exposed.v1.exceptions.ExposedSQLException
import org.jetbrains.exposed.v1.jdbc.Database
import org.jetbrains.exposed.v1.jdbc.JdbcTransaction
import org.jetbrains.exposed.v1.jdbc.transactions.TransactionManager
import org.jetbrains.exposed.v1.jdbc.transactions.transaction
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy
import java.nio.file.Path
import java.sql.Connection
import java.sql.SQLException

/**
 * The read side of a queue: one SQLite connection, used through Exposed one transaction at a
 * time on [dispatcher]. Under WAL it reads the last committed state without blocking the writer.
 * Shared by `OfflineQueue` and `TaskQueue`.
 */
internal class ReadConnection(
    private val path: Path,
    private val connection: Connection,
    private val dispatcher: CoroutineDispatcher,
    private val checkOpen: () -> Unit,
) : AutoCloseable {
    // Exposed closes the connections it is given after each transaction; this one lives on.
    private val db = Database.connect(getNewConnection = { nonClosing(connection) })
    private val lock = Mutex()

    /**
     * Runs [block] in a read transaction. Driver errors become [dev.spool.storage.QueueStorageException].
     *
     * @throws IllegalStateException if the queue is closed.
     */
    suspend fun <T> read(block: JdbcTransaction.() -> T): T {
        checkOpen()
        return withContext(dispatcher) {
            lock.withLock {
                checkOpen()
                try {
                    transaction(db) { block() }
                } catch (e: SQLException) {
                    throw storageError(path, "read", e)
                } catch (e: ExposedSQLException) {
                    throw storageError(path, "read", e.cause ?: e)
                }
            }
        }
    }

    /**
     * Waits for a read in progress, then closes the connection and unregisters it from Exposed.
     * Works on an interrupted thread too (the flag stays set).
     */
    override fun close() {
        uninterruptibly {
            lock.withLock {
                runCatching { TransactionManager.closeAndUnregister(db) }
                runCatching { connection.close() }
            }
        }
    }

    private companion object {
        fun nonClosing(connection: Connection): Connection =
            Proxy.newProxyInstance(Connection::class.java.classLoader, arrayOf(Connection::class.java)) { _, method, args ->
                when (method.name) {
                    "close" -> Unit
                    "isClosed" -> false
                    else -> try {
                        method.invoke(connection, *(args ?: emptyArray()))
                    } catch (e: InvocationTargetException) {
                        throw e.targetException
                    }
                }
            } as Connection
    }
}
