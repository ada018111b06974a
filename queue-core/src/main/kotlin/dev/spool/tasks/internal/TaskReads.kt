package dev.spool.tasks.internal

import dev.spool.engine.ReadConnection
import dev.spool.engine.query
import dev.spool.tasks.Schedule
import dev.spool.tasks.Task
import dev.spool.tasks.TaskFilter
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskPage
import dev.spool.tasks.TaskState
import dev.spool.tasks.TaskStats
import dev.spool.tasks.TaskTransition
import dev.spool.tasks.WorkerInfo
import java.sql.Connection
import java.sql.ResultSet
import java.time.Instant
import java.util.EnumMap
import kotlin.time.Duration.Companion.milliseconds

/**
 * The task queue's reads on the read connection, each one transaction of [reader], so each sees
 * one committed state. Every statement is a constant of the companion, and `TaskReadPlanSpec`
 * checks with `EXPLAIN QUERY PLAN` that none walks the `tasks` table: the cost of a read does not
 * grow with the number of tasks, only with what it returns.
 *
 * - [stats] reads `task_depth` (kept by triggers), the two counters, the worker registry (small)
 *   and the first queued task by the `tasks_queued_id` index.
 * - [list] without filters walks ids after the cursor. With a state or type filter it probes the
 *   `(type, state)` index once per pair that has tasks (the pairs come from `task_depth`), each
 *   probe stopping after one page, and merges the probes by id: at most pairs × page rows are
 *   read, however many tasks there are.
 */
internal class TaskReads(private val reader: ReadConnection) {
    suspend fun get(taskId: TaskId): Task? = read { c ->
        c.query(GET, taskId.value) { rs -> if (rs.next()) TasksTable.toTask(rs) else null }
    }

    suspend fun list(filter: TaskFilter, cursor: TaskId?): TaskPage = read { c ->
        val after = cursor?.value ?: 0L
        val fetch = filter.limit + 1
        val rows = if (filter.states == null && filter.type == null) {
            c.query(LIST, after, fetch, read = ::tasks)
        } else {
            val pairs = c.query(DEPTH) { rs ->
                buildList {
                    while (rs.next()) {
                        val type = rs.getString(1)
                        val state = TaskState.valueOf(rs.getString(2))
                        if ((filter.type == null || filter.type == type) && (filter.states == null || state in filter.states)) {
                            add(type to state)
                        }
                    }
                }
            }
            c.prepareStatement(LIST_PAIR).use { probe ->
                pairs.flatMap { (type, state) ->
                    probe.setString(1, type)
                    probe.setString(2, state.name)
                    probe.setLong(3, after)
                    probe.setInt(4, fetch)
                    probe.executeQuery().use(::tasks)
                }
            }.sortedBy { it.id.value }.take(fetch)
        }
        val page = rows.take(filter.limit)
        TaskPage(page, if (rows.size > filter.limit) page.last().id else null)
    }

    suspend fun taskLog(taskId: TaskId): List<TaskTransition> = read { c ->
        c.query(LOG, taskId.value) { rs -> buildList { while (rs.next()) add(TaskLogTable.toTransition(Cells.of(rs))) } }
    }

    suspend fun workers(staleBefore: Long): List<WorkerInfo> = read { c ->
        c.query(WORKERS) { rs ->
            buildList {
                while (rs.next()) {
                    val lastHeartbeat = rs.getLong(TaskWorkersTable.lastHeartbeat.name)
                    add(
                        WorkerInfo(
                            workerId = rs.getString(TaskWorkersTable.workerId.name),
                            capabilities = decodeStrings(rs.getString(TaskWorkersTable.capabilities.name)),
                            leaseTtl = rs.getLong(TaskWorkersTable.leaseTtlMs.name).milliseconds,
                            lastHeartbeat = Instant.ofEpochMilli(lastHeartbeat),
                            stale = lastHeartbeat < staleBefore,
                        ),
                    )
                }
            }
        }
    }

