package dev.spool.engine

import dev.spool.storage.Durability
import dev.spool.storage.QueueStorageException
import org.sqlite.SQLiteConfig
import org.sqlite.SQLiteException
import java.nio.file.Files
import java.nio.file.Path
import java.sql.Connection
import java.sql.SQLException
import kotlin.time.Duration

private val SQLITE_MAGIC = "SQLite format 3\u0000".toByteArray(Charsets.US_ASCII)

/**
 * Refuses a non-empty file that does not start with SQLite's magic header, before SQLite touches
 * it, so such a file is never overwritten.
 */
internal fun checkIsSqliteFile(path: Path) {
    if (!Files.exists(path) || Files.size(path) == 0L) return
    val header = ByteArray(SQLITE_MAGIC.size)
    val read = Files.newInputStream(path).use { it.readNBytes(header, 0, header.size) }
    if (read < header.size || !header.contentEquals(SQLITE_MAGIC)) {
        throw QueueStorageException("$path is not a SQLite database (bad header); refusing to open or overwrite it")
    }
}

/** Opens one connection to [path] in WAL mode with the given [durability]. */
internal fun openConnection(path: Path, durability: Durability, busyTimeout: Duration): Connection {
    val config = SQLiteConfig().apply {
        setJournalMode(SQLiteConfig.JournalMode.WAL)
        setSynchronous(
            when (durability) {
                Durability.NORMAL -> SQLiteConfig.SynchronousMode.NORMAL
                Durability.FULL -> SQLiteConfig.SynchronousMode.FULL
            },
        )
        setBusyTimeout(busyTimeout.inWholeMilliseconds.coerceAtMost(Int.MAX_VALUE.toLong()).toInt())
        // Eager generated-key retrieval costs an extra query per INSERT; nothing here reads them.
        setGetGeneratedKeys(false)
    }
    return config.createConnection("jdbc:sqlite:${path.toAbsolutePath()}")
}

/** Turns a driver exception into a [QueueStorageException] naming [path]; passes others through. */
internal fun storageError(path: Path, action: String, error: Throwable): Throwable = when (error) {
    is QueueStorageException -> error
    is SQLException -> QueueStorageException("Could not $action $path: ${describe(error)}", error)
    else -> error
}

private fun describe(error: SQLException): String =
    (error as? SQLiteException)?.resultCode?.let { "${error.message} ($it)" } ?: error.message.orEmpty()

internal inline fun <T> Connection.query(sql: String, vararg args: Any?, read: (java.sql.ResultSet) -> T): T =
    prepareStatement(sql).use { statement ->
        args.forEachIndexed { i, arg -> statement.setObject(i + 1, arg) }
        statement.executeQuery().use(read)
    }

internal fun Connection.execute(sql: String) {
    createStatement().use { it.execute(sql) }
}

internal fun Connection.longPragma(name: String): Long = query("PRAGMA $name") { rs -> rs.next(); rs.getLong(1) }
