package dev.spool.tasks.internal

import dev.spool.engine.DatabaseSettings
import dev.spool.engine.MaintenanceHost
import dev.spool.engine.QueueKind
import dev.spool.engine.SqliteDatabase
import dev.spool.engine.TransactionHooks
import dev.spool.engine.WriteCommand
import dev.spool.engine.storageError
import dev.spool.tasks.AckResult
import dev.spool.tasks.AsyncTaskQueue
import dev.spool.tasks.BlockingTaskQueue
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.SweepResult
import dev.spool.tasks.Task
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskPage
import dev.spool.tasks.TaskQueue
import dev.spool.tasks.TaskQueueConfig
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskStats
import dev.spool.tasks.TaskTransition
import dev.spool.tasks.WorkerInfo
import java.nio.file.Path
import java.sql.Connection
import java.time.Instant
import java.util.concurrent.atomic.AtomicLong
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import org.jetbrains.exposed.v1.core.SortOrder
import org.jetbrains.exposed.v1.core.and
import org.jetbrains.exposed.v1.core.eq
import org.jetbrains.exposed.v1.core.greater
import org.jetbrains.exposed.v1.core.inList
import org.jetbrains.exposed.v1.jdbc.JdbcTransaction
import org.jetbrains.exposed.v1.jdbc.andWhere
import org.jetbrains.exposed.v1.jdbc.selectAll
import org.slf4j.LoggerFactory

/**
 * The engine behind [TaskQueue], on top of the file's [SqliteDatabase] (connections, the single
 * writer, checkpoints, maintenance, close): every state change, with its `task_log` row, runs in
 * the writer's transaction; `get`, `list`, `taskLog`, `workers` and `stats` use the read
 * connection (Exposed).
 *
 * Fields marked "writer" are touched only on the writer thread. Transitions made inside a
 * transaction wait in [pending] and are published by [committed], or dropped by [rolledBack].
 */
