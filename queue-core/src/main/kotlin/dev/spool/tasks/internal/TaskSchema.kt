package dev.spool.tasks.internal

import dev.spool.storage.QueueStorageException
import dev.spool.engine.execute
import dev.spool.engine.longPragma
import dev.spool.engine.query
import dev.spool.tasks.MisfirePolicy
import dev.spool.tasks.TaskState
import java.sql.Connection

/**
 * The task queue's schema and its migrations, versioned by `PRAGMA user_version`.
 *
 * Task-queue versions start at [VERSION_BASE] (1,000,000): version 1 of this schema is stored as
 * 1,000,001. An OfflineQueue file uses small versions (1, 2, …), so neither kind of file is ever
 * mistaken for the other: this object refuses an OfflineQueue file, and OfflineQueue's own
 * migrations refuse a task file as "newer than this Spool understands".
 *
 * - 0 with none of our tables and no `queue` table: a new file; create [CURRENT].
 * - Version 1 or 2: migrated step by step to [CURRENT] in one transaction.
 * - [CURRENT]: nothing to do. Newer task versions: refused, so an old Spool never damages a
 *   newer file. Anything else: refused as not a task-queue file.
 *
 * From version 3, `task_depth` holds the number of tasks per (type, state). Triggers on `tasks`
 * keep it exact in the transaction of every insert, state change and delete, whoever makes it
 * (this process's writer, another process on the file, a purge), so `stats()` reads a few rows
 * instead of counting the table.
 */
internal object TaskSchema {
    const val VERSION_BASE = 1_000_000
    const val CURRENT = VERSION_BASE + 3

    /** Version 1 had no fencing token and no schedules. */
    private const val V1 = VERSION_BASE + 1

    /** Version 2 had no `task_depth` counts. */
    private const val V2 = VERSION_BASE + 2

    private val STATES = TaskState.entries.joinToString(", ") { "'$it'" }

