package dev.spool.maintenance

import dev.spool.queue.OfflineQueue
import dev.spool.queue.QueueConfig
import dev.spool.storage.CheckpointMode
import dev.spool.storage.CheckpointResult
import dev.spool.storage.Durability
import dev.spool.storage.IntegrityReport
import dev.spool.storage.QueueStorageException
import dev.spool.engine.LogEvents
import dev.spool.tasks.TaskQueue
import dev.spool.engine.MaintenanceHost
import dev.spool.engine.OpenFiles
import dev.spool.engine.checkpoint
import dev.spool.engine.databaseBytes
import dev.spool.engine.execute
import dev.spool.engine.integrityProblems
import dev.spool.engine.longPragma
import dev.spool.engine.onlineBackup
import dev.spool.engine.openConnection
import dev.spool.engine.restoreDatabase
import dev.spool.engine.SchemaVersions
import dev.spool.queue.internal.Schema
import dev.spool.tasks.internal.TaskSchema
import dev.spool.engine.storageError
import dev.spool.engine.walSize
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext
import org.slf4j.LoggerFactory
import java.io.IOException
import java.nio.file.Files
import java.nio.file.Path
import java.time.Instant
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter
import kotlin.coroutines.CoroutineContext
import kotlin.streams.asSequence
import kotlin.time.Duration.Companion.seconds

/**
 * Upkeep of a queue's SQLite file while the queue is in use: online backups with retention, WAL
 * checkpoints, `VACUUM`, incremental vacuum, `ANALYZE` and integrity checks. Obtain one with
 * [Maintenance.of]; restore a backup with [Maintenance.restore].
 *
 * **Through the single writer.** Every operation that writes ([checkpoint], [vacuum],
 * [incrementalVacuum], [analyze]) is handed to the queue's writer and runs on its thread between
 * two groups of writes, outside any transaction (SQLite refuses `VACUUM` and checkpoints inside
 * one). Writes submitted meanwhile wait in the queue's buffer and commit right after, so the
 * cached count is never bypassed and no caller sees an error. None of these operations changes a
 * row. Operations that only read ([backup], [integrityCheck]) use a connection of their own and
 * never stop the writer: in WAL mode they see one consistent snapshot while writes go on.
 *
 * **Threading and cancellation.** All members are safe to call from any thread, concurrently.
 * Blocking work runs on [context] (by default [Dispatchers.IO]) or on the writer thread.
 * Cancelling a caller whose operation is still waiting for the writer drops the operation; once
 * it runs, it runs to the end.
 *
 * **Not** a scheduler: call these from your own timer (a nightly backup, a weekly `VACUUM`).
 * The one automatic piece, the WAL checkpoint policy, is configured by
 * [QueueConfig.walSizeLimitBytes] (and [dev.spool.tasks.TaskQueueConfig.walSizeLimitBytes]). Java callers use
 * [blocking] or [async].
 */
