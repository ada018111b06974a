package dev.spool.tasks.postgres.internal

import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.Recurrence
import dev.spool.tasks.Schedule
import dev.spool.tasks.TaskId
import dev.spool.tasks.TaskState
import dev.spool.tasks.internal.ScheduleRules
import java.sql.Connection
import java.sql.PreparedStatement
import java.sql.ResultSet
import java.sql.Types
import java.time.Instant
import java.time.ZoneId
import kotlin.time.Duration.Companion.milliseconds

/**
 * Keeps recurring schedules going on PostgreSQL: the same rules as the SQLite TaskQueue's keeper
 * (queue-core's `ScheduleKeeper`, sharing its arithmetic through [ScheduleRules]) over the
 * `task_schedules` table of migration 2.
 *
 * A row's `next_fire_at` is the fire time of its pending occurrence when `pending_task_id` is set,
 * and otherwise the next fire time not yet enqueued. Each occurrence is an ordinary task, enqueued
 * ahead with `run_after` = its fire time and the unique idempotency key
 * `schedule:<name>:<fire time>` (`ON CONFLICT DO NOTHING`).
 *
 * **Many hosts.** Every method runs inside the caller's transaction and first locks the schedule
 * rows it changes (`FOR UPDATE`; the sweep with `SKIP LOCKED`), so the hosts advancing one schedule
 * take turns, each sees the row as the previous one left it, and the unique key makes a fire time
 * enqueued once even if a row were read stale. Time is the database server's clock ([PgSql.NOW]),
 * read once per transaction after the locks are held.
 *
 * **Who advances.** Nobody polls: the next occurrence is enqueued by the host that finishes the
 * pending one (complete, dead letter, cancel, sweep of an expired lease), in a short transaction
 * right after that commit ([finished]); and by any host's [sweep], which enqueues the occurrence
 * of every active schedule whose pending one is gone (a host that died between the two commits).
 */
internal class PgScheduleKeeper(schema: String) {
    private val schedules = "$schema.task_schedules"
    private val tasksTable = "$schema.tasks"
    private val columns = "name, type, payload, every_ms, cron, zone, misfire, priority, max_attempts, requires, start_at, " +
        "paused, next_fire_at, pending_task_id, created_at"

    /** What the keeper needs from the task side, on the caller's connection and transaction. */
    interface TaskWriter {
        /** Inserts an occurrence (or finds the task already holding [key]) and returns its id. */
        fun enqueueOccurrence(c: Connection, type: String, payload: String, priority: Int, runAfter: Long, maxAttempts: Int, key: String, requires: List<String>): Long

        /** The state of task [id], or null if there is none. */
        fun stateOf(c: Connection, id: Long): TaskState?

        /** Cancels task [id] if it is queued (not running); true if it did. */
        fun cancelIfQueued(c: Connection, id: Long): Boolean
    }

    /** A schedule's definition as [dev.spool.tasks.TaskQueue.schedule] takes it, validated. */
    class Definition(
        val type: String,
        val payload: String,
        val recurrence: Recurrence,
        val misfire: MisfirePolicy,
        val priority: Int,
        val maxAttempts: Int,
        val requires: List<String>,
        val startAt: Long?,
    )

    private val insert = """
        INSERT INTO $schedules (name, type, payload, every_ms, cron, zone, misfire, priority, max_attempts, requires,
                                start_at, paused, next_fire_at, pending_task_id, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::text[], coalesce(?, ${PgSql.NOW}), false, NULL, NULL, ${PgSql.NOW}, ${PgSql.NOW})
        ON CONFLICT (name) DO NOTHING
    """.trimIndent()
    private val redefine = """
        UPDATE $schedules SET type = ?, payload = ?, every_ms = ?, cron = ?, zone = ?, misfire = ?, priority = ?,
                              max_attempts = ?, requires = ?::text[], start_at = ?, next_fire_at = NULL, updated_at = ?
        WHERE name = ?
    """.trimIndent()
    private val byName = "SELECT $columns FROM $schedules WHERE name = ? FOR UPDATE"
    private val byPending = "SELECT $columns FROM $schedules WHERE pending_task_id = ANY(?::bigint[]) ORDER BY name FOR UPDATE"
    private val all = "SELECT $columns FROM $schedules ORDER BY name"
    private val setNext = "UPDATE $schedules SET next_fire_at = ?, pending_task_id = ?, updated_at = ? WHERE name = ?"
    private val setPaused = "UPDATE $schedules SET paused = ?, updated_at = ? WHERE name = ?"
    private val delete = "DELETE FROM $schedules WHERE name = ?"
    private val orphans = """
        SELECT $columns FROM $schedules s
        WHERE NOT s.paused AND s.next_fire_at IS NOT NULL
          AND (s.pending_task_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM $tasksTable t WHERE t.id = s.pending_task_id AND t.state IN ('${TaskState.QUEUED}', '${TaskState.LEASED}')))
        ORDER BY s.name
        FOR UPDATE OF s SKIP LOCKED
    """.trimIndent()

