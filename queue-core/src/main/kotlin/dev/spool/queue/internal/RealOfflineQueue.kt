package dev.spool.queue.internal

import dev.spool.engine.OpenFiles
import dev.spool.engine.DatabaseSettings
import dev.spool.engine.EngineListeners
import dev.spool.engine.LogEvents
import dev.spool.engine.MaintenanceHost
import dev.spool.engine.QueueKind
import dev.spool.engine.SqliteDatabase
import dev.spool.engine.ThrottledCount
import dev.spool.engine.WriteCommand
import dev.spool.engine.WriteEngine
import dev.spool.engine.storageError
import dev.spool.queue.AsyncOfflineQueue
import dev.spool.queue.BatchEventResult
import dev.spool.queue.BlockingOfflineQueue
import dev.spool.queue.DeferredSync
import dev.spool.queue.EnqueueResult
import dev.spool.queue.EventCursor
import dev.spool.queue.EventPage
import dev.spool.queue.InvalidEventException
import dev.spool.queue.OfflineQueue
import dev.spool.queue.OfflineQueueFullException
import dev.spool.queue.QueueConfig
import dev.spool.queue.QueueEvent
import dev.spool.queue.QueueStats
import dev.spool.queue.QueuedEvent
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.collectLatest
import kotlinx.coroutines.flow.distinctUntilChanged
import kotlinx.coroutines.flow.map
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.slf4j.LoggerFactory
import java.nio.file.Path
import java.sql.Connection
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The engine behind [OfflineQueue]: validation and the public commands, on top of the file's
 * [SqliteDatabase] (connections, writer, checkpoints, maintenance, close). The writer-side state
 * lives in [QueueWriter], the commands in `QueueCommands.kt`, the reads in [QueueReads] and the
 * acknowledgement ledger in [DeferredLedger].
 *
 * Counts follow other connections too: [size] checks the file's `data_version` on a connection
 * of its own (cheap when nothing changed) and, when the file changed by another connection's
 * commit, asks the writer to recount (the writer records the version its own commits produced,
 * so this queue's own writes cost readers nothing); [sizes] does the same every [SIZE_POLL_INTERVAL] while it has
 * subscribers.
 */
internal class RealOfflineQueue private constructor(
    private val database: SqliteDatabase<Statements>,
    override val config: QueueConfig,
    clock: () -> Long,
) : OfflineQueue, MaintenanceHost by database {
    private val ledger: DeferredLedger = DeferredLedger { engine.submit(FlushDeferred(state)) }
    private val state: QueueWriter = QueueWriter(database, config, clock, ledger)
    private val engine: WriteEngine = database.start(state)
    private val reads = QueueReads(database.reader, ledger, config.maxQueueSize, clock, database::checkOpen)
    private val warnings = EvictionWarnings(logger, config.name)
    private val refusals = ThrottledCount()
    private val watcher = CoroutineScope(SupervisorJob() + config.readDispatcher)
    @Volatile private var seenVersion = Long.MIN_VALUE

    init {
        watcher.launch {
            // Poll only while somebody collects sizes: an idle queue costs nothing.
            state.sizes.subscriptionCount.map { it > 0 }.distinctUntilChanged().collectLatest { active ->
                while (active) {
                    delay(SIZE_POLL_INTERVAL)
                    try {
                        refreshIfFileChanged()
                    } catch (e: CancellationException) {
                        throw e
                    } catch (_: Exception) {
                        // Closed or a transient read failure: the next poll (or a write) catches up.
                    }
                }
            }
        }
    }

    override val path: Path get() = database.path

    override val sizes: StateFlow<Int> = state.sizes.asStateFlow()

    override val deferredSync: DeferredSync get() = ledger

    /** Instrumentation hooks of this queue's engine, for the Micrometer binder. */
    internal val listeners: EngineListeners get() = engine.listeners

    /**
     * If any other connection committed since the last look (by `data_version` on the owner's
     * watch connection), lets the writer recount when the change was not its own.
     */
    private suspend fun refreshIfFileChanged() {
        val version = withContext(config.readDispatcher) {
            try {
                database.externalDataVersion()
            } catch (e: java.sql.SQLException) {
                throw storageError(path, "read", e)
            }
        }
        if (version == seenVersion) return
        if (version == state.ownVersion) {
            // Changed only by this queue's own commits: the cached count already holds them.
            seenVersion = version
            return
        }
        refreshesSent.incrementAndGet()
        engine.submit(state.Refresh())
        seenVersion = version
    }

    /** Refresh commands sent to the writer (a test seam: this queue's own writes send none). */
    internal val refreshesSent = java.util.concurrent.atomic.AtomicLong()

    // ---- Writes ----

    override suspend fun queueEvent(event: QueueEvent): EnqueueResult {
        engine.checkOpen()
        validate(event, config.maxPayloadBytes)
        return timedEnqueue(Enqueue(state, event, strictCap = null, warnings))
    }

    override suspend fun append(event: QueueEvent, cap: Int): EnqueueResult {
        engine.checkOpen()
        if (cap < 1) throw InvalidEventException("cap", "must be at least 1, was $cap")
        validate(event, config.maxPayloadBytes)
        try {
            return timedEnqueue(Enqueue(state, event, strictCap = cap, warnings))
        } catch (e: OfflineQueueFullException) {
            refusals.add(1)?.let { LogEvents.warn(logger, "queue.strict_cap_refused", config.name, LogEvents.STRICT_CAP_REFUSED, it, e.cap) }
            throw e
        }
    }

    private suspend fun timedEnqueue(command: Enqueue): EnqueueResult {
        val listeners = engine.listeners
        if (!listeners.active) return engine.submit(command)
        val started = System.nanoTime()
        try {
            return engine.submit(command)
        } finally {
            listeners.enqueued(System.nanoTime() - started)
        }
    }

    override suspend fun markSynced(eventIds: Collection<String>): Int {
        engine.checkOpen()
        if (eventIds.isEmpty()) return 0
        return engine.submit(DeleteByIds(state, eventIds.toList()))
    }

    override suspend fun incrementRetry(eventIds: Collection<String>): Int {
        engine.checkOpen()
        if (eventIds.isEmpty()) return 0
        return engine.submit(IncrementRetry(state, eventIds.toList()))
    }

    override suspend fun processBatchResults(results: Collection<BatchEventResult>) {
        engine.checkOpen()
        if (results.isEmpty()) return
        engine.submit(ProcessResults(state, results.toList(), logger))
    }

    override suspend fun removeProjectEvents(projectId: String): Int {
        engine.checkOpen()
        return engine.submit(DeleteWhere(state, { it.deleteProject }) { it.setString(1, projectId) })
    }

    override suspend fun clear(): Int {
        engine.checkOpen()
        return engine.submit(DeleteWhere(state, { it.clear }) {})
    }

    override suspend fun drainToFile(path: Path): Int {
        engine.checkOpen()
        OpenFiles.requireNotOpen(path, "path")
        return engine.submit(Drain(state, path))
    }

    override suspend fun replayFile(path: Path): Int {
        engine.checkOpen()
        val rows = withContext(config.readDispatcher) { readJsonLines(path) }
        rows.forEach { validate(it.event, config.maxPayloadBytes) }
        if (rows.isEmpty()) return 0
        engine.submit(Replay(state, rows))
        return rows.size
    }

    // ---- Reads ----

    override suspend fun size(): Int {
        engine.checkOpen()
        refreshIfFileChanged()
        return state.committedCount
    }

    override suspend fun sizeFromDisk(): Int = reads.sizeFromDisk()

    override suspend fun peek(limit: Int): List<QueuedEvent> = reads.peek(limit)

    override suspend fun peekPage(limit: Int, cursor: EventCursor?): EventPage = reads.peekPage(limit, cursor)

    override suspend fun eventsBelowRetryCount(maxRetries: Int, limit: Int): List<QueuedEvent> =
        reads.eventsBelowRetryCount(maxRetries, limit)

    override suspend fun stats(): QueueStats = reads.stats()

    /** Table scans made by [stats], for tests. */
    internal val statsScans: Long get() = reads.statsScans

    // ---- Facades and lifecycle ----

    override fun blocking(): BlockingOfflineQueue = BlockingOfflineQueue(this)

    override fun async(): AsyncOfflineQueue = AsyncOfflineQueue(this)

    override fun close() {
        watcher.cancel()
        database.close()
    }

    /** Test hook: runs [block] on the writer connection inside a write transaction. */
    internal suspend fun <T> onWriter(block: (Connection) -> T): T = engine.submit(
        object : WriteCommand<T>() {
            override fun execute(connection: Connection): T = block(connection)
        },
    )

    internal companion object {
        private val logger = LoggerFactory.getLogger(OfflineQueue::class.java)

        /** How often [sizes] looks for commits by other connections while it has subscribers. */
        val SIZE_POLL_INTERVAL: Duration = 250.milliseconds

        /**
         * Opens the queue. [sqlObserver] sees every statement the writer executes, and [clock]
         * supplies epoch milliseconds: both are seams for tests.
         */
        fun open(
            path: Path,
            config: QueueConfig,
            sqlObserver: ((String) -> Unit)? = null,
            clock: () -> Long = System::currentTimeMillis,
        ): RealOfflineQueue {
            val settings = DatabaseSettings(
                kind = QueueKind.OFFLINE,
                name = config.name,
                durability = config.durability,
                busyTimeout = config.busyTimeout,
                maxBatchSize = config.maxBatchSize,
                writeBufferCapacity = config.writeBufferCapacity,
                readDispatcher = config.readDispatcher,
                writerDispatcher = config.writerDispatcher,
                walSizeLimitBytes = config.walSizeLimitBytes,
                checkIntegrityOnOpen = config.checkIntegrityOnOpen,
                logger = logger,
            )
            val database = SqliteDatabase.open(path, settings, Schema::migrate, ::Statements, sqlObserver)
            try {
                return RealOfflineQueue(database, config, clock)
            } catch (t: Throwable) {
                runCatching { database.close() }
                throw storageError(database.path, "open", t)
            }
        }
    }
}
