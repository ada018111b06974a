package dev.spool.tasks.postgres.internal

import dev.spool.storage.QueueStorageException
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
import dev.spool.tasks.internal.storableMillis
import dev.spool.tasks.internal.truncateError
import dev.spool.tasks.internal.validateIdempotencyKey
import dev.spool.tasks.internal.validateMaxAttempts
import dev.spool.tasks.internal.validatePayload
import dev.spool.tasks.internal.validatePriority
import dev.spool.tasks.internal.validateScheduleName
import dev.spool.tasks.internal.validateStrings
import dev.spool.tasks.internal.validateTtl
import dev.spool.tasks.internal.validateType
import dev.spool.tasks.internal.validateTypes
import dev.spool.tasks.internal.validateWorkerId
import dev.spool.tasks.postgres.PostgresTaskQueueConfig
import dev.spool.tasks.postgres.internal.PgDatabase.Retry.SAFE
import dev.spool.tasks.postgres.internal.PgDatabase.Retry.UNSAFE
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.filter
import kotlinx.coroutines.withTimeoutOrNull
import org.slf4j.LoggerFactory
import java.sql.Connection
import java.time.Instant
import java.util.EnumMap
import java.util.UUID
import java.util.concurrent.atomic.AtomicBoolean
import javax.sql.DataSource
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The [TaskQueue] on PostgreSQL. Each call borrows a connection from the caller's [DataSource] and
 * runs one statement (claims, completes, enqueues, heartbeats) or one short transaction (fail,
 * release, cancel, sweep: they read the row under `FOR UPDATE` to choose the outcome), then
 * returns the connection. Nothing is cached between calls except [stats], so any number of queue
 * objects on any number of hosts share one queue.
 */
