package dev.spool.tasks.internal

import dev.spool.tasks.Task
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskTransition
import org.jetbrains.exposed.v1.core.ResultRow
import org.jetbrains.exposed.v1.core.Table
import java.time.Instant

/** The `tasks` table as Exposed sees it, for reads and admin queries. DDL lives in [TaskSchema]. */
internal object TasksTable : Table("tasks") {
    val id = long("id").autoIncrement()
    val type = text("type")
    val payload = text("payload")
    val priority = integer("priority")
    val state = enumerationByName("state", 16, TaskState::class)
    val runAfter = long("run_after")
    val attempts = integer("attempts")
    val maxAttempts = integer("max_attempts")
    val idempotencyKey = text("idempotency_key").nullable()
    val requires = text("requires").nullable()
    val leaseOwner = text("lease_owner").nullable()
    val leaseExpiresAt = long("lease_expires_at").nullable()
    val lastError = text("last_error").nullable()
    val createdAt = long("created_at")
    val updatedAt = long("updated_at")

    override val primaryKey: PrimaryKey = PrimaryKey(id)

    fun toTask(row: ResultRow): Task = Task(
        id = TaskId(row[id]),
        type = row[type],
        payload = row[payload],
        priority = row[priority],
        state = row[state],
        attempts = row[attempts],
        maxAttempts = row[maxAttempts],
        runAfter = Instant.ofEpochMilli(row[runAfter]),
        requires = decodeStrings(row[requires]),
        idempotencyKey = row[idempotencyKey],
        leaseOwner = row[leaseOwner],
        leaseExpiresAt = row[leaseExpiresAt]?.let(Instant::ofEpochMilli),
        lastError = row[lastError],
        createdAt = Instant.ofEpochMilli(row[createdAt]),
        updatedAt = Instant.ofEpochMilli(row[updatedAt]),
    )
}

/** The `task_log` table: one row per state change. */
internal object TaskLogTable : Table("task_log") {
    val id = long("id")
    val taskId = long("task_id")
    val type = text("type")
    val at = long("at")
    val fromState = enumerationByName("from_state", 16, TaskState::class).nullable()
    val toState = enumerationByName("to_state", 16, TaskState::class)
    val workerId = text("worker_id").nullable()
    val attempt = integer("attempt")
    val error = text("error").nullable()

    override val primaryKey: PrimaryKey = PrimaryKey(id)

    fun toTransition(row: ResultRow): TaskTransition = TaskTransition(
        taskId = TaskId(row[taskId]),
        type = row[type],
        from = row[fromState],
        to = row[toState],
        at = Instant.ofEpochMilli(row[at]),
        workerId = row[workerId],
        attempt = row[attempt],
        error = row[error],
    )
}

/** The `task_workers` table: the worker registry. */
internal object TaskWorkersTable : Table("task_workers") {
    val workerId = text("worker_id")
    val capabilities = text("capabilities")
    val leaseTtlMs = long("lease_ttl_ms")
    val startedAt = long("started_at")
    val lastHeartbeat = long("last_heartbeat")

    override val primaryKey: PrimaryKey = PrimaryKey(workerId)
}
