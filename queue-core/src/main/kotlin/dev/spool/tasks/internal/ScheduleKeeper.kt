package dev.spool.tasks.internal

import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import dev.spool.tasks.Schedule
import dev.spool.tasks.TaskState
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.ResultSet
import java.sql.Types

/**
 * Keeps recurring schedules going, on the writer thread, inside the writer's transactions.
 *
 * A schedule row's `next_fire_at` is the fire time of its pending occurrence when
 * `pending_task_id` is set, and otherwise the next fire time not yet enqueued. Each occurrence is
 * inserted through [TaskWriter.enqueueOccurrence] with the key `schedule:<name>:<fire time>`, in
 * the same transaction that moves the row on; because every such transaction is a
 * `BEGIN IMMEDIATE` on the one file and the key is unique, a fire time is enqueued once across
 * every process. Its statements are prepared with [TaskStatements] and renewed with them after a
 * failed transaction.
 */
internal class ScheduleKeeper(private val connection: Connection, private val writer: () -> TaskWriter) : AutoCloseable {
    private val tasks: TaskWriter get() = writer()

    /** What the keeper needs from the task side; implemented by the queue, on the writer thread. */
    interface TaskWriter {
        /** Inserts an occurrence (or finds the task already holding [key]) and returns its id. */
        fun enqueueOccurrence(
            type: String,
            payload: String,
            priority: Int,
            runAfter: Long,
            maxAttempts: Int,
            key: String,
            requires: String?,
            now: Long,
        ): Long

        /** The state of task [id], or null if there is none. */
        fun stateOf(id: Long): TaskState?

        /** Cancels task [id] if it is queued (not running); true if it did. */
        fun cancelIfQueued(id: Long, now: Long): Boolean
    }

    private val prepared = ArrayList<PreparedStatement>()

    private fun prepare(sql: String): PreparedStatement = connection.prepareStatement(sql.trimIndent()).also(prepared::add)

    private val columns = columnList(TaskSchedulesTable)
    private val insert = prepare(
        """
        INSERT INTO task_schedules (name, type, payload, every_ms, cron, zone, misfire, priority, max_attempts, requires,
                                    start_at, paused, next_fire_at, pending_task_id, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, NULL, ?, ?)
        """,
    )
    private val redefine = prepare(
        """
        UPDATE task_schedules SET type = ?, payload = ?, every_ms = ?, cron = ?, zone = ?, misfire = ?, priority = ?,
                                  max_attempts = ?, requires = ?, start_at = ?, next_fire_at = NULL, updated_at = ?
        WHERE name = ?
        """,
    )
    private val byName = prepare("SELECT $columns FROM task_schedules WHERE name = ?")
    private val byPending = prepare("SELECT $columns FROM task_schedules WHERE pending_task_id = ?")
    private val all = prepare("SELECT $columns FROM task_schedules ORDER BY name")
    private val setNext = prepare("UPDATE task_schedules SET next_fire_at = ?, pending_task_id = ?, updated_at = ? WHERE name = ?")
    private val setPaused = prepare("UPDATE task_schedules SET paused = ?, updated_at = ? WHERE name = ?")
    private val delete = prepare("DELETE FROM task_schedules WHERE name = ?")
    private val orphans = prepare(
        """
        SELECT $columns FROM task_schedules s
        WHERE s.paused = 0 AND s.next_fire_at IS NOT NULL
          AND (s.pending_task_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM tasks t WHERE t.id = s.pending_task_id AND t.state IN ('${TaskState.QUEUED}', '${TaskState.LEASED}')))
        """,
    )

    /** A schedule's definition as [TaskQueue.schedule][dev.spool.tasks.TaskQueue.schedule] takes it. */
    class Definition(
        val type: String,
        val payload: String,
        val recurrence: Recurrence,
        val misfire: MisfirePolicy,
        val priority: Int,
        val maxAttempts: Int,
        val requires: String?,
        val startAt: Long?,
    )