    suspend fun schedules(): List<Schedule> = read { c ->
        c.query(SCHEDULES) { rs -> buildList { while (rs.next()) add(TaskSchedulesTable.toSchedule(Cells.of(rs))) } }
    }

    /** The stats at [now]: workers that heartbeated at or after [activeSince] count as active. */
    suspend fun stats(now: Long, activeSince: Long): TaskStats = read { c ->
        c.query(STATS, activeSince) { rs ->
            val depth = LinkedHashMap<String, MutableMap<TaskState, Int>>()
            var oldest: Long? = null
            val counters = HashMap<String, Long>()
            while (rs.next()) {
                val type = rs.getString(1)
                val key = rs.getString(2)
                when {
                    type != null -> depth.getOrPut(type) { EnumMap(TaskState::class.java) }[TaskState.valueOf(key)] = rs.getInt(3)
                    key == OLDEST_KEY -> oldest = rs.getLong(3)
                    else -> counters[key] = rs.getLong(3)
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

    private suspend fun <T> read(block: (Connection) -> T): T = reader.read { block(connection.connection as Connection) }

    private fun tasks(rs: ResultSet): List<Task> = buildList { while (rs.next()) add(TasksTable.toTask(rs)) }

    internal companion object {
        private const val WORKERS_KEY = "workers"
        private const val OLDEST_KEY = "oldest"
        private val QUEUED = TaskState.QUEUED
        private val COLUMNS = TaskStatements.TASK_COLUMNS

        /** One task by id: ?1 id. */
        val GET = "SELECT $COLUMNS FROM tasks WHERE id = ?"

        /** A page of every task: ?1 cursor (0 for the first page), ?2 page size + 1. */
        val LIST = "SELECT $COLUMNS FROM tasks WHERE id > ? ORDER BY id LIMIT ?"

        /** A page of one (type, state) pair: ?1 type, ?2 state, ?3 cursor, ?4 page size + 1. */
        val LIST_PAIR =
            "SELECT $COLUMNS FROM tasks INDEXED BY tasks_type_state WHERE type = ? AND state = ? AND id > ? ORDER BY id LIMIT ?"

        /** The (type, state) pairs that have tasks. */
        val DEPTH = "SELECT type, state FROM task_depth WHERE n > 0"

        /** Task ?1's transitions, oldest first. */
        val LOG = "SELECT ${columnList(TaskLogTable)} FROM task_log WHERE task_id = ? ORDER BY id"

        val WORKERS = "SELECT ${columnList(TaskWorkersTable)} FROM task_workers ORDER BY worker_id"

        val SCHEDULES = "SELECT ${columnList(TaskSchedulesTable)} FROM task_schedules ORDER BY name"

        /**
         * The stats in one statement, ?1 the active-worker cutoff: depth rows (type set), then
         * rows with a NULL type: the active workers, the counters, and the creation time of the
         * first queued task. Queued tasks are created in id order, so the first by the
         * `tasks_queued_id` index is the oldest, without looking at the others.
         */
        val STATS = """
            SELECT type, state, n FROM task_depth WHERE n > 0
            UNION ALL
            SELECT NULL, '$WORKERS_KEY', COUNT(*) FROM task_workers WHERE last_heartbeat >= ?
            UNION ALL
            SELECT NULL, name, value FROM task_counters
            UNION ALL
            SELECT NULL, '$OLDEST_KEY', created_at FROM tasks
            WHERE id = (SELECT min(id) FROM tasks WHERE state = '$QUEUED')
        """.trimIndent()

        /** Every statement above, for the plan test. */
        val ALL: Map<String, String> =
            mapOf("get" to GET, "list" to LIST, "listPair" to LIST_PAIR, "depth" to DEPTH, "log" to LOG,
                "workers" to WORKERS, "schedules" to SCHEDULES, "stats" to STATS)
    }
}