    /** Creates or redefines schedule [name] and returns it as stored. */
    fun define(c: Connection, tasks: TaskWriter, name: String, d: Definition): Schedule {
        val created = c.prepareStatement(insert).use { s ->
            s.setString(1, name)
            bindDefinition(s, 2, d)
            s.setNullableLong(11, d.startAt)
            s.executeUpdate() == 1
        }
        val existing = row(c, name)!!
        val now = now(c)
        if (created) {
            enqueueFrom(c, tasks, existing, ScheduleRules.firstFireTime(existing.recurrence, existing.startAt), now)
        } else if (!existing.sameAs(d)) {
            val start = d.startAt ?: existing.startAt
            // Leave the pending occurrence first, so cancelling it does not move the schedule on.
            val pending = existing.pendingTaskId
            setNext(c, name, null, null, now)
            val running = pending != null && !tasks.cancelIfQueued(c, pending) && tasks.stateOf(c, pending) == TaskState.LEASED
            c.prepareStatement(redefine).use { s ->
                val i = bindDefinition(s, 1, d)
                s.setLong(i, start)
                s.setLong(i + 1, now)
                s.setString(i + 2, name)
                s.executeUpdate()
            }
            val redefined = row(c, name)!!
            val candidate = ScheduleRules.redefinedFireTime(redefined.recurrence, start, now)
            when {
                redefined.paused -> setNext(c, name, candidate, null, now)
                // A running occurrence finishes first; the next one, by the new definition, follows it.
                running -> setNext(c, name, existing.nextFireAt, pending, now)
                else -> enqueueFrom(c, tasks, redefined, candidate, now)
            }
        }
        return row(c, name)!!.toSchedule()
    }

    fun list(c: Connection): List<Schedule> = c.prepareStatement(all).use { s ->
        s.executeQuery().use { rs -> buildList { while (rs.next()) add(Row(rs).toSchedule()) } }
    }

    /** Tasks [taskIds] became final: enqueue the next occurrence of each schedule they were pending for. */
    fun finished(c: Connection, tasks: TaskWriter, taskIds: Collection<Long>) {
        if (taskIds.isEmpty()) return
        val rows = c.prepareStatement(byPending).use { s ->
            s.setArray(1, c.createArrayOf("bigint", taskIds.toTypedArray()))
            s.executeQuery().use { rs -> buildList { while (rs.next()) add(Row(rs)) } }
        }
        if (rows.isEmpty()) return
        val now = now(c)
        for (row in rows) {
            // Under the lock, the occurrence is final (a finish never comes back), so move on from it.
            val candidate = row.nextFireAt?.let { row.recurrence.nextAfter(row.startAt, it) }
            if (row.paused) setNext(c, row.name, candidate, null, now) else enqueueFrom(c, tasks, row, candidate, now)
        }
    }

    fun pause(c: Connection, tasks: TaskWriter, name: String): Boolean {
        val row = row(c, name) ?: return false
        if (row.paused) return true
        val now = now(c)
        setPaused(c, name, true, now)
        val pending = row.pendingTaskId ?: return true
        // A queued occurrence is withdrawn (its fire time is due again at resume); a running one finishes.
        setNext(c, name, row.nextFireAt, null, now)
        if (!tasks.cancelIfQueued(c, pending)) setNext(c, name, row.nextFireAt, pending, now)
        return true
    }

    fun resume(c: Connection, tasks: TaskWriter, name: String): Boolean {
        val row = row(c, name) ?: return false
        if (!row.paused) return true
        val now = now(c)
        setPaused(c, name, false, now)
        if (row.pendingTaskId == null) enqueueFrom(c, tasks, row(c, name)!!, row.nextFireAt, now)
        return true
    }

    fun delete(c: Connection, tasks: TaskWriter, name: String): Boolean {
        val row = row(c, name) ?: return false
        setNext(c, name, null, null, now(c))
        row.pendingTaskId?.let { tasks.cancelIfQueued(c, it) }
        c.prepareStatement(delete).use { s -> s.setString(1, name); s.executeUpdate() }
        return true
    }

    /** Enqueues the next occurrence of every active schedule that has none pending; returns how many. */
    fun sweep(c: Connection, tasks: TaskWriter): Int {
        val rows = c.prepareStatement(orphans).use { s -> s.executeQuery().use { rs -> buildList { while (rs.next()) add(Row(rs)) } } }
        if (rows.isEmpty()) return 0
        val now = now(c)
        var advanced = 0
        for (row in rows) {
            val pendingState = row.pendingTaskId?.let { tasks.stateOf(c, it) }
            if (pendingState != null && !pendingState.isFinal) continue // re-checked under the lock
            val candidate = if (row.pendingTaskId == null) row.nextFireAt else row.recurrence.nextAfter(row.startAt, row.nextFireAt!!)
            enqueueFrom(c, tasks, row, candidate, now)
            advanced++
        }
        return advanced
    }