    /** Creates or redefines schedule [name] and returns it as stored. */
    fun define(name: String, definition: Definition, now: Long): Schedule {
        val existing = row(name)
        if (existing == null) {
            val start = definition.startAt ?: now
            bindDefinition(insert, 2, definition, start)
            insert.setString(1, name)
            insert.setLong(12, now)
            insert.setLong(13, now)
            insert.executeUpdate()
            val created = row(name)!!
            enqueueFrom(created, ScheduleRules.firstFireTime(created.recurrence, start), now)
        } else if (!existing.sameAs(definition)) {
            val start = definition.startAt ?: existing.startAt
            // Leave the pending occurrence first, so cancelling it does not move the schedule on.
            val pending = existing.pendingTaskId
            setNext(name, null, null, now)
            val running = pending != null && !tasks.cancelIfQueued(pending, now) && tasks.stateOf(pending) == TaskState.LEASED
            bindDefinition(redefine, 1, definition, start)
            redefine.setLong(11, now)
            redefine.setString(12, name)
            redefine.executeUpdate()
            val redefined = row(name)!!
            val candidate = ScheduleRules.redefinedFireTime(redefined.recurrence, start, now)
            when {
                redefined.paused -> setNext(name, candidate, null, now)
                // A running occurrence finishes first; the next one, by the new definition, follows it.
                running -> setNext(name, existing.nextFireAt, pending, now)
                else -> enqueueFrom(redefined, candidate, now)
            }
        }
        return schedule(name)!!
    }

    fun schedule(name: String): Schedule? {
        byName.setString(1, name)
        return byName.executeQuery().use { rs -> if (rs.next()) TaskSchedulesTable.toSchedule(Cells.of(rs)) else null }
    }

    fun list(): List<Schedule> = all.executeQuery().use { rs ->
        buildList { while (rs.next()) add(TaskSchedulesTable.toSchedule(Cells.of(rs))) }
    }

    /** Task [taskId] became final: if it was a schedule's pending occurrence, enqueue the next one. */
    fun finished(taskId: Long, now: Long) {
        byPending.setLong(1, taskId)
        val row = byPending.executeQuery().use { rs -> if (rs.next()) Row(rs) else null } ?: return
        val candidate = row.nextFireAt?.let { row.recurrence.nextAfter(row.startAt, it) }
        if (row.paused) setNext(row.name, candidate, null, now) else enqueueFrom(row, candidate, now)
    }

    fun pause(name: String, now: Long): Boolean {
        val row = row(name) ?: return false
        if (row.paused) return true
        setPaused.setInt(1, 1)
        setPaused.setLong(2, now)
        setPaused.setString(3, name)
        setPaused.executeUpdate()
        val pending = row.pendingTaskId ?: return true
        // A queued occurrence is withdrawn (its fire time is due again at resume); a running one finishes.
        setNext(name, row.nextFireAt, null, now)
        if (!tasks.cancelIfQueued(pending, now)) setNext(name, row.nextFireAt, pending, now)
        return true
    }

    fun resume(name: String, now: Long): Boolean {
        val row = row(name) ?: return false
        if (!row.paused) return true
        setPaused.setInt(1, 0)
        setPaused.setLong(2, now)
        setPaused.setString(3, name)
        setPaused.executeUpdate()
        if (row.pendingTaskId == null) enqueueFrom(row(name)!!, row.nextFireAt, now)
        return true
    }

    fun delete(name: String, now: Long): Boolean {
        val row = row(name) ?: return false
        setNext(name, null, null, now)
        row.pendingTaskId?.let { tasks.cancelIfQueued(it, now) }
        delete.setString(1, name)
        delete.executeUpdate()
        return true
    }

    /** Enqueues the next occurrence of every active schedule that has none pending; returns how many. */
    fun sweep(now: Long): Int {
        val rows = orphans.executeQuery().use { rs -> buildList { while (rs.next()) add(Row(rs)) } }
        for (row in rows) {
            val candidate = if (row.pendingTaskId == null) row.nextFireAt else row.recurrence.nextAfter(row.startAt, row.nextFireAt!!)
            enqueueFrom(row, candidate, now)
        }
        return rows.size
    }

