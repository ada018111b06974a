package dev.spool.engine

import dev.spool.storage.Durability
import dev.spool.storage.QueueStorageException
import kotlinx.coroutines.CoroutineDispatcher
import org.slf4j.Logger
import java.nio.file.Files
import java.nio.file.Path
import java.sql.Connection
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.concurrent.withLock
import kotlin.time.Duration

/** What [SqliteDatabase] needs from a queue's configuration; both queue configs map onto it. */
internal class DatabaseSettings(
    val kind: QueueKind,
    val name: String,
    val durability: Durability,
    val busyTimeout: Duration,
    val maxBatchSize: Int,
    val writeBufferCapacity: Int,
    val readDispatcher: CoroutineDispatcher,
    val writerDispatcher: CoroutineDispatcher?,
    /** 0: no hard bound, only the background checkpointer (see `QueueConfig.walSizeLimitBytes`). */
    val walSizeLimitBytes: Long,
    val checkIntegrityOnOpen: Boolean,
    val logger: Logger,
)

/**
 * The one owner of a queue's SQLite file: both `RealOfflineQueue` and `RealTaskQueue` hold one
 * (composition), and nothing else opens a queue's file.
 *
 * [open] does, in this order: create the directories, refuse a file that is not SQLite, register
 * the file in [OpenFiles] (first, so a concurrent `Maintenance.restore` is refused before any
 * connection or thread exists), open the write connection, check integrity on request, run the
 * schema's migrations, set the pragmas (`wal_autocheckpoint = 0`: commits never checkpoint
 * inline), prepare the hooks' statements ([StatementCache]), open the read connection, and
 * start the [BackgroundCheckpointer] and the [WalPolicy]. [start] then starts the [WriteEngine]
 * with the queue's hooks. Any failure releases what was acquired, in reverse order.
 *
 * [close] releases everything in reverse order: the writer drains and stops, then the
 * checkpointer, the data-version connection, the read connection, the statements and the write
 * connection; the [OpenFiles] entry goes last, once no connection is left. It is exception-safe
 * (every step runs even if an earlier one failed) and works on an interrupted thread, whose
 * interrupt flag stays set. Closing twice is harmless.
 *
 * It is also the queue's [MaintenanceHost]: maintenance work runs on the writer, and its
 * checkpoints take the checkpointer's lock rather than collide with a background checkpoint.
 */