    private val CREATE = listOf(
        """
        CREATE TABLE tasks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            priority INTEGER NOT NULL,
            state TEXT NOT NULL CHECK (state IN ($STATES)),
            run_after INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            idempotency_key TEXT,
            requires TEXT,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            lease_token INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX tasks_idempotency ON tasks(idempotency_key) WHERE idempotency_key IS NOT NULL",
        "CREATE INDEX tasks_queued_priority ON tasks(priority, id) WHERE state = '${TaskState.QUEUED}'",
        "CREATE INDEX tasks_queued_id ON tasks(id) WHERE state = '${TaskState.QUEUED}'",
        "CREATE INDEX tasks_leased ON tasks(lease_owner, lease_expires_at) WHERE state = '${TaskState.LEASED}'",
        "CREATE INDEX tasks_type_state ON tasks(type, state)",
        """
        CREATE TABLE task_log (
            id INTEGER PRIMARY KEY,
            task_id INTEGER NOT NULL,
            type TEXT NOT NULL,
            at INTEGER NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            worker_id TEXT,
            attempt INTEGER NOT NULL,
            error TEXT
        )
        """,
        "CREATE INDEX task_log_task ON task_log(task_id, id)",
        """
        CREATE TABLE task_workers (
            worker_id TEXT PRIMARY KEY,
            capabilities TEXT NOT NULL,
            lease_ttl_ms INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            last_heartbeat INTEGER NOT NULL
        )
        """,
        "CREATE TABLE task_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        "INSERT INTO task_counters (name, value) VALUES ('$COUNTER_SUCCEEDED', 0), ('$COUNTER_FAILED', 0)",
    ) + SCHEDULES + DEPTH

    /** Adds 1 to the count of (type, state) of the row `row` (NEW or OLD), creating it at 1. */
    private fun increment(row: String) =
        "INSERT INTO task_depth (type, state, n) VALUES ($row.type, $row.state, 1) " +
            "ON CONFLICT (type, state) DO UPDATE SET n = n + 1;"

    private fun decrement(row: String) = "UPDATE task_depth SET n = n - 1 WHERE type = $row.type AND state = $row.state;"

    /**
     * The per-(type, state) counts and the triggers that keep them. Rows that drop to 0 stay
     * (reads skip them) until [TaskStatements.purge] deletes them, so a busy type's row is
     * updated in place rather than deleted and re-created at every claim.
     */
    private val DEPTH: List<String>
        get() = listOf(
            "CREATE TABLE task_depth (type TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (type, state)) WITHOUT ROWID",
            "CREATE TRIGGER task_depth_insert AFTER INSERT ON tasks BEGIN ${increment("NEW")} END",
            "CREATE TRIGGER task_depth_delete AFTER DELETE ON tasks BEGIN ${decrement("OLD")} END",
            """
            CREATE TRIGGER task_depth_update AFTER UPDATE OF type, state ON tasks
            WHEN OLD.type IS NOT NEW.type OR OLD.state IS NOT NEW.state
            BEGIN ${decrement("OLD")} ${increment("NEW")} END
            """,
        )

    private val SCHEDULES: List<String>
        get() = listOf(
            """
            CREATE TABLE task_schedules (
                name TEXT PRIMARY KEY,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                every_ms INTEGER,
                cron TEXT,
                zone TEXT,
                misfire TEXT NOT NULL CHECK (misfire IN (${MisfirePolicy.entries.joinToString(", ") { "'$it'" }})),
                priority INTEGER NOT NULL,
                max_attempts INTEGER NOT NULL,
                requires TEXT,
                start_at INTEGER NOT NULL,
                paused INTEGER NOT NULL DEFAULT 0,
                next_fire_at INTEGER,
                pending_task_id INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                CHECK ((every_ms IS NULL) <> (cron IS NULL))
            )
            """,
            "CREATE INDEX task_schedules_pending ON task_schedules(pending_task_id) WHERE pending_task_id IS NOT NULL",
        )

    /** From version 1: the fencing token (existing leases get their attempt number) and schedules. */
    private val FROM_V1: List<String>
        get() = listOf(
            "ALTER TABLE tasks ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0",
            "UPDATE tasks SET lease_token = attempts",
        ) + SCHEDULES

    /** From version 2: the depth counts, backfilled once from the tasks there are. */
    private val FROM_V2: List<String>
        get() = DEPTH + "INSERT INTO task_depth (type, state, n) SELECT type, state, COUNT(*) FROM tasks GROUP BY type, state"

    /** Brings the file at [connection] to [CURRENT], in one transaction. */
    fun migrate(connection: Connection, describe: String) {
        connection.execute("BEGIN IMMEDIATE")
        try {
            val version = connection.longPragma("user_version").toInt()
            val tables = connection.query("SELECT name FROM sqlite_master WHERE type = 'table'") { rs ->
                buildSet { while (rs.next()) add(rs.getString(1)) }
            }
            when {
                version == CURRENT -> Unit
                version == V1 || version == V2 -> {
                    if (version == V1) FROM_V1.forEach { connection.execute(it.trimIndent()) }
                    FROM_V2.forEach { connection.execute(it.trimIndent()) }
                    connection.execute("PRAGMA user_version = $CURRENT")
                }
                version > CURRENT -> throw QueueStorageException(
                    "$describe has task-queue schema version ${version - VERSION_BASE}, newer than this Spool " +
                        "understands (${CURRENT - VERSION_BASE})",
                )
                "queue" in tables || version in 1 until VERSION_BASE -> throw QueueStorageException(
                    "$describe is an OfflineQueue file; give the TaskQueue its own file",
                )
                version == 0 && OWN_TABLES.none { it in tables } -> {
                    CREATE.forEach { connection.execute(it.trimIndent()) }
                    connection.execute("PRAGMA user_version = $CURRENT")
                }
                else -> throw QueueStorageException(
                    "$describe is not a Spool task-queue file (user_version $version, tables ${tables.sorted()})",
                )
            }
            connection.execute("COMMIT")
        } catch (t: Throwable) {
            runCatching { connection.execute("ROLLBACK") }
            throw t
        }
    }

    const val COUNTER_SUCCEEDED = "succeeded"
    const val COUNTER_FAILED = "failed"
    private val OWN_TABLES = listOf("tasks", "task_log", "task_workers", "task_counters", "task_schedules", "task_depth")
}
