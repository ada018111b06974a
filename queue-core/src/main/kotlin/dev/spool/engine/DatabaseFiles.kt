package dev.spool.engine

import dev.spool.storage.CheckpointMode
import dev.spool.storage.CheckpointResult
import dev.spool.storage.Durability
import dev.spool.storage.QueueStorageException
import org.sqlite.SQLiteConnection
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardCopyOption
import java.sql.Connection
import kotlin.time.Duration

/** The WAL file next to the database at [database]. */
internal fun walFile(database: Path): File = File("$database-wal")

/** The WAL's size in bytes, 0 when there is none. One `stat`, no exception. */
internal fun walSize(database: Path): Long = walFile(database).length()

/** Runs `PRAGMA wal_checkpoint(mode)`; must be called outside a transaction. */
internal fun Connection.checkpoint(mode: CheckpointMode): CheckpointResult =
    query("PRAGMA wal_checkpoint(${mode.name})") { rs ->
        if (!rs.next()) CheckpointResult(completed = true, walFrames = -1, checkpointedFrames = -1)
        else CheckpointResult(completed = rs.getInt(1) == 0, walFrames = rs.getInt(2), checkpointedFrames = rs.getInt(3))
    }

/** SQLite's complaints about the file, at most [limit]; empty when it is sound. */
internal fun Connection.integrityProblems(limit: Int = 100): List<String> =
    query("PRAGMA integrity_check($limit)") { rs ->
        buildList { while (rs.next()) add(rs.getString(1)) }
    }.filterNot { it == "ok" }

/** `page_count * page_size`: the database's size as SQLite sees it. */
internal fun Connection.databaseBytes(): Long = longPragma("page_count") * longPragma("page_size")

/**
 * Copies the database at [source] to [target] with SQLite's online backup API, while other
 * connections keep writing.
 *
 * The copy runs in one `sqlite3_backup_step(-1)` on a connection of its own: one read
 * transaction, so the copy is a consistent snapshot and writers (in WAL mode) are never blocked.
 * Stepping in chunks instead would restart the copy every time another connection commits, which
 * under a steady write load never finishes. The copy goes to a temporary sibling, must pass
 * `PRAGMA integrity_check`, and is then atomically moved onto [target].
 */
internal fun onlineBackup(source: Path, target: Path, busyTimeout: Duration) {
    val destination = target.toAbsolutePath().normalize()
    val directory = destination.parent
    try {
        Files.createDirectories(directory)
    } catch (e: java.io.IOException) {
        throw QueueStorageException("Could not create the backup directory $directory: $e", e)
    }
    val temp = Files.createTempFile(directory, ".${destination.fileName}.", ".tmp")
    try {
        openConnection(source, Durability.NORMAL, busyTimeout).use { connection ->
            val db = connection.unwrap(SQLiteConnection::class.java).database
            val rc = db.backup("main", temp.toString(), null, 100, 3, -1)
            if (rc != 0) throw QueueStorageException("Could not back up $source to $destination: SQLite result code $rc")
        }
        val problems = openConnection(temp, Durability.FULL, busyTimeout).use { it.integrityProblems() }
        if (problems.isNotEmpty()) {
            throw QueueStorageException("The backup of $source failed its integrity check: ${problems.take(5)}")
        }
        Files.move(temp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
    } catch (e: java.sql.SQLException) {
        throw storageError(source, "back up", e)
    } finally {
        deleteDatabaseFiles(temp)
    }
}

/**
 * Replaces the content of the database at [target] with the backup at [backup], through SQLite
 * (the backup API writing into [target] under its locks), after checking the backup.
 */
internal fun restoreDatabase(
    backup: Path,
    target: Path,
    busyTimeout: Duration,
    schemas: List<SchemaVersions>,
) {
    val source = backup.toAbsolutePath().normalize()
    if (!Files.isRegularFile(source) || Files.size(source) == 0L) {
        throw QueueStorageException("$source is not a backup: no such file, or empty")
    }
    checkIsSqliteFile(source)
    try {
        val (problems, version) = openConnection(source, Durability.FULL, busyTimeout).use {
            it.integrityProblems() to it.longPragma("user_version").toInt()
        }
        if (problems.isNotEmpty()) {
            throw QueueStorageException("The backup $source failed its integrity check: ${problems.take(5)}; nothing restored")
        }
        if (schemas.none { version in it.versions }) {
            throw QueueStorageException(
                "The backup $source has schema version $version, which this Spool does not understand " +
                    "(${schemas.joinToString { "${it.kind} ${it.versions.last}" }})",
            )
        }
        val destination = target.toAbsolutePath().normalize()
        destination.parent?.let { Files.createDirectories(it) }
        checkIsSqliteFile(destination)
        openConnection(destination, Durability.FULL, busyTimeout).use { connection ->
            val db = connection.unwrap(SQLiteConnection::class.java).database
            val rc = db.restore("main", source.toString(), null, 100, 3, -1)
            if (rc != 0) throw QueueStorageException("Could not restore $destination from $source: SQLite result code $rc")
            connection.checkpoint(CheckpointMode.TRUNCATE)
        }
    } catch (e: java.sql.SQLException) {
        throw storageError(target, "restore", e)
    }
}

/** The `user_version` values a kind of Spool file may carry, for [restoreDatabase]'s check. */
internal class SchemaVersions(val kind: String, val versions: IntRange)

/** Deletes [database] and its `-wal`, `-shm` and `-journal` companions, ignoring failures. */
internal fun deleteDatabaseFiles(database: Path) {
    for (suffix in listOf("", "-wal", "-shm", "-journal")) {
        runCatching { Files.deleteIfExists(Path.of("$database$suffix")) }
    }
}
