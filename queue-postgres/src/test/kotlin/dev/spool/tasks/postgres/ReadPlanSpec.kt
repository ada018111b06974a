package dev.spool.tasks.postgres

import dev.spool.tasks.TaskState
import dev.spool.tasks.postgres.internal.PgSql
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.sql.Connection

/**
 * The plans of what the dashboard reads, at a million tasks in every state, from `EXPLAIN` (never a
 * stopwatch): stats never scan the tasks table (counts come from task_depth, the oldest queued age
 * from one index probe per type), and `get`, `taskLog` and every `list` filter (none, state, type,
 * both, each after a cursor) are index probes that stop at their limit. The bounded writes that
 * find leased rows are checked too: acks and heartbeats probe the primary key, sweeps and
 * unregistering read the leased rows only. Each is checked with the
 * plan for the bound values and with the generic plan a reused prepared statement may switch to.
 */
class ReadPlanSpec : FunSpec({
    val schema = TestDatabase.newSchema()
    val sql = PgSql(schema)
    lateinit var pool: com.zaxxer.hikari.HikariDataSource

    beforeSpec {
        pool = TestDatabase.pool(2)
        PostgresTaskQueue.open(pool, PostgresTaskQueueConfig(schema, listen = false)).close()
        pool.connection.use { c ->
            c.createStatement().use { s ->
                s.execute("SET synchronous_commit = off")
                val indexes = s.executeQuery(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '$schema' AND tablename IN ('tasks', 'task_log') " +
                        "AND indexname NOT IN ('tasks_pkey', 'task_log_pkey')",
                ).use { rs -> buildList { while (rs.next()) add(rs.getString(1) to rs.getString(2)) } }
                indexes.forEach { (name, _) -> s.execute("DROP INDEX $schema.$name") }
                // Mostly finished work, a backlog, a few running and a rare dead letter, over 8 types.
                s.execute(
                    """
                    INSERT INTO $schema.tasks (type, payload, priority, state, run_after, max_attempts, created_at, updated_at)
                    SELECT 'type' || (g % 8), '{}', g % 100,
                           CASE WHEN g % 1000 = 7 THEN 'DEAD_LETTER' WHEN g % 100 = 3 THEN 'LEASED'
                                WHEN g % 100 = 5 THEN 'CANCELLED' WHEN g % 10 < 2 THEN 'QUEUED' ELSE 'SUCCEEDED' END,
                           0, 5, g / 10, g / 10
                    FROM generate_series(1, 1000000) g
                    """.trimIndent(),
                )
                s.execute(
                    """
                    INSERT INTO $schema.task_log (task_id, type, at, from_state, to_state, worker_id, attempt)
                    SELECT g, 'type' || (g % 8), g, NULL, 'QUEUED', NULL, 0 FROM generate_series(1, 1000000) g
                    """.trimIndent(),
                )
                indexes.forEach { (_, definition) -> s.execute(definition) }
                s.execute("ANALYZE $schema.tasks")
                s.execute("ANALYZE $schema.task_log")
                s.execute("ANALYZE $schema.task_depth")
            }
        }
    }

    afterSpec {
        pool.close()
        TestDatabase.drop(schema)
    }

    fun Connection.plan(generic: Boolean, statement: String, bind: java.sql.PreparedStatement.(Connection) -> Unit): String {
        createStatement().use { it.execute("SET plan_cache_mode = ${if (generic) "force_generic_plan" else "auto"}") }
        return prepareStatement("EXPLAIN $statement").use { s ->
            s.bind(this)
            s.executeQuery().use { rs -> buildString { while (rs.next()) appendLine(rs.getString(1)) } }
        }
    }

    fun String.shouldProbe(index: String) {
        this shouldContain "Index"
        this shouldContain index
        this shouldNotContain "Seq Scan on tasks"
        this shouldNotContain "Seq Scan on task_log"
        this shouldNotContain "Bitmap Heap Scan on tasks"
    }

    for (generic in listOf(false, true)) {
        val mode = if (generic) "generic" else "custom"

        test("stats read task_depth and one queued-index probe per type, never the tasks table ($mode plan)") {
            val plan = pool.connection.use { c -> c.plan(generic, sql.stats) { setLong(1, 60_000) } }
            plan shouldContain "task_depth"
            plan.shouldProbe("tasks_queued_type_created")
        }

        test("get and taskLog are primary-key and task-index probes ($mode plan)") {
            pool.connection.use { c ->
                c.plan(generic, sql.get) { setLong(1, 500_000) }.shouldProbe("tasks_pkey")
                c.plan(generic, sql.taskLog) { setLong(1, 500_000) }.shouldProbe("task_log_task")
            }
        }

        test("an unfiltered page after a cursor walks the primary key ($mode plan)") {
            pool.connection.use { c ->
                c.plan(generic, sql.list) { setLong(1, 500_000); setInt(2, 51) }.shouldProbe("tasks_pkey")
            }
        }

        for (states in listOf(listOf(TaskState.DEAD_LETTER), listOf(TaskState.QUEUED, TaskState.LEASED))) {
            test("a page of $states after a cursor probes tasks_state_type_id per type ($mode plan)") {
                pool.connection.use { c ->
                    c.plan(generic, sql.listFiltered(typed = false)) { conn ->
                        setArray(1, conn.createArrayOf("text", states.map { it.name }.toTypedArray()))
                        setLong(2, 500_000)
                        setInt(3, 51)
                        setInt(4, 51)
                    }.shouldProbe("tasks_state_type_id")
                }
            }

            test("a page of one type in $states after a cursor probes tasks_state_type_id ($mode plan)") {
                pool.connection.use { c ->
                    c.plan(generic, sql.listFiltered(typed = true)) { conn ->
                        setString(1, "type3")
                        setArray(2, conn.createArrayOf("text", states.map { it.name }.toTypedArray()))
                        setLong(3, 500_000)
                        setInt(4, 51)
                        setInt(5, 51)
                    }.shouldProbe("tasks_state_type_id")
                }
            }
        }

        test("acks and heartbeats probe the primary key per lease, whatever else is leased ($mode plan)") {
            pool.connection.use { c ->
                val ids = { conn: Connection -> conn.createArrayOf("bigint", arrayOf<Long>(3, 103, 203)) }
                c.plan(generic, sql.complete) { conn ->
                    setArray(1, ids(conn))
                    setArray(2, conn.createArrayOf("text", arrayOf("w", "w", "w")))
                    setArray(3, conn.createArrayOf("bigint", arrayOf<Long>(1, 1, 1)))
                }.shouldProbe("tasks_pkey")
                c.plan(generic, sql.heartbeat) { conn ->
                    setString(1, "w")
                    setArray(2, ids(conn))
                    setArray(3, conn.createArrayOf("bigint", arrayOf<Long>(1, 1, 1)))
                    setString(4, "w")
                }.shouldProbe("tasks_pkey")
            }
        }

        test("a sweep and a worker's unregistering read only leased rows, through tasks_state_type_id ($mode plan)") {
            pool.connection.use { c ->
                for (plan in listOf(c.plan(generic, sql.expired) { setLong(1, 60_000) }, c.plan(generic, sql.leasedBy) { setString(1, "w") })) {
                    plan shouldContain "tasks_state_type_id"
                    plan shouldNotContain "Seq Scan on tasks"
                }
            }
        }

        test("a page of one type in every state probes tasks_state_type_id once per state ($mode plan)") {
            pool.connection.use { c ->
                c.plan(generic, sql.listFiltered(typed = true)) { conn ->
                    setString(1, "type3")
                    setArray(2, conn.createArrayOf("text", TaskState.entries.map { it.name }.toTypedArray()))
                    setLong(3, 0)
                    setInt(4, 51)
                    setInt(5, 51)
                }.shouldProbe("tasks_state_type_id")
            }
        }
    }
})