internal class SqliteDatabase<S : AutoCloseable> private constructor(
    override val path: Path,
    private val settings: DatabaseSettings,
    private val fileKey: Path,
    /** The writer's connection (possibly wrapped for SQL recording). Writer thread once started. */
    val writeConnection: Connection,
    private val rawWriteConnection: Connection,
    readConnection: Connection,
    prepare: (Connection) -> S,
) : MaintenanceHost, AutoCloseable {
    private val statementCache = StatementCache(writeConnection, prepare)
    private val closed = AtomicBoolean(false)
    private val checkpointer = BackgroundCheckpointer(
        path, settings.durability, settings.busyTimeout, settings.name, settings.kind, settings.logger,
        interval = CHECKPOINT_INTERVAL,
    )
    private val walPolicy = settings.walSizeLimitBytes.takeIf { it > 0 }?.let {
        WalPolicy(path, it, settings.busyTimeout, settings.name, settings.kind, settings.logger, checkpointer.lock)
    }
    private val versionLock = Any()
    private var versionConnection: Connection? = null // guarded by versionLock
    private var engine: WriteEngine? = null

    /** The read side: one connection used through Exposed. */
    val reader: ReadConnection = ReadConnection(path, readConnection, settings.readDispatcher, ::checkOpen)

    /** The hooks' prepared statements; writer thread (or the opening thread before [start]). */
    val statements: S get() = statementCache.current

    /** The single writer; available once [start] ran. */
    val writer: WriteEngine get() = engine ?: error("SqliteDatabase.start was not called")

    override val kind: QueueKind get() = settings.kind

    override val name: String get() = settings.name

    override val busyTimeout: Duration get() = settings.busyTimeout

    /**
     * Starts the single writer with [hooks]. Called once, by the queue's constructor; the owner
     * adds its own housekeeping (background checkpoint, WAL bound) after each group.
     */
    fun start(hooks: TransactionHooks): WriteEngine {
        check(engine == null) { "already started" }
        val owned = object : TransactionHooks by hooks {
            override fun afterGroup() {
                checkpointer.committed()
                walPolicy?.afterGroup(writeConnection)
                hooks.afterGroup()
            }
        }
        return WriteEngine(
            connection = writeConnection,
            hooks = owned,
            statements = statementCache,
            maxBatch = settings.maxBatchSize,
            capacity = settings.writeBufferCapacity,
            name = settings.name,
            dispatcher = settings.writerDispatcher,
            translate = { storageError(path, "write to", it) },
        ).also { engine = it }
    }

    override fun checkOpen() {
        check(!closed.get()) { "Queue '${settings.name}' is closed" }
        writer.checkOpen()
    }

    override suspend fun <T> onWriterBare(block: (Connection) -> T): T {
        checkOpen()
        return writer.submit(
            object : BareCommand<T>() {
                // Maintenance checkpoints and vacuums wait for a background checkpoint rather than collide with it.
                override fun execute(connection: Connection): T = checkpointer.lock.withLock { block(connection) }
            },
        )
    }

    /**
     * `PRAGMA data_version` of a connection of its own, opened on first use: it changes whenever
     * any other connection (this queue's writer included) committed to the file since the last
     * call. Cheap (no file read when nothing changed); any thread.
     *
     * @throws IllegalStateException if closed.
     * @throws java.sql.SQLException if SQLite fails.
     */
    fun externalDataVersion(): Long = synchronized(versionLock) {
        checkOpen()
        val connection = versionConnection
            ?: openConnection(path, settings.durability, settings.busyTimeout).also { versionConnection = it }
        connection.longPragma("data_version")
    }

    /**
     * [externalDataVersion] if its connection is open (somebody asked for fresh counts), else
     * null: lets the writer record the version its own commit produced without opening a
     * connection for queues nobody watches. Any thread.
     *
     * @throws java.sql.SQLException if SQLite fails.
     */
    fun externalDataVersionIfOpen(): Long? = synchronized(versionLock) {
        if (closed.get()) return null
        versionConnection?.longPragma("data_version")
    }

    /** Releases everything, in reverse order of [open]; see the class documentation. */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        var failure: Throwable? = null
        fun step(action: () -> Unit) {
            try {
                action()
            } catch (t: Throwable) {
                if (failure == null) failure = t else failure!!.addSuppressed(t)
            }
        }
        step { engine?.close() }
        step { checkpointer.close() }
        step { synchronized(versionLock) { versionConnection?.close(); versionConnection = null } }
        step { reader.close() }
        step { statementCache.close() }
        step { rawWriteConnection.close() }
        // Last: only now may Maintenance.restore replace the file.
        OpenFiles.release(fileKey)
        failure?.let { throw it }
    }

    internal companion object {
        /** At most one background checkpoint per this interval under a steady write load. */
        val CHECKPOINT_INTERVAL: Duration = Duration.parse("50ms")

        /**
         * Opens [path] for one queue; see the class documentation for the steps. [migrate] brings
         * the schema up to date (given the write connection and a description of the file for
         * messages), [prepare] prepares the writer hooks' statements, and [sqlObserver] (tests)
         * sees every statement the writer executes.
         *
         * @throws QueueStorageException if the file cannot be opened, is not SQLite, fails the
         *   integrity check or its migration, or is being restored.
         */
        fun <S : AutoCloseable> open(
            path: Path,
            settings: DatabaseSettings,
            migrate: (Connection, String) -> Unit,
            prepare: (Connection) -> S,
            sqlObserver: ((String) -> Unit)? = null,
        ): SqliteDatabase<S> {
            val absolute = path.toAbsolutePath()
            try {
                absolute.parent?.let { Files.createDirectories(it) }
            } catch (e: java.io.IOException) {
                throw QueueStorageException("Could not create the directory of $absolute: $e", e)
            }
            checkIsSqliteFile(absolute)
            val key = OpenFiles.key(absolute)
            try {
                OpenFiles.acquire(key)
            } catch (e: IllegalStateException) {
                throw QueueStorageException(e.message.orEmpty(), e)
            }
            val opened = ArrayList<Connection>(2)
            try {
                val raw = openConnection(absolute, settings.durability, settings.busyTimeout).also(opened::add)
                if (settings.checkIntegrityOnOpen) {
                    val problems = raw.integrityProblems()
                    if (problems.isNotEmpty()) {
                        throw QueueStorageException("$absolute failed its integrity check: ${problems.take(5)}; not opened")
                    }
                }
                migrate(raw, absolute.toString())
                // Commits never checkpoint inline: BackgroundCheckpointer does it off the writer.
                raw.execute("PRAGMA wal_autocheckpoint = 0")
                val writer = if (sqlObserver != null) recording(raw, sqlObserver) else raw
                val reader = openConnection(absolute, settings.durability, settings.busyTimeout).also(opened::add)
                return SqliteDatabase(absolute, settings, key, writer, raw, reader, prepare)
            } catch (t: Throwable) {
                opened.asReversed().forEach { runCatching { it.close() } }
                OpenFiles.release(key)
                throw if (t is IllegalStateException) QueueStorageException(t.message.orEmpty(), t) else storageError(absolute, "open", t)
            }
        }
    }
}
