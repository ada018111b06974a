package dev.spool.tasks

import dev.spool.tasks.internal.TaskStatements
import dev.spool.queue.tempDb
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.sql.DriverManager

class ClaimPlanSpec : FunSpec({
    test("a claim limited to some types probes the type index instead of walking every queued task") {
        val path = tempDb()
        TaskQueue.open(path).close() // creates the schema
        DriverManager.getConnection("jdbc:sqlite:$path").use { c ->
            for (strategy in ClaimStrategy.entries) {
                val plan = c.createStatement().use { s ->
                    s.executeQuery("EXPLAIN QUERY PLAN " + TaskStatements.claimSql(strategy, typed = true)).use { rs ->
                        buildString { while (rs.next()) appendLine(rs.getString("detail")) }
                    }
                }
                plan shouldContain "USING INDEX tasks_type_state (type=? AND state=?)"
                plan shouldNotContain "SCAN t"
            }
        }
    }
})
