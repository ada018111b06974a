package dev.spool.tasks.internal

import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import dev.spool.tasks.Schedule
import dev.spool.tasks.Task
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskLease
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskTransition
import org.jetbrains.exposed.v1.core.Column
import org.jetbrains.exposed.v1.core.ResultRow
import org.jetbrains.exposed.v1.core.Table
import java.sql.ResultSet
import java.time.Instant
import java.time.ZoneId
import kotlin.time.Duration.Companion.milliseconds

/**
 * The one definition of the task queue's tables: column names, types and nullability, and the
 * mapping of a row to its public type. The prepared statements take their column lists from
 * these objects ([columnList]), both read paths map rows through [Cells], and `TaskTablesSpec`
 * checks [TaskSchema]'s DDL against them.
 */
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
    val leaseToken = long("lease_token")
    val lastError = text("last_error").nullable()
    val createdAt = long("created_at")
    val updatedAt = long("updated_at")

    override val primaryKey: PrimaryKey = PrimaryKey(id)

    /** The one mapping of a `tasks` row to a [Task]. */
    fun toTask(cells: Cells): Task {
        val id = TaskId(cells[id])
        val state = cells[state]
        val owner = cells[leaseOwner]
        return Task(
            id = id,
            type = cells[type],
            payload = cells[payload],
            priority = cells[priority],
            state = state,
            attempts = cells[attempts],
            maxAttempts = cells[maxAttempts],
            runAfter = Instant.ofEpochMilli(cells[runAfter]),
            requires = decodeStrings(cells[requires]),
            idempotencyKey = cells[idempotencyKey],
            lease = if (state == TaskState.LEASED && owner != null) TaskLease(id, owner, cells[leaseToken]) else null,
            leaseOwner = owner,
            leaseExpiresAt = cells[leaseExpiresAt]?.let(Instant::ofEpochMilli),
            lastError = cells[lastError],
            createdAt = Instant.ofEpochMilli(cells[createdAt]),
            updatedAt = Instant.ofEpochMilli(cells[updatedAt]),
        )
    }

    fun toTask(row: ResultRow): Task = toTask(Cells.of(row))

    fun toTask(rs: ResultSet): Task = toTask(Cells.of(rs))
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

    fun toTransition(cells: Cells): TaskTransition = TaskTransition(
        taskId = TaskId(cells[taskId]),
        type = cells[type],
        from = cells[fromState],
        to = cells[toState],
        at = Instant.ofEpochMilli(cells[at]),
        workerId = cells[workerId],
        attempt = cells[attempt],
        error = cells[error],
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

/** The `task_counters` table: lifetime counters shown by `stats()`. */
internal object TaskCountersTable : Table("task_counters") {
    val name = text("name")
    val value = long("value")

    override val primaryKey: PrimaryKey = PrimaryKey(name)
}

/**
 * The `task_depth` table: how many tasks there are per type and state, kept exact by triggers on
 * `tasks` (see [TaskSchema]). Rows may hold 0.
 */
internal object TaskDepthTable : Table("task_depth") {
    val type = text("type")
    val state = enumerationByName("state", 16, TaskState::class)
    val n = long("n")

    override val primaryKey: PrimaryKey = PrimaryKey(type, state)
}

/** The `task_schedules` table: one row per recurring schedule. */
internal object TaskSchedulesTable : Table("task_schedules") {
    val name = text("name")
    val type = text("type")
    val payload = text("payload")
    val everyMs = long("every_ms").nullable()
    val cron = text("cron").nullable()
    val zone = text("zone").nullable()
    val misfire = enumerationByName("misfire", 16, MisfirePolicy::class)
    val priority = integer("priority")
    val maxAttempts = integer("max_attempts")
    val requires = text("requires").nullable()
    val startAt = long("start_at")
    val paused = integer("paused")
    val nextFireAt = long("next_fire_at").nullable()
    val pendingTaskId = long("pending_task_id").nullable()
    val createdAt = long("created_at")
    val updatedAt = long("updated_at")

    override val primaryKey: PrimaryKey = PrimaryKey(name)

    /** The recurrence stored in a row. */
    fun recurrence(cells: Cells): Recurrence {
        val every = cells[everyMs]
        return if (every != null) Recurrence.Every(every.milliseconds) else Recurrence.Cron(cells[cron]!!, ZoneId.of(cells[zone]!!))
    }

    /** The one mapping of a `task_schedules` row to a [Schedule]. */
    fun toSchedule(cells: Cells): Schedule = Schedule(
        name = cells[name],
        type = cells[type],
        payload = cells[payload],
        recurrence = recurrence(cells),
        misfire = cells[misfire],
        priority = cells[priority],
        maxAttempts = cells[maxAttempts],
        requires = decodeStrings(cells[requires]),
        paused = cells[paused] != 0,
        nextFireAt = cells[nextFireAt]?.let(Instant::ofEpochMilli),
        pendingTaskId = cells[pendingTaskId]?.let(::TaskId),
        createdAt = Instant.ofEpochMilli(cells[createdAt]),
    )
}

/** Every table of a task-queue file, in creation order. */
internal val TASK_TABLES: List<Table> =
    listOf(TasksTable, TaskLogTable, TaskWorkersTable, TaskCountersTable, TaskSchedulesTable, TaskDepthTable)

/** The columns of [table] as a SQL list, in declaration order, for hand-written statements. */
internal fun columnList(table: Table, alias: String? = null): String =
    table.columns.joinToString(", ") { if (alias == null) it.name else "$alias.${it.name}" }

/**
 * One row's values by column, whether the row came from Exposed ([ResultRow]) or from a
 * hand-written statement ([ResultSet], read by column name): so each table maps rows once.
 */
internal interface Cells {
    operator fun <T> get(column: Column<T>): T

    companion object {
        fun of(row: ResultRow): Cells = object : Cells {
            override fun <T> get(column: Column<T>): T = row[column]
        }

        fun of(rs: ResultSet): Cells = object : Cells {
            @Suppress("UNCHECKED_CAST")
            override fun <T> get(column: Column<T>): T {
                val raw = rs.getObject(column.name) ?: return null as T
                return column.columnType.valueFromDB(raw) as T
            }
        }
    }
}
