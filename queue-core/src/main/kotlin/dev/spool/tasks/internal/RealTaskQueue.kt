package dev.spool.tasks.internal

import dev.spool.engine.DatabaseSettings
import dev.spool.engine.MaintenanceHost
import dev.spool.engine.QueueKind
import dev.spool.engine.SqliteDatabase
import dev.spool.engine.TransactionHooks
import dev.spool.engine.WriteCommand
import dev.spool.engine.storageError
import dev.spool.tasks.AckResult
import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import dev.spool.tasks.Schedule
import dev.spool.tasks.TaskLease
import dev.spool.tasks.UniquePolicy
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
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withTimeoutOrNull
import java.util.concurrent.CopyOnWriteArrayList
import org.jetbrains.exposed.v1.jdbc.JdbcTransaction
import org.slf4j.LoggerFactory

/**
 * The engine behind [TaskQueue], on top of the file's [SqliteDatabase] (connections, the single
 * writer, checkpoints, maintenance, close): every state change, with its `task_log` row, runs in
 * the writer's transaction; `get`, `list`, `taskLog`, `workers`, `schedules` and `stats` use the
 * read connection through [TaskReads].
 *
 * Fields marked "writer" are touched only on the writer thread. Transitions made inside a
 * transaction wait in [pending] and are published by [committed], or dropped by [rolledBack].
 */
