package dev.spool.tasks.internal

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.Task
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskLease
import dev.spool.tasks.TaskState
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.ResultSet
import java.sql.Types
import java.time.Instant

/**
 * The writer's prepared statements: the hot paths (enqueue, claim, acks, heartbeat, sweep), each
 * prepared once and used only on the writer thread. States are spelled by [TaskState] only.
 */
internal class TaskStatements(private val connection: Connection, writer: () -> ScheduleKeeper.TaskWriter) : AutoCloseable {
    private val prepared = ArrayList<PreparedStatement>()

    /** The schedules' statements and logic, renewed with these. */
    val schedules: ScheduleKeeper = ScheduleKeeper(connection, writer)

    private fun prepare(sql: String): PreparedStatement = connection.prepareStatement(sql.trimIndent()).also(prepared::add)

    private val insert = prepare(
        """
        INSERT INTO tasks (type, payload, priority, state, run_after, attempts, max_attempts, idempotency_key,
                           requires, created_at, updated_at)
        VALUES (?, ?, ?, '$QUEUED', ?, 0, ?, ?, ?, ?, ?)
        RETURNING id
        """,
    )
    private val findByKey = prepare("SELECT id, state, updated_at FROM tasks WHERE idempotency_key = ?")
    private val clearKey = prepare("UPDATE tasks SET idempotency_key = NULL WHERE id = ?")
    private val insertLog = prepare(
        "INSERT INTO task_log (task_id, type, at, from_state, to_state, worker_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    private val claims: Map<ClaimStrategy, PreparedStatement> =
        ClaimStrategy.entries.associateWith { prepare(claimSql(it, typed = false)) }

    /** Claims limited to some types: these use the (type, state) index instead of walking every queued task. */
    private val typedClaims: Map<ClaimStrategy, PreparedStatement> =
        ClaimStrategy.entries.associateWith { prepare(claimSql(it, typed = true)) }
    private val lease = prepare(
        "SELECT type, state, lease_owner, lease_expires_at, attempts, max_attempts, lease_token FROM tasks WHERE id = ?",
    )
    private val finish = prepare(
        """
        UPDATE tasks SET state = ?, last_error = coalesce(?, last_error), run_after = coalesce(?, run_after),
                         attempts = attempts + ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
        WHERE id = ?
        """,
    )
    private val upsertWorker = prepare(
        """
        INSERT INTO task_workers (worker_id, capabilities, lease_ttl_ms, started_at, last_heartbeat) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (worker_id) DO UPDATE SET capabilities = excluded.capabilities,
            lease_ttl_ms = excluded.lease_ttl_ms, last_heartbeat = excluded.last_heartbeat
        """,
    )
    private val touchWorker = prepare("UPDATE task_workers SET last_heartbeat = ? WHERE worker_id = ? RETURNING lease_ttl_ms")
    /** Extends one exact lease if still valid, never shortening it: ?1 new end, ?2 now, ?3 id, ?4 owner, ?5 token. */
    private val extendLease = prepare(
        """
        UPDATE tasks SET lease_expires_at = max(lease_expires_at, ?1), updated_at = ?2
        WHERE id = ?3 AND state = '$LEASED' AND lease_owner = ?4 AND lease_token = ?5 AND lease_expires_at > ?2
        """,
    )
    private val expired = prepare(
        """
        SELECT id, type, lease_owner, lease_expires_at, attempts, max_attempts, lease_token FROM tasks
        WHERE state = '$LEASED'
          AND (lease_expires_at <= ? OR lease_owner IN (SELECT worker_id FROM task_workers WHERE last_heartbeat < ?))
        """,
    )
    private val deleteStaleWorkers = prepare("DELETE FROM task_workers WHERE last_heartbeat < ?")
    private val leasedBy = prepare(
        "SELECT id, type, lease_owner, lease_expires_at, attempts, max_attempts, lease_token FROM tasks WHERE state = '$LEASED' AND lease_owner = ?",
    )
    private val deleteWorker = prepare("DELETE FROM task_workers WHERE worker_id = ?")
    private val finalStates = TaskState.entries.filter { it.isFinal }.joinToString(", ") { "'$it'" }
    private val purgeLog = prepare(
        "DELETE FROM task_log WHERE task_id IN (SELECT id FROM tasks WHERE state IN ($finalStates) AND updated_at < ?)",
    )
    private val purgeTasks = prepare("DELETE FROM tasks WHERE state IN ($finalStates) AND updated_at < ?")
    private val purgeDepth = prepare("DELETE FROM task_depth WHERE n = 0")
    private val addCounter = prepare("UPDATE task_counters SET value = value + ? WHERE name = ?")

    /** Inserts a task and returns its id. The caller has settled any idempotency key first. */
    fun insert(
        type: String,
        payload: String,
        priority: Int,
        runAfter: Long,
        maxAttempts: Int,
        idempotencyKey: String?,
        requires: String?,
        now: Long,
    ): Long {
        insert.setString(1, type)
        insert.setString(2, payload)
        insert.setInt(3, priority)
        insert.setLong(4, runAfter)
        insert.setInt(5, maxAttempts)
        insert.setNullableString(6, idempotencyKey)
        insert.setNullableString(7, requires)
        insert.setLong(8, now)
        insert.setLong(9, now)
        return insert.executeQuery().use { rs -> check(rs.next()) { "insert returned no id" }; rs.getLong(1) }
    }

    /** The task holding [key]: id, state and last change, or null. */
    fun keyHolder(key: String): KeyHolder? {
        findByKey.setString(1, key)
        return findByKey.executeQuery().use { rs ->
            if (rs.next()) KeyHolder(rs.getLong(1), TaskState.valueOf(rs.getString(2)), rs.getLong(3)) else null
        }
    }

    /** Task [id] gives up its idempotency key. */
    fun clearKey(id: Long) {
        clearKey.setLong(1, id)
        clearKey.executeUpdate()
    }

    fun log(taskId: Long, type: String, at: Long, from: TaskState?, to: TaskState, workerId: String?, attempt: Int, error: String?) {
        insertLog.setLong(1, taskId)
        insertLog.setString(2, type)
        insertLog.setLong(3, at)
        insertLog.setNullableString(4, from?.name)
        insertLog.setString(5, to.name)
        insertLog.setNullableString(6, workerId)
        insertLog.setInt(7, attempt)
        insertLog.setNullableString(8, error)
        insertLog.executeUpdate()
    }

    /** Leases up to [limit] eligible tasks in one `UPDATE … RETURNING`; returns exactly those rows. */
    fun claim(
        strategy: ClaimStrategy,
        workerId: String,
        now: Long,
        leaseExpiresAt: Long,
        types: String?,
        capabilities: String,
        limit: Int,
    ): List<Task> {
        val statement = if (types == null) claims.getValue(strategy) else typedClaims.getValue(strategy)
        statement.setString(1, workerId)
        statement.setLong(2, leaseExpiresAt)
        statement.setLong(3, now)
        statement.setNullableString(4, types)
        statement.setString(5, capabilities)
        statement.setInt(6, limit)
        return statement.executeQuery().use { rs -> buildList { while (rs.next()) add(rs.toTask()) } }
    }

    /** The lease fields of task [id], or null if there is no such task. */
    fun lease(id: Long): LeaseRow? {
        lease.setLong(1, id)
        return lease.executeQuery().use { rs ->
            if (!rs.next()) return null
            LeaseRow(
                id = id,
                type = rs.getString(1),
                state = TaskState.valueOf(rs.getString(2)),
                owner = rs.getString(3),
                expiresAt = rs.getLong(4).takeUnless { rs.wasNull() },
                attempts = rs.getInt(5),
                maxAttempts = rs.getInt(6),
                token = rs.getLong(7),
            )
        }
    }

    /** Moves task [id] out of its lease to [state]; null arguments keep the stored value. */
    fun finish(id: Long, state: TaskState, error: String?, runAfter: Long?, attemptsDelta: Int, now: Long) {
        finish.setString(1, state.name)
        finish.setNullableString(2, error)
        if (runAfter == null) finish.setNull(3, Types.INTEGER) else finish.setLong(3, runAfter)
        finish.setInt(4, attemptsDelta)
        finish.setLong(5, now)
        finish.setLong(6, id)
        check(finish.executeUpdate() == 1) { "task $id vanished inside its transaction" }
    }

    fun upsertWorker(workerId: String, capabilities: String, leaseTtlMs: Long, now: Long) {
        upsertWorker.setString(1, workerId)
        upsertWorker.setString(2, capabilities)
        upsertWorker.setLong(3, leaseTtlMs)
        upsertWorker.setLong(4, now)
        upsertWorker.setLong(5, now)
        upsertWorker.executeUpdate()
    }

    /** Refreshes [workerId]'s heartbeat; returns its lease TTL, or null if it is not registered. */
    fun touchWorker(workerId: String, now: Long): Long? {
        touchWorker.setLong(1, now)
        touchWorker.setString(2, workerId)
        return touchWorker.executeQuery().use { rs -> if (rs.next()) rs.getLong(1) else null }
    }

    /** Extends [lease] to at least [expiresAt] if it is still valid at [now]; false if it is not. */
    fun extendLease(lease: TaskLease, now: Long, expiresAt: Long): Boolean {
        extendLease.setLong(1, expiresAt)
        extendLease.setLong(2, now)
        extendLease.setLong(3, lease.taskId.value)
        extendLease.setString(4, lease.workerId)
        extendLease.setLong(5, lease.token)
        return extendLease.executeUpdate() == 1
    }

    /** Leased tasks whose lease expired by [now] or whose worker last heartbeated before [staleBefore]. */
    fun expired(now: Long, staleBefore: Long): List<LeaseRow> {
        expired.setLong(1, now)
        expired.setLong(2, staleBefore)
        return expired.executeQuery().use(::leaseRows)
    }

    private fun leaseRows(rs: ResultSet): List<LeaseRow> = buildList {
        while (rs.next()) {
            add(LeaseRow(rs.getLong(1), rs.getString(2), TaskState.LEASED, rs.getString(3), rs.getLong(4), rs.getInt(5), rs.getInt(6), rs.getLong(7)))
        }
    }

    fun deleteStaleWorkers(staleBefore: Long): Int {
        deleteStaleWorkers.setLong(1, staleBefore)
        return deleteStaleWorkers.executeUpdate()
    }

    /** Tasks leased by [workerId]. */
    fun leasedBy(workerId: String): List<LeaseRow> {
        leasedBy.setString(1, workerId)
        return leasedBy.executeQuery().use(::leaseRows)
    }

    fun deleteWorker(workerId: String): Int {
        deleteWorker.setString(1, workerId)
        return deleteWorker.executeUpdate()
    }

    /**
     * Deletes final tasks last changed before [before], with their log, and the depth rows left
     * at 0 (types no longer in use); returns how many tasks.
     */
    fun purge(before: Long): Int {
        purgeLog.setLong(1, before)
        purgeLog.executeUpdate()
        purgeTasks.setLong(1, before)
        val deleted = purgeTasks.executeUpdate()
        purgeDepth.executeUpdate()
        return deleted
    }

    fun addCounter(name: String, delta: Int) {
        if (delta == 0) return
        addCounter.setInt(1, delta)
        addCounter.setString(2, name)
        addCounter.executeUpdate()
    }

    override fun close() {
        prepared.forEach { runCatching { it.close() } }
        schedules.close()
    }

    /** The lease-related fields of one task, read inside the writer's transaction. */
    class LeaseRow(
        val id: Long,
        val type: String,
        val state: TaskState,
        val owner: String?,
        val expiresAt: Long?,
        val attempts: Int,
        val maxAttempts: Int,
        val token: Long,
    )

    /** The task holding an idempotency key. */
    class KeyHolder(val id: Long, val state: TaskState, val updatedAt: Long)

    companion object {
        private val QUEUED = TaskState.QUEUED
        private val LEASED = TaskState.LEASED

        val TASK_COLUMNS: String = columnList(TasksTable)

        /**
         * ?1 worker, ?2 lease end, ?3 now, ?4 accepted types (JSON array; unused unless [typed]),
         * ?5 capabilities (JSON array), ?6 limit. `requires ⊆ capabilities` is checked in SQL:
         * no required capability may be missing from the worker's.
         *
         * With [typed], the candidates come from the `(type, state)` index, one probe per accepted
         * type: an idle worker's poll costs a few index lookups, not a walk over every queued task.
         */
        fun claimSql(strategy: ClaimStrategy, typed: Boolean): String {
            val order = when (strategy) {
                ClaimStrategy.FIFO -> "id"
                ClaimStrategy.LIFO -> "id DESC"
                ClaimStrategy.PRIORITY -> "priority, id"
                // Efraimidis–Spirakis: key = -ln(U) / weight with weight = 1 / (1 + priority), U in (0, 1].
                ClaimStrategy.WEIGHTED_RANDOM ->
                    "-ln(((random() & 9007199254740991) + 1) / 9007199254740992.0) * (1 + priority)"
            }
            return """
                UPDATE tasks
                SET state = '$LEASED', lease_owner = ?1, lease_expires_at = ?2, attempts = attempts + 1,
                    lease_token = lease_token + 1, updated_at = ?3
                WHERE id IN (
                    SELECT t.id FROM tasks t${if (typed) " INDEXED BY tasks_type_state" else ""}
                    WHERE t.state = '$QUEUED' AND t.run_after <= ?3
                      AND ${if (typed) "t.type IN (SELECT value FROM json_each(?4))" else "?4 IS NULL"}
                      AND (t.requires IS NULL OR NOT EXISTS (
                            SELECT 1 FROM json_each(t.requires) r WHERE r.value NOT IN (SELECT value FROM json_each(?5))))
                    ORDER BY $order
                    LIMIT ?6
                )
                RETURNING $TASK_COLUMNS
            """
        }

        fun ResultSet.toTask(): Task = TasksTable.toTask(this)

        private fun PreparedStatement.setNullableString(index: Int, value: String?) {
            if (value == null) setNull(index, Types.VARCHAR) else setString(index, value)
        }
    }
}