    /**
     * Enqueues the occurrence for [candidate] (the first fire time not yet enqueued), applying the
     * misfire policy if it has passed, and records it as pending.
     */
    private fun enqueueFrom(row: Row, candidate: Long?, now: Long) {
        var next = candidate
        repeat(ScheduleRules.MAX_FINISHED_SKIPS) {
            if (next == null) {
                setNext(row.name, null, null, now)
                return
            }
            val fire = ScheduleRules.fireTime(row.recurrence, row.startAt, row.misfire, next!!, now)
            if (fire == null) {
                setNext(row.name, null, null, now)
                return
            }
            val id = tasks.enqueueOccurrence(row.type, row.payload, row.priority, fire, row.maxAttempts, ScheduleRules.key(row.name, fire), row.requires, now)
            val state = tasks.stateOf(id)
            if (state != null && !state.isFinal) {
                setNext(row.name, fire, id, now)
                return
            }
            // This fire time was already run (the schedule was redefined onto it): move past it.
            next = row.recurrence.nextAfter(row.startAt, fire)
        }
        setNext(row.name, next, null, now)
    }

    private fun setNext(name: String, nextFireAt: Long?, pendingTaskId: Long?, now: Long) {
        if (nextFireAt == null) setNext.setNull(1, Types.INTEGER) else setNext.setLong(1, nextFireAt)
        if (pendingTaskId == null) setNext.setNull(2, Types.INTEGER) else setNext.setLong(2, pendingTaskId)
        setNext.setLong(3, now)
        setNext.setString(4, name)
        setNext.executeUpdate()
    }

    private fun row(name: String): Row? {
        byName.setString(1, name)
        return byName.executeQuery().use { rs -> if (rs.next()) Row(rs) else null }
    }

    private fun bindDefinition(statement: PreparedStatement, first: Int, d: Definition, start: Long) {
        var i = first
        statement.setString(i++, d.type)
        statement.setString(i++, d.payload)
        when (val r = d.recurrence) {
            is Recurrence.Every -> {
                statement.setLong(i++, r.interval.inWholeMilliseconds)
                statement.setNull(i++, Types.VARCHAR)
                statement.setNull(i++, Types.VARCHAR)
            }
            is Recurrence.Cron -> {
                statement.setNull(i++, Types.INTEGER)
                statement.setString(i++, r.expression)
                statement.setString(i++, r.zone.id)
            }
        }
        statement.setString(i++, d.misfire.name)
        statement.setInt(i++, d.priority)
        statement.setInt(i++, d.maxAttempts)
        if (d.requires == null) statement.setNull(i++, Types.VARCHAR) else statement.setString(i++, d.requires)
        statement.setLong(i, start)
    }

    override fun close() {
        prepared.forEach { runCatching { it.close() } }
    }

    /** One `task_schedules` row as the keeper needs it. */
    private class Row(rs: ResultSet) {
        private val cells = Cells.of(rs)
        val name: String = cells[TaskSchedulesTable.name]
        val type: String = cells[TaskSchedulesTable.type]
        val payload: String = cells[TaskSchedulesTable.payload]
        val recurrence: Recurrence = TaskSchedulesTable.recurrence(cells)
        val misfire: MisfirePolicy = cells[TaskSchedulesTable.misfire]
        val priority: Int = cells[TaskSchedulesTable.priority]
        val maxAttempts: Int = cells[TaskSchedulesTable.maxAttempts]
        val requires: String? = cells[TaskSchedulesTable.requires]
        val startAt: Long = cells[TaskSchedulesTable.startAt]
        val paused: Boolean = cells[TaskSchedulesTable.paused] != 0
        val nextFireAt: Long? = cells[TaskSchedulesTable.nextFireAt]
        val pendingTaskId: Long? = cells[TaskSchedulesTable.pendingTaskId]

        fun sameAs(d: Definition): Boolean = d.type == type && d.payload == payload && d.recurrence == recurrence &&
            d.misfire == misfire && d.priority == priority && d.maxAttempts == maxAttempts && d.requires == requires &&
            (d.startAt == null || d.startAt == startAt)
    }
}