internal class RealTaskQueue private constructor(
    private val database: SqliteDatabase<TaskStatements>,
    override val config: TaskQueueConfig,
) : TaskQueue, TransactionHooks, MaintenanceHost by database, ScheduleKeeper.TaskWriter {
    /** The writer's statements, renewed by the engine after any failed transaction. Writer thread. */
    private val statements: TaskStatements get() = database.statements
    private val reader = database.reader
    private val schedules: ScheduleKeeper get() = statements.schedules
    private var pendingLeaseLosses = 0 // writer
    private val commits = MutableStateFlow(0L)

    /** Attached instrumentation; empty unless a metrics binder attached itself. */
    val listeners: MutableList<TaskQueueListener> = CopyOnWriteArrayList()
    private val pending = ArrayList<TaskTransition>() // writer
    private val mutableTransitions = MutableSharedFlow<TaskTransition>(
        extraBufferCapacity = TRANSITION_BUFFER,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )

    private val reads = TaskReads(reader)

    private val engine = database.start(this)

    override val path: Path get() = database.path

    override val transitions: Flow<TaskTransition> = mutableTransitions.asSharedFlow()

    // ---- TransactionHooks (writer thread) ----

    override fun begin(connection: Connection) {
        pending.clear()
        pendingLeaseLosses = 0
    }

    override fun committed() {
        commits.value = commits.value + 1
        for (transition in pending) mutableTransitions.tryEmit(transition)
        if (listeners.isNotEmpty()) {
            val committed = pending.toList()
            listeners.forEach { it.committed(committed, pendingLeaseLosses) }
        }
        pending.clear()
        pendingLeaseLosses = 0
    }

    override fun rolledBack() {
        pending.clear()
        pendingLeaseLosses = 0
    }

    /** Runs [block], reporting its duration to [report] of each listener if any is attached. */
    private suspend inline fun <T> timed(report: TaskQueueListener.(Long) -> Unit, block: () -> T): T {
        if (listeners.isEmpty()) return block()
        val started = System.nanoTime()
        val value = block()
        val nanos = System.nanoTime() - started
        listeners.forEach { it.report(nanos) }
        return value
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
        unique: UniquePolicy,
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
            TaskId(insertTask(type, payload, priority, runAfterMillis ?: now, maxAttempts, idempotencyKey, requiresJson, unique, now))
        }
    }

    /**
     * Inserts a task, settling its idempotency key by [unique] first; returns the id of the task
     * holding the key afterwards. Writer thread, inside the transaction.
     */
    private fun insertTask(
        type: String,
        payload: String,
        priority: Int,
        runAfter: Long,
        maxAttempts: Int,
        key: String?,
        requiresJson: String?,
        unique: UniquePolicy,
        now: Long,
    ): Long {
        if (key != null) {
            val holder = statements.keyHolder(key)
            if (holder != null) {
                val holds = !holder.state.isFinal || unique.finishedHoldsKeyFor == Duration.INFINITE ||
                    now - holder.updatedAt < unique.finishedHoldsKeyFor.inWholeMilliseconds
                when {
                    !holds -> statements.clearKey(holder.id)
                    unique.onExisting == UniquePolicy.OnExisting.REPLACE && holder.state == TaskState.QUEUED -> {
                        statements.clearKey(holder.id)
                        cancelRow(statements.lease(holder.id)!!, now)
                    }
                    else -> return holder.id
                }
            }
        }
        val id = statements.insert(type, payload, priority, runAfter, maxAttempts, key, requiresJson, now)
        transition(id, type, now, null, TaskState.QUEUED, null, 0)
        return id
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
        return timed(TaskQueueListener::claimTimed) {
            write {
                val now = now()
                statements.upsertWorker(workerId, capabilitiesJson, ttl, now)
                val claimed = statements.claim(strategy, workerId, now, now + ttl, typesJson, capabilitiesJson, limit)
                for (task in claimed) {
                    transition(task.id.value, task.type, now, TaskState.QUEUED, TaskState.LEASED, workerId, task.attempts)
                }
                claimed.sortedWith(order(strategy))
            }
        }
    }

    override suspend fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration) {
        validateWorkerId(workerId)
        validateTtl("leaseTtl", leaseTtl)
        validateStrings("capabilities", capabilities)
        val capabilitiesJson = encodeStrings(capabilities)
        write { statements.upsertWorker(workerId, capabilitiesJson, leaseTtl.inWholeMilliseconds.coerceAtLeast(1), now()) }
    }

    override suspend fun heartbeat(workerId: String, leases: Collection<TaskLease>): Set<TaskLease> {
        validateWorkerId(workerId)
        leases.forEach { require(it.workerId == workerId) { "leases must all belong to workerId '$workerId', one is $it" } }
        val mine = leases.toList()
        return write {
            val now = now()
            val ttl = statements.touchWorker(workerId, now) ?: return@write emptySet()
            mine.filterTo(LinkedHashSet()) { statements.extendLease(it, now, now + ttl) }
        }
    }

    override suspend fun renew(lease: TaskLease, ttl: Duration): AckResult {
        validateTtl("ttl", ttl)
        val extension = ttl.inWholeMilliseconds.coerceAtLeast(1)
        return ack {
            val now = now()
            refusal(statements.lease(lease.taskId.value), lease, now)
                ?: run {
                    check(statements.extendLease(lease, now, now + extension)) { "lease $lease vanished inside its transaction" }
                    AckResult.RENEWED
                }
        }
    }

    /** The refusal for an ack with [lease] on [row], or null if that claim holds a valid lease. Writer thread. */
    private fun refusal(row: TaskStatements.LeaseRow?, lease: TaskLease, now: Long): AckResult? = when {
        row == null -> AckResult.NOT_FOUND
        row.state == TaskState.CANCELLED -> AckResult.CANCELLED
        row.state != TaskState.LEASED || row.owner != lease.workerId || row.token != lease.token ||
            (row.expiresAt ?: 0) <= now -> AckResult.LEASE_LOST
        else -> null
    }.also { if (it == AckResult.LEASE_LOST) pendingLeaseLosses++ }

    /** Runs an acknowledgement in the writer, timed for the metrics. */
    private suspend fun ack(block: (Connection) -> AckResult): AckResult = timed(TaskQueueListener::ackTimed) { write(block) }

    override suspend fun complete(lease: TaskLease): AckResult = ack {
        val now = now()
        val row = statements.lease(lease.taskId.value)
        refusal(row, lease, now)?.let { return@ack it }
        row!!
        statements.finish(row.id, TaskState.SUCCEEDED, error = null, runAfter = null, attemptsDelta = 0, now = now)
        statements.addCounter(TaskSchema.COUNTER_SUCCEEDED, 1)
        transition(row.id, row.type, now, TaskState.LEASED, TaskState.SUCCEEDED, lease.workerId, row.attempts)
        schedules.finished(row.id, now)
        AckResult.COMPLETED
    }

    override suspend fun fail(lease: TaskLease, error: String, retryable: Boolean): AckResult {
        val stored = truncateError(error)
        return ack {
            val now = now()
            val row = statements.lease(lease.taskId.value)
            refusal(row, lease, now)?.let { return@ack it }
            failAttempt(row!!, lease.workerId, stored, retryable, now)
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
            schedules.finished(row.id, now)
            AckResult.DEAD_LETTERED
        }
    }

    override suspend fun release(lease: TaskLease): AckResult = ack {
        val now = now()
        val row = statements.lease(lease.taskId.value)
        refusal(row, lease, now)?.let { return@ack it }
        refund(row!!, now)
        AckResult.RELEASED
    }

    /** Puts a validly leased task back at once without counting the attempt. Writer thread. */
    private fun refund(row: TaskStatements.LeaseRow, now: Long) {
        statements.finish(row.id, TaskState.QUEUED, null, now, attemptsDelta = -1, now = now)
        transition(row.id, row.type, now, TaskState.LEASED, TaskState.QUEUED, row.owner, row.attempts - 1)
    }

    override suspend fun cancel(taskId: TaskId): Boolean = write {
        val row = statements.lease(taskId.value) ?: return@write false
        if (row.state != TaskState.QUEUED && row.state != TaskState.LEASED) return@write false
        cancelRow(row, now())
        true
    }

    /** Cancels a queued or leased task. Writer thread. */
    private fun cancelRow(row: TaskStatements.LeaseRow, now: Long) {
        statements.finish(row.id, TaskState.CANCELLED, null, null, 0, now)
        transition(row.id, row.type, now, row.state, TaskState.CANCELLED, row.owner, row.attempts)
        schedules.finished(row.id, now)
    }

    override suspend fun requeue(taskId: TaskId): Boolean = write {
        val now = now()
        val row = statements.lease(taskId.value) ?: return@write false
        if (row.state != TaskState.DEAD_LETTER) return@write false
        statements.finish(row.id, TaskState.QUEUED, null, now, attemptsDelta = -row.attempts, now = now)
        transition(row.id, row.type, now, TaskState.DEAD_LETTER, TaskState.QUEUED, null, 0)
        true
    }

    override suspend fun sweep(): SweepResult = write {
        val now = now()
        val staleBefore = now - config.staleWorkerTimeout.inWholeMilliseconds
        var requeued = 0
        var dead = 0
        for (row in statements.expired(now, staleBefore)) {
            pendingLeaseLosses++
            when (expire(row, now)) {
                AckResult.DEAD_LETTERED -> dead++
                else -> requeued++
            }
        }
        val result = SweepResult(requeued, dead, statements.deleteStaleWorkers(staleBefore))
        schedules.sweep(now)
        result
    }

    /** Ends a lease that expired (or whose worker went stale), counting the attempt. Writer thread. */
    private fun expire(row: TaskStatements.LeaseRow, now: Long): AckResult {
        val reason = if ((row.expiresAt ?: 0) <= now) "lease expired" else "worker stale"
        return failAttempt(row, row.owner, "$reason (worker ${row.owner})", retryable = true, now = now)
    }

    override suspend fun unregisterWorker(workerId: String): Int = write {
        val now = now()
        var released = 0
        for (row in statements.leasedBy(workerId)) {
            if ((row.expiresAt ?: 0) > now) {
                refund(row, now)
                released++
            } else {
                // Only a valid lease is refunded: an expired one counts its attempt, as the sweep would.
                pendingLeaseLosses++
                expire(row, now)
            }
        }
        statements.deleteWorker(workerId)
        released
    }

    override suspend fun purgeFinished(before: Instant): Int {
        val millis = storableMillis("before", before)
        return write { statements.purge(millis) }
    }

    // ---- Schedules ----

    override suspend fun schedule(
        name: String,
        type: String,
        payload: String,
        recurrence: Recurrence,
        misfire: MisfirePolicy,
        priority: Int,
        maxAttempts: Int,
        requires: Set<String>,
        startAt: Instant?,
    ): Schedule {
        validateScheduleName(name)
        validateType(type)
        validatePayload(payload, config.maxPayloadBytes)
        validatePriority(priority)
        validateMaxAttempts(maxAttempts)
        validateStrings("requires", requires)
        val startMillis = startAt?.let { storableMillis("startAt", it) }
        val definition = ScheduleKeeper.Definition(
            type, payload, recurrence, misfire, priority, maxAttempts, encodeStringsOrNull(requires), startMillis,
        )
        return write { schedules.define(name, definition, now()) }
    }

    override suspend fun schedules(): List<Schedule> = reads.schedules()

    override suspend fun pauseSchedule(name: String): Boolean = write { schedules.pause(name, now()) }

    override suspend fun resumeSchedule(name: String): Boolean = write { schedules.resume(name, now()) }

    override suspend fun deleteSchedule(name: String): Boolean = write { schedules.delete(name, now()) }

    // ScheduleKeeper.TaskWriter (writer thread)

    override fun enqueueOccurrence(
        type: String,
        payload: String,
        priority: Int,
        runAfter: Long,
        maxAttempts: Int,
        key: String,
        requires: String?,
        now: Long,
    ): Long = insertTask(type, payload, priority, runAfter, maxAttempts, key, requires, UniquePolicy.KEEP, now)

    override fun stateOf(id: Long): TaskState? = statements.lease(id)?.state

    override fun cancelIfQueued(id: Long, now: Long): Boolean {
        val row = statements.lease(id) ?: return false
        if (row.state != TaskState.QUEUED) return false
        cancelRow(row, now)
        return true
    }

    // ---- Reads ----

    override suspend fun get(taskId: TaskId): Task? = reads.get(taskId)

    override suspend fun list(filter: TaskFilter, cursor: TaskId?): TaskPage = reads.list(filter, cursor)

    override suspend fun taskLog(taskId: TaskId): List<TaskTransition> = reads.taskLog(taskId)

    override suspend fun workers(): List<WorkerInfo> = reads.workers(staleBefore = now() - config.staleWorkerTimeout.inWholeMilliseconds)

    /** Exact at every call, from any process: the counts are kept by triggers, so nothing is cached. */
    override suspend fun stats(): TaskStats {
        engine.checkOpen()
        val now = now()
        return reads.stats(now, activeSince = now - config.staleWorkerTimeout.inWholeMilliseconds)
    }

    private suspend fun <T> read(block: JdbcTransaction.() -> T): T = reader.read(block)

    // ---- Facades and lifecycle ----

    // ---- Observation ----

    override fun observe(taskId: TaskId): Flow<Task?> = flow {
        var seen: Pair<Long, Long>? = null
        var last: Task? = null
        var first = true
        while (true) {
            // Our own commits are seen at once; other connections' through SQLite's data_version.
            val local = commits.value
            val version = local to dataVersion()
            if (version != seen) {
                seen = version
                val task = get(taskId)
                if (first || task != last) emit(task)
                first = false
                last = task
            }
            withTimeoutOrNull(config.observeInterval) { commits.first { it != local } }
        }
    }

    override suspend fun awaitFinal(taskId: TaskId): Task? = observe(taskId).first { it == null || it.state.isFinal }

    /** SQLite's data_version on the read connection: it moves whenever another connection commits. */
    private suspend fun dataVersion(): Long = read {
        (connection.connection as Connection).createStatement().use { statement ->
            statement.executeQuery("PRAGMA data_version").use { rs -> rs.next(); rs.getLong(1) }
        }
    }


    // dev.spool.maintenance.Maintenance works on task-queue files too: MaintenanceHost is the database's.

    override fun close() {
        database.close()
    }

    internal companion object {
        private const val TRANSITION_BUFFER = 4096

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
            var queue: RealTaskQueue? = null
            // Schedules enqueue through the queue; the statements are only used once it exists.
            val prepare = { connection: Connection -> TaskStatements(connection) { checkNotNull(queue) { "task queue not yet open" } } }
            val database = SqliteDatabase.open(path, settings, TaskSchema::migrate, prepare)
            try {
                return RealTaskQueue(database, config).also { queue = it }
            } catch (t: Throwable) {
                runCatching { database.close() }
                throw storageError(database.path, "open", t)
            }
        }
    }
}