public class Maintenance internal constructor(
    private val host: MaintenanceHost,
    private val context: CoroutineContext,
) {
    /**
     * Writes a consistent copy of the database to [target] (replacing it) with SQLite's online
     * backup API, while writers keep writing, and returns [target].
     *
     * The copy is one snapshot: every write committed before the backup started, none committed
     * after. It is written to a temporary sibling of [target], must pass `PRAGMA integrity_check`,
     * and only then atomically replaces [target]; on failure [target] is untouched. The copy opens
     * as a working queue with [OfflineQueue.open]. Acknowledgements recorded in
     * [OfflineQueue.deferredSync] but not flushed are in memory only, so their rows are in the
     * copy (delivery stays at least once).
     *
     * @throws IllegalArgumentException if [target] is the database file of a queue open in this
     *   JVM (this queue's own file included) or its `-wal`, `-shm` or `-journal` file: replacing
     *   it under an open connection would lose data. Files open in other processes are not seen.
     * @throws QueueStorageException if the copy cannot be made, written or verified.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun backup(target: Path): Path {
        host.checkOpen()
        OpenFiles.requireNotOpen(target, "target")
        withContext(context) { onlineBackup(host.path, target, host.busyTimeout) }
        return target
    }

    /**
     * Backs up into [directory] under a new time-stamped name, then deletes the oldest backups of
     * this queue there so that only the newest [keep] remain, and returns the new file.
     *
     * Names are `<queue name>-<UTC time, yyyyMMdd'T'HHmmssSSS'Z'>.db` (the queue name with
     * characters other than letters, digits, `.`, `_` and `-` replaced by `_`). Only files
     * matching that pattern for this queue are ever deleted; anything else in [directory] is left
     * alone. The file just written is always kept; the others are ranked by their modification
     * time, newest first, not by the stamp in their names, so a file stamped in the future (a
     * clock that was wrong, a file copied in) cannot push the new backup out. A matching file
     * that a queue in this JVM has open is never deleted. See [backup] for the copy itself.
     *
     * @throws IllegalArgumentException if [keep] is less than 1.
     * @throws QueueStorageException if the copy cannot be made, or old backups cannot be deleted.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun backupRotating(directory: Path, keep: Int): Path {
        require(keep >= 1) { "keep must be at least 1, was $keep" }
        host.checkOpen()
        return withContext(context) {
            val prefix = host.name.replace(UNSAFE_NAME_CHARS, "_")
            var target = directory.resolve("$prefix-${STAMP.format(Instant.now())}.db")
            var n = 1
            while (Files.exists(target)) target = directory.resolve("$prefix-${STAMP.format(Instant.now())}-${n++}.db")
            OpenFiles.requireNotOpen(target, "target")
            onlineBackup(host.path, target, host.busyTimeout)
            prune(directory, prefix, keep, target)
            target
        }
    }

    /**
     * Runs a WAL checkpoint of the given [mode] on the writer and returns what it did. A
     * checkpoint that could not complete is a value ([CheckpointResult.completed] false), also
     * logged as `queue.checkpoint_failed`.
     *
     * Modes other than [CheckpointMode.PASSIVE] wait for readers up to [QueueConfig.busyTimeout],
     * holding back the queue's writes meanwhile.
     *
     * @throws QueueStorageException if SQLite reports an error.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun checkpoint(mode: CheckpointMode = CheckpointMode.PASSIVE): CheckpointResult {
        val walBefore = walSize(host.path)
        val result = host.onWriterBare { it.checkpoint(mode) }
        if (!result.completed) {
            LogEvents.warn(
                logger, "queue.checkpoint_failed", host.name, host.kind.checkpointFailed, mode, walBefore,
                "busy after checkpointing ${result.checkpointedFrames} of ${result.walFrames} frames: " +
                    "readers held it past the busy timeout",
            )
        }
        return result
    }

    /**
     * Rebuilds the database file compactly with `VACUUM` on the writer, then truncates the WAL,
     * and returns how many bytes the database shrank by. Also switches a file created before
     * incremental vacuum existed (auto_vacuum NONE) to incremental, so [incrementalVacuum] works
     * on it from then on.
     *
     * Needs free disk space of about twice the database, and holds back the queue's writes for
     * its whole run (seconds for a large file): prefer [incrementalVacuum] for routine upkeep.
     *
     * @throws QueueStorageException if SQLite reports an error (for example a full disk); the
     *   database is unchanged.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun vacuum(): Long = host.onWriterBare { connection ->
        val before = connection.databaseBytes()
        connection.execute("PRAGMA auto_vacuum = INCREMENTAL")
        connection.execute("VACUUM")
        connection.checkpoint(CheckpointMode.TRUNCATE)
        before - connection.databaseBytes()
    }

    /**
     * Gives the database's free pages back to the file system with `PRAGMA incremental_vacuum`,
     * then truncates the WAL, and returns how many bytes the database shrank by. After a large
     * queue drained, this returns its disk space without the cost of a full [vacuum].
     *
     * Works on files with `auto_vacuum = INCREMENTAL`, which every file created by this version
     * has. On an older file it frees nothing and returns 0 until one [vacuum] converted it.
     *
     * @throws QueueStorageException if SQLite reports an error.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun incrementalVacuum(): Long = host.onWriterBare { connection ->
        val before = connection.databaseBytes()
        // SQLite frees one page per step of this pragma, and the driver steps each execution
        // once: so execute it once per free page, all in one transaction.
        connection.execute("BEGIN IMMEDIATE")
        try {
            val free = connection.longPragma("freelist_count")
            connection.prepareStatement("PRAGMA incremental_vacuum").use { statement ->
                for (page in 0 until free) statement.execute()
            }
            connection.execute("COMMIT")
        } catch (t: Throwable) {
            runCatching { connection.execute("ROLLBACK") }
            throw t
        }
        connection.checkpoint(CheckpointMode.TRUNCATE)
        before - connection.databaseBytes()
    }

    /**
     * Refreshes the query planner's statistics with `ANALYZE`, on the writer.
     *
     * @throws QueueStorageException if SQLite reports an error.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun analyze() {
        host.onWriterBare { it.execute("ANALYZE") }
    }

    /**
     * Checks the whole file with `PRAGMA integrity_check` on a connection of its own, one
     * consistent snapshot, without stopping writers, and reports what it found. A damaged file is
     * a value ([IntegrityReport.ok] false), not an exception. To check at open instead, see
     * [QueueConfig.checkIntegrityOnOpen].
     *
     * @throws QueueStorageException if the file cannot be read at all.
     * @throws IllegalStateException if the queue is closed.
     */
    @Throws(IOException::class)
    public suspend fun integrityCheck(): IntegrityReport {
        host.checkOpen()
        return withContext(context) {
            try {
                openConnection(host.path, Durability.NORMAL, host.busyTimeout).use { IntegrityReport(it.integrityProblems()) }
            } catch (e: java.sql.SQLException) {
                throw storageError(host.path, "check", e)
            }
        }
    }

    /** The WAL file's size in bytes right now (0 when there is none): one `stat`, never blocks for long. */
    public fun walSizeBytes(): Long = walSize(host.path)

    /** A blocking facade over this object for Java callers. */
    public fun blocking(): BlockingMaintenance = BlockingMaintenance(this)

    /** A [java.util.concurrent.CompletableFuture] facade over this object for Java callers. */
    public fun async(): AsyncMaintenance = AsyncMaintenance(this, context)

    /** Deletes all but the newest [keep] of this queue's backups in [directory], never [written] or an open file. */
    private fun prune(directory: Path, prefix: String, keep: Int, written: Path) {
        val pattern = Regex(Regex.escape(prefix) + """-\d{8}T\d{9}Z(-\d+)?\.db""")
        val writtenKey = OpenFiles.key(written)
        val others = Files.list(directory).use { files ->
            files.asSequence()
                .filter { Files.isRegularFile(it) && pattern.matches(it.fileName.toString()) && OpenFiles.key(it) != writtenKey }
                .map { it to Files.getLastModifiedTime(it) }
                .toList()
        }.sortedWith(compareByDescending<Pair<Path, java.nio.file.attribute.FileTime>> { it.second }
            .thenByDescending { it.first.fileName.toString() })
            .map { it.first }
        for (old in others.drop(keep - 1)) {
            if (runCatching { OpenFiles.requireNotOpen(old, "backup") }.isFailure) continue
            try {
                Files.deleteIfExists(old)
            } catch (e: IOException) {
                throw QueueStorageException("Could not delete the old backup $old: $e", e)
            }
        }
    }

    /** Factories, and restore. */
    public companion object {
        private val logger = LoggerFactory.getLogger(OfflineQueue::class.java)
        private val UNSAFE_NAME_CHARS = Regex("[^A-Za-z0-9._-]")
        private val KNOWN_SCHEMAS = listOf(
            SchemaVersions("offline queue", 0..Schema.CURRENT),
            SchemaVersions("task queue", TaskSchema.VERSION_BASE..TaskSchema.CURRENT),
        )
        private val STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'").withZone(ZoneOffset.UTC)

        /**
         * The maintenance of [queue]'s database. Blocking work runs on [context].
         *
         * @throws IllegalArgumentException if [queue] was not opened by [OfflineQueue.open] (a
         *   test double, say).
         */
        @JvmStatic
        @JvmOverloads
        public fun of(queue: OfflineQueue, context: CoroutineContext = Dispatchers.IO): Maintenance {
            val host = queue as? MaintenanceHost
                ?: throw IllegalArgumentException("queue must be opened by OfflineQueue.open, was ${queue::class.java.name}")
            return Maintenance(host, context)
        }

        /**
         * The maintenance of [tasks]'s database: the same operations, through the task queue's
         * own single writer. Task-queue files are created with auto_vacuum NONE, so
         * [incrementalVacuum] frees nothing until one [vacuum] converted the file. The automatic
         * WAL checkpoint is [dev.spool.tasks.TaskQueueConfig.walSizeLimitBytes].
         *
         * @throws IllegalArgumentException if [tasks] was not opened by
         *   [dev.spool.tasks.TaskQueue.open].
         */
        @JvmStatic
        @JvmOverloads
        public fun of(tasks: TaskQueue, context: CoroutineContext = Dispatchers.IO): Maintenance {
            val host = tasks as? MaintenanceHost
                ?: throw IllegalArgumentException("tasks must be opened by TaskQueue.open, was ${tasks::class.java.name}")
            return Maintenance(host, context)
        }

        /**
         * Replaces the database at [target] with the backup at [backup], creating [target] if
         * needed. Blocks until done.
         *
         * The backup must pass `PRAGMA integrity_check` and be a schema this Spool understands,
         * or nothing is changed. The content is written through SQLite (its backup API into
         * [target], under [target]'s locks), never by copying files over a live database.
         *
         * **Refused while the queue is open.** If any [OfflineQueue] or task queue in this JVM
         * has [target] open, the restore throws [IllegalStateException]; while a restore runs, opening
         * [target] fails. Queues in other processes are not detected: they keep working and
         * see the restored content as if another connection had written it (their cached count
         * resynchronises through `PRAGMA data_version`), but their in-memory deferred
         * acknowledgements then refer to the old content. Stop them first.
         *
         * @throws IllegalStateException if a queue in this JVM has [target] open.
         * @throws IllegalArgumentException if [target] is the `-wal`, `-shm` or `-journal` file
         *   of a database open in this JVM, or [backup] and [target] are the same file.
         * @throws QueueStorageException if [backup] is missing, not SQLite, damaged or too new,
         *   or [target] cannot be written.
         */
        @JvmStatic
        @Throws(IOException::class)
        public fun restore(backup: Path, target: Path) {
            val key = OpenFiles.key(target)
            require(OpenFiles.key(backup) != key) { "backup and target are the same file, $key" }
            OpenFiles.exclusively(key) {
                OpenFiles.requireNotCompanion(target, "target")
                restoreDatabase(backup, target, 5.seconds, KNOWN_SCHEMAS)
            }
        }
    }
}