internal class RealTaskQueue private constructor(
    private val database: SqliteDatabase<TaskStatements>,
    override val config: TaskQueueConfig,
) : TaskQueue, TransactionHooks, MaintenanceHost by database {
    /** The writer's statements, renewed by the engine after any failed transaction. Writer thread. */
    private val statements: TaskStatements get() = database.statements
    private val reader = database.reader
    private val pending = ArrayList<TaskTransition>() // writer
    private val writes = AtomicLong()
    private val mutableTransitions = MutableSharedFlow<TaskTransition>(
        extraBufferCapacity = TRANSITION_BUFFER,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )

    @Volatile private var cachedStats: CachedStats? = null

    private val engine = database.start(this)

    override val path: Path get() = database.path

    override val transitions: Flow<TaskTransition> = mutableTransitions.asSharedFlow()

    // ---- TransactionHooks (writer thread) ----

    override fun begin(connection: Connection) {
        pending.clear()
    }

    override fun committed() {
        writes.incrementAndGet()
        for (transition in pending) mutableTransitions.tryEmit(transition)
        pending.clear()
    }

    override fun rolledBack() {
        pending.clear()
    }

    private fun now(): Long = config.clock.millis()

    /** Writes [to] for a task in `task_log` and queues it for [transitions]. Writer thread. */
    private fun transition(id: Long, type: String, at: Long, from: TaskState?, to: TaskState, workerId: String?, attempt: Int, error: String? = null) {
        statements.log(id, type, at, from, to, workerId, attempt, error)
        pending += TaskTransition(TaskId(id), type, from, to, Instant.ofEpochMilli(at), workerId, attempt, error)
    }

    private suspend fun <T> write(block: (Connection) -> T): T {
        engine.checkOpen()
        return engine.submit(
            object : WriteCommand<T>() {
                override fun execute(connection: Connection): T = block(connection)
            },
        )
    }

    // ---- Writes ----

    override suspend fun enqueue(
        type: String,
        payload: String,
        priority: Int,
        runAfter: Instant?,
        maxAttempts: Int,
        idempotencyKey: String?,
        requires: Set<String>,
    ): TaskId {
        validateType(type)
        validatePayload(payload, config.maxPayloadBytes)
        validatePriority(priority)
        validateMaxAttempts(maxAttempts)
        validateIdempotencyKey(idempotencyKey)
        validateStrings("requires", requires)
        val runAfterMillis = runAfter?.let { storableMillis("runAfter", it) }
        val requiresJson = encodeStringsOrNull(requires)
        return write {
            val now = now()
            val (id, inserted) = statements.insert(
                type, payload, priority, runAfterMillis ?: now, maxAttempts, idempotencyKey, requiresJson, now,
            )
            if (inserted) transition(id, type, now, null, TaskState.QUEUED, null, 0)
            TaskId(id)
        }
    }

    override suspend fun claim(
        workerId: String,
        capabilities: Set<String>,
        limit: Int,
        leaseTtl: Duration,
        strategy: ClaimStrategy,
        types: Set<String>?,
    ): List<Task> {
        validateWorkerId(workerId)
        require(limit >= 1) { "limit must be at least 1, was $limit" }
        validateTtl("leaseTtl", leaseTtl)
        validateTypes(types)
        validateStrings("capabilities", capabilities)
        val capabilitiesJson = encodeStrings(capabilities)
        val typesJson = types?.let(::encodeStrings)
        val ttl = leaseTtl.inWholeMilliseconds.coerceAtLeast(1)
        return write {
            val now = now()
            statements.upsertWorker(workerId, capabilitiesJson, ttl, now)
            val claimed = statements.claim(strategy, workerId, now, now + ttl, typesJson, capabilitiesJson, limit)
            for (task in claimed) {
                transition(task.id.value, task.type, now, TaskState.QUEUED, TaskState.LEASED, workerId, task.attempts)
            }
            claimed.sortedWith(order(strategy))
        }
    }

    override suspend fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration) {
        validateWorkerId(workerId)
        validateTtl("leaseTtl", leaseTtl)
        validateStrings("capabilities", capabilities)
        val capabilitiesJson = encodeStrings(capabilities)
        write { statements.upsertWorker(workerId, capabilitiesJson, leaseTtl.inWholeMilliseconds.coerceAtLeast(1), now()) }
    }

    override suspend fun heartbeat(workerId: String): Set<TaskId> {
        validateWorkerId(workerId)
        return write {
            val now = now()
            val ttl = statements.touchWorker(workerId, now) ?: return@write emptySet()
            statements.extendLeases(workerId, now, now + ttl)
        }
    }

    override suspend fun renew(taskId: TaskId, ttl: Duration, workerId: String?): Boolean {
        validateTtl("ttl", ttl)
        return write {
            val now = now()
            statements.renew(taskId.value, workerId, now, now + ttl.inWholeMilliseconds.coerceAtLeast(1))
        }
    }

    /** The refusal for an ack by [workerId] on [row], or null if it holds a valid lease. Writer thread. */
    private fun refusal(row: TaskStatements.LeaseRow?, workerId: String, now: Long): AckResult? = when {
        row == null -> AckResult.NOT_FOUND
        row.state == TaskState.CANCELLED -> AckResult.CANCELLED
        row.state != TaskState.LEASED || row.owner != workerId || (row.expiresAt ?: 0) <= now -> AckResult.LEASE_LOST
        else -> null
    }

    override suspend fun complete(taskId: TaskId, workerId: String): AckResult = write {
        val now = now()
        val row = statements.lease(taskId.value)
        refusal(row, workerId, now)?.let { return@write it }
        row!!
        statements.finish(row.id, TaskState.SUCCEEDED, error = null, runAfter = null, attemptsDelta = 0, now = now)
        statements.addCounter(TaskSchema.COUNTER_SUCCEEDED, 1)
        transition(row.id, row.type, now, TaskState.LEASED, TaskState.SUCCEEDED, workerId, row.attempts)
        AckResult.COMPLETED
    }

    override suspend fun fail(taskId: TaskId, workerId: String, error: String, retryable: Boolean): AckResult {
        val stored = truncateError(error)
        return write {
            val now = now()
            val row = statements.lease(taskId.value)
            refusal(row, workerId, now)?.let { return@write it }
            failAttempt(row!!, workerId, stored, retryable, now)
        }
    }

    /** Counts a failed attempt of a leased task: retry after backoff, or dead-letter. Writer thread. */
    private fun failAttempt(row: TaskStatements.LeaseRow, workerId: String?, error: String, retryable: Boolean, now: Long): AckResult {
        statements.addCounter(TaskSchema.COUNTER_FAILED, 1)
        return if (retryable && row.attempts < row.maxAttempts) {
            val delay = config.retryPolicyFor(row.type).delay(row.attempts, config.random)
            statements.finish(row.id, TaskState.QUEUED, error, millisAfter(now, delay), 0, now)
            transition(row.id, row.type, now, TaskState.LEASED, TaskState.QUEUED, workerId, row.attempts, error)
            AckResult.RETRY_SCHEDULED
        } else {
            statements.finish(row.id, TaskState.DEAD_LETTER, error, null, 0, now)
            transition(row.id, row.type, now, TaskState.LEASED, TaskState.DEAD_LETTER, workerId, row.attempts, error)
            AckResult.DEAD_LETTERED
        }
    }

    override suspend fun release(taskId: TaskId, workerId: String): AckResult = write {
        val now = now()
        val row = statements.lease(taskId.value)
        refusal(row, workerId, now)?.let { return@write it }
        row!!
        statements.finish(row.id, TaskState.QUEUED, null, now, attemptsDelta = -1, now = now)
        transition(row.id, row.type, now, TaskState.LEASED, TaskState.QUEUED, workerId, row.attempts - 1)
        AckResult.RELEASED
    }

    override suspend fun cancel(taskId: TaskId): Boolean = write {
        val now = now()
        val row = statements.lease(taskId.value) ?: return@write false
        if (row.state != TaskState.QUEUED && row.state != TaskState.LEASED) return@write false
        statements.finish(row.id, TaskState.CANCELLED, null, null, 0, now)
        transition(row.id, row.type, now, row.state, TaskState.CANCELLED, row.owner, row.attempts)
        true
    }

    override suspend fun sweep(): SweepResult = write {
        val now = now()
        val staleBefore = now - config.staleWorkerTimeout.inWholeMilliseconds
        var requeued = 0
        var dead = 0
        for (row in statements.expired(now, staleBefore)) {
            val reason = if ((row.expiresAt ?: 0) <= now) "lease expired" else "worker stale"
            when (failAttempt(row, row.owner, "$reason (worker ${row.owner})", retryable = true, now = now)) {
                AckResult.DEAD_LETTERED -> dead++
                else -> requeued++
            }
        }
        SweepResult(requeued, dead, statements.deleteStaleWorkers(staleBefore))
    }

    override suspend fun unregisterWorker(workerId: String): Int = write {
        val now = now()
        val held = statements.leasedBy(workerId)
        for ((id, type, attempts) in held) {
            statements.finish(id, TaskState.QUEUED, null, now, attemptsDelta = -1, now = now)
            transition(id, type, now, TaskState.LEASED, TaskState.QUEUED, workerId, attempts - 1)
        }
        statements.deleteWorker(workerId)
        held.size
    }

    override suspend fun purgeFinished(before: Instant): Int {
        val millis = storableMillis("before", before)
        return write { statements.purge(millis) }
    }

    // ---- Reads ----

    override suspend fun get(taskId: TaskId): Task? = read {
        TasksTable.selectAll().where { TasksTable.id eq taskId.value }.singleOrNull()?.let(TasksTable::toTask)
    }

    override suspend fun list(filter: TaskFilter, cursor: TaskId?): TaskPage = read {
        val query = TasksTable.selectAll()
        filter.states?.let { states -> query.andWhere { TasksTable.state inList states } }
        filter.type?.let { type -> query.andWhere { TasksTable.type eq type } }
        cursor?.let { after -> query.andWhere { TasksTable.id greater after.value } }
        val rows = query.orderBy(TasksTable.id to SortOrder.ASC).limit(filter.limit + 1).map(TasksTable::toTask)
        val page = rows.take(filter.limit)
        TaskPage(page, if (rows.size > filter.limit) page.last().id else null)
    }

    override suspend fun taskLog(taskId: TaskId): List<TaskTransition> = read {
        TaskLogTable.selectAll().where { TaskLogTable.taskId eq taskId.value }
            .orderBy(TaskLogTable.id to SortOrder.ASC)
            .map(TaskLogTable::toTransition)
    }

    override suspend fun workers(): List<WorkerInfo> {
        val staleBefore = now() - config.staleWorkerTimeout.inWholeMilliseconds
        return read {
            TaskWorkersTable.selectAll().orderBy(TaskWorkersTable.workerId to SortOrder.ASC).map {
                WorkerInfo(
                    workerId = it[TaskWorkersTable.workerId],
                    capabilities = decodeStrings(it[TaskWorkersTable.capabilities]),
                    leaseTtl = it[TaskWorkersTable.leaseTtlMs].milliseconds,
                    lastHeartbeat = Instant.ofEpochMilli(it[TaskWorkersTable.lastHeartbeat]),
                    stale = it[TaskWorkersTable.lastHeartbeat] < staleBefore,
                )
            }
        }
    }

    override suspend fun stats(): TaskStats {
        engine.checkOpen()
        val version = writes.get()
        val now = now()
        cachedStats?.let { if (it.version == version && now - it.at < config.statsTtl.inWholeMilliseconds) return it.stats }
        val activeSince = now - config.staleWorkerTimeout.inWholeMilliseconds
        val stats = read {
            val connection = this.connection.connection as Connection
            connection.prepareStatement(STATS_SQL).use { statement ->
                statement.setLong(1, activeSince)
                statement.executeQuery().use { rs ->
                    val depth = LinkedHashMap<String, MutableMap<TaskState, Int>>()
                    var oldest: Long? = null
                    val counters = HashMap<String, Long>()
                    while (rs.next()) {
                        val type = rs.getString(1)
                        val key = rs.getString(2)
                        if (type == null) {
                            counters[key] = rs.getLong(3)
                            continue
                        }
                        val state = TaskState.valueOf(key)
                        depth.getOrPut(type) { java.util.EnumMap(TaskState::class.java) }[state] = rs.getInt(3)
                        if (state == TaskState.QUEUED) {
                            val created = rs.getLong(4)
                            oldest = if (oldest == null) created else minOf(oldest, created)
                        }
                    }
                    TaskStats(
                        depth = depth,
                        oldestQueuedAge = oldest?.let { (now - it).coerceAtLeast(0).milliseconds },
                        succeeded = counters[TaskSchema.COUNTER_SUCCEEDED] ?: 0,
                        failed = counters[TaskSchema.COUNTER_FAILED] ?: 0,
                        activeWorkers = (counters[WORKERS_KEY] ?: 0).toInt(),
                    )
                }
            }
        }
        cachedStats = CachedStats(version, now, stats)
        return stats
    }

    private suspend fun <T> read(block: JdbcTransaction.() -> T): T = reader.read(block)

    // ---- Facades and lifecycle ----

    override fun blocking(): BlockingTaskQueue = BlockingTaskQueue(this)

    override fun async(): AsyncTaskQueue = AsyncTaskQueue(this)

    // dev.spool.maintenance.Maintenance works on task-queue files too: MaintenanceHost is the database's.

    override fun close() {
        database.close()
    }

    private class CachedStats(val version: Long, val at: Long, val stats: TaskStats)

    internal companion object {
        private const val TRANSITION_BUFFER = 4096
        private const val WORKERS_KEY = "workers"

        /** One aggregate query: task depth by type and state, then the worker count and counters (type NULL). */
        private val STATS_SQL = """
            SELECT type, state, COUNT(*), MIN(created_at) FROM tasks GROUP BY type, state
            UNION ALL
            SELECT NULL, '$WORKERS_KEY', COUNT(*), NULL FROM task_workers WHERE last_heartbeat >= ?
            UNION ALL
            SELECT NULL, name, value, NULL FROM task_counters
        """.trimIndent()

        private fun order(strategy: ClaimStrategy): Comparator<Task> = when (strategy) {
            ClaimStrategy.FIFO, ClaimStrategy.WEIGHTED_RANDOM -> compareBy { it.id.value }
            ClaimStrategy.LIFO -> compareByDescending { it.id.value }
            ClaimStrategy.PRIORITY -> compareBy<Task> { it.priority }.thenBy { it.id.value }
        }

        private val logger = LoggerFactory.getLogger(TaskQueue::class.java)

        fun open(path: Path, config: TaskQueueConfig): RealTaskQueue {
            val settings = DatabaseSettings(
                kind = QueueKind.TASK,
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
            val database = SqliteDatabase.open(path, settings, TaskSchema::migrate, ::TaskStatements)
            try {
                return RealTaskQueue(database, config)
            } catch (t: Throwable) {
                runCatching { database.close() }
                throw storageError(database.path, "open", t)
            }
        }
    }
}