internal class RealPostgresTaskQueue private constructor(
    private val dataSource: DataSource,
    private val postgres: PostgresTaskQueueConfig,
) : TaskQueue {
    override val config: TaskQueueConfig get() = postgres.queue
    private val sql = PgSql(postgres.schema)
    private val db = PgDatabase(
        dataSource,
        config.readDispatcher,
        "TaskQueue ${config.name} (PostgreSQL schema ${postgres.schema})",
        clock = if (postgres.serverClock) null else config.clock,
    )
    private val closed = AtomicBoolean(false)

    /** Marks this object's own notifications, so its own enqueues are not announced twice. */
    private val instance = UUID.randomUUID().toString().substring(0, 8)
    private val keeper = PgScheduleKeeper(postgres.schema)
    private val listSql = sql.listFiltered(typed = false)
    private val typedListSql = sql.listFiltered(typed = true)
    private val completions = GroupedCalls(MAX_ACK_GROUP, ::completeGroup)

    /** The call of each claim function, by strategy and whether the claim names types. */
    private val claimCalls = sql.claimFunctions.associate { (it.strategy to it.typed) to it.call }

    private val mutableTransitions = MutableSharedFlow<TaskTransition>(
        extraBufferCapacity = TRANSITION_BUFFER,
        onBufferOverflow = BufferOverflow.DROP_OLDEST,
    )
    override val transitions: Flow<TaskTransition> = mutableTransitions.asSharedFlow()

    private var listener: PgListener? = null

    private fun checkOpen() = check(!closed.get()) { "TaskQueue ${config.name} is closed" }

    private fun emit(transition: TaskTransition) {
        mutableTransitions.tryEmit(transition)
    }

    /** A notification `instance|id|createdAt|type` from an enqueue on any host. */
    private fun onNotify(payload: String) {
        val parts = payload.split('|', limit = 4)
        if (parts.size != 4 || parts[0] == instance) return
        val id = parts[1].toLongOrNull() ?: return
        val at = parts[2].toLongOrNull() ?: return
        emit(TaskTransition(TaskId(id), parts[3], null, TaskState.QUEUED, Instant.ofEpochMilli(at), null, 0, null))
    }

    private suspend fun <T> write(what: String, retry: PgDatabase.Retry, block: (Connection) -> T): T {
        checkOpen()
        return db.call(what, retry, block)
    }

    private suspend fun <T> read(what: String, block: (Connection) -> T): T {
        checkOpen()
        return db.call(what, SAFE, block)
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
        runAfter?.let { storableMillis("runAfter", it) }
        val sorted = requires.sorted()
        if (idempotencyKey == null) {
            // One statement: insert, log, NOTIFY. Not repeated after a lost connection (it could
            // have committed, and a repeat would add a second task).
            val (id, change) = write("enqueue", UNSAFE) { c -> insert(c, type, payload, priority, runAfter, maxAttempts, null, sorted) }
            change?.let(::emit)
            return TaskId(id)
        }
        // With a key: one transaction under an advisory lock on the key, so enqueues of one key on
        // every host take turns and leave one holder. Repeating KEEP after a lost connection finds
        // the first attempt's task; REPLACE would replace it, so it is not repeated.
        val changes = ArrayList<TaskTransition>(2)
        val id = write("enqueue", if (unique.onExisting == UniquePolicy.OnExisting.KEEP) SAFE else UNSAFE) { c ->
            changes.clear()
            c.transaction {
                c.prepareStatement(sql.lockKey).use { s -> s.setString(1, "${postgres.schema}:$idempotencyKey"); s.execute() }
                val holder = c.prepareStatement(sql.holder).use { s ->
                    s.setString(1, idempotencyKey)
                    s.executeQuery().use { rs -> if (rs.next()) rs.toLeaseRow() to rs.getLong("finished_for") else null }
                }
                if (holder != null) {
                    val (row, finishedFor) = holder
                    val window = unique.finishedHoldsKeyFor
                    when {
                        row.state.isFinal && !window.isInfinite() && finishedFor >= window.inWholeMilliseconds ->
                            c.prepareStatement(sql.dropKey).use { s -> s.setLong(1, row.id); s.executeUpdate() }
                        unique.onExisting == UniquePolicy.OnExisting.REPLACE && row.state == TaskState.QUEUED -> {
                            val at = finish(c, row.id, TaskState.CANCELLED, null, null, 0, dropKey = true)
                            changes += log(c, row, at, TaskState.QUEUED, TaskState.CANCELLED, null, row.attempts, null)
                        }
                        else -> return@transaction row.id
                    }
                }
                val (id, change) = insert(c, type, payload, priority, runAfter, maxAttempts, idempotencyKey, sorted)
                change?.let(changes::add)
                id
            }
        }
        committed(changes)
        return TaskId(id)
    }

    /** Inserts one task with its log row and NOTIFY; returns its id and transition (null if the key was taken). */
    private fun insert(
        c: Connection,
        type: String,
        payload: String,
        priority: Int,
        runAfter: Instant?,
        maxAttempts: Int,
        key: String?,
        requires: List<String>,
    ): Pair<Long, TaskTransition?> {
        val inserted = c.prepareStatement(sql.enqueue).use { s ->
            s.setString(1, type)
            s.setString(2, payload)
            s.setInt(3, priority)
            s.setNullableLong(4, runAfter?.toEpochMilli())
            s.setInt(5, maxAttempts)
            s.setNullableString(6, key)
            s.setArray(7, c.textArray(requires))
            s.setString(8, "$instance|")
            s.executeQuery().use { rs -> if (rs.next()) rs.getLong(1) to rs.getLong(2) else null }
        }
        if (inserted == null) return findByKey(c, key!!) to null
        val (id, at) = inserted
        return id to TaskTransition(TaskId(id), type, null, TaskState.QUEUED, Instant.ofEpochMilli(at), null, 0, null)
    }

    private fun findByKey(c: Connection, key: String): Long = c.prepareStatement(sql.findByKey).use { s ->
        s.setString(1, key)
        s.executeQuery().use { rs ->
            if (rs.next()) rs.getLong(1) else throw QueueStorageException("idempotency key '$key' conflicted, then its task vanished; try again")
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
        val ttl = leaseTtl.inWholeMilliseconds.coerceAtLeast(1)
        val caps = capabilities.sorted()
        // A claim that committed just before a lost connection would have leased tasks nobody
        // runs (they come back when the lease expires), so it is not repeated blindly.
        val claimed = write("claim", UNSAFE) { c ->
            c.prepareStatement(claimCalls.getValue(strategy to (types != null))).use { s ->
                s.setString(1, workerId)
                s.setArray(2, c.textArray(caps))
                s.setLong(3, ttl)
                s.setLong(4, config.staleWorkerTimeout.inWholeMilliseconds)
                s.setInt(5, limit)
                if (types != null) s.setArray(6, c.textArray(types.sorted()))
                s.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toTask()) } }
            }
        }
        for (task in claimed) {
            emit(TaskTransition(task.id, task.type, TaskState.QUEUED, TaskState.LEASED, task.updatedAt, workerId, task.attempts, null))
        }
        return claimed.sortedWith(order(strategy))
    }

    override suspend fun registerWorker(workerId: String, capabilities: Set<String>, leaseTtl: Duration) {
        validateWorkerId(workerId)
        validateTtl("leaseTtl", leaseTtl)
        validateStrings("capabilities", capabilities)
        write("registerWorker", SAFE) { c ->
            c.prepareStatement(sql.upsertWorker).use { s ->
                s.setString(1, workerId)
                s.setArray(2, c.textArray(capabilities.sorted()))
                s.setLong(3, leaseTtl.inWholeMilliseconds.coerceAtLeast(1))
                s.executeUpdate()
            }
        }
    }

    override suspend fun heartbeat(workerId: String, leases: Collection<TaskLease>): Set<TaskLease> {
        validateWorkerId(workerId)
        leases.firstOrNull { it.workerId != workerId }?.let {
            throw IllegalArgumentException("leases must all belong to workerId '$workerId', one is $it")
        }
        val wanted = leases.associateBy { it.taskId.value }
        return write("heartbeat", SAFE) { c ->
            c.prepareStatement(sql.heartbeat).use { s ->
                s.setString(1, workerId)
                s.setArray(2, c.createArrayOf("bigint", leases.map { it.taskId.value }.toTypedArray()))
                s.setArray(3, c.createArrayOf("bigint", leases.map { it.token }.toTypedArray()))
                s.setString(4, workerId)
                s.executeQuery().use { rs -> buildSet { while (rs.next()) wanted[rs.getLong(1)]?.let(::add) } }
            }
        }
    }

    override suspend fun renew(lease: TaskLease, ttl: Duration): AckResult {
        validateTtl("ttl", ttl)
        return write("renew", SAFE) { c ->
            val renewed = c.prepareStatement(sql.renew).use { s ->
                s.setLong(1, ttl.inWholeMilliseconds.coerceAtLeast(1))
                s.setLong(2, lease.taskId.value)
                s.setString(3, lease.workerId)
                s.setLong(4, lease.token)
                s.executeUpdate() == 1
            }
            if (renewed) AckResult.RENEWED else refusal(c, lease.taskId.value)
        }
    }

    override suspend fun complete(lease: TaskLease): AckResult {
        checkOpen()
        return completions.call(lease)
    }

    /**
     * Completes a group of acks that arrived together (see [GroupedCalls]): one statement and one
     * commit for all, then the reason for each refused one. Not repeated after a lost connection.
     * Completed schedule occurrences then move their schedules on, as a lone complete does.
     */
    private suspend fun completeGroup(leases: List<TaskLease>): List<AckResult> {
        val sorted = leases.indices.sortedBy { leases[it].taskId.value }
        val changes = ArrayList<TaskTransition>(leases.size)
        val occurrences = ArrayList<Long>()
        val results = db.call("complete", UNSAFE) { c ->
            changes.clear()
            occurrences.clear()
            val done = HashMap<TaskLease, TaskTransition>()
            c.prepareStatement(sql.complete).use { s ->
                s.setArray(1, c.createArrayOf("bigint", sorted.map { leases[it].taskId.value }.toTypedArray()))
                s.setArray(2, c.textArray(sorted.map { leases[it].workerId }))
                s.setArray(3, c.createArrayOf("bigint", sorted.map { leases[it].token }.toTypedArray()))
                s.executeQuery().use { rs ->
                    while (rs.next()) {
                        val id = TaskId(rs.getLong(1))
                        val worker = rs.getString(5)
                        if (rs.getString(7)?.startsWith(SCHEDULE_KEY_PREFIX) == true) occurrences += id.value
                        done[TaskLease(id, worker, rs.getLong(6))] = TaskTransition(
                            id, rs.getString(2), TaskState.LEASED, TaskState.SUCCEEDED,
                            Instant.ofEpochMilli(rs.getLong(4)), worker, rs.getInt(3), null,
                        )
                    }
                }
            }
            // The same lease acked twice in one group: the first ack completes it, the second is refused.
            leases.map { lease ->
                val change = done.remove(lease)
                if (change != null) {
                    changes += change
                    AckResult.COMPLETED
                } else {
                    refusal(c, lease.taskId.value)
                }
            }
        }
        changes.forEach(::emit)
        if (occurrences.isNotEmpty()) advanceSchedules(occurrences)
        return results
    }

    /** Why an ack of task [id] found no valid lease of the caller. */
    private fun refusal(c: Connection, id: Long): AckResult = c.prepareStatement(sql.leaseState).use { s ->
        s.setLong(1, id)
        s.executeQuery().use { rs ->
            when {
                !rs.next() -> AckResult.NOT_FOUND
                rs.getString(1) == TaskState.CANCELLED.name -> AckResult.CANCELLED
                else -> AckResult.LEASE_LOST
            }
        }
    }

    /** The refusal for an ack with [lease] on a locked [row], or null if that claim holds a valid lease. */
    private fun refusal(row: LeaseRow?, lease: TaskLease): AckResult? = when {
        row == null -> AckResult.NOT_FOUND
        row.state == TaskState.CANCELLED -> AckResult.CANCELLED
        row.state != TaskState.LEASED || row.owner != lease.workerId || row.token != lease.token || !row.valid -> AckResult.LEASE_LOST
        else -> null
    }

    override suspend fun fail(lease: TaskLease, error: String, retryable: Boolean): AckResult {
        val stored = truncateError(error)
        val changes = ArrayList<TaskTransition>(1)
        val result = write("fail", UNSAFE) { c ->
            changes.clear()
            c.transaction {
                val row = lockLease(c, lease.taskId.value)
                refusal(row, lease) ?: failAttempt(c, row!!, lease.workerId, stored, retryable, changes)
            }
        }
        committed(changes)
        return result
    }

    private fun lockLease(c: Connection, id: Long): LeaseRow? = c.prepareStatement(sql.leaseForUpdate).use { s ->
        s.setLong(1, id)
        s.executeQuery().use { rs -> if (rs.next()) rs.toLeaseRow() else null }
    }

    /** Counts a failed attempt of a locked leased task: retry after backoff, or dead-letter. */
    private fun failAttempt(c: Connection, row: LeaseRow, workerId: String?, error: String, retryable: Boolean, changes: MutableList<TaskTransition>): AckResult {
        addCounter(c, PgSchema.COUNTER_FAILED, 1)
        return if (retryable && row.attempts < row.maxAttempts) {
            val delay = config.retryPolicyFor(row.type).delay(row.attempts, config.random)
            val at = finish(c, row.id, TaskState.QUEUED, error, delay.inWholeMilliseconds, 0)
            changes += log(c, row, at, TaskState.LEASED, TaskState.QUEUED, workerId, row.attempts, error)
            AckResult.RETRY_SCHEDULED
        } else {
            val at = finish(c, row.id, TaskState.DEAD_LETTER, error, null, 0)
            changes += log(c, row, at, TaskState.LEASED, TaskState.DEAD_LETTER, workerId, row.attempts, error)
            AckResult.DEAD_LETTERED
        }
    }

    private fun finish(c: Connection, id: Long, state: TaskState, error: String?, delayMs: Long?, attemptsDelta: Int, dropKey: Boolean = false): Long {
        if (dropKey) c.prepareStatement(sql.dropKey).use { s -> s.setLong(1, id); s.executeUpdate() }
        return c.prepareStatement(sql.finish).use { s ->
            s.setString(1, state.name)
            s.setNullableString(2, error)
            s.setNullableLong(3, delayMs)
            s.setNullableLong(4, delayMs)
            s.setInt(5, attemptsDelta)
            s.setLong(6, id)
            s.executeQuery().use { rs ->
                check(rs.next()) { "task $id vanished inside its transaction" }
                rs.getLong(1)
            }
        }
    }

    private fun log(c: Connection, row: LeaseRow, at: Long, from: TaskState?, to: TaskState, workerId: String?, attempt: Int, error: String?): TaskTransition {
        c.prepareStatement(sql.insertLog).use { s ->
            s.setLong(1, row.id)
            s.setString(2, row.type)
            s.setLong(3, at)
            s.setNullableString(4, from?.name)
            s.setString(5, to.name)
            s.setNullableString(6, workerId)
            s.setInt(7, attempt)
            s.setNullableString(8, error)
            s.executeUpdate()
        }
        return TaskTransition(TaskId(row.id), row.type, from, to, Instant.ofEpochMilli(at), workerId, attempt, error)
    }

    private fun addCounter(c: Connection, name: String, delta: Int) = c.prepareStatement(sql.addCounter).use { s ->
        s.setString(1, name)
        s.setInt(2, delta)
        s.executeUpdate()
    }

    override suspend fun release(lease: TaskLease): AckResult {
        val changes = ArrayList<TaskTransition>(1)
        val result = write("release", UNSAFE) { c ->
            changes.clear()
            c.transaction {
                val row = lockLease(c, lease.taskId.value)
                refusal(row, lease) ?: run {
                    row!!
                    val at = finish(c, row.id, TaskState.QUEUED, null, 0, attemptsDelta = -1)
                    changes += log(c, row, at, TaskState.LEASED, TaskState.QUEUED, lease.workerId, row.attempts - 1, null)
                    AckResult.RELEASED
                }
            }
        }
        committed(changes)
        return result
    }

    override suspend fun cancel(taskId: TaskId): Boolean {
        val changes = ArrayList<TaskTransition>(1)
        val cancelled = write("cancel", SAFE) { c ->
            changes.clear()
            c.transaction {
                val row = lockLease(c, taskId.value)
                if (row == null || (row.state != TaskState.QUEUED && row.state != TaskState.LEASED)) return@transaction false
                val at = finish(c, row.id, TaskState.CANCELLED, null, null, 0)
                changes += log(c, row, at, row.state, TaskState.CANCELLED, row.owner, row.attempts, null)
                true
            }
        }
        committed(changes)
        return cancelled
    }

    override suspend fun requeue(taskId: TaskId): Boolean {
        val changes = ArrayList<TaskTransition>(1)
        val requeued = write("requeue", UNSAFE) { c ->
            changes.clear()
            c.transaction {
                val row = lockLease(c, taskId.value)
                if (row == null || row.state != TaskState.DEAD_LETTER) return@transaction false
                // Claimable now, with every attempt given back; the last error stays until replaced.
                val at = finish(c, row.id, TaskState.QUEUED, null, 0L, -row.attempts)
                changes += log(c, row, at, TaskState.DEAD_LETTER, TaskState.QUEUED, null, 0, null)
                true
            }
        }
        committed(changes)
        return requeued
    }

    override suspend fun sweep(): SweepResult {
        val stale = config.staleWorkerTimeout.inWholeMilliseconds
        val changes = ArrayList<TaskTransition>()
        val result = write("sweep", SAFE) { c ->
            changes.clear()
            c.transaction {
                val rows = c.prepareStatement(sql.expired).use { s ->
                    s.setLong(1, stale)
                    s.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toLeaseRow()) } }
                }
                var requeued = 0
                var dead = 0
                for (row in rows) {
                    val reason = if (!row.valid) "lease expired" else "worker stale"
                    when (failAttempt(c, row, row.owner, "$reason (worker ${row.owner})", retryable = true, changes = changes)) {
                        AckResult.DEAD_LETTERED -> dead++
                        else -> requeued++
                    }
                }
                val staleWorkers = c.prepareStatement(sql.deleteStaleWorkers).use { s ->
                    s.setLong(1, stale)
                    s.executeUpdate()
                }
                SweepResult(requeued, dead, staleWorkers)
            }
        }
        committed(changes)
        // Schedules whose pending occurrence is gone (its host died before moving them on), or none.
        scheduling("sweep schedules", SAFE) { c, tasks -> keeper.sweep(c, tasks) }
        return result
    }

    override suspend fun unregisterWorker(workerId: String): Int {
        val changes = ArrayList<TaskTransition>()
        val released = write("unregisterWorker", SAFE) { c ->
            changes.clear()
            c.transaction {
                val held = c.prepareStatement(sql.leasedBy).use { s ->
                    s.setString(1, workerId)
                    s.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toLeaseRow()) } }
                }
                for (row in held) {
                    if (row.valid) {
                        val at = finish(c, row.id, TaskState.QUEUED, null, 0, attemptsDelta = -1)
                        changes += log(c, row, at, TaskState.LEASED, TaskState.QUEUED, workerId, row.attempts - 1, null)
                    } else {
                        failAttempt(c, row, workerId, "lease expired (worker $workerId)", retryable = true, changes = changes)
                    }
                }
                c.prepareStatement(sql.deleteWorker).use { s ->
                    s.setString(1, workerId)
                    s.executeUpdate()
                }
                held.count { it.valid }
            }
        }
        committed(changes)
        return released
    }

    override suspend fun purgeFinished(before: Instant): Int {
        val millis = storableMillis("before", before)
        return write("purgeFinished", SAFE) { c ->
            c.prepareStatement(sql.purge).use { s ->
                s.setLong(1, millis)
                s.executeQuery().use { rs -> rs.next(); rs.getInt(1) }
            }
        }
    }

    // ---- Reads ----

    override suspend fun get(taskId: TaskId): Task? = read("get") { c ->
        c.prepareStatement(sql.get).use { s ->
            s.setLong(1, taskId.value)
            s.executeQuery().use { rs -> if (rs.next()) rs.toTask() else null }
        }
    }

    override suspend fun list(filter: TaskFilter, cursor: TaskId?): TaskPage = read("list") { c ->
        val after = cursor?.value ?: 0L
        val statement = when {
            filter.states == null && filter.type == null -> sql.list
            filter.type == null -> listSql
            else -> typedListSql
        }
        c.prepareStatement(statement).use { s ->
            var i = 0
            if (filter.type != null) s.setString(++i, filter.type)
            if (filter.states != null || filter.type != null) {
                val states = filter.states ?: TaskState.entries
                s.setArray(++i, c.textArray(states.map { it.name }))
            }
            s.setLong(++i, after)
            if (statement != sql.list) s.setInt(++i, filter.limit + 1)
            s.setInt(++i, filter.limit + 1)
            val rows = s.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toTask()) } }
            val page = rows.take(filter.limit)
            TaskPage(page, if (rows.size > filter.limit) page.last().id else null)
        }
    }

    override suspend fun taskLog(taskId: TaskId): List<TaskTransition> = read("taskLog") { c ->
        c.prepareStatement(sql.taskLog).use { s ->
            s.setLong(1, taskId.value)
            s.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toTransition()) } }
        }
    }

    override suspend fun workers(): List<WorkerInfo> = read("workers") { c ->
        c.prepareStatement(sql.workersList).use { s ->
            s.setLong(1, config.staleWorkerTimeout.inWholeMilliseconds)
            s.executeQuery().use { rs ->
                buildList {
                    while (rs.next()) {
                        add(
                            WorkerInfo(
                                workerId = rs.getString("worker_id"),
                                capabilities = rs.stringSet("capabilities"),
                                leaseTtl = rs.getLong("lease_ttl_ms").milliseconds,
                                lastHeartbeat = Instant.ofEpochMilli(rs.getLong("last_heartbeat")),
                                stale = rs.getBoolean("stale"),
                            ),
                        )
                    }
                }
            }
        }
    }

    override suspend fun stats(): TaskStats {
        checkOpen()
        // O(1) on the server (counts kept by triggers, one index probe per queued type): read at
        // every call, never cached, so every host sees every other host's changes at once.
        return read("stats") { c ->
            c.prepareStatement(sql.stats).use { s ->
                s.setLong(1, config.staleWorkerTimeout.inWholeMilliseconds)
                s.executeQuery().use { rs ->
                    val depth = LinkedHashMap<String, MutableMap<TaskState, Int>>()
                    val counters = HashMap<String, Long>()
                    while (rs.next()) {
                        val type = rs.getString(1)
                        val key = rs.getString(2)
                        val value = rs.getLong(3).takeUnless { rs.wasNull() }
                        if (type == null) {
                            value?.let { counters[key] = it }
                        } else {
                            depth.getOrPut(type) { EnumMap(TaskState::class.java) }[TaskState.valueOf(key)] = value!!.toInt()
                        }
                    }
                    val now = counters.getValue(PgSql.NOW_KEY)
                    val oldest = counters[PgSql.OLDEST_KEY]
                    val succeeded = depth.values.sumOf { (it[TaskState.SUCCEEDED] ?: 0).toLong() }
                    TaskStats(
                        depth = depth,
                        oldestQueuedAge = oldest?.let { (now - it).coerceAtLeast(0).milliseconds },
                        succeeded = succeeded + (counters[PgSchema.COUNTER_PURGED_SUCCEEDED] ?: 0),
                        failed = counters[PgSchema.COUNTER_FAILED] ?: 0,
                        activeWorkers = (counters[PgSql.WORKERS_KEY] ?: 0).toInt(),
                    )
                }
            }
        }
    }

    // ---- Observation: polling the row, woken early by this object's own transitions ----

    override fun observe(taskId: TaskId): Flow<Task?> = flow {
        var last: Any? = NOTHING
        while (true) {
            val task = get(taskId)
            if (last === NOTHING || task != last) emit(task)
            last = task
            withTimeoutOrNull(config.observeInterval) { transitions.filter { it.taskId == taskId }.first() }
        }
    }

    override suspend fun awaitFinal(taskId: TaskId): Task? = observe(taskId).first { it == null || it.state.isFinal }

    // ---- Schedules (PgScheduleKeeper) ----

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
        val definition = PgScheduleKeeper.Definition(type, payload, recurrence, misfire, priority, maxAttempts, requires.sorted(), startMillis)
        return scheduling("schedule", SAFE) { c, tasks -> keeper.define(c, tasks, name, definition) }
    }

    override suspend fun schedules(): List<Schedule> = read("schedules") { c -> keeper.list(c) }

    override suspend fun pauseSchedule(name: String): Boolean = scheduling("pauseSchedule", SAFE) { c, tasks -> keeper.pause(c, tasks, name) }

    override suspend fun resumeSchedule(name: String): Boolean = scheduling("resumeSchedule", SAFE) { c, tasks -> keeper.resume(c, tasks, name) }

    // Not repeated after a lost connection: a repeat of a delete that committed would answer false.
    override suspend fun deleteSchedule(name: String): Boolean = scheduling("deleteSchedule", UNSAFE) { c, tasks -> keeper.delete(c, tasks, name) }

    /** Runs [block] in one transaction with a [PgScheduleKeeper.TaskWriter] on it; emits its transitions after commit. */
    private suspend fun <T> scheduling(what: String, retry: PgDatabase.Retry, block: (Connection, PgScheduleKeeper.TaskWriter) -> T): T {
        val changes = ArrayList<TaskTransition>()
        val result = write(what, retry) { c ->
            changes.clear()
            c.transaction { block(c, OccurrenceWriter(changes)) }
        }
        changes.forEach(::emit)
        return result
    }

    /** Emits the transitions of a committed call, then moves on the schedules whose occurrence became final. */
    private suspend fun committed(changes: List<TaskTransition>) {
        changes.forEach(::emit)
        val finished = changes.filter { it.to.isFinal }.map { it.taskId.value }
        if (finished.isNotEmpty()) advanceSchedules(finished)
    }

    /**
     * Enqueues the next occurrence of the schedules whose pending occurrence is one of [taskIds] (now
     * final), in its own transaction after the one that finished them. If this host cannot (the
     * database went away in between), the caller's call still succeeded: any host's next [sweep]
     * enqueues the occurrence instead.
     */
    private suspend fun advanceSchedules(taskIds: List<Long>) {
        try {
            scheduling("advance schedules", SAFE) { c, tasks -> keeper.finished(c, tasks, taskIds) }
        } catch (e: QueueStorageException) {
            logger.warn("{}: could not move schedules on after tasks {} finished; the next sweep will: {}", config.name, taskIds, e.message)
        } catch (e: IllegalStateException) {
            // Closed meanwhile: the next sweep of any host moves them on.
        }
    }

    /** The task side of [PgScheduleKeeper], on the keeper's transaction; records transitions in [changes]. */
    private inner class OccurrenceWriter(private val changes: MutableList<TaskTransition>) : PgScheduleKeeper.TaskWriter {
        override fun enqueueOccurrence(
            c: Connection,
            type: String,
            payload: String,
            priority: Int,
            runAfter: Long,
            maxAttempts: Int,
            key: String,
            requires: List<String>,
        ): Long {
            val (id, change) = insert(c, type, payload, priority, Instant.ofEpochMilli(runAfter), maxAttempts, key, requires)
            change?.let(changes::add)
            return id
        }

        override fun stateOf(c: Connection, id: Long): TaskState? = lockLease(c, id)?.state

        override fun cancelIfQueued(c: Connection, id: Long): Boolean {
            val row = lockLease(c, id) ?: return false
            if (row.state != TaskState.QUEUED) return false
            val at = finish(c, row.id, TaskState.CANCELLED, null, null, 0)
            changes += log(c, row, at, TaskState.QUEUED, TaskState.CANCELLED, null, row.attempts, null)
            return true
        }
    }

    // ---- Lifecycle ----

    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        listener?.close()
    }

    companion object {
        private const val TRANSITION_BUFFER = 4096
        private const val SCHEDULE_KEY_PREFIX = "schedule:"
        private val logger = LoggerFactory.getLogger(RealPostgresTaskQueue::class.java)

        /** Acks completed by one statement at most. */
        private const val MAX_ACK_GROUP = 256
        private val NOTHING = Any()

        private fun order(strategy: ClaimStrategy): Comparator<Task> = when (strategy) {
            ClaimStrategy.FIFO, ClaimStrategy.WEIGHTED_RANDOM -> compareBy { it.id.value }
            ClaimStrategy.LIFO -> compareByDescending { it.id.value }
            ClaimStrategy.PRIORITY -> compareBy<Task> { it.priority }.thenBy { it.id.value }
        }

        fun open(dataSource: DataSource, config: PostgresTaskQueueConfig): RealPostgresTaskQueue {
            // Holds no connection or thread until its listener starts below.
            val queue = RealPostgresTaskQueue(dataSource, config)
            queue.db.callBlocking("open", PgDatabase.Retry.SAFE) { c ->
                PgSchema(config.schema).migrate(c, claimFunctions = queue.sql.claimFunctions)
            }
            if (config.listen) {
                queue.listener = PgListener(
                    dataSource = dataSource,
                    channel = queue.sql.channel,
                    name = config.queue.name,
                    onNotify = queue::onNotify,
                ).start()
            }
            return queue
        }
    }
}
