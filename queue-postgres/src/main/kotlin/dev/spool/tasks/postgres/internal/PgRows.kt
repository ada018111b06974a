package dev.spool.tasks.postgres.internal

import dev.spool.tasks.Task
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskLease
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskTransition
import java.sql.ResultSet
import java.time.Instant

/** The task in the current row of a query selecting [PgSql.TASK_COLUMNS]. */
internal fun ResultSet.toTask(): Task = Task(
    id = TaskId(getLong("id")),
    type = getString("type"),
    payload = getString("payload"),
    priority = getInt("priority"),
    state = TaskState.valueOf(getString("state")),
    attempts = getInt("attempts"),
    maxAttempts = getInt("max_attempts"),
    runAfter = Instant.ofEpochMilli(getLong("run_after")),
    requires = stringSet("requires"),
    idempotencyKey = getString("idempotency_key"),
    lease = if (getString("state") == TaskState.LEASED.name) {
        TaskLease(TaskId(getLong("id")), getString("lease_owner"), getLong("lease_token"))
    } else {
        null
    },
    leaseOwner = getString("lease_owner"),
    leaseExpiresAt = getLong("lease_expires_at").takeUnless { wasNull() }?.let(Instant::ofEpochMilli),
    lastError = getString("last_error"),
    createdAt = Instant.ofEpochMilli(getLong("created_at")),
    updatedAt = Instant.ofEpochMilli(getLong("updated_at")),
)

/** The transition in the current row of [PgSql.taskLog]. */
internal fun ResultSet.toTransition(): TaskTransition = TaskTransition(
    taskId = TaskId(getLong("task_id")),
    type = getString("type"),
    from = getString("from_state")?.let(TaskState::valueOf),
    to = TaskState.valueOf(getString("to_state")),
    at = Instant.ofEpochMilli(getLong("at")),
    workerId = getString("worker_id"),
    attempt = getInt("attempt"),
    error = getString("error"),
)

/** A `text[]` column as a set, sorted as stored. */
internal fun ResultSet.stringSet(column: String): Set<String> {
    val array = getArray(column) ?: return emptySet()
    @Suppress("UNCHECKED_CAST")
    return (array.array as Array<String>).toCollection(LinkedHashSet())
}

/** The lease-related fields of one task, read (and locked) inside an ack's transaction. */
internal class LeaseRow(
    val id: Long,
    val type: String,
    val state: TaskState,
    val owner: String?,
    val token: Long,
    val valid: Boolean,
    val attempts: Int,
    val maxAttempts: Int,
)

internal fun ResultSet.toLeaseRow(): LeaseRow = LeaseRow(
    id = getLong("id"),
    type = getString("type"),
    state = TaskState.valueOf(getString("state")),
    owner = getString("lease_owner"),
    token = getLong("lease_token"),
    valid = getBoolean("valid"),
    attempts = getInt("attempts"),
    maxAttempts = getInt("max_attempts"),
)
