package dev.spool.tasks.internal

import dev.spool.tasks.ClaimStrategy
import dev.spool.tasks.Task
import dev.spool.tasks.TaskId
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
internal class TaskStatements(private val connection: Connection) : AutoCloseable {
    private val prepared = ArrayList<PreparedStatement>()

    private fun prepare(sql: String): PreparedStatement = connection.prepareStatement(sql.trimIndent()).also(prepared::add)

    private val insert = prepare(
        """
        INSERT INTO tasks (type, payload, priority, state, run_after, attempts, max_attempts, idempotency_key,
                           requires, created_at, updated_at)
        VALUES (?, ?, ?, '$QUEUED', ?, 0, ?, ?, ?, ?, ?)
        ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING id
        """,
    )
    private val findByKey = prepare("SELECT id FROM tasks WHERE idempotency_key = ?")
    private val insertLog = prepare(
        "INSERT INTO task_log (task_id, type, at, from_state, to_state, worker_id, attempt, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    private val claims: Map<ClaimStrategy, PreparedStatement> =
        ClaimStrategy.entries.associateWith { prepare(claimSql(it, typed = false)) }

    /** Claims limited to some types: these use the (type, state) index instead of walking every queued task. */
    private val typedClaims: Map<ClaimStrategy, PreparedStatement> =
        ClaimStrategy.entries.associateWith { prepare(claimSql(it, typed = true)) }
    private val lease = prepare("SELECT type, state, lease_owner, lease_expires_at, attempts, max_attempts FROM tasks WHERE id = ?")
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
    private val extendLeases = prepare(
        """
        UPDATE tasks SET lease_expires_at = ?, updated_at = ?
        WHERE state = '$LEASED' AND lease_owner = ? AND lease_expires_at > ?
        RETURNING id
        """,
    )
    private val renew = prepare(
        """
        UPDATE tasks SET lease_expires_at = ?, updated_at = ?
        WHERE id = ? AND state = '$LEASED' AND lease_expires_at > ? AND (?5 IS NULL OR lease_owner = ?5)
        """,
    )
    private val expired = prepare(
        """
        SELECT id, type, lease_owner, lease_expires_at, attempts, max_attempts FROM tasks
        WHERE state = '$LEASED'
          AND (lease_expires_at <= ? OR lease_owner IN (SELECT worker_id FROM task_workers WHERE last_heartbeat < ?))
        """,
    )
    private val deleteStaleWorkers = prepare("DELETE FROM task_workers WHERE last_heartbeat < ?")
    private val leasedBy = prepare("SELECT id, type, attempts FROM tasks WHERE state = '$LEASED' AND lease_owner = ?")
    private val deleteWorker = prepare("DELETE FROM task_workers WHERE worker_id = ?")
    private val finalStates = TaskState.entries.filter { it.isFinal }.joinToString(", ") { "'$it'" }
    private val purgeLog = prepare(
        "DELETE FROM task_log WHERE task_id IN (SELECT id FROM tasks WHERE state IN ($finalStates) AND updated_at < ?)",
    )
    private val purgeTasks = prepare("DELETE FROM tasks WHERE state IN ($finalStates) AND updated_at < ?")
    private val addCounter = prepare("UPDATE task_counters SET value = value + ? WHERE name = ?")

    /** Inserts a task; returns its id and true, or the existing task's id and false for a used key. */
    fun insert(
        type: String,
        payload: String,
        priority: Int,
        runAfter: Long,
        maxAttempts: Int,
        idempotencyKey: String?,
        requires: String?,
        now: Long,
    ): Pair<Long, Boolean> {
        insert.setString(1, type)
        insert.setString(2, payload)
        insert.setInt(3, priority)
        insert.setLong(4, runAfter)
        insert.setInt(5, maxAttempts)
        insert.setNullableString(6, idempotencyKey)
        insert.setNullableString(7, requires)
        insert.setLong(8, now)
        insert.setLong(9, now)
        insert.executeQuery().use { rs -> if (rs.next()) return rs.getLong(1) to true }
        // Same transaction as the insert that conflicted: the row cannot vanish in between.
        findByKey.setString(1, idempotencyKey)
        return findByKey.executeQuery().use { rs -> check(rs.next()) { "idempotency key conflict without a row" }; rs.getLong(1) } to false
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

    fun extendLeases(workerId: String, now: Long, expiresAt: Long): Set<TaskId> {
        extendLeases.setLong(1, expiresAt)
        extendLeases.setLong(2, now)
        extendLeases.setString(3, workerId)
        extendLeases.setLong(4, now)
        return extendLeases.executeQuery().use { rs -> buildSet { while (rs.next()) add(TaskId(rs.getLong(1))) } }
    }

    fun renew(id: Long, workerId: String?, now: Long, expiresAt: Long): Boolean {
        renew.setLong(1, expiresAt)
        renew.setLong(2, now)
        renew.setLong(3, id)
        renew.setLong(4, now)
        renew.setNullableString(5, workerId)
        return renew.executeUpdate() == 1
    }

    /** Leased tasks whose lease expired by [now] or whose worker last heartbeated before [staleBefore]. */
    fun expired(now: Long, staleBefore: Long): List<LeaseRow> {
        expired.setLong(1, now)
        expired.setLong(2, staleBefore)
        return expired.executeQuery().use { rs ->
            buildList {
                while (rs.next()) {
                    add(LeaseRow(rs.getLong(1), rs.getString(2), TaskState.LEASED, rs.getString(3), rs.getLong(4), rs.getInt(5), rs.getInt(6)))
                }
            }
        }
    }

    fun deleteStaleWorkers(staleBefore: Long): Int {
        deleteStaleWorkers.setLong(1, staleBefore)
        return deleteStaleWorkers.executeUpdate()
    }

    /** Tasks leased by [workerId]: id, type and attempts. */
    fun leasedBy(workerId: String): List<Triple<Long, String, Int>> {
        leasedBy.setString(1, workerId)
        return leasedBy.executeQuery().use { rs -> buildList { while (rs.next()) add(Triple(rs.getLong(1), rs.getString(2), rs.getInt(3))) } }
    }

    fun deleteWorker(workerId: String): Int {
        deleteWorker.setString(1, workerId)
        return deleteWorker.executeUpdate()
    }

    /** Deletes final tasks last changed before [before], with their log; returns how many tasks. */
    fun purge(before: Long): Int {
        purgeLog.setLong(1, before)
        purgeLog.executeUpdate()
        purgeTasks.setLong(1, before)
        return purgeTasks.executeUpdate()
    }

    fun addCounter(name: String, delta: Int) {
        if (delta == 0) return
        addCounter.setInt(1, delta)
        addCounter.setString(2, name)
        addCounter.executeUpdate()
    }

    override fun close() {
        prepared.forEach { runCatching { it.close() } }
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
    )

    companion object {
        private val QUEUED = TaskState.QUEUED
        private val LEASED = TaskState.LEASED

        const val TASK_COLUMNS = "id, type, payload, priority, state, run_after, attempts, max_attempts, idempotency_key, " +
            "requires, lease_owner, lease_expires_at, last_error, created_at, updated_at"

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
                SET state = '$LEASED', lease_owner = ?1, lease_expires_at = ?2, attempts = attempts + 1, updated_at = ?3
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