    /**
     * Enqueues the occurrence for [candidate] (the first fire time not yet enqueued), applying the
     * misfire policy if it has passed, and records it as pending.
     */
    private fun enqueueFrom(c: Connection, tasks: TaskWriter, row: Row, candidate: Long?, now: Long) {
        var next = candidate
        repeat(ScheduleRules.MAX_FINISHED_SKIPS) {
            val fire = next?.let { ScheduleRules.fireTime(row.recurrence, row.startAt, row.misfire, it, now) }
            if (fire == null) {
                setNext(c, row.name, null, null, now)
                return
            }
            val key = ScheduleRules.key(row.name, fire)
            val id = tasks.enqueueOccurrence(c, row.type, row.payload, row.priority, fire, row.maxAttempts, key, row.requires)
            val state = tasks.stateOf(c, id)
            if (state != null && !state.isFinal) {
                setNext(c, row.name, fire, id, now)
                return
            }
            // This fire time was already run (the schedule was redefined onto it): move past it.
            next = row.recurrence.nextAfter(row.startAt, fire)
        }
        setNext(c, row.name, next, null, now)
    }

    private fun now(c: Connection): Long = c.prepareStatement("SELECT ${PgSql.NOW}").use { s ->
        s.executeQuery().use { rs -> rs.next(); rs.getLong(1) }
    }

    private fun row(c: Connection, name: String): Row? = c.prepareStatement(byName).use { s ->
        s.setString(1, name)
        s.executeQuery().use { rs -> if (rs.next()) Row(rs) else null }
    }

    private fun setNext(c: Connection, name: String, nextFireAt: Long?, pendingTaskId: Long?, now: Long) {
        c.prepareStatement(setNext).use { s ->
            s.setNullableLong(1, nextFireAt)
            s.setNullableLong(2, pendingTaskId)
            s.setLong(3, now)
            s.setString(4, name)
            s.executeUpdate()
        }
    }

    private fun setPaused(c: Connection, name: String, paused: Boolean, now: Long) {
        c.prepareStatement(setPaused).use { s ->
            s.setBoolean(1, paused)
            s.setLong(2, now)
            s.setString(3, name)
            s.executeUpdate()
        }
    }

    /** Binds type … requires from [first]; returns the next parameter index. */
    private fun bindDefinition(s: PreparedStatement, first: Int, d: Definition): Int {
        var i = first
        s.setString(i++, d.type)
        s.setString(i++, d.payload)
        when (val r = d.recurrence) {
            is Recurrence.Every -> {
                s.setLong(i++, r.interval.inWholeMilliseconds)
                s.setNull(i++, Types.VARCHAR)
                s.setNull(i++, Types.VARCHAR)
            }
            is Recurrence.Cron -> {
                s.setNull(i++, Types.BIGINT)
                s.setString(i++, r.expression)
                s.setString(i++, r.zone.id)
            }
        }
        s.setString(i++, d.misfire.name)
        s.setInt(i++, d.priority)
        s.setInt(i++, d.maxAttempts)
        s.setArray(i++, s.connection.textArray(d.requires))
        return i
    }

    /** One `task_schedules` row. */
    private class Row(rs: ResultSet) {
        val name: String = rs.getString("name")
        val type: String = rs.getString("type")
        val payload: String = rs.getString("payload")
        val recurrence: Recurrence = rs.getLong("every_ms").takeUnless { rs.wasNull() }
            ?.let { Recurrence.Every(it.milliseconds) }
            ?: Recurrence.Cron(rs.getString("cron"), ZoneId.of(rs.getString("zone")))
        val misfire: MisfirePolicy = MisfirePolicy.valueOf(rs.getString("misfire"))
        val priority: Int = rs.getInt("priority")
        val maxAttempts: Int = rs.getInt("max_attempts")
        val requires: List<String> = rs.stringSet("requires").toList()
        val startAt: Long = rs.getLong("start_at")
        val paused: Boolean = rs.getBoolean("paused")
        val nextFireAt: Long? = rs.getLong("next_fire_at").takeUnless { rs.wasNull() }
        val pendingTaskId: Long? = rs.getLong("pending_task_id").takeUnless { rs.wasNull() }
        val createdAt: Long = rs.getLong("created_at")

        fun sameAs(d: Definition): Boolean = d.type == type && d.payload == payload && d.recurrence == recurrence &&
            d.misfire == misfire && d.priority == priority && d.maxAttempts == maxAttempts && d.requires == requires &&
            (d.startAt == null || d.startAt == startAt)

        fun toSchedule(): Schedule = Schedule(
            name = name,
            type = type,
            payload = payload,
            recurrence = recurrence,
            misfire = misfire,
            priority = priority,
            maxAttempts = maxAttempts,
            requires = requires.toCollection(LinkedHashSet()),
            paused = paused,
            nextFireAt = nextFireAt?.let(Instant::ofEpochMilli),
            pendingTaskId = pendingTaskId?.let(::TaskId),
            createdAt = Instant.ofEpochMilli(createdAt),
        )
    }
}
