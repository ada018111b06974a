package dev.spool.tasks

import dev.spool.tasks.internal.TaskReads
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Path
import java.sql.Connection
import java.sql.DriverManager

/**
 * Every read behind `stats()` and the dashboard's routes (`list` with and without filters and a
 * cursor, dead letters, `get`, `taskLog`, `workers`, `schedules`) is checked with
 * `EXPLAIN QUERY PLAN`: none walks the `tasks` table or sorts its matches, on a new file and on
 * one whose planner statistics (`ANALYZE`) describe a skewed million-task-like spread.
 */
class TaskReadPlanSpec : FunSpec({
    fun plan(c: Connection, sql: String): String = c.createStatement().use { s ->
        s.executeQuery("EXPLAIN QUERY PLAN $sql").use { rs -> buildString { while (rs.next()) appendLine(rs.getString("detail")) } }
    }

    fun checkPlans(path: Path) {
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            for ((name, sql) in TaskReads.ALL) {
                val plan = plan(c, sql)
                withClue(name, plan) {
                    plan shouldNotContain Regex("SCAN tasks\\b")
                    plan shouldNotContain Regex("SCAN task_log\\b")
                    plan shouldNotContain "TEMP B-TREE"
                }
            }
            plan(c, TaskReads.GET) shouldContain "SEARCH tasks USING INTEGER PRIMARY KEY (rowid=?)"
            plan(c, TaskReads.LIST) shouldContain "SEARCH tasks USING INTEGER PRIMARY KEY (rowid>?)"
            plan(c, TaskReads.LIST_PAIR) shouldContain "SEARCH tasks USING INDEX tasks_type_state (type=? AND state=? AND rowid>?)"
            plan(c, TaskReads.LOG) shouldContain "SEARCH task_log USING INDEX task_log_task (task_id=?)"
            plan(c, TaskReads.STATS) shouldContain Regex("SEARCH tasks USING (COVERING )?INDEX tasks_queued_id")
        }
    }

    test("stats, list, get, taskLog, workers and schedules use indexes on a new file") {
        val path = tempTasksDb()
        TaskQueue.open(path).close()
        checkPlans(path)
    }

    test("they still use indexes once ANALYZE has described a large, skewed table") {
        val path = tempTasksDb()
        TaskQueue.open(path).use { q ->
            repeat(300) { q.enqueue(if (it % 10 == 0) "rare" else "common", payload(it)) }
            repeat(5) { q.complete(q.claim("w", limit = 40).first().lease!!) }
        }
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            c.createStatement().use { s ->
                s.execute("ANALYZE")
                // What ANALYZE would say of a million tasks with most of them finished.
                s.execute("UPDATE sqlite_stat1 SET stat = '1000000 250000 200000' WHERE idx = 'tasks_type_state'")
                s.execute("UPDATE sqlite_stat1 SET stat = '1000000' WHERE idx IS NULL AND tbl = 'tasks'")
            }
        }
        checkPlans(path)
    }

    test("a filtered page reads one page per (type, state) pair, not every match") {
        withTasks { q ->
            val ids = (1..30).map { q.enqueue(if (it % 3 == 0) "b" else "a", payload(it)) }
            q.claim("w", limit = 10, strategy = ClaimStrategy.FIFO)
            val page = q.list(TaskFilter(states = setOf(TaskState.QUEUED, TaskState.LEASED), limit = 4), ids[1])
            page.tasks.map { it.id } shouldBe ids.subList(2, 6)
            page.nextCursor shouldBe ids[5]
        }
    }
})

private inline fun <T> withClue(name: String, plan: String, block: () -> T): T =
    io.kotest.assertions.withClue("$name:\n$plan") { block() }
